"""core/reading.py: lines of indexed files, and the refusals (outside the roots, ignored, symlinks
out of the tree, ``..``), without an engine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from roocode_tui.core.errors import ReadRefusedError
from roocode_tui.core.files import reading
from roocode_tui.core.files.reading import Root, read_lines


def test_reads_lines_of_an_indexed_file(corpus: Path) -> None:
    roots = [Root("demo", corpus)]
    lines = (corpus / "src/storage/cache.py").read_text().splitlines()
    got = read_lines(roots, "src/storage/cache.py", 3, 5, cwd="/")
    assert got["text"] == "\n".join(lines[2:5]) and (got["start_line"], got["end_line"]) == (3, 5)
    assert got["collection"] == "demo" and got["root"] == str(corpus) and got["path"] == "src/storage/cache.py"
    whole = read_lines(roots, str(corpus / "src/storage/cache.py"), cwd="/")  # absolute, to the end
    assert whole["end_line"] == len(lines) == whole["total_lines"] and not whole["truncated"]
    here = read_lines(roots, "cache.py", cwd=str(corpus / "src/storage"))  # relative to the cwd
    assert here["path"] == "src/storage/cache.py"


def test_refuses_what_an_index_run_would_not_read(corpus: Path, tmp_path: Path) -> None:
    roots = [Root("demo", corpus, exclude=("docs/faq.md",))]
    outside = tmp_path / "outside.txt"
    outside.write_text("private\n")
    (corpus / "docs/escape.md").symlink_to(outside)
    cases = {
        "/etc/passwd": "is not under an indexed collection's roots",
        "src/../../outside.txt": "is not under an indexed collection's roots",
        "secrets.txt": "secrets.txt is not indexed (ignored by .gitignore/.rooignore)",
        "docs/faq.md": "docs/faq.md is not indexed",
        "docs/none.md": "no such file: docs/none.md",
        "src": "is not a file the collection 'demo' indexes",
    }
    for path, why in cases.items():
        with pytest.raises(ReadRefusedError) as info:
            read_lines(roots, path, cwd=str(corpus))
        assert why in str(info.value) and "\n" not in str(info.value), path
    # A symlink inside the tree is read as an index run reads it (it follows symlinks by
    # default); with follow_symlinks off it is refused like the run leaves it out.
    assert read_lines(roots, "docs/escape.md", cwd="/")["text"] == "private"

    class NoLinks:
        max_file_bytes, follow_symlinks, skip_dirs = 1 << 20, False, ()

    with pytest.raises(ReadRefusedError, match="symlink"):
        read_lines(roots, "docs/escape.md", cwd="/", index=NoLinks())
    with pytest.raises(ReadRefusedError, match="no collection has indexed paths"):
        read_lines([], "x", cwd="/")


def test_a_read_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "big"
    root.mkdir()
    (root / "long.md").write_text("".join(f"line {n}\n" for n in range(1, 1001)))
    got = read_lines([Root("big", root)], "long.md", 10, None, cwd="/")
    assert got["truncated"] and got["end_line"] == 10 + reading.MAX_LINES - 1
    assert got["text"].splitlines()[-1] == f"line {got['end_line']}"
    monkeypatch.setattr(reading, "MAX_CHARS", 100)
    small = read_lines([Root("big", root)], "long.md", 1, 50, cwd="/")
    assert small["truncated"] and len(small["text"]) <= 100 and small["end_line"] < 50
    with pytest.raises(Exception, match="past its end"):
        read_lines([Root("big", root)], "long.md", 5000, None, cwd="/")


def test_a_single_file_root(tmp_path: Path) -> None:
    f = tmp_path / "notes.md"
    f.write_text("# Notes\nsecond\n")
    (tmp_path / "other.md").write_text("not indexed\n")
    roots = [Root("notes", f)]
    assert read_lines(roots, str(f), 2, 2, cwd="/")["text"] == "second"
    with pytest.raises(ReadRefusedError, match="not under"):
        read_lines(roots, str(tmp_path / "other.md"), cwd=os.fspath(tmp_path))
