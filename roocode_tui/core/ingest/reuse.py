"""Embedding once: before a chunk is sent to the embedder, its vector is looked for by content
anywhere in the store, in every collection whose vectors come from the same model.

Three keys, all blake2b-128 in hex:

- the **content hash** of a chunk: the hash of the exact text the embedder is sent
  (``splitter.chunk_hash``). roocode-tui's own points carry it as ``chunk_hash``, a keyword
  field of every collection (``stores.base.CONTENT_FIELD``);
- the **vector key** of an embedder: its model, the document prefix it adds, a server-side
  input type (``Embedder.vector_identity``) and the vector size. Two collections with the same
  vector key hold interchangeable vectors; a collection records its own (``CollectionMeta.vector_key``)
  when it is made or first indexed, and one without it is never a source;
- the **content key**: the vector key and the content hash together. A coding agent's
  collection records no model, so the points roocode-tui writes there carry this key
  (``contentKey``): a point the agent wrote itself has none and is never a source.

A source (:class:`VectorSource`) answers a batch of content hashes with the vectors it holds:
roocode-tui's collections (:class:`NativeSource`, by ``chunk_hash``, the collection's record
vouching for the model) and the agents' collections (``agents.roo_qdrant.AgentSource``, by
``contentKey``). :class:`Reuse` asks them in turn, the run's own collection first, only for
what is still missing, :data:`LOOKUP_BATCH` chunks at a time: a tree of 100k chunks costs a few
hundred indexed store queries, not one per chunk.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from roocode_tui.core.chunking.splitter import CHUNKER, Chunk, chunk_hash
from roocode_tui.core.errors import RoocodeError
from roocode_tui.core.stores.base import CONTENT_FIELD, CollectionMeta, PointRecord, Store

LOG = logging.getLogger("roocode_tui.ingest")

#: chunks looked up together (one store query per source)
LOOKUP_BATCH = 512
#: vectors embedded by this run kept at hand for a chunk whose text comes again
RECENT = 2048
#: the payload key of a content key on a coding agent's points
CONTENT_KEY = "contentKey"


def _blake(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def vector_key(identity: str, dimension: int) -> str:
    """The key of an embedder's vectors: its identity (``Embedder.vector_identity``) and size."""
    return _blake(f"{identity}\x00{dimension}")


def content_key(vkey: str, content: str) -> str:
    """A content hash under one embedder's vectors: what an agent's points carry (``contentKey``)."""
    return _blake(f"{vkey}\x00{content}")


def content_hash(chunk: Chunk, native: bool) -> str:
    """The hash of what the embedder is sent for a chunk (a native chunk's ``chunk_hash`` is it;
    an agent's chunk carries its segmentHash there)."""
    return chunk.chunk_hash if native else chunk_hash(chunk.embed_input)


class VectorSource(Protocol):
    """A collection that may hold vectors of the run's embedder."""

    name: str

    async def find(self, wanted: dict[str, str]) -> dict[str, np.ndarray]:
        """``wanted``: content hash -> content key; answers content hash -> vector, for those it holds."""
        ...


def lends_to(source_datatype: str, target_datatype: str) -> bool:
    """Whether vectors stored as ``source_datatype`` are what a fresh embedding stored as
    ``target_datatype`` holds: a float16 target rounds either; a float32 one needs float32."""
    return target_datatype != "float32" or source_datatype == "float32"


@dataclass
class NativeSource:
    """One of roocode-tui's collections whose record names the run's vector key."""

    store: Store
    name: str
    meta: CollectionMeta | None = None
    _ready: bool = False

    @property
    def vector_datatype(self) -> str:
        return self.meta.vector_datatype if self.meta is not None else ""

    async def find(self, wanted: dict[str, str]) -> dict[str, np.ndarray]:
        if not self._ready:  # a collection made before chunk_hash was indexed gets its index once
            self._ready = True
            if await self.store.ensure_keyword_index(self.name, CONTENT_FIELD):
                LOG.info("collection %s: indexed %s for reuse by content", self.name, CONTENT_FIELD)
        return await self.store.find_vectors(self.name, CONTENT_FIELD, list(wanted))


async def native_sources(store: Store, vkey: str, skip: str | None = None) -> list[NativeSource]:
    """roocode-tui's collections in the store that hold vectors of this vector key (not ``skip``)."""
    out = []
    for name in await store.list_collections():
        if name == skip:
            continue
        try:
            meta = await store.get_meta(name)
        except RoocodeError:
            continue
        if meta is not None and meta.vector_key == vkey and meta.staging_for is None:
            out.append(NativeSource(store, name, meta))
    return out


def cut_alike(m: CollectionMeta | None, chunking: str, hybrid: bool) -> bool:
    """Whether a collection's points are cut as a run cutting with today's rules, ``chunking``
    sizes and keyword vectors or not (``hybrid``) cuts them: its files' points may be copied."""
    return m is not None and m.chunker == CHUNKER and m.chunking == chunking and m.hybrid == hybrid


def chunking_of(chunk_tokens: int, overlap_tokens: int) -> str:
    """A collection's ``chunking``: the chunk sizes its files are cut with."""
    return f"{chunk_tokens}/{overlap_tokens}"


