"""Walk a collection's paths: honour .gitignore/.rooignore, skip junk, count every skip.

The walk only stats files; reading (and the binary / encoding checks that need the bytes)
happens in :func:`read_source`, so unchanged files can be recognised without reading them.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pathspec

from roocode_tui.core.files.languages import detect_language

IGNORE_FILES = (".gitignore", ".rooignore")

# Directories that are never documentation or source of the project itself.
JUNK_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".bzr", "CVS",
        "node_modules", "bower_components", "jspm_packages",
        "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis",
        ".tox", ".nox", ".venv", "venv", ".eggs",
        ".gradle", ".idea", ".vscode-test", ".next", ".nuxt", ".svelte-kit", ".turbo",
        ".parcel-cache", ".cache", ".terraform", ".serverless",
        "build", "dist", "target", "out", "coverage", "htmlcov", "site-packages",
    }
)  # fmt: skip

# Files that are text but generated, or never worth embedding.
JUNK_FILES = frozenset(
    {
        "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "uv.lock",
        "Cargo.lock", "Gemfile.lock", "composer.lock", "go.sum", "Pipfile.lock", ".DS_Store",
    }
)  # fmt: skip
JUNK_SUFFIXES = (".min.js", ".min.css", ".map", ".lock", ".pyc", ".log")
# Drawings that are text files but markup of shapes (a logo's SVG is thousands of chunks of coordinates).
DRAWING_SUFFIXES = frozenset("svg svgz ai eps emf wmf".split())

# Known binary formats: skipped by name, without reading them.
BINARY_SUFFIXES = frozenset(
    """
    png jpg jpeg gif bmp ico icns webp tif tiff psd avif heic
    pdf doc docx xls xlsx ppt pptx odt ods odp epub
    zip gz tgz bz2 xz zst 7z rar tar jar war whl egg
    so dll dylib exe bin o a lib obj class pyd pyo wasm dex
    woff woff2 ttf otf eot
    mp3 mp4 m4a wav flac ogg opus avi mov mkv webm
    sqlite sqlite3 db parquet arrow feather npy npz pkl pickle pt pth onnx safetensors gguf h5
    """.split()
)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file that passed the name-based rules; its content is not read yet."""

    root: Path
    path: str  # relative to root, POSIX separators
    abspath: Path
    size: int
    mtime_ns: int
    language: str


@dataclass(frozen=True, slots=True)
class Skip:
    """A file (or directory) left out, and why."""

    root: Path
    path: str
    reason: str
    is_dir: bool = False


@dataclass(frozen=True, slots=True)
class SourceText:
    text: str  # newlines normalised to "\n"
    file_hash: str


class FullWalkNeeded(Exception):
    """Raised by :meth:`Walker.changed` where only a walk of the whole root is exact."""


class SkipFile(Exception):
    """Raised by :func:`read_source` when a file must be skipped; the message is the reason."""


class _Rules:
    """The ignore-file specs that apply to one directory, deepest last. A spec's base is its
    directory relative to the root; a spec from above the root (``ProjectRules`` reads none,
    Roo Code's selection does) has base None and a prefix: the root's path relative to it."""

    __slots__ = ("specs",)

    def __init__(self, specs: tuple[tuple[str | None, pathspec.PathSpec, str], ...]):
        self.specs = specs

    def ignored(self, rel: str, is_dir: bool) -> bool:
        candidate = rel + "/" if is_dir else rel
        # Deeper ignore files override shallower ones; within a file the last match wins.
        for base, spec, prefix in reversed(self.specs):
            if base is None:
                sub = prefix + candidate
            else:
                sub = candidate[len(base) + 1 :] if base else candidate
            result = spec.check_file(sub)
            if result.include is not None:
                return bool(result.include)
        return False


def load_spec(directory: Path, names: Iterable[str]) -> pathspec.PathSpec | None:
    """The gitignore-style spec of the named ignore files in ``directory`` (None: there are none)."""
    lines: list[str] = []
    for name in names:
        try:
            lines.extend((directory / name).read_text(encoding="utf-8", errors="replace").splitlines())
        except OSError:
            continue
    return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None


def _exists(path: Path) -> bool:
    """Path.exists() that says no instead of raising for a directory it may not search."""
    try:
        path.stat()
    except OSError:
        return False
    return True


