"""The Textual app. ``create_app(settings)`` builds it for the CLI and the tests alike.

Four panes, each one key away from anywhere: F1 Search, F2 Index, F3 Monitor, F4 Collections.
The app is a face of the engine (roocode_tui/engine): the background engine's client, or an
engine in this process when the engine is off (``engine.enabled = false``, ``--no-engine``).
Everything slow (the engine, NVML, HTTP polls) happens in workers with explicit groups;
results reach widgets only through messages.

The first frame comes first: it shows F1 (search box, tabs, status bar, footer); the settings
are validated (pydantic), the hidden panes mounted (their modules imported) and the background
work started right after it (bench/tui_probe.py measures it; tests/test_startup.py keeps the
heavy modules out of it).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from roocode_tui.core.display import inert
from roocode_tui.tui.messages import (
    BackendStatus,
    CollectionsChanged,
    GpuReading,
    IngestFinished,
    IngestUpdate,
)
from roocode_tui.tui.panes.search import SearchPane, open_in_editor
from roocode_tui.tui.widgets.footer import Footer
from roocode_tui.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:  # pydantic and the hidden panes load after the first frame
    from textual.pilot import Pilot

    from roocode_tui.core.config import Settings
    from roocode_tui.core.errors import RoocodeError
    from roocode_tui.tui.panes.collections import CollectionsPane
    from roocode_tui.tui.panes.index import IndexPane
    from roocode_tui.tui.panes.monitor import MonitorPane

CSS_FILE = Path(__file__).resolve().parent.parent / "styles" / "app.tcss"
if not CSS_FILE.exists():  # a source checkout: styles/ sits beside the package
    CSS_FILE = Path(__file__).resolve().parents[2] / "styles" / "app.tcss"

RETRY_S = 5.0  # reconnect period while a backend is down
HOLD_EVERY_S = 0.5  # a person typing a search holds ingest batches back, re-sent at most this often
PANES = {"search": "Search", "index": "Index", "monitor": "Monitor", "collections": "Collections"}


class RoocodeApp(App[int]):
    TITLE = "roocode-tui"
    CSS_PATH = str(CSS_FILE)
    BINDINGS = [
        Binding("f1", "show_pane('search')", "Search", id="pane_search"),
        Binding("f2", "show_pane('index')", "Index", id="pane_index"),
        Binding("f3", "show_pane('monitor')", "Monitor", id="pane_monitor"),
        Binding("f4", "show_pane('collections')", "Collections", id="pane_collections"),
        Binding("question_mark", "toggle_help", "Keys", id="help"),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
        Binding("escape", "focus_query", "Query", show=False, id="focus_query"),
    ]

    def __init__(
        self,
        settings: Settings | Callable[[], Settings],
        collection: str | None = None,
        *,
        gpu_reader: Callable[[], tuple[list[Any], str]] | None = None,
    ):
        """``settings``: the settings, or what makes them (validates them), called after the first frame."""
        super().__init__()
        self._settings: Settings | None = None if callable(settings) else settings
        self._make_settings = settings if callable(settings) else None
        self.settings_error: RoocodeError | None = None  # the settings were invalid: the app closed
        self.started = asyncio.Event()  # set once the panes are mounted and the background work began
        self.active: str | None = collection
        self._explicit = collection is not None
        self.engine: Any = None  # engine.api.Engine: the background engine's client, or one in this process
        self._engine_lock = asyncio.Lock()
        self._gpu_reader = gpu_reader
        self.ingest_progress: Any = None  # the run F2 shows (engine.api.RunSnapshot)
        self._held_at = 0.0

    @property
    def settings(self) -> Settings:
        """Validated on first use: right after the first frame (``_start``), unless given ready."""
        if self._settings is None:
            assert self._make_settings is not None
            self._settings = self._make_settings()
        return self._settings

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        # F1 only: F2-F4 are mounted right after the first frame (_start)
        with TabbedContent(initial="search", id="panes"):
            with TabPane("Search F1", id="search"):
                yield SearchPane(id="search-pane")
            yield TabPane("Index F2", id="index")
            yield TabPane("Monitor F3", id="monitor")
            yield TabPane("Collections F4", id="collections")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.status.collection = self.active
        self.status.refresh_bar()
        self.query_one(SearchPane).focus_query()
        # Everything else once the first frame is shown, in the app's own queue: keys wait for it.
        self.call_after_refresh(self.call_later, self._start)

    async def _start(self) -> None:
        """After the first frame: the settings validated (an invalid one closes the app, its
        one-line error printed by the CLI), the hidden panes mounted, the background work started."""
        import gc

        from roocode_tui.core.errors import RoocodeError

        gc.enable()  # the CLI turns it off for the start-up (cli._tui)
        try:
            try:
                settings = self.settings
            except RoocodeError as exc:
                self.settings_error = exc
                self.exit(return_code=exc.exit_code)
                return
            from roocode_tui.core.security import warnings_for

            for warning in warnings_for(settings):
                self.notify(inert(warning), title="warning", severity="warning", markup=False, timeout=10)
            if settings.read_only:
                self.sub_title = "read-only"
            if self._exit:  # quit before it started (a key typed ahead): nothing left to mount into
                return
            await self._mount_hidden_panes()
            self.connect()
            self.poll_gpu()
            self.index_pane.watch_runs()
        finally:
            self.started.set()
        pane = self.query_one("#panes", TabbedContent).active
        if pane != "search":  # a key pressed before the panes were there
            self._focus_pane(pane)

    async def _mount_hidden_panes(self) -> None:
        from roocode_tui.tui.panes.collections import CollectionsPane
        from roocode_tui.tui.panes.index import IndexPane
        from roocode_tui.tui.panes.monitor import MonitorPane

        panes = {"index": IndexPane, "monitor": MonitorPane, "collections": CollectionsPane}
        await asyncio.gather(
            *(self.query_one(f"#{tab}", TabPane).mount(cls(id=f"{tab}-pane")) for tab, cls in panes.items())
        )

    @asynccontextmanager
    async def run_test(self, *args: Any, **kwargs: Any) -> AsyncIterator[Pilot[int]]:
        """Textual's, once the app has started (every pane mounted, the background work begun):
        a test sees the app as a person does a moment after it opens."""
        async with super().run_test(*args, **kwargs) as pilot:
            await self.started.wait()
            yield pilot

    @property
    def index_pane(self) -> IndexPane:
        from roocode_tui.tui.panes.index import IndexPane

        return self.query_one(IndexPane)

    @property
    def monitor_pane(self) -> MonitorPane:
        from roocode_tui.tui.panes.monitor import MonitorPane

        return self.query_one(MonitorPane)

    @property
    def collections_pane(self) -> CollectionsPane:
        from roocode_tui.tui.panes.collections import CollectionsPane

        return self.query_one(CollectionsPane)

    def _panes_gone(self) -> bool:
        """The app is shutting down (its panes are gone): a late message from a worker or the
        engine (a run that ended as the app quit) has nothing left to update."""
        return not self.default_screen.query("#panes")

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    # -- the engine --------------------------------------------------------------------------
    async def get_engine(self) -> Any:
        """The engine: found or started in the background (the first frame never waits for it),
        or made in this process when the engine is off."""
        async with self._engine_lock:
            if self.engine is None:
                if self.settings.engine.enabled:
                    from roocode_tui.engine.client import connect

                    self.engine = await connect(self.settings)
                else:
                    from roocode_tui.engine.local import LocalEngine

                    self.engine = LocalEngine(self.settings)
        return self.engine

    def engine_lost(self, error: Exception) -> None:
        """The background engine stopped answering (killed, crashed): say so, and let the next
        call find or start a fresh one (runs resume there as after any interruption)."""
        if self.engine is None or self.engine_in_process:
            return
        engine, self.engine = self.engine, None
        self.run_worker(engine.aclose(), group="engine-close", exit_on_error=False)
        self.status.store = (f"engine: {error}", False)
        self.status.refresh_bar()
        self.notify(inert(str(error)), title="engine", severity="error", markup=False, timeout=10)
        self.set_timer(RETRY_S, self.connect)

    @property
    def engine_in_process(self) -> bool:
        from roocode_tui.engine.local import LocalEngine

        return isinstance(self.engine, LocalEngine)

    def hold_ingest(self) -> None:
        """A search is being typed: every run sends no new batches for a moment."""
        now = time.monotonic()
        if self.engine is not None and now - self._held_at > HOLD_EVERY_S:
            self._held_at = now
            self._hold()

    @work(group="hold", exclusive=True, exit_on_error=False)
    async def _hold(self) -> None:
        await self.engine.hold_ingest(self.settings.tui.search_holds_ingest_s)

    @work(group="connect", exclusive=True, exit_on_error=False)
    async def connect(self) -> None:
        """Check the engine, the embedder and the store; retry every few seconds while one is down."""
        from roocode_tui.core.errors import RoocodeError

        backend = self.settings.store.backend
        try:
            engine = await self.get_engine()
        except RoocodeError as exc:
            self.post_message(BackendStatus(self.settings.embedder.model, None, f"engine: {exc}", False))
            self.set_timer(RETRY_S, self.connect)
            return
        emb_label = self.settings.embedder.model
        emb_ok: bool | None = True
        if self.settings.embedder.provider == "openai":
            emb_ok, why = await _embedder_reachable(self.settings)
            if not emb_ok:
                emb_label = f"{emb_label}: {why}"
        store_label = f"store {backend}"
        store_ok: bool | None = True
        try:
            names = [c["name"] for c in await engine.collections()]
            if not self._explicit or self.active is None:
                try:
                    self.active = await engine.resolve_collection(self.active, os.getcwd())
                except RoocodeError as exc:
                    self.active = None
                    store_label = f"store {backend}: {exc}"
            elif self.active not in names:
                store_label = f"store {backend}: collection {self.active!r} does not exist yet"
        except RoocodeError as exc:
            store_ok = False
            store_label = f"store {backend}: {exc}"
        if emb_ok and self.settings.embedder.provider != "openai":
            status = await engine.status()
            emb_label = status["embedder"].get("model_id") or emb_label
        self.post_message(BackendStatus(emb_label, emb_ok, store_label, store_ok))
        self.post_message(CollectionsChanged())
        if not self.engine_in_process:
            self.watch_engine(engine)
        if not (emb_ok and store_ok):
            self.set_timer(RETRY_S, self.connect)

    @work(group="engine-watch", exclusive=True, exit_on_error=False)
    async def watch_engine(self, engine: Any) -> None:
        """Hold the engine's watch stream: its end is the engine's death, noticed at once."""
        from roocode_tui.core.errors import EngineGoneError
        from roocode_tui.engine.watch import behind_line

        seen = None
        try:
            async for beat in engine.watch():
                shown = (beat.get("index"), beat.get("watch"))
                if seen is not None and shown != seen:  # a search index or a watcher moved on
                    self.post_message(CollectionsChanged())
                seen = shown
                state, pending = (beat.get("watch") or {}).get(self.active or "", ["", 0])
                behind = behind_line(state, pending)
                if behind != self.status.behind and not self._panes_gone():
                    self.status.behind = behind
                    self.status.refresh_bar()
        except EngineGoneError as exc:
            if self.engine is engine:
                self.engine_lost(exc)

    @on(BackendStatus)
    def _backend_status(self, message: BackendStatus) -> None:
        if self._panes_gone():
            return
        self.status.embedder = (message.embedder, message.embedder_ok)
        self.status.store = (message.store, message.store_ok)
        self.status.collection = self.active
        self.status.refresh_bar()

    # -- collections -------------------------------------------------------------------------
    @on(CollectionsChanged)
    def _collections_changed(self) -> None:
        self.load_collections()

    @work(group="collections", exclusive=True, exit_on_error=False)
    async def load_collections(self) -> None:
        from roocode_tui.core.errors import RoocodeError
        from roocode_tui.core.stores.base import CollectionInfo

        engine = await self.get_engine()
        try:
            infos = [CollectionInfo.from_json(c) for c in await engine.collections()]
        except RoocodeError:
            return
        self._show_collections(infos)

    def _show_collections(self, infos: list[Any]) -> None:
        if self._panes_gone():
            return
        self.collections_pane.show(infos, self.active, self.ingest_progress)
        names = [i.name for i in infos]
        configured = [c.name for c in self.settings.collections if c.name not in names]
        self.index_pane.set_collections(names + configured, self.active)

    # -- actions -----------------------------------------------------------------------------
    def action_show_pane(self, pane: str) -> None:
        self.query_one("#panes", TabbedContent).active = pane
        if self.started.is_set():  # else _start focuses it once it is mounted
            self._focus_pane(pane)

    def _focus_pane(self, pane: str) -> None:
        if pane == "search":
            self.query_one(SearchPane).focus_query()
        elif pane == "collections":
            self.query_one("#collections-table").focus()
        elif pane == "index":
            self.query_one("#index-collection").focus()
        if pane == "monitor":
            self.monitor_pane.focus()  # keep focus out of hidden panes
            self.monitor_pane.start()

    @on(TabbedContent.TabActivated)
    def _tab(self, event: TabbedContent.TabActivated) -> None:
        pane = event.pane.id or ""
        if not self.started.is_set():
            return
        if pane == "monitor":
            self.monitor_pane.start()
        elif pane == "collections":
            self.load_collections()  # points and rebuild states move while other panes are shown

    def action_toggle_help(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_focus_query(self) -> None:
        self.action_show_pane("search")

    def action_open_editor(self) -> None:
        hit = self._current_hit()
        if hit is not None:
            open_in_editor(self, hit)

    def action_copy_location(self) -> None:
        hit = self._current_hit()
        if hit is None:
            return
        location = f"{Path(hit.root) / hit.path}:{hit.start_line}"
        self.copy_to_clipboard(location)  # OSC 52: works over SSH in most terminals
        self.notify(inert(f"copied {location}"), markup=False)

    def _current_hit(self) -> Any:
        from roocode_tui.tui.panes.search import FileViewer

        if isinstance(self.screen, FileViewer):
            return self.screen.hit
        return self.query_one(SearchPane).selected_hit()

    def action_set_active(self) -> None:
        name = self.collections_pane.selected()
        if name is None:
            return
        self.active = name
        self._explicit = True
        self.status.collection = name
        self.status.refresh_bar()
        self.notify(inert(f"searching {name}"), markup=False)
        self.post_message(CollectionsChanged())

    def forget_active(self, name: str) -> None:
        """A collection is gone: it is no longer the one searched."""
        if self.active == name:
            self.active = None
            self.status.collection = None
            self.status.refresh_bar()

    def _writes_refused(self) -> bool:
        if self.settings.read_only:
            self.notify("read-only mode: this would write to the store", severity="warning")
            return True
        return False

    def action_create_collection(self) -> None:
        from roocode_tui.tui.modals import CreateCollectionModal

        if self._writes_refused():
            return
        self.push_screen(CreateCollectionModal(), self.collections_pane.create)

    def _target_collection(self) -> str | None:
        pane = self.query_one("#panes", TabbedContent).active
        if pane == "collections":
            return self.collections_pane.selected()
        if pane == "index":
            return self.index_pane.selected() or self.active
        return self.active

    def action_delete_collection(self) -> None:
        from roocode_tui.tui.modals import TypeNameModal

        name = self._target_collection()
        if name is None or self._writes_refused():
            return
        if self._ingest_running() and self.ingest_progress.collection == name:
            self.notify("an index run is writing to it: cancel it first (F2, c)", severity="warning")
            return
        info = next((i for i in self.collections_pane.infos if i.name == name), None)
        points = info.points if info else 0
        pane = self.collections_pane
        self.push_screen(TypeNameModal(name, points), lambda ok: pane.delete(name) if ok else None)

    def action_toggle_watch(self) -> None:
        """w in F2 and F4: the engine watches the collection (or stops)."""
        name = self._target_collection()
        if name is None or self._writes_refused():
            return
        if self.engine_in_process:
            self.notify("watching needs the background engine (this TUI runs with --no-engine)", severity="warning")
            return
        info = next((i for i in self.collections_pane.infos if i.name == name), None)
        if info is None:
            self.notify(inert(f"{name} has no points yet: index it first (F2, s)"), markup=False, severity="warning")
            return
        self.collections_pane.set_watch(name, info.watcher is None)

    # -- snapshots ---------------------------------------------------------------------------
    def action_snapshot_collection(self) -> None:
        name = self._target_collection()
        if name is None:
            return
        if self.settings.store.backend != "embedded" and self._writes_refused():
            return  # a server snapshot is made on the server
        if self._ingest_running() and self.ingest_progress.collection == name:
            self.notify("an index run is writing to it: let it finish (or cancel it: F2, c)", severity="warning")
            return
        self.collections_pane.snapshot(name)

    def action_restore_snapshot(self) -> None:
        name = self._target_collection()
        if name is not None and not self._writes_refused():
            self.collections_pane.pick_snapshot(name)

    def action_collection_details(self) -> None:
        from roocode_tui.tui.modals import DetailsModal

        name = self.collections_pane.selected()
        info = next((i for i in self.collections_pane.infos if i.name == name), None)
        if info is not None:
            self.push_screen(DetailsModal(f"collection {name}", info.to_json()))

    # -- index runs --------------------------------------------------------------------------
    # Runs belong to the engine; F2 (IndexPane) starts, follows, lists and cancels them. These
    # actions are the app's because every pane and the palette reach them.
    def _ingest_running(self) -> bool:
        return self.ingest_progress is not None and self.ingest_progress.active

    def action_start_ingest(self, rebuild: bool = False) -> None:
        if self._writes_refused():
            return
        if self._ingest_running():
            self.notify("an index run is already going (F2)", severity="warning")
            return
        name = self._target_collection()
        if name is None:
            self.notify("pick a collection first (F2 or F4)", severity="warning")
            return
        self.index_pane.start_run(name, rebuild)
        self.action_show_pane("index")

    def action_rebuild(self) -> None:
        from roocode_tui.tui.modals import ConfirmModal

        name = self._target_collection()
        if name is None or self._writes_refused():
            return
        question = (
            f"Rebuild {name!r}? Every file is embedded again into a new index; searches use the current "
            "one until the new one is complete."
        )
        self.push_screen(ConfirmModal(question, "Rebuild"), lambda ok: self.action_start_ingest(True) if ok else None)

    def action_cancel_ingest(self) -> None:
        from roocode_tui.tui.modals import ConfirmModal

        if not self._ingest_running():
            self.notify("no index run is going", severity="information")
            return
        p = self.ingest_progress
        self.push_screen(
            ConfirmModal(
                f"Cancel run {p.id} ({p.collection}, started by {p.started_by})? Files written so far stay; "
                "the next run finishes the rest.",
                "Cancel run",
            ),
            lambda ok: self.index_pane.cancel_run(p.id) if ok else None,
        )

    @on(IngestUpdate)
    def _ingest_update(self, message: IngestUpdate) -> None:
        """The status bar and F4 follow the run (F2 shows it itself: IndexPane)."""
        if self._panes_gone():
            return
        p = message.progress
        if self.query_one("#panes", TabbedContent).active == "collections":
            pane = self.collections_pane
            pane.show(pane.infos, self.active, p)  # the run's state and share, from the last listing
        if p.active:
            share = f"{p.files_done / p.files_total:.0%}" if p.files_total else f"{p.files_done} files"
            self.status.ingest = f"indexing {p.collection} {share} · {p.chunks_per_s:,.1f} chunks/s"
            if p.waiting:
                self.status.ingest = f"indexing {p.collection}: paused, server down"
        else:
            self.status.ingest = ""
        self.status.refresh_bar()

    @on(IngestFinished)
    def _ingest_finished(self, message: IngestFinished) -> None:
        from roocode_tui.core.memory import release_freed_memory

        if self._panes_gone():
            return

        release_freed_memory()  # a run frees hundreds of MB that malloc would keep (bench/soak.py)
        p = message.progress
        self._ingest_update(IngestUpdate(p))
        self.status.ingest = ""
        self.status.refresh_bar()
        if message.error:
            self.notify(inert(message.error), title="index run failed", severity="error", markup=False, timeout=10)
        elif p.phase == "cancelled":
            self.notify(inert(f"{p.collection}: cancelled after {p.files_indexed} files"), markup=False)
        else:
            self.notify(
                inert(
                    f"{p.collection}: {p.files_indexed} indexed, {p.files_unchanged} unchanged, {p.files_failed} failed"
                ),
                markup=False,
                severity="warning" if p.files_failed else "information",
            )
        if self.active is None:
            self.active = p.collection
            self.status.collection = p.collection
        if p.collection == self.active and self.status.store[1] is True:
            # "no collections yet" / "does not exist yet" no longer holds: the run made it
            self.status.store = (f"store {self.settings.store.backend}", True)
        self.status.refresh_bar()
        self.post_message(CollectionsChanged())
        self.index_pane.watch_runs()  # the run list shows the outcome now, not at the next poll

    async def action_quit(self) -> None:
        """Runs belong to the engine and go on when the app closes; an engine in this process
        ends with the app, so a run there is stopped (after asking)."""
        from roocode_tui.tui.modals import ConfirmModal

        if not (self.engine_in_process and self._ingest_running()):
            self.exit(0)
            return

        def answer(ok: bool | None) -> None:
            if ok:
                self._stop_and_quit()

        self.push_screen(ConfirmModal("An index run is going. Stop it and quit?", "Stop and quit"), answer)

    @work(group="ingest-cancel", exit_on_error=False)
    async def _stop_and_quit(self) -> None:
        if self.ingest_progress is not None:
            await self.engine.cancel(self.ingest_progress.id)
        self.exit(0)

    # -- monitor -----------------------------------------------------------------------------
    def read_gpus(self) -> tuple[list[Any], str]:
        """The GPUs (NVML or nvidia-smi; blocks: call it in a thread)."""
        if self._gpu_reader is not None:
            return self._gpu_reader()
        from roocode_tui.core.monitor.gpu import read_gpus

        return read_gpus()

    @work(group="gpu", exclusive=True, exit_on_error=False, thread=True)
    def poll_gpu(self) -> None:
        """The status bar's VRAM gauge: a slower poll, in a thread (NVML blocks)."""
        gpus, why = self.read_gpus()
        self.post_message(GpuReading(gpus, why))

    @on(GpuReading)
    def _gpu(self, message: GpuReading) -> None:
        if self._panes_gone():
            return
        if message.gpus:
            g = message.gpus[0]
            self.status.vram = (g.memory_share, f"{g.memory_used / 2**30:.1f}/{g.memory_total / 2**30:.0f}G")
            self.status.refresh_bar()
            self.set_timer(max(2.0, self.settings.tui.monitor_interval_s * 2), self.poll_gpu)

    # -- errors and palette ------------------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            from roocode_tui.core.errors import RoocodeError

            error = event.worker.error
            text = str(error) if isinstance(error, RoocodeError) else f"{type(error).__name__}: {error}"
            self.notify(inert(text), title=event.worker.group, severity="error", markup=False, timeout=8)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for pane, title in PANES.items():
            yield SystemCommand(f"Go to {title}", f"Show the {title} pane", lambda p=pane: self.action_show_pane(p))
        yield SystemCommand("Start index run", "Index the selected collection (F2)", self.action_start_ingest)
        yield SystemCommand("Cancel index run", "Stop the running index run (asks first)", self.action_cancel_ingest)
        yield SystemCommand(
            "Rebuild collection",
            "Embed every file again into a new index, switched in when complete (asks first)",
            self.action_rebuild,
        )
        yield SystemCommand("Create collection", "A new collection from paths and globs", self.action_create_collection)
        yield SystemCommand(
            "Delete collection", "Delete the selected collection (type its name)", self.action_delete_collection
        )
        yield SystemCommand(
            "Snapshot collection", "Write a snapshot file of the selected collection", self.action_snapshot_collection
        )
        yield SystemCommand(
            "Restore snapshot", "A new collection from a snapshot of the selected one", self.action_restore_snapshot
        )
        yield SystemCommand("Reload collections", "Read the collections again from the store", self.load_collections)
        yield SystemCommand("Show keys", "Every key binding of the focused pane", self.action_toggle_help)

    async def on_unmount(self) -> None:
        if self.engine is not None:
            await self.engine.aclose()  # in this process: its runs stop; a client: it just hangs up


async def _embedder_reachable(settings: Settings) -> tuple[bool, str]:
    import httpx

    cfg = settings.embedder
    key = cfg.api_key.get_secret_value() if cfg.api_key else None
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        async with httpx.AsyncClient(timeout=3.0, headers=headers, verify=cfg.tls_verify_arg) as http:
            resp = await http.get(f"{cfg.base_urls[0]}/models")
    except httpx.HTTPError as exc:
        return False, f"unreachable ({type(exc).__name__})"
    if resp.status_code in (401, 403):
        return False, "API key refused"
    if resp.status_code != 200:
        return False, f"HTTP {resp.status_code}"
    return True, ""


def create_app(
    settings: Settings,
    collection: str | None = None,
    *,
    gpu_reader: Callable[[], tuple[list[Any], str]] | None = None,
) -> RoocodeApp:
    from roocode_tui.core.memory import tune_allocator

    tune_allocator()  # before the app's threads start: an app left open for days stays flat
    return RoocodeApp(settings, collection=collection, gpu_reader=gpu_reader)


__all__ = ["RoocodeApp", "create_app"]
