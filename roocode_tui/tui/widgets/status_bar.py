"""The one-line status bar shown under every pane."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from roocode_tui.core.display import inert


def gauge(share: float, width: int = 8) -> str:
    filled = max(0, min(width, round(share * width)))
    return "█" * filled + "░" * (width - filled)


class StatusBar(Static):
    """Active collection, embedder and store state, VRAM, and the running index run."""

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
