"""Stage 4 of an index run: batches in flight to the embedder, at most ``max_concurrency``."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import numpy as np

from roocode_tui.core.errors import EmbedderError, EmbedderFatalError
from roocode_tui.core.ingest.jobs import display

if TYPE_CHECKING:
    from roocode_tui.core.ingest.batching import Item
    from roocode_tui.core.ingest.indexer import Indexer
    from roocode_tui.core.ingest.writing import Committer


class Embedding:
    """Stage 4: batches in flight to the embedder, at most ``max_concurrency``; a file whose
    chunks all have vectors goes on to the committer."""

    def __init__(self, ix: Indexer, committer: Committer):
        self.ix = ix
        self.committer = committer
        self.inflight: set[asyncio.Task[None]] = set()
        self.limit = max(1, ix.embedder.max_concurrency)

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
