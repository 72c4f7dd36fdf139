"""F3's time charts and F2's run chart, drawn from a fixed history the engine is given (no wall
clock, no randomness), and F1's score bars; plotext stays out of the app's import."""

from __future__ import annotations

import math
import subprocess
import sys

from support.gpus import fake_gpus
from support.tui import settle, start_fresh_ingest
from textual.widgets import Static

from roocode_tui.core.config import Settings
from roocode_tui.core.monitor.history import MetricHistory, RunRates
from roocode_tui.engine.local import LocalEngine
from roocode_tui.tui.app import create_app
from roocode_tui.tui.panes.index import IndexPane
from roocode_tui.tui.widgets.render import score_bar

NOW = 100_000.0  # the engine's monotonic clock, frozen
CHART_SIZE = (120, 60)  # every F3 chart on one screen


def fixed_history() -> MetricHistory:
    """Six hours of an embedding server at work: a GPU busy in waves, an index run in the last
    20 minutes, the engine down for half an hour 3 hours ago (a gap)."""
    h = MetricHistory(clock=lambda: NOW)
    h.facts["vram_total"] = 16.0
    t = NOW - 6 * 3600
    while t < NOW:
        age = NOW - t
        if not 9000 <= age < 10800:  # the gap
            wave = math.sin(t / 300.0)
            running = age < 1200
            h.add("gpu_util", 55 + 35 * wave if running else 8 + 4 * wave, t)
            h.add("vram_used", 13.5 + (0.8 if running else 0.0) + 0.2 * wave, t)
            h.add("vllm_running", 12 + 4 * wave if running else 0, t)
            h.add("vllm_waiting", max(0.0, 20 * wave) if running else 0, t)
            h.add("kv_cache", 40 + 25 * wave if running else 2, t)
            h.add("prompt_tokens_per_s", 9000 + 3000 * wave if running else 0, t)
            h.add("chunks_per_s", 28 + 9 * wave if running else 0, t)
            h.add("tokens_per_s", 8800 + 2900 * wave if running else 0, t)
            h.add("latency_p50", 180 + 60 * wave if running else 35, t)
            h.add("latency_p95", 420 + 150 * wave if running else 60, t)
        t += 1.0 if age <= 300 else 6.0  # the older hours sampled sparser: a quicker test
    return h


def fixed_rates() -> RunRates:
    rates = RunRates()
    for s in range(1, 1200):
        ramp = min(1.0, s / 60)
        rates.add(float(s), ramp * (28 + 9 * math.sin(s / 300.0)), ramp * (8800 + 2900 * math.sin(s / 300.0)))
    return rates


def app_with_history(settings: Settings):
    settings.tui.monitor_interval_s = 60  # one round of F3's readings: the second shows a rate
    app = create_app(settings, collection="demo", gpu_reader=fake_gpus)
    # a history given: no sampler (the GPUs are read when F3 or the status bar asks)
    app.connection.engine = LocalEngine(settings, history=fixed_history(), gpu_reader=fake_gpus)
    return app


def test_snapshot_monitor_charts(snap_compare, settings: Settings):
    app = app_with_history(settings)

    async def run_before(pilot) -> None:
        await settle(app, pilot)
        await pilot.press("f3")
        await settle(app, pilot)
        await pilot.pause()

    assert snap_compare(app, terminal_size=CHART_SIZE, run_before=run_before)


def test_snapshot_monitor_charts_over_six_hours(snap_compare, settings: Settings):
    app = app_with_history(settings)

    async def run_before(pilot) -> None:
        await settle(app, pilot)
        await pilot.press("f3")
        await settle(app, pilot)
        await pilot.press("t", "t")
        await settle(app, pilot)
        await pilot.pause()

    assert snap_compare(app, terminal_size=CHART_SIZE, run_before=run_before)


async def test_t_cycles_the_window_and_the_footer_names_it(settings: Settings):
    app = app_with_history(settings)
    async with app.run_test(size=CHART_SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f3")
        await settle(app, pilot)
        pane = app.query_one("#monitor-pane")
        assert len(pane.charts) == 7 and pane.last_history["window"] == "5m"
        assert app.screen.active_bindings["t"].binding.description == "Window"
        seen = []
        for _ in range(3):
            await pilot.press("t")
            await settle(app, pilot)
            header = str(app.query_one("#chart-header", Static).content)
            seen.append((pane.window, pane.last_history["window"], header.split(" · last ")[1].split("   ")[0]))
        assert seen == [("1h", "1h", "1 hour"), ("6h", "6h", "6 hours"), ("5m", "5m", "5 min")]
        gpu = pane.last_history["series"]["gpu_util"]
        assert gpu["unit"] == "%" and len(gpu["points"]) == 299  # the second now is not sampled yet


def test_snapshot_index_run_chart(snap_compare, settings: Settings):
    """F2: the run's tokens/s since its start against the best 12 s rate of the last hour."""
    app = app_with_history(settings)

    async def run_before(pilot) -> None:
        await settle(app, pilot)
        await start_fresh_ingest(app, pilot)
        await settle(app, pilot)
        p = app.ingest_progress
        p.elapsed, p.chunks_per_s, p.tokens_per_s, p.eta_s = 0.0, 0.0, 0.0, None  # frozen clock
        pane = app.query_one(IndexPane)
        pane.show(p)
        engine = app.connection.engine
        engine.sampler.rates[p.id] = fixed_rates()
        await pane.load_rates(engine, p.id)
        app.query_one("#index-collection").focus()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 40), run_before=run_before)


def test_score_bars_spread_between_the_sets_lowest_and_highest():
    assert score_bar(0.89, 0.86, 0.89) == "██████"
    assert score_bar(0.86, 0.86, 0.89) == "█░░░░░"
    assert score_bar(0.8825, 0.86, 0.89) == "█████░"  # three quarters up: 1 + round(3.75)
    assert score_bar(0.5, 0.5, 0.5) == "██████"  # one result, or all equal


def test_the_app_imports_no_plotext_until_a_chart_is_shown():
    code = "import sys, roocode_tui.tui.app; sys.exit(1 if 'plotext' in sys.modules else 0)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, "plotext was imported with the app"
