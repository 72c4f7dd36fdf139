"""Roo Code's collections in a Qdrant server: recognise, describe, search, and build them.

Roo Code (src/services/code-index/vector-store/qdrant-client.ts) keeps one collection per
workspace with an unnamed dense vector, no sparse vector and no collection metadata; each
point's payload is ``filePath, codeChunk, startLine, endLine, segmentHash, pathSegments`` and
one marker point records whether indexing finished. Formulas live in :mod:`roocode_tui.core.agents.roo`.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from roocode_tui.core.agents import kilo, roo
from roocode_tui.core.agents import roo_cache as cache
from roocode_tui.core.agents.profile import AgentProfile
from roocode_tui.core.errors import ModelMismatchError, StoreError, UsageError
from roocode_tui.core.ingest.reuse import CONTENT_KEY, content_hash, content_key
from roocode_tui.core.stores.base import AgentIndexInfo, CollectionMeta, FileState, Hit, PointRecord, vectors_by_field
from roocode_tui.core.stores.qdrant.client import scan

RooInfo = AgentIndexInfo  # what a Roo Code collection says about itself

DENSE_ONLY_NOTE = "Roo Code collection: dense search only (it has no keyword vectors)"


def unprefixed(embedder: Any) -> Any:
    """The embedder without query or document prefixes, as Roo Code embeds (shared/embeddingModels.ts
    gives a prefix to nomic-embed-code alone). Shares connections and counters with the original;
    the bundled E5 model still adds its own prefixes (it needs them)."""
    twin = copy.copy(embedder)
    twin.query_prefix = ""
    twin.document_prefix = ""
    return twin


def candidates(settings: Any, extra: list[str] | None = None, cwd: str | None = None) -> list[str]:
    """Paths that may be Roo Code workspaces: ``[roo] workspaces``, configured collection paths,
    recorded collection paths, and the current directory (each with its parents)."""
    out = [str(p) for p in getattr(getattr(settings, "roo", None), "workspaces", [])]
    for c in getattr(settings, "collections", []):
        out += [str(p) for p in c.paths]
    out += list(extra or [])
    out.append(cwd or os.getcwd())
    return out


def _qdrant(store: Any) -> Any:
    if getattr(store, "backend", None) != "qdrant":
        raise UsageError('Roo Code reads its index from a Qdrant server: set [store] backend = "qdrant" and store.url')
    return store


# -- read side -------------------------------------------------------------------------------
async def describe(store: Any, name: str) -> RooInfo | None:
    """A :class:`RooInfo` when ``name`` is a collection in Roo Code's format (Roo Code's, Zoo
    Code's, or Kilo Code's, which has its own metadata point: its owner is then "kilo-code"),
    else None."""
    if getattr(store, "backend", None) != "qdrant" or not roo.is_roo_name(name):
        return None

    async def run(c: Any) -> RooInfo | None:
        if not await c.collection_exists(name):
            return None
        info = await c.get_collection(name)
        vectors = info.config.params.vectors
        if isinstance(vectors, dict) or vectors is None or (info.config.metadata or {}).get("roocode_tui"):
            return None  # named vectors or our metadata: not Roo Code's layout
        markers = await c.retrieve(name, ids=[kilo.MARKER_ID, roo.MARKER_ID], with_payload=True, with_vectors=False)
        found = {str(r.id): r.payload or {} for r in markers}
        kilo_owned = kilo.is_marker(found.get(kilo.MARKER_ID))
        payload = found.get(kilo.MARKER_ID if kilo_owned else roo.MARKER_ID)
        if payload is None:
            sample, _ = await c.scroll(name, limit=1, with_payload=list(roo.PAYLOAD_KEYS), with_vectors=False)
            if sample and not all(k in (sample[0].payload or {}) for k in roo.PAYLOAD_KEYS):
                return None
        elif payload.get("type") != "metadata":
            return None
        total = int((await c.count(name, exact=True)).count)
        owner = {}
        if kilo_owned:
            why = "its metadata point is Kilo Code's"
            if payload.get("indexing_complete") is not True:
                why += " (incomplete: Kilo Code deletes its points when it next starts)"
            owner = {"owner": kilo.KILO.name, "owner_why": why}
        return RooInfo(
            name=name,
            points=total - len(found),
            dimension=int(vectors.size),
            distance=str(getattr(vectors.distance, "value", vectors.distance)),
            indexing_complete=bool(payload.get("indexing_complete")) if payload is not None else None,
            completed_at=roo.ms_to_iso(payload.get("completed_at")) if payload else None,
            started_at=roo.ms_to_iso(payload.get("started_at")) if payload else None,
            **owner,
        )

    return await store.call(run)


async def _kilo_prefix(store: Any, name: str) -> str:
    """The text prefix of the embedding model a Kilo Code collection's metadata point names."""

    async def run(c: Any) -> str:
        found = await c.retrieve(name, ids=[kilo.MARKER_ID], with_payload=True, with_vectors=False)
        payload = (found[0].payload or {}) if found else {}
        return kilo.prefix_of(str(payload.get("embedding_provider")), str(payload.get("embedding_model_id")))

    return await store.call(run)


