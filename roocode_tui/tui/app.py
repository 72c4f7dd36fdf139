"""The Textual app. ``create_app(settings)`` builds it for the CLI and the tests alike.

Four panes, each one key away from anywhere: F1 Search, F2 Index, F3 Monitor, F4 Collections.
Each pane owns its keys, actions and workers (panes/); the app composes them, holds what they
share (the settings, the active collection, the run F2 follows, the engine: connection.py),
keeps the keys that work from anywhere (F1-F4, ?, ctrl+q, the palette: commands.py) and routes
the messages of background work to the status bar and the panes. Everything slow (the engine
and what it reads: the store, the GPUs, vLLM's metrics) happens in workers with explicit
groups; results reach widgets only through messages.

The first frame comes first: it shows F1 (search box, tabs, status bar, footer); the settings
are validated (pydantic), the hidden panes mounted (their modules imported) and the background
work started right after it (bench/tui_probe.py measures it; tests/faces/test_startup.py keeps the
heavy modules out of it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from roocode_tui.core.display import inert
from roocode_tui.tui.commands import pane_commands
from roocode_tui.tui.connection import EngineConnection
from roocode_tui.tui.messages import BackendStatus, CollectionsChanged, IngestFinished, IngestUpdate
from roocode_tui.tui.panes.search import SearchPane
from roocode_tui.tui.widgets.footer import Footer
from roocode_tui.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:  # pydantic and the hidden panes load after the first frame
    from textual.pilot import Pilot

    from roocode_tui.core.config import Settings
    from roocode_tui.core.errors import RoocodeError
    from roocode_tui.tui.panes.collections import CollectionsPane
    from roocode_tui.tui.panes.index import IndexPane
    from roocode_tui.tui.panes.monitor import MonitorPane
    from roocode_tui.tui.panes.pane import Pane

CSS_FILE = Path(__file__).resolve().parent.parent / "styles" / "app.tcss"
if not CSS_FILE.exists():  # a source checkout: styles/ sits beside the package
    CSS_FILE = Path(__file__).resolve().parents[2] / "styles" / "app.tcss"


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
        """``settings``: the settings, or what makes them (validates them), called after the first
        frame; ``gpu_reader``: what an engine made in this process reads the GPUs with."""
        super().__init__()
        self._settings: Settings | None = None if callable(settings) else settings
        self._make_settings = settings if callable(settings) else None
        self.settings_error: RoocodeError | None = None  # the settings were invalid: the app closed
        self.started = asyncio.Event()  # set once the panes are mounted and the background work began
        self.active: str | None = collection  # the collection searched
        self.active_chosen = collection is not None  # named (--collection, Enter in F4): connect() keeps it
        self.connection = EngineConnection(self, gpu_reader)
        self.ingest_progress: Any = None  # the run F2 shows (engine.api.RunSnapshot)

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
            self.connection.connect()
            self.status.poll_gpus()
            self.index_pane.watch_runs()
        finally:
            self.started.set()
        if self.shown != "search":  # a key pressed before the panes were there
            self.shown_pane.focus_pane()

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

    # -- the panes (F2-F4 by id: their modules load after the first frame) ------------------
    @property
    def index_pane(self) -> IndexPane:
        return cast("IndexPane", self.query_one("#index-pane"))

    @property
    def monitor_pane(self) -> MonitorPane:
        return cast("MonitorPane", self.query_one("#monitor-pane"))

    @property
    def collections_pane(self) -> CollectionsPane:
        return cast("CollectionsPane", self.query_one("#collections-pane"))

    @property
    def shown(self) -> str:
        """The pane shown: search, index, monitor or collections."""
        return self.query_one("#panes", TabbedContent).active

    @property
    def shown_pane(self) -> Pane:
        return cast("Pane", self.query_one(f"#{self.shown}-pane"))

    def panes_gone(self) -> bool:
        """The app is shutting down (its panes are gone): a late message from a worker or the
        engine (a run that ended as the app quit) has nothing left to update."""
        return not self.default_screen.query("#panes")

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    def action_show_pane(self, pane: str) -> None:
        self.query_one("#panes", TabbedContent).active = pane
        if self.started.is_set():  # else _start focuses it once it is mounted
            self.shown_pane.focus_pane()

    @on(TabbedContent.TabActivated)
    def _tab(self, event: TabbedContent.TabActivated) -> None:
        pane = event.pane.id or ""
        if not self.started.is_set():
            return
        if pane == "monitor":
            self.monitor_pane.start()
        elif pane == "collections":
            self.collections_pane.load()  # points and rebuild states move while other panes are shown

    def action_toggle_help(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_focus_query(self) -> None:
        self.action_show_pane("search")

    # -- what the panes share ----------------------------------------------------------------
    def show_active(self, name: str | None) -> None:
        """The collection searched, shown in the status bar."""
        self.active = name
        self.status.collection = name
        self.status.refresh_bar()

    def ingest_running(self) -> bool:
        return self.ingest_progress is not None and self.ingest_progress.active

    @on(CollectionsChanged)
    def _collections_changed(self) -> None:
        if not self.panes_gone():
            self.collections_pane.load()

    # -- the status bar ----------------------------------------------------------------------
    @on(BackendStatus)
    def _backend_status(self, message: BackendStatus) -> None:
        if not self.panes_gone():
            self.status.show_backends(message, self.active)

    @on(IngestUpdate)
    @on(IngestFinished)
    def _run_moved(self, message: IngestUpdate | IngestFinished) -> None:
        """F2 shows the run (IndexPane, which says how it ended); F4 and the status bar follow it.
        A run that ended made its collection: the one searched if there was none."""
        if self.panes_gone():
            return
        p = message.progress
        if self.shown == "collections":
            self.collections_pane.show_run(p)
        if isinstance(message, IngestUpdate):
            self.status.show_run(p)
            return
        self.status.ingest = ""  # over, however it ended
        if self.active is None:
            self.show_active(p.collection)
        if p.collection == self.active and self.status.store[1] is True:
            # "no collections yet" / "does not exist yet" no longer holds: the run made it
            self.status.store = (f"store {self.settings.store.backend}", True)
        self.status.refresh_bar()
        self.post_message(CollectionsChanged())

    # -- errors, palette, quit ---------------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            from roocode_tui.core.errors import RoocodeError

            error = event.worker.error
            text = str(error) if isinstance(error, RoocodeError) else f"{type(error).__name__}: {error}"
            self.notify(inert(text), title=event.worker.group, severity="error", markup=False, timeout=8)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from pane_commands(self)

    async def action_quit(self) -> None:
        self.connection.quit()

    async def on_unmount(self) -> None:
        await self.connection.close()


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
