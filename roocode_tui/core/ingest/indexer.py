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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from roocode_tui.core.chunking.splitter import CHUNKER, SYMBOLS_SINCE, Chunker, rules_version
from roocode_tui.core.config import IndexSettings
from roocode_tui.core.embedders.base import Embedder
from roocode_tui.core.errors import (
    EmbedderError,
    EmbedderFatalError,
    RoocodeError,
    StoreError,
)
from roocode_tui.core.files.discovery import FullWalkNeeded, Skip, SourceFile, Walker
from roocode_tui.core.ingest.jobs import FileJob, display
from roocode_tui.core.ingest.progress import IngestProgress
from roocode_tui.core.ingest.schema import IndexSchema, NativeSchema
from roocode_tui.core.stores.base import CollectionMeta, FileState, PointRecord, Store, now_iso

LOG = logging.getLogger("roocode_tui.ingest")
PATH_QUEUE = 16  # source -> reader: batches of up to PATH_BATCH walked files
PATH_BATCH = 256
FILE_QUEUE = 64  # reader -> batcher: files read and chunked ahead of the embedder
COMMIT_POINTS = 512  # points per store write
COMMIT_QUEUE = 32  # embedded files waiting for the store: a slow store holds the embedder back
FLUSH_IDLE_S = 0.02  # a partial batch goes out when nothing new arrived for this long

ProgressCallback = Callable[[IngestProgress], None]


@dataclass(frozen=True, slots=True)
class _Item:
    job: FileJob
    pos: int


_DONE = object()


@dataclass
class _Scope:
    """One root of a run and what of it the run looks at."""

    root: Path  # as given: a directory, or a single file
    name: str  # the root recorded in payloads (a single file's directory)
    walker: Walker
    only: list[str] | None = None  # None: all of it; else these relative paths and what is below them
    single: str | None = None  # a single file given as a path: its name

    def covers(self, path: str) -> bool:
        if self.single is not None:
            return path == self.single
        return self.only is None or any(path == o or path.startswith(o + "/") for o in self.only)

    def items(self) -> Iterator[SourceFile | Skip]:
        return iter(self.walker) if self.only is None else self.walker.changed(self.only)


class _Found:
    """What the source and the reader saw that keeps stored points: files present (or
    unreadable for now), directories that could not be listed, roots that could not be opened."""

    def __init__(self) -> None:
        self.files: set[tuple[str, str]] = set()
        self.dirs: list[tuple[str, str]] = []
        self.roots: set[str] = set()

    def keeps(self, key: tuple[str, str]) -> bool:
        root, path = key
        return (
            key in self.files
            or root in self.roots
            or any(root == r and (d == "" or path.startswith(d + "/")) for r, d in self.dirs)
        )


class _Committer:
    """Stage 5: writes whole files, a group at a time: new points first, then the stale ones go."""

    def __init__(self, ix: Indexer):
        self.ix = ix
        # Bounded: when the store is slower than the embedder, finished files wait here (with
        # their vectors) and the embedder waits for room.
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=COMMIT_QUEUE)
        self.task: asyncio.Task[None] | None = None
        self.active: asyncio.Future[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._loop())

    async def put(self, job: Any) -> None:
        """Queue a finished file; if the committer died, raise its error."""
        task = self.task
        if self.queue.full() and task is not None:
            put = asyncio.ensure_future(self.queue.put(job))
            try:
                await asyncio.wait({put, task}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not put.done():
                    put.cancel()
            if put.done() and not put.cancelled():
                return
            task.result()  # raises the store's error
            raise StoreError(f"store writes stopped for collection {self.ix.collection!r}")
        await self.queue.put(job)

    async def close(self) -> None:
        """Everything is queued: write the rest and end."""
        await self.put(_DONE)
        assert self.task is not None
        await self.task

    async def finish_active(self) -> None:
        """Let a store write that already started complete: a file is never left half written."""
        task = self.active
        if task is not None and not task.done():
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(task), timeout=30)

    async def _loop(self) -> None:
        done = False
        while not done:
            job = await self.queue.get()
            if job is _DONE:
                return
            group = [job]
            points = len(job.chunks)
            while points < COMMIT_POINTS and not self.queue.empty():
                nxt = self.queue.get_nowait()
                if nxt is _DONE:
                    done = True
                    break
                group.append(nxt)
                points += len(nxt.chunks)
            self.active = asyncio.ensure_future(self._commit(group))
            await asyncio.shield(self.active)

    async def _commit(self, group: list[FileJob]) -> None:
        ix = self.ix
        p, schema = ix.progress, ix.schema
        stamp = now_iso()
        points: list[PointRecord] = []
        for job in group:
            for i, (c, pid, vec) in enumerate(zip(job.chunks, job.ids, job.vectors, strict=True)):
                assert vec is not None
                points.append(schema.point(job, i, c, pid, vec, stamp))
        await ix._created()
        try:
            for start in range(0, len(points), COMMIT_POINTS):
                await schema.upsert(ix.collection, points[start : start + COMMIT_POINTS])
            for job in group:
                if job.old is not None:
                    stale = sorted(job.old.ids - set(job.ids))
                    await ix.store.delete_ids(ix.collection, stale)
                    p.points_deleted += len(stale)
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"store write failed for collection {ix.collection!r}: {exc}") from exc
        p.points_written += len(points)
        p.files_indexed += len(group)
        ix._emit()


