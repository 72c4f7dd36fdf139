"""The ingest pipeline against a real embedded store and real HTTP to a loopback server."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from support.stores import all_points, make_store

from roocode_tui.core.config import EmbedderSettings
from roocode_tui.core.embedders.openai import OpenAIEmbedder
from roocode_tui.core.errors import ModelMismatchError
from roocode_tui.core.ingest.indexer import Indexer
from roocode_tui.core.search.searcher import search

NAME = "demo"


async def until(predicate, what: str, timeout: float = 10.0) -> None:
    """Wait for ``predicate`` to hold, checking it between turns of the event loop; fail
    naming ``what`` was awaited after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"still not so after {timeout:g}s: {what}")
        await asyncio.sleep(0.005)


async def index(store, embedder, root: Path, settings, **kw):
    return await Indexer(store, embedder, NAME, [root], index=settings, **kw).run()


async def test_first_run_indexes_everything_and_second_run_embeds_nothing(
    store, http_embedder, embed_server, corpus, small_chunks
):
    first = await index(store, http_embedder, corpus, small_chunks)
    assert first.phase == "done"
    assert first.files_indexed == 7  # 3 markdown, 2 python, 1 go, 1 typescript
    assert first.files_skipped == 2  # the binary and the .rooignore'd secrets.txt
    assert first.chunks_embedded == first.points_written == await store.count(NAME)
    assert first.chunks_embedded > first.files_indexed  # small chunks: several per file
    assert embed_server.requests == first.embed_requests + 1  # plus the one dimension probe

    embed_server.reset_counts()
    second = await index(store, http_embedder, corpus, small_chunks)
    assert second.chunks_embedded == 0 and embed_server.requests == 0
    assert second.files_unchanged == 7 and second.files_indexed == 0
    assert await store.count(NAME) == first.points_written


async def test_points_carry_exact_lines_and_the_raw_text(store, http_embedder, corpus, small_chunks):
    await index(store, http_embedder, corpus, small_chunks)
    points = await all_points(store)
    for payload in points.values():
        lines = (corpus / payload["path"]).read_text().split("\n")
        span = "\n".join(lines[payload["start_line"] - 1 : payload["end_line"]])
        assert payload["text"] in span
        assert span.strip().startswith(payload["text"].split("\n")[0].strip())
        assert payload["root"] == str(corpus.resolve())
        for key in ("language", "heading", "file_hash", "chunk_hash", "indexed_at"):
            assert key in payload
    langs = {p["path"]: p["language"] for p in points.values()}
    assert langs["src/net/retry.go"] == "go" and langs["docs/faq.md"] == "markdown"


async def test_editing_one_file_embeds_only_its_changed_chunks(
    store, http_embedder, embed_server, corpus, small_chunks, tmp_path
):
    await index(store, http_embedder, corpus, small_chunks)
    target = corpus / "docs" / "faq.md"
    text = target.read_text()
    target.write_text(text.replace("Dark and light themes are built in.", "Dark, light and solarized themes ship."))
    embed_server.reset_counts()
    run = await index(store, http_embedder, corpus, small_chunks)
    assert run.files_indexed == 1 and run.files_unchanged == 6
    assert embed_server.inputs, "the changed chunk must be embedded"
    assert all(i.startswith("docs/faq.md") for i in embed_server.inputs)
    assert run.chunks_reused > 0, "unchanged chunks of the edited file keep their vectors"

    # Same point set as a from-scratch index of the same tree.
    fresh = make_store(store.backend, tmp_path / "fresh")
    try:
        await index(fresh, http_embedder, corpus, small_chunks)
        assert set((await all_points(fresh)).keys()) == set((await all_points(store)).keys())
    finally:
        await fresh.close()


async def test_moved_chunk_gets_new_line_numbers_without_reembedding(
    store, http_embedder, embed_server, corpus, small_chunks
):
    await index(store, http_embedder, corpus, small_chunks)
    target = corpus / "src" / "storage" / "checksum.py"
    target.write_text("# a new comment line at the top\n" + target.read_text())
    embed_server.reset_counts()
    await index(store, http_embedder, corpus, small_chunks)
    points = [p for p in (await all_points(store)).values() if p["path"] == "src/storage/checksum.py"]
    lines = target.read_text().split("\n")
    for p in points:
        assert p["text"] in "\n".join(lines[p["start_line"] - 1 : p["end_line"]])
    assert len(embed_server.inputs) < len(points) + 1


