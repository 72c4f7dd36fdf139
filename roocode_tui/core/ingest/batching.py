"""Stage 3 of an index run: a changed file's chunks keep the stored vectors of those whose text
did not change; the rest are cut into batches for the embedder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from roocode_tui.core.ingest.jobs import FileJob, display

if TYPE_CHECKING:
    from roocode_tui.core.ingest.indexer import Indexer
    from roocode_tui.core.ingest.writing import Committer


@dataclass(frozen=True, slots=True)
class Item:
    """A chunk waiting for its vector: the file's job and the chunk's position in it."""

    job: FileJob
    pos: int


class Batcher:
    """Stage 3: a changed file's chunks whose text did not change keep their stored vectors;
    the rest wait here to be cut into batches."""

    def __init__(self, ix: Indexer, committer: Committer):
        self.ix = ix
        self.committer = committer
        self.pending: list[Item] = []

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
            self.pending.extend(Item(job, i) for i in todo)

    def take(self, *, partial: bool) -> list[Item]:
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
