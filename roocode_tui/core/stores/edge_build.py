"""Build a copied embedded shard's search index (HNSW), in a process of its own.

``python -m roocode_tui.core.stores.edge_build SHARD_DIR`` loads the shard, runs Qdrant Edge's
optimizers until none is left to run, flushes, and prints one JSON line:
``{"optimized": bool, "seconds": float, "max_rss_mb": int}``.

Why a process: ``EdgeShard.optimize()`` holds the interpreter (the GIL) until it returns, which
takes minutes at 100k points, so in the engine's own process it would stop every search. Here it
runs on one CPU at the lowest priority; the engine keeps answering from the shard it copied and
switches to this one when it is done (``EdgeStore.finish_index_build``).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m roocode_tui.core.stores.edge_build SHARD_DIR", file=sys.stderr)
        return 2
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[-1]})  # one CPU: the engine and the embedder keep the others
    os.nice(19)
    from qdrant_edge import EdgeShard

    start = time.monotonic()
    try:
        shard = EdgeShard.load(argv[0])
        try:
            optimized = bool(shard.optimize())
            shard.flush()
        finally:
            shard.close()
    except Exception as exc:
        print(f"{argv[0]}: {exc}", file=sys.stderr)
        return 1
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    out = {"optimized": optimized, "seconds": round(time.monotonic() - start, 3), "max_rss_mb": rss_mb}
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