async def test_deleted_and_added_files(store, http_embedder, embed_server, corpus, small_chunks):
    await index(store, http_embedder, corpus, small_chunks)
    before = await all_points(store)
    (corpus / "docs" / "backups.md").unlink()
    (corpus / "docs" / "new.md").write_text("# New page\n\nAll about the gizmo calibration procedure.\n")
    embed_server.reset_counts()
    run = await index(store, http_embedder, corpus, small_chunks)
    after = await all_points(store)
    assert run.files_deleted == 1 and run.files_indexed == 1
    assert not any(p["path"] == "docs/backups.md" for p in after.values())
    assert any(p["path"] == "docs/new.md" for p in after.values())
    assert embed_server.inputs and all(i.startswith("docs/new.md") for i in embed_server.inputs)
    gone = [i for i, p in before.items() if p["path"] == "docs/backups.md"]
    assert gone and not set(gone) & set(after)


async def test_touch_without_change_costs_no_embedding(store, http_embedder, embed_server, corpus, small_chunks):
    await index(store, http_embedder, corpus, small_chunks)
    target = corpus / "docs" / "faq.md"
    later = time.time() + 5
    os.utime(target, (later, later))
    embed_server.reset_counts()
    run = await index(store, http_embedder, corpus, small_chunks)
    assert embed_server.requests == 0 and run.files_unchanged == 7
    # the new mtime was recorded: the next run decides from the stat alone
    points = [p for p in (await all_points(store)).values() if p["path"] == "docs/faq.md"]
    assert {p["mtime_ns"] for p in points} == {target.stat().st_mtime_ns}


async def test_half_written_file_is_repaired_by_the_next_run(store, http_embedder, corpus, small_chunks):
    """A crash between 'write new points' and 'delete stale ones' leaves two versions of a file."""
    await index(store, http_embedder, corpus, small_chunks)
    points = await all_points(store)
    victim = next(i for i, p in points.items() if p["path"] == "docs/faq.md")
    await store.delete_ids(NAME, [victim])  # as if a write was cut short
    run = await index(store, http_embedder, corpus, small_chunks)
    assert run.files_indexed == 1
    assert set((await all_points(store)).keys()) == set(points.keys())


async def test_cancel_mid_run_then_resume_gives_the_clean_result(store, embed_server, corpus, small_chunks, tmp_path):
    embed_server.faults.delay_s = 0.05
    slow = OpenAIEmbedder(
        EmbedderSettings(
            provider="openai", base_url=embed_server.base_url, model=embed_server.model, batch_size=2, max_concurrency=1
        )
    )
    indexer = Indexer(store, slow, NAME, [corpus], index=small_chunks)
    task = asyncio.create_task(indexer.run())
    while indexer.progress.points_written == 0:
        await asyncio.sleep(0.01)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 2.0
    assert indexer.progress.phase == "cancelled"
    partial = await all_points(store)
    # every file present is present whole
    by_file: dict[str, list[dict]] = {}
    for p in partial.values():
        by_file.setdefault(p["path"], []).append(p)
    for path, pts in by_file.items():
        assert len(pts) == pts[0]["chunk_count"], path
    assert len(by_file) < 7

    embed_server.faults.delay_s = 0
    run = await index(store, slow, corpus, small_chunks)
    assert run.phase == "done" and run.files_unchanged == len(by_file)
    fresh = make_store(store.backend, tmp_path / "fresh")
    try:
        await index(fresh, slow, corpus, small_chunks)
        assert set((await all_points(fresh)).keys()) == set((await all_points(store)).keys())
    finally:
        await fresh.close()
        await slow.aclose()


