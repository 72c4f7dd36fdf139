"""The TUI driven by Pilot against a real embedded store and a loopback embedding server."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from support.gpus import fake_gpus
from support.tui import SIZE, make_settings, plain, search_for, settle, start_fresh_ingest
from textual.widgets import Input, OptionList, Static

from roocode_tui.core.config import EmbedderSettings, Settings, StoreSettings
from roocode_tui.tui.app import create_app
from roocode_tui.tui.panes.index import IndexPane


def slow_batches(settings: Settings, delay: float, server) -> None:
    """Many small requests, one at a time: an index run that lasts long enough to watch. It
    embeds every chunk ("fresh" holds the corpus "demo" holds, whose vectors it would take)."""
    settings.index.reuse_vectors = False
    settings.embedder.batch_size = 2
    settings.embedder.max_concurrency = 1
    server.faults.delay_s = delay


def preview_code(app) -> str:
    """The code the preview shows (under its `why:` line, when the hit says why it ranks there)."""
    from rich.syntax import Syntax

    shown = app.query_one("#preview", Static).content
    return next(r for r in getattr(shown, "renderables", [shown]) if isinstance(r, Syntax)).code


async def wait_until(pilot, predicate, what: str, timeout: float = 10.0) -> None:
    """Let the app run until ``predicate()`` holds; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"still not so after {timeout:g}s: {what}")
        await pilot.pause()


def ingest_running(app) -> bool:
    return app.ingest_progress is not None and app.ingest_progress.active


def first_readings_shown(app) -> bool:
    """F3's boxes show a reading, not "waiting for the first reading…"."""
    boxes = ("#gpu-info", "#vllm-info", "#qdrant-info")
    return not any("waiting for the first reading" in str(app.query_one(b, Static).content) for b in boxes)


