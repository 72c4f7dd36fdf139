"""The TUI driven by Pilot, against a real embedded store and a loopback embedding server."""

from __future__ import annotations

import types
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList, Static

from roocode_tui.core.config import EmbedderSettings, IndexSettings, Settings, StoreSettings
from roocode_tui.core.embedders.openai import OpenAIEmbedder
from roocode_tui.core.ingest import Indexer
from roocode_tui.core.stores.edge import EdgeStore
from roocode_tui.tui.app import create_app


@pytest.fixture
async def settings(tmp_path: Path, embed_server, corpus: Path) -> Settings:
    s = Settings(
        embedder=EmbedderSettings(provider="openai", base_url=embed_server.base_url, model=embed_server.model),
        store=StoreSettings(path=tmp_path / "data"),
        index=IndexSettings(chunk_tokens=60, chunk_overlap_tokens=6),
    )
    store = EdgeStore(s.store.data_dir)
    embedder = OpenAIEmbedder(s.embedder)
    await Indexer(store, embedder, "demo", [corpus], index=s.index).run()
    hostile = corpus / "hostile.md"
    hostile.write_text("# Hostile\n\nmarkup [bold red]x[/] and escape \x1b[2J\x1b]52;c;ZXZpbA==\x07 gizmo\n")
    await Indexer(store, embedder, "demo", [corpus], index=s.index).run()
    await store.close()
    await embedder.aclose()
    return s


def preview_code(app) -> str:
    return app.query_one("#preview", Static).content.code


@pytest.fixture
def frozen_timings(monkeypatch: pytest.MonkeyPatch) -> None:
    import roocode_tui.core.search as search_module

    monkeypatch.setattr(search_module, "time", types.SimpleNamespace(perf_counter=lambda: 0.0))


async def test_query_shows_ranked_results_and_a_following_preview(settings: Settings):
    app = create_app(settings, collection="demo")
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        assert app.focused is app.query_one("#query", Input)
        await pilot.press(*"restore snapshot", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        results = app.query_one("#results", OptionList)
        assert results.option_count > 0
        first = str(results.get_option_at_index(0).prompt)
        assert "docs/backups.md:" in first
        assert "snapshot" in preview_code(app)
        before = app._hits[0]
        results.focus()
        await pilot.press("j")
        await pilot.pause()
        assert results.highlighted == 1 and app._hits[1] is not before


async def test_indexed_text_is_shown_literally(settings: Settings):
    app = create_app(settings, collection="demo")
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press(*"gizmo markup escape hostile", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app._hits[0].path == "hostile.md"
        code = preview_code(app)
        assert "[bold red]x[/]" in code and "\x1b" not in code and "␛[2J" in code
        label = str(app.query_one("#results", OptionList).get_option_at_index(0).prompt)
        assert "\x1b" not in label


async def test_app_opens_and_says_so_when_no_collection_exists(tmp_path: Path):
    s = Settings(store=StoreSettings(path=tmp_path / "empty"))
    app = create_app(s)
    async with app.run_test(size=(100, 30)):
        await app.workers.wait_for_complete()
        status = app.query_one("#status", Static)
        assert "no collections yet" in str(status.visual)


def test_search_pane_snapshot(snap_compare, settings: Settings, frozen_timings: None):
    app = create_app(settings, collection="demo")

    async def run_before(pilot) -> None:
        await app.workers.wait_for_complete()
        await pilot.press(*"least recently used cache", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
