"""Zero-downtime rebuild: the old index serves until an atomic switch; a broken rebuild harms nothing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.cli import cli, in_process_env
from support.engines import Box
from support.stores import all_points
from support.trees import many_files

from roocode_tui.core.backends import prepare_indexer
from roocode_tui.core.config import EmbedderSettings, Settings
from roocode_tui.core.embedders.openai import OpenAIEmbedder
from roocode_tui.core.ingest.indexer import Indexer
from roocode_tui.core.search.searcher import search

NAME = "demo"
NEW_DOC = "# Zebra crossings\n\nThe zebra crossing protocol hands the token to the next striped node.\n"
QUERY = "zebra crossing protocol striped node"


def slow_embedder(embed_server) -> OpenAIEmbedder:
    return OpenAIEmbedder(
        EmbedderSettings(
            provider="openai", base_url=embed_server.base_url, model=embed_server.model, batch_size=4, max_concurrency=1
        )
    )


async def paths_found(store, embedder, name: str = NAME) -> set[str]:
    return {h.path for h in (await search(store, embedder, name, QUERY, mode="dense", limit=20)).hits}


async def test_searches_use_the_old_index_until_the_switch(store, embed_server, corpus, small_chunks):
    embedder = slow_embedder(embed_server)
    settings = Settings(index=small_chunks)
    try:
        first = await Indexer(store, embedder, NAME, [corpus], index=small_chunks).run()
        before = await all_points(store)
        (corpus / "docs" / "zebra.md").write_text(NEW_DOC)
        (corpus / "docs" / "faq.md").unlink()

        embed_server.faults.delay_s = 0.03
        indexer = await prepare_indexer(settings, store, embedder, [], NAME, rebuild=True)
        task = asyncio.create_task(indexer.run())
        checked = 0
        while not task.done():
            serving = not indexer.progress.switched and indexer.progress.phase != "switching"
            found = await paths_found(store, embedder)
            count = await store.count(NAME)
            if serving and not indexer.progress.switched and indexer.progress.phase != "switching":
                # still the old index: the old files, its point count, and none of the new file
                assert "docs/zebra.md" not in found and count == first.points_written
                checked += 1
            await asyncio.sleep(0.02)
        run = await task
        assert checked >= 3 and run.switched and run.phase == "done"
        assert run.serving_points == first.points_written
        assert run.report()["rebuild"] == {"serving_points": first.points_written, "switched": True}

        embed_server.faults.delay_s = 0
        assert "docs/zebra.md" in await paths_found(store, embedder)
        assert await store.list_collections() == [NAME] and await store.staging_of(NAME) is None
        # the rebuilt collection is exactly what a fresh index of the new tree holds
        await Indexer(store, embedder, "fresh", [corpus], index=small_chunks).run()
        after, fresh = await all_points(store), await all_points(store, "fresh")
        assert set(after) == set(fresh) != set(before)
        assert not any(p["path"] == "docs/faq.md" for p in after.values())
        meta = await store.get_meta(NAME)
        assert meta.name == NAME and meta.staging_for is None and meta.last_run["status"] == "done"
    finally:
        await embedder.aclose()


async def test_a_cancelled_rebuild_leaves_the_old_index_and_resumes(store, embed_server, corpus, small_chunks):
    embedder = slow_embedder(embed_server)
    settings = Settings(index=small_chunks)
    try:
        first = await Indexer(store, embedder, NAME, [corpus], index=small_chunks).run()
        before = await all_points(store)
        (corpus / "docs" / "zebra.md").write_text(NEW_DOC)

        embed_server.faults.delay_s = 0.03
        indexer = await prepare_indexer(settings, store, embedder, [], NAME, rebuild=True)
        task = asyncio.create_task(indexer.run())
        while indexer.progress.points_written < 4:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert "old index still serves" in indexer.progress.message
        assert await all_points(store) == before  # untouched, payloads and all
        info = await store.info(NAME)
        assert info.points == first.points_written and info.rebuilding["points"] >= 4
        assert info.to_json()["rebuilding"]["model"] == embed_server.model

        embed_server.faults.delay_s = 0
        embed_server.reset_counts()
        again = await (await prepare_indexer(settings, store, embedder, [], NAME, rebuild=True)).run()
        # the files the first attempt finished are not embedded again
        assert again.switched and again.files_unchanged > 0 and again.chunks_embedded < await store.count(NAME)
        await Indexer(store, embedder, "fresh", [corpus], index=small_chunks).run()
        assert set(await all_points(store)) == set(await all_points(store, "fresh"))
        assert (await store.info(NAME)).rebuilding is None
    finally:
        await embedder.aclose()


async def test_abort_drops_only_the_new_index(store, embed_server, corpus, small_chunks):
    embedder = slow_embedder(embed_server)
    try:
        await Indexer(store, embedder, NAME, [corpus], index=small_chunks).run()
        before = await all_points(store)
        indexer = await prepare_indexer(Settings(index=small_chunks), store, embedder, [], NAME, rebuild=True)
        assert await store.staging_of(NAME) is not None
        del indexer
        assert await store.abort_rebuild(NAME) is True
        assert await store.staging_of(NAME) is None and await store.abort_rebuild(NAME) is False
        assert await all_points(store) == before
        assert await store.list_collections() == [NAME]
    finally:
        await embedder.aclose()


# -- separate processes, embedded store: the acceptance ------------------------------------------
def _env(embed_server) -> dict[str, str]:
    return {
        "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
        "ROOCODE_TUI_EMBEDDER__BASE_URL": embed_server.base_url,
        "ROOCODE_TUI_EMBEDDER__MODEL": embed_server.model,
        "ROOCODE_TUI_EMBEDDER__BATCH_SIZE": "2",
        "ROOCODE_TUI_EMBEDDER__MAX_CONCURRENCY": "1",
        "ROOCODE_TUI_INDEX__CHUNK_TOKENS": "60",
        "ROOCODE_TUI_INDEX__CHUNK_OVERLAP_TOKENS": "6",
    }


SEARCH = ("search", QUERY, "--collection", NAME, "--mode", "dense", "--limit", "20", "--json")


def _search_paths(home: Path, env: dict[str, str]) -> list[str]:
    out = cli(*SEARCH, home=home, env=env)
    assert out.returncode == 0, out.stderr
    return [r["path"] for r in json.loads(out.stdout)["results"]]


@pytest.mark.slow
def test_rebuild_in_one_process_while_another_searches_and_a_kill_harms_nothing(embed_server, corpus, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = _env(embed_server)
    first = cli("index", str(corpus), "--collection", NAME, "--json", home=home, env=env)
    assert first.returncode == 0, first.stderr
    points = json.loads(first.stdout)["points_written"]
    old_results = _search_paths(home, env)
    assert "docs/zebra.md" not in old_results
    (corpus / "docs" / "zebra.md").write_text(NEW_DOC)
    collection_dir = next((home).rglob(f"collections/{NAME}"))

    # a slow rebuild in another process, killed halfway
    embed_server.faults.delay_s = 0.4
    full_env = in_process_env()
    full_env.update({"HOME": str(home), "NO_COLOR": "1", **env})
    proc = subprocess.Popen(
        [sys.executable, "-m", "roocode_tui.cli", "collections", "rebuild", NAME, "--json"],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while "building" not in json.loads((collection_dir / "meta.json").read_text()):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        # Another process searches while the rebuild runs. The rebuild keeps the old index
        # open a moment after it starts (for its own calls under way): until it lets go, a
        # search elsewhere is told the collection is busy, and then it answers.
        while True:
            out = cli(*SEARCH, home=home, env=env)
            if out.returncode == 0:
                break
            assert "open in another process" in out.stderr, out.stderr
            assert proc.poll() is None and time.monotonic() < deadline, "the old index was never let go"
        during = [r["path"] for r in json.loads(out.stdout)["results"]]
        assert proc.poll() is None, "the rebuild should still be running"
        assert during == old_results
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    embed_server.faults.delay_s = 0
    assert _search_paths(home, env) == old_results  # the old index serves, intact
    info = json.loads(cli("collections", "info", NAME, "--json", home=home, env=env).stdout)
    assert info["points"] == points and info["rebuilding"]["points"] > 0  # killed halfway

    done = cli("collections", "rebuild", NAME, "--json", home=home, env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["rebuild"]["switched"] is True and report["files_unchanged"] > 0  # resumed
    assert "docs/zebra.md" in _search_paths(home, env)
    shards = [p.name for p in collection_dir.iterdir() if p.is_dir()]
    assert len(shards) == 1 and json.loads((collection_dir / "meta.json").read_text())["shard"] == shards[0]


def test_cli_rebuild_says_what_it_does_and_abort_finish(embed_server, corpus, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = _env(embed_server)
    assert cli("index", str(corpus), "--collection", NAME, home=home, env=env).returncode == 0
    out = cli("collections", "rebuild", NAME, home=home, env=env)
    assert out.returncode == 0, out.stderr
    assert "searches use the current one until it is complete" in out.stderr
    assert f"rebuilt: '{NAME}' now serves the new index" in out.stderr
    nothing = cli("collections", "rebuild", NAME, "--finish", home=home, env=env)
    assert nothing.returncode == 2 and "no unfinished rebuild" in nothing.stderr
    aborted = cli("collections", "rebuild", NAME, "--abort", "--json", home=home, env=env)
    assert json.loads(aborted.stdout) == {"collection": NAME, "aborted": False}
    refused = cli("--read-only", "collections", "rebuild", NAME, home=home, env=env)
    assert refused.returncode == 2 and "read-only" in refused.stderr


@pytest.mark.slow
def test_abort_and_finish_are_answered_by_the_engine_and_refused_while_the_rebuild_runs(
    box: Box,
    tmp_path: Path,
    embed_server,
):
    """`collections rebuild NAME --abort | --finish` go to the running engine, which keeps its
    store open (a release would close its embedder: status shows none) and refuses both while
    a run writes the collection."""
    box.serve()
    first = box.cli("index", str(many_files(tmp_path / "tree", 30)), "-c", NAME, "--json")
    assert first.returncode == 0, first.stderr
    points = json.loads(first.stdout)["points_written"]
    pid = box.engine_pid()

    def kept() -> bool:
        status = box.status()
        return status is not None and status["pid"] == pid and status["embedder"]["model_id"] is not None

    def info() -> dict:
        return json.loads(box.cli("collections", "info", NAME, "--json").stdout)

    def rebuild_halfway(step: str) -> None:
        """A rebuild cancelled (Ctrl-C) once it has written files: its new index stays beside
        the old one. While it runs, ``step`` is refused."""
        embed_server.faults.delay_s = 0.3
        last = box.run_of(NAME)["id"]
        try:
            proc = box.popen("collections", "rebuild", NAME, "--json")
            box.wait_for(
                lambda: box.run_of(NAME)["id"] != last and box.run_of(NAME)["files_indexed"] >= 2,
                "the rebuild to write files",
            )
            run_id = box.run_of(NAME)["id"]
            assert box.run_of(NAME)["kind"] == "rebuild"
            refused = box.cli("collections", "rebuild", NAME, step)
            assert refused.returncode == 2 and refused.stderr == (
                f"roocode-tui: error: collection '{NAME}' is being indexed (run {run_id}): cancel it first\n"
            )
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=60)
            assert proc.returncode == 130
        finally:
            embed_server.faults.delay_s = 0
        assert info()["rebuilding"]["points"] > 0

    rebuild_halfway("--abort")
    aborted = box.cli("collections", "rebuild", NAME, "--abort", "--json")
    assert aborted.returncode == 0 and json.loads(aborted.stdout) == {"collection": NAME, "aborted": True}
    assert "rebuilding" not in info() and info()["points"] == points
    again = box.cli("collections", "rebuild", NAME, "--abort")
    assert again.returncode == 0 and again.stdout == f"{NAME} has no unfinished rebuild\n"
    assert kept()

    rebuild_halfway("--finish")
    partial = info()["rebuilding"]["points"]
    finished = box.cli("collections", "rebuild", NAME, "--finish")
    assert finished.returncode == 0 and finished.stdout == f"{NAME} now serves the rebuilt index\n"
    assert "rebuilding" not in info() and info()["points"] == partial < points
    nothing = box.cli("collections", "rebuild", NAME, "--finish", "--json")
    assert nothing.returncode == 2 and nothing.stderr == (
        f"roocode-tui: error: '{NAME}' has no unfinished rebuild to switch to "
        f"(start one: roocode-tui collections rebuild {NAME})\n"
    )
    missing = box.cli("collections", "rebuild", "nope", "--abort")
    assert missing.returncode == 2 and missing.stderr == "roocode-tui: error: collection 'nope' does not exist\n"
    assert kept()


async def test_a_shard_dir_meta_json_does_not_name_is_swept_once_old(tmp_path, embed_server, corpus, small_chunks):
    """What a rebuild killed between creating its shard and naming it leaves behind goes away."""
    from roocode_tui.core.stores.edge import EdgeStore

    embedder = slow_embedder(embed_server)
    store = EdgeStore(tmp_path / "data")
    try:
        await Indexer(store, embedder, NAME, [corpus], index=small_chunks).run()
    finally:
        await store.close()
    collection = tmp_path / "data" / "collections" / NAME
    orphan, fresh = collection / "shard-0badf00d", collection / "shard-5eed5eed"
    for d in (orphan, fresh):
        (d / "wal").mkdir(parents=True)
    os.utime(orphan, (time.time() - 3600, time.time() - 3600))
    store = EdgeStore(tmp_path / "data")
    try:
        assert await store.count(NAME) > 0  # the first open of the collection sweeps
        assert not orphan.exists() and fresh.exists()  # a young one may be another process's
    finally:
        await store.close()
        await embedder.aclose()