async def test_another_model_is_refused(store, http_embedder, embed_server, corpus, small_chunks):
    await index(store, http_embedder, corpus, small_chunks)
    count = await store.count(NAME)
    other = OpenAIEmbedder(
        EmbedderSettings(provider="openai", base_url=embed_server.base_url, model=embed_server.model, dimensions=32)
    )
    with pytest.raises(ModelMismatchError, match=r"64-d.*32-d.*--rebuild"):
        await index(store, other, corpus, small_chunks)
    embed_server.model = "other/model"
    renamed = OpenAIEmbedder(EmbedderSettings(provider="openai", base_url=embed_server.base_url, model="other/model"))
    with pytest.raises(ModelMismatchError, match="other/model"):
        await search(store, renamed, NAME, "backups")
    assert await store.count(NAME) == count  # nothing touched


async def test_failed_embedding_keeps_the_old_points(store, http_embedder, embed_server, corpus, small_chunks):
    await index(store, http_embedder, corpus, small_chunks)
    before = await all_points(store)
    (corpus / "docs" / "faq.md").write_text("# FAQ\n\nCompletely rewritten.\n")
    embed_server.faults.fail_next = [400]  # a permanent error for the one request
    run = await index(store, http_embedder, corpus, small_chunks)
    assert run.files_failed == 1 and run.errors[0].path == "docs/faq.md"
    assert "HTTP 400" in run.errors[0].reason
    assert set((await all_points(store)).keys()) == set(before.keys())


async def test_unreadable_root_deletes_nothing(store, http_embedder, corpus, small_chunks, tmp_path):
    await index(store, http_embedder, corpus, small_chunks)
    count = await store.count(NAME)
    moved = tmp_path / "elsewhere"
    corpus.rename(moved)
    run = await index(store, http_embedder, corpus, small_chunks)
    assert run.files_failed == 1 and run.files_deleted == 0
    assert run.errors[0].path == str(corpus) and "cannot open path" in run.errors[0].reason
    assert await store.count(NAME) == count


async def test_a_slow_store_holds_the_embedder_back(http_embedder, tmp_path, small_chunks):
    """Embedded files wait for the store in a bounded queue: memory must not grow with the corpus."""
    from roocode_tui.core.ingest import writing as ingest
    from roocode_tui.core.stores.edge import EdgeStore

    class SlowStore(EdgeStore):
        async def upsert(self, name, points):
            await asyncio.sleep(0.005 + 0.002 * len(points))
            await super().upsert(name, points)

    tree = tmp_path / "many"
    tree.mkdir()
    for i in range(300):
        (tree / f"note_{i:03}.md").write_text(f"# Note {i}\n\nA short note about topic number {i}.\n")
    store = SlowStore(tmp_path / "data")
    backlog: list[int] = []
    try:
        run = await Indexer(
            store,
            http_embedder,
            NAME,
            [tree],
            index=small_chunks,
            on_progress=lambda p: backlog.append(p.chunks_embedded - p.points_written),
            progress_interval_s=0,
        ).run()
        assert run.points_written == 300 == await store.count(NAME)
    finally:
        await store.close()
    # One chunk per file: at most a full queue, the group the committer took out of it, and the
    # batches in flight (an unbounded queue let this reach most of the corpus).
    bound = 2 * ingest.COMMIT_QUEUE + http_embedder.batch_size * http_embedder.max_concurrency
    assert max(backlog) <= bound < 300


async def test_a_search_holds_new_ingest_batches_back(store, embed_server, corpus, small_chunks):
    """While a person searches, the ingest sends nothing new; the batches already out finish."""
    embed_server.faults.delay_s = 0.05
    embedder = OpenAIEmbedder(
        EmbedderSettings(
            provider="openai", base_url=embed_server.base_url, model=embed_server.model, batch_size=2, max_concurrency=2
        )
    )
    try:
        task = asyncio.create_task(index(store, embedder, corpus, small_chunks))
        await until(lambda: embed_server.requests >= 3, "the run sends its first batches")
        embedder.hold_ingest(1.0)
        assert embedder.ingest_held
        await until(lambda: embedder.stats.in_flight == 0, "the batches that were out come back")
        during = embed_server.requests
        query = await embedder.embed_queries(["where is the retry policy"])  # the search goes alone
        assert embedder.ingest_held, "the hold ended before the search was answered: nothing was checked"
        assert embed_server.requests == during + 1 and query.shape[0] == 1

        def hold_over() -> bool:
            if not embedder.ingest_held:
                return True
            assert embed_server.requests == during + 1 and embedder.stats.in_flight == 0, "a batch went out"
            return False

        await until(hold_over, "the hold ends by itself, no batch sent meanwhile")
        run = await task  # and the run then finishes whole
    finally:
        await embedder.aclose()
    assert run.phase == "done" and run.points_written == run.chunks_embedded == await store.count(NAME)
    assert not embedder.ingest_held


