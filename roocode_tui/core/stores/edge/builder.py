"""A search-index build that fits the box: how much memory it may take
(``engine.build_memory_mb``), how it is split to stay within that, and the build process run
and fed (``core/stores/edge_build.py``).

Measured on 50,000 1024-d float16 hybrid points of 800-character chunks: a build process that
loads a copy of the collection and indexes it at once peaked at 657 MB (~13 KB a point: the
copy it loaded, its log of writes, the points written again to the new segment, their indexes).
Streamed from the engine and indexed ``piece`` points at a time, the process holds one piece
at a time plus a little for the pieces built: 511 MB in one piece, 313 MB in two, 165 MB in
five. A build that cannot fit even the smallest useful piece waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import math
import sys
from collections.abc import Callable
from typing import Any

from roocode_tui.core.errors import StoreError

#: Points a page sent to the build process holds: the engine reads and packs it holding the
#: interpreter (~70 us a point), so a page keeps a search waiting at most ~10 ms.
PAGE_POINTS = 128
#: The engine lets go of the pages of its mapped files it read for the build this often. The
#: points come in id order, which is random in the files (ids are content hashes), and each
#: point read maps the 64 KB around it (the kernel's fault-around): at 4,096 points the engine
#: held ~280 MB of a 129k-point collection's files by the end of a stream; a release costs
#: 2-5 ms, against ~35 ms to read 512 points.
RELEASE_POINTS = 512
#: The build process before any point: the interpreter, Qdrant Edge and its thread pools.
BASE_MB = 60
#: Per point of the piece being indexed, beyond its vector: the payload and keyword vector
#: written twice (the piece's segment and the one the optimizer builds from it), their
#: in-memory indexes, the graph. Measured at 1024-d float16 with 800-character chunks.
POINT_OVERHEAD_B = 5_100
#: Per point of the pieces built before: the segments' id maps and what their indexes keep in
#: memory (their keyword indexes stay in their files, read through the page cache).
BUILT_B = 500
#: The copy build loads every point of the copy (its segments' indexes, the log of writes).
COPY_LOAD_B = 2_800


@dataclasses.dataclass
class BuildPlan:
    """How a collection's search index will be built, or why it waits."""

    points: int
    unindexed: int
    budget_mb: int  # 0: no budget
    piece: int = 0  # points per segment of a streamed build; 0: a copy of the shard, optimized whole
    pieces: int = 1
    need_mb: int = 0  # the build process's estimated peak
    deferred: str = ""  # why it waits ("" when it runs)
    low_memory: bool = False  # deferred for the memory available now, not the budget: try again later

    @property
    def how(self) -> str:
        """``deferred``, ``split`` (a streamed build of several pieces) or ``whole``."""
        if self.deferred:
            return "deferred"
        return "split" if self.pieces > 1 else "whole"

    def describe(self) -> str:
        if self.deferred:
            return f"deferred: {self.deferred}"
        budget = f", budget {self.budget_mb} MB" if self.budget_mb else ""
        if self.pieces > 1:
            return f"split into {self.pieces} pieces of {self.piece:,} points (about {self.need_mb} MB{budget})"
        return f"whole (about {self.need_mb} MB{budget})"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"how": self.how, "pieces": self.pieces, "need_mb": self.need_mb}
        if self.budget_mb:
            out["budget_mb"] = self.budget_mb
        if self.deferred:
            out["deferred"] = self.deferred
        return out


def point_bytes(dimension: int, width: int) -> int:
    """What one point costs a build process while its piece is indexed: the vector twice (the
    segment written, the one built) and the rest (``POINT_OVERHEAD_B``)."""
    return 2 * dimension * width + POINT_OVERHEAD_B


def piece_mb(points: int, piece: int, per: int) -> int:
    """A streamed build's peak: the last piece indexed beside every piece built before it."""
    return BASE_MB + (piece * per + max(0, points - piece) * BUILT_B) // (1 << 20)


def min_piece(dimension: int, width: int, threshold_kb: int) -> int:
    """The smallest piece worth indexing: Qdrant leaves a segment with less vector data than its
    indexing threshold unindexed (a search scans it), so smaller pieces would gain nothing."""
    return max(1, math.ceil(threshold_kb * 1024 / max(1, dimension * width)))


