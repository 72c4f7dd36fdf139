"""The ingest pipeline: files -> chunks -> embedding batches -> points -> store.

Streaming with bounded queues, so memory does not grow with the corpus:

    walker thread ──(file jobs, bounded)──> batcher ──(≤ max_concurrency batches)──> embedder
                                                 └──(files with all vectors)──> committer ──> store

Incremental, with the store as the source of truth: a file whose stored points carry the same
mtime and size (or, failing that, the same content hash) and are complete is not read again;
a changed file reuses the vectors of chunks whose text did not change, writes its new points
first and deletes its stale ones after; files that are gone lose their points. A cancel
(Ctrl-C) stops within about a second and never leaves a file half written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from roocode_tui.core.chunking import Chunk, Chunker
from roocode_tui.core.config import IndexSettings
from roocode_tui.core.discovery import Skip, SkipFile, SourceFile, Walker, read_source
from roocode_tui.core.embedders.base import Embedder
from roocode_tui.core.errors import (
    EmbedderError,
    EmbedderFatalError,
    ModelMismatchError,
    RoocodeError,
    StoreError,
)
from roocode_tui.core.progress import IngestProgress
from roocode_tui.core.sparse import document_vector, symbol_of
from roocode_tui.core.stores.base import CollectionMeta, FileState, PointRecord, Store, now_iso

LOG = logging.getLogger("roocode_tui.ingest")
POINT_NAMESPACE = uuid.UUID("6f0c2a8e-3b1d-5e47-9c2a-52f1d7a0e9b4")
FILE_QUEUE = 64  # files read and chunked ahead of the embedder
COMMIT_POINTS = 512  # points per store write
COMMIT_QUEUE = 32  # embedded files waiting for the store: a slow store holds the embedder back
FLUSH_IDLE_S = 0.02  # a partial batch goes out when nothing new arrived for this long

ProgressCallback = Callable[[IngestProgress], None]


def point_id(root: str, path: str, chunk_hash: str, occurrence: int = 0) -> str:
    """Deterministic id: the same chunk of the same file always lands on the same point."""
    return str(uuid.uuid5(POINT_NAMESPACE, f"{root}\x00{path}\x00{chunk_hash}\x00{occurrence}"))


def chunk_ids(root: str, path: str, chunks: Iterable[Chunk]) -> list[str]:
    seen: dict[str, int] = {}
    ids = []
    for c in chunks:
        n = seen.get(c.chunk_hash, 0)
        seen[c.chunk_hash] = n + 1
        ids.append(point_id(root, path, c.chunk_hash, n))
    return ids


def check_compatible(meta: CollectionMeta, embedder: Embedder, dimension: int) -> None:
    """Refuse to mix vectors of two models in one collection."""
    if meta.model != embedder.model_id or meta.dimension != dimension:
        raise ModelMismatchError(
            f"collection {meta.name!r} was built with {meta.model} ({meta.dimension}-d) but the "
            f"configured embedder is {embedder.model_id} ({dimension}-d); use the original model, "
            f"or rebuild it: roocode-tui index --collection {meta.name} --rebuild"
        )


@dataclass(eq=False)
class _FileJob:
    sf: SourceFile
    root: str
    file_hash: str
    chunks: list[Chunk]
    ids: list[str]
    old: FileState | None
    sparse: list[tuple[list[int], list[float]]] | None = None  # keyword vectors, hybrid collections
    vectors: list[np.ndarray | None] = field(default_factory=list)
    remaining: int = 0
    failed: str | None = None


@dataclass(frozen=True, slots=True)
class _Item:
    job: _FileJob
    pos: int


_DONE = object()


class Indexer:
    """Indexes roots into one collection. ``await run()`` returns the final progress."""

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
        schema: Any = None,
        publish_as: str | None = None,
    ):
        #: another tool's collection layout (roo_qdrant.RooSchema): its chunks, ids, payloads
        self.schema = schema
        #: a rebuild: ``collection`` is the staged index that replaces this one when complete
        self.publish_as = publish_as
        self.store = store
        self.embedder = embedder
        self.collection = collection
        self.roots = [Path(r).expanduser().resolve() for r in roots]
        self.include = include or []
        self.exclude = exclude or []
        self.settings = index or IndexSettings()
        self.chunker = Chunker(self.settings.chunk_tokens, self.settings.chunk_overlap_tokens)
        self.progress = IngestProgress(collection=publish_as or collection, rebuild=publish_as is not None)
        self._on_progress = on_progress
        self._interval = progress_interval_s
        self._last_emit = 0.0
        self._stop = threading.Event()
        self._active_commit: asyncio.Future[None] | None = None
        self._committer_task: asyncio.Task[None] | None = None
        self._hybrid = False

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
        """Ask the walker to stop; cancel the task running :meth:`run` to stop the rest."""
        self._stop.set()

    # -- entry -------------------------------------------------------------------------------
    async def run(self) -> IngestProgress:
        p = self.progress
        LOG.info("index run: collection %s, roots %s", self.collection, ", ".join(map(str, self.roots)))
        ticker = asyncio.create_task(self._tick())
        try:
            meta = await self._ensure_collection()
            p.phase = "indexing"
            self._emit(force=True)
            self._hybrid = meta.hybrid
            if self.publish_as is not None:
                p.serving_points = await self.store.count(self.publish_as)
                await self.store.release(self.publish_as)  # searches in other processes may open it
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
            p.finished = time.monotonic()
            LOG.info("index run %s: %s", p.phase, {k: v for k, v in p.report().items() if k != "errors"})
            for problem in p.errors[:50]:
                LOG.warning("failed: %s: %s", problem.path, problem.reason)
            p.current_file = ""
            self._emit(force=True)
        return p

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
        """Let a store write that already started complete: a file is never left half written."""
        task = self._active_commit
        if task is not None and not task.done():
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(task), timeout=30)

    async def _ensure_collection(self) -> CollectionMeta:
        if self.schema is not None:
            return await self.schema.ensure_collection(self)
        dimension = await self.embedder.dimension()
        meta = await self.store.get_meta(self.collection)
        if meta is None:
            meta = CollectionMeta(
                name=self.collection,
                model=self.embedder.model_id,
                dimension=dimension,
                query_prefix=self.embedder.query_prefix,
                document_prefix=self.embedder.document_prefix,
                include=list(self.include),
                exclude=list(self.exclude),
                hybrid=True,
            )
            await self.store.create_collection(meta)
            return meta
        check_compatible(meta, self.embedder, dimension)
        if meta.document_prefix != self.embedder.document_prefix:
            raise ModelMismatchError(
                f"collection {meta.name!r} was built with document prefix "
                f"{meta.document_prefix!r}, the embedder now uses {self.embedder.document_prefix!r}; "
                f"set embedder.document_prefix back, or rebuild: roocode-tui index "
                f"--collection {meta.name} --rebuild"
            )
        return meta

    # -- the pipeline ------------------------------------------------------------------------
    async def _index(self, meta: CollectionMeta) -> None:
        p = self.progress
        # A file given as a path is stored under its directory, and only it is in scope.
        scopes = {(str(r.parent), r.name) if r.is_file() else (str(r), None) for r in self.roots}
        root_names = sorted({root for root, _ in scopes})
        states = await (self.schema or self.store).file_states(self.collection, root_names)
        states = {key: st for key, st in states.items() if (key[0], None) in scopes or (key[0], key[1]) in scopes}
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=FILE_QUEUE)
        protected: set[tuple[str, str]] = set()  # present or unreadable: never delete
        protected_dirs: list[tuple[str, str]] = []  # (root, dir) that could not be listed
        protected_roots: set[str] = set()

        walker = threading.Thread(
            target=self._walk,
            args=(loop, queue, states, protected, protected_dirs, protected_roots),
            name="roocode-walker",
            daemon=True,
        )
        walker.start()

        # Bounded: when the store is slower than the embedder, finished files wait here (with their
        # vectors) and the embedder waits for room, so memory does not grow with the corpus.
        commit_q: asyncio.Queue[Any] = asyncio.Queue(maxsize=COMMIT_QUEUE)
        committer = self._committer_task = asyncio.create_task(self._committer(commit_q))
        inflight: set[asyncio.Task[None]] = set()
        pending: list[_Item] = []
        limit = max(1, self.embedder.max_concurrency)
        try:
            while True:
                if pending and len(inflight) < limit:
                    try:
                        batch = await asyncio.wait_for(queue.get(), timeout=FLUSH_IDLE_S)
                    except TimeoutError:
                        self._launch(self._take(pending, partial=True), inflight, commit_q)
                        continue
                else:
                    batch = await queue.get()
                if batch is _DONE:
                    break
                for kind, obj in batch:  # the walker sends its findings in batches
                    if kind == "error":
                        raise obj
                    if kind == "skip":
                        p.skip(_display(obj.root, obj.path), obj.reason, is_dir=obj.is_dir)
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
                        await self._accept(obj, pending, commit_q)
                while len(pending) >= self.embedder.batch_size:
                    batch = self._take(pending, partial=False)
                    if not batch:
                        break
                    await self._wait_slot(inflight, limit)
                    self._launch(batch, inflight, commit_q)
                self._emit()
            p.discovery_done = True
            while pending:
                await self._wait_slot(inflight, limit)
                self._launch(self._take(pending, partial=True), inflight, commit_q)
            if inflight:
                await asyncio.gather(*inflight)
            await self._to_commit(commit_q, _DONE)
            await committer
        except BaseException:
            self._stop.set()
            for task in inflight:
                task.cancel()
            committer.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.gather(*inflight, committer, return_exceptions=True)
            raise
        walker.join(timeout=1)

        # Files that are gone (or now excluded) lose their points.
        p.phase = "cleaning"
        self._emit(force=True)
        gone = [
            (key, st)
            for key, st in states.items()
            if key not in protected
            and key[0] not in protected_roots
            and not any(key[0] == r and (d == "" or key[1].startswith(d + "/")) for r, d in protected_dirs)
        ]
        for _key, st in gone:
            await self.store.delete_ids(self.collection, sorted(st.ids))
            p.files_deleted += 1
            p.points_deleted += len(st.ids)
            self._emit()
        meta.last_indexed_at = now_iso()
        meta.paths = sorted(set(meta.paths) | {str(r) for r in self.roots})
        meta.last_run = {
            "status": "done" if p.files_failed == 0 else "done with failures",
            "files_indexed": p.files_indexed,
            "files_unchanged": p.files_unchanged,
            "files_failed": p.files_failed,
            "at": meta.last_indexed_at,
        }
        if self.schema is not None:
            await self.schema.finish(self)
        else:
            await self.store.save_meta(meta)

    async def _wait_slot(self, inflight: set[asyncio.Task[None]], limit: int) -> None:
        while len(inflight) >= limit:
            await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)

    def _take(self, pending: list[_Item], *, partial: bool) -> list[_Item]:
        """Cut the next batch: at most batch_size items and max_batch_tokens tokens."""
        size, budget = self.embedder.batch_size, self.embedder.max_batch_tokens
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

    def _launch(self, batch: list[_Item], inflight: set[asyncio.Task[None]], commit_q: asyncio.Queue[Any]) -> None:
        if not batch:
            return
        task = asyncio.create_task(self._embed(batch, commit_q))
        inflight.add(task)
        task.add_done_callback(inflight.discard)

    async def _accept(self, job: _FileJob, pending: list[_Item], commit_q: asyncio.Queue[Any]) -> None:
        p = self.progress
        p.current_file = _display(job.sf.root, job.sf.path)
        p.chunks_total += len(job.chunks)
        p.files_queued += 1
        job.vectors = [None] * len(job.chunks)
        reusable = [i for i, pid in enumerate(job.ids) if job.old is not None and pid in job.old.ids]
        if reusable:
            found = await (self.schema or self.store).get_vectors(self.collection, [job.ids[i] for i in reusable])
            for i in reusable:
                vec = found.get(job.ids[i])
                if vec is not None:
                    job.vectors[i] = vec
                    p.chunks_reused += 1
        todo = [i for i, v in enumerate(job.vectors) if v is None]
        job.remaining = len(todo)
        if not todo:
            await self._to_commit(commit_q, job)
        else:
            pending.extend(_Item(job, i) for i in todo)

    async def _embed(self, batch: list[_Item], commit_q: asyncio.Queue[Any]) -> None:
        p = self.progress
        await self.embedder.ingest_turn()  # a person is searching: let the query go first
        texts = [it.job.chunks[it.pos].embed_input for it in batch]
        failed: dict[int, str] = {}
        try:
            result = await self.embedder.embed_batch(texts)
            vectors: np.ndarray | None = result.vectors
            failed = result.failed
        except EmbedderFatalError:
            raise  # an answer that must not be stored: the whole run stops here
        except EmbedderError as exc:
            vectors = None
            failed = dict.fromkeys(range(len(batch)), str(exc))
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
                    p.fail(_display(job.sf.root, job.sf.path), job.failed)
                else:
                    await self._to_commit(commit_q, job)
        self._emit()

    async def _to_commit(self, commit_q: asyncio.Queue[Any], job: Any) -> None:
        """Queue a finished file for the committer; if the committer died, raise its error."""
        committer = self._committer_task
        if commit_q.full() and committer is not None:
            put = asyncio.ensure_future(commit_q.put(job))
            try:
                await asyncio.wait({put, committer}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not put.done():
                    put.cancel()
            if put.done() and not put.cancelled():
                return
            committer.result()  # raises the store's error
            raise StoreError(f"store writes stopped for collection {self.collection!r}")
        await commit_q.put(job)

    async def _committer(self, commit_q: asyncio.Queue[Any]) -> None:
        done = False
        while not done:
            job = await commit_q.get()
            if job is _DONE:
                return
            group = [job]
            points = len(job.chunks)
            while points < COMMIT_POINTS and not commit_q.empty():
                nxt = commit_q.get_nowait()
                if nxt is _DONE:
                    done = True
                    break
                group.append(nxt)
                points += len(nxt.chunks)
            self._active_commit = asyncio.ensure_future(self._commit(group))
            await asyncio.shield(self._active_commit)

    async def _commit(self, group: list[_FileJob]) -> None:
        """Write new points first, then delete the stale ones of each file."""
        p = self.progress
        stamp = now_iso()
        points: list[PointRecord] = []
        for job in group:
            n = len(job.chunks)
            for i, (c, pid, vec) in enumerate(zip(job.chunks, job.ids, job.vectors, strict=True)):
                assert vec is not None
                if self.schema is not None:
                    points.append(PointRecord(id=pid, vector=vec, payload=self.schema.payload(job, c)))
                    continue
                points.append(
                    PointRecord(
                        id=pid,
                        vector=vec,
                        sparse=job.sparse[i] if job.sparse else None,
                        payload={
                            "root": job.root,
                            "path": job.sf.path,
                            "language": job.sf.language,
                            "start_line": c.start_line,
                            "end_line": c.end_line,
                            "heading": c.heading,
                            "symbol": symbol_of(c.heading),
                            "text": c.text,
                            "file_hash": job.file_hash,
                            "chunk_hash": c.chunk_hash,
                            "chunk_index": c.index,
                            "chunk_count": n,
                            "mtime_ns": job.sf.mtime_ns,
                            "size": job.sf.size,
                            "indexed_at": stamp,
                        },
                    )
                )
        try:
            for start in range(0, len(points), COMMIT_POINTS):
                await (self.schema or self.store).upsert(self.collection, points[start : start + COMMIT_POINTS])
            for job in group:
                if job.old is not None:
                    stale = sorted(job.old.ids - set(job.ids))
                    await self.store.delete_ids(self.collection, stale)
                    p.points_deleted += len(stale)
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"store write failed for collection {self.collection!r}: {exc}") from exc
        p.points_written += len(points)
        p.files_indexed += len(group)
        self._emit()

    # -- the walker thread -------------------------------------------------------------------
    def _walk(
        self,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[Any],
        states: dict[tuple[str, str], FileState],
        protected: set[tuple[str, str]],
        protected_dirs: list[tuple[str, str]],
        protected_roots: set[str],
    ) -> None:
        buffer: list[Any] = []
        last_send = time.monotonic()

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

        def send(msg: Any) -> bool:
            fut = asyncio.run_coroutine_threadsafe(queue.put(msg), loop)
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

        max_bytes = self.settings.max_file_bytes
        follow, rules = self.settings.follow_symlinks, None
        if self.schema is not None:  # another tool's file selection
            max_bytes, follow, rules = self.schema.max_file_bytes, self.schema.follow_symlinks, self.schema.walk_rules
        try:
            for root in self.roots:
                root_name = str(root)
                walker = Walker(
                    root,
                    include=self.include,
                    exclude=self.exclude,
                    max_file_bytes=max_bytes,
                    follow_symlinks=follow,
                    skip_dirs=self.settings.skip_dirs,
                    stop=self._stop,
                    rules=rules,
                )
                if root.is_file():
                    root_name = str(root.parent)
                for item in walker:
                    if self._stop.is_set():
                        return
                    if isinstance(item, Skip):
                        if item.path == "":
                            protected_roots.add(root_name)
                            if not post(("fail", (str(root), item.reason))):
                                return
                            continue
                        if item.reason.startswith("cannot list"):
                            protected_dirs.append((root_name, item.path))
                        if not post(("skip", item)):
                            return
                        continue
                    msg = self._examine(item, str(item.root), states, max_bytes, protected)
                    if msg is not None and not post(msg):
                        return
        except Exception as exc:  # a bug or an OS failure: end the run with a clear error
            post(("error", StoreError(f"file discovery failed: {exc}")))
            return
        post(_DONE)

    def _examine(
        self,
        sf: SourceFile,
        root: str,
        states: dict[tuple[str, str], FileState],
        max_bytes: int,
        protected: set[tuple[str, str]],
    ) -> Any:
        if self.schema is not None:
            return self.schema.examine(self, sf, root, states, max_bytes, protected)
        key = (root, sf.path)
        st = states.get(key)
        if st is not None and st.complete and st.mtime_ns == sf.mtime_ns and st.size == sf.size:
            protected.add(key)
            return ("unchanged", sf)
        try:
            source = read_source(sf, max_bytes)
        except SkipFile as exc:
            reason = str(exc)
            if reason.startswith("unreadable"):
                protected.add(key)  # keep what we had: nothing is lost to a passing error
                return ("fail", (_display(sf.root, sf.path), reason))
            return ("skip", Skip(sf.root, sf.path, reason))
        if not source.text.strip():
            return ("skip", Skip(sf.root, sf.path, "empty file"))
        protected.add(key)
        if st is not None and st.complete and source.file_hash in st.file_hashes:
            return ("touch", (sf, st))
        try:
            chunks = self.chunker.split(source.text, sf.language, sf.path)
        except Exception as exc:
            return ("fail", (_display(sf.root, sf.path), f"chunking failed: {exc}"))
        if not chunks:
            return ("skip", Skip(sf.root, sf.path, "no text to index"))
        job = _FileJob(sf, root, source.file_hash, chunks, chunk_ids(root, sf.path, chunks), st)
        if self._hybrid:
            job.sparse = [document_vector(c.embed_input, c.heading) for c in chunks]  # CPU work: off the loop
        return ("file", job)


def _display(root: Path | str, path: str) -> str:
    return path or str(root)
