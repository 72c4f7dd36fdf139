"""Rendering of indexed text: always through rich Text/Syntax, never markup; escapes made inert."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text

from roocode_tui.core.text import inert

if TYPE_CHECKING:  # rich.syntax brings pygments: loaded with the first preview, after the first frame
    from rich.syntax import Syntax

LEXER_ALIASES = {"text": "text", "": "text", "make": "make", "docker": "docker"}


def hit_label(rank: int, hit: Any) -> Text:
    """One line of the result list: rank, score bar, path:start-end, heading or first line."""
    filled = max(0, min(6, round(hit.score * 6)))
    label = Text(no_wrap=True, overflow="ellipsis")
    label.append(f"{rank:>2} ", style="bold")
    label.append("█" * filled + "░" * (6 - filled), style="green")
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
