"""Roo Code's collections: formulas checked against values written out from Roo Code's source,
a collection in Roo Code's format read and searched, and `index --schema roo` checked with
Roo Code's own search request. Real qdrant-client (local mode) and real HTTP on loopback."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
from support.embed_server import EmbedServer, hash_embed
from support.roo_collection import BLOCKS, ROO_NAMESPACE, WORKSPACE, make_roo_collection, without_content_keys
from support.workspaces import APP_TS, GUIDE, read_back, run_roo_index, workspace_files

from roocode_tui.core.agents import roo
from roocode_tui.core.backends import prepare_indexer
from roocode_tui.core.collections import catalog
from roocode_tui.core.collections.catalog import search_many
from roocode_tui.core.config import EmbedderSettings, Settings, StoreSettings
from roocode_tui.core.embedders.openai import OpenAIEmbedder
from roocode_tui.core.errors import ModelMismatchError, UsageError
from roocode_tui.core.stores.edge import EdgeStore
from roocode_tui.core.stores.qdrant import QdrantStore


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# -- formulas --------------------------------------------------------------------------------
def test_collection_name_is_ws_and_16_hex_of_sha256_of_the_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    # sha256("/home/dev/projects/shop") = cab2eea0d4f2fb6f...
    assert roo.collection_name("/home/dev/projects/shop") == "ws-cab2eea0d4f2fb6f"
    assert roo.collection_name("/home/dev/projects/shop/") == "ws-cab2eea0d4f2fb6f"
    assert roo.collection_name("/home/dev/projects/./shop") == "ws-cab2eea0d4f2fb6f"
    monkeypatch.chdir(tmp_path)
    assert roo.collection_name(".") == "ws-" + sha(str(tmp_path))[:16]
    link = tmp_path.parent / (tmp_path.name + "-link")
    link.symlink_to(tmp_path)
    # VS Code hashes the path as opened: a symlink is not resolved
    assert roo.collection_name(link) == "ws-" + sha(str(link))[:16] != roo.collection_name(tmp_path)
    assert roo.is_roo_name("ws-cab2eea0d4f2fb6f") and not roo.is_roo_name("ws-CAB2EEA0D4F2FB6F")
    assert roo.find_workspace("ws-cab2eea0d4f2fb6f", ["/home/dev/projects/shop/src/cart"]) == WORKSPACE


def test_marker_and_point_ids_use_roos_namespace():
    assert roo.MARKER_ID == "f70bfc2c-6e82-5456-9c20-33b51942337c"  # uuid5("__indexing_metadata__", ns)
    content = "# Guide\n\nIntro paragraph that is long enough to pass the fifty character minimum.\n"
    digest = roo.segment_hash("/home/dev/projects/shop/docs/guide.md", 1, 4, content)
    assert digest == "47d2a717b58577672b12e6d8bf0d27647985fc0ce56bd29b57361a07739ea101"
    assert roo.point_id(digest) == "f4d02dbd-2d5c-550f-a65a-d3cb1e57655d"
    assert roo.path_segments("src/cart/checkout.ts") == {"0": "src", "1": "cart", "2": "checkout.ts"}


def test_markdown_is_cut_at_headers_as_roo_cuts_it():
    path = "/home/dev/projects/shop/docs/guide.md"
    blocks = roo.split(GUIDE, path)
    lines = GUIDE.split("\n")
    # headers on rows 0, 4, 8: sections 1-4, 5-8, 9-12; "## Tiny\n\nok\n" is under 50 characters
    expected = [(1, 4), (5, 8)]
    assert [(b.start_line, b.end_line) for b in blocks] == expected
    for b, (start, end) in zip(blocks, expected, strict=True):
        content = "\n".join(lines[start - 1 : end])
        assert b.content == content
        assert b.segment_hash == sha(f"{path}-{start}-{end}-{len(content)}-{content[:100]}")
        assert b.id == str(uuid.uuid5(ROO_NAMESPACE, b.segment_hash))
    assert blocks[0].id == "f4d02dbd-2d5c-550f-a65a-d3cb1e57655d"


def test_lengths_and_previews_are_javascripts_utf16_units():
    emoji = 'def smile():\n    return "\U0001f600" * 40  # a grin, repeated forty times for the banner\n'
    assert len(emoji) == 80 and roo.js_len(emoji) == 81
    assert roo.segment_hash("/w/a.py", 1, 2, emoji) == sha(f"/w/a.py-1-2-81-{emoji}")
    # slice(0, 100) cuts the pair in two; Node hashes the lone half as U+FFFD (EF BF BD)
    cut = "a" * 99 + "\U0001f600" + "b" * 10
    data = b"/w/a.py-1-1-111-" + b"a" * 99 + b"\xef\xbf\xbd"
    assert roo.segment_hash("/w/a.py", 1, 1, cut) == hashlib.sha256(data).hexdigest()


def test_line_fallback_keeps_blocks_between_50_and_1150_characters():
    lines = [f"    total_{i} = compute_value({i}, factor={i % 7})  # step {i}" for i in range(120)]
    text = "\n".join(lines) + "\n" + "x" * 2500 + "\n" + "end of file marker line that is long enough to count\n"
    path = "/w/src/steps.swift"
    blocks = roo.split(text, path)
    normal = [b for b in blocks if b.start_line != 121]
    assert all(50 <= len(b.content) <= 1150 for b in normal)
    assert [b.start_line for b in normal[1:]] == [b.end_line + 1 for b in normal[:-2]] + [122]
    segments = [b for b in blocks if b.start_line == 121]  # the 2,500-character line: 1000-unit segments
    assert [len(b.content) for b in segments] == [1000, 1000, 500]
    second = segments[1]
    assert second.segment_hash == sha(f"{path}-121-121-1000-1000-{'x' * 100}")


# -- read side -------------------------------------------------------------------------------
def qwen_embedder(srv: EmbedServer, **kw) -> OpenAIEmbedder:
    return OpenAIEmbedder(EmbedderSettings(provider="openai", base_url=srv.base_url, model=srv.model, **kw))


async def test_a_roo_collection_is_recognised_and_searched_as_roo_searches(tmp_path: Path, qwen_server):
    data = tmp_path / "data"
    name = make_roo_collection(data)
    store = QdrantStore(StoreSettings(backend="qdrant", path=data))
    embedder = qwen_embedder(qwen_server)
    try:
        info = await catalog.info(store, name)
        assert info.kind == "roo-code" and info.meta is None
        assert info.points == len(BLOCKS)  # the marker is not a chunk
        assert (info.roo.dimension, info.roo.distance, info.roo.state) == (64, "Cosine", "complete")
        assert info.roo.completed_at == "2023-11-14T22:13:20+00:00"  # 1_700_000_000_000 ms
        assert info.to_json(WORKSPACE)["roo"]["workspace"] == WORKSPACE

        (result,) = await search_many(
            store, embedder, name, ["refund to the card"], limit=10, mode="hybrid", workspaces=[WORKSPACE]
        )
        assert result.note and result.mode == "dense"
        assert all(h.id != roo.MARKER_ID for h in result.hits) and len(result.hits) == len(BLOCKS)
        top = result.hits[0]
        assert (top.path, top.start_line, top.end_line, top.root) == ("docs/refunds.md", 1, 5, WORKSPACE)
        assert top.text == BLOCKS[2][3] and top.language == "markdown"
        assert "refund to the card" in qwen_server.inputs  # no "Instruct: ...\nQuery:" prefix

        (in_cart,) = await search_many(store, embedder, name, ["refund"], limit=10, path="src/cart/")
        assert {h.path for h in in_cart.hits} == {"src/cart/checkout.ts", "src/cart/discount.ts"}
        assert all(h.root == "" for h in in_cart.hits)  # workspace not known here
        (none,) = await search_many(store, embedder, name, ["refund"], limit=10, path="src/car")
        assert none.hits == []  # whole segments, as Roo Code matches them

        with pytest.raises(UsageError, match="records no language"):
            await search_many(store, embedder, name, ["x"], lang="python")
        with pytest.raises(UsageError, match="not a glob"):
            await search_many(store, embedder, name, ["x"], path="src/**/*.ts")
        wrong = qwen_embedder(qwen_server, dimensions=32)
        with pytest.raises(ModelMismatchError, match=r"holds 64-d vectors.*gives 32-d"):
            await search_many(store, wrong, name, ["x"])
        await wrong.aclose()
    finally:
        await embedder.aclose()
        await store.close()


async def test_other_collections_are_not_taken_for_roos(tmp_path: Path):
    from qdrant_client import QdrantClient
    from qdrant_client import models as m

    data = tmp_path / "data"
    client = QdrantClient(path=str(data))
    client.create_collection("ws-0123456789abcdef", vectors_config=m.VectorParams(size=4, distance=m.Distance.DOT))
    client.upsert("ws-0123456789abcdef", points=[m.PointStruct(id=1, vector=[1, 0, 0, 0], payload={"x": 1})])
    client.create_collection("notes", vectors_config=m.VectorParams(size=4, distance=m.Distance.COSINE))
    client.close()
    store = QdrantStore(StoreSettings(backend="qdrant", path=data))
    try:
        assert (await catalog.info(store, "ws-0123456789abcdef")).kind == "other"
        assert (await catalog.info(store, "notes")).kind == "other"
    finally:
        await store.close()


# -- write side ------------------------------------------------------------------------------
def expected_points(workspace: Path) -> dict[str, dict]:
    """Every block's id and payload, from the files and Roo Code's formulas alone."""
    out = {}
    for rel, blocks in {
        "docs/guide.md": [(1, 4), (5, 8)],  # header sections (see test_markdown_...)
        # tree-sitter: the one captured node of 50 characters or more, the function without its
        # `export` (what Roo Code's own chunker gives for this file)
        "src/app.ts": [(5, 11, APP_TS[APP_TS.index("function total") : APP_TS.rindex("}") + 1])],
    }.items():
        if not (workspace / rel).exists():
            continue
        lines = (workspace / rel).read_text().split("\n")
        for start, end, *text in blocks:
            chunk = text[0] if text else "\n".join(lines[start - 1 : end])
            segment = sha(f"{workspace}/{rel}-{start}-{end}-{len(chunk)}-{chunk[:100]}")
            out[str(uuid.uuid5(ROO_NAMESPACE, segment))] = {
                "filePath": rel,
                "codeChunk": chunk,
                "startLine": start,
                "endLine": end,
                "segmentHash": segment,
                "pathSegments": {str(i): s for i, s in enumerate(rel.split("/"))},
                "indexedBy": "roocode-tui",  # the one key Roo Code does not write: who wrote the point
            }
    return out


async def test_index_schema_roo_writes_what_roo_code_would(tmp_path: Path, qwen_server):
    from qdrant_client import models as m

    workspace = workspace_files(tmp_path / "shop")
    data = tmp_path / "data"
    progress = await run_roo_index(data, qwen_server, workspace)
    assert progress.phase == "done" and progress.files_indexed == 2
    assert progress.skip_reasons["not a file type Roo Code indexes"] == 1
    name = "ws-" + sha(str(workspace))[:16]
    expected = expected_points(workspace)
    # documents are embedded as Roo Code embeds them: the trimmed block, no prefix, no header
    embedded = [t for t in qwen_server.inputs if t != "dimension probe"]
    assert sorted(embedded) == sorted(p["codeChunk"].strip() for p in expected.values())

    client, points = read_back(data, name)
    try:
        params = client.get_collection(name).config.params.vectors
        assert (params.size, params.distance, params.on_disk) == (64, m.Distance.COSINE, True)
        marker = points.pop(str(uuid.uuid5(ROO_NAMESPACE, "__indexing_metadata__")))
        assert marker.payload["type"] == "metadata" and marker.payload["indexing_complete"] is True
        assert isinstance(marker.payload["completed_at"], int) and not any(marker.vector)
        assert set(points) == set(expected)
        payloads = without_content_keys({pid: rec.payload for pid, rec in points.items()}, qwen_server.model, 64)
        for pid, payload in payloads.items():
            assert payload == expected[pid]  # exactly Roo Code's keys and values, the owner and content key
        # Roo Code's own search request (vector-store/qdrant-client.ts search())
        query = hash_embed("Run the installer and follow the prompts", 64).tolist()
        found = client.query_points(
            name,
            query=query,
            query_filter=m.Filter(
                must=[m.FieldCondition(key="pathSegments.0", match=m.MatchValue(value="docs"))],
                must_not=[m.FieldCondition(key="type", match=m.MatchValue(value="metadata"))],
            ),
            score_threshold=0.4,
            limit=50,
            search_params=m.SearchParams(hnsw_ef=128, exact=False),
            with_payload=m.PayloadSelectorInclude(
                include=["filePath", "codeChunk", "startLine", "endLine", "pathSegments"]
            ),
        ).points
        assert found and found[0].payload["filePath"] == "docs/guide.md" and found[0].payload["startLine"] == 5
        assert {p.payload["filePath"] for p in found} == {"docs/guide.md"}
    finally:
        client.close()

    # A second run: every id is there already, nothing is embedded or written.
    qwen_server.reset_counts()
    again = await run_roo_index(data, qwen_server, workspace)
    assert (again.files_unchanged, again.chunks_embedded, again.points_written) == (2, 0, 0)
    assert qwen_server.inputs == ["dimension probe"]  # the model's size, asked once per run; no chunk

    # An edited file gets its new blocks and loses the stale ones; a deleted file its points.
    (workspace / "docs" / "guide.md").write_text(GUIDE.replace("## Install", "## Installing"))
    (workspace / "src" / "app.ts").unlink()
    third = await run_roo_index(data, qwen_server, workspace)
    assert third.files_indexed == 1 and third.files_deleted == 1
    client, points = read_back(data, name)
    client.close()
    points.pop(roo.MARKER_ID)
    now = expected_points(workspace)
    assert set(points) == set(now) and {p["filePath"] for p in now.values()} == {"docs/guide.md"}
    assert set(now) != {pid for pid, p in expected.items() if p["filePath"] == "docs/guide.md"}


async def test_roo_schema_marks_incomplete_refuses_a_wrong_dimension_and_the_embedded_store(
    tmp_path: Path, qwen_server
):
    workspace = workspace_files(tmp_path / "shop")
    data = tmp_path / "data"
    settings = Settings(
        embedder=EmbedderSettings(provider="openai", base_url=qwen_server.base_url, model=qwen_server.model),
        store=StoreSettings(backend="qdrant", path=data),
    )
    store = QdrantStore(settings.store)
    embedder = qwen_embedder(qwen_server)
    try:
        indexer = await prepare_indexer(settings, store, embedder, [str(workspace)], None, schema="roo")
        await indexer.schema.ensure_collection(indexer)  # what a run does first
        info = await catalog.info(store, indexer.collection)
        assert info.kind == "roo-code" and info.roo.state == "incomplete" and info.roo.started_at
        with pytest.raises(UsageError, match="is a coding agent's index: index it with"):  # F2/F4 rebuild of it
            await prepare_indexer(settings, store, embedder, [str(workspace)], indexer.collection, rebuild=True)
        assert (await catalog.info(store, indexer.collection)).kind == "roo-code"  # untouched
        with pytest.raises(UsageError, match="leave out --collection"):
            await prepare_indexer(settings, store, embedder, [str(workspace)], "mine", schema="roo")
        with pytest.raises(UsageError, match="one PATH"):
            await prepare_indexer(settings, store, embedder, [str(workspace), str(tmp_path)], None, schema="roo")
        small = qwen_embedder(qwen_server, dimensions=32)
        other = await prepare_indexer(settings, store, small, [str(workspace)], None, schema="roo")
        with pytest.raises(ModelMismatchError, match="holds 64-d vectors"):
            await other.run()
        await small.aclose()
    finally:
        await embedder.aclose()
        await store.close()
    edge = EdgeStore(tmp_path / "edge")
    with pytest.raises(UsageError, match="Qdrant server"):
        await prepare_indexer(settings, edge, embedder, [str(workspace)], None, schema="roo")
    await edge.close()


class _RecordingQdrant:
    """A loopback HTTP server answering the few REST calls that create a collection the way a
    Qdrant server answers them, recording each request: local mode keeps neither HNSW
    settings nor payload indexes, a server gets them in these bodies."""

    def __init__(self) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        calls = self.calls = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _answer(self, result) -> None:
                body = json.dumps({"result": result, "status": "ok", "time": 0.0}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                calls.append(("GET", self.path, None))
                if self.path.rstrip("/") == "":
                    body = json.dumps({"title": "qdrant", "version": "1.16.0", "commit": "x"}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    self._answer({"exists": False})

            def do_PUT(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                calls.append(("PUT", self.path.split("?")[0], json.loads(raw or b"null")))
                done = {"operation_id": len(calls), "status": "completed"}
                self._answer(True if self.path.split("?")[0].count("/") == 2 else done)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


async def test_a_server_gets_roos_vector_params_payload_indexes_and_marker(tmp_path: Path, qwen_server):
    workspace = workspace_files(tmp_path / "shop")
    server = _RecordingQdrant()
    settings = Settings(
        embedder=EmbedderSettings(provider="openai", base_url=qwen_server.base_url, model=qwen_server.model),
        store=StoreSettings(backend="qdrant", url=server.url),
    )
    store = QdrantStore(settings.store)
    embedder = qwen_embedder(qwen_server)
    try:
        indexer = await prepare_indexer(settings, store, embedder, [str(workspace)], None, schema="roo")
        await indexer.schema.ensure_collection(indexer)
    finally:
        await embedder.aclose()
        await store.close()
        server.close()
    name = "ws-" + sha(str(workspace))[:16]
    puts = [(path, body) for method, path, body in server.calls if method == "PUT"]
    create = puts[0]
    assert create[0] == f"/collections/{name}"
    assert create[1]["vectors"] == {"size": 64, "distance": "Cosine", "on_disk": True}
    assert create[1]["hnsw_config"] == {"m": 64, "ef_construct": 512, "on_disk": True}
    assert "sparse_vectors" not in create[1] or create[1]["sparse_vectors"] is None
    indexes = [body for path, body in puts if path == f"/collections/{name}/index"]
    assert indexes == [
        {"field_name": f, "field_schema": "keyword"}
        # and ours, contentKey: where a later run finds the vectors of our points (core/ingest/reuse.py)
        for f in [
            "type",
            "pathSegments.0",
            "pathSegments.1",
            "pathSegments.2",
            "pathSegments.3",
            "pathSegments.4",
            "contentKey",
        ]
    ]
    (marker,) = [body["points"][0] for path, body in puts if path == f"/collections/{name}/points"]
    assert marker["id"] == "f70bfc2c-6e82-5456-9c20-33b51942337c" and marker["vector"] == [0.0] * 64
    assert marker["payload"]["type"] == "metadata" and marker["payload"]["indexing_complete"] is False
    assert set(marker["payload"]) == {"type", "indexing_complete", "started_at"}
