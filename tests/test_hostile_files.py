"""Odd and hostile files: each has a defined outcome, indexed with exact lines or skipped with a reason."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import all_points

from roocode_tui.core.discovery import SkipFile, SourceFile, read_source
from roocode_tui.core.ingest import Indexer

NAME = "demo"


def build_tree(root: Path) -> None:
    root.mkdir()
    (root / "bin.py").write_bytes(b"\x7fELF\x00\x00\x02binary payload" * 20)
    (root / "latin1.md").write_bytes("# Caf\xe9\n\nna\xefve text in Latin-1\n".encode("latin-1"))
    (root / "utf16.md").write_bytes("# Wide\n\nline two of UTF-16\r\nline three\n".encode("utf-16"))
    (root / "crlf.py").write_bytes(b"def a():\r\n    return 1\r\n\r\n\r\ndef b():\r\n    return 2\r\n")
    (root / "cr.txt").write_bytes(b"first line\rsecond line\rthird line about carriage returns\r")
    (root / "huge_line.txt").write_bytes(b"x" * (10 * 1024 * 1024))
    (root / "empty.md").write_bytes(b"")
    (root / "name with spaces.md").write_text("# Spaces\n\nA file name with spaces.\n")
    (root / "new\nline.md").write_text("# Newline\n\nA file name with a newline in it.\n")
    (root / "ünïcödé.md").write_text("# Ünïcödé\n\nNon-ASCII name and text: naïve café.\n")
    deep = root.joinpath(*[f"d{i}" for i in range(60)])
    deep.mkdir(parents=True)
    (deep / "bottom.md").write_text("# Bottom\n\nSixty directories down.\n")
    (root / "loop").mkdir()
    os.symlink(root, root / "loop" / "back")


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
