"""collections snapshot / restore: the embedded store's archive round-trips into a new name and
searches identically; Qdrant's local mode refuses in one line; the Qdrant server path (create,
download, upload) is checked against a loopback server that answers as Qdrant's REST API does."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support.stores import answers, assert_same_points, every_point, make_store

from roocode_tui.core.collections import snapshots
from roocode_tui.core.config import StoreSettings
from roocode_tui.core.errors import StoreError, UsageError
from roocode_tui.core.ingest.indexer import Indexer
from roocode_tui.core.stores.qdrant import QdrantStore

NAME = "demo"


@pytest.fixture
async def indexed(tmp_path: Path, http_embedder, corpus, small_chunks):
    store = make_store("embedded", tmp_path / "edge")
    await Indexer(store, http_embedder, NAME, [corpus], index=small_chunks).run()
    yield store
    await store.close()


async def test_a_restored_snapshot_searches_identically(indexed, http_embedder, tmp_path):
    snap = await snapshots.take(indexed, indexed.data_dir, NAME)
    assert snap.path.parent == tmp_path / "edge" / "snapshots" and snap.path.name.endswith(".tar.gz")
    assert snap.points == await indexed.count(NAME) and snap.size == snap.path.stat().st_size
    assert [p.name for p in snap.path.parent.iterdir()] == [snap.path.name]  # no temp file left
    manifest = snapshots.read_manifest(snap.path)
    assert manifest["collection"] == NAME and manifest["points"] == snap.points
    assert manifest["meta"]["model"] == (await indexed.get_meta(NAME)).model

    listed = await snapshots.list_snapshots(indexed, indexed.data_dir, NAME)
    assert [(s.path, s.where) for s in listed] == [(snap.path, "file")]
    assert await snapshots.list_snapshots(indexed, indexed.data_dir, "other") == []

    # the same store, a new name; and another store altogether
    done = await snapshots.restore(indexed, "demo-restored", snap.path)
    assert done["points"] == snap.points and done["source_collection"] == NAME
    elsewhere = make_store("embedded", tmp_path / "elsewhere")
    try:
        await snapshots.restore(elsewhere, "demo", snap.path)
        original = await every_point(indexed, NAME)
        assert_same_points(original, await every_point(indexed, "demo-restored"))
        assert_same_points(original, await every_point(elsewhere, "demo"))
        expected = await answers(indexed, http_embedder, NAME)
        assert all(expected)
        assert await answers(indexed, http_embedder, "demo-restored") == expected
        assert await answers(elsewhere, http_embedder, "demo") == expected
        restored_meta = await indexed.get_meta("demo-restored")
        assert restored_meta.name == "demo-restored" and restored_meta.hybrid
        assert sorted(await indexed.list_collections()) == ["demo", "demo-restored"]
        # the restored collection is a collection like any other: it takes writes
        await indexed.delete_ids("demo-restored", list(original)[:3])
        assert await indexed.count("demo-restored") == snap.points - 3 and await indexed.count(NAME) == snap.points
    finally:
        await elsewhere.close()

    with pytest.raises(UsageError, match="'demo' already exists: restore into a new name"):
        await snapshots.restore(indexed, NAME, snap.path)
    with pytest.raises(UsageError, match="collection name"):
        await snapshots.restore(indexed, "../escape", snap.path)


def _tar_gz(path: Path, entries: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


async def test_corrupt_or_foreign_files_are_one_clear_line(indexed, tmp_path):
    (tmp_path / "out").mkdir()  # --out DIR: a file named as by default, in DIR
    snap = await snapshots.take(indexed, indexed.data_dir, NAME, tmp_path / "out")
    assert snap.path.parent == tmp_path / "out" and snap.path.name.startswith("demo.")
    good = snap.path.read_bytes()
    manifest = snapshots.read_manifest(snap.path)
    lying = {**manifest, "points": manifest["points"] + 1}

    # a manifest that lies about the count: rebuild the archive with the shard and that manifest
    relied = tmp_path / "lying.tar.gz"
    with tarfile.open(snap.path, "r:gz") as src, tarfile.open(relied, "w:gz") as dst:
        for member in src.getmembers():
            if member.name == snapshots.MANIFEST:
                raw = json.dumps(lying).encode()
                member.size = len(raw)
                dst.addfile(member, io.BytesIO(raw))
            else:
                dst.addfile(member, src.extractfile(member) if member.isfile() else None)

    cases = {
        "random.tar.gz": (tmp_path / "random.tar.gz", b"\x1f\x8bnot really gzip at all"),
        "truncated.tar.gz": (tmp_path / "truncated.tar.gz", good[: len(good) // 2]),
        "plain.txt": (tmp_path / "plain.txt", b"hello"),
    }
    for path, data in cases.values():
        path.write_bytes(data)
    foreign = _tar_gz(tmp_path / "foreign.tar.gz", {"readme.txt": b"hi"})
    escaping = _tar_gz(
        tmp_path / "escaping.tar.gz",
        {snapshots.MANIFEST: json.dumps(manifest).encode(), "shard/../../evil": b"x"},
    )
    other_format = _tar_gz(tmp_path / "v9.tar.gz", {snapshots.MANIFEST: json.dumps({"format": "v9"}).encode()})
    files = [p for p, _ in cases.values()] + [foreign, escaping, other_format, relied, tmp_path / "missing.tar.gz"]
    for n, path in enumerate(files):
        with pytest.raises(UsageError) as info:
            await snapshots.restore(indexed, f"bad{n}", path)
        line = str(info.value)
        assert str(path) in line and "\n" not in line, line
    assert sorted(await indexed.list_collections()) == [NAME]  # nothing half-restored
    leftovers = [p.name for p in (tmp_path / "edge").iterdir() if p.name.startswith(".restore")]
    assert leftovers == [] and not (tmp_path / "evil").exists()


async def test_local_mode_has_no_snapshots(tmp_path):
    store = make_store("qdrant-local", tmp_path / "local")
    try:
        for call in (
            snapshots.take(store, tmp_path, NAME),
            snapshots.restore(store, "new", tmp_path / "x.snapshot"),
            snapshots.list_snapshots(store, tmp_path, NAME),
        ):
            with pytest.raises(UsageError, match=r"^Qdrant local mode .* has no snapshots") as info:
                await call
            assert "\n" not in str(info.value)
    finally:
        await store.close()


# -- the Qdrant server path, against a loopback server speaking Qdrant's REST API ---------------------
SECRET = "sentinel-snapshot-key-0123456789"
PHYSICAL = "docs--0a1b2c3d"
SNAP = f"{PHYSICAL}-2026-01-02-03-04-05.snapshot"


def _qdrant_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = b'{"config": "a Qdrant collection snapshot stands here"}'
        info = tarfile.TarInfo("config.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class FakeQdrant(BaseHTTPRequestHandler):
    """Qdrant's REST answers for the calls a snapshot and a restore make; records every request."""

    requests: list[tuple[str, str, dict[str, str], bytes]] = []
    snapshot_bytes = _qdrant_tar()
    collection_info: dict = {}

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, result, status: int = 200, error: str | None = None) -> None:
        body = {"status": {"error": error} if error else "ok", "time": 0.001}
        if error is None:
            body["result"] = result
        self._send(status, json.dumps(body).encode())

    def _record(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        FakeQdrant.requests.append((self.command, self.path, dict(self.headers), body))
        return body

    def do_GET(self) -> None:
        self._record()
        path = self.path.split("?")[0]
        if path == "/":
            self._send(200, json.dumps({"title": "qdrant", "version": "1.16.2", "commit": "x"}).encode())
        elif path == "/aliases":
            self._json({"aliases": [{"alias_name": "docs", "collection_name": PHYSICAL}]})
        elif path == "/collections":
            self._json({"collections": [{"name": PHYSICAL}]})
        elif path == f"/collections/{PHYSICAL}/snapshots":
            self._json([{"name": SNAP, "creation_time": "2026-01-02T03:04:05", "size": 123, "checksum": "c"}])
        elif path == f"/collections/{PHYSICAL}/snapshots/{SNAP}":
            self._send(200, self.snapshot_bytes, "application/octet-stream")
        elif path == "/collections/restored/exists":
            self._json({"exists": True})
        elif path == "/collections/restored":
            self._json(self.collection_info)
        else:
            self._json(None, 404, f"Not found: {path}")

    def do_POST(self) -> None:
        self._record()
        path = self.path.split("?")[0]
        if path == f"/collections/{PHYSICAL}/snapshots":
            self._json({"name": SNAP, "creation_time": "2026-01-02T03:04:05", "size": 123, "checksum": "c"})
        elif path == "/collections/restored/snapshots/upload":
            self._json(True)
        elif path == "/collections/refused/snapshots/upload":
            self._json(None, 400, f"Wrong input: snapshot rejected for key {SECRET}")
        elif path == "/collections/restored/points/count":
            self._json({"count": 42})
        else:
            self._json(None, 404, f"Not found: {path}")

    def do_PATCH(self) -> None:
        self._record()
        self._json(True)

    def log_message(self, *a) -> None:
        pass


@pytest.fixture
def fake_qdrant(tmp_path):
    from qdrant_client import QdrantClient
    from qdrant_client import models as m

    # What GET /collections/{name} answers for a roocode-tui collection, as a real client reads it.
    local = QdrantClient(path=str(tmp_path / "shape"))
    local.create_collection(
        "docs",
        vectors_config={"dense": m.VectorParams(size=4, distance=m.Distance.COSINE)},
        metadata={
            "roocode_tui": {"name": "docs", "model": "m", "dimension": 4, "query_prefix": "", "document_prefix": ""}
        },
    )
    FakeQdrant.collection_info = local.get_collection("docs").model_dump(mode="json")
    local.close()
    FakeQdrant.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeQdrant)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _server(url: str) -> QdrantStore:
    return QdrantStore(StoreSettings(backend="qdrant", url=url, api_key=SECRET, timeout_s=5))