class _Embedding:
    """Stage 4: batches in flight to the embedder, at most ``max_concurrency``; a file whose
    chunks all have vectors goes on to the committer."""

    def __init__(self, ix: Indexer, committer: _Committer):
        self.ix = ix
        self.committer = committer
        self.inflight: set[asyncio.Task[None]] = set()
        self.limit = max(1, ix.embedder.max_concurrency)

    @property
    def free(self) -> bool:
        return len(self.inflight) < self.limit

    async def send(self, batch: list[_Item]) -> None:
        """Send a batch once a slot is free."""
        while not self.free:
            await asyncio.wait(self.inflight, return_when=asyncio.FIRST_COMPLETED)
        self.launch(batch)

    def launch(self, batch: list[_Item]) -> None:
        if not batch:
            return
        task = asyncio.create_task(self._embed(batch))
        self.inflight.add(task)
        task.add_done_callback(self.inflight.discard)

    async def drain(self) -> None:
        if self.inflight:
            await asyncio.gather(*self.inflight)

    async def cancel(self) -> None:
        for task in self.inflight:
            task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*self.inflight, return_exceptions=True)

    async def _embed(self, batch: list[_Item]) -> None:
        ix = self.ix
        p, embedder = ix.progress, ix.embedder
        await embedder.ingest_turn()  # a person is searching: let the query go first
        texts = [it.job.chunks[it.pos].embed_input for it in batch]
        failed: dict[int, str] = {}
        try:
            result = await embedder.embed_batch(texts)
            vectors: np.ndarray | None = result.vectors
            failed = result.failed
        except EmbedderFatalError:
            raise  # an answer that must not be stored: the whole run stops here
        except EmbedderError as exc:
            vectors = None
            failed = dict.fromkeys(range(len(batch)), str(exc))
        ix._start_creating()  # the next batches are on the server meanwhile
        p.embed_requests += 1
        ok = len(batch) - len(failed)
        p.chunks_embedded += ok
        p.tokens_embedded += sum(it.job.chunks[it.pos].tokens for i, it in enumerate(batch) if i not in failed)
        for row, it in enumerate(batch):
            job = it.job
            if row in failed:
                if job.failed is None:
                    job.failed = failed[row]
            elif vectors is not None:
                job.vectors[it.pos] = vectors[row]
            job.remaining -= 1
            if job.remaining == 0:
                p.files_queued -= 1
                if job.failed:
                    p.fail(display(job.sf.root, job.sf.path), job.failed)
                else:
                    await self.committer.put(job)
        ix._emit()