async def test_searches_that_never_stop_slow_a_run_down_but_never_starve_it(store, embed_server, corpus, small_chunks):
    """A script polling search in a loop (as a watcher's user waiting for a save to show):
    each search holds new batches back while it is answered, and a batch still gets its turn."""
    embedder = OpenAIEmbedder(
        EmbedderSettings(provider="openai", base_url=embed_server.base_url, model=embed_server.model, batch_size=4)
    )
    stop = asyncio.Event()

    async def poll() -> None:  # always one search in flight
        while not stop.is_set():
            with embedder.searching():
                await embedder.embed_queries(["where is the retry policy"])
                await asyncio.sleep(0.05)

    pollers = [asyncio.create_task(poll()) for _ in range(2)]
    try:
        run = await asyncio.wait_for(index(store, embedder, corpus, small_chunks), timeout=120)
    finally:
        stop.set()
        await asyncio.gather(*pollers)
        await embedder.aclose()
    assert run.phase == "done" and run.points_written == await store.count(NAME)


async def test_a_run_fed_with_changed_paths_reads_only_them_and_ends_as_a_full_run(
    store, http_embedder, small_chunks, tmp_path
):
    """The watcher's source: the changed paths. Every stage after it is the full run's, and the
    store ends the same as a from-scratch index of the final tree."""
    root = tmp_path / "tree"
    files = {
        "keep/k0.md": "# Keep 0\n\nUntouched text zero.\n",
        "keep/k1.md": "# Keep 1\n\nUntouched text one.\n",
        "keep/k2.md": "# Keep 2\n\nUntouched text two.\n",
        "docs/edit.md": "# Edit\n\nThe first version.\n",
        "docs/gone.md": "# Gone\n\nDeleted soon.\n",
        "docs/old-name.md": "# Renamed\n\nMoves to a new name.\n",
        "docs/later.tmp": "Ignored now, not after the .gitignore edit.\n",
        "docs/.gitignore": "*.tmp\n",
        "olddir/x.md": "# Old dir\n\nThe directory goes.\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    await index(store, http_embedder, root, small_chunks)

    (root / "docs" / "edit.md").write_text("# Edit\n\nThe second version, longer than the first.\n")
    (root / "docs" / "gone.md").unlink()
    (root / "docs" / "old-name.md").rename(root / "docs" / "new-name.md")
    (root / "docs" / ".gitignore").write_text("*.log\n")
    (root / "olddir" / "x.md").unlink()
    (root / "olddir").rmdir()
    (root / "newdir" / "deep").mkdir(parents=True)
    (root / "newdir" / "deep" / "y.md").write_text("# New dir\n\nA directory that came.\n")
    changed = [
        "docs/edit.md",
        "docs/gone.md",
        "docs/old-name.md",
        "docs/new-name.md",
        "docs/.gitignore",
        "olddir",
        "newdir",
        "keep/not-there.md",
    ]
    run = await index(store, http_embedder, root, small_chunks, changes={str(root.resolve()): changed})
    assert run.phase == "done"
    # docs/ (its .gitignore changed) and newdir/ were walked; keep/ was not read at all.
    assert run.files_seen == 4  # docs: edit, new-name, later.tmp; newdir: y (keep/not-there is absent)
    assert run.files_deleted == 3  # gone.md, old-name.md, olddir/x.md

    fresh = make_store(store.backend, tmp_path / "fresh")
    try:
        await index(fresh, http_embedder, root, small_chunks)
        expected, got = await all_points(fresh), await all_points(store)
        assert got.keys() == expected.keys()
        for pid, payload in expected.items():
            assert {**got[pid], "indexed_at": None} == {**payload, "indexed_at": None}
    finally:
        await fresh.close()


async def test_changed_paths_under_a_symlinked_directory_make_the_run_walk_every_root(
    store, http_embedder, small_chunks, tmp_path
):
    root = tmp_path / "tree"
    (root / "real").mkdir(parents=True)
    (root / "real" / "a.md").write_text("# A\n\nFirst.\n")
    (root / "other.md").write_text("# Other\n\nUnchanged.\n")
    (root / "via").symlink_to(root / "real", target_is_directory=True)
    await index(store, http_embedder, root, small_chunks)
    (root / "real" / "b.md").write_text("# B\n\nSecond.\n")
    run = await index(store, http_embedder, root, small_chunks, changes={str(root.resolve()): ["via/b.md"]})
    assert run.phase == "done" and run.files_seen == 3  # the whole walk: other.md, real/a.md, real/b.md
    assert {p["path"] for p in (await all_points(store)).values()} == {"other.md", "real/a.md", "real/b.md"}


async def test_a_search_while_a_file_is_rewritten_shows_one_version_of_it(store, http_embedder, small_chunks, tmp_path):
    """The committer writes a file's new points, then deletes its stale ones: a search between
    the two finds only the new version's chunks, never a mix."""
    root = tmp_path / "tree"
    root.mkdir()
    target = root / "fruit.md"
    old = [f"## Old {i}\n\nThe kiwi orchard, old paragraph {i}: pruning in winter, row {i}.\n" for i in range(4)]
    new = [f"## New {i}\n\nThe kiwi orchard, new paragraph {i}: netting in spring, bed {i}.\n" for i in range(4)]
    target.write_text("# Fruit\n\n" + "\n".join(old))
    await index(store, http_embedder, root, small_chunks)
    target.write_text("# Fruit\n\n" + "\n".join(new))

    between = asyncio.Event()
    go_on = asyncio.Event()
    real_delete = store.delete_ids

    async def delete_ids(name, ids):  # the moment between the commit's two writes
        if ids:
            between.set()
            await go_on.wait()
        await real_delete(name, ids)

    store.delete_ids = delete_ids
    run = asyncio.create_task(index(store, http_embedder, root, small_chunks))
    await asyncio.wait_for(between.wait(), 30)
    try:
        raw = await store.search(NAME, (await http_embedder.embed_queries(["kiwi orchard"]))[0], 20)
        assert any("old paragraph" in h.text for h in raw) and any("new paragraph" in h.text for h in raw)
        found = await search(store, http_embedder, NAME, "kiwi orchard", limit=20, mode="dense", merge=False)
        texts = [h.text for h in found.hits if h.path == "fruit.md"]
        assert texts and all("old paragraph" not in t for t in texts)
    finally:
        go_on.set()
        await run
    after = await search(store, http_embedder, NAME, "kiwi orchard", limit=20, mode="dense", merge=False)
    assert all("old paragraph" not in h.text for h in after.hits)


async def test_a_collection_cut_by_older_chunking_rules_is_cut_again_by_its_next_full_run(
    store, http_embedder, embed_server, corpus, small_chunks, monkeypatch
):
    from roocode_tui.core.chunking import syntax
    from roocode_tui.core.chunking.splitter import CHUNKER

    with monkeypatch.context() as m:  # the rules before syntax trees: code cut by separators
        m.setattr(syntax, "GRAMMARS", {})
        await index(store, http_embedder, corpus, small_chunks)
    meta = await store.get_meta(NAME)
    meta.chunker = ""
    await store.save_meta(meta)
    before = {p["path"]: p["heading"] for p in (await all_points(store)).values()}
    assert before["src/net/retry.go"] == ""

    embed_server.reset_counts()
    run = await index(store, http_embedder, corpus, small_chunks)
    # The Go and TypeScript files are cut again (by their syntax trees); the markdown and
    # Python files are cut the same way as before: not embedded, only written again for the
    # payload rules 5 added (every definition's symbol), their vectors read back.
    assert run.files_indexed == 7 and run.files_unchanged == 0 and run.chunks_reused > 0
    assert all(i.startswith(("src/net/retry.go", "src/net/http_client.ts")) for i in embed_server.inputs)
    headings = {p["heading"] for p in (await all_points(store)).values() if p["path"] == "src/net/retry.go"}
    assert any(h.startswith("func ") for h in headings)
    assert (await store.get_meta(NAME)).chunker == CHUNKER
    embed_server.reset_counts()
    again = await index(store, http_embedder, corpus, small_chunks)
    assert again.files_unchanged == 7 and embed_server.requests == 0


async def test_a_new_collection_is_created_while_its_first_batch_is_embedded(
    store, http_embedder, embed_server, corpus, small_chunks, tmp_path
):
    """The collection is created once the first batch is back (its creation holds the
    interpreter on a slow disk, which would keep the first batches from going out), and
    before anything is written to it; a tree with nothing to index still leaves it."""
    order: list[str] = []
    seen: list[int] = []  # requests the server had answered or taken when the creation began
    create, upsert = store.create_collection, store.upsert

    async def creating(meta):
        order.append("create")
        seen.append(embed_server.requests)
        await create(meta)

    async def writing(name, points):
        order.append("upsert")
        await upsert(name, points)

    store.create_collection, store.upsert = creating, writing
    first = await index(store, http_embedder, corpus, small_chunks)
    assert first.phase == "done" and await store.count(NAME) == first.points_written
    assert order[0] == "create" and seen[0] >= 2  # after the dimension probe and a batch
    assert order[1:] == ["upsert"] * (len(order) - 1) and len(order) > 2

    empty = tmp_path / "empty"
    empty.mkdir()
    run = await Indexer(store, http_embedder, "nothing", [empty], index=small_chunks).run()
    assert run.phase == "done" and run.files_indexed == 0
    assert "nothing" in await store.list_collections()


async def test_a_new_collection_that_cannot_be_created_fails_the_run_with_the_stores_error(
    store, http_embedder, corpus, small_chunks
):
    from roocode_tui.core.errors import StoreError

    async def refuse(meta):
        raise StoreError(f"collection {meta.name!r}: cannot create: disk full")

    store.create_collection = refuse
    with pytest.raises(StoreError, match="disk full"):
        await index(store, http_embedder, corpus, small_chunks)
    assert NAME not in await store.list_collections()


async def test_rules_5_name_every_languages_definitions_without_embedding_anything_again(
    store, http_embedder, embed_server, corpus, small_chunks, monkeypatch
):
    """A collection cut by rules 4 had a ``symbol`` for Python chunks only; its next full run
    writes every point again with today's payload, reading the vectors back."""
    from roocode_tui.core.chunking.keywords import symbol_of
    from roocode_tui.core.ingest import schema

    with monkeypatch.context() as m:  # rules 4's payload: no symbol outside Python
        python_only = ("def ", "class ")
        m.setattr(
            schema,
            "payload_symbol",
            lambda c: symbol_of(c.heading) if c.heading.rsplit(" > ")[-1].startswith(python_only) else "",
        )
        await index(store, http_embedder, corpus, small_chunks)
    meta = await store.get_meta(NAME)
    meta.chunker = "4"
    await store.save_meta(meta)
    go = [p for p in (await all_points(store)).values() if p["path"] == "src/net/retry.go"]
    assert go and all(not p["symbol"] for p in go)
    assert not await store.defines_any(NAME, ["retry", "backoff"])

    embed_server.reset_counts()
    run = await index(store, http_embedder, corpus, small_chunks)
    assert embed_server.requests == 0 and run.chunks_embedded == 0 and run.chunks_reused > 0
    go = [p for p in (await all_points(store)).values() if p["path"] == "src/net/retry.go"]
    named = {p["heading"]: p["symbol"] for p in go if p["heading"].startswith("func ")}
    assert named and all(sym for sym in named.values())
    assert named == {"func Backoff": "backoff", "func Retry": "retry"}
    assert await store.defines_any(NAME, ["retry", "backoff"])
