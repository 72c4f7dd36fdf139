"""What an index run writes and how it plans it: the :class:`IndexSchema` protocol, and
roocode-tui's own layout (:class:`NativeSchema`). A coding agent's layout answers the same
protocol (agents/roo_qdrant.RooSchema)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from roocode_tui.core.chunking.keywords import document_vector
from roocode_tui.core.chunking.splitter import CHUNKER, Chunk
from roocode_tui.core.config import IndexSettings
from roocode_tui.core.errors import ModelMismatchError
from roocode_tui.core.files.discovery import Skip, SkipFile, SourceFile, read_source
from roocode_tui.core.ingest.jobs import FileJob, check_compatible, chunk_ids, display, payload_symbol, point_id
from roocode_tui.core.ingest.reuse import NativeSource, VectorSource
from roocode_tui.core.stores.base import PORTABLE_IDS, CollectionMeta, FileState, PointRecord, Store

if TYPE_CHECKING:
    from roocode_tui.core.ingest.indexer import Indexer

COPY_BATCH = 64  # files whose copies are looked up together


class IndexSchema(Protocol):
    """What an index run writes and how it plans it: roocode-tui's own collections
    (:class:`NativeSchema`), or a coding agent's index (agents/roo_qdrant.RooSchema), each
    with its file selection, chunks, point ids and payloads, and its collection record."""

    #: roocode-tui's own chunking rules apply (a collection cut by older rules is cut again)
    native: bool
    max_file_bytes: int
    follow_symlinks: bool
    #: the walker's file selection instead of the index settings' (None: those)
    walk_rules: Any
    #: the run's vector key (ingest/reuse.py), set before the first file is read
    vector_key: str

    def own_source(self, ix: Indexer) -> VectorSource | None:
        """The run's own collection as a place to find vectors by content."""
        ...

    async def ensure_collection(self, ix: Indexer) -> CollectionMeta: ...

    async def file_states(
        self, name: str, roots: list[str], under: list[str] | None = None
    ) -> dict[tuple[str, str], FileState]: ...

    def examine(
        self,
        ix: Indexer,
        sf: SourceFile,
        root: str,
        states: dict[tuple[str, str], FileState],
        max_bytes: int,
        protected: set[tuple[str, str]],
    ) -> Any: ...

    def point(self, job: FileJob, i: int, c: Chunk, pid: str, vec: np.ndarray, stamp: str) -> PointRecord: ...

    def copied_point(self, job: FileJob, rec: PointRecord, pid: str, stamp: str) -> PointRecord:
        """A point of a file copied whole from another collection (``FileJob.copied``: the
        native layout only, ``Indexer.copies``)."""
        ...

    async def upsert(self, name: str, points: list[PointRecord]) -> None: ...

    async def get_vectors(self, name: str, ids: list[str]) -> dict[str, np.ndarray]: ...

    async def finish(self, ix: Indexer, meta: CollectionMeta) -> None: ...

    def interrupted_note(self) -> str:
        """What a run that stopped before its end leaves behind for the collection's readers,
        added to the run's message ("": nothing to say)."""
        ...


