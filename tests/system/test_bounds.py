"""Everything that accumulates over a long session is bounded: push far more than fits, check the cap.

The soak benchmark (bench/soak.py) shows the sum of these as flat RSS; these tests pin each one.
"""

from __future__ import annotations

import logging
from pathlib import Path

import platformdirs
import pytest
from support.paths import REPO
from textual.widgets import RichLog

from roocode_tui.core.config import APP_NAME, Settings
from roocode_tui.core.embedders.base import EmbedderStats
from roocode_tui.core.ingest.progress import MAX_ERRORS, MAX_LOG, IngestProgress
from roocode_tui.core.monitor.history import MetricHistory, RunRates
from roocode_tui.core.monitor.metrics import VllmMonitor
from roocode_tui.core.security import LOG, setup_logging
from roocode_tui.tui.app import create_app
from roocode_tui.tui.panes.index import IndexPane

MANY = 50_000


def test_progress_keeps_counts_in_full_and_problems_bounded():
    p = IngestProgress(collection="c")
    for i in range(MANY):
        p.skip(f"skipped/{i}.bin", f"binary file (NUL bytes) #{i}")
        p.fail(f"failed/{i}.md", f"HTTP 400: bad input #{i}")
    assert p.files_skipped == MANY and p.files_failed == MANY  # counts are exact
    assert len(p.log) == MAX_LOG
    assert len(p.errors) == MAX_ERRORS < MANY
    assert p.errors[0].path == "failed/0.md"  # the first failures are the ones kept
    assert len(p.skip_reasons) == 1  # reasons are grouped, not kept per file
    report = p.report()
    assert len(report["errors"]) == MAX_ERRORS and report["errors_omitted"] == MANY - MAX_ERRORS
    assert "errors_omitted" not in IngestProgress(collection="c").report()


def test_embedder_latency_history_is_bounded():
    stats = EmbedderStats()
    for _ in range(MANY):
        stats.record(0.0, 8)
    assert stats.requests == MANY and len(stats.latencies_s) <= 512


def test_vllm_rate_history_is_bounded():
    mon = VllmMonitor("http://127.0.0.1:1/v1")
    for i in range(MANY // 10):
        mon.reading(True, f"vllm:prompt_tokens_total {i * 100}\n", now=float(i))
    assert len(mon.history) == 300


def test_rotating_log_stays_within_its_files(tmp_path: Path):
    setup_logging(Settings())
    try:
        line = "x" * 1000
        for _ in range(12_000):  # 12 MB written, four times what the files hold
            LOG.info(line)
        directory = Path(platformdirs.user_state_dir(APP_NAME))
        files = sorted(directory.glob("roocode-tui.log*"))
        handler = LOG.handlers[0]
        assert isinstance(handler, logging.handlers.RotatingFileHandler)
        assert len(files) == handler.backupCount + 1
        assert sum(f.stat().st_size for f in files) <= (handler.backupCount + 1) * (handler.maxBytes + 2000)
    finally:
        for handler in LOG.handlers:
            handler.close()
        LOG.handlers.clear()


def test_the_engines_metric_history_and_run_rates_are_bounded():
    """F3's and F2's charts read the engine's history (core/history.py): a fixed size, however
    long the engine runs or a run lasts."""
    history = MetricHistory(clock=lambda: 0.0)
    size = history.nbytes()
    for t in range(0, 3 * 6 * 3600, 3):  # three times the longest window
        for name in history.series:
            history.add(name, float(t % 97), float(t))
    assert history.nbytes() == size < 400_000
    rates = RunRates()
    for s in range(MANY):
        rates.add(float(s), 1.0, 100.0)
    assert len(rates.points) < rates.limit


async def test_index_log_is_bounded(tmp_path: Path):
    app = create_app(Settings(), gpu_reader=lambda: ([], "none"))
    async with app.run_test(size=(100, 30)) as pilot:
        p = IngestProgress(collection="c", phase="indexing")
        pane = app.query_one(IndexPane)
        log = app.query_one("#index-log", RichLog)

        def problems(round_no: int) -> None:
            for i in range(200):
                p.skip(f"r{round_no}/skipped{i}.bin", "binary file")
                p.fail(f"r{round_no}/failed{i}.md", "HTTP 400")
            pane.show(p)

        for round_no in range(30):  # a run watched from another pane: F2 was never opened
            problems(round_no)
        assert len(log._deferred_renders) == 0  # nothing piles up in the hidden log
        app.action_show_pane("index")
        await pilot.pause()
        await pilot.pause()
        assert len(log.lines) == MAX_LOG  # what p.log kept, written once the pane is in view
        assert "r29/failed199.md" in log.lines[-1].text
        for round_no in range(30, 60):  # and while it is shown
            problems(round_no)
        await pilot.pause()
        assert len(log.lines) == log.max_lines
        assert "r59/failed199.md" in log.lines[-1].text


def test_freed_memory_goes_back_to_the_system():
    """Transient work (an index run, a rebuild) frees memory that malloc keeps unless asked to give it back."""
    import sys

    import numpy as np
    import pytest

    from roocode_tui.core.memory import release_freed_memory

    def anon_kb() -> int:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("RssAnon:"))

    if not sys.platform.startswith("linux") or not release_freed_memory():
        pytest.skip("malloc_trim is glibc's")
    blocks = [np.ones(2048, dtype=np.uint8) for _ in range(60_000)]  # ~120 MB in small heap blocks
    keep = blocks[::64]  # a few stay alive between the freed ones: the heap cannot shrink from its top
    del blocks
    before = anon_kb()
    assert release_freed_memory()
    after = anon_kb()
    assert before - after > 50_000, (before, after)
    del keep


