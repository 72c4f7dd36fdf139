"""The command palette's entries beside Textual's own (theme, keys, quit, ...): a command for
each pane and for what its keys do. A command that acts on a collection takes the one the pane
shown has picked (F2's, F4's), else the one searched: ``Pane.target_collection``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand

if TYPE_CHECKING:
    from roocode_tui.tui.app import RoocodeApp

PANES = {"search": "Search", "index": "Index", "monitor": "Monitor", "collections": "Collections"}


def pane_commands(app: RoocodeApp) -> Iterator[SystemCommand]:
    def target() -> str | None:
        return app.shown_pane.target_collection()

    for pane, title in PANES.items():
        yield SystemCommand(f"Go to {title}", f"Show the {title} pane", lambda p=pane: app.action_show_pane(p))
    # (title, help, what it does): the panes are looked up when a command runs
    commands: tuple[tuple[str, str, Callable[[], Any]], ...] = (
        ("Start index run", "Index the selected collection (F2)", lambda: app.index_pane.start_ingest(target())),
        (
            "Plan index run",
            "What a run of the selected collection would embed, after reuse, with its time and cost (F2 p)",
            lambda: app.index_pane.plan(target()),
        ),
        ("Cancel index run", "Stop the running index run (asks first)", lambda: app.index_pane.action_cancel_ingest()),
        (
            "Rebuild collection",
            "Embed every file again into a new index, switched in when complete (asks first)",
            lambda: app.index_pane.ask_rebuild(target()),
        ),
        (
            "Create collection",
            "A new collection from paths and globs",
            lambda: app.collections_pane.action_create_collection(),
        ),
        (
            "Delete collection",
            "Delete the selected collection (type its name)",
            lambda: app.collections_pane.ask_delete(target()),
        ),
        (
            "Snapshot collection",
            "Write a snapshot file of the selected collection",
            lambda: app.collections_pane.snapshot_collection(target()),
        ),
        (
            "Restore snapshot",
            "A new collection from a snapshot of the selected one",
            lambda: app.collections_pane.restore_snapshot(target()),
        ),
        ("Reload collections", "Read the collections again from the store", lambda: app.collections_pane.load()),
        ("Show keys", "Every key binding of the focused pane", app.action_toggle_help),
    )
    for title, help_text, callback in commands:
        yield SystemCommand(title, help_text, callback)
