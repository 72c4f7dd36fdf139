"""The store contract: what the pipeline and search need from a vector store."""

from __future__ import annotations

import abc
import asyncio
import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from roocode_tui.core.results import DENSE, Hit, dense_of  # Hit: the store contract's, re-exported

SCHEMA = "roocode-tui/1"
SPARSE = "keywords"  # BM25-style term weights, IDF applied by the store
# Payload fields that get a keyword index in every backend. ``chunk_hash`` (the hash of what was
# embedded) finds a chunk's vector by its content (ingest/reuse.py).
KEYWORD_FIELDS = ("root", "path", "language", "symbol", "chunk_hash")
CONTENT_FIELD = "chunk_hash"
# Payload fields read to plan an incremental run (never the text).
STATE_FIELDS = ["root", "path", "file_hash", "mtime_ns", "size", "chunk_count"]
#: ``CollectionMeta.point_ids`` of a collection whose ids name its root only when it has several
#: (ingest/jobs.py ``point_id``): a one-folder collection's points do not depend on where the
#: folder is, so a worktree's or a clone's collection can start as a copy of its sibling's
PORTABLE_IDS = "portable"


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass
class CollectionMeta:
    """What a collection was built with. Another model may neither write nor search it."""

    name: str
    model: str
    dimension: int
    query_prefix: str
    document_prefix: str
    distance: str = "Cosine"
    schema: str = SCHEMA
    created_at: str = field(default_factory=now_iso)
    last_indexed_at: str | None = None
    paths: list[str] = field(default_factory=list)
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    #: outcome of the last index run: {"status", "files_indexed", "files_failed", "at"}
    last_run: dict[str, Any] = field(default_factory=dict)
    #: has a keyword (sparse) vector per point: hybrid search works
    hybrid: bool = False
    #: set on the index a rebuild is writing: the collection it will replace when complete
    staging_for: str | None = None
    #: set while `collections copy` fills this collection: {"source", "source_name", "offset", "copied", ...}
    copying: dict[str, Any] | None = None
    #: `roocode-tui watch NAME [--off]`: the engine keeps it in sync (None: as the config says)
    watch: bool | None = None
    #: the chunking rules its files were cut by (chunking.CHUNKER; "" before rules were versioned):
    #: when they change, the next full run cuts every file again (unchanged chunks keep their vectors)
    chunker: str = ""
    #: the key of the embedder its vectors come from (ingest/reuse.py vector_key): collections
    #: with the same key lend each other vectors; "" (made before keys were kept): lends none
    vector_key: str = ""
    #: the chunk sizes its files were cut with ("300/30": IndexSettings chunk_tokens and
    #: chunk_overlap_tokens; "" unknown, "mixed" several): a file's points are copied from a
    #: collection cut the same way only
    chunking: str = ""
    #: how its vectors are stored ("float16", "float32"; "" unknown: taken as float16): a
    #: float32 collection takes no vectors from a float16 one (they would differ from fresh ones)
    vector_datatype: str = ""
    #: how its point ids name a file's root: "" (made before) by its absolute path, always;
    #: PORTABLE_IDS by its absolute path only where the collection has several roots
    point_ids: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CollectionMeta:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass(frozen=True, slots=True)
class PointRecord:
    id: str
    #: the dense vector; a plain list where a point read back is written again as it is (a
    #: file's points copied: ingest/reuse.py), which spares two conversions a point
    vector: np.ndarray | list[float]
    payload: dict[str, Any]
    sparse: tuple[list[int], list[float]] | None = None

    @classmethod
    def from_record(
        cls, point_id: Any, payload: dict[str, Any] | None, vector: Any, *, raw: bool = False
    ) -> PointRecord:
        """A point read back from either backend (the vector may be absent); ``raw``: its dense
        vector as the backend gave it (a list)."""
        if raw:
            dense_list = vector.get(DENSE) if isinstance(vector, dict) else vector
            return cls(str(point_id), list(dense_list or []), payload or {}, sparse_of(vector))
        dense = dense_of(vector)
        empty = np.zeros(0, dtype=np.float32)
        return cls(str(point_id), dense if dense is not None else empty, payload or {}, sparse_of(vector))

    def vector_list(self) -> list[float]:
        """The dense vector as a list (what the backends take)."""
        return self.vector if isinstance(self.vector, list) else self.vector.tolist()