class NativeSchema:
    """roocode-tui's own collections: chunked by syntax, ids by path and chunk (and by root in a
    collection of several roots, or one made before PORTABLE_IDS), keyword vectors beside the
    dense ones, the build record in the store's collection metadata."""

    native = True
    walk_rules = None
    vector_key = ""

    def __init__(self, store: Store, settings: IndexSettings):
        self.store = store
        self.max_file_bytes = settings.max_file_bytes
        self.follow_symlinks = settings.follow_symlinks

    def own_source(self, ix: Indexer) -> VectorSource | None:
        return NativeSource(self.store, ix.collection)

    async def ensure_collection(self, ix: Indexer) -> CollectionMeta:
        """The collection's build record: made for a new collection (created once the first
        batch is embedded), checked against the embedder for an existing one."""
        dimension = await ix.embedder.dimension()
        meta = await self.store.get_meta(ix.collection)
        if meta is None:
            meta = CollectionMeta(
                name=ix.collection,
                model=ix.embedder.model_id,
                dimension=dimension,
                query_prefix=ix.embedder.query_prefix,
                document_prefix=ix.embedder.document_prefix,
                include=list(ix.include),
                exclude=list(ix.exclude),
                hybrid=True,
                chunker=CHUNKER,
                point_ids=PORTABLE_IDS,
            )
            if ix.publish_as is None or ix.dry_run:
                # Created once the first batch is embedded, while the next ones are on the
                # server: creating an embedded collection takes ~0.3-0.6 s (its keyword
                # indexes), most of it holding the interpreter, which would keep the first files
                # from being chunked and sent, and the server idle. Written to once it exists; a
                # new collection has no points to compare files with.
                ix._to_create = meta
            else:
                await self.store.create_collection(meta)
            return meta
        check_compatible(meta, ix.embedder, dimension)
        if meta.document_prefix != ix.embedder.document_prefix:
            raise ModelMismatchError(
                f"collection {meta.name!r} was built with document prefix "
                f"{meta.document_prefix!r}, the embedder now uses {ix.embedder.document_prefix!r}; "
                f"set embedder.document_prefix back, or rebuild: roocode-tui index "
                f"--collection {meta.name} --rebuild"
            )
        return meta

    async def file_states(
        self, name: str, roots: list[str], under: list[str] | None = None
    ) -> dict[tuple[str, str], FileState]:
        return await self.store.file_states(name, roots, under)

    def examine(
        self,
        ix: Indexer,
        sf: SourceFile,
        root: str,
        states: dict[tuple[str, str], FileState],
        max_bytes: int,
        protected: set[tuple[str, str]],
    ) -> Any:
        """What the run does with a file (in the reader thread): unchanged, touch (its mtime
        only), skip, fail, or a job of chunks to embed."""
        found = self._inspect(ix, sf, root, states, max_bytes, protected)
        if found[0] != "cut":
            return found
        _, source, st, unchanged, same = found
        return self._cut(ix, sf, root, source, st, unchanged=unchanged, same=same)

    def _inspect(
        self,
        ix: Indexer,
        sf: SourceFile,
        root: str,
        states: dict[tuple[str, str], FileState],
        max_bytes: int,
        protected: set[tuple[str, str]],
    ) -> Any:
        """:meth:`examine` up to the cut: ("cut", its text, its state, unchanged, same) when the
        file is to be cut into chunks."""
        key = (root, sf.path)
        st = states.get(key)
        same = st is not None and st.complete and st.mtime_ns == sf.mtime_ns and st.size == sf.size
        if same and not ix._rechunk:
            protected.add(key)
            return ("unchanged", sf)
        try:
            source = read_source(sf, max_bytes)
        except SkipFile as exc:
            reason = str(exc)
            if reason.startswith("unreadable"):
                if ix.seed is None:  # (a copied collection's points of it are not this tree's)
                    protected.add(key)  # keep what we had: nothing is lost to a passing error
                return ("fail", (display(sf.root, sf.path), reason))
            return ("skip", Skip(sf.root, sf.path, reason))
        if not source.text.strip():
            return ("skip", Skip(sf.root, sf.path, "empty file"))
        protected.add(key)
        unchanged = st is not None and st.complete and source.file_hash in st.file_hashes
        if unchanged and not ix._rechunk:
            return ("touch", (sf, st))
        return ("cut", source, st, unchanged, same)

    def examine_many(
        self,
        ix: Indexer,
        files: list[SourceFile],
        states: dict[tuple[str, str], FileState],
        max_bytes: int,
        protected: set[tuple[str, str]],
    ) -> Iterator[Any]:
        """:meth:`examine` for a batch of files (in the reader thread), one finding at a time: a
        changed or new file that another collection holds whole (the same path and content, cut
        alike) has its points copied (``FileJob.copied``); the others are cut into chunks. The
        copies are looked up :data:`COPY_BATCH` files at a time (their points wait in memory)."""
        if ix.copies is None:
            for sf in files:
                yield self.examine(ix, sf, str(sf.root), states, max_bytes, protected)
            return
        cut: list[tuple[SourceFile, Any, FileState | None]] = []
        for sf in files:
            found = self._inspect(ix, sf, str(sf.root), states, max_bytes, protected)
            if found[0] == "cut":
                cut.append((sf, found[1], found[2]))
            else:
                yield found
        for start in range(0, len(cut), COPY_BATCH):
            group = cut[start : start + COPY_BATCH]
            copies = ix.copies_for({sf.path: source.file_hash for sf, source, _ in group})
            for sf, source, st in group:
                yield self._copied(ix, sf, source, st, copies.get(sf.path)) or self._cut(
                    ix, sf, str(sf.root), source, st, unchanged=False, same=False
                )

    def _copied(self, ix: Indexer, sf: SourceFile, source: Any, st: FileState | None, found: Any) -> Any:
        """The job of a file whose points another collection holds (``found``: its points there
        and that collection), with the ids a cut of it here gives (``chunk_ids``); None if none."""
        if found is None:
            return None
        records, origin = found
        root = str(sf.root)
        key = ix.id_root(root)
        seen: dict[str, int] = {}
        ids = []
        for rec in records:
            h = str(rec.payload["chunk_hash"])
            ids.append(point_id(key, sf.path, h, seen.get(h, 0)))
            seen[h] = seen.get(h, 0) + 1
        job = FileJob(sf, root, source.file_hash, [], ids, st)
        job.copied, job.copied_from = records, origin
        return ("file", job)

    def _cut(
        self, ix: Indexer, sf: SourceFile, root: str, source: Any, st: FileState | None, *, unchanged: bool, same: bool
    ) -> Any:
        """A changed file cut into chunks: a job to embed (or, cut as before, nothing to do)."""
        try:
            chunks = ix.chunker.split(source.text, sf.language, sf.path)
        except Exception as exc:
            return ("fail", (display(sf.root, sf.path), f"chunking failed: {exc}"))
        if not chunks:
            return ("skip", Skip(sf.root, sf.path, "no text to index"))
        ids = chunk_ids(ix.id_root(root), sf.path, chunks)
        if unchanged and st is not None and set(ids) == st.ids and not ix._repayload:  # cut the same way
            return ("unchanged", sf) if same else ("touch", (sf, st))
        job = FileJob(sf, root, source.file_hash, chunks, ids, st)
        if ix._hybrid:
            job.sparse = [document_vector(c.embed_input, c.heading) for c in chunks]  # CPU work: off the loop
        return ("file", job)

    def copied_point(self, job: FileJob, rec: PointRecord, pid: str, stamp: str) -> PointRecord:
        """A point of a file copied from another collection: its vectors and payload, with this
        run's root, id, file times and stamp (what a cut of the file here gives)."""
        payload = {**rec.payload, "root": job.root, "mtime_ns": job.sf.mtime_ns, "size": job.sf.size}
        payload["indexed_at"] = stamp
        return PointRecord(id=pid, vector=rec.vector, payload=payload, sparse=rec.sparse)

    def point(self, job: FileJob, i: int, c: Chunk, pid: str, vec: np.ndarray, stamp: str) -> PointRecord:
        """The point a chunk becomes: its vectors and roocode-tui's payload."""
        return PointRecord(
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
                "symbol": payload_symbol(c),
                "text": c.text,
                "file_hash": job.file_hash,
                "chunk_hash": c.chunk_hash,
                "chunk_index": c.index,
                "chunk_count": len(job.chunks),
                "mtime_ns": job.sf.mtime_ns,
                "size": job.sf.size,
                "indexed_at": stamp,
            },
        )

    async def upsert(self, name: str, points: list[PointRecord]) -> None:
        await self.store.upsert(name, points)

    async def get_vectors(self, name: str, ids: list[str]) -> dict[str, np.ndarray]:
        return await self.store.get_vectors(name, ids)

    def interrupted_note(self) -> str:
        return ""  # a stopped run's files are complete; the next run finishes the rest

    async def finish(self, ix: Indexer, meta: CollectionMeta) -> None:
        await self.store.save_meta(meta)
