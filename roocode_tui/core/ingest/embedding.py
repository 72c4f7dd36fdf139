"""Stage 4 of an index run: batches in flight to the embedder, at most ``max_concurrency``."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

import numpy as np

from roocode_tui.core.errors import EmbedderError, EmbedderFatalError

if TYPE_CHECKING:
    from roocode_tui.core.ingest.batching import Batcher, Item
    from roocode_tui.core.ingest.indexer import Indexer


class Embedding:
    """Stage 4: batches in flight to the embedder, at most ``max_concurrency``; a file whose
    chunks all have vectors goes on (``Batcher.done``). A dry run counts what it would send."""

    def __init__(self, ix: Indexer, batcher: Batcher):
        self.ix = ix
        self.batcher = batcher
        self.inflight: set[asyncio.Task[None]] = set()
        self.limit = max(1, ix.embedder.max_concurrency)
        #: seconds with at least one batch on the server, and since when the current stretch runs
        self.busy_s = 0.0
        self._busy_since = 0.0

    @property
    def free(self) -> bool:
        return len(self.inflight) < self.limit

    async def send(self, batch: list[Item]) -> None:
        """Send a batch once a slot is free."""
        while not self.free:
            await asyncio.wait(self.inflight, return_when=asyncio.FIRST_COMPLETED)
        self.launch(batch)

    def launch(self, batch: list[Item]) -> None:
        if not batch:
            return
        if not self.inflight:
            self._busy_since = time.monotonic()
        task = asyncio.create_task(self._plan(batch) if self.ix.dry_run else self._embed(batch))
        self.inflight.add(task)
        task.add_done_callback(self._landed)

    def _landed(self, task: asyncio.Task[None]) -> None:
        self.inflight.discard(task)
        if not self.inflight:
            self.busy_s += time.monotonic() - self._busy_since

    async def drain(self) -> None:
        if self.inflight:
            await asyncio.gather(*self.inflight)

    async def cancel(self) -> None:
        for task in self.inflight:
            task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*self.inflight, return_exceptions=True)

    async def _plan(self, batch: list[Item]) -> None:
        """A dry run: the batch is counted, not sent."""
        plan = self.ix.progress.plan
        assert plan is not None
        for it in batch:
            plan.chunks_to_embed += 1
            plan.tokens_to_embed += it.job.chunks[it.pos].tokens
            it.job.planned.append(it.pos)
            it.job.remaining -= 1
            if it.job.remaining == 0:
                await self.batcher.done(it.job)

    async def _embed(self, batch: list[Item]) -> None:
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
        recent = self.batcher.recent
        for row, it in enumerate(batch):
            followers = self.batcher.followers.pop(it.content, [])
            if row in failed:
                reason = failed[row]
                vector = None
            else:
                assert vectors is not None
                vector = vectors[row]
                recent.remember(it.content, vector)
                p.chunks_reused += len(followers)  # the same text elsewhere: embedded once
            for each in (it, *followers):
                job = each.job
                if vector is None:
                    if job.failed is None:
                        job.failed = reason
                else:
                    job.vectors[each.pos] = vector
                job.remaining -= 1
                if job.remaining == 0:
                    await self.batcher.done(job)
        ix._emit()