async def search_many(
    store: Any,
    embedder: Any,
    info: RooInfo,
    queries: list[str],
    *,
    limit: int,
    path: str | None,
    lang: str | None,
    mode: str,
    merge: bool,
    reranker: Any,
    workspaces: list[str] | None,
) -> list[Any]:
    """Search a Roo Code collection the way Roo Code does (vector-store/qdrant-client.ts search()):
    the marker excluded, directories as pathSegments matches, hnsw_ef 128, no query prefix. A
    Kilo Code collection is searched as Kilo Code does: the same request, results without
    ``fileHash`` dropped (isPayloadValid), the query with its model's prefix (ollama's
    nomic-embed-text, as its metadata point names it)."""
    from qdrant_client import models as m

    from roocode_tui.core.files.languages import detect_language
    from roocode_tui.core.search.searcher import SearchResult, merge_adjacent
    from roocode_tui.core.stores.order import stable_top_async

    kilo_owned = info.owner == kilo.KILO.name
    label = kilo.KILO.label if kilo_owned else "Roo Code"
    required = kilo.PAYLOAD_KEYS if kilo_owned else roo.PAYLOAD_KEYS
    if lang:
        raise UsageError(f"collection {info.name!r} is {label}'s: it records no language; filter by --path DIR")
    if path and any(ch in path for ch in "*?["):
        raise UsageError(
            f"collection {info.name!r} is {label}'s: --path takes a directory (matched by its "
            f"path segments, as {label} does), not a glob"
        )
    plain = unprefixed(embedder)
    prefix = await _kilo_prefix(store, info.name) if kilo_owned else ""
    dimension = await plain.dimension()
    if dimension != info.dimension:
        raise ModelMismatchError(
            f"collection {info.name!r} ({label}) holds {info.dimension}-d vectors but the configured "
            f"embedder {plain.model_id} gives {dimension}-d: configure the model {label} indexed it "
            f"with (embedder.model, embedder.dimensions = {info.dimension})"
        )
    must = [
        m.FieldCondition(key=f"pathSegments.{i}", match=m.MatchValue(value=seg))
        for i, seg in enumerate(roo.directory_segments(path or "."))
    ]
    flt = m.Filter(must=must or None, must_not=[m.FieldCondition(key="type", match=m.MatchValue(value="metadata"))])
    workspace = roo.find_workspace(info.name, workspaces or [])
    note = "" if mode == "dense" else DENSE_ONLY_NOTE.replace("Roo Code", label)
    results = []
    t0 = time.perf_counter()
    vectors = await plain.embed_queries([kilo.embed_text(q, prefix) for q in queries])
    embed_ms = (time.perf_counter() - t0) * 1000 / max(1, len(queries))
    for query, vector in zip(queries, vectors, strict=True):
        if vector.shape[0] != info.dimension:
            raise ModelMismatchError(
                f"collection {info.name!r} ({label}) holds {info.dimension}-d vectors but "
                f"{plain.model_id} returned {vector.shape[0]}-d"
            )

        async def fetch(n: int, vector: np.ndarray = vector) -> list[Hit]:
            async def run(c: Any) -> Any:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # local mode: "search_params has no effect"
                    return await c.query_points(
                        info.name,
                        query=vector.astype(np.float32).tolist(),
                        query_filter=flt,
                        search_params=m.SearchParams(hnsw_ef=roo.SEARCH_HNSW_EF, exact=False),
                        limit=n,
                        with_payload=True,
                        with_vectors=False,
                    )

            resp = await store.call(run)
            return [
                Hit(
                    id=str(p.id),
                    score=float(p.score),
                    root=workspace or "",
                    path=str(p.payload["filePath"]),
                    start_line=int(p.payload["startLine"]),
                    end_line=int(p.payload["endLine"]),
                    language=detect_language(str(p.payload["filePath"])),
                    text=str(p.payload["codeChunk"]),
                    heading="",
                )
                for p in resp.points
                if p.payload and all(k in p.payload for k in required)  # isPayloadValid()
            ]

        t1 = time.perf_counter()
        hits = await stable_top_async(fetch, limit * 2 if merge else limit)  # score, then location and id
        store_ms = (time.perf_counter() - t1) * 1000
        if reranker is not None:
            hits = await reranker.rerank(query, hits)
        if merge:
            hits = merge_adjacent(hits)
        filters = {"path": path, "lang": lang}
        results.append(SearchResult(query, info.name, hits[:limit], embed_ms, store_ms, "dense", note, filters))
    return results


