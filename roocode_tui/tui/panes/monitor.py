"""F3: GPU, vLLM queue, this app's pipeline and Qdrant, as the engine reads them (Engine.monitor:
its sampler's latest readings), polled while the pane is shown, and time charts of the metric
history the engine keeps (core/history.py): 5 minutes, 1 hour or 6 hours (t cycles the window)."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical, VerticalScroll
from textual.widgets import Label, Static

from roocode_tui.core.display import inert
from roocode_tui.core.monitor.history import WINDOW_LABELS
from roocode_tui.core.monitor.history import WINDOWS as WINDOW_STEPS
from roocode_tui.tui.panes.pane import Pane
from roocode_tui.tui.widgets.status_bar import gauge

WINDOWS = tuple(WINDOW_STEPS)  # the order t cycles them: 5m, 1h, 6h
#: (chart id, title, unit, [(series, legend label)], fixed y maximum)
CHARTS: tuple[tuple[str, str, str, list[tuple[str, str]], float | None], ...] = (
    ("chart-gpu-util", "GPU utilisation (%)", "%", [("gpu_util", "")], 100.0),
    ("chart-vram", "VRAM used (GiB)", "GiB", [("vram_used", "")], None),
    ("chart-requests", "vLLM requests", "requests", [("vllm_running", "running"), ("vllm_waiting", "waiting")], None),
    ("chart-kv-cache", "vLLM KV-cache use (%)", "%", [("kv_cache", "")], 100.0),
    ("chart-prompt-tokens", "vLLM prompt tokens/s", "tokens/s", [("prompt_tokens_per_s", "")], None),
    ("chart-chunks", "chunks/s embedded by this engine", "chunks/s", [("chunks_per_s", "")], None),
    ("chart-latency", "embedding request latency (ms)", "ms", [("latency_p50", "p50"), ("latency_p95", "p95")], None),
)
SERVER_CHARTS = {"chart-requests", "chart-kv-cache", "chart-prompt-tokens"}  # vLLM's /metrics


def gib(n: float) -> str:
    return f"{n / 2**30:.1f}"


class MonitorPane(Pane, VerticalScroll, can_focus=True):
    """Polls while it is shown: each round of readings reschedules the next when it is done, so
    rounds never overlap, and stops when the pane is hidden. The charts are mounted (and plotext
    imported) the first time the pane is shown."""

    BINDINGS = [
        Binding(
            "t",
            "cycle_window",
            "Window",
            tooltip="Charts over the last 5 minutes, 1 hour or 6 hours (the engine keeps the history)",
            id="chart_window",
        ),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.window = WINDOWS[0]
        self.charts: dict[str, Any] = {}  # chart id -> TimeChart, once mounted
        self.last_history: dict[str, Any] | None = None
        self._timer: Any = None

    def focus_pane(self) -> None:
        self.focus()  # keep focus out of hidden panes
        self.start()

    def start(self) -> None:
        self._mount_charts()
        if self._timer is None:
            self.poll()

    def _mount_charts(self) -> None:
        if self.charts:
            return
        from roocode_tui.tui.widgets.charts import TimeChart  # plotext: only once F3 is shown

        for chart_id, title, unit, names, top in CHARTS:
            self.charts[chart_id] = TimeChart(title, unit, names, top=top, id=chart_id, classes="chart")
        self.query_one("#chart-grid", Grid).mount(*self.charts.values())
        if self.last_history is not None:
            self.show_history(self.last_history)

    def action_cycle_window(self) -> None:
        self.window = WINDOWS[(WINDOWS.index(self.window) + 1) % len(WINDOWS)]
        self._show_header()
        self.load_history()

    def _show_header(self) -> None:
        header = Text()
        header.append("History kept by the engine", style="bold")
        header.append(f" · last {WINDOW_LABELS[self.window]}", style="bold cyan")
        header.append("   t: " + " → ".join(WINDOW_LABELS[w] for w in WINDOWS), style="dim")
        self.query_one("#chart-header", Static).update(header)

    @work(group="monitor-history", exclusive=True, exit_on_error=False)
    async def load_history(self) -> None:
        await self._load_history(await self.app.connection.get_engine())

    async def _load_history(self, engine: Any) -> None:
        from roocode_tui.core.errors import RoocodeError

        try:
            history = await engine.history(self.window)
        except RoocodeError:
            return  # the engine went away: the next round says so
        if history.get("window") == self.window:  # not a late answer for the window before
            self.show_history(history)

    @work(group="monitor", exclusive=True, exit_on_error=False)
    async def poll(self) -> None:
        """One round of readings, all the engine's: its pipeline and store, and its sampler's
        latest of the GPUs and of vLLM's metrics."""
        app = self.app
        self._timer = True
        try:
            settings = app.settings
            engine = await app.connection.get_engine()
            reading = await engine.monitor(app.active)
            self.show_vllm(reading.vllm, reading.vllm_url)
            self.show_pipeline(reading.pipeline, app.ingest_progress)
            self.show_store(reading.store)
            self.show_gpus(reading.gpus, reading.gpu_why)
            await self._load_history(engine)
        finally:
            if app.shown == "monitor":
                self._timer = self.set_timer(settings.tui.monitor_interval_s, self.poll)
            else:
                self._timer = None

    def compose(self) -> ComposeResult:
        with Grid(id="monitor-grid"):
            with Vertical(classes="monitor-box", id="gpu-box"):
                yield Label("GPU", classes="section-title")
                yield Static(Text("waiting for the first reading…", style="dim"), id="gpu-info")
            with Vertical(classes="monitor-box", id="vllm-box"):
                yield Label("Embedding server", classes="section-title")
                yield Static(Text("waiting for the first reading…", style="dim"), id="vllm-info")
            with Vertical(classes="monitor-box", id="pipeline-box"):
                yield Label("This app's pipeline", classes="section-title")
                yield Static(Text("idle", style="dim"), id="pipeline-info")
            with Vertical(classes="monitor-box", id="qdrant-box"):
                yield Label("Store", classes="section-title")
                yield Static(Text("waiting for the first reading…", style="dim"), id="qdrant-info")
        yield Static("", id="chart-header")
        yield Grid(id="chart-grid")

    def on_mount(self) -> None:
        self._show_header()

    def show_history(self, history: dict[str, Any]) -> None:
        """Draw every chart from the engine's ``history(window)`` answer."""
        self.last_history = history
        local = self.app.settings.embedder.provider != "openai"
        vram_total = history.get("facts", {}).get("vram_total")
        for chart_id, chart in self.charts.items():
            note = ""
            if chart_id in SERVER_CHARTS and local:
                note = "no server (local model)"
            elif chart_id in ("chart-gpu-util", "chart-vram"):
                note = "no GPU seen"
            chart.show(history, top=vram_total if chart_id == "chart-vram" else None, note=note)

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

    def show_vllm(self, reading: Any, url: str) -> None:
        """vLLM's metrics (a VllmReading) read from ``url``; None: no server to watch."""
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
        info.update(text)

    def show_pipeline(self, stats: dict[str, Any] | None, progress: Any) -> None:
        """The engine's embedding pipeline: ``Engine.monitor().pipeline``."""
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
            else:
                text.append("no index run", style="dim")
        self.query_one("#pipeline-info", Static).update(text)

    def show_store(self, lines: list[tuple[str, str]]) -> None:
        text = Text()
        for line, style in lines:
            text.append(inert(line) + "\n", style=style)
        self.query_one("#qdrant-info", Static).update(text)
