"""Kilo Code's collection in a Qdrant server: built as Kilo Code builds it, kept as Kilo Code keeps it.

The layout is Roo Code's (collection name formula, vector and HNSW settings, payload indexes,
point ids, ``pathSegments``), so reading and searching one is
:mod:`roocode_tui.core.agents.roo_qdrant`'s work, which tells a Kilo collection by its metadata
point. What a run does here differs (bench/kilo_ref/NOTES.md sections 3-9):

* points have Kilo's payload (``fileHash`` after ``filePath``) and are embedded as Kilo embeds
  them (the trimmed block, with the prefix of ollama's nomic-embed-text);
* the metadata point is Kilo's: id ``f946a536-...``, ``index_schema`` 2 and the embedding
  profile Kilo is configured with (:mod:`roocode_tui.core.agents.kilo_config`). On every start
  Kilo deletes and recreates a collection with points whose metadata point differs from its
  configuration, and deletes every point when the marker says incomplete
  (qdrant-client.ts:271-335, orchestrator.ts:218-226). So the marker says incomplete only from
  this run's first write to its end, and a collection whose marker names another profile is
  refused rather than mixed;
* a collection holding Roo Code's (or Zoo Code's) metadata point is refused, and a Roo Code run
  refuses a collection holding Kilo's (:meth:`roo_qdrant.RooSchema.check_existing`);
* a run deletes only points it wrote (``indexedBy``), never Kilo's, as with Roo Code; a point
  Kilo rewrites (same id) is Kilo's from then on. Kilo deletes by path whatever lies under a
  file it re-indexes, ours included; it never deletes points of a file it has not cached;
* ``--write-cache`` writes Kilo's cache file into ``$XDG_STATE_HOME/kilo/indexing/``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from roocode_tui.core.agents import kilo, kilo_config, roo, roo_qdrant
from roocode_tui.core.agents.kilo import KILO
from roocode_tui.core.agents.profile import AgentProfile
from roocode_tui.core.errors import ModelMismatchError, UsageError
from roocode_tui.core.stores.base import CollectionMeta, PointRecord


class KiloSchema(roo_qdrant.RooSchema):
    """How the Indexer builds Kilo Code's collection for one workspace (its realpath)."""

    marker_id = kilo.MARKER_ID
    foreign_marker = (roo.MARKER_ID, "Roo Code's or Zoo Code's", "roo|zoo")
    state_keys = ("fileHash",)

    def __init__(
        self,
        store: Any,
        workspace: str,
        cache_file: Path | None = None,
        profile: AgentProfile = KILO,
        kilo_profile: kilo_config.Profile | None = None,
    ):
        super().__init__(store, kilo.workspace_path(workspace), cache_file, profile)
        self.walk_rules = kilo.KiloRules(self.workspace)
        #: the embedding profile the metadata point records (Kilo's configuration, or derived)
        self.kilo_profile = kilo_profile or kilo_config.Profile("openai-compatible", "", None, "")
        self.prefix = kilo.prefix_of(self.kilo_profile.provider, self.kilo_profile.model_id)
        #: the fileHash values of our points, per file (filled by file_states)
        self.our_hashes: dict[tuple[str, str], set[Any]] = {}
        self._marked = False  # the marker says incomplete since this run's first write

    # -- points and marker -----------------------------------------------------------------
    def block_payload(self, file_path: str, block: roo.Block, file_hash: str = "") -> dict[str, object]:
        return kilo.payload(file_path, file_hash, block)

    def embed_input(self, block: roo.Block) -> str:
        return kilo.document_text(block, self.prefix)

    def marker_payload(self, complete: bool, at_ms: int) -> dict[str, object]:
        p = self.kilo_profile
        return kilo.marker_payload(p.provider, p.model_id, p.dimension or self.dimension, complete, at_ms)

    def note_ours(self, key: tuple[str, str], payload: dict[str, Any]) -> None:
        self.our_hashes.setdefault(key, set()).add(payload.get("fileHash"))

    def current(self, key: tuple[str, str], digest: str) -> bool:
        """Kilo's payload records the file's hash: our points of an older text are written again."""
        return self.our_hashes.get(key, {digest}) == {digest}

    # -- the collection --------------------------------------------------------------------
    async def ensure_collection(self, indexer: Any) -> CollectionMeta:
        dimension = await indexer.embedder.dimension()
        p = self.kilo_profile
        if p.dimension is not None and p.dimension != dimension:
            raise ModelMismatchError(
                f"Kilo Code is configured with {p.describe()} ({p.source}) but the embedder "
                f"{indexer.embedder.model_id} gives {dimension}-d vectors: Kilo Code would delete the collection; "
                "configure the embedder Kilo Code uses"
            )
        self.kilo_profile = p = dataclasses.replace(
            p, dimension=dimension, model_id=p.model_id if p.from_kilo else indexer.embedder.model_id
        )
        self.prefix = kilo.prefix_of(p.provider, p.model_id)
        indexer.progress.message = (
            f"{self.profile_note()}; the metadata point says incomplete from this run's first write to its "
            "end: if it stops before, Kilo Code deletes every point of the collection when it next starts "
            "(run it again to finish)"
        )
        return await super().ensure_collection(indexer)

    def check_existing(self, markers: dict[str, dict[str, Any]]) -> None:
        """Roo Code's metadata point refused (the base class); Kilo's, when it names another
        embedding profile or index schema than this run's, refused too: Kilo indexed it with
        another model (or its configuration changed, and Kilo will recreate it)."""
        super().check_existing(markers)
        stored = markers.get(kilo.MARKER_ID)
        if not kilo.is_marker(stored):
            return
        assert stored is not None
        ours = self.marker_payload(True, 0)
        keys = ("index_schema", "embedding_provider", "embedding_model_id", "embedding_dimension")
        if any(stored.get(k) != ours[k] for k in keys):
            was = ", ".join(f"{k} {stored.get(k)!r}" for k in keys)
            raise UsageError(
                f"collection {self.collection!r} holds Kilo Code's index of another profile ({was}); this run "
                f"would write {self.kilo_profile.describe()}: nothing written. Rebuild it: roocode-tui index "
                f"{self.workspace} --schema kilo --rebuild (or configure the embedder Kilo Code used)"
            )

    async def started(self, client: Any) -> None:
        """Nothing yet: the marker says incomplete once this run writes (:meth:`upsert`), so a run
        that changes nothing never leaves a complete collection marked incomplete."""

    async def upsert(self, name: str, points: list[PointRecord]) -> None:
        if points and not self._marked:

            async def mark(c: Any) -> None:
                await self._mark(c, complete=False)

            await self.store.call(mark)  # orchestrator.ts: markIndexingIncomplete before the points
            self._marked = True
        await super().upsert(name, points)

    async def finish(self, indexer: Any, meta: CollectionMeta | None = None) -> None:
        p = indexer.progress
        p.message = ""
        await super().finish(indexer, meta)  # the marker complete, the cache file when asked for
        p.message = "; ".join(m for m in (p.message, self.profile_note()) if m)

    def interrupted_note(self) -> str:
        """What a run that stopped before its end leaves Kilo Code ("" when it wrote nothing)."""
        if not self._marked:
            return ""
        return (
            f"Kilo Code's metadata point in {self.collection!r} says incomplete: Kilo Code deletes every point "
            "of the collection when it next starts; run the index again to finish it"
        )

    def profile_note(self) -> str:
        """Where the metadata point's profile came from, and what Kilo Code needs to keep the collection."""
        p = self.kilo_profile
        if p.from_kilo:
            note = f"Kilo Code's metadata point: {p.describe()} (Kilo Code's config: {p.source})"
            if p.vector_store != "qdrant":
                note += (
                    f"; Kilo Code's config keeps its index in {p.vector_store} (indexing.vectorStore): "
                    'it reads this collection once that is "qdrant"'
                )
            return note
        config = kilo_config.config_dir() / "kilo.jsonc"
        return (
            f"Kilo Code's metadata point: {p.describe()}, derived from roocode-tui's embedder (no indexing "
            f"section in {config}): Kilo Code keeps the collection only when its indexing config has "
            f'provider "{p.provider}", model "{p.model_id}", dimension {p.dimension} and vectorStore "qdrant"; '
            "otherwise it deletes and rebuilds it"
        )

    # -- the cache file --------------------------------------------------------------------
    def cache_file_for(self, dest: str | None) -> Path:
        path = kilo.cache_path(self.workspace, dest)
        kilo.refuse_if_held(path)
        return path

    def write_cache(self, path: Path, hashes: dict[str, str]) -> None:
        kilo.refuse_if_held(path)
        kilo.write_cache(path, hashes)


