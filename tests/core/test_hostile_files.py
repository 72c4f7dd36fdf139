"""Odd and hostile files: each has a defined outcome, indexed with exact lines or skipped with a reason."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from support.hostile import as_unprivileged, build_tree, chown_tree
from support.stores import all_points, make_store

from roocode_tui.core.config import EmbedderSettings
from roocode_tui.core.embedders.openai import OpenAIEmbedder
from roocode_tui.core.files.discovery import SkipFile, SourceFile, read_source
from roocode_tui.core.ingest.indexer import Indexer

NAME = "demo"


async def test_each_odd_file_has_its_outcome(store, http_embedder, tmp_path: Path, small_chunks):
    root = tmp_path / "hostile"
    build_tree(root)
    run = await Indexer(store, http_embedder, NAME, [root], index=small_chunks).run()
    assert run.phase == "done" and run.files_failed == 0
    skipped = {e.path: e.reason for e in run.log if e.kind == "skip"}
    assert skipped["bin.py"] == "binary file (NUL bytes)"
    assert skipped["huge_line.txt"].startswith("larger than max_file_bytes")
    assert skipped["empty.md"] == "empty file"
    assert skipped["loop/back"] == "symlink loop"
    points = await all_points(store, NAME)
    by_path: dict[str, list[dict]] = {}
    for p in points.values():
        by_path.setdefault(p["path"], []).append(p)
    expected = {
        "latin1.md", "utf16.md", "crlf.py", "cr.txt", "name with spaces.md", "new\nline.md", "ünïcödé.md",
        "/".join(f"d{i}" for i in range(60)) + "/bottom.md",
    }  # fmt: skip
    assert set(by_path) == expected
    # exact line numbers, whatever the encoding or line endings
    utf16 = by_path["utf16.md"][0]
    assert utf16["start_line"] == 1 and "line three" in utf16["text"] and utf16["end_line"] == 4
    cr = by_path["cr.txt"][0]
    assert (cr["start_line"], cr["end_line"]) == (1, 3)
    crlf = sorted(by_path["crlf.py"], key=lambda p: p["start_line"])
    assert "\r" not in crlf[0]["text"] and crlf[0]["start_line"] == 1
    assert "\ufffd" in by_path["latin1.md"][0]["text"]  # undecodable bytes become visible, lines stay exact
    assert by_path["ünïcödé.md"][0]["text"].endswith("naïve café.")


def test_a_file_that_disappears_while_indexing_is_skipped_with_a_reason(tmp_path: Path):
    gone = SourceFile(tmp_path, "gone.md", tmp_path / "gone.md", 10, 0, "markdown")
    try:
        read_source(gone, 1 << 20)
    except SkipFile as exc:
        assert str(exc) == "file disappeared while indexing"
    else:  # pragma: no cover
        raise AssertionError("expected a skip")


async def test_a_file_rewritten_between_runs_is_reindexed_whole(store, http_embedder, tmp_path: Path, small_chunks):
    root = tmp_path / "t"
    root.mkdir()
    page = root / "page.md"
    page.write_text("# One\n\nfirst version\n")
    await Indexer(store, http_embedder, NAME, [root], index=small_chunks).run()
    stat = page.stat()
    page.write_text("# One\n\nsecond version\n")  # same size
    os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    run = await Indexer(store, http_embedder, NAME, [root], index=small_chunks).run()
    assert run.files_indexed == 1
    texts = [p["text"] for p in (await all_points(store, NAME)).values()]
    assert texts == ["# One\n\nsecond version"]


# -- permission-denied directories --------------------------------------------------------------
@pytest.mark.parametrize("backend", ["embedded", "qdrant-local"])
def test_a_permission_denied_directory_is_skipped_and_its_points_are_kept(embed_server, backend: str):
    # Not under pytest's tmp dir: that one is private to root, and the child must reach this.
    base = Path(tempfile.mkdtemp(prefix="roocode-perm-"))
    try:
        root, data = base / "tree", base / "data"
        (root / "secret" / "sub").mkdir(parents=True)
        (root / "docs").mkdir()
        (root / "docs" / "open.md").write_text("# Open\n\nAnyone may read this page about gardens.\n")
        (root / "top.md").write_text("# Top\n\nThe first version of the top page.\n")
        (root / "secret" / "hidden.md").write_text("# Hidden\n\nA page about locked rooms.\n")
        (root / "secret" / "sub" / "deeper.md").write_text("# Deeper\n\nA page further down.\n")
        settings = EmbedderSettings(provider="openai", base_url=embed_server.base_url, model=embed_server.model)

        async def index(name: str) -> dict:
            store = make_store(backend, data)
            emb = OpenAIEmbedder(settings)
            try:
                run = await Indexer(store, emb, name, [root]).run()
                points = await all_points(store, name)
            finally:
                await emb.aclose()
                await store.close()
            return {
                "phase": run.phase,
                "failed": run.files_failed,
                "files_deleted": run.files_deleted,
                "skips": {e.path: e.reason for e in run.log if e.kind == "skip"},
                "points": sorted([p["path"], p["text"]] for p in points.values()),  # lists: they cross JSON
            }

        first = asyncio.run(index(NAME))  # everything readable
        assert {path for path, _ in first["points"]} == {
            "docs/open.md",
            "top.md",
            "secret/hidden.md",
            "secret/sub/deeper.md",
        }
        chown_tree(base)
        (root / "top.md").write_text("# Top\n\nThe second version of the top page.\n")
        os.chmod(root / "secret", 0)
        try:
            again, fresh = as_unprivileged(lambda: (asyncio.run(index(NAME)), asyncio.run(index("fresh"))))
        finally:
            os.chmod(root / "secret", 0o755)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    for run in (again, fresh):
        assert run["phase"] == "done" and run["failed"] == 0
        assert run["skips"]["secret"] == "cannot list directory: Permission denied"
    # the re-run: the unreadable directory's points stay, the rest is current
    assert again["files_deleted"] == 0
    assert [p for p in again["points"] if p[0].startswith("secret/")] == [
        p for p in first["points"] if p[0].startswith("secret/")
    ]
    assert ["top.md", "# Top\n\nThe second version of the top page."] in again["points"]
    # a first run: the rest is indexed
    assert {path for path, _ in fresh["points"]} == {"docs/open.md", "top.md"}