class FileCopies:
    """Whole files found in other collections: the same relative path with the same content
    (its hash), every chunk of it there, in a collection cut by the same rules and sizes whose
    vectors are of the run's vector key (``sources``, the run's own first). Such a file is not
    read into chunks again: its points are copied, with the run's root and ids (a worktree's
    unchanged files)."""

    def __init__(self, store: Store, sources: list[str]):
        self.store = store
        self.sources = sources
        self.stats = LookupStats()

    async def find(self, files: dict[str, str]) -> dict[str, tuple[list[PointRecord], str]]:
        """``files``: path -> content hash; answers path -> (its points in chunk order, the source)."""
        wanted = dict(files)
        out: dict[str, tuple[list[PointRecord], str]] = {}
        for name in list(self.sources):
            if not wanted:
                break
            t0 = time.perf_counter()
            try:
                records = await self.store.points_of_paths(name, sorted(wanted))
            except Exception as exc:  # reuse only saves work: a source that fails is left out
                LOG.warning("files of %s not reused: %s", name, exc)
                self.sources.remove(name)
                continue
            finally:
                self.stats.queries += 1
                self.stats.seconds += time.perf_counter() - t0
            groups: dict[tuple[str, str], list[PointRecord]] = {}
            for rec in records:
                key = (str(rec.payload.get("root")), str(rec.payload.get("path")))
                groups.setdefault(key, []).append(rec)
            for (_, path), recs in sorted(groups.items()):
                if path not in wanted:
                    continue
                recs.sort(key=lambda r: int(r.payload.get("chunk_index", -1)))
                whole = [int(r.payload.get("chunk_index", -1)) for r in recs] == list(range(len(recs)))
                if (
                    whole
                    and all(r.payload.get("file_hash") == wanted[path] for r in recs)
                    and all(r.payload.get("chunk_count") == len(recs) for r in recs)
                    and all(len(r.vector) and r.sparse is not None for r in recs)
                ):
                    out[path] = (recs, name)
                    del wanted[path]
                    self.stats.found[name] = self.stats.found.get(name, 0) + len(recs)
        return out


@dataclass
class LookupStats:
    """What looking up vectors cost a run (for the bench and the log)."""

    queries: int = 0
    seconds: float = 0.0
    found: dict[str, int] = field(default_factory=dict)  # source -> chunks


class Recent:
    """The vectors a run embedded last, by content hash: a text that comes again in the run
    (whether or not vectors are looked up in the store) is not embedded twice."""

    def __init__(self, size: int = RECENT):
        self.size = size
        self.vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def get(self, content: str) -> np.ndarray | None:
        return self.vectors.get(content)

    def remember(self, content: str, vector: np.ndarray) -> None:
        self.vectors[content] = vector
        self.vectors.move_to_end(content)
        if len(self.vectors) > self.size:
            self.vectors.popitem(last=False)


class Reuse:
    """Finds vectors by content for one run: the run's own collection first (``own``, when it
    held points before the run), then the other ``sources``."""

    def __init__(self, vkey: str, own: VectorSource | None, sources: list[VectorSource]):
        self.vkey = vkey
        self.own = own
        self.sources = sources
        self.stats = LookupStats()
        #: the run's whole-file copies, whose lookups the summary counts too
        self.copies: FileCopies | None = None
        #: the collection the run's new collection started as a copy of (ingest/seed.py Seed)
        self.seed: Any = None

    async def find(self, hashes: list[str], *, own_exists: bool) -> dict[str, tuple[np.ndarray, bool]]:
        """content hash -> (vector, found in another collection), for the hashes found."""
        out: dict[str, tuple[np.ndarray, bool]] = {}
        missing = {h: content_key(self.vkey, h) for h in dict.fromkeys(hashes)}
        chain: list[tuple[VectorSource, bool]] = [(s, True) for s in self.sources]
        if self.own is not None and own_exists:
            chain.insert(0, (self.own, False))
        for source, other in chain:
            if not missing:
                break
            t0 = time.perf_counter()
            try:
                found = await source.find(missing)
            except Exception as exc:  # reuse only saves work: a source that fails is left out
                LOG.warning("vectors of %s not reused: %s", source.name, exc)
                if other:
                    self.sources.remove(source)
                else:
                    self.own = None
                continue
            finally:
                self.stats.queries += 1
                self.stats.seconds += time.perf_counter() - t0
            for h, vec in found.items():
                if h in missing:
                    out[h] = (vec, other)
                    del missing[h]
            if found:
                self.stats.found[source.name] = self.stats.found.get(source.name, 0) + len(found)
        return out

    def summary(self) -> dict[str, Any]:
        """Where vectors were looked for, the lookups (chunks and whole files), their store
        time, and the chunks found in each collection."""
        found = dict(self.stats.found)
        queries, seconds, copied = self.stats.queries, self.stats.seconds, 0
        if self.copies is not None:
            queries += self.copies.stats.queries
            seconds += self.copies.stats.seconds
            for name, n in self.copies.stats.found.items():
                found[name] = found.get(name, 0) + n
                copied += n
        if self.seed is not None:  # the run's collection is a copy: what it held came from there
            own = found.pop(getattr(self.own, "name", ""), 0)
            if self.seed.kept + own:
                found[self.seed.source] = found.get(self.seed.source, 0) + self.seed.kept + own
        return {
            "sources": [s.name for s in self.sources],
            "queries": queries,
            "seconds": round(seconds, 3),
            "found": found,
            "chunks_of_whole_files": copied,
            **({"collection_copied": self.seed.summary()} if self.seed is not None else {}),
        }
