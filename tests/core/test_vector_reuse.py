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
from test_store_contract import can_seed

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
            if can_seed(store):  # the collection starts as a copy of "first" (ingest/seed.py)
                copied = same.reuse["collection_copied"]
                assert copied["from"] == "first" and copied["points"] == copied["kept"] == first.chunks_embedded
            else:  # a Qdrant server: whole files, not cut again, copied file by file
                assert same.reuse["chunks_of_whole_files"] == first.chunks_embedded
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


def _branch_of(tree: Path, branch: Path) -> None:
    """A copy of ``tree`` as a branch would leave it: one file changed, one gone, one new."""
    shutil.copytree(tree, branch, symlinks=True)
    cache = branch / "src" / "storage" / "cache.py"
    cache.write_text(
        cache.read_text() + "\n\ndef evict_all(cache):\n    # drop every entry at once\n    cache.clear()\n"
    )
    (branch / "docs" / "faq.md").unlink()
    (branch / "docs" / "upgrading.md").write_text(
        "# Upgrading\n\nStop the service, install the new package, start it.\n"
    )


async def test_a_branch_s_collection_starts_as_a_copy_and_ends_as_one_embedded_afresh(
    tmp_path: Path, corpus: Path, store
):
    """A new collection of a tree another collection holds (a worktree, a clone, a copy) starts
    as a copy of that collection in the embedded store (ingest/seed.py), file by file on a Qdrant
    server; either way it ends holding exactly what embedding the tree afresh gives: the same
    ids, payloads and vectors, the changed file's new chunk the only one embedded, the gone
    file's points gone."""
    branch = tmp_path / "branch"
    _branch_of(corpus, branch)
    with EmbedServer() as srv:
        try:
            main = await index(store, embedder(srv), "main", corpus)
            before = await every_point(store, "main")
            srv.reset_counts()
            seeded = await index(store, embedder(srv), "branch", branch)
            fresh = await index(store, embedder(srv), "fresh", branch, reuse=False)
            assert seeded.files_indexed == fresh.files_indexed and seeded.files_failed == 0
            # the copy's points of the gone file were never this collection's: nothing reported deleted
            assert seeded.files_deleted == seeded.points_deleted == fresh.files_deleted == 0
            # the changed file's new chunk, the new file: nothing else
            assert 2 <= seeded.chunks_embedded <= 3 < main.chunks_embedded
            assert seeded.chunks_embedded + seeded.chunks_reused_from_other_collections == (
                fresh.chunks_embedded + fresh.chunks_reused
            )
            copied = seeded.reuse.get("collection_copied")
            if can_seed(store):
                assert copied is not None and copied["from"] == "main" and copied["points"] == len(before)
                assert seeded.reuse["found"] == {"main": copied["kept"]}
            else:
                assert copied is None and seeded.reuse["chunks_of_whole_files"] > 0
            mine, afresh = await every_point(store, "branch"), await every_point(store, "fresh")
            assert mine.keys() == afresh.keys()
            assert not any(p[0]["path"] == "docs/faq.md" for p in mine.values())
            for pid, (payload, dense, sparse) in mine.items():
                assert payload["root"] == str(branch.resolve())
                assert {k: v for k, v in payload.items() if k != "indexed_at"} == {
                    k: v for k, v in afresh[pid][0].items() if k != "indexed_at"
                }, payload["path"]
                assert abs(dense - afresh[pid][1]).max() <= 1e-6 and sparse == afresh[pid][2]
            assert (await every_point(store, "main")).keys() == before.keys()  # the source as it was

            again = await index(store, embedder(srv), "branch", branch)
            assert again.chunks_embedded == 0 and again.points_written == 0 and again.points_deleted == 0
            assert again.files_unchanged == fresh.files_indexed and "collection_copied" not in again.reuse
        finally:
            await store.close()


async def test_point_ids_name_the_root_only_where_a_collection_needs_it(tmp_path: Path, corpus: Path):
    """A new collection of one folder has ids without its root (they do not change with the
    folder's place); one of several folders, and one made before, name the root in every id
    and are not copied whole into a new collection (the run copies file by file)."""
    from roocode_tui.core.ingest.jobs import point_id
    from roocode_tui.core.stores.base import PORTABLE_IDS
    from roocode_tui.core.stores.edge import EdgeStore

    def expected(points: dict[str, tuple], keyed: bool) -> set[str]:
        seen: dict[tuple[str, str, str], int] = {}
        ids = set()
        for payload, _, _ in sorted(points.values(), key=lambda p: (p[0]["root"], p[0]["path"], p[0]["chunk_index"])):
            key = (payload["root"], payload["path"], payload["chunk_hash"])
            ids.add(
                point_id(payload["root"] if keyed else "", payload["path"], payload["chunk_hash"], seen.get(key, 0))
            )
            seen[key] = seen.get(key, 0) + 1
        return ids

    store = EdgeStore(tmp_path / "data")
    other = tmp_path / "other"
    shutil.copytree(corpus / "docs", other)
    with EmbedServer() as srv:
        try:
            await index(store, embedder(srv), "one", corpus)
            one = await every_point(store, "one")
            assert (await store.get_meta("one")).point_ids == PORTABLE_IDS and one.keys() == expected(one, False)

            # a second folder indexed into it, the same files at the same places: its ids name
            # its root, and the first folder's points stay as they are (no id of one is the other's)
            twin = tmp_path / "twin"
            shutil.copytree(corpus, twin, symlinks=True)
            await index(store, embedder(srv), "one", twin)
            back = await index(store, embedder(srv), "one", corpus)
            both = await every_point(store, "one")
            theirs = {k: v for k, v in both.items() if v[0]["root"] == str(twin.resolve())}
            assert back.chunks_embedded == 0 and back.points_written == 0
            assert both.keys() == one.keys() | expected(theirs, True) and len(both) == 2 * len(one)

            emb = embedder(srv)
            try:
                await Indexer(store, emb, "two", [corpus / "docs", other], index=SMALL).run()
            finally:
                await emb.aclose()
            two = await every_point(store, "two")
            assert {p[0]["root"] for p in two.values()} == {str((corpus / "docs").resolve()), str(other.resolve())}
            assert two.keys() == expected(two, True)

            # made before ids could leave the root out: its runs keep naming it
            await index(store, embedder(srv), "legacy", corpus)
            meta = await store.get_meta("legacy")
            meta.point_ids = ""
            await store.save_meta(meta)
            await store.delete_ids("legacy", list(await every_point(store, "legacy")))
            await index(store, embedder(srv), "legacy", corpus)
            legacy = await every_point(store, "legacy")
            assert legacy.keys() == expected(legacy, True) and legacy.keys().isdisjoint(one)
            again = await index(store, embedder(srv), "legacy", corpus)
            assert again.points_written == 0 and again.chunks_embedded == 0

            # ... and is no collection's starting copy: "clone" copies its files one by one
            await store.delete_collection("one")
            await store.delete_collection("two")
            clone = tmp_path / "clone"
            shutil.copytree(corpus, clone, symlinks=True)
            copied = await index(store, embedder(srv), "clone", clone)
            assert copied.chunks_embedded == 0 and "collection_copied" not in copied.reuse
            assert copied.reuse["chunks_of_whole_files"] > 0
            cloned = await every_point(store, "clone")
            assert cloned.keys() == expected(cloned, False)  # its own ids are portable
        finally:
            await store.close()
