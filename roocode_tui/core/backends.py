"""What the CLI and the TUI share: resolving collections and opening store and embedder."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from roocode_tui.core.chunking import splitter as chunking
from roocode_tui.core.config import CollectionSettings, Settings
from roocode_tui.core.embedders import Embedder, make_embedder
from roocode_tui.core.errors import UsageError
from roocode_tui.core.stores import Store, open_store


def name_for_path(path: Path) -> str:
    """A collection name derived from a directory name."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", path.resolve().name).strip("-.")
    return base[:63] or "default"


@dataclass
class IndexTarget:
    name: str
    roots: list[Path]
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)


async def resolve_index_target(
    settings: Settings, store: Store, paths: list[str], collection: str | None, cwd: str | None = None
) -> IndexTarget:
    """Which collection and roots an ``index`` run covers.

    PATHs override the configured paths. With neither PATHs nor a configured collection,
    the collection's recorded paths are used, and failing that the current directory (the
    face's: ``cwd``; relative PATHs are relative to it too).
    """
    here = Path(cwd) if cwd else Path.cwd()
    name = collection or settings.default_collection
    configured: CollectionSettings | None = settings.collection(name) if name else None
    if name is None and not paths:
        if len(settings.collections) == 1:
            configured = settings.collections[0]
            name = configured.name
        elif len(settings.collections) > 1:
            names = ", ".join(c.name for c in settings.collections)
            raise UsageError(f"several collections are configured ({names}): choose one with --collection")
    include = list(configured.include) if configured else []
    exclude = list(configured.exclude) if configured else []
    meta = await store.get_meta(name) if name else None
    if meta is not None and configured is None:
        include, exclude = list(meta.include), list(meta.exclude)
    if paths:
        roots = [here / Path(p).expanduser() for p in paths]
    elif configured and configured.paths:
        roots = list(configured.paths)
    elif meta is not None and meta.paths:
        roots = [Path(p) for p in meta.paths]
    else:
        roots = [here]
    for root in roots:
        if not root.exists():
            raise UsageError(f"path does not exist: {root}")
    if name is None:
        name = name_for_path(roots[0] if roots[0].is_dir() else roots[0].parent)
    return IndexTarget(name=name, roots=[r.resolve() for r in roots], include=include, exclude=exclude)


async def resolve_search_collection(
    settings: Settings, store: Store, collection: str | None, cwd: str | None = None
) -> str:
    if collection:
        return collection
    if settings.default_collection:
        return settings.default_collection
    existing = await store.list_collections()
    if len(settings.collections) == 1:
        return settings.collections[0].name
    here = name_for_path(Path(cwd) if cwd else Path.cwd())
    if here in existing:
        return here
    if len(existing) == 1:
        return existing[0]
    if not existing:
        raise UsageError("no collections yet: index something first (roocode-tui index PATH)")
    raise UsageError(f"choose a collection with --collection (one of: {', '.join(existing)})")


def open_backends(settings: Settings) -> tuple[Store, Embedder]:
    return open_store(settings.store), make_embedder(settings.embedder)


