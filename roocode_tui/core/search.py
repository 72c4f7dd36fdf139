"""Search: embed the query with the collection's query prefix, then top-k inside the store."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import pathspec

from roocode_tui.core.embedders.base import Embedder
from roocode_tui.core.errors import CollectionNotFoundError, ModelMismatchError
from roocode_tui.core.stores.base import Hit, SearchFilter, Store

_GLOB = re.compile(r"[*?\[]")
_INLINE = re.compile(r"(?:(?<=\s)|^)(path|lang):(\S+)")


@dataclass
class SearchResult:
    query: str
    collection: str
    hits: list[Hit]
    embed_ms: float = 0.0
    store_ms: float = 0.0
    filters: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "collection": self.collection,
            "results": [h.to_json() for h in self.hits],
            "timing_ms": {"embed": round(self.embed_ms, 1), "store": round(self.store_ms, 1)},
        }


def parse_inline_filters(query: str) -> tuple[str, str | None, str | None]:
    """Split ``path:src/ lang:python how do I...`` into (query, path, lang)."""
    path = lang = None
    for key, value in _INLINE.findall(query):
        if key == "path":
            path = value
        else:
            lang = value
    text = _INLINE.sub("", query)
    return " ".join(text.split()), path, lang


async def build_filter(store: Store, collection: str, path: str | None, lang: str | None) -> SearchFilter | None:
    prefix = paths = languages = None
    if path:
        path = path.removeprefix("./")
        if _GLOB.search(path):
            spec = pathspec.GitIgnoreSpec.from_lines([path])
            paths = tuple(p for p in await store.distinct_paths(collection) if spec.match_file(p))
        else:
            prefix = path
    if lang:
        languages = tuple(x.strip().lower() for x in lang.split(",") if x.strip())
    if prefix is None and paths is None and not languages:
        return None
    return SearchFilter(path_prefix=prefix, paths=paths, languages=languages)


async def search(
    store: Store,
    embedder: Embedder,
    collection: str,
    query: str,
    *,
    limit: int = 10,
    path: str | None = None,
    lang: str | None = None,
) -> SearchResult:
    meta = await store.get_meta(collection)
    if meta is None:
        raise CollectionNotFoundError(
            f"collection {collection!r} does not exist: index it first "
            f"(roocode-tui index PATH --collection {collection})"
        )
    if meta.model != embedder.model_id:
        raise ModelMismatchError(
            f"collection {collection!r} was built with {meta.model} ({meta.dimension}-d); the "
            f"configured embedder is {embedder.model_id}: configure that model to search it, or "
            f"rebuild it: roocode-tui index --collection {collection} --rebuild"
        )
    flt = await build_filter(store, collection, path, lang)
    t0 = time.perf_counter()
    vector = (await embedder.embed_queries([query]))[0]
    t1 = time.perf_counter()
    if vector.shape[0] != meta.dimension:
        raise ModelMismatchError(
            f"collection {collection!r} holds {meta.dimension}-d vectors but {embedder.model_id} "
            f"returned {vector.shape[0]}-d: set embedder.dimensions = {meta.dimension}, or rebuild"
        )
    hits = await store.search(collection, vector, limit, flt)
    hits.sort(key=lambda h: (-round(h.score, 6), h.path, h.start_line))  # stable order for ties
    t2 = time.perf_counter()
    return SearchResult(
        query=query,
        collection=collection,
        hits=hits,
        embed_ms=(t1 - t0) * 1000,
        store_ms=(t2 - t1) * 1000,
        filters={"path": path, "lang": lang},
    )
