"""F3: GPU, vLLM queue, this app's pipeline and Qdrant, polled while the pane is shown."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Label, Sparkline, Static

from roocode_tui.core.text import inert
from roocode_tui.tui.widgets.status_bar import gauge

HISTORY = 300  # samples kept for sparklines (5 minutes at 1 s)


def gib(n: float) -> str:
    return f"{n / 2**30:.1f}"


class MonitorPane(Vertical, can_focus=True):
    """Polls while it is shown: each round of readings reschedules the next when it is done, so
    rounds never overlap, and stops when the pane is hidden."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vram_history: deque[float] = deque(maxlen=HISTORY)
        self.tokens_history: deque[float] = deque(maxlen=HISTORY)
        self.chunks_history: deque[float] = deque(maxlen=HISTORY)
        self._timer: Any = None
        self._vllm: Any = None

    def start(self) -> None:
        if self._timer is None:
            self.poll()

    @work(group="monitor", exclusive=True, exit_on_error=False)
    async def poll(self) -> None:
        """One round of readings: the engine's pipeline and store, vLLM's metrics, the GPUs."""
        app: Any = self.app
        self._timer = True
        try:
            settings = app.settings
            engine = await app.get_engine()
            if settings.embedder.provider == "openai":
                from roocode_tui.core.metrics import VllmMonitor

                if self._vllm is None:
                    key = settings.embedder.api_key
                    self._vllm = VllmMonitor(
                        settings.embedder.base_urls[0],
                        key.get_secret_value() if key else None,
                        settings.embedder.tls_verify_arg,
                    )
                self.show_vllm(await self._vllm.poll(), self._vllm.root)
            else:
                self.show_vllm(None, "")
            reading = await engine.monitor(app.active)
            self.show_pipeline(reading["pipeline"], app.ingest_progress)
            self.show_store([(line, style) for line, style in reading["store"]])
            gpus, why = await asyncio.to_thread(app.read_gpus)
            self.show_gpus(gpus, why)
        finally:
            if app.query_one("#panes").active == "monitor":
                self._timer = self.set_timer(settings.tui.monitor_interval_s, self.poll)
            else:
                self._timer = None

    def compose(self) -> ComposeResult:
        with Grid(id="monitor-grid"):
            with Vertical(classes="monitor-box", id="gpu-box"):
                yield Label("GPU", classes="section-title")
                yield Static(Text("waiting for the first reading…", style="dim"), id="gpu-info")
                yield Sparkline([], id="vram-spark")
            with Vertical(classes="monitor-box", id="vllm-box"):
                yield Label("Embedding server", classes="section-title")
                yield Static(Text("waiting for the first reading…", style="dim"), id="vllm-info")
                yield Sparkline([], id="tokens-spark")
            with Vertical(classes="monitor-box", id="pipeline-box"):
                yield Label("This app's pipeline", classes="section-title")
                yield Static(Text("idle", style="dim"), id="pipeline-info")
                yield Sparkline([], id="chunks-spark")
            with Vertical(classes="monitor-box", id="qdrant-box"):
                yield Label("Store", classes="section-title")
                yield Static(Text("waiting for the first reading…", style="dim"), id="qdrant-info")

    # -- renderers (called on the UI thread with readings taken elsewhere) -------------------
    def show_gpus(self, gpus: list[Any], why: str) -> None:
        info = self.query_one("#gpu-info", Static)
        if not gpus:
            info.update(
                Text(inert(f"No GPU visible here: {why}. vLLM's metrics (right) are the remote view."), style="dim")
            )
            return
        table = Table.grid(padding=(0, 1))
        for g in gpus:
            table.add_row(Text(inert(f"#{g.index} {g.name}"), style="bold"))
            util = f"{g.utilization:.0f}%" if g.utilization is not None else "n/a"
            temp = f"{g.temperature:.0f}°C" if g.temperature is not None else "n/a"
            power = f"{g.power_w:.0f} W" if g.power_w is not None else "n/a"
            table.add_row(Text(f"VRAM {gauge(g.memory_share, 16)} {gib(g.memory_used)}/{gib(g.memory_total)} GiB"))
            table.add_row(Text(f"util {util} · {temp} · {power}"))
            for proc in g.processes[:4]:
                table.add_row(Text(inert(f"  pid {proc.pid} {proc.name}: {gib(proc.memory_used)} GiB"), style="dim"))
        info.update(table)
        first = gpus[0]
        self.vram_history.append(first.memory_share * 100)
        self.query_one("#vram-spark", Sparkline).data = list(self.vram_history)

    def show_vllm(self, reading: Any, url: str) -> None:
        info = self.query_one("#vllm-info", Static)
        if reading is None:
            info.update(Text("The local CPU model runs in this process: no server to watch.", style="dim"))
            return
        text = Text()
        health = {True: ("healthy", "green"), False: ("unhealthy (503)", "red"), None: ("unreachable", "red")}[
            reading.healthy
        ]
        text.append(inert(url) + "  ", style="dim")
        text.append(health[0] + "\n", style=health[1])
        if reading.error:
            text.append(inert(reading.error), style="yellow")
        else:
            text.append(f"running {reading.running or 0:.0f} · waiting {reading.waiting or 0:.0f}\n")
            if reading.kv_cache is not None:
                text.append(f"KV cache {gauge(reading.kv_cache, 12)} {reading.kv_cache * 100:.0f}%\n")
            rate = reading.prompt_tokens_per_s
            text.append(f"prompt tokens/s {rate:,.0f}" if rate is not None else "prompt tokens/s —")
            if rate is not None:
                self.tokens_history.append(rate)
                self.query_one("#tokens-spark", Sparkline).data = list(self.tokens_history)
        info.update(text)

    def show_pipeline(self, stats: dict[str, Any] | None, progress: Any) -> None:
        """The engine's embedding pipeline: ``Engine.monitor()["pipeline"]``."""
        text = Text()
        if stats is None:
            text.append("not connected yet", style="dim")
        else:
            p50, p95 = stats.get("p50_ms"), stats.get("p95_ms")
            text.append(f"batches in flight {stats['in_flight']}")
            text.append(f" · files queued {stats.get('files_queued', 0)}\n")
            text.append(f"requests {stats['requests']:,} · failures {stats['failures']:,}\n")
            text.append("latency p50 " + (f"{p50:.0f} ms" if p50 is not None else "—"))
            text.append(" · p95 " + (f"{p95:.0f} ms" if p95 is not None else "—") + "\n")
            if progress is not None and progress.active:
                text.append(f"{progress.chunks_per_s:,.1f} chunks/s", style="bold")
                self.chunks_history.append(progress.chunks_per_s)
                self.query_one("#chunks-spark", Sparkline).data = list(self.chunks_history)
            else:
                text.append("no index run", style="dim")
        self.query_one("#pipeline-info", Static).update(text)

    def show_store(self, lines: list[tuple[str, str]]) -> None:
        text = Text()
        for line, style in lines:
            text.append(inert(line) + "\n", style=style)
        self.query_one("#qdrant-info", Static).update(text)
