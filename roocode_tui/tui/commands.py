"""The command palette's entries beside Textual's own (theme, keys, quit, ...): a command for
each pane and for what its keys do. A command that acts on a collection takes the one the pane
shown has picked (F2's, F4's), else the one searched: ``Pane.target_collection``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from textual.app import SystemCommand

if TYPE_CHECKING:
    from roocode_tui.tui.app import RoocodeApp

PANES = {"search": "Search", "index": "Index", "monitor": "Monitor", "collections": "Collections"}


def pane_commands(app: RoocodeApp) -> Iterator[SystemCommand]:
    def target() -> str | None:
        return app.shown_pane.target_collection()

    for pane, title in PANES.items():
        yield SystemCommand(f"Go to {title}", f"Show the {title} pane", lambda p=pane: app.action_show_pane(p))
    yield SystemCommand(
        "Start index run", "Index the selected collection (F2)", lambda: app.index_pane.start_ingest(target())
    )
    yield SystemCommand(
        "Cancel index run", "Stop the running index run (asks first)", lambda: app.index_pane.action_cancel_ingest()
    )
    yield SystemCommand(
        "Rebuild collection",
        "Embed every file again into a new index, switched in when complete (asks first)",
        lambda: app.index_pane.ask_rebuild(target()),
    )
    yield SystemCommand(
        "Create collection",
        "A new collection from paths and globs",
        lambda: app.collections_pane.action_create_collection(),
    )
    yield SystemCommand(
        "Delete collection",
        "Delete the selected collection (type its name)",
        lambda: app.collections_pane.ask_delete(target()),
    )
    yield SystemCommand(
        "Snapshot collection",
        "Write a snapshot file of the selected collection",
        lambda: app.collections_pane.snapshot_collection(target()),
    )
    yield SystemCommand(
        "Restore snapshot",
        "A new collection from a snapshot of the selected one",
        lambda: app.collections_pane.restore_snapshot(target()),
    )
    yield SystemCommand(
        "Reload collections", "Read the collections again from the store", lambda: app.collections_pane.load()
    )
    yield SystemCommand("Show keys", "Every key binding of the focused pane", app.action_toggle_help)
