"""Reading lines of an indexed file, for a face that shows more than a hit (an agent's ``read``).

Only a file an index run of some collection would read is served: under one of its roots, and
not left out by its rules (.gitignore/.rooignore, include/exclude, size, binary). Anything else
is refused with one line, so a caller cannot read ``~/.ssh`` or a project's ``.env`` through it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from roocode_tui.core.errors import ReadRefusedError, UsageError
from roocode_tui.core.files.discovery import FullWalkNeeded, SkipFile, SourceFile, Walker, decode_text

MAX_LINES = 400  # lines one read returns at most
MAX_CHARS = 40_000  # characters one read returns at most (about 10k tokens)


@dataclass(frozen=True, slots=True)
class Root:
    collection: str
    path: Path
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


def roots_of(metas: list[Any]) -> list[Root]:
    """The roots of these collections (``CollectionMeta``), in order."""
    return [
        Root(m.name, Path(p), tuple(m.include), tuple(m.exclude))
        for m in metas
        if not getattr(m, "staging_for", None)
        for p in m.paths
    ]


def read_lines(
    roots: list[Root],
    path: str,
    start_line: int = 1,
    end_line: int | None = None,
    *,
    cwd: str | None = None,
    index: Any = None,
) -> dict[str, Any]:
    """Lines ``start_line``..``end_line`` (1-based, inclusive) of ``path``: absolute, or relative
    to ``cwd`` or to a root (as a search hit gives it). ``index``: the IndexSettings the runs use.
    Raises :class:`ReadRefusedError` for anything that is not a file of an indexed collection."""
    if not roots:
        raise ReadRefusedError("refused: no collection has indexed paths yet (index something first)")
    found = _locate(roots, path, cwd)
    if found is None:
        names = ", ".join(str(r.path) for r in roots)
        raise ReadRefusedError(f"refused: {path} is not under an indexed collection's roots ({names})")
    root, rel = found
    source = _indexable(root, rel, index)
    try:
        data = source.abspath.read_bytes()
        text = decode_text(data)
    except OSError as exc:
        raise ReadRefusedError(f"cannot read {rel}: {exc.strerror or exc}") from None
    except SkipFile as exc:
        raise ReadRefusedError(f"refused: {rel} is not indexed ({exc})") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    total = len(lines)
    start = max(1, int(start_line or 1))
    end = total if end_line is None else min(int(end_line), total)
    if start > max(total, 1):
        raise UsageError(f"{rel} has {total} lines: start_line {start} is past its end")
    truncated = False
    if end - start + 1 > MAX_LINES:
        end, truncated = start + MAX_LINES - 1, True
    out: list[str] = []
    size = 0
    for n in range(start, end + 1):
        line = lines[n - 1]
        if size + len(line) + 1 > MAX_CHARS and out:
            end, truncated = n - 1, True
            break
        out.append(line[:MAX_CHARS])
        size += len(line) + 1
    return {
        "collection": root.collection,
        "root": str(_dir_of(root)),
        "path": rel,
        "start_line": start,
        "end_line": max(start, end) if out else start,
        "total_lines": total,
        "truncated": truncated,
        "text": "\n".join(out),
    }


def _dir_of(root: Root) -> Path:
    return root.path.parent if root.path.is_file() else root.path


def _locate(roots: list[Root], path: str, cwd: str | None) -> tuple[Root, str] | None:
    """The root a path is under and the path relative to it (lexically: ``..`` cannot climb out)."""
    given = Path(os.path.expanduser(path))
    tries = [given] if given.is_absolute() else [Path(cwd or os.getcwd()) / given, *(_dir_of(r) / given for r in roots)]
    for candidate in tries:
        full = Path(os.path.normpath(candidate))
        for root in roots:
            base = Path(os.path.normpath(root.path))
            if root.path.is_file():
                if full == base:
                    return root, base.name
                continue
            try:
                rel = full.relative_to(base)
            except ValueError:
                continue
            if str(rel) != "." and full.exists():
                return root, rel.as_posix()
        for root in roots:  # under a root but missing: say so for that root
            base = Path(os.path.normpath(root.path))
            if full.is_relative_to(base) and full != base:
                return root, full.relative_to(base).as_posix()
    return None


def _indexable(root: Root, rel: str, index: Any) -> SourceFile:
    """The file as an index run of its collection would see it, or a one-line refusal."""
    walker = Walker(
        root.path,
        include=root.include,
        exclude=root.exclude,
        max_file_bytes=getattr(index, "max_file_bytes", 1024 * 1024),
        follow_symlinks=getattr(index, "follow_symlinks", True),
        skip_dirs=getattr(index, "skip_dirs", ()),
    )
    try:
        seen = list(walker) if root.path.is_file() else list(walker.changed([rel]))
    except FullWalkNeeded:
        seen = [s for s in walker if s.path == rel]
    for item in seen:
        if item.path == rel:
            if isinstance(item, SourceFile):
                return item
            raise ReadRefusedError(f"refused: {rel} is not indexed ({item.reason})")
    if not (_dir_of(root) / rel).exists():
        raise ReadRefusedError(f"no such file: {rel} (under {_dir_of(root)})")
    raise ReadRefusedError(f"refused: {rel} is not a file the collection {root.collection!r} indexes")
