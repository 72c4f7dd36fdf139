from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from roocode_tui.core.files.discovery import FullWalkNeeded, SkipFile, SourceFile, Walker, decode_text, read_source
from roocode_tui.core.files.languages import detect_language


def tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def walk(root: Path, **kw) -> tuple[set[str], dict[str, str]]:
    found, skipped = set(), {}
    for item in Walker(root, **kw):
        if isinstance(item, SourceFile):
            found.add(item.path)
        else:
            skipped[item.path] = item.reason
    return found, skipped


def test_gitignore_nested_negation_and_rooignore(tmp_path: Path):
    tree(
        tmp_path,
        {
            ".gitignore": "*.log\nsecret/\n",
            ".rooignore": "private.md\n",
            "a.py": "x = 1\n",
            "keep.md": "# keep\n",
            "private.md": "# private\n",
            "debug.log": "log\n",
            "secret/key.txt": "k\n",
            "pkg/.gitignore": "generated_*.py\n!generated_keep.py\n",
            "pkg/generated_x.py": "x\n",
            "pkg/generated_keep.py": "x\n",
            "pkg/mod.py": "x\n",
        },
    )
    found, skipped = walk(tmp_path)
    assert found == {"a.py", "keep.md", "pkg/generated_keep.py", "pkg/mod.py"}
    assert skipped["private.md"].startswith("ignored")
    assert skipped["pkg/generated_x.py"].startswith("ignored")
    assert skipped["secret"].startswith("ignored")
    assert "debug.log" in skipped


def test_junk_directories_and_virtualenvs_are_pruned(tmp_path: Path):
    tree(
        tmp_path,
        {
            "src/app.ts": "export {}\n",
            "node_modules/lib/index.js": "x\n",
            ".git/config": "x\n",
            "myenv/pyvenv.cfg": "home = /usr\n",
            "myenv/lib/site.py": "x\n",
            "__pycache__/a.pyc": b"\x00",
        },
    )
    found, skipped = walk(tmp_path)
    assert found == {"src/app.ts"}
    assert skipped["node_modules"].startswith("node_modules/")
    assert skipped["myenv"] == "virtual environment"


def test_a_worktrees_or_submodules_git_file_is_not_indexed(tmp_path: Path):
    """A git worktree (and a submodule) has a .git file naming its repository, not a folder."""
    tree(tmp_path, {".git": "gitdir: /home/me/src/shop/.git/worktrees/feature\n", "vendor/lib/.git": "gitdir: x\n"})
    tree(tmp_path, {"src/app.py": "print('hi')\n", "vendor/lib/lib.py": "x = 1\n"})
    found, skipped = walk(tmp_path)
    assert found == {"src/app.py", "vendor/lib/lib.py"}
    assert skipped[".git"] == skipped["vendor/lib/.git"] == ".git link to a repository"


def test_size_binary_lock_and_globs(tmp_path: Path):
    tree(
        tmp_path,
        {
            "big.md": "x" * 2000,
            "img.png": b"\x89PNG",
            "package-lock.json": "{}",
            "docs/a.md": "# a\n",
            "docs/b.txt": "b\n",
            "tests/t.md": "# t\n",
        },
    )
    found, skipped = walk(tmp_path, max_file_bytes=1000, include=["docs/", "*.md"], exclude=["tests/"])
    assert found == {"docs/a.md", "docs/b.txt"}
    assert skipped["big.md"].startswith("larger than max_file_bytes")
    assert skipped["img.png"] == "not matched by the collection's include globs"
    assert skipped["tests"].startswith("excluded")


def test_symlink_loop_is_skipped_once(tmp_path: Path):
    tree(tmp_path, {"a/b.md": "# b\n"})
    os.symlink(tmp_path / "a", tmp_path / "a" / "loop")
    os.symlink(tmp_path / "missing", tmp_path / "dangling.md")
    found, skipped = walk(tmp_path)
    assert found == {"a/b.md"}
    assert skipped["a/loop"] == "symlink loop"
    assert skipped["dangling.md"] == "broken symlink"


NOBODY = 65534


def read_as_nobody(sources: list[SourceFile]) -> list[str]:
    """What ``read_source`` makes of each file, read by an unprivileged user: root reads every
    file whatever its mode, so as root the reads run in a forked child that drops to nobody
    first (the interpreter lives where nobody may not run it, so not a new process)."""

    def outcome(sf: SourceFile) -> str:
        try:
            return "read: " + read_source(sf, 1 << 20).text
        except SkipFile as exc:
            return f"skipped: {exc}"

    if os.geteuid() != 0:
        return [outcome(sf) for sf in sources]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 1
        try:
            os.close(read_end)
            try:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            except OSError:
                status = 3  # not allowed to drop privileges here
            else:
                os.write(write_end, json.dumps([outcome(sf) for sf in sources]).encode())
                status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        answer = pipe.read()
    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    if status == 3:
        pytest.skip("running as root, and not allowed to switch to an unprivileged user")
    assert status == 0, f"the reading child exited with {status}"
    return json.loads(answer)