@dataclass(slots=True)
class FileState:
    """What the store holds for one file: enough to tell whether it changed."""

    file_hashes: set[str] = field(default_factory=set)
    mtime_ns: int | None = None
    size: int | None = None
    chunk_count: int | None = None
    ids: set[str] = field(default_factory=set)

    @property
    def complete(self) -> bool:
        """One version of the file, all of its chunks present (not a half-written run)."""
        return len(self.file_hashes) == 1 and self.chunk_count == len(self.ids)


@dataclass(frozen=True, slots=True)
class SearchFilter:
    path_prefix: str | None = None
    paths: tuple[str, ...] | None = None  # exact relative paths (a glob resolved against the store)
    languages: tuple[str, ...] | None = None
    root: str | None = None
    #: only chunks defining one of these (normalised) names: the payload's ``symbol``
    symbols: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Lane:
    """One single-lane search of :meth:`Store.search_lanes`: the dense ``vector`` or the
    keyword ``sparse`` vector, its top ``limit``, under ``flt``."""

    vector: np.ndarray | None
    sparse: tuple[list[int], list[float]] | None
    limit: int
    flt: SearchFilter | None = None


@dataclass(frozen=True, slots=True)
class AgentIndexInfo:
    """What a coding agent's codebase index (Roo Code's) says about itself: its points, vectors
    and completion marker. Made by the agent's module (roo_qdrant.describe), kept here so the
    store contract can carry it without knowing the format."""

    name: str
    points: int  # code chunks (the marker point not counted)
    dimension: int
    distance: str
    indexing_complete: bool | None  # None: no marker (Roo Code before markers existed)
    completed_at: str | None = None
    started_at: str | None = None
    #: the agent that wrote it ("roo-code", "zoo-code"), or the candidates ("roo-code|zoo-code?")
    #: when it cannot be told (Roo Code's and Zoo Code's collections look alike: core/agents/detect.py)
    owner: str = "roo-code"
    owner_why: str = ""

    @property
    def state(self) -> str:
        if self.indexing_complete is None:
            return "no marker"
        return "complete" if self.indexing_complete else "incomplete"

    @property
    def when(self) -> str | None:
        return self.completed_at if self.indexing_complete else self.started_at

    def to_json(self, workspace: str | None = None) -> dict[str, Any]:
        return {
            "indexing_complete": self.indexing_complete,
            "completed_at": self.completed_at,
            "started_at": self.started_at,
            "workspace": workspace,
            "owner": self.owner,
            **({"owner_why": self.owner_why} if self.owner_why else {}),
        }


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    name: str
    points: int
    meta: CollectionMeta | None
    status: str = "ok"
    #: a Roo Code collection's description, when it is one
    roo: AgentIndexInfo | None = None
    #: an unfinished rebuild beside the serving index: {"points", "model", "started_at", "last_run"}
    rebuilding: dict[str, Any] | None = None
    #: how a search finds neighbours (Store.search_index; "building" from the engine), if known
    search_index: dict[str, Any] | None = None
    #: its watcher in the engine ({"state", "pending", "last_sync", ...}), when it is watched
    watcher: dict[str, Any] | None = None
    #: an agent's collection: the workspace it indexes, when the engine can tell
    workspace: str | None = None
    #: the engine's word on how far its points may lag behind its files
    freshness: str | None = None

    @property
    def kind(self) -> str:
        """The collection's layout: ours, Roo Code's (which Zoo Code writes too), or another."""
        return "roocode-tui" if self.meta else ("roo-code" if self.roo else "other")

    @property
    def owner(self) -> str:
        """Who wrote it: roocode-tui, a coding agent (roo-code, zoo-code), or "other"."""
        return self.roo.owner if self.roo else self.kind

    def to_json(self, workspace: str | None = None) -> dict[str, Any]:
        """``workspace``: an agent's collection's, when it is not the one the info carries."""
        meta, roo = self.meta, self.roo
        out = {
            "name": self.name,
            "kind": self.kind,
            "owner": self.owner,
            "points": self.points,
            "dimension": meta.dimension if meta else (roo.dimension if roo else None),
            "distance": meta.distance if meta else (roo.distance if roo else None),
            "model": meta.model if meta else None,
            "query_prefix": meta.query_prefix if meta else None,
            "document_prefix": meta.document_prefix if meta else None,
            "created_at": meta.created_at if meta else None,
            "last_indexed_at": meta.last_indexed_at if meta else None,
            "paths": meta.paths if meta else [],
            "include": meta.include if meta else [],
            "exclude": meta.exclude if meta else [],
            "last_run": meta.last_run if meta else {},
            "hybrid": meta.hybrid if meta else False,
            "status": self.status,
        }
        if roo is not None:
            out["roo"] = roo.to_json(workspace if workspace is not None else self.workspace)
        if self.rebuilding is not None:
            out["rebuilding"] = self.rebuilding
        if self.search_index is not None:
            out["search_index"] = self.search_index
        if self.watcher is not None:
            out["watcher"] = self.watcher
        if self.freshness is not None:
            out["freshness"] = self.freshness
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CollectionInfo:
        """An info as :meth:`to_json` wrote it (the engine's answer to a face)."""
        meta = None
        if data.get("kind") == "roocode-tui":
            meta = CollectionMeta.from_json({**data, "dimension": data.get("dimension") or 0})
        roo = workspace = None
        if isinstance(data.get("roo"), dict):
            r = data["roo"]
            workspace = r.get("workspace")
            roo = AgentIndexInfo(
                name=data["name"],
                points=int(data.get("points") or 0),
                dimension=int(r.get("dimension") or data.get("dimension") or 0),
                distance=str(r.get("distance") or data.get("distance") or ""),
                indexing_complete=r.get("indexing_complete"),
                completed_at=r.get("completed_at"),
                started_at=r.get("started_at"),
                owner=str(r.get("owner") or "roo-code"),
                owner_why=str(r.get("owner_why") or ""),
            )
        return cls(
            name=data["name"],
            points=int(data.get("points") or 0),
            meta=meta,
            status=str(data.get("status") or "ok"),
            roo=roo,
            rebuilding=data.get("rebuilding"),
            search_index=data.get("search_index"),
            watcher=data.get("watcher"),
            workspace=workspace,
            freshness=data.get("freshness"),
        )

    def answered(self) -> CollectionInfo:
        """The info as the engine answers it: what :meth:`to_json` carries and nothing more, so
        an engine in a face's process answers exactly what the client of a served one reads back."""
        return CollectionInfo.from_json(self.to_json())