async def test_query_shows_ranked_results_and_the_preview_follows(settings: Settings):
    app = create_app(settings, collection="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.focused is app.query_one("#query", Input)
        await search_for(app, pilot, "restore snapshot")
        results = app.query_one("#results", OptionList)
        assert results.option_count > 0 and app.focused is results
        assert "docs/backups.md:" in str(results.get_option_at_index(0).prompt)
        assert "snapshot" in preview_code(app)
        why = app.query_one("#preview", Static).content.renderables[0]  # why it ranks first
        assert str(why).startswith("why: text · dense #") and " = " in str(why)
        first = preview_code(app)
        await pilot.press("j")
        await pilot.pause()
        assert results.highlighted == 1 and preview_code(app) != first
        await pilot.press("k")
        await pilot.pause()
        assert results.highlighted == 0 and preview_code(app) == first
        info = str(app.query_one("#search-info", Static).content)
        assert "results from demo" in info and "embed" in info and "store" in info


async def test_results_appear_while_typing(settings: Settings):
    app = create_app(settings, collection="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press(*"least recently used cache")  # no Enter
        await settle(app, pilot)  # the search of the whole query: a slow machine may answer a part of it first
        assert app.query_one("#search-pane").hits
        assert "src/storage/cache.py" in str(app.query_one("#results", OptionList).get_option_at_index(0).prompt)


async def test_filters_in_the_row_and_in_the_query(settings: Settings):
    app = create_app(settings, collection="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.query_one("#lang-filter", Input).value = "go"
        app.query_one("#query", Input).focus()
        await search_for(app, pilot, "snapshot restore")
        pane = app.query_one("#search-pane")
        assert pane.hits and {h.language for h in pane.hits} == {"go"}
        app.query_one("#lang-filter", Input).value = ""
        app.query_one("#query", Input).value = "path:docs/ retry"
        app.query_one("#query", Input).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert pane.hits and all(h.path.startswith("docs/") for h in pane.hits)


async def test_enter_opens_the_file_at_the_chunk_and_y_copies(settings: Settings, corpus: Path):
    from roocode_tui.tui.panes.search import FileViewer

    app = create_app(settings, collection="demo")
    async with app.run_test(size=SIZE) as pilot:
        await search_for(app, pilot, "restore snapshot")
        hit = app.query_one("#search-pane").hits[0]
        await pilot.press("y")
        assert app.clipboard == f"{corpus.resolve() / hit.path}:{hit.start_line}"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FileViewer)
        code = app.screen.query_one("#viewer-code", Static).content
        assert code.highlight_lines == set(range(hit.start_line, hit.end_line + 1))
        assert code.code == (corpus / hit.path).read_text()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, FileViewer)


async def test_e_runs_the_editor_at_the_line(settings: Settings, monkeypatch: pytest.MonkeyPatch, corpus: Path):
    import contextlib

    import roocode_tui.tui.panes.search as search_pane

    calls = []
    monkeypatch.setenv("EDITOR", "myeditor --wait")
    monkeypatch.setattr(search_pane.subprocess, "run", lambda cmd, check: calls.append(cmd))
    app = create_app(settings, collection="demo")
    monkeypatch.setattr(app, "suspend", contextlib.nullcontext)
    async with app.run_test(size=SIZE) as pilot:
        await search_for(app, pilot, "restore snapshot")
        hit = app.query_one("#search-pane").hits[0]
        await pilot.press("e")
        await pilot.pause()
    assert calls == [["myeditor", "--wait", f"+{hit.start_line}", str(corpus.resolve() / hit.path)]]


async def test_indexed_text_is_shown_literally(settings: Settings):
    app = create_app(settings, collection="demo")
    async with app.run_test(size=SIZE) as pilot:
        await search_for(app, pilot, "gizmo markup escape hostile")
        assert app.query_one("#search-pane").hits[0].path == "hostile.md"
        code = preview_code(app)
        assert "[bold red]x[/]" in code and "\x1b" not in code and "␛[2J" in code
        label = str(app.query_one("#results", OptionList).get_option_at_index(0).prompt)
        assert "\x1b" not in label


async def test_keys_switch_panes_from_anywhere(settings: Settings):
    app = create_app(settings, collection="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        tabs = app.query_one("#panes")
        for key, pane in (("f2", "index"), ("f3", "monitor"), ("f4", "collections"), ("f1", "search")):
            await pilot.press(key)
            await pilot.pause()
            assert tabs.active == pane, key
        assert app.focused is app.query_one("#query", Input)  # F1 lands in the query box
        await pilot.press("f4", "question_mark")
        await pilot.pause()
        assert app.screen.query("HelpPanel")


def notified(app, text: str) -> bool:
    return any(text in str(n.message) for n in app._notifications)


async def test_the_f2_buttons_and_a_click_on_an_f4_row_do_what_their_keys_do(settings: Settings):
    from roocode_tui.tui.panes.collections import CollectionTable

    app = create_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f2")
        await pilot.pause()
        await pilot.click("#index-cancel")
        await wait_until(pilot, lambda: notified(app, "no index run is going"), "the Cancel button answers")
        await pilot.press("f4")
        await settle(app, pilot)
        await pilot.click(CollectionTable, offset=(4, 1))  # the first row, under the header
        await wait_until(pilot, lambda: notified(app, "searching demo"), "a click on a row makes it the active one")
        assert app.active == "demo"


async def test_the_keys_act_in_their_pane_and_the_palette_on_the_shown_panes_collection(
    settings: Settings, corpus: Path
):
    from roocode_tui.tui.modals import DetailsModal, TypeNameModal
    from roocode_tui.tui.panes.search import FileViewer

    app = create_app(settings, collection="demo")
    async with app.run_test(size=SIZE) as pilot:
        commands = {c.title: c.callback for c in app.get_system_commands(app.screen)}  # the palette's
        await search_for(app, pilot, "restore snapshot")
        hit = app.query_one("#search-pane").hits[0]
        await pilot.press("enter", "y")  # y in the file view: its hit
        await pilot.pause()
        assert isinstance(app.screen, FileViewer)
        assert app.clipboard == f"{corpus.resolve() / hit.path}:{hit.start_line}"
        await pilot.press("escape")
        await pilot.pause()
        commands["Delete collection"]()  # from F1: the collection searched
        await pilot.pause()
        assert isinstance(app.screen, TypeNameModal) and app.screen.target == "demo"
        await pilot.press("escape")
        await pilot.press("f2")
        await pilot.pause()
        app.query_one("#index-collection").value = "fresh"
        await pilot.press("w")  # F2's w: its collection, through F4's pane
        await wait_until(pilot, lambda: notified(app, "watching needs the background engine"), "F2's w answers")
        commands["Delete collection"]()  # from F2: the collection picked there
        await pilot.pause()
        assert isinstance(app.screen, TypeNameModal) and app.screen.target == "fresh"
        await pilot.press("escape")
        await pilot.press("f4")
        await settle(app, pilot)
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, DetailsModal) and app.screen.title_text == "collection demo"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: notified(app, "searching demo"), "Enter in F4 sets the active collection")