# -- write side ------------------------------------------------------------------------------
class RooSchema:
    """How the Indexer builds Roo Code's collection for one workspace instead of ours: chunks,
    ids, payloads, the collection and its marker, and the per-file state of an incremental run.
    Roo Code's point ids hash the chunk's content, so a file whose ids are all present is
    unchanged: nothing beyond Roo Code's own payload keys is needed to plan a run.

    ``profile`` names the agent whose index is built (Roo Code's by default; Zoo Code's keeps
    Roo Code's layout with its own file selection and chunks: ``zoo_qdrant.ZooSchema``). An
    agent whose points or metadata differ overrides :meth:`block_payload`,
    :meth:`marker_payload` (and :attr:`marker_id`, :attr:`foreign_marker`), :meth:`embed_input`
    and :meth:`write_cache` (Kilo Code's: ``kilo_qdrant.KiloSchema``).

    A collection that holds another layout's metadata point (Kilo Code's, for Roo Code's and
    Zoo Code's) is refused before anything is written: the two agents share collection names."""

    native = False  # the agent's own chunking: roocode-tui's rules versions do not apply
    vector_key = ""  # the run's (ingest/reuse.py): our points carry it in their content key

    def __init__(self, store: Any, workspace: str, cache_file: Path | None = None, profile: AgentProfile = roo.ROO):
        self.profile = profile
        #: the agent's package name ("roo-code", "zoo-code")
        self.owner = profile.name
        self.store = _qdrant(store)
        self.workspace = roo.workspace_path(workspace)
        self.collection = roo.collection_name(self.workspace)
        self.root_key = str(Path(self.workspace).resolve())  # the Indexer's root
        self.dimension = 0
        #: every point id per file, whoever wrote it (filled by file_states)
        self.present: dict[tuple[str, str], set[str]] = {}
        #: the walker applies the agent's file selection and size limit, and follows symlinks
        self.walk_rules = roo.RooRules(self.workspace, profile)
        self.max_file_bytes = profile.max_file_bytes
        self.follow_symlinks = True
        #: the agent's cache file to write after a complete run (``--write-cache``), and the
        #: hash of every file the run read whole, as its scanner hashes it
        self.cache_file = cache_file
        self.hashes: dict[str, str] = {}

    #: vector-store/qdrant-client.ts: the metadata point's id
    marker_id = roo.MARKER_ID
    #: the metadata point of the other layout under the same collection name: (its id, whose it
    #: is, the --schema that builds it)
    foreign_marker = (kilo.MARKER_ID, "Kilo Code's", "kilo")

    def marker_payload(self, complete: bool, at_ms: int) -> dict[str, object]:
        """The metadata point's payload (qdrant-client.ts markIndexingComplete/Incomplete)."""
        return roo.marker_payload(complete, at_ms)

    def block_payload(self, file_path: str, block: roo.Block, file_hash: str = "") -> dict[str, object]:
        """A block's payload (scanner.ts processBatch, qdrant-client.ts upsertPoints); ``file_hash``:
        sha256 of the file's text, which Roo Code's payload does not hold."""
        return roo.payload(file_path, block)

    def embed_input(self, block: roo.Block) -> str:
        """What the agent embeds for a block (scanner.ts: the trimmed block)."""
        return roo.js_trim(block.content)

    # -- the collection --------------------------------------------------------------------
    async def ensure_collection(self, indexer: Any) -> CollectionMeta:
        from qdrant_client import models as m

        dimension = self.dimension = await indexer.embedder.dimension()
        name = self.collection
        label, key = self.profile.label, self.profile.key

        async def probe(c: Any) -> tuple[Any, dict[str, dict[str, Any]]] | None:
            """The collection's vectors and its metadata points (both layouts'), or None."""
            if not await c.collection_exists(name):
                return None
            vectors = (await c.get_collection(name)).config.params.vectors
            found = await c.retrieve(name, ids=[roo.MARKER_ID, kilo.MARKER_ID], with_payload=True, with_vectors=False)
            return vectors, {str(r.id): r.payload or {} for r in found}

        existing = await self.store.call(probe)
        if indexer.dry_run:  # nothing written: a collection that is not there has no points to compare
            if existing is None:
                indexer._new_in_dry_run = True
        if existing is not None:  # refused here, before anything is written
            vectors, markers = existing
            if isinstance(vectors, dict) or vectors is None:
                raise StoreError(f"collection {name!r} exists but is not in {label}'s format (named vectors)")
            if int(vectors.size) != dimension:
                raise ModelMismatchError(
                    f"collection {name!r} ({label}) holds {vectors.size}-d vectors but "
                    f"{indexer.embedder.model_id} gives {dimension}-d: configure the model it was built "
                    f"with, or rebuild it: roocode-tui index {self.workspace} --schema {key} --rebuild"
                )
            self.check_existing(markers)

        async def run(c: Any) -> None:
            if existing is None:
                # vector-store/qdrant-client.ts initialize()
                await c.create_collection(
                    name,
                    vectors_config=m.VectorParams(size=dimension, distance=m.Distance.COSINE, on_disk=True),
                    hnsw_config=m.HnswConfigDiff(m=roo.HNSW_M, ef_construct=roo.HNSW_EF_CONSTRUCT, on_disk=True),
                )
            # _createPayloadIndexes(): "type" and pathSegments.0 .. 4, keyword; and ours: the
            # content key by which another workspace's run finds our vectors (ingest/reuse.py)
            for field in ["type"] + [f"pathSegments.{i}" for i in range(roo.INDEXED_SEGMENTS)] + [CONTENT_KEY]:
                await c.create_payload_index(name, field, m.PayloadSchemaType.KEYWORD)
            await self.started(c)

        if not indexer.dry_run:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # local mode: "payload indexes have no effect"
                await self.store.call(run)
        return CollectionMeta(
            name=name,
            model=indexer.embedder.model_id,
            dimension=dimension,
            query_prefix="",
            document_prefix="",
            hybrid=False,
        )

    def check_existing(self, markers: dict[str, dict[str, Any]]) -> None:
        """Refuse an existing collection that holds the other layout's metadata point (``markers``:
        the metadata points it holds, by id)."""
        mid, whose, schema = self.foreign_marker
        if kilo.is_marker(markers.get(mid)):
            raise UsageError(
                f"collection {self.collection!r} holds {whose} index (its metadata point {mid}), not "
                f"{self.profile.label}'s: --schema {self.profile.key} does not write into it (nothing written); "
                f"index it with --schema {schema}, or delete the collection first"
            )

    async def started(self, client: Any) -> None:
        """The run begins: Roo Code's marker says incomplete (orchestrator.ts)."""
        await self._mark(client, complete=False)

    async def _mark(self, client: Any, *, complete: bool) -> None:
        from qdrant_client import models as m

        await client.upsert(
            self.collection,
            points=[
                m.PointStruct(
                    id=self.marker_id,
                    vector=[0.0] * self.dimension,
                    payload=self.marker_payload(complete, roo.now_ms()),
                )
            ],
            wait=True,
        )

    def interrupted_note(self) -> str:
        return ""  # the files written are complete; the marker says incomplete until a run ends

    async def finish(self, indexer: Any, meta: CollectionMeta | None = None) -> None:
        """The run got to the end: the marker says complete (the agent marks it after a scan),
        and the agent's cache is written when asked for and every file went in."""

        async def run(c: Any) -> None:
            await self._mark(c, complete=True)

        await self.store.call(run)
        if self.cache_file is not None:
            self._write_cache(indexer.progress)

    def cache_file_for(self, dest: str | None) -> Path:
        """The agent's cache file of this workspace (in ``dest``, else where the agent keeps it);
        refused while something holds it."""
        path = cache.cache_path(self.workspace, dest, self.profile)
        cache.refuse_if_held(path, self.profile)
        return path

    def write_cache(self, path: Path, hashes: dict[str, str]) -> None:
        """The agent's cache file (code-index/cache-manager.ts: path -> sha256 of the text)."""
        cache.refuse_if_held(path, self.profile)
        cache.write(path, hashes)

    def _write_cache(self, p: Any) -> None:
        label = self.profile.label
        if p.files_failed:
            p.message = (
                f"{label}'s cache not written: {p.files_failed} file(s) failed; run again once they are "
                f"readable, or let {label} index them"
            )
            return
        try:
            assert self.cache_file is not None
            self.write_cache(self.cache_file, self.hashes)
        except (UsageError, OSError) as exc:
            p.message = f"{label}'s cache not written: {exc}"
            return
        p.agent_cache = str(self.cache_file)
        p.message = (
            f"wrote {label}'s cache {self.cache_file} ({len(self.hashes)} files): {label} will find "
            "this workspace indexed and embed nothing again"
        )

    # -- planning ----------------------------------------------------------------------------
    async def file_states(
        self, name: str, roots: list[str], under: list[str] | None = None
    ) -> dict[tuple[str, str], FileState]:
        """The points this project wrote, per file (only those may be deleted); every point id
        per file, whoever wrote it, goes to :attr:`present`. (Runs fed with changed paths are
        the engine's watchers', which Roo Code's collections do not have: ``under`` is None.)"""
        if under is not None:
            raise ValueError("Roo Code's collections are indexed whole, not from changed paths")
        from qdrant_client import models as m

        flt = m.Filter(must_not=[m.FieldCondition(key="type", match=m.MatchValue(value="metadata"))])

        async def run(c: Any) -> dict[tuple[str, str], FileState]:
            states: dict[tuple[str, str], FileState] = {}
            present: dict[tuple[str, str], set[str]] = {}
            async for rec in scan(c, name, flt, with_payload=["filePath", roo.OWNER_KEY, *self.state_keys]):
                payload = rec.payload or {}
                path = payload.get("filePath")
                if not isinstance(path, str):
                    continue
                key = (self.root_key, path)
                present.setdefault(key, set()).add(str(rec.id))
                if payload.get(roo.OWNER_KEY) == roo.OWNER:
                    states.setdefault(key, FileState()).ids.add(str(rec.id))
                    self.note_ours(key, payload)
            self.present = present
            return states

        return await self.store.call(run)

    #: payload keys of our points that :meth:`note_ours` reads
    state_keys: tuple[str, ...] = ()

    def note_ours(self, key: tuple[str, str], payload: dict[str, Any]) -> None:
        """One of our points, seen while planning (its :attr:`state_keys` in ``payload``)."""

    def current(self, key: tuple[str, str], digest: str) -> bool:
        """Whether our points of a file whose blocks are all present hold its text of now
        (``digest``: sha256 of it). Roo Code's payload records nothing more than the blocks."""
        return True

    def examine(self, indexer: Any, sf: Any, root: str, states: dict, max_bytes: int, protected: set) -> Any:
        """The walker's verdict on one file (runs in the walker thread). The walker applied Roo
        Code's selection (:class:`roo.RooRules`); what is left to check needs the bytes."""
        from roocode_tui.core.chunking.splitter import Chunk, estimate_tokens
        from roocode_tui.core.files.discovery import Skip
        from roocode_tui.core.ingest.jobs import FileJob

        key = (root, sf.path)
        if sf.size > self.profile.max_file_bytes:
            return ("skip", Skip(sf.root, sf.path, f"larger than {self.profile.label}'s 1 MiB limit"))
        try:
            data = sf.abspath.read_bytes()
        except FileNotFoundError:
            return ("skip", Skip(sf.root, sf.path, "file disappeared while indexing"))
        except OSError as exc:
            protected.add(key)  # keep what we had: nothing is lost to a passing error
            return ("fail", (sf.path, f"unreadable: {exc.strerror or exc}"))
        abs_path = os.path.join(self.workspace, *sf.path.split("/"))
        text = roo.decode(data)
        digest = roo._sha256(text)  # scanner.ts: sha256 of the text (roo_cache.file_hash)
        if self.cache_file is not None:  # Roo Code's scanner hashes every file it reads
            self.hashes[cache.js_string(abs_path)] = digest
        blocks = [b for b in roo.split(text, abs_path, self.profile) if roo.js_trim(b.content)]
        if not blocks:
            return ("skip", Skip(sf.root, sf.path, "no block of 50 characters or more"))
        protected.add(key)
        st = states.get(key)
        ours = st.ids if st is not None else set()
        present = self.present.get(key, set())
        ids = {b.id for b in blocks}
        if ids <= present and ours <= ids and self.current(key, digest):
            return ("unchanged", sf)
        # A block Roo Code wrote itself (same id: the same text at the same lines) stays Roo
        # Code's: it is neither written again nor, later, deleted.
        theirs = present - ours
        mine = [b for b in blocks if b.id not in theirs]
        chunks = []
        for i, b in enumerate(mine):
            embed = self.embed_input(b)
            chunks.append(
                Chunk(i, b.start_line, b.end_line, b.content, "", embed, b.segment_hash, estimate_tokens(embed))
            )
        return ("file", FileJob(sf, root, digest, chunks, [b.id for b in mine], st))

    # -- points ------------------------------------------------------------------------------
    def point(self, job: Any, i: int, chunk: Any, pid: str, vector: np.ndarray, stamp: str) -> PointRecord:
        """The point Roo Code writes for a block: its id, the dense vector, Roo Code's payload."""
        block = roo.Block(chunk.start_line, chunk.end_line, chunk.text, chunk.chunk_hash)
        payload = self.block_payload(job.sf.path, block, job.file_hash)
        # what was embedded, under which model: a point the agent writes has none (never lent)
        payload[CONTENT_KEY] = content_key(self.vector_key, content_hash(chunk, native=False))
        return PointRecord(id=pid, vector=vector, payload=payload)

    def own_source(self, indexer: Any) -> AgentSource:
        return AgentSource(self.store, self.collection)

    async def upsert(self, name: str, points: list[PointRecord]) -> None:
        from qdrant_client import models as m

        async def run(c: Any) -> None:
            structs = [m.PointStruct(id=p.id, vector=p.vector.tolist(), payload=p.payload) for p in points]
            await c.upsert(name, points=structs, wait=True)

        if points:
            await self.store.call(run)

    async def get_vectors(self, name: str, ids: list[str]) -> dict[str, np.ndarray]:
        async def run(c: Any) -> dict[str, np.ndarray]:
            records = await c.retrieve(name, ids=list(ids), with_payload=False, with_vectors=True)
            return {str(r.id): np.asarray(r.vector, dtype=np.float32) for r in records if isinstance(r.vector, list)}

        return await self.store.call(run) if ids else {}