async def marker_of(store: Any, name: str) -> str | None:
    """Which metadata point a collection holds: ``kilo-code`` (Kilo Code's), ``roo-layout``
    (Roo Code's, which Zoo Code writes too), or None (no collection, or neither)."""
    if getattr(store, "backend", None) != "qdrant" or not roo.is_roo_name(name):
        return None

    async def run(c: Any) -> str | None:
        if not await c.collection_exists(name):
            return None
        found = await c.retrieve(name, ids=[kilo.MARKER_ID, roo.MARKER_ID], with_payload=True, with_vectors=False)
        ids = {str(r.id) for r in found if kilo.is_marker(r.payload)}
        if kilo.MARKER_ID in ids:
            return KILO.name
        return "roo-layout" if roo.MARKER_ID in ids else None

    return await store.call(run)


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
) -> Any:
    """An Indexer that builds Kilo Code's collection for the workspace PATH (default: ``cwd``),
    with the embedding profile of Kilo's configuration; with ``agent_cache`` ("" or a directory or
    file), one that writes Kilo's cache file too (in ``$XDG_STATE_HOME/kilo/indexing/`` when "")."""
    workspace = kilo.workspace_path(roo_qdrant.workspace_for(paths, cwd))
    profile = kilo_config.resolve(workspace, getattr(settings, "embedder", None), getattr(embedder, "model_id", ""))
    return await roo_qdrant.prepare_indexer(
        settings,
        store,
        embedder,
        paths,
        collection,
        rebuild=rebuild,
        on_progress=on_progress,
        cwd=cwd,
        agent_cache=agent_cache,
        profile=KILO,
        schema_class=KiloSchema,
        schema_options={"kilo_profile": profile},
    )