class Store(abc.ABC):
    """A vector store holding one Qdrant collection (or embedded shard) per collection name."""

    backend: str

    @abc.abstractmethod
    async def list_collections(self) -> list[str]: ...

    @abc.abstractmethod
    async def get_meta(self, name: str) -> CollectionMeta | None: ...

    @abc.abstractmethod
    async def save_meta(self, meta: CollectionMeta) -> None: ...

    @abc.abstractmethod
    async def create_collection(self, meta: CollectionMeta) -> None: ...

    @abc.abstractmethod
    async def delete_collection(self, name: str) -> bool: ...

    @abc.abstractmethod
    async def count(self, name: str) -> int: ...

    @abc.abstractmethod
    async def upsert(self, name: str, points: list[PointRecord]) -> None: ...

    @abc.abstractmethod
    async def delete_ids(self, name: str, ids: list[str]) -> None: ...

    @abc.abstractmethod
    async def set_payload(self, name: str, ids: list[str], payload: dict[str, Any]) -> None: ...

    async def set_payloads(self, name: str, updates: list[tuple[list[str], dict[str, Any]]]) -> None:
        """Several ``set_payload`` calls, in one call to the store where it has one (an index
        run's unchanged files get their file times so, a batch of files at a time)."""
        for ids, payload in updates:
            await self.set_payload(name, ids, payload)

    @abc.abstractmethod
    async def file_states(
        self, name: str, roots: list[str], under: list[str] | None = None
    ) -> dict[tuple[str, str], FileState]:
        """Per (root, path): what is stored for each file of these roots. ``under``: only the
        files at these relative paths or below them (a run fed with changed paths)."""

    @abc.abstractmethod
    async def get_vectors(self, name: str, ids: list[str]) -> dict[str, np.ndarray]: ...

    @abc.abstractmethod
    async def find_vectors(self, name: str, field: str, values: list[str]) -> dict[str, np.ndarray]:
        """For each value found, the dense vector of a point whose keyword payload ``field``
        holds it: vectors looked up by content (ingest/reuse.py). Needs ``field`` indexed
        (:meth:`ensure_keyword_index`) to cost an index lookup rather than a scan."""

    @abc.abstractmethod
    async def points_of_paths(self, name: str, paths: list[str]) -> list[PointRecord]:
        """Every point (payload, dense and keyword vectors) of the files at these relative paths,
        under any root: a file's points copied to another collection (ingest/reuse.py)."""

    @abc.abstractmethod
    async def ensure_keyword_index(self, name: str, field: str) -> bool:
        """Give ``field`` a keyword index if it has none (a collection made before it was one of
        :data:`KEYWORD_FIELDS`); True when one was made now."""

    @abc.abstractmethod
    async def distinct_paths(self, name: str) -> list[str]: ...

    @abc.abstractmethod
    async def defines_any(self, name: str, symbols: list[str]) -> bool:
        """Whether some chunk defines one of these (normalised) symbol names."""

    @abc.abstractmethod
    async def scroll(
        self, name: str, offset: Any = None, limit: int = 256, *, with_vectors: bool = False
    ) -> tuple[list[PointRecord], Any]:
        """A page of points (payload, and vectors when asked) and the next offset (None at the end)."""

    @abc.abstractmethod
    async def search_lane(self, name: str, lane: Lane) -> list[Hit]:
        """One lane's top ``lane.limit``, in the stable order of stores/order.py (a store's
        top-k widened until no tie crosses the cut)."""

    async def search_lanes(self, name: str, lanes: Sequence[Lane]) -> list[list[Hit]]:
        """Several lanes of one collection, each answered as :meth:`search_lane` answers it; a
        store that can asks for them in one call."""
        return list(await asyncio.gather(*(self.search_lane(name, lane) for lane in lanes)))

    async def search(
        self,
        name: str,
        vector: np.ndarray | None,
        limit: int,
        flt: SearchFilter | None = None,
        *,
        sparse: tuple[list[int], list[float]] | None = None,
        weights: tuple[float, float] = (1.0, 1.0),
    ) -> list[Hit]:
        """The top ``limit`` of the dense lane, of the keyword lane (``sparse``), or of both
        fused: each ``lane_depth(limit)`` deep, weighted reciprocal rank fusion (stores/order.py),
        the same in every store."""
        from roocode_tui.core.stores.order import fuse, lane_depth

        if vector is not None and sparse is not None:
            depth = lane_depth(limit)
            lanes = await self.search_lanes(name, [Lane(vector, None, depth, flt), Lane(None, sparse, depth, flt)])
            return fuse(lanes, weights, limit)
        return await self.search_lane(name, Lane(vector, sparse, limit, flt))

    async def server_version(self) -> str | None:
        """The server's version, where there is a server."""
        return None

    # -- zero-downtime rebuild -----------------------------------------------------------------
    # A rebuild writes a second index beside the one that serves `name`, under a staging name
    # the point methods accept; searches keep reading the old index until finish_rebuild switches
    # `name` to the new one in one atomic step (an alias move, or a meta.json replace). A failed
    # or killed rebuild leaves the old index serving and intact; running it again resumes.

    @abc.abstractmethod
    async def begin_rebuild(self, meta: CollectionMeta) -> str:
        """A new, unserved index for ``meta.name`` built as ``meta`` says; returns its staging name.

        An unfinished rebuild's index built with the same model and dimension is reused (resume).
        """

    @abc.abstractmethod
    async def finish_rebuild(self, name: str, staging: str) -> None:
        """Make ``name`` serve the staged index (atomically), then drop the old index."""

    @abc.abstractmethod
    async def abort_rebuild(self, name: str) -> bool:
        """Drop an unfinished rebuild's index; the serving one is untouched. False if none."""

    @abc.abstractmethod
    async def staging_of(self, name: str) -> str | None:
        """The staging name of an unfinished rebuild of ``name``, if there is one."""

    async def seed_collection(
        self, source: str, meta: CollectionMeta, where: dict[str, str], payload: dict[str, Any]
    ) -> int | None:
        """Make the new collection ``meta.name`` as a copy of ``source``'s points whose payload
        has the values ``where`` names (vectors, keyword vectors, payloads, ids), with ``payload``
        set on each, in the store itself; returns the points copied, or None where the store
        cannot (the caller copies file by file) or ``source`` is busy. What an index run of a
        worktree or a clone starts from (ingest/seed.py)."""
        return None

    async def optimize(self, name: str) -> bool:
        """Build the collection's search index (HNSW) now; False where the store does it by itself."""
        return False

    async def search_index(self, name: str) -> dict[str, Any] | None:
        """{"state": "indexed" | "full scan", "points", "unindexed"}; None where the store keeps
        its own index (a Qdrant server indexes as points arrive)."""
        return None

    async def release(self, name: str) -> None:  # noqa: B027 - optional hook
        """Let go of a collection this process no longer needs open (other processes may want it)."""

    async def info(self, name: str) -> CollectionInfo:
        meta = await self.get_meta(name)
        info = CollectionInfo(name=name, points=await self.count(name), meta=meta)
        return await self._with_rebuild(info)

    async def _with_rebuild(self, info: CollectionInfo) -> CollectionInfo:
        staging = await self.staging_of(info.name)
        if staging is None:
            return info
        meta = await self.get_meta(staging)
        state = {
            "points": await self.count(staging),
            "model": meta.model if meta else None,
            "started_at": meta.created_at if meta else None,
            "last_run": meta.last_run if meta else {},
        }
        return dataclasses.replace(info, rebuilding=state)

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Flush and release resources."""


def vectors_by_field(records: Iterable[Any], field: str) -> dict[str, np.ndarray]:
    """For each value of a keyword ``field`` among either backend's records, the dense vector of
    the first record holding it (``Store.find_vectors``)."""
    found: dict[str, np.ndarray] = {}
    for rec in records:
        value = (rec.payload or {}).get(field)
        if isinstance(value, str) and value not in found and (vec := dense_of(rec.vector)) is not None:
            found[value] = vec
    return found


def sparse_of(vector: Any) -> tuple[list[int], list[float]] | None:
    """The keyword (sparse) vector of a point as either backend returns it, if it has one."""
    sparse = vector.get(SPARSE) if isinstance(vector, dict) else None
    if sparse is None:
        return None
    return [int(i) for i in sparse.indices], [float(v) for v in sparse.values]


def same_build(a: CollectionMeta, b: CollectionMeta) -> bool:
    """Whether an unfinished rebuild's index was built as this one would be (so it can resume)."""
    keys = ("model", "dimension", "query_prefix", "document_prefix", "distance", "hybrid")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def accumulate_state(states: dict[tuple[str, str], FileState], point_id: Any, payload: dict[str, Any]) -> None:
    """Fold one point's state fields into the per-file map (shared by backends)."""
    key = (str(payload.get("root", "")), str(payload.get("path", "")))
    st = states.get(key)
    if st is None:
        st = states[key] = FileState()
    if "file_hash" in payload:
        st.file_hashes.add(str(payload["file_hash"]))
    st.mtime_ns = payload.get("mtime_ns", st.mtime_ns)
    st.size = payload.get("size", st.size)
    cc = payload.get("chunk_count")
    if cc is not None:
        st.chunk_count = int(cc) if st.chunk_count is None else min(st.chunk_count, int(cc))
    st.ids.add(str(point_id))