class ProjectRules:
    """What this project leaves out by name: junk and dependency directories, virtual
    environments, lock and generated files, known binary formats. ``.gitignore`` and
    ``.rooignore`` apply in every directory. (Roo Code's own selection is ``roo.RooRules``.)"""

    ignore_files: tuple[str, ...] = IGNORE_FILES  # read in every directory
    root_ignore_files: tuple[str, ...] = ()  # read at the root only

    def __init__(self, skip_dirs: Iterable[str] = ()):
        self.junk_dirs = JUNK_DIRS | frozenset(skip_dirs)

    def specs_above(self, root: Path) -> list[tuple[str, pathspec.PathSpec]]:
        """Ignore files above the root that apply inside it: none (a collection's paths are
        what was asked for)."""
        return []

    def dir_reason(self, name: str, rel: str, path: Path) -> str | None:
        if name in self.junk_dirs:
            return f"{name}/ is never indexed"
        if _exists(path / "pyvenv.cfg"):
            return "virtual environment"
        return None

    def file_reason(self, name: str, rel: str) -> str | None:
        if name == ".git":  # a worktree's or a submodule's: the path of its repository
            return ".git link to a repository"
        lower = name.lower()
        if name in JUNK_FILES or lower.endswith(JUNK_SUFFIXES):
            return "generated or lock file"
        suffix = lower.rsplit(".", 1)[-1] if "." in lower else ""
        if suffix in BINARY_SUFFIXES:
            return "binary file"
        if suffix in DRAWING_SUFFIXES:
            return "drawing"
        return None


