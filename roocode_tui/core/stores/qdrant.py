"""A Qdrant server through ``AsyncQdrantClient`` (or qdrant-client's local mode with ``path``).

The collection's build record (model, dimension, prefixes) lives in Qdrant's collection
metadata under ``roocode_tui``, so every client of the server sees it.

A collection NAME is an alias to a physical collection ``NAME--<8 hex>``: a rebuild fills a
second physical collection and moves the alias in one atomic alias operation, so searches
through NAME never see a half-built index. (Collections made before aliases were used are
plain collections; their first rebuild deletes the old one just before creating the alias.)
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np

from roocode_tui.core.config import StoreSettings, check_collection_name
from roocode_tui.core.errors import CollectionNotFoundError, StoreBusyError, StoreError
from roocode_tui.core.stores.base import (
    DENSE,
    KEYWORD_FIELDS,
    SPARSE,
    STATE_FIELDS,
    CollectionInfo,
    CollectionMeta,
    FileState,
    Hit,
    PointRecord,
    SearchFilter,
    Store,
    accumulate_state,
    dense_of,
    same_build,
)

META_KEY = "roocode_tui"
PHYSICAL = re.compile(r"^(?P<base>.+)--(?P<tag>[0-9a-f]{8})$")  # NAME--1a2b3c4d behind alias NAME
MIN_SERVER = (1, 16, 0)  # collection metadata
SCROLL_PAGE = 2048


class QdrantStore(Store):
    backend = "qdrant"

    def __init__(self, settings: StoreSettings):
        self.settings = settings
        self._client: Any = None
        self._checked = False
        self._api_key = settings.api_key.get_secret_value() if settings.api_key else None
        self._meta_cache: dict[str, CollectionMeta] = {}

    # -- connection --------------------------------------------------------------------------
    @property
    def where(self) -> str:
        s = self.settings
        return f"Qdrant at {s.url}" if s.url else f"Qdrant local mode at {s.data_dir}"

    def _mask(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    async def client(self) -> Any:
        if self._client is None:
            from qdrant_client import AsyncQdrantClient

            s = self.settings
            if s.url:
                kwargs: dict[str, Any] = {
                    "url": s.url,
                    "api_key": self._api_key,
                    "timeout": int(s.timeout_s),
                    "prefer_grpc": s.prefer_grpc,
                }
                if s.https is not None:
                    kwargs["https"] = s.https
                if not s.verify_tls or s.ca_cert:
                    kwargs["verify"] = str(s.ca_cert) if s.ca_cert else False
                kwargs["check_compatibility"] = False  # checked here, with a clearer message
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    self._client = AsyncQdrantClient(**kwargs)
            else:
                s.data_dir.mkdir(parents=True, exist_ok=True)
                try:
                    self._client = AsyncQdrantClient(path=str(s.data_dir))
                except RuntimeError as exc:
                    if "already accessed" in str(exc):
                        raise StoreBusyError(
                            f"{self.where} is open in another process (local mode allows one at a "
                            "time): close it, or use a Qdrant server (store.url)"
                        ) from None
                    raise StoreError(f"{self.where}: {exc}") from None
        if not self._checked:
            self._checked = True
            if self.settings.url:
                await self._check_server()
        return self._client

    async def server_version(self) -> str | None:
        if not self.settings.url:
            return None  # local mode: no server

        async def run(c: Any) -> str:
            return str((await c.info()).version)

        return await self._do(run)

    async def _check_server(self) -> None:
        try:
            info = await self._client.info()
        except Exception as exc:
            raise self._translate(exc) from None
        version = tuple(int(x) for x in re.findall(r"\d+", str(info.version))[:3])
        if version and version < MIN_SERVER:
            raise StoreError(
                f"{self.where} is version {info.version}; roocode-tui needs Qdrant "
                f"{'.'.join(map(str, MIN_SERVER))} or newer (collection metadata)"
            )

    def _translate(self, exc: Exception) -> StoreError:
        text = self._mask(str(exc))
        status = getattr(exc, "status_code", None)
        if status in (401, 403) or "401" in text[:40] or "403" in text[:40] or "Unauthorized" in text:
            return StoreError(f"{self.where}: unauthorised (HTTP {status or '401/403'}): check store.api_key")
        if (
            isinstance(exc, ConnectionError | OSError)
            or any(w in text for w in ("Connection refused", "ConnectError", "Name or service not known", "timed out"))
            or type(exc).__name__ in ("ResponseHandlingException", "ConnectError", "ConnectTimeout")
        ):
            return StoreError(f"{self.where} is unreachable: {text.splitlines()[0] if text else type(exc).__name__}")
        return StoreError(f"{self.where}: {text.splitlines()[0] if text else type(exc).__name__}")

    async def _do(self, fn: Any) -> Any:
        client = await self.client()
        try:
            return await fn(client)
        except StoreError:
            raise
        except Exception as exc:
            if "Not found: Collection" in str(exc) or (
                "not found" in str(exc).lower() and "collection" in str(exc).lower()
            ):
                raise CollectionNotFoundError(f"{self.where}: {self._mask(str(exc)).splitlines()[0]}") from None
            raise self._translate(exc) from None

    async def call(self, fn: Any) -> Any:
        """Run ``fn(client)`` with this store's error messages (for Roo Code's collections)."""
        return await self._do(fn)

    async def info(self, name: str) -> CollectionInfo:
        info = await super().info(name)
        if info.meta is None:
            from roocode_tui.core.roo_qdrant import describe, with_roo

            info = with_roo(info, await describe(self, name))
        return info

    # -- collections -------------------------------------------------------------------------
    @staticmethod
    async def _aliases(c: Any) -> dict[str, str]:
        resp = await c.get_aliases()
        return {a.alias_name: a.collection_name for a in resp.aliases}

    async def _resolve(self, c: Any, name: str) -> str:
        return (await self._aliases(c)).get(name, name)

    async def physical_name(self, name: str) -> str:
        """The physical collection behind a collection name (itself when it is no alias)."""

        async def run(c: Any) -> str:
            return await self._resolve(c, name)

        return await self._do(run)

    async def list_collections(self) -> list[str]:
        async def run(c: Any) -> list[str]:
            resp = await c.get_collections()
            names = {col.name for col in resp.collections}
            aliases = await self._aliases(c)
            hidden = set(aliases.values()) | {n for n in names if PHYSICAL.match(n)}
            return sorted((names - hidden) | set(aliases))

        return await self._do(run)

    async def get_meta(self, name: str) -> CollectionMeta | None:
        match = PHYSICAL.match(name)
        check_collection_name(match["base"] if match else name)

        async def run(c: Any) -> CollectionMeta | None:
            physical = await self._resolve(c, name)
            if not await c.collection_exists(physical):
                return None
            return await self._meta_of(c, physical)

        return await self._do(run)

    @staticmethod
    async def _meta_of(c: Any, physical: str) -> CollectionMeta | None:
        """The build record a physical collection carries (None: not ours, another tool's)."""
        info = await c.get_collection(physical)
        raw = (info.config.metadata or {}).get(META_KEY)
        return CollectionMeta.from_json(raw) if isinstance(raw, dict) else None

    async def save_meta(self, meta: CollectionMeta) -> None:
        async def run(c: Any) -> None:
            physical = await self._resolve(c, meta.name)
            await c.update_collection(physical, metadata={META_KEY: meta.to_json()})

        await self._do(run)

    async def create_collection(self, meta: CollectionMeta) -> None:
        from qdrant_client import models as m

        async def run(c: Any) -> None:
            if meta.name in await self._aliases(c) or await c.collection_exists(meta.name):
                raise StoreError(f"{self.where}: collection {meta.name!r} already exists")
            physical = await self._create_physical(c, meta)
            await c.update_collection_aliases(
                change_aliases_operations=[
                    m.CreateAliasOperation(create_alias=m.CreateAlias(collection_name=physical, alias_name=meta.name))
                ]
            )

        await self._quiet(run)

    async def _quiet(self, run: Any) -> Any:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # local mode: "payload indexes have no effect"
            return await self._do(run)

    async def _create_physical(self, c: Any, meta: CollectionMeta, *, name: str | None = None) -> str:
        """A new physical collection NAME--<tag> built as meta says; returns its name."""
        from qdrant_client import models as m

        s = self.settings
        physical = name or f"{meta.name}--{uuid.uuid4().hex[:8]}"
        await c.create_collection(
            physical,
            vectors_config={
                DENSE: m.VectorParams(
                    size=meta.dimension,
                    distance=m.Distance.COSINE,
                    on_disk=s.on_disk_vectors,
                    datatype=m.Datatype.FLOAT16 if s.vector_datatype == "float16" else m.Datatype.FLOAT32,
                )
            },
            shard_number=s.shard_number,
            replication_factor=s.replication_factor,
            hnsw_config=m.HnswConfigDiff(m=s.hnsw_m, ef_construct=s.hnsw_ef_construct),
            sparse_vectors_config={SPARSE: m.SparseVectorParams(modifier=m.Modifier.IDF)} if meta.hybrid else None,
            metadata={META_KEY: meta.to_json()},
        )
        for field in KEYWORD_FIELDS:
            await c.create_payload_index(physical, field, m.PayloadSchemaType.KEYWORD)
        return physical

    async def _stagings(self, c: Any, name: str) -> list[str]:
        """Physical collections NAME--<tag> that no alias serves: unfinished rebuilds of NAME."""
        resp = await c.get_collections()
        served = set((await self._aliases(c)).values())
        return sorted(
            col.name
            for col in resp.collections
            if (match := PHYSICAL.match(col.name)) and match["base"] == name and col.name not in served
        )

    async def delete_collection(self, name: str) -> bool:
        from qdrant_client import models as m

        async def run(c: Any) -> bool:
            aliases = await self._aliases(c)
            doomed = await self._stagings(c, name)
            if name in aliases:
                await c.update_collection_aliases(
                    change_aliases_operations=[m.DeleteAliasOperation(delete_alias=m.DeleteAlias(alias_name=name))]
                )
                doomed.append(aliases[name])
            elif await c.collection_exists(name):
                doomed.append(name)
            for physical in doomed:
                await c.delete_collection(physical)
            return bool(doomed)

        return await self._do(run)

    # -- rebuild -----------------------------------------------------------------------------
    async def begin_rebuild(self, meta: CollectionMeta) -> str:
        async def run(c: Any) -> str:
            for staging in await self._stagings(c, meta.name):
                old = await self._meta_of(c, staging)
                if old is not None and old.staging_for == meta.name and same_build(old, meta):
                    return staging  # an unfinished rebuild: carry on where it stopped
                await c.delete_collection(staging)
            physical = f"{meta.name}--{uuid.uuid4().hex[:8]}"
            staged = dataclasses.replace(meta, name=physical, staging_for=meta.name, last_run={}, last_indexed_at=None)
            return await self._create_physical(c, staged, name=physical)

        return await self._quiet(run)

    async def finish_rebuild(self, name: str, staging: str) -> None:
        from qdrant_client import models as m

        async def run(c: Any) -> None:
            staged = await self._meta_of(c, staging)
            if staged is None or staged.staging_for != name:
                raise StoreError(f"{self.where}: {staging!r} is not a rebuild of {name!r}")
            meta = dataclasses.replace(staged, name=name, staging_for=None)
            await c.update_collection(staging, metadata={META_KEY: meta.to_json()})
            aliases = await self._aliases(c)
            create = m.CreateAliasOperation(create_alias=m.CreateAlias(collection_name=staging, alias_name=name))
            if name in aliases:  # the switch: one atomic alias operation
                await c.update_collection_aliases(
                    change_aliases_operations=[
                        m.DeleteAliasOperation(delete_alias=m.DeleteAlias(alias_name=name)),
                        create,
                    ]
                )
                if aliases[name] != staging:
                    await c.delete_collection(aliases[name])
                return
            if await c.collection_exists(name):
                await c.delete_collection(name)  # a plain collection from before aliases: a brief gap
            await c.update_collection_aliases(change_aliases_operations=[create])

        await self._do(run)

    async def abort_rebuild(self, name: str) -> bool:
        async def run(c: Any) -> bool:
            stagings = await self._stagings(c, name)
            for staging in stagings:
                await c.delete_collection(staging)
            return bool(stagings)

        return await self._do(run)

    async def staging_of(self, name: str) -> str | None:
        async def run(c: Any) -> str | None:
            for staging in await self._stagings(c, name):
                staged = await self._meta_of(c, staging)
                if staged is not None and staged.staging_for == name:
                    return staging
            return None

        return await self._do(run)

    async def count(self, name: str) -> int:
        async def run(c: Any) -> int:
            return int((await c.count(name, exact=True)).count)

        return await self._do(run)

    # -- points ------------------------------------------------------------------------------
    async def upsert(self, name: str, points: list[PointRecord]) -> None:
        if not points:
            return
        from qdrant_client import models as m

        def vectors(p: PointRecord) -> dict[str, Any]:
            out: dict[str, Any] = {DENSE: p.vector.tolist()}
            if p.sparse is not None and p.sparse[0]:
                out[SPARSE] = m.SparseVector(indices=p.sparse[0], values=p.sparse[1])
            return out

        async def run(c: Any) -> None:
            await c.upsert(
                name,
                points=[m.PointStruct(id=p.id, vector=vectors(p), payload=p.payload) for p in points],
                wait=True,
            )

        await self._do(run)

    async def delete_ids(self, name: str, ids: list[str]) -> None:
        if not ids:
            return
        from qdrant_client import models as m

        async def run(c: Any) -> None:
            await c.delete(name, points_selector=m.PointIdsList(points=list(ids)), wait=True)

        await self._do(run)

    async def set_payload(self, name: str, ids: list[str], payload: dict[str, Any]) -> None:
        if not ids:
            return

        async def run(c: Any) -> None:
            await c.set_payload(name, payload=payload, points=list(ids), wait=True)

        await self._do(run)

    async def file_states(
        self, name: str, roots: list[str], under: list[str] | None = None
    ) -> dict[tuple[str, str], FileState]:
        from qdrant_client import models as m

        must = [m.FieldCondition(key="root", match=m.MatchAny(any=list(roots)))] if roots else []
        should = None
        if under is not None:  # the paths themselves, and what lies below them
            should = [m.FieldCondition(key="path", match=m.MatchAny(any=list(under) or ["\x00"]))]
            should += [m.FieldCondition(key="path", match=m.MatchPrefix(prefix=u + "/")) for u in under]
        flt = m.Filter(must=must or None, should=should) if must or should else None

        async def run(c: Any) -> dict[tuple[str, str], FileState]:
            states: dict[tuple[str, str], FileState] = {}
            offset = None
            while True:
                records, offset = await c.scroll(
                    name,
                    scroll_filter=flt,
                    limit=SCROLL_PAGE,
                    offset=offset,
                    with_payload=STATE_FIELDS,
                    with_vectors=False,
                )
                for rec in records:
                    accumulate_state(states, rec.id, rec.payload or {})
                if offset is None:
                    return states

        return await self._do(run)

    async def get_vectors(self, name: str, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}

        async def run(c: Any) -> dict[str, np.ndarray]:
            records = await c.retrieve(name, ids=list(ids), with_payload=False, with_vectors=[DENSE])
            return {str(rec.id): vec for rec in records if (vec := dense_of(rec.vector)) is not None}

        return await self._do(run)

    async def scroll(
        self, name: str, offset: Any = None, limit: int = 256, *, with_vectors: bool = False
    ) -> tuple[list[PointRecord], Any]:
        async def run(c: Any) -> tuple[list[PointRecord], Any]:
            records, nxt = await c.scroll(
                name, limit=limit, offset=offset, with_payload=True, with_vectors=bool(with_vectors)
            )
            return [PointRecord.from_record(rec.id, rec.payload, rec.vector) for rec in records], nxt

        return await self._do(run)

    async def defines_any(self, name: str, symbols: list[str]) -> bool:
        if not symbols:
            return False
        from qdrant_client import models as m

        flt = m.Filter(must=[m.FieldCondition(key="symbol", match=m.MatchAny(any=list(symbols)))])

        async def run(c: Any) -> bool:
            return int((await c.count(name, count_filter=flt, exact=True)).count) > 0

        return await self._do(run)

    async def distinct_paths(self, name: str) -> list[str]:
        async def run(c: Any) -> list[str]:
            resp = await c.facet(name, key="path", limit=1_000_000, exact=True)
            return sorted(str(h.value) for h in resp.hits)

        return await self._do(run)

    async def search(
        self,
        name: str,
        vector: np.ndarray | None,
        limit: int,
        flt: SearchFilter | None = None,
        *,
        sparse: tuple[list[int], list[float]] | None = None,
        weights: tuple[float, float] = (1.0, 1.0),
        with_vectors: bool = False,
    ) -> list[Hit]:
        from qdrant_client import models as m

        from roocode_tui.core.ranking import fuse, lane_depth, stable_top_async

        query_filter = _qdrant_filter(flt)
        dense_q = vector.astype(np.float32).tolist() if vector is not None else None
        sparse_q = m.SparseVector(indices=sparse[0], values=sparse[1]) if sparse else None
        with_vector: Any = [DENSE] if with_vectors else False

        def lane(query: Any, using: str) -> Callable[[int], Awaitable[list[Hit]]]:
            async def fetch(n: int) -> list[Hit]:
                async def run(c: Any) -> list[Hit]:
                    resp = await c.query_points(
                        name,
                        query=query,
                        using=using,
                        limit=n,
                        query_filter=query_filter,
                        with_payload=True,
                        with_vectors=with_vector,
                    )
                    return [
                        Hit.from_payload(p.id, p.score, p.payload or {}, p.vector if with_vectors else None)
                        for p in resp.points
                    ]

                return await self._do(run)

            return fetch

        if dense_q is not None and sparse_q is not None:
            depth = lane_depth(limit)
            lanes = [
                await stable_top_async(lane(dense_q, DENSE), depth),
                await stable_top_async(lane(sparse_q, SPARSE), depth),
            ]
            return fuse(lanes, weights, limit)
        if dense_q is not None:
            return await stable_top_async(lane(dense_q, DENSE), limit)
        return await stable_top_async(lane(sparse_q, SPARSE), limit)

    async def close(self) -> None:
        if self._client is not None:
            try:
                await self._client.close()
            finally:
                self._client = None


def _qdrant_filter(flt: SearchFilter | None) -> Any:
    if flt is None:
        return None
    from qdrant_client import models as m

    must: list[Any] = []
    if flt.root:
        must.append(m.FieldCondition(key="root", match=m.MatchValue(value=flt.root)))
    if flt.path_prefix:
        must.append(m.FieldCondition(key="path", match=m.MatchPrefix(prefix=flt.path_prefix)))
    if flt.paths is not None:
        must.append(m.FieldCondition(key="path", match=m.MatchAny(any=list(flt.paths) or ["\x00"])))
    if flt.languages:
        must.append(m.FieldCondition(key="language", match=m.MatchAny(any=list(flt.languages))))
    if flt.symbols is not None:
        must.append(m.FieldCondition(key="symbol", match=m.MatchAny(any=list(flt.symbols) or ["\x00"])))
    return m.Filter(must=must) if must else None
