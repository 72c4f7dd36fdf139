"""collections copy / snapshot / snapshots / restore from the command line, in subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import cli
from support.stores import every_point, make_store

from roocode_tui.core.ingest.indexer import Indexer

# Many commands run to their end: each forked from one process that imported the command line
# once (tests/conftest.py forked_cli)
pytestmark = pytest.mark.usefixtures("forked_cli")


@pytest.fixture
async def home(tmp_path: Path, http_embedder, corpus, small_chunks) -> Path:
    """A HOME whose default embedded store holds the corpus as collection "demo"."""
    h = tmp_path / "home"
    store = make_store("embedded", h / ".local" / "share" / "roocode-tui")
    await Indexer(store, http_embedder, "demo", [corpus], index=small_chunks).run()
    await store.close()
    return h


async def test_copy_there_and_back_from_the_command_line(home: Path, tmp_path: Path):
    local, back = tmp_path / "local", tmp_path / "back"
    there = cli("collections", "copy", "demo", "--to", "qdrant", "--path", str(local), "--json", home=home)
    assert there.returncode == 0, there.stderr
    report = json.loads(there.stdout)
    assert report["status"] == "done" and report["points_copied"] == report["points_total"] == report["target_points"]
    assert report["source"].startswith("embedded store at ") and report["target"] == f"Qdrant local mode at {local}"

    as_qdrant = {"ROOCODE_TUI_STORE__BACKEND": "qdrant", "ROOCODE_TUI_STORE__PATH": str(local)}
    again = cli(
        "collections",
        "copy",
        "demo",
        "--to",
        "embedded",
        "--path",
        str(back),
        "--as",
        "demo2",
        home=home,
        env=as_qdrant,
    )
    assert again.returncode == 0, again.stderr
    assert f"{report['points_total']} points" in again.stderr and again.stdout == ""

    source = make_store("embedded", home / ".local" / "share" / "roocode-tui")
    copied = make_store("embedded", back)
    try:
        assert (await every_point(source, "demo")).keys() == (await every_point(copied, "demo2")).keys()
    finally:
        await source.close()
        await copied.close()

    exists = cli("collections", "copy", "demo", "--to", "qdrant", "--path", str(local), home=home)
    assert exists.returncode == 2 and "'demo' already exists in the Qdrant local mode" in exists.stderr
    assert len(exists.stderr.strip().splitlines()) == 1
    no_server = cli("collections", "copy", "demo", "--to", "qdrant", home=home)
    assert no_server.returncode == 2 and "--to qdrant needs a server: set store.url" in no_server.stderr
    itself = cli("collections", "copy", "demo", "--to", "embedded", home=home)
    assert itself.returncode == 2 and "the target is the configured store itself" in itself.stderr
    read_only = cli("--read-only", "collections", "copy", "demo", "--to", "embedded", "--as", "x", home=home)
    assert read_only.returncode == 2 and "read-only mode: collections copy" in read_only.stderr

    helptext = cli("collections", "copy", "--help", home=home).stdout
    assert "store.url" in helptext and "--path DIR" in helptext and "continues where it stopped" in helptext


async def test_snapshot_list_restore_from_the_command_line(home: Path, tmp_path: Path):
    taken = cli("--read-only", "collections", "snapshot", "demo", "--json", home=home)  # reading only: allowed
    assert taken.returncode == 0, taken.stderr
    snap = json.loads(taken.stdout)
    file = Path(snap["path"])
    assert file.is_file() and file.parent == home / ".local" / "share" / "roocode-tui" / "snapshots"

    listed = json.loads(cli("collections", "snapshots", "demo", "--json", home=home).stdout)
    assert [s["path"] for s in listed["snapshots"]] == [str(file)]
    human = cli("collections", "snapshots", "demo", home=home)
    assert str(file) in human.stdout

    restored = cli("collections", "restore", "demo-2", str(file), "--json", home=home)
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout)["points"] == snap["points"]
    info = json.loads(cli("collections", "info", "demo-2", "--json", home=home).stdout)
    assert info["points"] == snap["points"] and info["name"] == "demo-2"

    taken_again = cli("collections", "restore", "demo", str(file), home=home)
    assert taken_again.returncode == 2 and "'demo' already exists" in taken_again.stderr
    refused = cli("--read-only", "collections", "restore", "demo-3", str(file), home=home)
    assert refused.returncode == 2 and "read-only mode: collections restore" in refused.stderr
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"\x00" * 64)
    bad = cli("collections", "restore", "demo-4", str(junk), home=home)
    assert bad.returncode == 2 and str(junk) in bad.stderr and len(bad.stderr.strip().splitlines()) == 1

    local = {"ROOCODE_TUI_STORE__BACKEND": "qdrant", "ROOCODE_TUI_STORE__PATH": str(tmp_path / "local")}
    none = cli("collections", "snapshot", "demo", home=home, env=local)
    assert none.returncode == 2 and "Qdrant local mode (store.path without store.url) has no snapshots" in none.stderr
