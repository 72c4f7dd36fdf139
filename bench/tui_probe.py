"""TUI figures for the benchmark: first paint, event-loop lag under ingest, search latency.

python bench/tui_probe.py WORKDIR      prints one JSON line
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

# One start of the real command (the console script's entry, no arguments), timed to the first
# frame: the app is patched as the command imports it (importing it here first would change the
# start being measured), and its first after-refresh callback writes the time and quits.
PAINT = """
import importlib.machinery, os, sys, time
sys.path.insert(0, {repo!r})


def patch(module):
    original = module.RoocodeApp.on_mount

    def on_mount(self):
        original(self)

        def painted():
            with open(os.environ["PAINT_FILE"], "w") as fh:  # Textual captures print()
                fh.write("PAINTED %f" % time.time())
            self.exit(0)

        self.call_after_refresh(painted)

    module.RoocodeApp.on_mount = on_mount


class Patcher:
    def find_spec(self, name, path, target=None):
        if name != "roocode_tui.tui.app":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            patch(module)

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, Patcher())
sys.argv = ["roocode-tui"]
from roocode_tui.entry import main
main()
"""
STARTS = 10


def first_paint(work: Path) -> list[float]:
    """Seconds from the process's start to the app's first frame, for STARTS starts (sorted), after
    one untimed start. Each start has a terminal of its own (a pseudo-terminal, 100x30: without
    one, Textual starts at rich's 80x25 and then lays everything out again at the driver's 80x24).
    Bytecode is written on the untimed start, as an installed package has it (pip compiles it;
    this machine sets PYTHONDONTWRITEBYTECODE, which would compile every module on every start:
    ~0.04 s more)."""
    env = dict(os.environ, HOME=str(work / "paint-home"), TERM="xterm-256color")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    took = []
    for i in range(STARTS + 1):
        mark = work / "painted.txt"
        mark.unlink(missing_ok=True)
        started = time.time()
        _in_a_terminal([sys.executable, "-c", PAINT.format(repo=str(HERE.parent))], {**env, "PAINT_FILE": str(mark)})
        line = mark.read_text().strip() if mark.exists() else None
        if line is None:
            raise RuntimeError("the app did not paint")
        if i:
            took.append(float(line.split()[1]) - started)
    return sorted(took)


def _in_a_terminal(cmd: list[str], env: dict[str, str], timeout: float = 60) -> None:
    """Run cmd on a pseudo-terminal of 100x30, reading (and dropping) what it draws."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 1.0)[0]:
                try:
                    if not os.read(master, 65536):
                        break
                except OSError:  # EIO: the command has closed the terminal
                    break
            elif proc.poll() is not None:
                break
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


async def responsiveness(work: Path) -> dict[str, float]:
    from run import MODEL, Server, make_corpus

    from roocode_tui.core.config import EmbedderSettings, EngineSettings, Settings, StoreSettings
    from roocode_tui.tui.app import create_app

    corpus = work / "tui-corpus"
    make_corpus(corpus, 3_000_000)
    srv = Server(100_000, 10.0)
    settings = Settings(
        embedder=EmbedderSettings(
            provider="openai", base_url=srv.url, model=MODEL, batch_size=32, max_concurrency=4, query_priority=-10
        ),
        store=StoreSettings(path=work / "tui-data"),
        collections=[{"name": "bench", "paths": [corpus]}],
        engine=EngineSettings(enabled=False),  # the in-process path: what the first-paint figure measured
    )
    app = create_app(settings, collection="bench", gpu_reader=lambda: ([], "bench"))
    lags: list[float] = []
    result: dict[str, float] = {}
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        # a small collection to search while the big one is indexed
        small = work / "tui-small"
        make_corpus(small, 20_000)
        store, embedder = await (await app.connection.get_engine()).backends()
        from roocode_tui.core.ingest.indexer import Indexer

        await Indexer(store, embedder, "small", [small]).run()

        from textual.widgets import Input
        from textual.worker import WorkerCancelled

        from roocode_tui.tui.panes.search import SearchPane

        pane = app.query_one(SearchPane)
        query = app.query_one("#query", Input)

        async def typed_search() -> float:
            """Type a query at a brisk human pace; the search's own time after the debounce."""
            query.focus()
            query.value = ""
            await pilot.pause(0.05)
            pane.last_search_ms = None
            for ch in "parse the command line arguments":
                await pilot.press("space" if ch == " " else ch)
                await pilot.pause(0.06)
            while pane.last_search_ms is None:
                await pilot.pause(0.01)
            return pane.last_search_ms

        app.active = "small"
        idle = sorted([await typed_search() for _ in range(7)])[3]
        expected = 0.01
        last = time.perf_counter()

        def probe() -> None:
            nonlocal last
            now = time.perf_counter()
            lags.append(max(0.0, (now - last - expected) * 1000))
            last = now

        timer = app.set_interval(expected, probe)
        app.query_one("#index-collection").value = "bench"
        app.active = "bench"
        app.index_pane.action_start_ingest()
        await pilot.pause(1.5)
        app.active = "small"
        app.action_show_pane("search")
        busy = []
        while app.ingest_progress is not None and app.ingest_progress.active and len(busy) < 7:
            busy.append(await typed_search())
            await pilot.pause(2.5)  # the ingest runs at full speed again between searches
        app.workers.cancel_all()  # enough seen: stop the ingest (a cancelled run keeps what it wrote)
        with contextlib.suppress(WorkerCancelled):
            await app.workers.wait_for_complete()
        timer.stop()
        lags.sort()
        result = {
            "lag_p99_ms": lags[int(len(lags) * 0.99) - 1] if lags else 0.0,
            "lag_max_ms": lags[-1] if lags else 0.0,
            "idle_search_ms": idle,
            "busy_search_ms": sorted(busy)[len(busy) // 2] if busy else float("nan"),
            "ingest_chunks_per_s": app.ingest_progress.chunks_per_s,
        }
    srv.close()
    return result


def main() -> None:
    work = Path(sys.argv[1])
    work.mkdir(parents=True, exist_ok=True)
    os.environ["HOME"] = str(work / "home")
    paints = first_paint(work)
    figures: dict[str, Any] = dict(asyncio.run(responsiveness(work)))
    figures["first_paint_s"] = statistics.median(paints)
    figures["first_paint_all_s"] = paints
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
