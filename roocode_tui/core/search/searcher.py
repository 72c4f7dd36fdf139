"""Search: embed the query with the collection's query prefix, then top-k inside the store.

Modes: ``dense`` (vectors), ``keyword`` (BM25-style sparse vectors, IDF in the store) and
``hybrid``: dense always, plus the keyword lane fused by weighted RRF when the query names
identifiers (keyword matching helps those and hurts natural-language questions). Scores are
shown on one scale whatever the mode: the cosine similarity of the query and the chunk.
Overlapping or adjacent hits from one file are merged into one result.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pathspec

from roocode_tui.core.chunking.keywords import (
    hybrid_query_vector,
    looks_like_code,
    lookup_names,
    named_names,
    query_vector,
    spellings,
    symbol_of,
)
from roocode_tui.core.chunking.splitter import SYMBOLS_SINCE, rules_version
from roocode_tui.core.display import parse_inline_filters  # noqa: F401 - re-exported for the faces
from roocode_tui.core.embedders.base import Embedder
from roocode_tui.core.errors import CollectionNotFoundError, ModelMismatchError, UsageError
from roocode_tui.core.results import FileResult, SearchResult  # the answers (core/results.py), re-exported
from roocode_tui.core.search import ranker
from roocode_tui.core.stores.base import CollectionMeta, Hit, Lane, SearchFilter, Store

_GLOB = re.compile(r"[*?\[]")
MODES = ("dense", "hybrid", "keyword")
GROUP_BY = ("file",)
CHUNKS_PER_FILE = 3  # the best chunks a file result carries
SHORT_QUERY_WORDS = 5


def group_files(hits: list[Hit], limit: int, per_file: int = CHUNKS_PER_FILE) -> list[FileResult]:
    """Ranked hits as ranked files: a file ranks where its best chunk does and keeps its
    ``per_file`` best chunks; ``limit`` files at most."""
    files: dict[tuple[str, str, str], FileResult] = {}
    for hit in hits:
        key = (hit.collection, hit.root, hit.path)
        found = files.get(key)
        if found is None:
            if len(files) >= limit:
                continue
            files[key] = FileResult(hit.root, hit.path, hit.language, hit.score, [hit], hit.collection)
        elif len(found.hits) < per_file:
            found.hits.append(hit)
    return list(files.values())


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


async def _checked_meta(store: Store, embedder: Embedder, collection: str) -> CollectionMeta:
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
    return meta


def _lanes(meta: CollectionMeta, query: str, mode: str) -> tuple[bool, bool, str]:
    """(dense?, keyword?, note) for a query in a mode on this collection."""
    if mode not in MODES:
        raise UsageError(f"--mode must be one of {', '.join(MODES)} (got {mode!r})")
    if not meta.hybrid:
        note = "" if mode == "dense" else "dense-only collection: rebuild it to enable hybrid and keyword search"
        return True, False, note
    if mode == "keyword":
        return False, True, ""
    if mode == "hybrid":
        return True, looks_like_code(query), ""
    return True, False, ""


def one_version_per_file(hits: list[Hit]) -> list[Hit]:
    """A file being updated has its new points written before its stale ones go: a search in
    between may find chunks of both versions. Keep the newest version's only, so a result never
    shows a file half old, half new."""
    newest: dict[tuple[str, str], tuple[str, int, str]] = {}
    for h in hits:
        if h.version is not None and h.version > newest.get((h.root, h.path), ("", 0, "")):
            newest[(h.root, h.path)] = h.version
    return [h for h in hits if h.version is None or h.version[2] == newest[(h.root, h.path)][2]]


def merge_adjacent(hits: list[Hit]) -> list[Hit]:
    """Overlapping or touching hits from one file become one result with the combined range."""
    merged: list[Hit] = []
    for hit in hits:
        for k, prev in enumerate(merged):
            if (
                prev.root == hit.root
                and prev.path == hit.path
                and (hit.start_line <= prev.end_line + 1 and prev.start_line <= hit.end_line + 1)
            ):
                merged[k] = _join(prev, hit)
                break
        else:
            merged.append(hit)
    return merged


def _join(a: Hit, b: Hit) -> Hit:
    lines: dict[int, str] = {}
    for h in (b, a):  # a wins where both have a line
        for offset, line in enumerate(h.text.split("\n")):
            lines[h.start_line + offset] = line
    start, end = min(a.start_line, b.start_line), max(a.end_line, b.end_line)
    text = "\n".join(lines[i] for i in range(start, end + 1) if i in lines)
    heading = a.heading if a.heading == b.heading else (a.heading or b.heading)
    return dataclasses.replace(
        a,
        start_line=start,
        end_line=end,
        text=text,
        heading=heading,
        score=max(a.score, b.score),
        symbols=tuple(dict.fromkeys(a.symbols + b.symbols)),
    )


async def search(
    store: Store,
    embedder: Embedder,
    collection: str,
    query: str,
    *,
    limit: int = 10,
    path: str | None = None,
    lang: str | None = None,
    mode: str = "hybrid",
    weights: tuple[float, float] = (1.0, 1.5),
    merge: bool = True,
    reranker: Any = None,
    ranking: bool = True,
    explain: bool = False,
) -> SearchResult:
    results = await search_many(
        store,
        embedder,
        collection,
        [query],
        limit=limit,
        path=path,
        lang=lang,
        mode=mode,
        weights=weights,
        merge=merge,
        reranker=reranker,
        ranking=ranking,
        explain=explain,
    )
    return results[0]


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
    ranking: bool = True,
    explain: bool = False,
    places: bool = False,
) -> list[SearchResult]:
    """Several queries: embedded in batches, searched one by one (the store is local and fast).

    ``ranking``: a hybrid search of a hybrid collection goes through the ranking stack
    (core/search/ranker.py): every lane's candidates, ranked with what the repository knows;
    ``explain``: each hit then says why it ranks where it does (``Hit.explain``); ``places``:
    the results are grouped into files, so every kind of query is spread over files.
    roocode-tui's own collections only: core/catalog.py searches an agent's as well."""
    meta = await _checked_meta(store, embedder, collection)
    flt = await build_filter(store, collection, path, lang)
    if ranking and mode == "hybrid" and meta.hybrid:
        return await _stacked(
            store, embedder, meta, queries, flt, limit, merge, reranker, explain, path, lang, places
        )  # fmt: skip
    plans = [_lanes(meta, q, mode) for q in queries]
    looked_up: dict[int, set[str]] = {}  # query -> the definition it looks up by name
    # a collection cut by rules older than 5 names only its Python definitions (until its next full run)
    knows_names = rules_version(meta.chunker) >= SYMBOLS_SINCE
    if mode == "hybrid" and meta.hybrid:
        # A short lookup of a name ("what does quote do", "find longest match") that a
        # definition in this collection has is an identifier query too: the keyword lane
        # joins, and that definition leads. Words asked for together ("python read file
        # lines") are a question, even where one of them is a name (sparse.lookup_names).
        for i, (dense, _, note) in enumerate(plans):
            names = spellings(lookup_names(queries[i])) if len(queries[i].split()) <= SHORT_QUERY_WORDS else []
            if names and await store.defines_any(collection, names):
                plans[i] = (dense, True, note)
                looked_up[i] = set(names)
            elif (
                plans[i][1]
                and knows_names
                and not await store.defines_any(collection, spellings(named_names(queries[i])))
            ):
                # A question that names code in passing (`KeyError`, a parameter `func`) gets
                # the keyword lane only where that code is defined here: otherwise the lane
                # leads with whatever merely mentions it (bench/eval: JavaScript +0.043, Python
                # +0.011; over docs the lane was worth nothing either way).
                plans[i] = (dense, False, note)
    need_vectors = [i for i, (dense, _, _) in enumerate(plans) if dense] or list(range(len(queries)))
    vectors, embed_ms = await _query_vectors(embedder, queries, need_vectors)
    results: list[SearchResult] = []
    for i, query in enumerate(queries):
        dense, keyword, note = plans[i]
        vector = vectors.get(i)
        if vector is not None:
            _check_dimension(collection, meta, embedder, vector)
        t1 = time.perf_counter()
        fetch = limit * 2 if merge else limit
        hits = await store.search(
            collection,
            vector if dense else None,
            fetch,
            flt,
            # hybrid: the keyword lane weighs the code a query names above its prose
            sparse=(hybrid_query_vector(query) if dense else query_vector(query)) if keyword else None,
            weights=weights,
        )
        hits = one_version_per_file(hits)  # a file mid-update: only its new chunks
        # The store's order is stable: score, then location and point id (core/stores/order.py).
        if keyword and vector is not None:
            # Fused ranks keep their order; the score shown is the cosine, as in dense mode (the
            # vectors of the hits kept, read back).
            stored = await store.get_vectors(collection, [h.id for h in hits]) if hits else {}
            hits = [dataclasses.replace(h, score=_cosine(vector, stored.get(h.id)), vector=None) for h in hits]
        elif not dense:
            top = max((h.score for h in hits), default=1.0) or 1.0
            hits = [dataclasses.replace(h, score=h.score / top) for h in hits]  # keyword only: 0..1
        store_ms = (time.perf_counter() - t1) * 1000
        if i in looked_up:  # the definition looked up first, then the rest in their order
            names = looked_up[i]
            hits = sorted(hits, key=lambda h: names.isdisjoint(h.symbols or (symbol_of(h.heading),)))
        if reranker is not None:
            hits = await reranker.rerank(query, hits)
        if merge:
            hits = merge_adjacent(hits)
        used = "hybrid" if dense and keyword else ("keyword" if keyword else "dense")
        results.append(
            SearchResult(query, collection, hits[:limit], embed_ms, store_ms, used, note, {"path": path, "lang": lang})
        )
    return results


async def _stacked(
    store: Store,
    embedder: Embedder,
    meta: CollectionMeta,
    queries: list[str],
    flt: SearchFilter | None,
    limit: int,
    merge: bool,
    reranker: Any,
    explain: bool,
    path: str | None,
    lang: str | None,
    places: bool = False,
) -> list[SearchResult]:
    """Hybrid search through the ranking stack: both lanes, and the definitions of a name
    asked for, each ``ranker.depth(limit)`` deep, ranked by core/search/ranker.py."""
    collection = meta.name
    vectors, embed_ms = await _query_vectors(embedder, queries, range(len(queries)))
    knows_names = rules_version(meta.chunker) >= SYMBOLS_SINCE
    depth = ranker.depth(limit)
    results: list[SearchResult] = []
    for i, query in enumerate(queries):
        vector = vectors[i]
        _check_dimension(collection, meta, embedder, vector)
        t1 = time.perf_counter()
        asked: set[str] = set()  # names the query asks for by name
        named: set[str] = set()  # names a question mentions in passing
        if knows_names:
            kind = ranker.query_kind(query)
            if kind == "symbol":
                asked = ranker.query_names(query)
            elif len(query.split()) <= SHORT_QUERY_WORDS:
                asked = set(lookup_names(query))
            mentioned = set(named_names(query)) | ranker.subject_names(query, kind)
            named = set(ranker.in_passing(query, mentioned - asked, kind))
        lanes = [Lane(vector, None, depth, flt), Lane(None, query_vector(query), depth, flt)]
        if asked:  # the definitions of the names asked for, however far down the lanes they are
            only = dataclasses.replace(flt or SearchFilter(), symbols=tuple(spellings(sorted(asked))))
            lanes.append(Lane(vector, None, ranker.DEFINITIONS, only))
        found = [one_version_per_file(hits) for hits in await store.search_lanes(collection, lanes)]
        dense, keyword = found[0], found[1]
        definitions: list[Hit] = found[2] if asked else []
        if named and not await store.defines_any(collection, spellings(sorted(named))):
            named = set()
        cosine = {h.id: h.score for h in (*dense, *definitions)}
        hits = ranker.rank(
            query,
            dense,
            keyword,
            limit * 2 if merge else limit,
            definitions=definitions,
            asked=frozenset(asked),
            named=frozenset(named),
            explain=explain,
            places=places,
        )
        # The score shown is the cosine, as in dense mode: a hit only the keyword lane found has its
        # vector read back for it.
        missing = [h.id for h in hits if h.id not in cosine]
        if missing:
            for pid, stored in (await store.get_vectors(collection, missing)).items():
                cosine[pid] = _cosine(vector, stored)
        store_ms = (time.perf_counter() - t1) * 1000
        hits = [dataclasses.replace(h, score=cosine.get(h.id, 0.0), vector=None) for h in hits]
        if reranker is not None:
            hits = await reranker.rerank(query, hits)
        if merge:
            hits = merge_adjacent(hits)
        results.append(
            SearchResult(
                query, collection, hits[:limit], embed_ms, store_ms, "hybrid", "", {"path": path, "lang": lang}
            )
        )
    return results


async def _query_vectors(
    embedder: Embedder, queries: list[str], which: Sequence[int]
) -> tuple[dict[int, np.ndarray], float]:
    """The vectors of the queries at positions ``which``, embedded in batches, and the time
    that took per query (ms)."""
    t0 = time.perf_counter()
    vectors: dict[int, np.ndarray] = {}
    step = max(1, embedder.batch_size)
    for start in range(0, len(which), step):
        idx = which[start : start + step]
        embedded = await embedder.embed_queries([queries[i] for i in idx])
        vectors.update(zip(idx, embedded, strict=True))
    return vectors, (time.perf_counter() - t0) * 1000 / max(1, len(queries))


def _check_dimension(collection: str, meta: CollectionMeta, embedder: Embedder, vector: np.ndarray) -> None:
    if vector.shape[0] != meta.dimension:
        raise ModelMismatchError(
            f"collection {collection!r} holds {meta.dimension}-d vectors but {embedder.model_id} "
            f"returned {vector.shape[0]}-d: set embedder.dimensions = {meta.dimension}, or rebuild"
        )


def _cosine(a: np.ndarray, b: np.ndarray | None) -> float:
    if b is None or b.shape != a.shape:
        return 0.0
    denom = float(np.linalg.norm(a) * np.linalg.norm(b)) or 1.0
    return float(a @ b) / denom


def collection_names(collection: str | list[str] | None, groups: dict[str, list[str]] | None = None) -> list[str]:
    """``"a,b"`` or ``["a", "b"]``: the collections a search asks for, in order, once each; a
    name of ``groups`` ([search] groups) stands for its collections."""
    if collection is None:
        return []
    parts = collection.split(",") if isinstance(collection, str) else [str(c) for c in collection]
    names: list[str] = []
    for part in (p.strip() for p in parts):
        if part:
            names += [n.strip() for n in (groups or {}).get(part, [part]) if n.strip()]
    return list(dict.fromkeys(names))


def merge_collections(per_collection: list[list[SearchResult]], limit: int) -> list[SearchResult]:
    """The results of one batch of queries in several collections as one ranking per query.

    Every score is the cosine of the query and the chunk (in dense and hybrid mode), so hits of
    collections embedded by one model compare as they are; each hit keeps its collection."""
    merged: list[SearchResult] = []
    for results in zip(*per_collection, strict=True):
        hits = [dataclasses.replace(h, collection=r.collection) for r in results for h in r.hits]
        hits.sort(key=lambda h: (-h.score, h.collection, h.path, h.start_line))
        first = results[0]
        modes = dict.fromkeys(r.mode for r in results)
        notes = [r.note for r in results if r.note]
        merged.append(
            SearchResult(
                first.query,
                ",".join(r.collection for r in results),
                hits[:limit],
                sum(r.embed_ms for r in results),
                sum(r.store_ms for r in results),
                "+".join(modes),
                "; ".join(dict.fromkeys(notes)),
                first.filters,
            )
        )
    return merged
