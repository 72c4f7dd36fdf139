"""Soak: the real TUI, headless, polling and indexing for ten minutes; is its memory flat?

    python bench/soak.py               # 10 minutes, writes the soak section of bench/RESULTS.md
    python bench/soak.py --minutes 1   # a quick look (prints only)

One process runs the app from ``create_app(settings)`` (the same as ``roocode-tui``), with the
rotating log set up as the CLI does. An embedding server whose timing follows vLLM's
(bench/gpu_server.py, 1024-d) runs in a separate process, so that only the app is measured.
Over the whole time:

- index runs follow each other back to back; before each, a few files are edited and one is
  deleted or brought back, so every run embeds, writes and deletes; every eighth is a
  zero-downtime rebuild (every file embedded again into a new index, then switched);
- the Monitor pane is shown most of the time and polls the engine every 0.5 s (its pipeline and
  store, and its sampler's latest readings: the server's /metrics and /health, read once a
  second, and the GPU: a synthetic reading, there is none here); the status bar's VRAM gauge
  asks the engine too;
- every ~10 s a search is typed into the Search pane, key by key, and its results awaited;
  now and then the Index pane is shown.

VmRSS and RssAnon (/proc/self/status) are sampled every 2 s by a thread.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from sections import machine, write_section  # noqa: E402

MODEL = "bench/gpu-timed"
STDLIB = Path(sysconfig.get_paths()["stdlib"])
QUERIES = [
    "parse the command line arguments",
    "read a zip archive member",
    "format a date as ISO 8601",
    "split a shell command into words",
    "compare two sequences of lines",
    "retry a failed HTTP request",
]
FLAT_END = 1.15  # end VmRSS at most this times the warm-up VmRSS
FLAT_TREND = 0.10  # RssAnon's floor may grow this share of its warm-up level from warm-up to the end


def status_kb() -> tuple[int, int]:
    """(VmRSS, RssAnon) of this process in kB."""
    values = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon"):
                values[key] = int(rest.split()[0])
    return values["VmRSS"], values["RssAnon"]


class Sampler(threading.Thread):
    def __init__(self, every_s: float):
        super().__init__(daemon=True, name="rss-sampler")
        self.every_s = every_s
        self.samples: list[tuple[float, int, int]] = []  # (seconds since start, VmRSS kB, RssAnon kB)
        self.started = time.monotonic()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            rss, anon = status_kb()
            self.samples.append((time.monotonic() - self.started, rss, anon))
            self.stop.wait(self.every_s)


def make_corpus(dest: Path, files: int) -> dict[Path, str]:
    """Standard-library sources (real text), the biggest first up to ``files``, under 60 kB each."""
    dest.mkdir(parents=True)
    picked: list[Path] = []
    for dp, dn, fn in os.walk(STDLIB):
        dn[:] = sorted(d for d in dn if d not in ("site-packages", "test", "tests", "__pycache__", "idlelib"))
        picked.extend(Path(dp) / f for f in sorted(fn) if f.endswith(".py"))
    picked = [p for p in picked if 8_000 < p.stat().st_size < 60_000][:files]
    originals = {}
    for i, src in enumerate(picked):
        target = dest / f"pkg{i % 8}" / src.name
        target.parent.mkdir(exist_ok=True)
        text = src.read_text(encoding="utf-8", errors="replace")
        target.write_text(text)
        originals[target] = text
    return originals


def edit(originals: dict[Path, str], rng: random.Random, run_no: int) -> None:
    """A few files get a new revision line (their other chunks are reused); one is deleted or restored."""
    files = sorted(originals)
    for path in rng.sample(files, k=5):
        text = originals[path]
        lines = text.split("\n")
        at = rng.randrange(len(lines))
        lines.insert(at, f"# soak revision {run_no}: {rng.choice(QUERIES)}")
        path.write_text("\n".join(lines))
    gone = [p for p in files if not p.exists()]
    if gone and rng.random() < 0.6:
        gone[0].write_text(originals[gone[0]])
    else:
        rng.choice([p for p in files if p.exists()]).unlink()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int) -> subprocess.Popen[bytes]:
    import httpx

    proc = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "gpu_server.py"),
            "--port",
            str(port),
            "--tokens-per-s",
            "100000",
            "--step-ms",
            "10",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("bench/gpu_server.py did not start")
        time.sleep(0.1)


def fake_gpus(counter: list[int]) -> Any:
    from roocode_tui.core.monitor.gpu import GpuInfo, GpuProcess

    def read() -> tuple[list[Any], str]:
        counter[0] += 1
        used = (8 + 4 * random.random()) * 2**30
        proc = GpuProcess(4242, "vllm", int(used))
        return [GpuInfo(0, "synthetic GPU", 100 * random.random(), int(used), 16 * 2**30, 60.0, 200.0, (proc,))], ""

    return read


async def soak(work: Path, seconds: float) -> dict[str, Any]:
    from textual.widgets import Input

    from roocode_tui.core.config import EmbedderSettings, EngineSettings, Settings, StoreSettings, TuiSettings
    from roocode_tui.core.security import setup_logging
    from roocode_tui.tui.app import create_app
    from roocode_tui.tui.panes.index import IndexPane
    from roocode_tui.tui.panes.search import SearchPane

    rng = random.Random(8)
    originals = make_corpus(work / "corpus", 160)
    port = free_port()
    server = start_server(port)
    settings = Settings(
        embedder=EmbedderSettings(
            provider="openai", base_url=f"http://127.0.0.1:{port}/v1", model=MODEL, batch_size=32, max_concurrency=4
        ),
        store=StoreSettings(path=work / "data"),
        collections=[{"name": "soak", "paths": [work / "corpus"]}],
        tui=TuiSettings(monitor_interval_s=0.5),
        engine=EngineSettings(enabled=False),  # the whole app in one process, as measured before the engine
    )
    log_path = setup_logging(settings)
    gpu_polls = [0]
    app = create_app(settings, collection="soak", gpu_reader=fake_gpus(gpu_polls))
    runs = {"incremental": 0, "rebuild": 0, "failed": 0}
    searches: list[float] = []
    failed_searches = 0
    try:
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await app.workers.wait_for_complete()
            pane = app.query_one(SearchPane)
            query = app.query_one("#query", Input)
            app.action_show_pane("monitor")
            started = time.monotonic()
            next_search = started + 10
            run_no = 0
            while time.monotonic() - started < seconds:
                if not app.ingest_running():
                    p = app.ingest_progress
                    if p is not None:
                        runs["failed" if p.phase == "failed" else "rebuild" if p.rebuild else "incremental"] += 1
                    if run_no:
                        edit(originals, rng, run_no)
                    pane_now = app.query_one("#panes").active
                    app.index_pane.action_start_ingest(rebuild=run_no % 8 == 7)
                    run_no += 1
                    app.action_show_pane(pane_now)  # starting a run shows F2: go back where we were
                if time.monotonic() >= next_search:
                    app.action_show_pane("search")
                    query.value = ""
                    pane.last_search_ms = None
                    for ch in rng.choice(QUERIES):
                        await pilot.press("space" if ch == " " else ch)
                        await pilot.pause(0.04)
                    deadline = time.monotonic() + 30
                    while pane.last_search_ms is None and time.monotonic() < deadline:
                        await pilot.pause(0.05)
                    if pane.last_search_ms is None:
                        failed_searches += 1
                    else:
                        searches.append(pane.last_search_ms)
                    await pilot.pause(1.0)  # read the results
                    app.action_show_pane("index" if len(searches) % 5 == 0 else "monitor")
                    next_search = time.monotonic() + 10
                await pilot.pause(0.25)
            # what the accumulators hold at the end
            from textual.widgets import RichLog

            from roocode_tui.tui.panes.monitor import MonitorPane

            monitor = app.query_one(MonitorPane)
            engine = app.connection.engine
            charted = (monitor.last_history or {}).get("series", {})  # the engine's history, as F3 drew it last
            held = {
                "F2 log lines": len(app.query_one("#index-log", RichLog).lines),
                "progress log": len(app.ingest_progress.log) if app.ingest_progress else 0,
                "chart points (VRAM, tokens/s, chunks/s)": ", ".join(
                    str(len(charted.get(name, {}).get("points", [])))
                    for name in ("vram_used", "tokens_per_s", "chunks_per_s")
                ),
                "latency samples": len(engine._embedder.stats.latencies_s),
                "notifications": len(app._notifications),
                "workers": len(app.workers),
            }
            store, _ = await engine.backends()
            points = await store.count("soak")
            if app.ingest_progress is not None:
                app.query_one(IndexPane).cancel_run(app.ingest_progress.id)
            await pilot.pause(0.5)
    finally:
        server.kill()
        server.wait()
    return {
        "runs": runs,
        "searches": searches,
        "failed_searches": failed_searches,
        "gpu_polls": gpu_polls[0],
        "held": held,
        "points": points,
        "files": len(originals),
        "log_bytes": sum(f.stat().st_size for f in log_path.parent.glob(log_path.name + "*")) if log_path else 0,
    }


def slope_per_s(samples: list[tuple[float, int, int]], column: int) -> float:
    xs = [s[0] for s in samples]
    ys = [s[column] for s in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def floors(samples: list[tuple[float, int, int]], start_s: float) -> list[tuple[float, int]]:
    """(window start, lowest RssAnon) of each window from start_s on: the level between the runs' peaks.

    RssAnon is a sawtooth (a run, a rebuild above all, holds its batches and segments while it
    lasts); what leaks raises the floor, what a run holds for a while does not."""
    end = samples[-1][0]
    span = min(60.0, max(10.0, (end - start_s) / 4))
    out = []
    t = start_s
    while t + span <= end + 1e-6:
        window = [x[2] for x in samples if t <= x[0] < t + span]
        if window:
            out.append((t, min(window)))
        t += span
    return out


def judge(samples: list[tuple[float, int, int]], warmup_s: float) -> dict[str, Any]:
    at_warm = min(samples, key=lambda s: abs(s[0] - warmup_s))
    end = samples[-1]
    levels = floors(samples, at_warm[0])
    growth = 0.0
    if len(levels) >= 2:
        fit = slope_per_s([(t, 0, kb) for t, kb in levels], 2)
        growth = fit * (levels[-1][0] - levels[0][0])
    base = levels[0][1] if levels else at_warm[2]
    end_ratio = end[1] / at_warm[1]
    return {
        "warm_s": at_warm[0],
        "warm_rss": at_warm[1],
        "warm_anon": at_warm[2],
        "end_s": end[0],
        "end_rss": end[1],
        "end_anon": end[2],
        "max_rss": max(s[1] for s in samples),
        "max_anon": max(s[2] for s in samples),
        "end_ratio": end_ratio,
        "floors": levels,
        "floor_growth_kb": growth,
        "flat": end_ratio <= FLAT_END and growth <= FLAT_TREND * base,
    }


def mb(kb: float) -> str:
    return f"{kb / 1024:,.0f} MB"


def report(minutes: float, result: dict[str, Any], v: dict[str, Any], samples: list[Any], took: float) -> str:
    rule = (
        f"flat when the end VmRSS is at most {FLAT_END}x the warm-up VmRSS and RssAnon does not trend up: "
        "its floor (the lowest sample of each minute from warm-up on, shorter windows in short runs: "
        "the level between the runs' peaks) grows "
        f"by at most {FLAT_TREND:.0%} of its first value from warm-up to the end (least-squares line)"
    )
    verdict = "**flat**" if v["flat"] else "**not flat**"
    s = result["searches"]
    runs = result["runs"]
    lines = [
        f"## Soak: the TUI polling and indexing for {minutes:g} minutes (`make soak`)",
        "",
        f"Machine: {machine()}. Took {took:.0f} s. The real app (`create_app`), headless at 100x30, with the "
        "rotating log; bench/gpu_server.py (100,000 tokens/s, step 10 ms, 1024-d) in its own process. "
        f"{result['files']} standard-library files, a few edited (one deleted or restored) before each run.",
        "",
        "| what | figure |",
        "|---|---|",
        f"| VmRSS after warm-up (at {v['warm_s']:.0f} s) | {mb(v['warm_rss'])} (RssAnon {mb(v['warm_anon'])}) |",
        f"| VmRSS at the end ({v['end_s']:.0f} s) | {mb(v['end_rss'])} (RssAnon {mb(v['end_anon'])}): "
        f"{v['end_ratio']:.2f}x the warm-up |",
        f"| VmRSS max | {mb(v['max_rss'])} (RssAnon max {mb(v['max_anon'])}) |",
        f"| RssAnon floor from warm-up to the end (least-squares line) | {v['floor_growth_kb'] / 1024:+,.1f} MB "
        f"({', '.join(mb(kb).removesuffix(' MB') for _, kb in v['floors'])} MB) |",
        f"| verdict | {verdict}: {rule} |",
        f"| index runs, back to back | {runs['incremental']} incremental + {runs['rebuild']} zero-downtime rebuilds"
        f" finished ({runs['failed']} failed); {result['points']:,} points at the end |",
        f"| searches typed | {len(s)}"
        + (f", median {statistics.median(s):.0f} ms" if s else "")
        + f" ({result['failed_searches']} without an answer) |",
        f"| GPU readings (the engine's sampler, once a second) | {result['gpu_polls']:,} |",
        f"| held at the end | {'; '.join(f'{k} {v}' for k, v in result['held'].items())} |",
        f"| rotating log on disk | {result['log_bytes'] / 1e6:.2f} MB (at most 4 files of 2 MB) |",
        "",
        "VmRSS (MB) by minute: "
        + ", ".join(
            f"{mb(min(samples, key=lambda x, m=m: abs(x[0] - 60 * m))[1]).removesuffix(' MB')}"
            for m in range(0, int(samples[-1][0] // 60) + 1)
        ),
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description="TUI soak: polling and indexing; is RSS flat?")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--sample-s", type=float, default=2.0)
    ap.add_argument(
        "--write",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write the soak section of bench/RESULTS.md (default: for runs of 10 minutes or more)",
    )
    a = ap.parse_args()
    seconds = a.minutes * 60
    warmup_s = min(60.0, seconds / 4)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="roocode-soak-") as tmp:
        work = Path(tmp)
        os.environ["HOME"] = str(work / "home")
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            os.environ.pop(var, None)
        sampler = Sampler(a.sample_s)
        sampler.start()
        print(f"soak: {a.minutes:g} minutes of the TUI polling and indexing", flush=True)
        result = asyncio.run(soak(work, seconds))
        sampler.stop.set()
        sampler.join()
    took = time.monotonic() - started
    verdict = judge(sampler.samples, warmup_s)
    text = report(a.minutes, result, verdict, sampler.samples, took)
    print(text, flush=True)
    if a.write or (a.write is None and a.minutes >= 10):
        write_section("soak", text)
        print(f"wrote the soak section of {HERE / 'RESULTS.md'}", flush=True)


if __name__ == "__main__":
    main()
