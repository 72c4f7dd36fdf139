"""The embedded store's search index (HNSW) built on a copy in another process and switched in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from roocode_tui.core.stores.base import CollectionMeta, PointRecord
from roocode_tui.core.stores.edge import EdgeStore

DIM = 1024  # float32 at 1024-d: Qdrant indexes a segment from 2,500 points on
N = 2800


def points(start: int, n: int, seed: int = 0) -> list[PointRecord]:
    rng = np.random.default_rng(seed)
    vecs = rng.standard_normal((n, DIM)).astype(np.float32)
    return [
        PointRecord(
            id=f"00000000-0000-0000-0000-{start + i:012d}",
            vector=vecs[i],
            payload={"path": f"f{start + i}.md", "root": "/r", "text": f"chunk {start + i}"},
            sparse=([1 + i % 7, 100], [1.0, 0.5]),
        )
        for i in range(n)
    ]


async def filled(tmp_path: Path) -> EdgeStore:
    store = EdgeStore(tmp_path / "data", vector_datatype="float32")
    await store.create_collection(
        CollectionMeta(name="demo", dimension=DIM, model="m", query_prefix="", document_prefix="", hybrid=True)
    )
    for i in range(0, N, 700):
        await store.upsert("demo", points(i, 700, seed=i))
    return store


def build(target: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "roocode_tui.core.stores.edge_build", str(target)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def shard_dirs(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "data" / "collections" / "demo").iterdir() if p.is_dir())


@pytest.mark.asyncio
async def test_a_built_copy_serves_the_same_points_with_an_index(tmp_path: Path):
    store = await filled(tmp_path)
    assert await store.search_index("demo") == {"state": "full scan", "points": N, "unindexed": N}
    probes = [p.vector for p in points(0, 5)]
    before = [[h.id for h in await store.search("demo", v, 5)] for v in probes]

    job = await store.begin_index_build("demo")
    assert job is not None and job.points == N
    # Searches answer from the serving shard while the copy is built in its own process.
    result = build(job.target)
    assert result["optimized"] is True
    assert [[h.id for h in await store.search("demo", v, 5)] for v in probes] == before

    assert await store.finish_index_build(job) is True
    assert await store.search_index("demo") == {"state": "indexed", "points": N, "unindexed": 0}
    assert await store.count("demo") == N
    after = [[h.id for h in await store.search("demo", v, 5)] for v in probes]
    assert [a[0] for a in after] == [b[0] for b in before]  # each probe finds itself first
    states = await store.file_states("demo", ["/r"])
    assert len(states) == N
    await store.close()

    # The old shard is gone once let go; the collection opens from the built one.
    assert len(shard_dirs(tmp_path)) == 1
    again = EdgeStore(tmp_path / "data")
    assert await again.count("demo") == N
    assert (await again.search_index("demo"))["state"] == "indexed"
    await again.close()


@pytest.mark.asyncio
async def test_a_write_during_the_build_drops_the_copy_and_nothing_is_lost(tmp_path: Path):
    store = await filled(tmp_path)
    job = await store.begin_index_build("demo")
    assert job is not None
    build(job.target)
    extra = points(N, 3, seed=99)
    await store.upsert("demo", extra)  # a run wrote after the copy was made

    assert await store.finish_index_build(job) is False
    assert not job.target.exists()
    assert await store.count("demo") == N + 3
    hit = await store.search("demo", extra[0].vector, 1)
    assert hit[0].id == extra[0].id
    assert (await store.search_index("demo"))["state"] == "full scan"
    await store.close()
    assert len(shard_dirs(tmp_path)) == 1


@pytest.mark.asyncio
async def test_a_collection_being_rebuilt_is_not_copied(tmp_path: Path):
    store = await filled(tmp_path)
    meta = await store.get_meta("demo")
    await store.begin_rebuild(meta)
    assert await store.begin_index_build("demo") is None
    await store.close()


@pytest.mark.asyncio
async def test_a_small_collection_counts_as_indexed(tmp_path: Path):
    store = EdgeStore(tmp_path / "data", vector_datatype="float32")
    await store.create_collection(
        CollectionMeta(name="demo", dimension=DIM, model="m", query_prefix="", document_prefix="", hybrid=True)
    )
    await store.upsert("demo", points(0, 50))
    assert await store.search_index("demo") == {"state": "indexed", "points": 50, "unindexed": 50}
    await store.close()


def test_the_state_in_a_word_or_two():
    from roocode_tui.core.text import search_index_label

    assert search_index_label(None) == "—"
    assert search_index_label({"state": "full scan", "points": 9000, "unindexed": 9000}) == "full scan"
    assert search_index_label({"state": "building", "seconds": 12.7, "points": 9000}) == "building 12s"
    assert search_index_label({"state": "building", "seconds": 12.7, "percent": 40}) == "building 40%"
