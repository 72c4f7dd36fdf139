"""Textual's Footer, without the keys it leaves behind each time it rebuilds them.

The Footer rebuilds its keys on every focus or pane change, and binds each new key to its own
``compact`` reactive (``data_bind``). Textual drops a watcher of a closed widget only when the
watched value changes, and ``compact`` never does here, so the footer's watcher list kept every
key it had ever shown, each with its styles and render caches: in a TUI left open for hours
that is a steady leak (bench/soak.py measured it at about 2 MB a minute while panes switch).
After each rebuild this footer forgets the watchers of the keys it removed.
"""

from __future__ import annotations

from textual.widgets import Footer as TextualFooter


def forget_closed_watchers(obj: object) -> None:
    """Drop the reactive watchers registered on ``obj`` by widgets that have since closed."""
    watchers: dict[str, list[tuple[object, object]]] = getattr(obj, "__watchers", {})
    for entries in watchers.values():
        entries[:] = [
            (node, callback)
            for node, callback in entries
            if not (getattr(node, "_closing", False) or getattr(node, "_closed", False))
        ]


class Footer(TextualFooter):
    async def recompose(self) -> None:
        await super().recompose()
        forget_closed_watchers(self)
