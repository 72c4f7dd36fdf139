"""The embedded store's point calls: writes (upsert, delete, payload), reads (states, vectors,
scroll, facets) and the search lanes, each one call into a collection's shard."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from roocode_tui.core.stores.base import (
    DENSE,
    SPARSE,
    STATE_FIELDS,
    FileState,
    Hit,
    Lane,
    PointRecord,
    SearchFilter,
    accumulate_state,
    dense_of,
    vectors_by_field,
)

if TYPE_CHECKING:
    from roocode_tui.core.stores.edge.builds import Builds
    from roocode_tui.core.stores.edge.shards import Shards

SCROLL_PAGE = 2048
#: Written pages of the store's mapped files let go after this many points are written (see
#: ``release_pages``): about 8 MB of 1024-d float16 vectors, payloads and keyword vectors.
RELEASE_POINTS = 4096


class PointCalls:
    """The point calls of :class:`EdgeStore`, which it takes in as a base class: they need
    only its open shards, its write bookkeeping and its way of calling into the engine."""

    _shards: Shards
    _builds: Builds
    _unreleased: int  # points written since the mapped pages were last let go

    if TYPE_CHECKING:  # EdgeStore's

        async def _call(self, fn: Any, *args: Any) -> Any: ...

        def release_pages(self) -> int: ...

    async def count(self, name: str) -> int:
        from qdrant_edge import CountRequest

        def count() -> int:
            return int(self._shards.current(name).count(CountRequest(exact=True)))

        return await self._call(count)

    async def upsert(self, name: str, points: list[PointRecord]) -> None:
        if not points:
            return
        from qdrant_edge import Point, SparseVector, UpdateOperation

        def vectors(p: PointRecord) -> dict[str, Any]:
            out: dict[str, Any] = {DENSE: p.vector_list()}
            if p.sparse is not None and p.sparse[0]:
                out[SPARSE] = SparseVector(indices=p.sparse[0], values=p.sparse[1])
            return out

        def upsert() -> None:
            batch = [Point(id=p.id, vector=vectors(p), payload=p.payload) for p in points]
            op = UpdateOperation.upsert_points(batch)
            with self._builds.writer(name) as shard:
                shard.update(op)
                self._builds.written(name, op, points=len(batch))

        await self._call(upsert)
        self._unreleased += len(points)
        if self._unreleased >= RELEASE_POINTS:
            self._unreleased = 0
            await asyncio.to_thread(self.release_pages)

    async def delete_ids(self, name: str, ids: list[str]) -> None:
        if not ids:
            return
        from qdrant_edge import UpdateOperation

        def delete() -> None:
            op = UpdateOperation.delete_points(list(ids))
            with self._builds.writer(name) as shard:
                shard.update(op)
                self._builds.written(name, op, ids=len(ids))

        await self._call(delete)

    async def set_payload(self, name: str, ids: list[str], payload: dict[str, Any]) -> None:
        await self.set_payloads(name, [(ids, payload)])

    async def set_payloads(self, name: str, updates: list[tuple[list[str], dict[str, Any]]]) -> None:
        from qdrant_edge import UpdateOperation

        ops = [(UpdateOperation.set_payload(list(ids), payload), len(ids)) for ids, payload in updates if ids]
        if not ops:
            return

        def update() -> None:
            with self._builds.writer(name) as shard:
                for op, n in ops:
                    shard.update(op)
                    self._builds.written(name, op, ids=n)

        await self._call(update)

    async def file_states(
        self, name: str, roots: list[str], under: list[str] | None = None
    ) -> dict[tuple[str, str], FileState]:
        from qdrant_edge import FieldCondition, Filter, MatchAny, MatchPrefix

        must = [FieldCondition(key="root", match=MatchAny(list(roots)))] if roots else []
        should = None
        if under is not None:  # the paths themselves, and what lies below them
            should = [FieldCondition(key="path", match=MatchAny(list(under) or ["\x00"]))]
            should += [FieldCondition(key="path", match=MatchPrefix(u + "/")) for u in under]
        flt = Filter(must=must or None, should=should) if must or should else None

        def scan() -> dict[tuple[str, str], FileState]:
            states: dict[tuple[str, str], FileState] = {}
            for rec in _scan(self._shards.current(name), flt, with_payload=STATE_FIELDS):
                accumulate_state(states, rec.id, rec.payload or {})
            return states

        return await self._call(scan)

    async def get_vectors(self, name: str, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}

        def fetch() -> dict[str, np.ndarray]:
            records = self._shards.current(name).retrieve(list(ids), with_payload=False, with_vector=[DENSE])
            return {str(rec.id): vec for rec in records if (vec := dense_of(rec.vector)) is not None}

        return await self._call(fetch)

    async def find_vectors(self, name: str, field: str, values: list[str]) -> dict[str, np.ndarray]:
        if not values:
            return {}
        from qdrant_edge import FieldCondition, Filter, MatchAny

        flt = Filter(must=[FieldCondition(key=field, match=MatchAny(list(values)))])

        def find() -> dict[str, np.ndarray]:
            records = _scan(self._shards.current(name), flt, with_payload=[field], with_vector=[DENSE])
            return vectors_by_field(records, field)

        return await self._call(find)

    async def points_of_paths(self, name: str, paths: list[str]) -> list[PointRecord]:
        if not paths:
            return []
        from qdrant_edge import FieldCondition, Filter, MatchAny

        flt = Filter(must=[FieldCondition(key="path", match=MatchAny(list(paths)))])

        def find() -> list[PointRecord]:
            records = _scan(self._shards.current(name), flt, with_payload=True, with_vector=True)
            return [PointRecord.from_record(rec.id, rec.payload, rec.vector, raw=True) for rec in records]

        return await self._call(find)

    async def ensure_keyword_index(self, name: str, field: str) -> bool:
        from qdrant_edge import PayloadSchemaType, UpdateOperation

        def ensure() -> bool:
            if field in (self._shards.current(name).info().payload_schema or {}):
                return False
            op = UpdateOperation.create_field_index(field, PayloadSchemaType.Keyword)
            with self._builds.writer(name) as shard:
                shard.update(op)
                self._builds.written(name, op)
            return True

        return await self._call(ensure)

    async def scroll(
        self, name: str, offset: Any = None, limit: int = 256, *, with_vectors: bool = False
    ) -> tuple[list[PointRecord], Any]:
        from qdrant_edge import ScrollRequest

        def page() -> tuple[list[PointRecord], Any]:
            records, nxt = self._shards.current(name).scroll(
                ScrollRequest(offset=offset, limit=limit, with_payload=True, with_vector=bool(with_vectors))
            )
            return [PointRecord.from_record(rec.id, rec.payload, rec.vector) for rec in records], nxt

        return await self._call(page)

    async def defines_any(self, name: str, symbols: list[str]) -> bool:
        if not symbols:
            return False
        from qdrant_edge import CountRequest, FieldCondition, Filter, MatchAny

        def count() -> int:
            flt = Filter(must=[FieldCondition(key="symbol", match=MatchAny(list(symbols)))])
            return int(self._shards.current(name).count(CountRequest(filter=flt, exact=True)))

        return await self._call(count) > 0

    async def distinct_paths(self, name: str) -> list[str]:
        from qdrant_edge import FacetRequest

        def facet() -> list[str]:
            resp = self._shards.current(name).facet(FacetRequest(key="path", limit=1_000_000, exact=True))
            return sorted(str(h.value) for h in resp)

        return await self._call(facet)

    async def search_lane(self, name: str, lane: Lane) -> list[Hit]:
        return (await self.search_lanes(name, [lane]))[0]

    async def search_lanes(self, name: str, lanes: Sequence[Lane]) -> list[list[Hit]]:
        """The lanes one after another in one call into the store: Qdrant Edge holds the
        interpreter while it searches, so lanes on threads of their own only wait for each other."""
        from roocode_tui.core.stores.order import stable_top

        def query() -> list[list[Hit]]:
            shard = self._shards.current(name)
            out: list[list[Hit]] = []
            for lane in lanes:
                q = _dense_query(lane.vector) if lane.vector is not None else _sparse_query(lane.sparse)
                out.append(stable_top(_fetcher(shard, q, _edge_filter(lane.flt)), lane.limit))
            return out

        return await self._call(query)


def _scan(shard: Any, flt: Any, *, with_payload: Any, with_vector: Any = None) -> Iterator[Any]:
    """Every record of a shard under a filter, page by page."""
    from qdrant_edge import ScrollRequest

    offset = None
    while True:
        records, offset = shard.scroll(
            ScrollRequest(
                offset=offset, limit=SCROLL_PAGE, filter=flt, with_payload=with_payload, with_vector=with_vector
            )
        )
        yield from records
        if offset is None:
            return


def _dense_query(vector: np.ndarray | None) -> Any:
    from qdrant_edge import Query

    return Query.Nearest(vector.astype(np.float32).tolist(), using=DENSE) if vector is not None else None


def _sparse_query(sparse: tuple[list[int], list[float]] | None) -> Any:
    from qdrant_edge import Query, SparseVector

    return Query.Nearest(SparseVector(indices=sparse[0], values=sparse[1]), using=SPARSE) if sparse else None


def _fetcher(shard: Any, q: Any, edge_filter: Any) -> Callable[[int], list[Hit]]:
    """A shard's top n for one query, as hits (what :func:`stable_top` asks for)."""
    from qdrant_edge import QueryRequest

    def fetch(n: int) -> list[Hit]:
        request = QueryRequest(limit=n, query=q, filter=edge_filter, with_payload=True, with_vector=None)
        return [Hit.from_payload(p.id, p.score, p.payload or {}, None) for p in shard.query(request)]

    return fetch


def _edge_filter(flt: SearchFilter | None) -> Any:
    if flt is None:
        return None
    from qdrant_edge import FieldCondition, Filter, MatchAny, MatchPrefix, MatchValue

    must: list[Any] = []
    if flt.root:
        must.append(FieldCondition(key="root", match=MatchValue(flt.root)))
    if flt.path_prefix:
        must.append(FieldCondition(key="path", match=MatchPrefix(flt.path_prefix)))
    if flt.paths is not None:
        must.append(FieldCondition(key="path", match=MatchAny(list(flt.paths) or ["\x00"])))
    if flt.languages:
        must.append(FieldCondition(key="language", match=MatchAny(list(flt.languages))))
    if flt.symbols is not None:
        must.append(FieldCondition(key="symbol", match=MatchAny(list(flt.symbols) or ["\x00"])))
    return Filter(must=must) if must else None