async def test_ingest_runs_to_done_while_search_answers(settings: Settings, embed_server):
    slow_batches(settings, 0.15, embed_server)
    app = create_app(settings, collection="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await start_fresh_ingest(app, pilot)
        await wait_until(pilot, lambda: ingest_running(app), "the index run is under way")
        await pilot.press("f1")
        app.query_one("#query", Input).value = "restore snapshot"
        app.query_one("#query", Input).focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.query_one("#search-pane").hits, "the search answers")
        answered_during_ingest = app.ingest_progress.active
        assert app.query_one("#search-pane").hits, "search answered"
        assert answered_during_ingest, "the answer came while the ingest was still running"
        await app.workers.wait_for_complete()
        await pilot.pause()
        p = app.ingest_progress
        assert p.phase == "done" and p.files_indexed == 8
        state = str(app.query_one("#index-state", Static).content)
        assert state.startswith("done fresh")
        counters = str(app.query_one("#index-counters", Static).content)
        assert "indexed 8" in counters
        await pilot.press("f4")
        await settle(app, pilot)
        rows = [i.name for i in app.query_one("#collections-pane").infos]
        assert rows == ["demo", "fresh"]


async def test_plan_shows_what_a_run_would_embed_and_writes_nothing(settings: Settings, embed_server):
    """F2's p: a dry run of the selected collection; "fresh" holds the corpus "demo" holds, so
    every vector would come from "demo" and nothing would be embedded."""
    app = create_app(settings, collection="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f2")
        await pilot.pause()
        app.query_one("#index-collection").value = "fresh"
        embed_server.reset_counts()
        await pilot.press("p")
        await wait_until(
            pilot, lambda: app.ingest_progress is not None and app.ingest_progress.phase == "done", "the plan"
        )
        await app.workers.wait_for_complete()
        await pilot.pause()
        p = app.ingest_progress
        assert p.kind == "plan" and p.report()["files_to_index"] == 8 and p.report()["chunks_to_embed"] == 0
        state = " ".join(str(app.query_one("#index-state", Static).content).split())
        assert "plan: 8 files to index" in state and "0 chunks (0 tokens) to embed" in state
        assert f"{p.chunks_reused_from_other_collections} from other collections" in state
        assert set(embed_server.inputs) <= {"dimension probe"}  # nothing embedded
        await pilot.press("f4")
        await settle(app, pilot)
        assert [i.name for i in app.query_one("#collections-pane").infos] == ["demo"]  # nothing written