async def create_collection(
    store: Store, embedder: Embedder, name: str, paths: list[str], include: list[str], exclude: list[str]
) -> None:
    """An empty collection that remembers its paths and globs (indexed later)."""
    from roocode_tui.core.config import check_collection_name
    from roocode_tui.core.stores.base import PORTABLE_IDS, CollectionMeta

    try:
        check_collection_name(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    roots = [Path(p).expanduser().resolve() for p in paths]
    for root in roots:
        if not root.exists():
            raise UsageError(f"path does not exist: {root}")
    meta = CollectionMeta(
        name=name,
        model=embedder.model_id,
        dimension=await embedder.dimension(),
        query_prefix=embedder.query_prefix,
        document_prefix=embedder.document_prefix,
        paths=[str(r) for r in roots],
        include=list(include),
        exclude=list(exclude),
        chunker=chunking.CHUNKER,  # empty: whatever it gets is cut by today's rules
        point_ids=PORTABLE_IDS,
    )
    await store.create_collection(meta)


def load_index_path() -> None:
    """Import now what an index run imports on its way to its first batch: the modules this file
    loads lazily, the splitter's library (langchain-text-splitters, ~0.1 s: it brings
    langchain-core), the syntax trees' grammars, the HTTP client's transport. An engine started
    for a run calls this before it listens; otherwise the run's reader thread imports them
    after the first request, with the embedding server idle (engine/server.py ``serve``)."""
    import anyio  # noqa: F401  (httpcore's backend, at the first connection)
    import httpcore  # noqa: F401  (httpx imports it at the first client)
    import langchain_text_splitters  # noqa: F401
    import tree_sitter_language_pack  # noqa: F401

    from roocode_tui.core.agents import roo_qdrant, schemas  # noqa: F401
    from roocode_tui.core.chunking import syntax  # noqa: F401
    from roocode_tui.core.ingest import indexer  # noqa: F401


async def prepare_indexer(
    settings: Settings,
    store: Store,
    embedder: Embedder,
    paths: list[str],
    collection: str | None,
    *,
    rebuild: bool = False,
    on_progress: Any = None,
    schema: str = "native",
    cwd: str | None = None,
    changes: dict[str, list[str]] | None = None,
    agent_cache: str | None = None,
    reuse: bool = True,
    dry_run: bool = False,
) -> Any:
    """The Indexer an ``index`` run (CLI or TUI) uses; with rebuild, the old points go first.
    ``schema``: "native" (ours), an agent's ("roo", "zoo": that agent's collection for the
    workspace PATH), or "auto" (the workspace's agent). ``agent_cache``: write that agent's cache
    file after the run ("": where the agent keeps it). ``changes``: the run reads only these paths
    ({root: [relative paths]}; not with rebuild). ``reuse``: vectors found by content in the
    store are not embedded again (ingest/reuse.py), in roocode-tui's collections and in the
    agents' ones it wrote. ``dry_run``: plan the run, embed and write nothing."""
    from roocode_tui.core.agents.roo_qdrant import agent_sources

    if dry_run and rebuild:
        raise UsageError(
            "--dry-run plans an incremental run; a rebuild embeds every file again: plan it as a new "
            "collection (index PATH --collection NEW --dry-run --no-reuse)"
        )
    if dry_run and agent_cache is not None:
        raise UsageError("--dry-run writes nothing, --write-cache writes the agent's cache: choose one")
    indexer = await _indexer(
        settings, store, embedder, paths, collection, rebuild, on_progress, schema, cwd, changes, agent_cache
    )
    # a rebuild embeds every file again: it takes no vector from anywhere
    reuse = reuse and settings.index.reuse_vectors and not rebuild
    indexer.configure(reuse=reuse, finders=[agent_sources], dry_run=dry_run)
    indexer.price_per_million_tokens = settings.embedder.price_per_million_tokens
    return indexer


async def _indexer(
    settings: Settings,
    store: Store,
    embedder: Embedder,
    paths: list[str],
    collection: str | None,
    rebuild: bool,
    on_progress: Any,
    schema: str,
    cwd: str | None,
    changes: dict[str, list[str]] | None,
    agent_cache: str | None,
) -> Any:
    from roocode_tui.core.ingest.indexer import Indexer

    if schema != "native":
        from roocode_tui.core.agents import schemas

        return await schemas.prepare_indexer(
            schemas.choose(schema, paths, cwd),
            settings,
            store,
            embedder,
            paths,
            collection,
            rebuild=rebuild,
            on_progress=on_progress,
            cwd=cwd,
            cache=agent_cache,
        )
    if agent_cache is not None:
        raise UsageError("--write-cache writes an agent's cache after an agent's index: add --schema roo|zoo|kilo|auto")

    target = await resolve_index_target(settings, store, paths, collection, cwd)
    from roocode_tui.core.agents import roo, roo_qdrant

    agent_index = await roo_qdrant.describe(store, target.name) if roo.is_roo_name(target.name) else None
    if agent_index is not None:
        raise UsageError(
            f"collection {target.name!r} is a coding agent's index: index it with roocode-tui index WORKSPACE "
            f"--schema auto (roocode-tui roo which WORKSPACE names a workspace's collection)"
        )
    from roocode_tui.core.stores.base import PORTABLE_IDS, CollectionMeta

    name, publish_as = target.name, None
    serving = await store.get_meta(target.name) if rebuild else None
    if serving is not None:
        # Zero downtime: build beside the serving index, switch when complete.
        name = await store.begin_rebuild(
            CollectionMeta(
                name=target.name,
                model=embedder.model_id,
                dimension=await embedder.dimension(),
                query_prefix=embedder.query_prefix,
                document_prefix=embedder.document_prefix,
                include=list(target.include),
                exclude=list(target.exclude),
                hybrid=True,
                watch=serving.watch,  # the rebuilt collection is watched as the old one was
                chunker=chunking.CHUNKER,  # cut by today's rules from its first point
                point_ids=PORTABLE_IDS,  # every point is written again: with today's ids
            )
        )
        publish_as = target.name
    elif rebuild:
        await store.delete_collection(target.name)  # not ours or half made: nothing to keep serving
    return Indexer(
        store,
        embedder,
        name,
        target.roots,
        include=target.include,
        exclude=target.exclude,
        index=settings.index,
        on_progress=on_progress,
        publish_as=publish_as,
        changes=None if rebuild else changes,
    )


def make_reranker(settings: Settings) -> Any:
    """The configured reranker, or None when ``[reranker] enabled`` is false."""
    if not settings.reranker.enabled:
        return None
    from roocode_tui.core.search.rerank import Reranker

    return Reranker(settings.reranker)
