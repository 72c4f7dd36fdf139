"""Rendering of indexed text: always through rich Text/Syntax, never markup; escapes made inert."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text

from roocode_tui.core.display import inert

if TYPE_CHECKING:  # rich.syntax brings pygments: loaded with the first preview, after the first frame
    from rich.syntax import Syntax

LEXER_ALIASES = {"text": "text", "": "text", "make": "make", "docker": "docker"}


BAR = 6  # cells of a result's score bar


def score_bar(score: float, low: float, high: float) -> str:
    """A bar for where ``score`` sits between the result set's lowest and highest score: one
    cell for the lowest, all for the highest. Scores of one model sit in a narrow band (the
    bundled model's between about 0.86 and 0.89), so a bar of the raw 0..1 score would look
    the same for every result; the spread is what tells them apart."""
    share = (score - low) / (high - low) if high > low else 1.0
    filled = 1 + round(max(0.0, min(1.0, share)) * (BAR - 1))
    return "█" * filled + "░" * (BAR - filled)


def hit_label(rank: int, hit: Any, low: float, high: float) -> Text:
    """One line of the result list: rank, score bar (scaled between the result set's lowest
    and highest score, ``low`` and ``high``), the raw score, path:start-end, heading or first line."""
    label = Text(no_wrap=True, overflow="ellipsis")
    label.append(f"{rank:>2} ", style="bold")
    label.append(score_bar(hit.score, low, high), style="green")
    label.append(f" {hit.score:.3f} ", style="green")
    label.append(inert(f"{hit.path}:{hit.start_line}-{hit.end_line}"), style="bold")
    first = hit.heading or next((ln.strip() for ln in hit.text.splitlines() if ln.strip()), "")
    if first:
        label.append("  " + inert(first[:120]), style="dim")
    return label


def code_view(text: str, language: str, start_line: int = 1, highlight: set[int] | None = None) -> Syntax:
    from rich.syntax import Syntax

    return Syntax(
        inert(text),
        lexer=LEXER_ALIASES.get(language, language),
        line_numbers=True,
        start_line=start_line,
        word_wrap=False,
        theme="ansi_dark",
        highlight_lines=highlight,
    )