async def test_cancel_asks_then_stops(settings: Settings, embed_server):
    from roocode_tui.tui.modals import ConfirmModal

    slow_batches(settings, 0.3, embed_server)
    app = create_app(settings, collection="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await start_fresh_ingest(app, pilot)
        await wait_until(pilot, lambda: ingest_running(app), "the index run is under way")
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.ingest_progress.phase == "cancelled"
        assert "cancelled" in str(app.query_one("#index-state", Static).content)


async def test_delete_through_the_modal(settings: Settings):
    from roocode_tui.tui.modals import TypeNameModal

    app = create_app(settings, collection="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f4")
        await settle(app, pilot)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, TypeNameModal)
        await pilot.press(*"dem", "enter")  # wrong name: nothing happens
        await pilot.pause()
        assert isinstance(app.screen, TypeNameModal)
        await pilot.press("o", "enter")
        await settle(app, pilot)
        await settle(app, pilot)
        assert app.query_one("#collections-pane").infos == []
        assert app.active is None


async def test_rebuild_and_create(settings: Settings, corpus: Path):
    from roocode_tui.tui.modals import ConfirmModal, CreateCollectionModal

    app = create_app(settings, collection="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f4")
        await settle(app, pilot)
        before = app.query_one("#collections-pane").infos[0].points
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(app, pilot)
        await settle(app, pilot)
        assert app.ingest_progress.phase == "done" and app.ingest_progress.files_indexed == 8
        assert app.query_one("#collections-pane").infos[0].points == before
        await pilot.press("f4")
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, CreateCollectionModal)
        app.screen.query_one("#new-name", Input).value = "docs-only"
        app.screen.query_one("#new-paths", Input).value = str(corpus / "docs")
        app.screen.query_one("#new-include", Input).value = "*.md"
        await pilot.click("#create")
        await settle(app, pilot)
        await settle(app, pilot)
        names = [i.name for i in app.query_one("#collections-pane").infos]
        assert "docs-only" in names
        info = next(i for i in app.query_one("#collections-pane").infos if i.name == "docs-only")
        assert info.meta.include == ["*.md"] and info.points == 0


async def test_a_collection_from_an_installed_library(settings: Settings, monkeypatch):
    """F4's create form takes a library name, as `index --package` does: its files, in lib-NAME."""
    import httpx

    from roocode_tui.tui.modals import CreateCollectionModal

    monkeypatch.setenv("VIRTUAL_ENV", sys.prefix)  # the environment the library is installed in
    app = create_app(settings, collection="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f4")
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, CreateCollectionModal)
        app.screen.query_one("#new-paths", Input).value = "/somewhere"
        app.screen.query_one("#new-package", Input).value = "httpx"
        await pilot.click("#create")
        await pilot.pause()
        assert "paths or a library, not both" in str(app.screen.query_one("#new-error").render())
        app.screen.query_one("#new-paths", Input).value = ""
        app.screen.query_one("#new-package", Input).focus()
        await pilot.press("enter")  # submits the form
        await pilot.pause()
        assert not isinstance(app.screen, CreateCollectionModal), app.screen.query_one("#new-error").render()
        await settle(app, pilot)
        await settle(app, pilot)
        infos = {i.name: i for i in app.query_one("#collections-pane").infos}
        assert "lib-httpx" in infos, [n.message for n in app._notifications]
        assert str(Path(httpx.__file__).parent) in infos["lib-httpx"].meta.paths