class Walker:
    """Iterates the files of one root, yielding :class:`SourceFile` or :class:`Skip`."""

    def __init__(
        self,
        root: Path,
        *,
        include: Iterable[str] = (),
        exclude: Iterable[str] = (),
        max_file_bytes: int = 1024 * 1024,
        follow_symlinks: bool = True,
        skip_dirs: Iterable[str] = (),
        stop: threading.Event | None = None,
        rules: Any = None,
    ):
        self.root = root
        self.include = pathspec.GitIgnoreSpec.from_lines(list(include)) if include else None
        self.exclude = pathspec.GitIgnoreSpec.from_lines(list(exclude)) if exclude else None
        self.max_file_bytes = max_file_bytes
        self.follow_symlinks = follow_symlinks
        self.rules = rules if rules is not None else ProjectRules(skip_dirs)
        self.ignore_names = frozenset(self.rules.ignore_files) | frozenset(self.rules.root_ignore_files)
        self.stop = stop or threading.Event()
        self.on_dir: Any = None  # called with each directory the walk goes into (a watcher's list)

    def directories(self) -> list[Path]:
        """Every directory the walk goes into, the root first: what a watcher must watch to
        see every change a walk would pick up (the same ignore rules, skips and symlinks)."""
        found = [self.root]
        self.on_dir = lambda rel: found.append(self.root / rel)
        try:
            for _ in self:
                pass
        finally:
            self.on_dir = None
        return found

    def __iter__(self) -> Iterator[SourceFile | Skip]:
        return self._scoped(None)

    def changed(self, rels: Iterable[str]) -> Iterator[SourceFile | Skip]:
        """What a full walk yields under each of these paths (relative to the root: files or
        directories, present or gone), without walking the rest of the tree.

        The same rules decide: every directory on the way must be one the walk enters (its
        ignore files read on the way down), and a directory is walked whole. An edited ignore
        file stands for its directory. Raises :class:`FullWalkNeeded` where only a whole walk
        is exact: a symlinked directory met while following symlinks (the loop check keeps
        the first way in, which only the whole walk knows)."""
        return self._scoped(self.change_scope(rels))

    def _scoped(self, scope: list[str] | None) -> Iterator[SourceFile | Skip]:
        """The walk of the whole root (``scope`` None or ``[""]``), or of these paths in it."""
        root = self.root
        try:
            st = root.stat()
        except OSError as exc:
            yield Skip(root, "", f"cannot open path: {exc.strerror or exc}")
            return
        if stat.S_ISREG(st.st_mode):  # a single file given as a path
            yield from self._file(root.parent, root.name, st, _Rules(()))
            return
        key = (st.st_dev, st.st_ino)
        if scope is None or scope == [""]:
            yield from self._walk([("", self._above())], {key})
            return
        for rel in scope:
            if self.stop.is_set():
                return
            yield from self._changed_one(rel, key)

    def change_scope(self, rels: Iterable[str]) -> list[str]:
        """The paths :meth:`changed` walks for these changed paths: an ignore file stands for
        its directory, and a path below another one is walked with it (``[""]``: the whole root)."""
        top: set[str] = set()
        for rel in rels:
            rel = rel.strip("/")
            if rel.rsplit("/", 1)[-1] in self.ignore_names:
                rel = rel.rsplit("/", 1)[0] if "/" in rel else ""
            top.add(rel)
        if "" in top:
            return [""]
        kept = sorted(top)
        out: list[str] = []
        for rel in kept:  # sorted: a directory comes before what is below it
            if not any(rel.startswith(o + "/") for o in out):
                out.append(rel)
        return out

    def _changed_one(self, rel: str, root_key: tuple[int, int]) -> Iterator[SourceFile | Skip]:
        root = self.root
        visited = {root_key}
        rules = self._with_spec("", self._above())
        parts = rel.split("/")
        cur = ""
        for name in parts[:-1]:  # the directories on the way: each one the walk would enter
            cur = f"{cur}/{name}" if cur else name
            path = root / cur
            try:
                if stat.S_ISLNK(os.lstat(path).st_mode):
                    if not self.follow_symlinks:
                        return
                    raise FullWalkNeeded(f"{cur} is a symlinked directory")
                dst = path.stat()
            except OSError:
                return  # gone (or unreachable): nothing of it is in the index any more
            if not stat.S_ISDIR(dst.st_mode) or self._dir_skip(name, cur, path, rules) is not None:
                return
            visited.add((dst.st_dev, dst.st_ino))
            rules = self._with_spec(cur, rules)
        path = root / rel
        try:
            is_link = stat.S_ISLNK(os.lstat(path).st_mode)
        except OSError:
            return  # gone
        if is_link and not self.follow_symlinks:
            yield Skip(root, rel, "symlink (follow_symlinks is off)")
            return
        try:
            est = path.stat()
        except OSError as exc:
            yield Skip(root, rel, "broken symlink" if is_link else (exc.strerror or str(exc)))
            return
        if stat.S_ISDIR(est.st_mode):
            if is_link:
                raise FullWalkNeeded(f"{rel} is a symlinked directory")
            reason = self._dir_skip(parts[-1], rel, path, rules)
            if reason is not None:
                yield Skip(root, rel, reason, is_dir=True)
                return
            if (est.st_dev, est.st_ino) in visited:
                yield Skip(root, rel, "symlink loop", is_dir=True)
                return
            visited.add((est.st_dev, est.st_ino))
            yield from self._walk([(rel, rules)], visited, strict_links=True)
        elif stat.S_ISREG(est.st_mode):
            if rules.ignored(rel, False):
                yield Skip(root, rel, "ignored by .gitignore/.rooignore")
                return
            yield from self._file(root, rel, est, rules)

    def _above(self) -> _Rules:
        return _Rules(tuple((None, spec, prefix) for prefix, spec in self.rules.specs_above(self.root)))

    def _with_spec(self, rel_dir: str, rules: _Rules) -> _Rules:
        """The rules inside ``rel_dir``: those above it and its own ignore files."""
        directory = self.root / rel_dir if rel_dir else self.root
        names = self.rules.ignore_files + (self.rules.root_ignore_files if not rel_dir else ())
        spec = load_spec(directory, names)
        return _Rules((*rules.specs, (rel_dir, spec, ""))) if spec is not None else rules

    def _dir_skip(self, name: str, rel: str, path: Path, rules: _Rules) -> str | None:
        """Why the walk does not go into this directory (None: it does)."""
        reason = self.rules.dir_reason(name, rel, path)
        if reason is not None:
            return reason
        if rules.ignored(rel, True):
            return "ignored by .gitignore/.rooignore"
        if self.exclude is not None and self.exclude.match_file(rel + "/"):
            return "excluded by the collection's exclude globs"
        return None

    def _walk(
        self, stack: list[tuple[str, _Rules]], visited: set[tuple[int, int]], *, strict_links: bool = False
    ) -> Iterator[SourceFile | Skip]:
        """Walk the directories on the stack and everything below them (depth first, sorted).
        Each entry holds the rules from above the directory; its own ignore files are read here.
        ``strict_links``: a symlinked directory raises :class:`FullWalkNeeded` (a part of the
        tree is being walked, so the loop check cannot know which way in comes first)."""
        root = self.root
        while stack and not self.stop.is_set():
            rel_dir, rules = stack.pop()
            directory = root / rel_dir if rel_dir else root
            rules = self._with_spec(rel_dir, rules)
            try:
                with os.scandir(directory) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                yield Skip(root, rel_dir, f"cannot list directory: {exc.strerror or exc}", is_dir=True)
                continue
            subdirs: list[tuple[str, _Rules]] = []
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                try:
                    is_link = entry.is_symlink()
                    if is_link and not self.follow_symlinks:
                        yield Skip(root, rel, "symlink (follow_symlinks is off)")
                        continue
                    est = entry.stat(follow_symlinks=True)
                except OSError as exc:
                    reason = "broken symlink" if entry.is_symlink() else (exc.strerror or str(exc))
                    yield Skip(root, rel, reason)
                    continue
                if stat.S_ISDIR(est.st_mode):
                    reason = self._dir_skip(entry.name, rel, directory / entry.name, rules)
                    if reason is not None:
                        yield Skip(root, rel, reason, is_dir=True)
                        continue
                    if is_link and strict_links:
                        raise FullWalkNeeded(f"{rel} is a symlinked directory")
                    key = (est.st_dev, est.st_ino)
                    if key in visited:
                        yield Skip(root, rel, "symlink loop", is_dir=True)
                        continue
                    visited.add(key)
                    subdirs.append((rel, rules))
                    if self.on_dir is not None:
                        self.on_dir(rel)
                elif stat.S_ISREG(est.st_mode):
                    if rules.ignored(rel, False):
                        yield Skip(root, rel, "ignored by .gitignore/.rooignore")
                        continue
                    yield from self._file(root, rel, est, rules)
                # sockets, fifos, devices: not files anyone wants indexed; nothing to count
            stack.extend(reversed(subdirs))

    def _file(self, root: Path, rel: str, st: os.stat_result, rules: _Rules) -> Iterator[SourceFile | Skip]:
        name = rel.rsplit("/", 1)[-1]
        if name in self.ignore_names:
            return
        if self.exclude is not None and self.exclude.match_file(rel):
            yield Skip(root, rel, "excluded by the collection's exclude globs")
            return
        if self.include is not None and not self.include.match_file(rel):
            yield Skip(root, rel, "not matched by the collection's include globs")
            return
        reason = self.rules.file_reason(name, rel)
        if reason is not None:
            yield Skip(root, rel, reason)
            return
        if st.st_size > self.max_file_bytes:
            yield Skip(root, rel, f"larger than max_file_bytes ({st.st_size} > {self.max_file_bytes})")
            return
        yield SourceFile(
            root=root,
            path=rel,
            abspath=root / rel,
            size=st.st_size,
            mtime_ns=st.st_mtime_ns,
            language=detect_language(name),
        )


