"""Searching a collection whatever wrote it: roocode-tui's own collections through
:mod:`roocode_tui.core.search.searcher` (and its ranking stack), a coding agent's codebase index (Roo
Code's) as that agent searches it (:mod:`roocode_tui.core.agents.roo_qdrant`).

This is the one place that knows both: native search and the store contract import nothing
agent-specific.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from roocode_tui.core.agents import detect, roo, roo_qdrant
from roocode_tui.core.agents.kilo import KILO
from roocode_tui.core.embedders.base import Embedder
from roocode_tui.core.search import searcher as search
from roocode_tui.core.search.searcher import SearchResult
from roocode_tui.core.stores.base import CollectionInfo, Store


async def search_many(
    store: Store,
    embedder: Embedder,
    collection: str,
    queries: list[str],
    *,
    limit: int = 10,
    path: str | None = None,
    lang: str | None = None,
    mode: str = "hybrid",
    weights: tuple[float, float] = (1.0, 1.5),
    merge: bool = True,
    reranker: Any = None,
    workspaces: list[str] | None = None,
    ranking: bool = True,
    explain: bool = False,
    places: bool = False,
) -> list[SearchResult]:
    """:func:`roocode_tui.core.search.searcher.search_many` for any collection. A Roo Code collection
    is searched as Roo Code searches it; ``workspaces`` are paths that may be its workspace
    (results then carry it as their root)."""
    if roo.is_roo_name(collection) and await store.get_meta(collection) is None:
        info = await roo_qdrant.describe(store, collection)
        if info is not None:
            return await roo_qdrant.search_many(
                store, embedder, info, queries, limit=limit, path=path, lang=lang, mode=mode, merge=merge,
                reranker=reranker, workspaces=workspaces,
            )  # fmt: skip
    return await search.search_many(
        store, embedder, collection, queries, limit=limit, path=path, lang=lang, mode=mode, weights=weights,
        merge=merge, reranker=reranker, ranking=ranking, explain=explain, places=places,
    )  # fmt: skip


async def info(store: Store, name: str, agents: detect.Scan | None = None) -> CollectionInfo:
    """:meth:`Store.info`, and for a collection roocode-tui did not write, what a coding
    agent's index says about itself (``info.roo``; ``kind`` "roo-code") when it is one, with the
    agent that wrote it: Kilo Code when its metadata point is Kilo's, else the one of Roo Code and
    Zoo Code whose cache file names it (``agents``: what :func:`detect.scan` found, looked up when
    not given)."""
    found = await store.info(name)
    if found.meta is None and store.backend == "qdrant":
        described = await roo_qdrant.describe(store, name)
        if described is not None and described.owner != KILO.name:  # Kilo's metadata point names it
            owner = detect.owner_of_roo_layout(name, agents or detect.scan())
            described = dataclasses.replace(described, owner=owner.label, owner_why=owner.why)
        found = roo_qdrant.with_roo(found, described)
    return found
