"""F4: s writes a snapshot of the selected collection (its path in a notification); S restores one
as a new collection through a small modal."""

from __future__ import annotations

from pathlib import Path

from support.tui import SIZE, settle

from roocode_tui.core.config import Settings
from roocode_tui.tui.app import create_app


async def test_snapshot_and_restore_from_f4(settings: Settings):
    from roocode_tui.tui.modals import RestoreSnapshotModal

    app = create_app(settings, collection="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f4")
        await settle(app, pilot)
        await pilot.press("S")  # nothing to restore yet
        await settle(app, pilot)
        assert any("no snapshot files of demo" in str(n.message) for n in app._notifications)

        await pilot.press("s")
        await settle(app, pilot)
        folder = settings.store.data_dir / "snapshots"
        files = list(folder.glob("demo.*.tar.gz"))
        assert len(files) == 1
        assert any(str(files[0]) in str(n.message) for n in app._notifications)

        await pilot.press("S")
        await settle(app, pilot)
        assert isinstance(app.screen, RestoreSnapshotModal)
        name = app.screen.query_one("#restore-name")
        assert name.value == "demo-restored"
        name.value = "demo-copy"
        await pilot.click("#restore")
        await settle(app, pilot)
        await settle(app, pilot)
        infos = {i.name: i.points for i in app.query_one("#collections-pane").infos}
        assert set(infos) == {"demo", "demo-copy"} and infos["demo-copy"] == infos["demo"] > 0


async def test_read_only_restores_nothing(settings: Settings, tmp_path: Path):
    settings.read_only = True
    app = create_app(settings, collection="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f4")
        await settle(app, pilot)
        await pilot.press("s")  # an embedded snapshot only reads
        await settle(app, pilot)
        assert len(list((settings.store.data_dir / "snapshots").glob("demo.*.tar.gz"))) == 1
        await pilot.press("S")
        await settle(app, pilot)
        assert any("read-only mode" in str(n.message) for n in app._notifications)
        assert [i.name for i in app.query_one("#collections-pane").infos] == ["demo"]


async def test_a_restore_the_store_refuses_says_why(settings: Settings):
    """A pane's worker that fails is shown like the app's own (its state does not bubble)."""
    app = create_app(settings, collection="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f4")
        await settle(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        await pilot.press("S")
        await settle(app, pilot)
        app.screen.query_one("#restore-name").value = "demo"  # taken
        await pilot.click("#restore")
        await settle(app, pilot)
        shown = [(n.title, str(n.message)) for n in app._notifications]
        assert (
            "collections-write",
            "collection 'demo' already exists: restore into a new name (or delete it first)",
        ) in shown
