"""One contract, two backends (the `store` fixture runs each test on both)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from support.stores import POINTS, vec

from roocode_tui.core.config import StoreSettings
from roocode_tui.core.errors import StoreError
from roocode_tui.core.stores.base import CollectionMeta, SearchFilter
from roocode_tui.core.stores.qdrant import QdrantStore


async def test_collection_lifecycle_and_points(store):
    meta = CollectionMeta(name="c1", model="m", dimension=8, query_prefix="q: ", document_prefix="")
    assert await store.get_meta("c1") is None
    await store.create_collection(meta)
    with pytest.raises(StoreError, match="already exists"):
        await store.create_collection(meta)
    assert await store.list_collections() == ["c1"]
    got = await store.get_meta("c1")
    assert (got.model, got.dimension, got.query_prefix) == ("m", 8, "q: ")
    got.last_indexed_at = "2026-01-01T00:00:00+00:00"
    await store.save_meta(got)
    assert (await store.get_meta("c1")).last_indexed_at == "2026-01-01T00:00:00+00:00"

    await store.upsert("c1", POINTS)
    assert await store.count("c1") == 4
    await store.upsert("c1", POINTS[:1])  # same id: overwritten, not duplicated
    assert await store.count("c1") == 4

    hits = await store.search("c1", vec(1, 0), 2)
    assert [h.path for h in hits] == ["src/a.py", "src/a.py"] and hits[0].score > hits[1].score
    hits = await store.search("c1", vec(1, 0), 1, SearchFilter(path_prefix="docs/"))
    assert [h.path for h in hits] == ["docs/x.md"]
    hits = await store.search("c1", vec(1, 0), 5, SearchFilter(languages=("go",)))
    assert [h.path for h in hits] == ["z.go"]
    hits = await store.search("c1", vec(1, 0), 5, SearchFilter(paths=("docs/x.md", "z.go")))
    assert {h.path for h in hits} == {"docs/x.md", "z.go"}
    assert await store.distinct_paths("c1") == ["docs/x.md", "src/a.py", "z.go"]

    states = await store.file_states("c1", ["/r"])
    assert set(states) == {("/r", "src/a.py"), ("/r", "docs/x.md")}
    a = states[("/r", "src/a.py")]
    assert a.complete and a.file_hashes == {"h1"} and a.size == 10 and len(a.ids) == 2

    vectors = await store.get_vectors("c1", [POINTS[2].id, "00000000-0000-4000-8000-00000000dead"])
    # vectors are stored as float16 by default (store.vector_datatype): equal to that precision
    assert list(vectors) == [POINTS[2].id] and np.allclose(vectors[POINTS[2].id], POINTS[2].vector, atol=1e-3)

    await store.set_payload("c1", [POINTS[0].id], {"mtime_ns": 99})
    page, nxt = await store.scroll("c1", None, 10, with_vectors=True)
    assert nxt is None and len(page) == 4
    first = next(p for p in page if p.id == POINTS[0].id)
    assert first.payload["mtime_ns"] == 99 and first.payload["text"] == "a" and first.vector.shape == (8,)
    # several files' times in one call (an index run's unchanged files)
    await store.set_payloads(
        "c1", [([POINTS[0].id, POINTS[1].id], {"mtime_ns": 7}), ([POINTS[2].id], {"size": 3}), ([], {})]
    )
    page, _ = await store.scroll("c1", None, 10)
    got = {p.id: p.payload for p in page}
    assert got[POINTS[0].id]["mtime_ns"] == got[POINTS[1].id]["mtime_ns"] == 7 and got[POINTS[2].id]["size"] == 3
    assert got[POINTS[2].id]["mtime_ns"] == POINTS[2].payload["mtime_ns"] and got[POINTS[0].id]["text"] == "a"

    await store.delete_ids("c1", [POINTS[0].id])
    assert await store.count("c1") == 3
    assert not (await store.file_states("c1", ["/r"]))[("/r", "src/a.py")].complete  # one of two chunks left

    assert await store.delete_collection("c1") is True
    assert await store.delete_collection("c1") is False
    assert await store.list_collections() == []


async def test_a_collection_seeded_from_another_holds_the_points_of_one_root(store):
    """``seed_collection``: the store copies a collection's points of one root into a new
    collection (the embedded store its shard's files, a Qdrant server a snapshot of it), with the
    payload given set on each, and leaves the source as it was; writes to both go on after. A
    store that cannot (qdrant-client's local mode) makes nothing and says so (None)."""
    meta = CollectionMeta(name="src", model="m", dimension=8, query_prefix="", document_prefix="", hybrid=True)
    await store.create_collection(meta)
    await store.upsert("src", POINTS)
    target = CollectionMeta(name="copy", model="m", dimension=8, query_prefix="", document_prefix="", hybrid=True)
    seeded = await store.seed_collection("src", target, {"root": "/r"}, {"root": "/w", "indexed_at": "now"})
    if not can_seed(store):  # qdrant-client's local mode: no snapshots
        assert seeded is None and await store.list_collections() == ["src"]
        return
    mine = [p for p in POINTS if p.payload["root"] == "/r"]
    assert seeded == len(mine) == 3 and await store.list_collections() == ["copy", "src"]
    assert (await store.get_meta("copy")).name == "copy"
    page, _ = await store.scroll("copy", None, 10, with_vectors=True)
    assert {p.id for p in page} == {p.id for p in mine}
    for point in page:
        original = next(p for p in mine if p.id == point.id)
        assert point.payload == {**original.payload, "root": "/w", "indexed_at": "now"}
        assert np.allclose(point.vector, original.vector, atol=1e-3)
    assert set(await store.file_states("copy", ["/w"])) == {("/w", "src/a.py"), ("/w", "docs/x.md")}
    source, _ = await store.scroll("src", None, 10)
    assert sorted(p.payload["root"] for p in source) == ["/other", "/r", "/r", "/r"]
    await store.delete_ids("copy", [mine[0].id])
    await store.upsert("src", POINTS[:1])
    assert await store.count("copy") == 2 and await store.count("src") == 4
    with pytest.raises(StoreError, match="already exists"):
        await store.seed_collection("src", target, {"root": "/r"}, {})


def can_seed(store) -> bool:
    """Whether the store copies a collection in itself: the embedded store, a Qdrant server."""
    return store.backend == "embedded" or bool(getattr(store.settings, "url", None))


class _Unauthorised(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(
            {"status": {"error": "Must provide an API key or an Authorization bearer token"}, "time": 0.0}
        ).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a) -> None:
        pass


async def test_server_errors_are_one_clear_line():
    down = QdrantStore(StoreSettings(backend="qdrant", url="http://127.0.0.1:1", timeout_s=2))
    with pytest.raises(StoreError, match=r"Qdrant at http://127.0.0.1:1 is unreachable"):
        await down.list_collections()
    await down.close()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Unauthorised)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        secret = "sentinel-key-1234567890"
        locked = QdrantStore(StoreSettings(backend="qdrant", url=url, api_key=secret, timeout_s=2))
        with pytest.raises(StoreError) as info:
            await locked.list_collections()
        assert "unauthorised" in str(info.value) and "store.api_key" in str(info.value)
        assert secret not in str(info.value) and "\n" not in str(info.value)
        await locked.close()
    finally:
        httpd.shutdown()


def test_a_shard_is_copied_with_its_holes(tmp_path: Path):
    """The embedded store copies a shard's files as they are, holes included: a preallocated
    write-ahead log file of 32 MiB with 4 KiB written stays a few blocks, byte for byte the same."""
    from roocode_tui.core.stores.edge.layout import copy_shard

    shard = tmp_path / "shard"
    (shard / "wal").mkdir(parents=True)
    with open(shard / "wal" / "open-1", "wb") as fh:
        fh.truncate(32 << 20)
        fh.seek(8 << 20)
        fh.write(b"entry" * 800)
    (shard / "edge_config.json").write_text('{"vectors": {}}')
    copy_shard(shard, tmp_path / "copy")
    for name in ("wal/open-1", "edge_config.json"):
        assert (tmp_path / "copy" / name).read_bytes() == (shard / name).read_bytes()
    copied = (tmp_path / "copy" / "wal" / "open-1").stat()
    assert copied.st_size == 32 << 20 and copied.st_blocks * 512 < 1 << 20