async def test_server_snapshot_is_created_then_downloaded_with_the_key(fake_qdrant, tmp_path):
    store = _server(fake_qdrant)
    try:
        snap = await snapshots.take(store, tmp_path, "docs")
        assert snap.path.read_bytes() == FakeQdrant.snapshot_bytes and snap.path.suffix == ".snapshot"
        assert snap.name == SNAP and snap.path.parent == tmp_path / "snapshots"
        calls = [(method, path) for method, path, _, _ in FakeQdrant.requests]
        # the alias resolves to its physical collection, whose snapshot is made and fetched
        assert ("POST", f"/collections/{PHYSICAL}/snapshots?wait=true") in calls
        download = [r for r in FakeQdrant.requests if r[1] == f"/collections/{PHYSICAL}/snapshots/{SNAP}"]
        assert len(download) == 1 and download[0][0] == "GET" and download[0][2].get("api-key") == SECRET

        listed = await snapshots.list_snapshots(store, tmp_path, "docs")
        assert [(s.where, s.name) for s in listed] == [("file", snap.path.name), ("server", SNAP)]

        with pytest.raises(StoreError) as info:
            await snapshots.take(store, tmp_path, "missing")
        assert "'missing' does not exist" in str(info.value)
    finally:
        await store.close()


async def test_server_restore_uploads_a_priority_snapshot_under_the_new_name(fake_qdrant, tmp_path):
    store = _server(fake_qdrant)
    file = tmp_path / "docs.snapshot"
    file.write_bytes(FakeQdrant.snapshot_bytes)
    try:
        with pytest.raises(UsageError, match="'docs' already exists"):
            await snapshots.restore(store, "docs", file)
        done = await snapshots.restore(store, "restored", file)
        assert done == {"collection": "restored", "points": 42, "from": str(file)}
        upload = [r for r in FakeQdrant.requests if r[1].startswith("/collections/restored/snapshots/upload")]
        assert len(upload) == 1
        method, path, headers, body = upload[0]
        assert method == "POST" and "priority=snapshot" in path and headers.get("api-key") == SECRET
        assert headers["Content-Type"].startswith("multipart/form-data") and FakeQdrant.snapshot_bytes in body
        assert b'name="snapshot"; filename="docs.snapshot"' in body
        # the build record travels in the snapshot under the old name: it is renamed
        patch = [r for r in FakeQdrant.requests if r[0] == "PATCH"]
        assert len(patch) == 1 and patch[0][1] == "/collections/restored"
        assert json.loads(patch[0][3])["metadata"]["roocode_tui"]["name"] == "restored"

        with pytest.raises(StoreError) as info:
            await snapshots.restore(store, "refused", file)
        line = str(info.value)
        assert "HTTP 400" in line and "snapshot rejected" in line and SECRET not in line and "\n" not in line
        assert "***" in line

        embedded_snapshot = tmp_path / "e.tar.gz"
        with gzip.open(embedded_snapshot, "wb") as fh:
            fh.write(b"not a tar")
        with pytest.raises(UsageError, match=r"e\.tar\.gz: not a roocode-tui snapshot"):
            await snapshots.restore(store, "other", embedded_snapshot)
        manifest = {"format": snapshots.FORMAT, "meta": {}, "collection": "x", "points": 0}
        ours = _tar_gz(tmp_path / "ours.tar.gz", {snapshots.MANIFEST: json.dumps(manifest).encode()})
        with pytest.raises(UsageError, match=r"ours\.tar\.gz is a snapshot of the embedded store"):
            await snapshots.restore(store, "other", ours)
        text = tmp_path / "notes.txt"
        text.write_text("hello")
        with pytest.raises(UsageError, match=r"notes\.txt: not a Qdrant snapshot"):
            await snapshots.restore(store, "other", text)
    finally:
        await store.close()


async def test_server_download_failures_name_the_server_and_never_the_key(fake_qdrant, tmp_path):
    store = _server(fake_qdrant)
    FakeQdrant.snapshot_bytes, saved = b"", FakeQdrant.snapshot_bytes
    try:
        original = FakeQdrant.do_GET

        def refuse(handler):
            if "/snapshots/" in handler.path:
                handler._record()
                return handler._json(None, 403, f"forbidden for {SECRET}")
            return original(handler)

        FakeQdrant.do_GET = refuse
        with pytest.raises(StoreError) as info:
            await snapshots.take(store, tmp_path, "docs")
        line = str(info.value)
        assert f"Qdrant at {fake_qdrant}" in line and "unauthorised (HTTP 403)" in line and SECRET not in line
        assert list((tmp_path / "snapshots").iterdir()) == []  # no partial file
    finally:
        FakeQdrant.do_GET = original
        FakeQdrant.snapshot_bytes = saved
        await store.close()
