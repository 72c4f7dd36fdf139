"""Textual's Footer, without the keys it leaves behind each time it rebuilds them.

The Footer rebuilds its keys on every focus or pane change, and binds each new key to its own
``compact`` reactive (``data_bind``). Textual drops a watcher of a closed widget only when the
watched value changes, and ``compact`` never does here, so the footer's watcher list kept every
key it had ever shown, each with its styles and render caches: in a TUI left open for hours
that is a steady leak (bench/soak.py measured it at about 2 MB a minute while panes switch).
After each rebuild this footer forgets the watchers of the keys it removed.

It also rebuilds less: its keys are there in the first frame (Textual's footer starts empty and
fills itself after a refresh, one more layout before the app's first complete frame), and a
focus change that leaves the keys shown as they were rebuilds nothing.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
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


def keys_shown(screen: Screen) -> tuple[tuple[object, ...], ...]:
    """What the footer shows for the screen's bindings now: each key, its action, label, state."""
    return tuple(
        (key, b.action, b.description, enabled, tooltip)
        for key, (_, b, enabled, tooltip) in screen.active_bindings.items()
        if b.show
    )


class Footer(TextualFooter):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_reactive(TextualFooter._bindings_ready, True)
        self._shown: tuple[tuple[object, ...], ...] | None = None

    def compose(self) -> ComposeResult:
        self._shown = keys_shown(self.screen)
        yield from super().compose()

    def bindings_changed(self, screen: Screen) -> None:
        if screen is self.screen and keys_shown(screen) == self._shown:
            return
        super().bindings_changed(screen)

    async def recompose(self) -> None:
        await super().recompose()
        forget_closed_watchers(self)
