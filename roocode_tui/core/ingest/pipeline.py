"""The ingest pipeline: five stages joined by bounded queues, so memory does not grow with the
corpus and a slow stage holds the ones before it back.

    source ─(paths)─> reader ─(file jobs)─> batcher ─(≤ max_concurrency batches)─> embedder
      thread           thread                 └──(files whose vectors are all reused)──┐
                                                              committer <─(files)───────┘──> store

- **source**: a walk of the collection's roots (a full run), or only the paths a watcher saw
  change (``changes``: :meth:`Walker.changed` walks them by the same rules). Every stage after
  it is the same for both.
- **reader**: tells unchanged files from changed ones (size and mtime, then the content hash),
  reads, chunks and makes the keyword vectors of what changed.
- **batcher**: reuses the stored vectors of chunks whose text did not change and cuts the rest
  into batches of ``batch_size`` chunks and ``max_batch_tokens`` tokens.
- **embedder**: at most ``max_concurrency`` batches in flight.
- **committer**: writes a file's new points first and deletes its stale ones after, a group of
  files at a time; a file is never left half written.

Incremental, with the store as the source of truth; files that are gone (or now excluded) lose
their points after the walk; in a run fed with changed paths, only files at or below those
paths are looked at. A cancel (Ctrl-C) stops within about a second.

The stages live in reading.py (source, reader), batching.py, embedding.py and writing.py
(committer, the points of files that are gone, the collection's record).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from typing import TYPE_CHECKING, Any

from roocode_tui.core.ingest.batching import Batcher
from roocode_tui.core.ingest.embedding import Embedding
from roocode_tui.core.ingest.jobs import display
from roocode_tui.core.ingest.reading import DONE, PATH_QUEUE, Found, Scope, reader, scopes_of, source
from roocode_tui.core.ingest.writing import Committer, delete_gone, record_run
from roocode_tui.core.stores.base import CollectionMeta, FileState

if TYPE_CHECKING:
    from roocode_tui.core.ingest.indexer import Indexer

FILE_QUEUE = 64  # reader -> batcher: files read and chunked ahead of the embedder
FLUSH_IDLE_S = 0.02  # a partial batch goes out when nothing new arrived for this long


def _kept(ix: Indexer, st: FileState | None) -> None:
    """A file whose points the collection holds as they are: unchanged since the last run, or,
    in a collection that started as a copy of another (ingest/seed.py), found there."""
    p = ix.progress
    if ix.seed is None:
        p.files_unchanged += 1
        return
    p.files_indexed += 1  # new to this collection: its points came with the copy, written there
    n = len(st.ids) if st is not None else 0
    p.chunks_total += n
    p.chunks_reused_from_other_collections += n
    p.points_written += n
    ix.seed.kept += n


async def index(ix: Indexer, meta: CollectionMeta) -> None:
    """One pass of the pipeline over the run's roots, then the cleaning and the collection's record."""
    p = ix.progress
    scopes = scopes_of(ix)
    if ix.changes is not None:
        scopes = [s for s in scopes if s.only != []]  # a root with no change is left alone
    by_root: dict[str, list[Scope]] = {}
    for sc in scopes:
        by_root.setdefault(sc.name, []).append(sc)
    under = None
    if scopes and all(sc.only is not None for sc in scopes):
        under = sorted({o for sc in scopes for o in sc.only or []})
    states: dict[tuple[str, str], FileState] = {}
    if scopes and ix.collection_exists:  # a new collection: no points
        states = await ix.schema.file_states(ix.collection, sorted(by_root), under)
    states = {k: st for k, st in states.items() if any(sc.covers(k[1]) for sc in by_root.get(k[0], []))}
    found = Found(strict=ix.seed is not None)
    loop = asyncio.get_running_loop()
    paths: queue.Queue[Any] = queue.Queue(maxsize=PATH_QUEUE)
    files: asyncio.Queue[Any] = asyncio.Queue(maxsize=FILE_QUEUE)
    threads = [
        threading.Thread(target=source, args=(ix, scopes, paths, found), name="roocode-source", daemon=True),
        threading.Thread(
            target=reader, args=(ix, paths, loop, files, states, found), name="roocode-reader", daemon=True
        ),
    ]
    for t in threads:
        t.start()

    committer = ix._committer = Committer(ix)
    committer.start()
    batcher = Batcher(ix, committer)
    embedding = Embedding(ix, batcher)
    size = ix.embedder.batch_size
    try:
        while True:
            if (batcher.pending or batcher.unresolved) and embedding.free:
                try:
                    batch = await asyncio.wait_for(files.get(), timeout=FLUSH_IDLE_S)
                except TimeoutError:  # the embedder has room and nothing new came: send what there is
                    await batcher.resolve()
                    if batcher.partial_ready():
                        embedding.launch(batcher.take(partial=True))
                    continue
            else:
                batch = await files.get()
            if batch is DONE:
                break
            touched: list[tuple[list[str], dict[str, Any]]] = []  # unchanged files' new file times
            for kind, obj in batch:  # the reader sends its findings in batches
                if kind == "error":
                    raise obj
                if kind == "skip":
                    p.skip(display(obj.root, obj.path), obj.reason, is_dir=obj.is_dir)
                elif kind == "unchanged":
                    p.files_seen += 1
                    _kept(ix, states.get((str(obj.root), obj.path)))
                elif kind == "touch":
                    sf, st = obj
                    p.files_seen += 1
                    _kept(ix, st)
                    if not ix.dry_run:
                        touched.append((sorted(st.ids), {"mtime_ns": sf.mtime_ns, "size": sf.size}))
                elif kind == "fail":
                    p.files_seen += 1
                    p.fail(*obj)
                elif kind == "file":
                    p.files_seen += 1
                    await batcher.accept(obj)
            if touched:
                await ix.store.set_payloads(ix.collection, touched)
            while len(batcher.pending) >= size:
                cut = batcher.take(partial=False)
                if not cut:
                    break
                await embedding.send(cut)
            ix._emit()
        p.discovery_done = True
        await batcher.resolve()
        while batcher.pending:
            await embedding.send(batcher.take(partial=True))
        await embedding.drain()
        await committer.close()
    except BaseException:
        ix._stop.set()
        assert committer.task is not None
        committer.task.cancel()
        await embedding.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(committer.task, return_exceptions=True)
        raise
    for t in threads:
        t.join(timeout=1)
    await ix._created()  # a run that wrote nothing still leaves its collection
    if embedding.busy_s > 0 and p.tokens_embedded:
        p.embed_rate = p.tokens_embedded / embedding.busy_s

    await delete_gone(ix, states, found)
    if not ix.dry_run:
        await record_run(ix, meta)