class AgentSource:
    """A coding agent's collection as a place to find vectors by content: the points
    roocode-tui wrote there carry the content key (model and text) of what was embedded."""

    #: Roo Code's layout stores float32 vectors (vector-store/qdrant-client.ts)
    vector_datatype = "float32"

    def __init__(self, store: Any, name: str):
        self.store = store
        self.name = name

    async def find(self, wanted: dict[str, str]) -> dict[str, np.ndarray]:
        from qdrant_client import models as m

        by_key = {k: h for h, k in wanted.items()}
        flt = m.Filter(must=[m.FieldCondition(key=CONTENT_KEY, match=m.MatchAny(any=list(by_key)))])

        async def run(c: Any) -> dict[str, np.ndarray]:
            records = [rec async for rec in scan(c, self.name, flt, with_payload=[CONTENT_KEY], with_vectors=True)]
            return {by_key[k]: vec for k, vec in vectors_by_field(records, CONTENT_KEY).items() if k in by_key}

        return await self.store.call(run)


async def agent_sources(store: Any, vkey: str, skip: str | None = None) -> list[AgentSource]:
    """The agents' collections in a Qdrant server that hold points roocode-tui wrote (their
    content key indexed): a run of this vector key may take vectors from them."""
    if getattr(store, "backend", None) != "qdrant":
        return []
    from qdrant_client import models as m

    async def run(c: Any) -> list[AgentSource]:
        out = []
        for col in (await c.get_collections()).collections:
            name = col.name
            if name == skip or not roo.is_roo_name(name):
                continue
            indexed = (await c.get_collection(name)).payload_schema or {}
            if CONTENT_KEY in indexed:
                out.append(AgentSource(store, name))
            elif not indexed:  # qdrant-client's local mode keeps no payload indexes: look for one point
                flt = m.Filter(must_not=[m.IsEmptyCondition(is_empty=m.PayloadField(key=CONTENT_KEY))])
                found, _ = await c.scroll(name, scroll_filter=flt, limit=1, with_payload=False, with_vectors=False)
                if found:
                    out.append(AgentSource(store, name))
        return out

    return await store.call(run)