def file_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


#: Byte-order marks and the encodings they announce; UTF-32 LE's starts like UTF-16 LE's,
#: so it is looked for first.
BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def decode_text(data: bytes) -> str:
    """Decode file bytes to text with newlines normalised; raise SkipFile for binary data.

    A byte-order mark is never part of the text: the one that names the encoding is skipped,
    and so is any written again right after it (text that started with U+FEFF, encoded with a
    mark of its own), so that a chunk never starts with an invisible character."""
    bom = next(((mark, codec) for mark, codec in BOMS if data.startswith(mark)), None)
    if bom is not None:
        mark, codec = bom
        try:
            text = data[len(mark) :].decode(codec, errors="replace" if codec == "utf-8" else "strict")
        except UnicodeDecodeError:
            raise SkipFile(f"invalid {codec.upper().removesuffix('-LE').removesuffix('-BE')} text") from None
        text = text.lstrip("\ufeff")
    else:
        if b"\x00" in data[:8192]:
            raise SkipFile("binary file (NUL bytes)")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # Not UTF-8: most likely a legacy 8-bit encoding. Keep it searchable and line-exact.
            text = data.decode("utf-8", errors="replace")
            if text.count("\ufffd") > max(16, len(text) // 20):
                raise SkipFile("binary file (not valid text)") from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def read_source(sf: SourceFile, max_file_bytes: int) -> SourceText:
    """Read, hash and decode a file; raise SkipFile with the reason when it can't be indexed."""
    try:
        with open(sf.abspath, "rb") as fh:
            data = fh.read(max_file_bytes + 1)
    except FileNotFoundError:
        raise SkipFile("file disappeared while indexing") from None
    except OSError as exc:
        raise SkipFile(f"unreadable: {exc.strerror or exc}") from None
    if len(data) > max_file_bytes:
        raise SkipFile(f"larger than max_file_bytes (> {max_file_bytes})")
    text = decode_text(data)
    return SourceText(text=text, file_hash=file_hash(data))
