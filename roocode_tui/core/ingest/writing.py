"""What an index run writes to the store: stage 5 (the committer) writes a file's new points and
deletes its stale ones, a group of files at a time; after the walk, the files that are gone lose
their points and the collection's record is brought up to date."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from roocode_tui.core.chunking.splitter import CHUNKER
from roocode_tui.core.errors import StoreError
from roocode_tui.core.ingest.jobs import FileJob
from roocode_tui.core.ingest.reuse import chunking_of
from roocode_tui.core.stores.base import CollectionMeta, FileState, PointRecord, now_iso

if TYPE_CHECKING:
    from roocode_tui.core.ingest.indexer import Indexer
    from roocode_tui.core.ingest.reading import Found

COMMIT_POINTS = 512  # points per store write
COMMIT_QUEUE = 32
#: a run that embedded fewer tokens leaves the embedder's last measured rate as it was
RATE_MIN_TOKENS = 20_000  # embedded files waiting for the store: a slow store holds the embedder back

_DONE = object()


class Committer:
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
            points = len(job.ids)
            while points < COMMIT_POINTS and not self.queue.empty():
                nxt = self.queue.get_nowait()
                if nxt is _DONE:
                    done = True
                    break
                group.append(nxt)
                points += len(nxt.ids)
            self.active = asyncio.ensure_future(self._commit(group))
            await asyncio.shield(self.active)

    async def _commit(self, group: list[FileJob]) -> None:
        ix = self.ix
        p, schema = ix.progress, ix.schema
        stamp = now_iso()
        points: list[PointRecord] = []
        payloads: list[tuple[list[str], dict[str, Any]]] = []
        for job in group:
            if job.copied is not None:  # a file another collection holds whole (NativeSchema)
                points += [
                    schema.copied_point(job, rec, pid, stamp) for rec, pid in zip(job.copied, job.ids, strict=True)
                ]
                continue
            # A native id is the chunk's text at its place in the file: one the file had already
            # has these very vectors stored. Only its payload (lines, neighbours) is written:
            # a stored float16 vector written again would be normalised and rounded once more.
            kept = job.old.ids if job.old is not None and schema.native else set()
            for i, (c, pid, vec) in enumerate(zip(job.chunks, job.ids, job.vectors, strict=True)):
                assert vec is not None
                point = schema.point(job, i, c, pid, vec, stamp)
                if pid in kept:
                    payloads.append(([pid], point.payload))
                else:
                    points.append(point)
        await ix._created()
        try:
            for start in range(0, len(points), COMMIT_POINTS):
                await schema.upsert(ix.collection, points[start : start + COMMIT_POINTS])
            if payloads:
                await ix.store.set_payloads(ix.collection, payloads)
            for job in group:
                if job.old is not None:
                    stale = sorted(job.old.ids - set(job.ids))
                    await ix.store.delete_ids(ix.collection, stale)
                    if ix.seed is None:  # (in a copy of another collection: points it never showed)
                        p.points_deleted += len(stale)
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"store write failed for collection {ix.collection!r}: {exc}") from exc
        p.points_written += len(points) + len(payloads)
        p.files_indexed += len(group)
        ix._emit()


async def delete_gone(ix: Indexer, states: dict[tuple[str, str], FileState], found: Found) -> None:
    """Files that are gone (or now excluded) lose their points."""
    p = ix.progress
    p.phase = "cleaning"
    ix._emit(force=True)
    for key, st in states.items():
        if found.keeps(key):
            continue
        if not ix.dry_run:
            await ix.store.delete_ids(ix.collection, sorted(st.ids))
        if ix.seed is None:  # a copy's files that this tree lacks were never this collection's
            p.files_deleted += 1
            p.points_deleted += len(st.ids)
        ix._emit()


async def record_run(ix: Indexer, meta: CollectionMeta) -> None:
    """The collection's record after a run: when, which roots, how it went; the schema saves it."""
    p = ix.progress
    meta.last_indexed_at = now_iso()
    before = meta.last_run or {}
    if ix._rechunk and ix.changes is None and p.files_failed == 0:
        meta.chunker = CHUNKER  # every file was cut by today's rules, and this run's sizes
        meta.chunking = chunking_of(ix.settings.chunk_tokens, ix.settings.chunk_overlap_tokens)
    meta.paths = sorted(set(meta.paths) | {str(r) for r in ix.roots})
    meta.last_run = {
        "status": "done" if p.files_failed == 0 else "done with failures",
        "files_indexed": p.files_indexed,
        "files_unchanged": p.files_unchanged,
        "files_failed": p.files_failed,
        "at": meta.last_indexed_at,
    }
    if p.embed_rate and p.tokens_embedded >= RATE_MIN_TOKENS:  # the embedder's measured speed, for estimates
        meta.last_run["embed_tokens_per_s"] = round(p.embed_rate, 1)
        meta.last_run["embed_rate_at"] = meta.last_indexed_at
    elif "embed_tokens_per_s" in before:
        meta.last_run["embed_tokens_per_s"] = before["embed_tokens_per_s"]
        meta.last_run["embed_rate_at"] = before.get("embed_rate_at")
    await ix.schema.finish(ix, meta)
