"""The Qdrant store: points and searches, on the collections of :mod:`.lifecycle`."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

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
    Store,
    accumulate_state,
    dense_of,
    vectors_by_field,
)
from roocode_tui.core.stores.qdrant.client import scan
from roocode_tui.core.stores.qdrant.snapshots import QdrantSnapshots


class QdrantStore(QdrantSnapshots, Store):
    backend = "qdrant"

    # -- points ------------------------------------------------------------------------------
    async def count(self, name: str) -> int:
        async def run(c: Any) -> int:
            return int((await c.count(name, exact=True)).count)

        return await self._do(run)

    async def upsert(self, name: str, points: list[PointRecord]) -> None:
        if not points:
            return
        from qdrant_client import models as m

        def vectors(p: PointRecord) -> dict[str, Any]:
            out: dict[str, Any] = {DENSE: p.vector_list()}
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

    async def set_payloads(self, name: str, updates: list[tuple[list[str], dict[str, Any]]]) -> None:
        from qdrant_client import models as m

        ops = [
            m.SetPayloadOperation(set_payload=m.SetPayload(payload=payload, points=list(ids)))
            for ids, payload in updates
            if ids
        ]
        if not ops:
            return

        async def run(c: Any) -> None:
            await c.batch_update_points(name, update_operations=ops, wait=True)

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
            async for rec in scan(c, name, flt, with_payload=STATE_FIELDS):
                accumulate_state(states, rec.id, rec.payload or {})
            return states

        return await self._do(run)

    async def get_vectors(self, name: str, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}

        async def run(c: Any) -> dict[str, np.ndarray]:
            records = await c.retrieve(name, ids=list(ids), with_payload=False, with_vectors=[DENSE])
            return {str(rec.id): vec for rec in records if (vec := dense_of(rec.vector)) is not None}

        return await self._do(run)

    async def find_vectors(self, name: str, field: str, values: list[str]) -> dict[str, np.ndarray]:
        if not values:
            return {}
        from qdrant_client import models as m

        flt = m.Filter(must=[m.FieldCondition(key=field, match=m.MatchAny(any=list(values)))])

        async def run(c: Any) -> dict[str, np.ndarray]:
            return vectors_by_field(
                [rec async for rec in scan(c, name, flt, with_payload=[field], with_vectors=[DENSE])], field
            )

        return await self._do(run)

    async def points_of_paths(self, name: str, paths: list[str]) -> list[PointRecord]:
        if not paths:
            return []
        from qdrant_client import models as m

        flt = m.Filter(must=[m.FieldCondition(key="path", match=m.MatchAny(any=list(paths)))])

        async def run(c: Any) -> list[PointRecord]:
            return [
                PointRecord.from_record(rec.id, rec.payload, rec.vector, raw=True)
                async for rec in scan(c, name, flt, with_payload=True, with_vectors=True)
            ]

        return await self._do(run)

    async def ensure_keyword_index(self, name: str, field: str) -> bool:
        from qdrant_client import models as m

        async def run(c: Any) -> bool:
            physical = await self._resolve(c, name)  # an alias names the index that serves it
            info = await c.get_collection(physical)
            if field in (info.payload_schema or {}):
                return False
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # local mode: "payload indexes have no effect"
                await c.create_payload_index(physical, field, m.PayloadSchemaType.KEYWORD)
            return True

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

    async def search_lane(self, name: str, lane: Lane) -> list[Hit]:
        from roocode_tui.core.stores.order import stable_top_async

        request = _query_request(lane, lane.limit)

        async def fetch(n: int) -> list[Hit]:
            async def run(c: Any) -> list[Hit]:
                resp = await c.query_points(
                    name,
                    query=request.query,
                    using=request.using,
                    limit=n,
                    query_filter=request.filter,
                    with_payload=True,
                )
                return [Hit.from_payload(p.id, p.score, p.payload or {}, None) for p in resp.points]

            return await self._do(run)

        return await stable_top_async(fetch, lane.limit)

    async def search_lanes(self, name: str, lanes: Sequence[Lane]) -> list[list[Hit]]:
        """The lanes in one request (Qdrant's batch query): one round trip to a server. A lane
        whose cut falls inside a run of tied scores is asked again alone (see order.stable_top)."""
        from roocode_tui.core.stores.order import EXTRA, ordered, settled

        requests = [_query_request(lane, lane.limit + EXTRA) for lane in lanes]

        async def run(c: Any) -> list[Any]:
            return list(await c.query_batch_points(name, requests=requests))

        answers = await self._do(run)
        out: list[list[Hit]] = []
        for lane, answer in zip(lanes, answers, strict=True):
            hits = ordered(Hit.from_payload(p.id, p.score, p.payload or {}, None) for p in answer.points)
            if settled(hits, lane.limit, lane.limit + EXTRA):
                out.append(hits[: lane.limit])
            else:
                out.append(await self.search_lane(name, lane))
        return out


def _query_request(lane: Lane, limit: int) -> Any:
    """A lane as Qdrant's query request."""
    from qdrant_client import models as m

    if lane.vector is not None:
        query: Any = lane.vector.astype(np.float32).tolist()
    else:
        assert lane.sparse is not None, "a lane is dense or keyword"
        query = m.SparseVector(indices=lane.sparse[0], values=lane.sparse[1])
    return m.QueryRequest(
        query=query,
        using=DENSE if lane.vector is not None else SPARSE,
        limit=limit,
        filter=_qdrant_filter(lane.flt),
        with_payload=True,
    )


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
