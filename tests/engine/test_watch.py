"""Watched collections: real file events, a real engine process, waits on the engine's own
watcher state (never on a sleep)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
from pathlib import Path

import pytest
from support.engines import Box
from support.stores import all_points

from roocode_tui.core.stores.edge import EdgeStore


def watcher(b: Box, name: str) -> dict:
    status = b.status() or {"watchers": []}
    return next((w for w in status["watchers"] if w["collection"] == name), {})


def wait_synced(b: Box, name: str, syncs: int, timeout: float = 120) -> dict:
    """Until the watcher has started ``syncs`` runs and is idle with nothing pending."""
    seen: dict = {}

    def synced() -> bool:
        seen.update(watcher(b, name))
        return seen.get("syncs", 0) >= syncs and seen.get("state") == "idle" and seen.get("pending") == 0

    b.wait_for(synced, f"{name} to be synced ({syncs} runs; last seen {seen})", timeout=timeout)
    return seen


def watcher_runs(b: Box, name: str) -> list[dict]:
    return [r for r in b.status()["runs"] if r["collection"] == name and r["started_by"] == "watcher"]


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def page(topic: str) -> str:
    return f"# {topic}\n\nHow {topic} works, in plain words. " * 3 + "\n"


def points_of(data: Path, name: str) -> dict[str, dict]:
    async def read() -> dict[str, dict]:
        store = EdgeStore(data)
        try:
            return await all_points(store, name)
        finally:
            await store.close()

    return asyncio.run(read())


def test_a_storm_of_changes_ends_as_a_fresh_index_of_the_final_tree(box: Box, tmp_path: Path):
    tree = tmp_path / "tree"
    for name in ("keep", "edit", "gone", "renamed", "touched"):
        write(tree / f"{name}.md", page(name))
    write(tree / "sub" / "inner.md", page("inner"))
    write(tree / "leaving" / "out.md", page("leaving"))
    write(tree / ".gitignore", "*.tmp\n")
    write(tree / "later.tmp", page("ignored at first"))
    box.serve(ROOCODE_TUI_ENGINE__WATCH_DEBOUNCE_MS="800")
    assert box.cli("index", str(tree), "-c", "w").returncode == 0
    on = box.cli("watch", "w", "--json")
    assert on.returncode == 0, on.stderr
    assert json.loads(on.stdout)["watchers"][0]["collection"] == "w"
    wait_synced(box, "w", 1)  # the catch-up run

    write(tree / "edit.md", page("edited text"))
    (tree / "gone.md").unlink()
    (tree / "renamed.md").rename(tree / "sub" / "moved-here.md")
    write(tree / "new" / "deep" / "fresh.md", page("fresh"))
    outside = tmp_path / "outside"
    write(outside / "arrived" / "a.md", page("arrived"))
    (outside / "arrived").rename(tree / "arrived")  # a directory moved in
    (tree / "leaving").rename(tmp_path / "left")  # and one moved out
    write(tree / ".gitignore", "*.log\n")  # later.tmp is no longer ignored
    os.utime(tree / "touched.md")
    wait_synced(box, "w", 2)

    box.stop_all()
    data = box.home / ".local" / "share" / "roocode-tui"
    assert box.cli("--no-engine", "index", str(tree), "-c", "fresh").returncode == 0
    watched, fresh = points_of(data, "w"), points_of(data, "fresh")
    assert watched.keys() == fresh.keys()
    for pid, payload in fresh.items():  # the same chunks, lines and payloads; only the time differs
        assert {**watched[pid], "indexed_at": None} == {**payload, "indexed_at": None}
    paths = {p["path"] for p in watched.values()}
    assert paths == {
        "keep.md",
        "edit.md",
        "touched.md",
        "sub/inner.md",
        "sub/moved-here.md",
        "new/deep/fresh.md",
        "arrived/a.md",
        "later.tmp",
    }


def test_saves_renames_and_deletes_sync_from_the_changed_paths_alone(box: Box, tmp_path: Path):
    """File changes inside watched directories: the run reads those paths, not the tree, and
    the store ends as a fresh index of the final tree."""
    tree = tmp_path / "tree"
    for i in range(40):
        write(tree / f"d{i % 4}" / f"n{i:02d}.md", page(f"note {i}"))
    box.serve(ROOCODE_TUI_ENGINE__WATCH_DEBOUNCE_MS="800")
    assert box.cli("index", str(tree), "-c", "w").returncode == 0
    assert box.cli("watch", "w").returncode == 0
    wait_synced(box, "w", 1)
    follow = box.popen("status", "--follow", "--json")  # a line whenever runs or watchers change
    first = json.loads(follow.stdout.readline())
    assert [(w["collection"], w["state"]) for w in first["watchers"]] == [("w", "idle")]
    assert "search_index" in first
    follow.send_signal(signal.SIGINT)
    follow.communicate(timeout=30)
    assert follow.returncode == 0

    write(tree / "d0" / "n00.md", page("a new text"))  # a save
    write(tree / "d1" / "born.md", page("born"))  # a create
    (tree / "d2" / "n02.md").unlink()  # a delete
    (tree / "d3" / "n03.md").rename(tree / "d1" / "n03-renamed.md")  # a rename across directories
    wait_synced(box, "w", 2)
    run = watcher_runs(box, "w")[-1]
    assert run["phase"] == "done"
    assert run["files_seen"] == 3 and run["files_indexed"] == 3 and run["files_deleted"] == 2

    box.stop_all()
    data = box.home / ".local" / "share" / "roocode-tui"
    assert box.cli("--no-engine", "index", str(tree), "-c", "fresh").returncode == 0
    watched, fresh = points_of(data, "w"), points_of(data, "fresh")
    assert watched.keys() == fresh.keys()
    for pid, payload in fresh.items():
        assert {**watched[pid], "indexed_at": None} == {**payload, "indexed_at": None}


@pytest.mark.slow
def test_a_burst_of_2000_files_is_one_run_and_a_touch_embeds_nothing(box: Box, tmp_path: Path, embed_server):
    tree = tmp_path / "tree"
    write(tree / "readme.md", page("readme"))
    # The burst must reach the watcher without a pause as long as the debounce: on a loaded
    # machine (a parallel test run on 2 cores) writing 2,000 files stalled past 1.5 s once.
    box.serve(ROOCODE_TUI_ENGINE__WATCH_DEBOUNCE_MS="5000")
    assert box.cli("index", str(tree), "-c", "w").returncode == 0
    assert box.cli("watch", "w").returncode == 0
    wait_synced(box, "w", 1)

    for i in range(2000):
        write(tree / "many" / f"d{i % 20:02d}" / f"f{i:04d}.md", f"# File {i}\n\nNote number {i}.\n")
    state = wait_synced(box, "w", 2, timeout=300)
    assert state["syncs"] == 2
    run = watcher_runs(box, "w")[-1]
    assert run["phase"] == "done" and run["files_indexed"] == 2000

    before = embed_server.posts
    os.utime(tree / "readme.md")  # a touch
    (tree / "many" / "d00" / "f0000.md").write_text("# File 0\n\nNote number 0.\n")  # an identical rewrite
    state = wait_synced(box, "w", 3)
    assert state["syncs"] == 3
    run = watcher_runs(box, "w")[-1]
    # The run was fed with the two changed paths: it read those two files, not the tree.
    assert run["chunks_embedded"] == 0 and run["files_unchanged"] == 2 == run["files_seen"]
    assert embed_server.posts == before  # not one embedding request


@pytest.mark.slow
def test_a_restarted_engine_catches_up_and_a_missing_root_deletes_nothing(box: Box, tmp_path: Path):
    tree = tmp_path / "tree"
    write(tree / "a.md", page("alpha"))
    write(tree / "sub" / "b.md", page("beta"))
    (tree / "sub" / "loop").symlink_to(tree)  # a symlink loop: watched once, walked once
    box.serve()
    assert box.cli("index", str(tree), "-c", "w").returncode == 0
    assert box.cli("watch", "w").returncode == 0
    first = wait_synced(box, "w", 1)
    assert first["directories"] == 2

    box.stop_all()  # nothing watches while the file changes
    write(tree / "a.md", page("changed while the engine was away"))
    box.serve()  # watched collections come back with the engine, a catch-up run first
    wait_synced(box, "w", 1)
    run = watcher_runs(box, "w")[-1]
    assert run["files_indexed"] == 1 and run["files_unchanged"] == 1
    points = json.loads(box.cli("collections", "info", "w", "--json").stdout)["points"]

    moved = tmp_path / "elsewhere"
    tree.rename(moved)  # the root disappears (an unmounted disk, a deleted checkout)
    box.wait_for(lambda: watcher(box, "w").get("state") == "root missing", "the watcher to miss its root")
    assert "nothing is deleted" in watcher(box, "w")["reason"]
    assert json.loads(box.cli("collections", "info", "w", "--json").stdout)["points"] == points
    assert "root missing" in box.cli("watch").stdout

    moved.rename(tree)
    wait_synced(box, "w", 2)
    assert json.loads(box.cli("collections", "info", "w", "--json").stdout)["points"] == points

    # A command that opens the store itself: the engine lets go of it and of its watchers, and
    # takes both back (with a catch-up run) when it opens the store again.
    assert box.cli("--no-engine", "collections", "list").returncode == 0
    assert box.status()["watchers"] == []
    assert box.cli("collections", "list").returncode == 0
    wait_synced(box, "w", 1)

    off = box.cli("watch", "w", "--off")
    assert off.returncode == 0 and "not watched" in off.stdout
    assert box.status()["watchers"] == []
    shutil.rmtree(tmp_path / "tree" / "sub")
    box.stop_all()
    box.serve()  # --off is remembered: no watcher, no catch-up run
    assert box.status()["watchers"] == []


async def test_the_tui_turns_watching_on_and_off_and_says_when_the_collection_is_behind(
    box: Box,
    tmp_path: Path,
    monkeypatch,
):
    import time

    from support.tui import plain

    from roocode_tui.core.config import load_settings
    from roocode_tui.tui.app import create_app
    from roocode_tui.tui.panes.collections import CollectionsPane, CollectionTable

    tree = tmp_path / "tree"
    write(tree / "a.md", page("alpha"))
    box.env["ROOCODE_TUI_ENGINE__WATCH_DEBOUNCE_MS"] = "4000"  # long enough to see it behind
    box.serve()
    assert box.cli("index", str(tree), "-c", "w").returncode == 0
    for key, value in box.env.items():  # the TUI gets the settings the engine has
        if key.startswith("ROOCODE_TUI_") or key in ("HOME", "XDG_RUNTIME_DIR"):
            monkeypatch.setenv(key, value)

    async def until(check, what: str, pilot) -> None:
        deadline = time.monotonic() + 60
        while not check():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await pilot.pause(0.1)

    app = create_app(load_settings(), collection="w", gpu_reader=lambda: ([], "no GPU in tests"))
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(CollectionsPane)
        await until(lambda: [i.name for i in pane.infos] == ["w"], "F4 to list w", pilot)
        await pilot.press("f4")
        await pilot.pause()

        def cell() -> str:
            return plain(app.query_one(CollectionTable).get_row("w")[8]).strip()

        assert cell() == "—"
        await pilot.press("w")
        await until(lambda: watcher(box, "w").get("syncs", 0) >= 1, "the watcher's catch-up", pilot)
        await until(lambda: cell() == "idle", "F4 to show it watched", pilot)

        write(tree / "a.md", page("alpha, edited"))
        await until(lambda: app.status.behind == "1 file changed, syncing soon", "F1's line to say it is behind", pilot)
        await until(lambda: cell() == "1 changed", "F4 to show the change", pilot)
        await until(lambda: app.status.behind == "" and watcher(box, "w")["syncs"] >= 2, "the sync", pilot)
        await until(lambda: cell() == "idle", "F4 to show it synced", pilot)

        await pilot.press("w")
        await until(lambda: cell() == "—", "F4 to show it unwatched", pilot)
    assert box.status()["watchers"] == []


def test_a_sync_that_fails_is_tried_again_after_a_pause_and_a_change_starts_afresh(
    box: Box,
    tmp_path: Path,
    embed_server,
):
    """A sync run that fails (the embedding server answers a 200 that is not JSON) is not
    started again at once, forever: the watcher pauses (5 s, 30 s, 2 min, 10 min), then waits
    for the next change; it says why. A change after the server is fixed syncs at once."""
    tree = tmp_path / "tree"
    write(tree / "a.md", page("alpha"))
    box.serve(ROOCODE_TUI_ENGINE__WATCH_DEBOUNCE_MS="300")
    assert box.cli("index", str(tree), "-c", "w").returncode == 0
    assert box.cli("watch", "w").returncode == 0
    wait_synced(box, "w", 1)

    embed_server.faults.not_json = True
    write(tree / "b.md", page("beta"))
    seen: dict = {}

    def says(text: str):
        def check() -> bool:
            seen.update(watcher(box, "w"))
            return text in seen.get("reason", "")

        return check

    box.wait_for(says("trying again in 5 s"), "the first failed sync")
    assert "sync failed (embedding server" in seen["reason"] and "not JSON" in seen["reason"]
    assert seen["syncs"] == 2 and watcher_runs(box, "w")[-1]["phase"] == "failed"
    box.wait_for(says("trying again in 30 s"), "the retry after 5 s, failed too", timeout=30)
    assert seen["syncs"] == 3  # one retry, not a loop

    embed_server.faults.not_json = False
    write(tree / "c.md", page("gamma"))  # a change: tried at once, from the first pause
    state = wait_synced(box, "w", 4, timeout=60)
    assert state["reason"] == "" and watcher_runs(box, "w")[-1]["phase"] == "done"
    names = {
        r["path"]
        for r in json.loads(box.cli("search", "gamma beta", "-c", "w", "--json", "-n", "10").stdout)["results"]
    }
    assert {"b.md", "c.md"} <= names


async def test_sync_failures_are_retried_on_a_schedule_then_left_for_the_next_change(monkeypatch):
    """The schedule itself, without waiting minutes: each failure pauses longer, and after the
    last pause the watcher stops trying until a change."""
    from types import SimpleNamespace

    from roocode_tui.engine import watch

    monkeypatch.setattr(watch, "SYNC_RETRY_S", (0.01, 0.02))
    w = watch.Watcher(SimpleNamespace(settings=SimpleNamespace()), "w")
    woke: list[float] = []
    w.changed = lambda catch_up=False: woke.append(catch_up)  # type: ignore[method-assign]
    for attempt, pause in enumerate(("0.01", "0.02"), 1):
        w._run_id = f"run-{attempt}"
        w.run_ended(w._run_id, "failed", "HTTP 200 but the answer is not JSON")
        assert w.failures == attempt and w.reason.startswith("sync failed (HTTP 200 but")
        while len(woke) < attempt:  # the retry comes after its pause, not before
            await asyncio.sleep(0.005)
        assert woke == [True] * attempt, pause
    last_retry = w._retry
    w._run_id = "run-3"
    w.run_ended("run-3", "failed", "HTTP 200 but the answer is not JSON")
    assert w.reason.startswith("sync failed 3 times in a row") and "`roocode-tui watch w`" in w.reason
    assert w._retry is last_retry and len(woke) == 2  # no third retry is scheduled
    w.resume()  # `roocode-tui watch w`: the syncs are tried again at once, from the first pause
    assert woke == [True, True, True] and w.failures == 0
    w._run_id = "run-4"
    w.run_ended("run-4", "done")
    assert w.failures == 0 and w.reason == ""
