"""Vectors found by content (core/ingest/reuse.py) in-process, on both store backends: reused
only from a collection of the same model, document prefix and size; a collection made before
collections recorded their vector key lends nothing until its next run; a collection that one
embedder wrote and another one added to lends nothing again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.embed_server import EmbedServer
from support.stores import every_point, make_store

from roocode_tui.core.config import EmbedderSettings, IndexSettings
from roocode_tui.core.embedders.openai import OpenAIEmbedder
from roocode_tui.core.ingest.indexer import Indexer
from roocode_tui.core.ingest.reuse import vector_key

SMALL = IndexSettings(chunk_tokens=80, chunk_overlap_tokens=0)


def embedder(srv: EmbedServer, **kw) -> OpenAIEmbedder:
    return OpenAIEmbedder(EmbedderSettings(provider="openai", base_url=srv.base_url, model=srv.model, **kw))


async def index(store, emb, name: str, root: Path, settings: IndexSettings = SMALL, **kw):
    try:
        return await Indexer(store, emb, name, [root], index=settings, **kw).run()
    finally:
        await emb.aclose()


@pytest.fixture(params=["embedded", "qdrant"])
def store(request, tmp_path: Path):
    return make_store(request.param, tmp_path / "data")


async def test_another_model_prefix_or_size_never_lends_its_vectors(tmp_path: Path, corpus: Path, store):
    other_root = tmp_path / "copy"
    shutil.copytree(corpus / "docs", other_root / "docs")  # the same files under another root
    (corpus / "copy").mkdir()
    first_root = corpus / "copy"
    (first_root / "docs").symlink_to(corpus / "docs")
    with (
        EmbedServer(model="test/a") as a,
        EmbedServer(model="test/b") as b,
        EmbedServer(model="test/a", dim=32) as a32,
    ):
        try:
            first = await index(store, embedder(a), "first", first_root)
            assert first.chunks_embedded > 3 and first.chunks_reused_from_other_collections == 0

            for name, emb, why in [
                ("model", embedder(b), "another model"),
                ("prefix", embedder(a, document_prefix="passage: "), "another document prefix"),
                ("size", embedder(a32), "another size"),
                ("input", embedder(a, send_input_type=True), "a server that adds its own prefix"),
            ]:
                run = await index(store, emb, name, other_root)
                assert run.chunks_reused_from_other_collections == 0, why
                assert run.chunks_embedded == first.chunks_embedded, why

            # the same embedder: every vector comes from "first", none is embedded
            a.reset_counts()
            same = await index(store, embedder(a), "same", other_root)
            assert same.chunks_embedded == 0 and a.inputs == ["dimension probe"]
            assert same.chunks_reused_from_other_collections == first.chunks_embedded
            assert same.reuse["found"] == {"first": first.chunks_embedded}
            assert same.reuse["chunks_of_whole_files"] == first.chunks_embedded  # whole files, not cut again
            # ... and not from "prefix" or "input", whose texts were the same but not their vectors
            fresh = await index(store, embedder(a), "fresh", other_root, reuse=False)
            assert fresh.chunks_embedded == first.chunks_embedded
            reused, embedded = await every_point(store, "same"), await every_point(store, "fresh")
            assert reused.keys() == embedded.keys()
            for pid, (payload, dense, sparse) in reused.items():
                assert {k: v for k, v in payload.items() if k != "indexed_at"} == {
                    k: v for k, v in embedded[pid][0].items() if k != "indexed_at"
                }
                assert abs(dense - embedded[pid][1]).max() <= 1e-6 and sparse == embedded[pid][2]

            # files cut with other chunk sizes are cut again, not copied (their chunks differ)
            sizes = await index(
                store, embedder(a), "sizes", other_root, IndexSettings(chunk_tokens=40, chunk_overlap_tokens=0)
            )
            assert sizes.reuse["chunks_of_whole_files"] == 0 and sizes.chunks_embedded > 0
            assert (await store.get_meta("sizes")).chunking == "40/0" and (
                await store.get_meta("same")
            ).chunking == "80/0"
        finally:
            await store.close()


async def test_a_collection_without_its_vector_key_lends_nothing_until_it_is_indexed(corpus: Path, store):
    with EmbedServer() as srv:
        try:
            await index(store, embedder(srv), "old", corpus / "docs")
            meta = await store.get_meta("old")
            assert meta.vector_key == vector_key(f"{srv.model}\x00", srv.dim)
            meta.vector_key = ""  # as a collection made before vector keys were recorded
            await store.save_meta(meta)

            nothing = await index(store, embedder(srv), "new", corpus / "src")
            assert nothing.reuse["sources"] == []  # "old" has no key: not a source
            again = await index(store, embedder(srv), "old", corpus / "docs")  # its own run records it
            assert again.chunks_embedded == 0 and (await store.get_meta("old")).vector_key == meta_key(srv)
            lent = await index(store, embedder(srv), "docs-again", corpus / "docs")
            assert lent.chunks_embedded == 0 and lent.reuse["found"] == {
                "old": lent.chunks_reused_from_other_collections
            }

            # written by another embedder of the same model (a server that adds its own prefix):
            # its vectors are of two kinds now, and it lends none
            (corpus / "docs" / "extra.md").write_text("# Extra\n\nA page written later, by another embedder.\n")
            await index(store, embedder(srv, send_input_type=True), "old", corpus / "docs")
            assert (await store.get_meta("old")).vector_key == "mixed"
            none = await index(store, embedder(srv), "docs-third", corpus / "docs")
            assert "old" not in none.reuse["sources"]
        finally:
            await store.close()


def meta_key(srv: EmbedServer) -> str:
    return vector_key(f"{srv.model}\x00", srv.dim)


async def test_a_dry_run_writes_nothing_and_counts_what_the_run_embeds(corpus: Path, store):
    with EmbedServer() as srv:
        try:
            plan = await index(store, embedder(srv), "demo", corpus, dry_run=True)
            assert plan.phase == "done" and "demo" not in await store.list_collections()
            assert set(srv.inputs) <= {"dimension probe"}
            report = plan.report()
            assert report["dry_run"] and report["files_to_index"] == len(report["files"]) > 3
            skipped = {s["path"].rstrip("/") for s in report["skipped_files"]}
            assert skipped == {f.path for f in plan.log if f.kind == "skip"} and "generated/" in str(report)
            run = await index(store, embedder(srv), "demo", corpus)
            assert run.tokens_embedded == report["tokens_to_embed"] and run.chunks_embedded == report["chunks_to_embed"]
            assert run.files_indexed == report["files_to_index"]

            (corpus / "docs" / "backups.md").unlink()
            again = (await index(store, embedder(srv), "demo", corpus, dry_run=True)).report()
            assert again["files_to_index"] == 0 and again["files_deleted"] == 1 and again["chunks_to_embed"] == 0
            assert await store.count("demo") == run.points_written  # the gone file's points are still there
            assert "embed_tokens_per_s" not in (await store.get_meta("demo")).last_run or again["estimate"]["rate_from"]
        finally:
            await store.close()


async def test_a_float32_collection_takes_no_float16_vectors(tmp_path: Path, corpus: Path):
    """Vectors stored as float16 are rounded: a float32 collection takes them from no one (a
    fresh embedding would differ), while a float16 one takes float32 vectors (rounded alike)."""
    from roocode_tui.core.stores.edge import EdgeStore

    data = tmp_path / "data"
    with EmbedServer() as srv:
        half = EdgeStore(data, vector_datatype="float16")
        try:
            await index(half, embedder(srv), "half", corpus / "docs")
        finally:
            await half.close()
        full = EdgeStore(data, vector_datatype="float32")
        try:
            alone = await index(full, embedder(srv), "full", corpus / "docs")
            assert alone.chunks_reused_from_other_collections == 0 and alone.reuse["sources"] == []
            assert (await full.get_meta("full")).vector_datatype == "float32"
            twin = await index(full, embedder(srv), "full-twin", corpus / "docs")
            assert twin.chunks_embedded == 0 and twin.reuse["sources"] == ["full"]
        finally:
            await full.close()
        half = EdgeStore(data, vector_datatype="float16")
        try:
            rounded = await index(half, embedder(srv), "half-twin", corpus / "docs")
            assert rounded.chunks_embedded == 0 and set(rounded.reuse["sources"]) == {"full", "full-twin", "half"}
        finally:
            await half.close()