ALLOCATOR_PROBE = """
import ctypes, json, sys, threading
sys.path.insert(0, {repo!r})
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
class Info(ctypes.Structure):
    names = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
    _fields_ = [(n, ctypes.c_size_t) for n in names.split()]
libc.mallinfo2.restype = Info
libc.fdopen.restype = ctypes.c_void_p
libc.fdopen.argtypes = [ctypes.c_int, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
if {tune!r}:
    from roocode_tui.core.memory import tune_allocator
    assert tune_allocator()
# a big block freed: glibc's default raises its mmap threshold to that size
libc.free(libc.malloc(8 << 20))
before = libc.mallinfo2().hblks
block = libc.malloc(1 << 20)
mmapped = libc.mallinfo2().hblks - before
# eight threads allocating at once: by default each gets a heap (arena) of its own
barrier = threading.Barrier(9)
def worker():
    keep = libc.malloc(64 << 10)
    barrier.wait()
    barrier.wait()
    libc.free(keep)
threads = [threading.Thread(target=worker) for _ in range(8)]
for t in threads:
    t.start()
barrier.wait()
libc.fflush(None)
import os, tempfile
with tempfile.TemporaryFile() as tmp:
    fp = libc.fdopen(os.dup(tmp.fileno()), b"w")
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    tmp.seek(0)
    heaps = tmp.read().decode().count("<heap nr=")
barrier.wait()
for t in threads:
    t.join()
print(json.dumps({{"mmapped": mmapped, "heaps": heaps}}))
"""


def test_the_allocator_keeps_big_blocks_out_of_the_heaps_and_few_arenas():
    """glibc's defaults let a long-lived process fragment: after a big block is freed, blocks that
    size come from the heaps, and every thread gets a heap of its own. roocode-tui fixes both at
    start-up (core/memory.py); bench/soak.py shows the effect on RSS."""
    import json
    import os
    import subprocess
    import sys

    import pytest

    from roocode_tui.core.memory import ARENA_MAX

    if not sys.platform.startswith("linux"):
        pytest.skip("mallopt is glibc's")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    repo = str(REPO)

    def probe(tune: bool) -> dict[str, int]:
        script = ALLOCATOR_PROBE.format(repo=repo, tune=tune)
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    default, tuned = probe(False), probe(True)
    assert default["mmapped"] == 0 and default["heaps"] > ARENA_MAX  # what glibc does unless told
    assert tuned["mmapped"] == 1  # a 1 MiB block is mmapped, so it goes back to the system when freed
    assert tuned["heaps"] <= ARENA_MAX


@pytest.mark.slow
async def test_switching_panes_leaves_no_old_footer_keys_behind():
    """Every focus or pane change rebuilds the footer's keys. Textual's Footer binds each key to its
    ``compact`` reactive, and that watcher list kept every key ever shown (with its styles and
    caches): the soak's memory grew by ~2 MB a minute from this alone."""
    import gc

    from textual.widgets._footer import FooterKey

    def footer_keys() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if isinstance(o, FooterKey))

    app = create_app(Settings(), gpu_reader=lambda: ([], "none"))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        for pane in ("index", "monitor", "collections", "search") * 2:  # settle: every pane composed once
            app.action_show_pane(pane)
            await pilot.pause()
        before = footer_keys()
        for _ in range(4):
            for pane in ("index", "monitor", "collections", "search"):
                app.action_show_pane(pane)
                await pilot.pause()
                await pilot.pause()
        after = footer_keys()
        shown = len(app.query(FooterKey))
        assert shown > 0
        assert after <= before + shown, f"{after - before} footer keys left behind by 16 pane switches"