class _Batcher:
    """Stage 3: a changed file's chunks whose text did not change keep their stored vectors;
    the rest wait here to be cut into batches."""

    def __init__(self, ix: Indexer, committer: _Committer):
        self.ix = ix
        self.committer = committer
        self.pending: list[_Item] = []

    async def accept(self, job: FileJob) -> None:
        ix = self.ix
        p = ix.progress
        p.current_file = display(job.sf.root, job.sf.path)
        p.chunks_total += len(job.chunks)
        p.files_queued += 1
        job.vectors = [None] * len(job.chunks)
        reusable = [i for i, pid in enumerate(job.ids) if job.old is not None and pid in job.old.ids]
        if reusable:
            found = await ix.schema.get_vectors(ix.collection, [job.ids[i] for i in reusable])
            for i in reusable:
                vec = found.get(job.ids[i])
                if vec is not None:
                    job.vectors[i] = vec
                    p.chunks_reused += 1
        todo = [i for i, v in enumerate(job.vectors) if v is None]
        job.remaining = len(todo)
        if not todo:
            await self.committer.put(job)
        else:
            self.pending.extend(_Item(job, i) for i in todo)

    def take(self, *, partial: bool) -> list[_Item]:
        """Cut the next batch: at most batch_size items and max_batch_tokens tokens (empty when
        not ``partial`` and a full batch is not there yet)."""
        pending = self.pending
        size, budget = self.ix.embedder.batch_size, self.ix.embedder.max_batch_tokens
        n, tokens = 0, 0
        while n < len(pending) and n < size:
            t = pending[n].job.chunks[pending[n].pos].tokens
            if n and tokens + t > budget:
                break
            tokens += t
            n += 1
        if n < size and not partial and tokens + 1 <= budget and n == len(pending):
            return []
        batch = pending[:n]
        del pending[:n]
        return batch