def test_unreadable_file_is_reported():
    # Not under tmp_path: pytest's temporary root is private to the user running the tests,
    # and the unprivileged reader must get as far as the file's own mode.
    root = Path(tempfile.mkdtemp(prefix="unreadable-"))
    try:
        root.chmod(0o755)
        tree(root, {"a.md": "# a\n", "b.md": "# b\n"})
        for rel in ("a.md", "b.md"):
            (root / rel).chmod(0o644)
        (root / "a.md").chmod(0)
        sources = sorted((i for i in Walker(root) if isinstance(i, SourceFile)), key=lambda sf: sf.path)
        assert [sf.path for sf in sources] == ["a.md", "b.md"]
        unreadable, readable = read_as_nobody(sources)
        assert unreadable == "skipped: unreadable: Permission denied"
        assert readable == "read: # b\n"  # the same reader gets to a file it may read
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_decode_rules():
    assert decode_text(b"a\r\nb\rc\n") == "a\nb\nc\n"
    assert decode_text("\ufeffhé\r\n".encode("utf-16")) == "hé\n"  # the mark twice: neither is text
    assert decode_text("hé\r\nx".encode("utf-16")) == "hé\nx"
    for codec in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "utf-8"):
        assert decode_text("\ufeffhé\r\nx".encode(codec)) == "hé\nx", codec
    assert decode_text("hé".encode("utf-32")) == "hé"  # not taken for UTF-16 (its mark starts the same)
    assert decode_text(b"\xef\xbb\xbfbom") == "bom"
    with pytest.raises(SkipFile, match="invalid UTF-16 text"):
        decode_text(b"\xff\xfe\x00\xd8")  # a lone surrogate
    assert decode_text("caf\xe9 latin-1".encode("latin-1")) == "caf\ufffd latin-1"
    with pytest.raises(SkipFile, match="binary"):
        decode_text(b"ELF\x00\x00\x01")


def test_languages_from_names():
    assert detect_language("x/y/app.py") == "python"
    assert detect_language("README.md") == "markdown"
    assert detect_language("main.go") == "go"
    assert detect_language("lib.rs") == "rust"
    assert detect_language("index.tsx") == "tsx"
    assert detect_language("Makefile") == "make"
    assert detect_language("LICENSE") == "text"


def _tree_for_changes(root: Path) -> None:
    files = {
        "a.md": "a",
        "docs/b.md": "b",
        "docs/skip.log": "ignored by the nested .gitignore",
        "docs/.gitignore": "*.log\n",
        "docs/deep/c.md": "c",
        "docs/deep/d.py": "d = 1",
        "node_modules/pkg/e.md": "never",
        "build/f.md": "never",
        "notes/g.md": "g",
        "notes/private/h.md": "ignored by the root .gitignore",
        ".gitignore": "notes/private/\n",
        "notes/picture.png": "binary by name",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "notes" / "link.md").symlink_to(root / "a.md")


def _files(items) -> set[str]:
    return {i.path for i in items if isinstance(i, SourceFile)}


def test_a_walk_of_changed_paths_finds_what_the_whole_walk_finds_there(tmp_path: Path):
    root = tmp_path / "root"
    _tree_for_changes(root)
    walker = Walker(root, exclude=["*.py"])
    whole = _files(walker)
    cases = [
        ["a.md"],
        ["docs"],  # a directory: walked whole, by the nested rules
        ["docs/deep/c.md", "docs/deep/d.py"],  # an excluded file is not found
        ["docs/skip.log", "node_modules/pkg/e.md", "build/f.md", "notes/private/h.md", "notes/picture.png"],
        ["notes"],
        ["notes/link.md"],  # a symlinked file is followed, as the walk follows it
        ["gone.md", "gone-dir/x.md", "docs/deep/gone.md"],  # paths that are not there: nothing
        ["docs/.gitignore"],  # an edited ignore file stands for its directory
        ["notes/g.md", "notes"],  # a path below another one is walked once
    ]
    for rels in cases:
        scope = walker.change_scope(rels)
        expected = {f for f in whole if any(f == s or f.startswith(s + "/") for s in scope)}
        found = list(walker.changed(rels))
        assert _files(found) == expected, rels
        assert len(found) == len({(type(i), i.path) for i in found}), f"{rels}: something was yielded twice"
    assert walker.change_scope(["docs/.gitignore", "docs/deep/c.md"]) == ["docs"]
    assert walker.change_scope([".gitignore"]) == [""]
    assert _files(walker.changed([".gitignore"])) == whole  # the root's ignore file: the whole root


def test_a_walk_of_changed_paths_under_a_symlinked_directory_asks_for_the_whole_walk(tmp_path: Path):
    root = tmp_path / "root"
    _tree_for_changes(root)
    (root / "linked").symlink_to(root / "docs", target_is_directory=True)
    with pytest.raises(FullWalkNeeded):
        list(Walker(root).changed(["linked/b.md"]))
    assert _files(Walker(root).changed([".gitignore"])) == _files(Walker(root))  # the whole walk is exact
    # Not following symlinks, the directory is skipped, as the whole walk skips it.
    walker = Walker(root, follow_symlinks=False)
    assert _files(walker.changed(["linked/b.md", "linked"])) == set()
    assert "linked/b.md" not in _files(walker)


def test_drawings_are_not_text_to_search(tmp_path: Path):
    """A logo's SVG is markup, not prose or code: a repository's 880 KB logo was 1,674 chunks
    of path coordinates that crowded its search results (and cost as much to embed as the code)."""
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0L10 10"/></svg>\n'
    tree(tmp_path, {"ext/logo.svg": svg, "ext/logo.ai": "%PDF-1.5\n", "ext/logo.eps": "%!PS\n", "a.py": "x = 1\n"})
    found, skipped = walk(tmp_path)
    assert found == {"a.py"}
    assert {skipped[p] for p in ("ext/logo.svg", "ext/logo.ai", "ext/logo.eps")} == {"drawing"}