async def test_rebuild_answers_from_the_old_index_until_the_switch(settings: Settings, embed_server):
    from roocode_tui.tui.modals import ConfirmModal
    from roocode_tui.tui.panes.collections import CollectionTable

    slow_batches(settings, 0.15, embed_server)
    app = create_app(settings, collection="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f4")
        await settle(app, pilot)
        points = app.query_one("#collections-pane").infos[0].points
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and "searches use the current one" in app.screen.question
        await pilot.press("y")
        await wait_until(  # the run counts the points the old index serves before it indexes
            pilot,
            lambda: ingest_running(app) and app.ingest_progress.serving_points is not None,
            "the rebuild is under way and says what serves meanwhile",
        )
        p = app.ingest_progress
        assert p.rebuild and p.serving_points == points
        # the pane shows it at its next progress message (not necessarily at this one)
        await wait_until(
            pilot,
            lambda: (
                f"the old index ({points:,} points) answers searches"
                in str(app.query_one("#index-state", Static).content)
            ),
            "the index pane says how many points the old index serves",
        )
        await pilot.press("f4")
        table = app.query_one(CollectionTable)
        await wait_until(  # the table refreshes while the run goes
            pilot, lambda: plain(table.get_row("demo")[5]).strip() == "rebuilding", "F4 shows demo rebuilding"
        )

        await pilot.press("f1")
        app.query_one("#query", Input).value = "restore snapshot"
        app.query_one("#query", Input).focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.query_one("#search-pane").hits, "the search answers")
        assert app.ingest_progress.active and not p.switched
        assert app.query_one("#search-pane").hits[0].path == "docs/backups.md"

        await app.workers.wait_for_complete()
        await pilot.pause()
        p = app.ingest_progress  # each update is a new snapshot from the engine
        assert p.phase == "done" and p.switched
        assert "now serves the new index" in str(app.query_one("#index-state", Static).content)