def workspace_for(paths: list[str], cwd: str | None = None) -> str:
    """The workspace an ``index --schema roo [PATH]`` run means: PATH (relative to ``cwd``, the
    face's directory), or ``cwd`` itself."""
    here = cwd or os.getcwd()
    return roo.workspace_path(os.path.join(here, os.path.expanduser(paths[0])) if paths else here)


async def prepare_indexer(
    settings: Any,
    store: Any,
    embedder: Any,
    paths: list[str],
    collection: str | None,
    *,
    rebuild: bool = False,
    on_progress: Any = None,
    cwd: str | None = None,
    agent_cache: str | None = None,
    profile: AgentProfile = roo.ROO,
    schema_class: type[RooSchema] | None = None,
    schema_options: dict[str, Any] | None = None,
) -> Any:
    """An Indexer that builds Roo Code's collection (or the profile's agent's: ``schema_class``,
    made with ``schema_options``) for the workspace PATH (default: ``cwd``); with ``agent_cache``
    ("" or a directory or file), one that writes the agent's cache too."""
    from roocode_tui.core.ingest.indexer import Indexer

    key = profile.key
    if len(paths) > 1:
        raise UsageError(f"--schema {key} indexes one workspace: give one PATH (the folder {profile.label} opens)")
    workspace = workspace_for(paths, cwd)
    if not os.path.isdir(workspace):
        raise UsageError(f"--schema {key} needs a workspace directory: {workspace} is not one")
    schema = (schema_class or RooSchema)(store, workspace, None, profile, **(schema_options or {}))
    if agent_cache is not None:
        schema.cache_file = schema.cache_file_for(agent_cache or None)  # refused here if held, not after the run
    if collection and collection != schema.collection:
        raise UsageError(
            f"--schema {key} names the collection after the workspace ({schema.collection} for "
            f"{workspace}); leave out --collection"
        )
    if rebuild:
        await store.delete_collection(schema.collection)
    return Indexer(
        store,
        unprefixed(embedder),
        schema.collection,
        [Path(workspace)],
        index=settings.index,
        on_progress=on_progress,
        schema=schema,
    )


def with_roo(info: Any, roo_info: RooInfo | None) -> Any:
    return dataclasses.replace(info, points=roo_info.points, roo=roo_info) if roo_info is not None else info


def workspace_of(settings: Any, info: Any, infos: list[Any]) -> str | None:
    """The workspace of a Roo Code collection, when a known path (or a parent of one) hashes to it."""
    if getattr(info, "roo", None) is None:
        return None
    recorded = [p for i in infos if i.meta is not None for p in i.meta.paths]
    found = candidates(settings, recorded)
    # Kilo Code names the collection after the realpath of its workspace
    return roo.find_workspace(info.name, found) or roo.find_workspace(info.name, [os.path.realpath(p) for p in found])
