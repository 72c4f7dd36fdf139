"""Collections on a Qdrant server: their build records, their creation, and the rebuild's alias swap.

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
from typing import Any

from roocode_tui.core.config import check_collection_name
from roocode_tui.core.errors import StoreError
from roocode_tui.core.stores.base import DENSE, KEYWORD_FIELDS, SPARSE, CollectionMeta, same_build
from roocode_tui.core.stores.qdrant.client import QdrantConnection

META_KEY = "roocode_tui"
PHYSICAL = re.compile(r"^(?P<base>.+)--(?P<tag>[0-9a-f]{8})$")  # NAME--1a2b3c4d behind alias NAME


class QdrantCollections(QdrantConnection):
    """Collections behind their aliases: list, create, delete, and rebuild beside the live one."""

    @property
    def vector_datatype(self) -> str:
        """How the collections it creates store their vectors ("float16" or "float32")."""
        return self.settings.vector_datatype

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
            try:  # by NAME in one call: the server resolves the alias as it reads (a rebuild may switch it)
                return await self._meta_of(c, name)
            except Exception as exc:
                if getattr(exc, "status_code", None) == 404 or (
                    isinstance(exc, ValueError) and "not found" in str(exc).lower()  # local mode
                ):
                    return None
                raise

        return await self._do(run)

    @staticmethod
    async def _meta_of(c: Any, physical: str) -> CollectionMeta | None:
        """The build record a collection carries (None: not ours, another tool's)."""
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