async def test_quit_during_ingest_asks(settings: Settings, embed_server):
    from roocode_tui.tui.modals import ConfirmModal

    slow_batches(settings, 0.3, embed_server)
    app = create_app(settings, collection="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await start_fresh_ingest(app, pilot)
        await wait_until(pilot, lambda: ingest_running(app), "the index run is under way")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await pilot.pause()
        assert app.is_running and app.ingest_progress.active
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("y")
        await wait_until(pilot, lambda: app.return_code is not None, "the app quits once the run is stopped")
    assert app.return_code == 0


async def test_monitor_shows_gpu_vllm_pipeline_and_store(settings: Settings):
    app = create_app(settings, collection="demo", gpu_reader=fake_gpus)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f3")
        await wait_until(pilot, lambda: first_readings_shown(app), "F3 shows its first readings")
        await settle(app, pilot)
        gpu = app.query_one("#gpu-info", Static)
        shown = plain(gpu.content)
        assert "RTX 4080" in shown and "14.0/16.0 GiB" in shown and "pid 4242 vllm" in shown
        vllm = str(app.query_one("#vllm-info", Static).content)
        assert "healthy" in vllm and "running" in vllm and "KV cache" in vllm
        store = str(app.query_one("#qdrant-info", Static).content)
        assert "reachable" in store and "active: demo" in store
        assert "VRAM" in str(app.query_one("#status", Static).content)


async def test_opens_fast_and_says_what_is_down(tmp_path: Path, corpus: Path):
    from support.embed_server import EmbedServer

    srv = EmbedServer().start()
    srv.stop()  # an address where nothing listens
    s = make_settings(tmp_path, srv, corpus)
    s.store = StoreSettings(backend="qdrant", url="http://127.0.0.1:9", timeout_s=1)
    app = create_app(s)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await wait_until(
            pilot, lambda: "…" not in str(app.query_one("#status", Static).content), "the status bar says what is down"
        )
        status = str(app.query_one("#status", Static).content)
        assert "test/hash-embed: unreachable" in status
        assert "store qdrant: Qdrant at http://127.0.0.1:9 is unreachable" in status
        assert app.query_one("#query", Input).has_focus  # still usable


def test_snapshot_search(snap_compare, settings: Settings):
    app = create_app(settings, collection="demo", gpu_reader=lambda: ([], "no GPU in tests"))

    async def run_before(pilot) -> None:
        await search_for(app, pilot, "least recently used cache")
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def with_fixed_history(app, settings: Settings):
    """The engine in this process with an empty history of its own that nothing samples: F2's
    and F3's charts show the same in every run (test_charts.py draws them with data)."""
    from roocode_tui.core.monitor.history import MetricHistory
    from roocode_tui.engine.local import LocalEngine

    history = MetricHistory(clock=lambda: 100_000.0)
    app.connection.engine = LocalEngine(settings, history=history, gpu_reader=app.connection.gpu_reader)
    settings.tui.monitor_interval_s = 60  # one round of F3's readings: the second shows a rate
    return app


def test_snapshot_index(snap_compare, settings: Settings):
    app = create_app(settings, collection="demo", gpu_reader=lambda: ([], "no GPU in tests"))
    with_fixed_history(app, settings)

    async def run_before(pilot) -> None:
        await settle(app, pilot)
        await start_fresh_ingest(app, pilot)
        await settle(app, pilot)
        p = app.ingest_progress
        p.elapsed, p.chunks_per_s, p.tokens_per_s, p.eta_s = 0.0, 0.0, 0.0, None  # frozen clock
        app.query_one(IndexPane).show(p)
        app.query_one("#index-collection").focus()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_monitor(snap_compare, settings: Settings):
    app = create_app(settings, collection="demo", gpu_reader=fake_gpus)
    with_fixed_history(app, settings)

    async def run_before(pilot) -> None:
        await settle(app, pilot)
        await pilot.press("f3")
        await wait_until(pilot, lambda: first_readings_shown(app), "F3 shows its first readings")
        await settle(app, pilot)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_collections(snap_compare, settings: Settings):
    app = create_app(settings, collection="demo", gpu_reader=lambda: ([], "no GPU in tests"))

    async def run_before(pilot) -> None:
        await settle(app, pilot)
        await pilot.press("f4")
        await settle(app, pilot)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


async def test_roo_code_collection_is_labelled_in_f4_and_searched_in_f1(tmp_path: Path):
    from support.embed_server import EmbedServer
    from support.roo_collection import BLOCKS, make_roo_collection

    from roocode_tui.core.config import RooSettings
    from roocode_tui.tui.panes.collections import CollectionTable
    from roocode_tui.tui.panes.search import FileViewer

    with EmbedServer() as embed_server:
        workspace = tmp_path / "shop"
        (workspace / "docs").mkdir(parents=True)
        (workspace / "docs" / "refunds.md").write_text(BLOCKS[2][3] + "\n\nAsk support for anything else.\n")
        data = tmp_path / "qdrant"
        name = make_roo_collection(data, workspace=str(workspace), dim=embed_server.dim)
        settings = Settings(
            embedder=EmbedderSettings(provider="openai", base_url=embed_server.base_url, model=embed_server.model),
            store=StoreSettings(backend="qdrant", path=data),
            roo=RooSettings(workspaces=[workspace]),
        )
        app = create_app(settings, collection=name, gpu_reader=lambda: ([], "no GPU in tests"))
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("f4")
            await settle(app, pilot)
            row = [plain(cell).strip() for cell in app.query_one(CollectionTable).get_row(name)]
            # the agent that wrote it: no agent's cache file or extension in this HOME, so Roo Code or Zoo Code
            assert row[4] == "roo-code|zoo-code?" and row[6] == "complete" and row[10] == str(workspace)
            assert row[1] == str(len(BLOCKS)) and row[9] == "2023-11-14 22:13:20Z"

            await pilot.press("f1")
            await search_for(app, pilot, "refund to the card")
            results = app.query_one("#results", OptionList)
            assert "docs/refunds.md:1-5" in str(results.get_option_at_index(0).prompt)
            assert results.option_count == len(BLOCKS)  # the marker point is never a result
            assert "five working days" in preview_code(app)
            assert "(dense)" in str(app.query_one("#search-info", Static).content)
            await pilot.press("enter")  # the whole file, from the workspace Roo Code indexed
            await pilot.pause()
            assert isinstance(app.screen, FileViewer) and "Ask support" in app.screen.text


def test_the_snapshot_harness_refuses_a_temporary_path_on_screen(snap_compare, tmp_path: Path):
    from textual.app import App

    class ShowsAPath(App):
        def compose(self):
            yield Static(f"indexed {tmp_path}/corpus")

    with pytest.raises(AssertionError, match="temporary path"):
        snap_compare(ShowsAPath(), terminal_size=(80, 4))
