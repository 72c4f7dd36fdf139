"""An index run: the :class:`Indexer` makes or checks the collection, drives the pipeline over
its roots (pipeline.py), switches a finished rebuild in, and reports progress as it goes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from roocode_tui.core.chunking.splitter import CHUNKER, SYMBOLS_SINCE, Chunker, rules_version
from roocode_tui.core.config import IndexSettings
from roocode_tui.core.embedders.base import Embedder
from roocode_tui.core.errors import RoocodeError
from roocode_tui.core.files.discovery import FullWalkNeeded
from roocode_tui.core.ingest.pipeline import index
from roocode_tui.core.ingest.progress import IngestProgress, Plan
from roocode_tui.core.ingest.reuse import (
    FileCopies,
    NativeSource,
    Reuse,
    VectorSource,
    chunking_of,
    cut_alike,
    lends_to,
    native_sources,
    vector_key,
)
from roocode_tui.core.ingest.schema import IndexSchema, NativeSchema
from roocode_tui.core.ingest.seed import Seed, seed
from roocode_tui.core.ingest.writing import Committer
from roocode_tui.core.stores.base import PORTABLE_IDS, CollectionMeta, Store

LOG = logging.getLogger("roocode_tui.ingest")

ProgressCallback = Callable[[IngestProgress], None]
MIXED = "mixed"  # the vector key of a collection written by two embedders that differ
#: finds the collections of a store that hold vectors of a vector key (besides the run's own)
SourceFinder = Callable[[Store, str, str], Awaitable[list[VectorSource]]]


class Indexer:
    """Indexes roots into one collection. ``await run()`` returns the final progress.

    ``changes``: a run fed with changed paths ({root: [paths relative to it]}, a watcher's):
    only the files at or below those paths are read, and only their points can go. A root it
    does not name is left alone.

    ``reuse``: a chunk's vector is looked for by content in the store (ingest/reuse.py) before
    it is embedded: in roocode-tui's collections of the same embedder, and in those that
    ``finders`` name (the agents' collections). ``dry_run``: the run plans and writes nothing:
    what it would embed, after reuse, is in its progress (``IngestProgress.plan``).
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
        reuse: bool = True,
        finders: list[SourceFinder] | None = None,
        dry_run: bool = False,
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
        self._committer: Committer | None = None
        #: a new collection, created once the first batch is embedded (``_start_creating``)
        self._to_create: CollectionMeta | None = None
        self._creating: asyncio.Task[None] | None = None
        self._hybrid = False
        self._rechunk = False  # the collection was cut by other chunking rules: cut every file again
        self._repayload = False  # ... whose payloads lack what today's have: write every point again
        self._max_bytes = self.schema.max_file_bytes
        self._new_in_dry_run = False  # a dry run of a collection that does not exist
        self._new_collection = False  # made by this run: it holds only what this run wrote
        #: what a million tokens cost on the embedder (a dry run's estimate), if known
        self.price_per_million_tokens: float | None = None
        self.configure(reuse=reuse, finders=finders, dry_run=dry_run)
        #: the vectors found by content for this run (None: reuse is off)
        self.reuse: Reuse | None = None
        #: whole files found in other collections, copied rather than cut again (None: none can be)
        self.copies: FileCopies | None = None
        #: the collection this run's new collection started as a copy of (ingest/seed.py), if any
        self.seed: Seed | None = None
        self._root_in_ids = True  # point ids name the root (``id_root``)
        self._loop: asyncio.AbstractEventLoop | None = None

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
        self._loop = asyncio.get_running_loop()
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
            # one folder, ever: its ids leave it out (two folders' files may share a path)
            folders = set(meta.paths) | {str(r) for r in self.roots}
            self._root_in_ids = not (meta.point_ids == PORTABLE_IDS and len(folders) == 1)
            await self._prepare_reuse(meta)
            if self._to_create is not None and self._may_seed():
                self.seed = await seed(self, meta)
                if self.seed is not None:  # made, with points: the run goes on as an incremental one
                    self._to_create = None
                    if self.reuse is not None:
                        self.reuse.seed = self.seed
            if self.publish_as is not None:
                p.serving_points = await self.store.count(self.publish_as)
                await self.store.release(self.publish_as)  # searches in other processes may open it
            try:
                await index(self, meta)
            except FullWalkNeeded as exc:  # only a walk of every root is exact: do that
                LOG.info("changed paths: %s; walking every root", exc)
                self.changes = None
                self._stop.clear()
                await index(self, meta)
            if self.reuse is not None:
                p.reuse = self.reuse.summary()
            if self.publish_as is not None and not self.dry_run:
                await self._switch()
            if p.plan is not None:
                await self._estimate(p.plan)
                p.message = p.plan.summary(p)
            p.phase = "done"
        except asyncio.CancelledError:
            p.phase = "cancelled"
            p.message = "cancelled: files already written are complete; the next run finishes the rest"
            if self.publish_as is not None:
                p.message = (
                    f"rebuild cancelled: the old index still serves {self.publish_as!r}; "
                    "run the rebuild again to finish it (it resumes)"
                )
            self._add_interrupted_note()
            self._stop.set()
            await self._finish_commit()
            raise
        except RoocodeError as exc:
            p.phase = "failed"
            p.message = str(exc)
            if self.publish_as is not None:
                p.message += f" (the old index still serves {self.publish_as!r}; a new rebuild resumes this one)"
            self._add_interrupted_note()
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

    async def _estimate(self, plan: Plan) -> None:
        """A dry run's time and cost: the embedder's rate as the last run that measured it on
        this model recorded it (``last_run.embed_tokens_per_s``), the configured price."""
        plan.price_per_million_tokens = self.price_per_million_tokens
        best: tuple[str, float, str] | None = None
        for name in await self.store.list_collections():
            try:
                meta = await self.store.get_meta(name)
            except RoocodeError:
                continue
            run = (meta.last_run or {}) if meta is not None and meta.model == self.embedder.model_id else {}
            rate, at = run.get("embed_tokens_per_s"), str(run.get("embed_rate_at") or "")
            if rate and (best is None or at > best[0]):
                best = (at, float(rate), name)
        if best is not None:
            plan.rate_tokens_per_s = best[1]
            plan.rate_from = f"measured by the last run of collection {best[2]!r} ({best[0]})"

    def configure(self, *, reuse: bool, finders: list[SourceFinder] | None = None, dry_run: bool = False) -> None:
        """The reuse and dry-run options (also after the Indexer was made, by an agent's module)."""
        self._reuse_on = reuse and self.publish_as is None  # a rebuild embeds everything again
        self._finders: list[SourceFinder] = [native_sources, *(finders or [])]
        self.dry_run = self.progress.dry_run = dry_run
        self.progress.plan = Plan() if dry_run else None

    async def _prepare_reuse(self, meta: CollectionMeta) -> None:
        """The run's vector key (recorded in a native collection's record: its vectors may be
        lent from now on), and where its chunks' vectors may already be."""
        vkey = vector_key(self.embedder.vector_identity(), await self.embedder.dimension())
        self.schema.vector_key = vkey
        chunking = chunking_of(self.settings.chunk_tokens, self.settings.chunk_overlap_tokens)
        if self.schema.native:
            if meta.vector_key != vkey:
                # made before keys were kept: its vectors are this embedder's (the record's model,
                # size and prefix were checked); another key: vectors of two kinds, lent to none
                meta.vector_key = vkey if not meta.vector_key else MIXED
            if not self.collection_exists:
                meta.chunking = chunking  # a new collection: every file is cut by this run's sizes
                meta.vector_datatype = str(getattr(self.store, "vector_datatype", ""))
            elif meta.chunking and meta.chunking != chunking:
                meta.chunking = MIXED
        if not self._reuse_on:
            return
        sources: list[VectorSource] = []
        for find in self._finders:
            sources += await find(self.store, vkey, self.collection)
        # a float32 collection takes no float16 vectors (an agent's collections are float32)
        target = meta.vector_datatype if self.schema.native else "float32"
        sources = [s for s in sources if lends_to(getattr(s, "vector_datatype", ""), target)]
        self.reuse = Reuse(vkey, self.schema.own_source(self), sources)
        if sources:
            LOG.info("vectors may be reused from %s", ", ".join(s.name for s in sources))
        if self.schema.native and not self._rechunk:
            # whole files are copied from collections cut exactly as this run cuts them
            own = self.collection_exists and meta.vector_key == vkey and cut_alike(meta, chunking, meta.hybrid)
            names = [self.collection] if own else []
            names += [
                s.name for s in sources if isinstance(s, NativeSource) and cut_alike(s.meta, chunking, meta.hybrid)
            ]
            if names:
                self.copies = self.reuse.copies = FileCopies(self.store, names)

    def _may_seed(self) -> bool:
        """Whether the run's new collection may start as a copy of a sibling's (ingest/seed.py):
        a full native run with reuse on, writing what it finds."""
        return self.schema.native and self._reuse_on and not self.dry_run and self.changes is None

    def id_root(self, root: str) -> str:
        """A root's part of its points' ids (ingest/jobs.py ``point_id``): its path, or "" for
        the one root of a collection with portable ids."""
        return root if self._root_in_ids else ""

    def copies_for(self, files: dict[str, str]) -> dict[str, Any]:
        """(In the reader thread.) The files another collection holds whole (FileCopies.find)."""
        if self.copies is None or self._loop is None:
            return {}
        fut = asyncio.run_coroutine_threadsafe(self.copies.find(files), self._loop)
        while not self._stop.is_set():
            try:
                return fut.result(timeout=0.1)
            except TimeoutError:
                continue
            except Exception as exc:  # reuse only saves work
                LOG.warning("files not copied: %s", exc)
                return {}
        fut.cancel()
        return {}

    @property
    def lookups_needed(self) -> bool:
        """Whether a chunk's vector may be somewhere to look it up: another collection of the
        embedder, or this one when it held points before the run."""
        reuse = self.reuse
        return reuse is not None and bool(reuse.sources or (reuse.own is not None and self.own_searchable))

    @property
    def own_searchable(self) -> bool:
        """The run's collection holds points from before the run (one it made holds only what
        it wrote, which the run keeps at hand)."""
        return self.collection_exists and not self._new_collection

    @property
    def collection_exists(self) -> bool:
        """Whether the run's collection exists yet (a new one is made once the first batch is embedded)."""
        return self._to_create is None and self._creating is None and not self._new_in_dry_run

    def _start_creating(self) -> None:
        if self.dry_run:
            if self._to_create is not None:  # a dry run makes nothing
                self._new_in_dry_run = True
                self._to_create = None
            return
        if self._to_create is not None:
            self._new_collection = True
            self._creating = asyncio.create_task(self.store.create_collection(self._to_create))
            self._to_create = None

    async def _created(self) -> None:
        """Wait for the collection's creation (starting it if need be); raise what it raised."""
        self._start_creating()
        task = self._creating
        if task is not None:
            await asyncio.shield(task)
            self._creating = None

    def _add_interrupted_note(self) -> None:
        note = self.schema.interrupted_note()
        if note:
            self.progress.message += f"; {note}"

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
