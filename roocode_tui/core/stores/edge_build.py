"""Build an embedded shard's search index (HNSW), in a process of its own.

Two ways, chosen by the engine to fit ``engine.build_memory_mb`` (``core/stores/edge/builder.py``):

``python -m roocode_tui.core.stores.edge_build SHARD_DIR`` (*copy*): SHARD_DIR is a copy of the
serving shard. Loads it and runs Qdrant Edge's optimizers until none is left to run. Cheap when
most points sit in segments an earlier build made: only the rest is indexed.

``python -m roocode_tui.core.stores.edge_build SHARD_DIR --stream --piece N`` (*stream*):
SHARD_DIR is a new, empty shard. The points arrive on stdin, pickled pages sent by the engine
from the serving shard (``Builds.page``), and every N of them become one indexed segment:
``optimize()`` builds a segment from the points written since the last one. Memory follows
N, not the collection: the engine's copy of the collection is never loaded here, and the pages
of the files written are let go before each piece (they stay in the files and page cache).

Either way it prints a JSON line per piece built, ``{"piece": k, "points": n}``, and then one
JSON line: ``{"optimized": bool, "seconds": float, "max_rss_mb": int, "pieces": int}``.

Why a process: ``EdgeShard.optimize()`` holds the interpreter (the GIL) until it returns, which
takes minutes at 100k points, so in the engine's own process it would stop every search. Here it
runs on one CPU at the lowest priority; the engine keeps answering from its shard and switches
to this one when it is done (``EdgeStore.finish_index_build``).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import sys
import time
from typing import Any, BinaryIO

#: A build process let go of the pages of the files it wrote after this many points.
RELEASE_POINTS = 4096


def _rss_mb() -> int:
    """This process's peak RSS. Not getrusage's: Linux carries ru_maxrss across exec, so a
    process started by a big engine would report the engine's peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def _vector(raw: dict[str, Any]) -> dict[str, Any]:
    """A page's vectors (``Builds.page``: dense as float32 bytes, sparse as two lists) for a Point."""
    import array

    from qdrant_edge import SparseVector

    out: dict[str, Any] = {}
    for name, value in raw.items():
        if isinstance(value, bytes):
            out[name] = array.array("f", value).tolist()
        else:
            out[name] = SparseVector(indices=value[0], values=value[1])
    return out


class Pieces:
    """The stream build: points written to the shard, a segment built every ``piece`` of them."""

    def __init__(self, shard: Any, path: str, piece: int) -> None:
        self.shard, self.path, self.piece = shard, path.rstrip(os.sep) + os.sep, max(1, piece)
        self.pending = 0  # points written since the last piece was built
        self.unreleased = 0
        self.points = 0
        self.pieces = 0

    def release(self) -> None:
        from roocode_tui.core.memory import release_freed_memory, release_mapped_pages

        release_mapped_pages(self.path, os.sep)
        release_freed_memory()
        self.unreleased = 0

    def add(self, rows: list[tuple[Any, dict[str, Any], Any]]) -> None:
        """Write a page; a piece ends exactly at ``piece`` points, wherever the page ends."""
        from qdrant_edge import Point, UpdateOperation

        while rows:
            take, rows = rows[: self.piece - self.pending], rows[self.piece - self.pending :]
            self.shard.update(UpdateOperation.upsert_points([Point(i, _vector(v), p) for i, v, p in take]))
            self.pending += len(take)
            self.points += len(take)
            self.unreleased += len(take)
            if self.pending >= self.piece:
                self.build()
            elif self.unreleased >= RELEASE_POINTS:
                self.shard.flush()
                self.release()

    def build(self) -> None:
        """Index the points written since the last piece as one segment."""
        if not self.pending:
            return
        self.shard.flush()
        self.release()  # the piece's own pages come back as the optimizer reads them
        self.shard.optimize()
        self.shard.flush()
        self.release()
        self.pending = 0
        self.pieces += 1
        _say(piece=self.pieces, points=self.points, max_rss_mb=_rss_mb())


def stream(shard: Any, path: str, piece: int, source: BinaryIO) -> tuple[bool, int]:
    """Write the pages read from ``source`` until its end marker (None), a piece at a time."""
    pieces = Pieces(shard, path, piece)
    while True:
        rows = pickle.load(source)
        if rows is None:
            break
        pieces.add(rows)
    pieces.build()
    return True, pieces.pieces


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m roocode_tui.core.stores.edge_build")
    ap.add_argument("shard_dir")
    ap.add_argument("--stream", action="store_true", help="SHARD_DIR is empty: its points come on stdin")
    ap.add_argument("--piece", type=int, default=0, help="points per indexed segment (stream)")
    a = ap.parse_args(argv)
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[-1]})  # one CPU: the engine and the embedder keep the others
    os.nice(19)
    from qdrant_edge import EdgeShard

    from roocode_tui.core.memory import tune_allocator

    tune_allocator()
    start = time.monotonic()
    try:
        shard = EdgeShard.load(a.shard_dir)
        try:
            if a.stream:
                optimized, pieces = stream(shard, a.shard_dir, a.piece or sys.maxsize, sys.stdin.buffer)
            else:
                optimized, pieces = bool(shard.optimize()), 1
            shard.flush()
        finally:
            shard.close()
    except Exception as exc:
        print(f"{a.shard_dir}: {exc}", file=sys.stderr)
        return 1
    _say(optimized=optimized, seconds=round(time.monotonic() - start, 3), max_rss_mb=_rss_mb(), pieces=pieces)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