def plan_build(
    *,
    points: int,
    unindexed: int,
    dimension: int,
    width: int,
    budget_mb: int,
    available_mb: int | None,
    threshold_kb: int,
) -> BuildPlan:
    """The cheapest way to build that fits ``budget_mb`` and the memory available now.

    - *whole*: a copy of the shard, optimized in one go; only the unindexed points are indexed,
      but the copy is loaded whole. Chosen when it fits (a collection built before, a few
      thousand points written since).
    - *split*: the points streamed to a new shard, indexed ``piece`` at a time, the piece as
      big as the budget allows (bigger pieces: fewer segments, faster searches).
    - *deferred*: not even the smallest useful piece fits the budget, or the machine has less
      memory available than the build needs; the engine tries again later.
    """
    per = point_bytes(dimension, width)
    copy_mb = BASE_MB + (points * COPY_LOAD_B + unindexed * per) // (1 << 20)
    room = budget_mb if budget_mb > 0 else None
    if available_mb is not None:
        room = available_mb if room is None else min(room, available_mb)
    base = BuildPlan(points=points, unindexed=unindexed, budget_mb=budget_mb)
    if room is None or copy_mb <= room:
        return dataclasses.replace(base, need_mb=copy_mb)
    smallest = min_piece(dimension, width, threshold_kb)
    piece = max(0, ((room - BASE_MB) * (1 << 20) - points * BUILT_B) // max(1, per - BUILT_B))
    if piece < smallest:
        need = piece_mb(points, smallest, per)
        if budget_mb > 0 and need > budget_mb:
            why = f"the smallest build needs about {need} MB, engine.build_memory_mb is {budget_mb}"
            return dataclasses.replace(base, need_mb=need, deferred=why)
        why = f"{available_mb} MB of memory available, the build needs about {need} MB"
        return dataclasses.replace(base, need_mb=need, deferred=why, low_memory=True)
    piece = min(piece, max(points, 1))
    pieces = max(1, math.ceil(points / piece))
    even = math.ceil(points / pieces)  # even pieces, unless that makes them too small to index
    piece = even if even >= smallest else piece
    need = piece_mb(points, piece, per)
    return dataclasses.replace(base, piece=piece, pieces=pieces, need_mb=need)


def available_mb() -> int | None:
    """The memory the machine (or its container) can give without swapping: MemAvailable, and
    the cgroup's limit less its usage where one is set. None where it cannot be read."""
    found: list[int] = []
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) // 1024)
                break
    with contextlib.suppress(OSError, ValueError):
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as fh:
            limit = fh.read().strip()
        if limit != "max":
            with open("/sys/fs/cgroup/memory.current", encoding="ascii") as fh:
                used = int(fh.read().strip())
            found.append(max(0, int(limit) - used) // (1 << 20))
    return min(found) if found else None


async def run_build(store: Any, build: Any, progress: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Run the build process on ``build`` (``EdgeStore.begin_index_build``): feed it the points
    when it streams, pass on its progress lines, and return its last line
    (``{"optimized", "seconds", "max_rss_mb", "pieces"}``). Killed if cancelled."""
    args = [sys.executable, "-m", "roocode_tui.core.stores.edge_build", str(build.target)]
    if build.streamed:
        args += ["--stream", "--piece", str(build.piece)]
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.PIPE if build.streamed else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    lines: list[dict[str, Any]] = []

    async def read_out() -> None:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            with contextlib.suppress(ValueError):
                line = json.loads(raw)
                lines.append(line)
                if progress is not None and "piece" in line:
                    progress(line)

    async def read_err() -> bytes:
        assert proc.stderr is not None
        return await proc.stderr.read()

    reader, errors = asyncio.create_task(read_out()), asyncio.create_task(read_err())
    try:
        if build.streamed:
            await _feed(store, build, proc)
        await proc.wait()
        await reader
        err = await errors
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            with contextlib.suppress(Exception):
                await asyncio.shield(proc.wait())
        reader.cancel()
        errors.cancel()
        raise
    if proc.returncode != 0 or not lines or "optimized" not in lines[-1]:
        why = (err.decode(errors="replace").strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        raise StoreError(f"the index build failed: {why}")
    return lines[-1]


async def _feed(store: Any, build: Any, proc: Any) -> None:
    """Send the collection's points to the build process, a page at a time; the pipe's own
    back-pressure keeps the engine no further ahead than the process's reading."""
    import pickle

    stdin = proc.stdin
    offset, unreleased = None, 0
    release = getattr(store, "release_pages", None)
    try:
        while True:
            blob, offset, n = await store.index_build_page(build, offset, PAGE_POINTS)
            stdin.write(blob)
            await stdin.drain()
            unreleased += n
            if release is not None and unreleased >= RELEASE_POINTS:
                await asyncio.to_thread(release)  # the pages of the shard this read mapped in
                unreleased = 0
            if offset is None:
                break
        stdin.write(pickle.dumps(None))
        await stdin.drain()
        stdin.close()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the process ended early: its exit status and message tell why
    if release is not None and unreleased:
        await asyncio.to_thread(release)
