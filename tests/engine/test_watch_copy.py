"""A watcher whose collection is being copied waits for the copy, then syncs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from roocode_tui.core.config import EmbedderSettings, EngineSettings, Settings, StoreSettings
from roocode_tui.engine.local import LocalEngine


async def test_a_change_during_a_copy_of_a_watched_collection_syncs_when_the_copy_ends(tmp_path: Path, embed_server):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.md").write_text("# Alpha\n\nHow alpha works.\n")
    settings = Settings(
        embedder=EmbedderSettings(provider="openai", base_url=embed_server.base_url, model=embed_server.model),
        store=StoreSettings(path=tmp_path / "data"),
        engine=EngineSettings(enabled=False),
    )
    engine = LocalEngine(settings)
    try:
        first = await engine.start_run(
            [str(tree)], "w", rebuild=False, schema="native", cwd=str(tmp_path), started_by="t"
        )
        await engine.run_of(first.id).task
        engine.watching = True  # as the served engine is
        await engine.set_watch("w", True)
        watcher = engine.watchers.by_name["w"]

        async def until(check, what: str) -> None:
            deadline = time.monotonic() + 60
            while not check():
                assert time.monotonic() < deadline, f"timed out waiting for {what}: {watcher.to_json()}"
                await asyncio.sleep(0.02)

        await until(lambda: watcher.syncs == 1 and watcher.to_json()["state"] == "idle", "the catch-up")
        copy = await engine.start_copy(
            "w", "embedded", url=None, path=str(tmp_path / "other"), new_name=None, started_by="t"
        )
        await watcher._sync()  # a change's sync arrives while the copy reads the collection
        assert watcher.syncs == 1 and watcher.dirty
        await engine.run_of(copy.id).task
        await until(lambda: watcher.syncs == 2, "the deferred sync")  # the copy's end lets the deferred sync run
    finally:
        await engine.aclose()
