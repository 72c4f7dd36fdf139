"""Stage 3 of an index run: a chunk whose vector exists is not embedded again. A changed file's
chunks keep the stored vectors of those whose text did not change; the others are looked for by
content in the store (ingest/reuse.py), :data:`reuse.LOOKUP_BATCH` chunks at a time; a text
that comes twice in one run is embedded once. The rest are cut into batches for the embedder."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from roocode_tui.core.ingest.jobs import FileJob, display
from roocode_tui.core.ingest.reuse import LOOKUP_BATCH, Recent, content_hash

PARTIAL_WAIT_S = 2.0  # the longest chunks wait for company while the reader works
if TYPE_CHECKING:
    from roocode_tui.core.ingest.indexer import Indexer
    from roocode_tui.core.ingest.writing import Committer


@dataclass(frozen=True, slots=True)
class Item:
    """A chunk waiting for its vector: the file's job, the chunk's position in it, and the hash
    of its text (chunks of the same text wait on one embedding: :attr:`Batcher.followers`)."""

    job: FileJob
    pos: int
    content: str = ""


class Batcher:
    """Stage 3: files wait in :attr:`unresolved` until their chunks' vectors were looked for;
    the chunks still without one wait in :attr:`pending` to be cut into batches."""

    def __init__(self, ix: Indexer, committer: Committer):
        self.ix = ix
        self.committer = committer
        self.unresolved: list[FileJob] = []
        self._unresolved_chunks = 0
        self.pending: list[Item] = []
        #: content hash -> the chunks of that text waiting for the one embedding under way
        self.followers: dict[str, list[Item]] = {}
        #: a dry run: the texts it would embed
        self.planned: set[str] = set()
        self._pending_since: float | None = None  # when the oldest chunk of ``pending`` came
        #: what this run embedded last (a text that comes again is not embedded twice)
        self.recent = Recent()

    async def accept(self, job: FileJob) -> None:
        p = self.ix.progress
        p.current_file = display(job.sf.root, job.sf.path)
        p.chunks_total += len(job.chunks)
        p.files_queued += 1
        if job.copied is not None:  # a file another collection holds whole: its points are copied
            n = len(job.copied)
            p.chunks_total += n
            if job.copied_from == self.ix.collection:
                p.chunks_reused += n
            else:
                p.chunks_reused_from_other_collections += n
            await self.done(job)
            return
        job.vectors = [None] * len(job.chunks)
        self.unresolved.append(job)
        self._unresolved_chunks += len(job.chunks)
        if self._unresolved_chunks >= LOOKUP_BATCH or (job.old is None and not self.ix.lookups_needed):
            await self.resolve()  # (nowhere to look: at once)

    async def resolve(self) -> None:
        """Look up the vectors of the files waiting: by point id in the run's collection, then
        by content; a file whose chunks all have one goes on to the committer."""
        jobs, ix = self.unresolved, self.ix
        if not jobs:
            return
        self.unresolved, self._unresolved_chunks = [], 0
        p = ix.progress
        ids = [pid for job in jobs if job.old is not None for pid in job.ids if pid in job.old.ids]
        if ids:
            found = await ix.schema.get_vectors(ix.collection, ids)
            for job in jobs:
                for i, pid in enumerate(job.ids):
                    vec = found.get(pid)
                    if vec is not None:
                        job.vectors[i] = vec
                        if ix.seed is not None:  # the points the collection was copied with
                            p.chunks_reused_from_other_collections += 1
                            ix.seed.kept += 1
                        else:
                            p.chunks_reused += 1
        native = ix.schema.native
        wanted = []
        for job in jobs:
            for i, v in enumerate(job.vectors):
                if v is None:
                    h = content_hash(job.chunks[i], native)
                    vec = self.recent.get(h)
                    if vec is not None:  # embedded by this run a moment ago
                        job.vectors[i] = vec
                        p.chunks_reused += 1
                    else:
                        wanted.append((job, i, h))
        found_by_content = {}
        if ix.reuse is not None and wanted:
            found_by_content = await ix.reuse.find([h for _, _, h in wanted], own_exists=ix.own_searchable)
            p.reuse = ix.reuse.summary()
        todo: list[Item] = []
        for job, i, h in wanted:
            hit = found_by_content.get(h)
            if hit is not None:
                job.vectors[i] = hit[0]
                if hit[1] or ix.seed is not None:  # (the run's own, in a copy: with the copy)
                    p.chunks_reused_from_other_collections += 1
                else:
                    p.chunks_reused += 1
            else:
                todo.append(Item(job, i, h))
        for job in jobs:
            job.remaining = sum(v is None for v in job.vectors)
        for item in todo:
            if ix.dry_run:
                if item.content in self.planned:
                    p.chunks_reused += 1  # embedded once, for its first chunk
                    item.job.remaining -= 1
                    continue
                self.planned.add(item.content)
            elif item.content in self.followers:  # the same text is on its way to the embedder
                self.followers[item.content].append(item)
                continue
            else:
                self.followers[item.content] = []
            if not self.pending:
                self._pending_since = time.monotonic()
            self.pending.append(item)
        for job in jobs:
            if job.remaining == 0:
                await self.done(job)

    async def done(self, job: FileJob) -> None:
        """A file whose chunks all have their vectors (or, in a dry run, their plan) goes to the
        committer; one with a chunk that failed to embed is reported."""
        p = self.ix.progress
        p.files_queued -= 1
        path = display(job.sf.root, job.sf.path)
        if job.failed:
            p.fail(path, job.failed)
        elif p.plan is not None:  # a dry run writes nothing
            embed = [job.chunks[i] for i in job.planned]
            chunks = len(job.copied) if job.copied is not None else len(job.chunks)
            p.plan.files.append((path, chunks, len(embed), sum(c.tokens for c in embed)))
        else:
            await self.committer.put(job)

    def partial_ready(self) -> bool:
        """Whether the chunks waiting go to the embedder before a batch is full, while the reader
        is still at work: at once while most chunks are embedded (the server must not wait);
        where most are reused (a worktree, a clone), the few chunks to embed come one by one and
        would take one request each: they wait for a quarter of a batch (by chunks or tokens),
        or :data:`PARTIAL_WAIT_S`."""
        pending = self.pending
        if not pending:
            return False
        p = self.ix.progress
        reused = p.chunks_reused + p.chunks_reused_from_other_collections
        if reused <= 4 * (p.chunks_embedded + len(pending)):
            return True  # most chunks are embedded: keep the server busy
        if self._pending_since is None or time.monotonic() - self._pending_since >= PARTIAL_WAIT_S:
            return True
        embedder = self.ix.embedder
        tokens = sum(it.job.chunks[it.pos].tokens for it in pending)
        return len(pending) * 4 >= embedder.batch_size or tokens * 4 >= embedder.max_batch_tokens

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
        self._pending_since = time.monotonic() if pending else None
        return batch
