"""The engine's searches, ahead of ingest batches on the one embedder, and reads of indexed
files."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from roocode_tui.core.errors import UsageError

if TYPE_CHECKING:
    from roocode_tui.core.results import SearchResult

FILE_CHUNKS = 4  # a search grouped by file ranks this many chunks per file asked for


class Searches:
    def __init__(self, engine: Any):
        self.engine = engine

    async def search(
        self,
        queries: list[str],
        collection: str | None,
        *,
        limit: int,
        path: str | None,
        lang: str | None,
        mode: str | None,
        cwd: str,
        ranking: bool | None = None,
        explain: bool = False,
        group_by: str | None = None,
        rerank: bool | None = None,
    ) -> list[SearchResult]:
        """Engine.search: the results as they cross the socket (``SearchResult.answered``)."""
        from roocode_tui.core.backends import resolve_search_collection
        from roocode_tui.core.search.searcher import GROUP_BY, collection_names, group_files, merge_collections

        engine = self.engine
        settings = engine.settings
        if not queries:
            raise UsageError("no query")
        if group_by not in (None, *GROUP_BY):
            raise UsageError(f"group_by must be one of {', '.join(GROUP_BY)} (got {group_by!r})")
        store, embedder = await engine.backends()
        held = engine.held
        if rerank and held.reranker is None:
            raise UsageError("no reranker is configured ([reranker] enabled = false)")
        reranker = None if rerank is False else held.reranker
        held.searched()
        groups = settings.search.groups
        names = collection_names(collection, groups)
        if not names and settings.default_collection in groups:
            names = collection_names(settings.default_collection, groups)
        if names:  # several: one ranking of them all (core/search/searcher.py)
            await engine.catalog.known(store, names)
        else:
            names = [await resolve_search_collection(settings, store, None, cwd)]
        # One embedding queue for every face: while a search is answered, no run sends a new
        # batch (a person typing in the TUI holds them back longer: hold_ingest,
        # tui.search_holds_ingest_s). Searches that never stop slow runs down, never starve them.
        with embedder.searching() if settings.tui.search_holds_ingest_s > 0 else contextlib.nullcontext():
            ranked = settings.search.ranking if ranking is None else ranking
            chunks = min(1000, limit * FILE_CHUNKS) if group_by == "file" else limit
            each = [
                await self._search(
                    store,
                    embedder,
                    n,
                    queries,
                    chunks,
                    path,
                    lang,
                    mode,
                    cwd,
                    ranked,
                    explain,
                    reranker,
                    places=group_by == "file",
                )
                for n in names
            ]
        for name in names:
            engine.indexer.used(name)
        results = each[0] if len(each) == 1 else merge_collections(each, chunks)
        if group_by == "file":
            for r in results:
                r.files = group_files(r.hits, limit)
                r.hits = r.hits[:limit]
        return [r.answered() for r in results]

    async def _search(
        self,
        store: Any,
        embedder: Any,
        name: str,
        queries: list[str],
        limit: int,
        path: str | None,
        lang: str | None,
        mode: str | None,
        cwd: str,
        ranking: bool = True,
        explain: bool = False,
        reranker: Any = None,
        *,
        places: bool = False,
    ) -> list[Any]:
        from roocode_tui.core.agents.roo_qdrant import candidates
        from roocode_tui.core.collections.catalog import search_many

        settings = self.engine.settings
        opts = settings.search
        return await search_many(
            store,
            embedder,
            name,
            queries,
            limit=limit,
            path=path,
            lang=lang,
            mode=mode or opts.mode,
            weights=(opts.dense_weight, opts.keyword_weight),
            merge=opts.merge_adjacent,
            reranker=reranker,
            workspaces=candidates(settings, cwd=cwd),
            ranking=ranking,
            explain=explain,
            places=places,
        )

    async def read(self, path: str, start_line: int, end_line: int | None, *, cwd: str) -> dict[str, Any]:
        """Engine.read."""
        from roocode_tui.core.files.reading import read_lines, roots_of

        store, _ = await self.engine.backends()
        metas = [m for n in await store.list_collections() if (m := await store.get_meta(n)) is not None]
        index = self.engine.settings.index
        return await asyncio.to_thread(read_lines, roots_of(metas), path, start_line, end_line, cwd=cwd, index=index)
