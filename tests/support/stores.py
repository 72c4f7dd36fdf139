"""Stores for tests: one of either backend, every point of a collection read back and compared,
the answers a collection gives to a few queries, and the store contract's points."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from roocode_tui.core.search.searcher import search
from roocode_tui.core.stores.base import PointRecord
from roocode_tui.core.stores.edge import EdgeStore


async def all_points(store, name: str = "demo") -> dict[str, dict]:
    """Every point of a collection: id -> payload."""
    out, offset = {}, None
    while True:
        page, offset = await store.scroll(name, offset, 512)
        out.update({p.id: p.payload for p in page})
        if offset is None:
            return out


def make_store(kind: str, path: Path):
    if kind == "embedded":
        return EdgeStore(path)
    from roocode_tui.core.config import StoreSettings
    from roocode_tui.core.stores.qdrant import QdrantStore

    return QdrantStore(StoreSettings(backend="qdrant", path=path))


QUERIES = [
    ("how do I restore the data from a snapshot", "dense"),
    ("retry with exponential backoff and jitter", "hybrid"),
    ("LRUCache get_user_name", "keyword"),
    ("cache that evicts the least recently used entry", "hybrid"),
]


async def every_point(store, name: str) -> dict[str, tuple]:
    """id -> (payload, dense vector, sparse vector), read back page by page."""
    out, offset = {}, None
    while True:
        page, offset = await store.scroll(name, offset, 64, with_vectors=True)
        out.update({p.id: (p.payload, p.vector, p.sparse) for p in page})
        if offset is None:
            return out


def assert_same_points(a: dict[str, tuple], b: dict[str, tuple]) -> None:
    assert a.keys() == b.keys()
    for pid, (payload, dense, sparse) in a.items():
        other = b[pid]
        assert other[0] == payload, pid
        # float16 storage (the default), and cosine vectors are normalised again on the way in
        assert np.allclose(other[1], dense, atol=2e-3), pid
        assert other[2] is not None and sparse is not None, pid
        assert other[2][0] == sparse[0] and np.allclose(other[2][1], sparse[1], atol=1e-6), pid


async def answers(store, embedder, name: str) -> list[list[tuple[str, str, int, float]]]:
    out = []
    for query, mode in QUERIES:
        result = await search(store, embedder, name, query, limit=8, mode=mode)
        out.append([(h.id, h.path, h.start_line, round(h.score, 5)) for h in result.hits])
    return out


def assert_same_answers(got: list[list[tuple]], expected: list[list[tuple]]) -> None:
    """The same hits with the same scores, to float16 precision: near-ties may swap places,
    and at the cut a near-tie may swap in for the hit it ties with (the last of the list)."""
    assert len(got) == len(expected)
    for hits, want in zip(got, expected, strict=True):
        assert len(hits) == len(want)
        got_keys, want_keys = {h[:3] for h in hits}, {w[:3] for w in want}
        got_only = [h for h in hits if h[:3] not in want_keys]
        want_only = [w for w in want if w[:3] not in got_keys]
        assert len(got_only) <= 1 and len(got_only) == len(want_only), (got_only, want_only)
        for g, w in zip(got_only, want_only, strict=True):  # tied at the cut: last in both lists
            assert g == hits[-1] and w == want[-1] and abs(g[3] - w[3]) < 2e-3, (g, w)
        scores = {h[0]: h[3] for h in hits}
        assert all(abs(scores[w[0]] - w[3]) < 2e-3 for w in want if w not in want_only)


def vec(*xs: float) -> np.ndarray:
    v = np.zeros(8, dtype=np.float32)
    v[: len(xs)] = xs
    return v / np.linalg.norm(v)


POINTS = [
    PointRecord(
        "00000000-0000-4000-8000-000000000001",
        vec(1, 0),
        {
            "root": "/r",
            "path": "src/a.py",
            "language": "python",
            "start_line": 1,
            "end_line": 5,
            "text": "a",
            "file_hash": "h1",
            "chunk_count": 2,
            "mtime_ns": 1,
            "size": 10,
        },
    ),
    PointRecord(
        "00000000-0000-4000-8000-000000000002",
        vec(1, 0.2),
        {
            "root": "/r",
            "path": "src/a.py",
            "language": "python",
            "start_line": 6,
            "end_line": 9,
            "text": "b",
            "file_hash": "h1",
            "chunk_count": 2,
            "mtime_ns": 1,
            "size": 10,
        },
    ),
    PointRecord(
        "00000000-0000-4000-8000-000000000003",
        vec(0.9, 0.5),
        {
            "root": "/r",
            "path": "docs/x.md",
            "language": "markdown",
            "start_line": 1,
            "end_line": 3,
            "text": "c",
            "file_hash": "h2",
            "chunk_count": 1,
            "mtime_ns": 2,
            "size": 20,
        },
    ),
    PointRecord(
        "00000000-0000-4000-8000-000000000004",
        vec(0, 1),
        {
            "root": "/other",
            "path": "z.go",
            "language": "go",
            "start_line": 1,
            "end_line": 1,
            "text": "d",
            "file_hash": "h3",
            "chunk_count": 1,
            "mtime_ns": 3,
            "size": 30,
        },
    ),
]
