"""F4: the collections in the store, with their state. Its keys act on the selected one: set it
active, create, delete, rebuild (through F2's pane), details, watch, snapshot, restore. The
palette and F2's w reach the same with a collection named (``ask_delete(name)``, ...)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from roocode_tui.core.display import inert
from roocode_tui.tui.messages import CollectionsChanged
from roocode_tui.tui.panes.pane import Pane
from roocode_tui.tui.panes.rows import agent_row, native_row

COLUMNS = (
    "name",
    "points",
    "dim",
    "distance",
    "model",
    "status",
    "indexed",
    "search",
    "watching",
    "last indexed",
    "paths",
)


class CollectionTable(DataTable):
    """A row a collection. Enter selects the row (the table's own action, over DataTable's
    hidden binding of it), which makes it the active one (CollectionsPane)."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Set active", tooltip="Search this collection", id="set_active"),
    ]


class CollectionsPane(Pane, Vertical):
    """The table's other keys are the pane's: they act on the selected row (the table has the
    focus, the pane is next in the key chain)."""

    BINDINGS = [
        Binding("n", "create_collection", "New", tooltip="Create a collection", id="create"),
        Binding("d", "delete_collection", "Delete", tooltip="Delete (type its name to confirm)", id="delete"),
        Binding(
            "R",
            "rebuild",
            "Rebuild",
            tooltip="Embed every file again; searches use the old index until it is done",
            id="table_rebuild",
        ),
        Binding("i", "collection_details", "Details", id="details"),
        Binding("w", "toggle_watch", "Watch", tooltip="Keep it in sync as its files change (or stop)", id="watch"),
        Binding("s", "snapshot_collection", "Snapshot", tooltip="Write a snapshot file of it", id="snapshot"),
        Binding(
            "S",
            "restore_snapshot",
            "Restore",
            tooltip="Restore one of its snapshots as a new collection",
            id="restore",
        ),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.infos: list[Any] = []

    def compose(self) -> ComposeResult:
        yield CollectionTable(id="collections-table", cursor_type="row", zebra_stripes=True)
        yield Static(
            Text(
                "Enter set active · n new · d delete · R rebuild · i details · w watch · s snapshot · S restore",
                style="dim",
            ),
            id="collections-help",
        )

    def on_mount(self) -> None:
        table = self.query_one(CollectionTable)
        for col in COLUMNS:
            table.add_column(col, key=col)

    def focus_pane(self) -> None:
        self.query_one(CollectionTable).focus()

    def target_collection(self) -> str | None:
        return self.selected()

    def selected(self) -> str | None:
        table = self.query_one(CollectionTable)
        if not self.infos or table.cursor_row < 0:
            return None
        return self.infos[min(table.cursor_row, len(self.infos) - 1)].name

    def info(self, name: str | None) -> Any:
        return next((i for i in self.infos if i.name == name), None)

    def show_run(self, running: Any) -> None:
        """A run moved on: its state and share, in the rows of the last listing."""
        self.show(self.infos, self.app.active, running)

    def show(self, infos: list[Any], active: str | None, running: Any) -> None:
        self.infos = infos
        table = self.query_one(CollectionTable)
        cursor = table.cursor_row
        table.clear()
        for info in infos:
            if info.roo is not None:
                table.add_row(*agent_row(info, active), key=info.name)
            else:
                table.add_row(*native_row(info, active, running), key=info.name)
        if infos:
            table.move_cursor(row=min(max(cursor, 0), len(infos) - 1))

    # -- actions (the keys act on the selected collection; the palette and F2 name one) -----
    @on(DataTable.RowSelected)
    def set_active(self) -> None:
        """Enter or a click on a row: search this collection."""
        name = self.selected()
        if name is None:
            return
        self.app.active_chosen = True
        self.app.show_active(name)
        self.app.notify(inert(f"searching {name}"), markup=False)
        self.post_message(CollectionsChanged())

    def action_create_collection(self) -> None:
        from roocode_tui.tui.modals import CreateCollectionModal

        if self.writes_refused():
            return
        self.app.push_screen(CreateCollectionModal(), self.create)

    def action_delete_collection(self) -> None:
        self.ask_delete(self.selected())

    def ask_delete(self, name: str | None) -> None:
        from roocode_tui.tui.modals import TypeNameModal

        if name is None or self.writes_refused():
            return
        app = self.app
        if app.ingest_running() and app.ingest_progress.collection == name:
            app.notify("an index run is writing to it: cancel it first (F2, c)", severity="warning")
            return
        info = self.info(name)
        points = info.points if info else 0
        app.push_screen(TypeNameModal(name, points), lambda ok: self.delete(name) if ok else None)

    def action_rebuild(self) -> None:
        self.app.index_pane.ask_rebuild(self.selected())

    def action_collection_details(self) -> None:
        import dataclasses

        from roocode_tui.tui.modals import DetailsModal

        name = self.selected()
        info = self.info(name)
        if info is not None:  # the collection's own description: the engine's extras left out
            described = dataclasses.replace(info, workspace=None, freshness=None)
            self.app.push_screen(DetailsModal(f"collection {name}", described.to_json()))

    def action_toggle_watch(self) -> None:
        self.toggle_watch(self.selected())

    def toggle_watch(self, name: str | None) -> None:
        """w in F2 and F4: the engine watches the collection (or stops)."""
        if name is None or self.writes_refused():
            return
        if self.app.connection.in_process:
            self.app.notify("watching needs the background engine (this TUI runs with --no-engine)", severity="warning")
            return
        info = self.info(name)
        if info is None:
            self.app.notify(
                inert(f"{name} has no points yet: index it first (F2, s)"), markup=False, severity="warning"
            )
            return
        self.set_watch(name, info.watcher is None)

    def action_snapshot_collection(self) -> None:
        self.snapshot_collection(self.selected())

    def snapshot_collection(self, name: str | None) -> None:
        app = self.app
        if name is None:
            return
        if app.settings.store.backend != "embedded" and self.writes_refused():
            return  # a server snapshot is made on the server
        if app.ingest_running() and app.ingest_progress.collection == name:
            app.notify("an index run is writing to it: let it finish (or cancel it: F2, c)", severity="warning")
            return
        self.write_snapshot(name)

    def action_restore_snapshot(self) -> None:
        self.restore_snapshot(self.selected())

    def restore_snapshot(self, name: str | None) -> None:
        if name is not None and not self.writes_refused():
            self.pick_snapshot(name)

    # -- the listing, and the writes (workers: the actions ask first, these do it) ------------
    @work(group="collections", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        """The collections: this pane shows them, F2 offers them (and the configured ones not
        made yet)."""
        from roocode_tui.core.errors import RoocodeError

        app = self.app
        engine = await app.connection.get_engine()
        try:
            infos = await engine.collections()
        except RoocodeError:
            return
        if app.panes_gone():
            return
        self.show(infos, app.active, app.ingest_progress)
        names = [i.name for i in infos]
        configured = [c.name for c in app.settings.collections if c.name not in names]
        app.index_pane.set_collections(names + configured, app.active)

    @work(group="collections-write", exit_on_error=False)
    async def create(self, values: dict[str, Any] | None) -> None:
        if not values:
            return
        app = self.app
        engine = await app.connection.get_engine()
        name, paths, source = values["name"], values["paths"], ""
        if values.get("package"):  # an installed library's files, resolved by the engine as for index --package
            import os

            from roocode_tui.core.files.packages import active_python  # this face's Python, as the CLI's

            ecosystem = values["ecosystem"]
            pkg = await engine.resolve_package(
                values["package"],
                ecosystem,
                python=active_python() if ecosystem == "pypi" else None,
                node_modules=None,
                cwd=os.getcwd(),
            )
            name, paths = name or pkg["collection"], pkg["paths"]
            source = f" from {pkg['ecosystem']} package {pkg['name']} {pkg['version']}"
        await engine.create_collection(name, paths, values["include"], values["exclude"])
        app.notify(inert(f"created {name}{source}: index it from F2 (s)"), markup=False)
        self.post_message(CollectionsChanged())

    @work(group="collections-write", exit_on_error=False)
    async def delete(self, name: str) -> None:
        app = self.app
        await (await app.connection.get_engine()).delete_collection(name)
        if app.active == name:  # it is no longer the one searched
            app.show_active(None)
        app.notify(inert(f"deleted {name}"), markup=False)
        self.post_message(CollectionsChanged())

    @work(group="collections-write", exit_on_error=False)
    async def set_watch(self, name: str, on: bool) -> None:
        app = self.app
        state = await (await app.connection.get_engine()).set_watch(name, on)
        if on:
            debounce = app.settings.engine.watch_debounce_ms / 1000
            app.notify(inert(f"watching {name}: changes sync after {debounce:g} s of quiet"), markup=False)
        else:
            app.notify(inert(f"{name}: {state.get('state', 'not watched')}"), markup=False)
        self.post_message(CollectionsChanged())

    @work(group="collections-snapshot", exclusive=True, exit_on_error=False)
    async def write_snapshot(self, name: str) -> None:
        app = self.app
        engine = await app.connection.get_engine()
        app.notify(inert(f"writing a snapshot of {name}…"), markup=False)
        snap = await engine.snapshot(name)
        app.notify(inert(f"snapshot of {name}: {snap['path']}"), markup=False, timeout=15)

    @work(group="collections-snapshot", exclusive=True, exit_on_error=False)
    async def pick_snapshot(self, name: str) -> None:
        """The collection's snapshot files, to restore one as a new collection."""
        from roocode_tui.core.collections.snapshots import Snapshot
        from roocode_tui.tui.modals import RestoreSnapshotModal

        app = self.app
        engine = await app.connection.get_engine()
        files = [s for s in map(Snapshot.from_json, await engine.snapshots(name)) if s.path]
        if not files:
            app.notify(inert(f"no snapshot files of {name} yet: s writes one"), markup=False, severity="warning")
            return
        app.push_screen(RestoreSnapshotModal(name, files), self.restore)

    @work(group="collections-write", exit_on_error=False)
    async def restore(self, values: dict[str, Any] | None) -> None:
        if not values:
            return
        app = self.app
        done = await (await app.connection.get_engine()).restore(values["name"], str(values["file"]))
        app.notify(inert(f"restored {values['name']} ({done['points']:,} points)"), markup=False)
        self.post_message(CollectionsChanged())
