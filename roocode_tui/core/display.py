"""Text from indexed files is data: make it inert before it reaches a terminal."""

from __future__ import annotations

import os
import re
from typing import Any

# C0 controls except tab and newline, DEL, C1 controls, and Unicode bidi/format controls that
# can reorder or hide text (Trojan Source).
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")


def _visible(match: re.Match[str]) -> str:
    ch = match.group(0)
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # ␛ for ESC, ␇ for BEL...
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def inert(text: str) -> str:
    """Replace control characters (escape sequences, bidi overrides) with visible stand-ins.

    Rich markup needs no escaping as long as the result is shown through ``rich.text.Text``
    (never through a markup-parsing API).
    """
    return _UNSAFE.sub(_visible, text)


def display_path(path: str) -> str:
    """A path as shells show it: the home directory as ``~``, the rest made inert."""
    home = os.path.expanduser("~").rstrip("/")
    if home and (path == home or path.startswith(home + "/")):
        path = "~" + path[len(home) :]
    return inert(path)


_INLINE = re.compile(r"(?:(?<=\s)|^)(path|lang):(\S+)")


def parse_inline_filters(query: str) -> tuple[str, str | None, str | None]:
    """Split ``path:src/ lang:python how do I...`` into (query, path, lang)."""
    path = lang = None
    for key, value in _INLINE.findall(query):
        if key == "path":
            path = value
        else:
            lang = value
    text = _INLINE.sub("", query)
    return " ".join(text.split()), path, lang


def search_index_label(index: dict[str, Any] | None) -> str:
    """How a collection's searches find neighbours, in a word or two (F4, `collections list`)."""
    if not index:
        return "—"
    if index.get("state") == "building":
        pieces = int(index.get("pieces") or 1)
        split = f" ({index.get('pieces_built', 0)}/{pieces} pieces)" if pieces > 1 else ""
        if index.get("percent") is not None:
            return f"building {index['percent']}%{split}"
        return f"building {int(index.get('seconds') or 0)}s{split}"
    return str(index.get("state") or "—")


def explain_line(explain: dict[str, Any]) -> str:
    """Why a hit ranks where it does (``Hit.explain``, core/search/ranker.py) in one line:
    ``question · dense #3 0.812 · keyword #1 7.41 · +file 0.0021 · -test 0.0113 = 0.0161``."""
    parts = [str(explain.get("kind", ""))]
    for lane in ("dense", "keyword"):
        seen = explain.get(lane)
        if isinstance(seen, dict):
            parts.append(f"{lane} #{seen.get('rank')} {float(seen.get('score', 0.0)):.3f}")
    if explain.get("definitions_lane"):
        parts.append("definitions lane")
    for name, delta in (explain.get("boosts") or {}).items():
        parts.append(f"{'+' if delta >= 0 else '-'}{name} {abs(float(delta)):.4f}")
    line = " · ".join(p for p in parts if p)
    if "rank_score" in explain:
        line += f" = {float(explain['rank_score']):.4f}"
    return line


def fmt_duration(seconds: float | None) -> str:
    """A time span as a run's ETA reads: "45s", "3m07s", "2h05m" ("—" when unknown)."""
    if seconds is None:
        return "—"
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def reused_label(p: Any) -> str:
    """How many chunks of a run kept a vector that existed (its own collection's, or another's):
    "12 reused", "40 reused (38 from other collections)"."""
    others = getattr(p, "chunks_reused_from_other_collections", 0)
    text = f"{p.chunks_reused + others:,} reused"
    return text + (f" ({others:,} from other collections)" if others else "")
