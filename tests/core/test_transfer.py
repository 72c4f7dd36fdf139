"""collections copy: points move between the embedded store and Qdrant (local mode) with their
dense and keyword vectors and payloads, search the same afterwards, and an interrupted copy
finishes on the next run without duplicates."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from support.stores import answers, assert_same_answers, assert_same_points, every_point, make_store

from roocode_tui.core.collections.transfer import copy_collection
from roocode_tui.core.errors import StoreError, UsageError
from roocode_tui.core.ingest.indexer import Indexer
from roocode_tui.core.stores.base import CollectionMeta

NAME = "demo"


@pytest.fixture
async def indexed(tmp_path: Path, http_embedder, corpus, small_chunks):
    """The fixture corpus indexed (hybrid: dense + keyword vectors) into an embedded store."""
    source = make_store("embedded", tmp_path / "edge")
    await Indexer(source, http_embedder, NAME, [corpus], index=small_chunks).run()
    yield source
    await source.close()


async def test_scroll_returns_dense_and_sparse_vectors(store):
    meta = CollectionMeta(name="c", model="m", dimension=4, query_prefix="", document_prefix="", hybrid=True)
    await store.create_collection(meta)
    from roocode_tui.core.stores.base import PointRecord

    vec = np.array([1, 0, 0, 0], dtype=np.float32)
    await store.upsert(
        "c",
        [
            PointRecord("00000000-0000-4000-8000-000000000001", vec, {"path": "a"}, ([3, 9], [0.5, 1.25])),
            PointRecord("00000000-0000-4000-8000-000000000002", vec, {"path": "b"}),
        ],
    )
    page, _ = await store.scroll("c", None, 10, with_vectors=True)
    by_id = {p.id: p for p in page}
    assert by_id["00000000-0000-4000-8000-000000000001"].sparse == ([3, 9], [0.5, 1.25])
    assert by_id["00000000-0000-4000-8000-000000000002"].sparse is None
    assert all(p.vector.shape == (4,) for p in page)
    plain, _ = await store.scroll("c", None, 10)
    assert all(p.sparse is None and p.vector.size == 0 for p in plain)


async def test_copy_embedded_to_qdrant_local_and_back(indexed, http_embedder, tmp_path):
    local = make_store("qdrant-local", tmp_path / "local")
    back = make_store("embedded", tmp_path / "edge2")
    try:
        there = await copy_collection(indexed, local, NAME, source_label="embedded", target_label="local", page=16)
        assert there.status == "done" and there.points_total == await indexed.count(NAME) > 16
        assert there.target_points == there.points_total and there.resumed_from == 0
        returned = await copy_collection(local, back, NAME, "demo-back", source_label="local", target_label="edge2")
        assert returned.points_copied == there.points_total

        original = await every_point(indexed, NAME)
        assert_same_points(original, await every_point(local, NAME))
        assert_same_points(original, await every_point(back, "demo-back"))

        src_meta, copy_meta = await indexed.get_meta(NAME), await back.get_meta("demo-back")
        assert copy_meta.copying is None and copy_meta.hybrid and src_meta.hybrid
        for key in ("model", "dimension", "query_prefix", "document_prefix", "paths", "last_indexed_at"):
            assert getattr(copy_meta, key) == getattr(src_meta, key), key

        expected = await answers(indexed, http_embedder, NAME)
        assert all(expected)
        assert_same_answers(await answers(local, http_embedder, NAME), expected)
        assert_same_answers(await answers(back, http_embedder, "demo-back"), expected)
    finally:
        await local.close()
        await back.close()


class FailingUpserts:
    """Makes the target's upsert fail (or be cancelled) on its Nth call, once."""

    def __init__(self, store, at: int, exc: BaseException):
        self.store, self.at, self.exc, self.calls = store, at, exc, 0
        self.upsert = store.upsert

    async def __call__(self, name, points):
        self.calls += 1
        if self.calls == self.at:
            raise self.exc
        await self.upsert(name, points)


@pytest.mark.parametrize("stop", ["exception", "cancel"])
async def test_an_interrupted_copy_resumes_without_duplicates(indexed, tmp_path, stop):
    target = make_store("qdrant-local", tmp_path / "local")
    total = await indexed.count(NAME)
    try:
        if stop == "exception":
            target.upsert = FailingUpserts(target, 3, StoreError("server went away"))
            with pytest.raises(StoreError, match="went away"):
                await copy_collection(indexed, target, NAME, source_label="e", target_label="q", page=10)
        else:
            pages: list[int] = []

            def on_progress(p):
                pages.append(p.points_copied)
                if len(pages) == 3:  # the start, then two pages
                    task.cancel()

            task = asyncio.ensure_future(
                copy_collection(
                    indexed, target, NAME, source_label="e", target_label="q", page=10, on_progress=on_progress
                )
            )
            with pytest.raises(asyncio.CancelledError):
                await task
        target.__dict__.pop("upsert", None)
        meta = await target.get_meta(NAME)
        assert meta.copying and meta.copying["copied"] == 20 and meta.copying["offset"] is not None
        partial = await target.count(NAME)
        assert 20 <= partial < total

        with pytest.raises(UsageError, match="already exists"):  # another source may not resume it
            await copy_collection(indexed, target, NAME, source_label="elsewhere", target_label="q", page=10)

        done = await copy_collection(indexed, target, NAME, source_label="e", target_label="q", page=10)
        assert done.resumed_from == 20 and done.points_copied == total == done.target_points
        assert (await target.get_meta(NAME)).copying is None
        assert_same_points(await every_point(indexed, NAME), await every_point(target, NAME))

        with pytest.raises(UsageError, match=r"already exists in the q: choose another name"):
            await copy_collection(indexed, target, NAME, source_label="e", target_label="q")
    finally:
        await target.close()


async def test_incompatible_or_foreign_targets_and_sources_are_refused(indexed, tmp_path):
    target = make_store("qdrant-local", tmp_path / "local")
    try:
        other = CollectionMeta(name=NAME, model="another-model", dimension=8, query_prefix="", document_prefix="")
        await target.create_collection(other)
        with pytest.raises(UsageError) as info:
            await copy_collection(indexed, target, NAME, source_label="e", target_label="Qdrant at x")
        line = str(info.value)
        assert "already exists in the Qdrant at x" in line and "'another-model'" in line and "\n" not in line
        assert await target.count(NAME) == 0

        with pytest.raises(UsageError, match="same collection"):
            await copy_collection(indexed, indexed, NAME, source_label="e", target_label="e")
        with pytest.raises(StoreError, match="'nope' does not exist in the e"):
            await copy_collection(indexed, target, "nope", "x", source_label="e", target_label="q")
    finally:
        await target.close()


async def test_a_roo_code_collection_is_refused_clearly(tmp_path):
    from support.roo_collection import make_roo_collection

    name = make_roo_collection(tmp_path / "local")
    source = make_store("qdrant-local", tmp_path / "local")
    target = make_store("embedded", tmp_path / "edge")
    try:
        with pytest.raises(UsageError, match="is Roo Code's: copy moves roocode-tui collections only"):
            await copy_collection(source, target, name, source_label="q", target_label="e")
        assert await target.list_collections() == []
    finally:
        await source.close()
        await target.close()
