"""The one-line status bar shown under every pane."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.widgets import Static

from roocode_tui.core.display import inert

if TYPE_CHECKING:
    from textual.worker import Worker


def gauge(share: float, width: int = 8) -> str:
    filled = max(0, min(width, round(share * width)))
    return "█" * filled + "░" * (width - filled)


class StatusBar(Static):
    """Active collection, embedder and store state, VRAM, and the running index run. The VRAM
    gauge is the engine's GPU reading (Engine.monitor), asked again every few seconds while a
    GPU is seen."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.collection: str | None = None
        self.embedder = ("embedder: connecting…", None)
        self.store = ("store: connecting…", None)
        self.vram: tuple[float, str] | None = None
        self.ingest: str = ""
        self.behind: str = ""  # the active collection is watched and its files changed: "3 files changed, syncing"

    def refresh_bar(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("◆ ", style="bold")
        text.append(inert(self.collection or "no collection"), style="bold")
        if self.behind:
            text.append(f" · {self.behind}", style="yellow")
        for label, ok in (self.embedder, self.store):
            text.append("  │ ", style="dim")
            mark, style = {True: ("✓ ", "green"), False: ("✗ ", "red"), None: ("… ", "yellow")}[ok]
            text.append(mark, style=style)
            text.append(inert(label), style="" if ok else style)
        if self.vram is not None:
            share, label = self.vram
            text.append("  │ VRAM ", style="dim")
            text.append(gauge(share), style="red" if share > 0.95 else "green")
            text.append(f" {label}")
        if self.ingest:
            text.append("  │ ", style="dim")
            text.append(inert(self.ingest), style="bold cyan")
        self.update(text)

    def show_backends(self, status: Any, collection: str | None) -> None:
        """How the embedder and the store are (BackendStatus), and the collection searched."""
        self.embedder = (status.embedder, status.embedder_ok)
        self.store = (status.store, status.store_ok)
        self.collection = collection
        self.refresh_bar()

    @work(group="gpu", exclusive=True, exit_on_error=False)
    async def poll_gpus(self) -> None:
        """The first GPU's VRAM, as the engine read it last (engine/sampler.py); no more asking
        once it says none is seen."""
        from roocode_tui.core.errors import RoocodeError

        app: Any = self.app
        interval = max(2.0, app.settings.tui.monitor_interval_s * 2)
        try:
            reading = await (await app.connection.get_engine()).monitor(None, gpus_only=True)
        except RoocodeError:  # no engine yet, or it went (the connection says so): ask again later
            self.set_timer(interval, self.poll_gpus)
            return
        if reading.gpus:
            g = reading.gpus[0]
            self.vram = (g.memory_share, f"{g.memory_used / 2**30:.1f}/{g.memory_total / 2**30:.0f}G")
            self.refresh_bar()
            self.set_timer(interval, self.poll_gpus)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker's state goes to its own node: the app's one handler shows the errors."""
        handler = getattr(self.app, "on_worker_state_changed", None)
        if handler is not None:
            handler(event)

    def show_run(self, run: Any) -> None:
        """The index run under way (engine.api.RunSnapshot), or nothing once it is over."""
        if not run.active:
            self.ingest = ""
        elif run.waiting:
            self.ingest = f"indexing {run.collection}: paused, server down"
        else:
            share = f"{run.files_done / run.files_total:.0%}" if run.files_total else f"{run.files_done} files"
            self.ingest = f"indexing {run.collection} {share} · {run.chunks_per_s:,.1f} chunks/s"
        self.refresh_bar()