class Indexer:
    """Indexes roots into one collection. ``await run()`` returns the final progress.

    ``changes``: a run fed with changed paths ({root: [paths relative to it]}, a watcher's):
    only the files at or below those paths are read, and only their points can go. A root it
    does not name is left alone.
    """

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        collection: str,
        roots: list[Path],
        *,
        include: list[str] | None = None,
        exclude: list[str] | None = None,
        index: IndexSettings | None = None,
        on_progress: ProgressCallback | None = None,
        progress_interval_s: float = 0.25,
        schema: IndexSchema | None = None,
        publish_as: str | None = None,
        changes: dict[str, list[str]] | None = None,
    ):
        self.settings = index or IndexSettings()
        #: what the run writes and how it plans: roocode-tui's own layout (NativeSchema), or a
        #: coding agent's (agents/roo_qdrant.RooSchema): its file selection, ids, payloads
        self.schema: IndexSchema = schema if schema is not None else NativeSchema(store, self.settings)
        #: a rebuild: ``collection`` is the staged index that replaces this one when complete
        self.publish_as = publish_as
        self.store = store
        self.embedder = embedder
        self.collection = collection
        self.roots = [Path(r).expanduser().resolve() for r in roots]
        self.include = include or []
        self.exclude = exclude or []
        self.changes = changes
        self.chunker = Chunker(self.settings.chunk_tokens, self.settings.chunk_overlap_tokens)
        self.progress = IngestProgress(collection=publish_as or collection, rebuild=publish_as is not None)
        self._on_progress = on_progress
        self._interval = progress_interval_s
        self._last_emit = 0.0
        self._stop = threading.Event()
        self._committer: _Committer | None = None
        #: a new collection, created once the first batch is embedded (``_start_creating``)
        self._to_create: CollectionMeta | None = None
        self._creating: asyncio.Task[None] | None = None
        self._hybrid = False
        self._rechunk = False  # the collection was cut by other chunking rules: cut every file again
        self._repayload = False  # ... whose payloads lack what today's have: write every point again
        self._max_bytes = self.schema.max_file_bytes

    # -- progress ----------------------------------------------------------------------------
    def _emit(self, force: bool = False) -> None:
        self.progress.waiting = self.embedder.waiting
        if self._on_progress is None:
            return
        now = time.monotonic()
        if force or now - self._last_emit >= self._interval:
            self._last_emit = now
            self._on_progress(self.progress)

    def cancel(self) -> None:
        """Ask the threads to stop; cancel the task running :meth:`run` to stop the rest."""
        self._stop.set()

    # -- entry -------------------------------------------------------------------------------
    async def run(self) -> IngestProgress:
        p = self.progress
        LOG.info(
            "index run: collection %s, roots %s%s",
            self.collection,
            ", ".join(map(str, self.roots)),
            f", changed paths {sum(map(len, self.changes.values()))}" if self.changes is not None else "",
        )
        ticker = asyncio.create_task(self._tick())
        try:
            meta = await self._ensure_collection()
            p.phase = "indexing"
            self._emit(force=True)
            self._hybrid = meta.hybrid
            self._rechunk = self.schema.native and meta.chunker != CHUNKER
            # Before rules 5 only Python chunks had a ``symbol``: an unchanged chunk is written
            # again with it (its vector read back, nothing embedded), once.
            self._repayload = self._rechunk and rules_version(meta.chunker) < SYMBOLS_SINCE
            if self.publish_as is not None:
                p.serving_points = await self.store.count(self.publish_as)
                await self.store.release(self.publish_as)  # searches in other processes may open it
            try:
                await self._index(meta)
            except FullWalkNeeded as exc:  # only a walk of every root is exact: do that
                LOG.info("changed paths: %s; walking every root", exc)
                self.changes = None
                self._stop.clear()
                await self._index(meta)
            if self.publish_as is not None:
                await self._switch()
            p.phase = "done"
        except asyncio.CancelledError:
            p.phase = "cancelled"
            p.message = "cancelled: files already written are complete; the next run finishes the rest"
            if self.publish_as is not None:
                p.message = (
                    f"rebuild cancelled: the old index still serves {self.publish_as!r}; "
                    "run the rebuild again to finish it (it resumes)"
                )
            self._stop.set()
            await self._finish_commit()
            raise
        except RoocodeError as exc:
            p.phase = "failed"
            p.message = str(exc)
            if self.publish_as is not None:
                p.message += f" (the old index still serves {self.publish_as!r}; a new rebuild resumes this one)"
            self._stop.set()
            await self._finish_commit()
            raise
        finally:
            ticker.cancel()
            self._start_creating()  # a run that stopped early still leaves its collection
            if self._creating is not None:
                with contextlib.suppress(BaseException):
                    await asyncio.shield(self._creating)
                self._creating = None
            p.finished = time.monotonic()
            LOG.info("index run %s: %s", p.phase, {k: v for k, v in p.report().items() if k != "errors"})
            for problem in p.errors[:50]:
                LOG.warning("failed: %s: %s", problem.path, problem.reason)
            p.current_file = ""
            self._emit(force=True)
        return p

    def _start_creating(self) -> None:
        if self._to_create is not None:
            self._creating = asyncio.create_task(self.store.create_collection(self._to_create))
            self._to_create = None

    async def _created(self) -> None:
        """Wait for the collection's creation (starting it if need be); raise what it raised."""
        self._start_creating()
        task = self._creating
        if task is not None:
            await asyncio.shield(task)
            self._creating = None

    async def _switch(self) -> None:
        """A rebuild that embedded every file replaces the old index; one with failures waits."""
        p, name = self.progress, self.publish_as
        assert name is not None
        if p.files_failed:
            p.message = (
                f"rebuild kept aside: {p.files_failed} file(s) failed and the old index still serves "
                f"{name!r}; run the rebuild again to retry them (it resumes), or switch to it as it is: "
                f"roocode-tui collections rebuild {name} --finish"
            )
            return
        p.phase = "switching"
        self._emit(force=True)
        await self.store.finish_rebuild(name, self.collection)
        p.switched = True
        p.message = f"rebuilt: {name!r} now serves the new index"
        LOG.info("rebuild of %s switched to the new index", name)

    async def _tick(self) -> None:
        """Keep front ends current while nothing moves (a paused server, a slow batch)."""
        while True:
            await asyncio.sleep(self._interval)
            self._emit()

    async def _finish_commit(self) -> None:
        if self._committer is not None:
            await self._committer.finish_active()

    async def _ensure_collection(self) -> CollectionMeta:
        return await self.schema.ensure_collection(self)

    # -- the run -----------------------------------------------------------------------------
    def _scopes(self) -> list[_Scope]:
        follow, rules = self.schema.follow_symlinks, self.schema.walk_rules
        scopes = []
        for root in self.roots:
            walker = Walker(
                root,
                include=self.include,
                exclude=self.exclude,
                max_file_bytes=self._max_bytes,
                follow_symlinks=follow,
                skip_dirs=self.settings.skip_dirs,
                stop=self._stop,
                rules=rules,
            )
            if root.is_file():  # a file given as a path is stored under its directory
                scopes.append(_Scope(root, str(root.parent), walker, single=root.name))
                continue
            only = None
            if self.changes is not None:
                only = walker.change_scope(self.changes.get(str(root), []))
                if only == [""]:
                    only = None
            scopes.append(_Scope(root, str(root), walker, only=only))
        return scopes

    async def _index(self, meta: CollectionMeta) -> None:
        p = self.progress
        scopes = self._scopes()
        if self.changes is not None:
            scopes = [s for s in scopes if s.only != []]  # a root with no change is left alone
        by_root: dict[str, list[_Scope]] = {}
        for sc in scopes:
            by_root.setdefault(sc.name, []).append(sc)
        under = None
        if scopes and all(sc.only is not None for sc in scopes):
            under = sorted({o for sc in scopes for o in sc.only or []})
        states: dict[tuple[str, str], FileState] = {}
        if scopes and self._to_create is None and self._creating is None:  # a new collection: no points
            states = await self.schema.file_states(self.collection, sorted(by_root), under)
        states = {k: st for k, st in states.items() if any(sc.covers(k[1]) for sc in by_root.get(k[0], []))}
        found = _Found()
        loop = asyncio.get_running_loop()
        paths: queue.Queue[Any] = queue.Queue(maxsize=PATH_QUEUE)
        files: asyncio.Queue[Any] = asyncio.Queue(maxsize=FILE_QUEUE)
        threads = [
            threading.Thread(target=self._source, args=(scopes, paths, found), name="roocode-source", daemon=True),
            threading.Thread(
                target=self._reader, args=(paths, loop, files, states, found), name="roocode-reader", daemon=True
            ),
        ]
        for t in threads:
            t.start()

        committer = self._committer = _Committer(self)
        committer.start()
        embedding = _Embedding(self, committer)
        batcher = _Batcher(self, committer)
        size = self.embedder.batch_size
        try:
            while True:
                if batcher.pending and embedding.free:
                    try:
                        batch = await asyncio.wait_for(files.get(), timeout=FLUSH_IDLE_S)
                    except TimeoutError:
                        embedding.launch(batcher.take(partial=True))
                        continue
                else:
                    batch = await files.get()
                if batch is _DONE:
                    break
                for kind, obj in batch:  # the reader sends its findings in batches
                    if kind == "error":
                        raise obj
                    if kind == "skip":
                        p.skip(display(obj.root, obj.path), obj.reason, is_dir=obj.is_dir)
                    elif kind == "unchanged":
                        p.files_seen += 1
                        p.files_unchanged += 1
                    elif kind == "touch":
                        sf, st = obj
                        p.files_seen += 1
                        p.files_unchanged += 1
                        await self.store.set_payload(
                            self.collection, sorted(st.ids), {"mtime_ns": sf.mtime_ns, "size": sf.size}
                        )
                    elif kind == "fail":
                        p.files_seen += 1
                        p.fail(*obj)
                    elif kind == "file":
                        p.files_seen += 1
                        await batcher.accept(obj)
                while len(batcher.pending) >= size:
                    cut = batcher.take(partial=False)
                    if not cut:
                        break
                    await embedding.send(cut)
                self._emit()
            p.discovery_done = True
            while batcher.pending:
                await embedding.send(batcher.take(partial=True))
            await embedding.drain()
            await committer.close()
        except BaseException:
            self._stop.set()
            assert committer.task is not None
            committer.task.cancel()
            await embedding.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.gather(committer.task, return_exceptions=True)
            raise
        for t in threads:
            t.join(timeout=1)
        await self._created()  # a run that wrote nothing still leaves its collection

        # Files that are gone (or now excluded) lose their points.
        p.phase = "cleaning"
        self._emit(force=True)
        for key, st in states.items():
            if found.keeps(key):
                continue
            await self.store.delete_ids(self.collection, sorted(st.ids))
            p.files_deleted += 1
            p.points_deleted += len(st.ids)
            self._emit()
        meta.last_indexed_at = now_iso()
        if self._rechunk and self.changes is None and p.files_failed == 0:
            meta.chunker = CHUNKER  # every file was cut by today's rules
        meta.paths = sorted(set(meta.paths) | {str(r) for r in self.roots})
        meta.last_run = {
            "status": "done" if p.files_failed == 0 else "done with failures",
            "files_indexed": p.files_indexed,
            "files_unchanged": p.files_unchanged,
            "files_failed": p.files_failed,
            "at": meta.last_indexed_at,
        }
        await self.schema.finish(self, meta)

    # -- stage 1: the source thread ----------------------------------------------------------
    def _source(self, scopes: list[_Scope], out: queue.Queue[Any], found: _Found) -> None:
        """Walk (or walk the changed paths of) each root; hand files and skips to the reader."""
        batch: list[Any] = []

        def put(msg: Any) -> bool:
            while not self._stop.is_set():
                try:
                    out.put(msg, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        try:
            for sc in scopes:
                for item in sc.items():
                    if self._stop.is_set():
                        return
                    if isinstance(item, Skip):
                        if item.path == "":
                            found.roots.add(sc.name)
                            batch.append(("fail", (str(sc.root), item.reason)))
                        else:
                            if item.reason.startswith("cannot list"):
                                found.dirs.append((sc.name, item.path))
                            batch.append(("skip", item))
                    else:
                        batch.append(("file", item))
                    if len(batch) >= PATH_BATCH:
                        if not put(batch):
                            return
                        batch = []
        except FullWalkNeeded as exc:
            batch.append(("error", exc))
        except Exception as exc:  # a bug or an OS failure: end the run with a clear error
            batch.append(("error", StoreError(f"file discovery failed: {exc}")))
        if batch and not put(batch):
            return
        put(_DONE)

    # -- stage 2: the reader thread ----------------------------------------------------------
    def _reader(
        self,
        inq: queue.Queue[Any],
        loop: asyncio.AbstractEventLoop,
        out: asyncio.Queue[Any],
        states: dict[tuple[str, str], FileState],
        found: _Found,
    ) -> None:
        buffer: list[Any] = []
        last_send = time.monotonic()

        def send(msg: Any) -> bool:
            fut = asyncio.run_coroutine_threadsafe(out.put(msg), loop)
            while not self._stop.is_set():
                try:
                    fut.result(timeout=0.1)
                    return True
                except TimeoutError:
                    continue
                except Exception:
                    return False
            fut.cancel()
            return False

        def post(msg: Any) -> bool:
            """Buffer findings; hand them over in batches (a thread hop per file costs more
            than the work for an unchanged one). A file to embed goes out at once."""
            nonlocal last_send
            if msg is not _DONE:
                buffer.append(msg)
                if msg[0] not in ("file", "error") and len(buffer) < 512 and time.monotonic() - last_send < 0.05:
                    return True
            if buffer:
                batch = list(buffer)
                buffer.clear()
                last_send = time.monotonic()
                if not send(batch):
                    return False
            return send(msg) if msg is _DONE else True

        while not self._stop.is_set():
            try:
                batch = inq.get(timeout=0.1)
            except queue.Empty:
                continue
            if batch is _DONE:
                post(_DONE)
                return
            for kind, obj in batch:
                if self._stop.is_set():
                    return
                if kind == "file":
                    try:
                        msg = self._examine(obj, str(obj.root), states, found.files)
                    except Exception as exc:  # a bug: end the run with a clear error
                        msg = ("error", StoreError(f"reading {obj.path} failed: {exc}"))
                else:
                    msg = (kind, obj)
                if msg is not None and not post(msg):
                    return

    def _examine(
        self,
        sf: SourceFile,
        root: str,
        states: dict[tuple[str, str], FileState],
        protected: set[tuple[str, str]],
    ) -> Any:
        return self.schema.examine(self, sf, root, states, self._max_bytes, protected)
