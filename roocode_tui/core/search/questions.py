"""Questions about a repository, mined from its own history: what ``roocode-tui eval`` asks.

Two kinds, each answered by files:

- **behaviour** (and **docs**): the subject of a small commit describes a behaviour ("Fix
  race when a pool closes twice"); the files it touched answer it. Filters (``mine_history``):
  no merges, no bots, no releases, version bumps, reverts, typo/lint/format/CI/dependency
  chores; the subject loses its conventional-commit prefix and trailing ``(#123)`` and keeps
  4-20 words, 3 of them content words; a commit touches 1-3 answering files (tests,
  changelogs and lock files don't answer: a commit of only those is dropped, and so is one
  of only CI, packaging or build settings) and changes at most 300 lines; every answering
  file still exists and is indexed. A question whose files
  are all markdown is a ``docs`` question.
- **symbol**: a bare name, as people type one into a search box, answered by the file that
  defines it, for names of at least 6 characters defined in one file only
  (``symbol_questions``).

Each question falls in the ``tune`` or the ``held-out`` half by a hash of its text, so a
ranking rule can be tuned on one half and judged on the other.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from roocode_tui.core.errors import UsageError
from roocode_tui.core.search.ranker import kinds_of_file

MAX_FILES = 3  # a commit that touches more is not about one behaviour
MAX_LINES = 300  # lines added and deleted, over every file it touches
MIN_WORDS, MAX_WORDS, MIN_CONTENT_WORDS = 4, 20, 3
SCAN_COMMITS = 20_000  # the history read, newest first

_BOT = re.compile(r"\[bot\]|dependabot|renovate|github-actions|greenkeeper|snyk-bot|pre-commit-ci", re.I)
_PREFIX = re.compile(r"^\s*(?P<type>[a-z]+)(?:\([^)]*\))?!?:\s*", re.I)
_SKIP_TYPES = frozenset("chore ci build style test tests release revert deps bump wip lint format".split())
_TRAILER = re.compile(r"\s*(\((?:#|gh-|GH-)\d+\)|\[[^\]]*\]|#\d+)\s*$")
_NOISE = re.compile(
    r"^(merge|revert|release|bump|prepare|version|v?\d+\.\d+|update (the )?(readme|changelog|deps|dependencies|"
    r"history|authors|copyright|license|docs?|version|ci|workflow)|wip\b|initial commit)"
    r"|\b(typos?|lint(er|ing)?|whitespace|changelog|formatting|reformat|spelling|clippy|rustfmt|gofmt|prettier|"
    r"eslint|rubocop|flake8|mypy|black|isort|ruff|copyright|dependabot|bump(ed)? |pre-commit)\b",
    re.I,
)
_STOP = frozenset(
    "a an and are as at be by for from has have how in is it its of on or that the this to was with "
    "when where which not no into use add fix update remove make support allow".split()
)
_NOT_ANSWERS = re.compile(
    r"(^|/)(changelog|changes|history|news|authors|contributors|releasing|release-notes)(\.[a-z]+)?$"
    r"|(^|/)(package-lock\.json|yarn\.lock|pnpm-lock\.yaml|cargo\.lock|go\.sum|gemfile\.lock|poetry\.lock)$",
    re.I,
)
_BUILD = re.compile(
    r"^\.(github|gitlab|circleci|buildkite|devcontainer)/|(^|/)(\.travis\.ya?ml|\.gitlab-ci\.ya?ml|appveyor\.ya?ml"
    r"|azure-pipelines\.ya?ml|tox\.ini|noxfile\.py|setup\.cfg|setup\.py|pyproject\.toml|cargo\.toml|go\.mod"
    r"|package\.json|tsconfig[^/]*\.json|gemfile|[^/]*\.gemspec|rakefile|makefile|cmakelists\.txt|dockerfile"
    r"|\.[a-z]*rc(\.[a-z]+)?|\.editorconfig|\.gitignore|\.gitattributes|requirements[^/]*\.txt)$",
    re.I,
)
_MARKDOWN = re.compile(r"\.(md|markdown|mdx|rst|txt)$", re.I)
_NAME_Q = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Question:
    text: str
    kind: str  # mined: behaviour | docs | symbol; written (eval --ask): any
    files: tuple[str, ...]  # paths relative to the collection's root, "/"-separated
    source: str = ""  # the commit, or the definition's location

    @property
    def half(self) -> str:
        """``tune`` or ``held-out``: a rule is tuned on one half and judged on the other."""
        return "tune" if hashlib.sha1(self.text.encode()).digest()[0] % 2 == 0 else "held-out"

    def to_json(self) -> dict[str, object]:
        return {"text": self.text, "kind": self.kind, "files": list(self.files), "source": self.source}


def is_test_path(path: str) -> bool:
    """A test file, as the ranking stack tells one (a test does not answer a question)."""
    return "test" in kinds_of_file(path)


def clean_subject(subject: str) -> str | None:
    """A commit subject as a question, or None when it describes no behaviour."""
    text = subject.strip()
    m = _PREFIX.match(text)
    if m:
        if m.group("type").lower() in _SKIP_TYPES:
            return None
        text = text[m.end() :]
    while True:
        stripped = _TRAILER.sub("", text)
        if stripped == text:
            break
        text = stripped
    text = text.strip().rstrip(".").strip()
    if not text or _NOISE.search(text):
        return None
    words = text.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return None
    content = [w for w in re.findall(r"[A-Za-z][A-Za-z0-9_]*", text) if w.lower() not in _STOP and len(w) > 2]
    if len(content) < MIN_CONTENT_WORDS:
        return None
    return text[0].upper() + text[1:]


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, errors="replace", check=False
        )
    except FileNotFoundError:
        raise UsageError("git is not installed: eval mines its questions from the repository's history") from None
    if done.returncode != 0:
        raise UsageError(f"{repo}: not a git repository ({done.stderr.strip().splitlines()[-1:] or ['git failed']})")
    return done.stdout


def git_root(path: Path) -> Path | None:
    """The work tree ``path`` lies in, or None when it is in none."""
    try:
        return Path(_git(path, "rev-parse", "--show-toplevel").strip())
    except UsageError:
        return None


def mine_history(root: Path, indexed: Iterable[str] | None = None, *, limit: int | None = None) -> list[Question]:
    """Behaviour and docs questions from ``root``'s git history (see the module's filters).

    ``root`` may be a folder inside a work tree: paths are relative to it, and only commits
    touching it count. ``indexed``: the paths the collection holds (relative to ``root``);
    an answer outside them could never be found. Newest commits first; ``limit`` questions at
    most, taken evenly over the history."""
    known = set(indexed) if indexed is not None else None
    log = _git(
        root, "log", "--no-merges", "--relative", f"-n{SCAN_COMMITS}", "--numstat",
        "--format=%x1e%H%x1f%an%x1f%ae%x1f%s", "--", ".",
    )  # fmt: skip
    existing = set(_git(root, "ls-files", "-z").split("\0")) if known is None else known
    out: list[Question] = []
    seen: set[str] = set()
    for record in log.split("\x1e"):
        if not record.strip():
            continue
        head, _, stat = record.partition("\n")
        sha, author, email, subject = [*head.split("\x1f"), "", "", ""][:4]
        if _BOT.search(author) or _BOT.search(email):
            continue
        text = clean_subject(subject)
        if text is None or text.lower() in seen:
            continue
        touched, lines = [], 0
        for row in stat.strip().splitlines():
            added, deleted, path = [*row.split("\t"), "", ""][:3]
            if "=>" in path:  # a rename: the file as it is now
                path = re.sub(r"\{[^{}]*=> ([^{}]*)\}", r"\1", path).replace("//", "/")
                path = path.split(" => ")[-1]
            lines += int(added) if added.isdigit() else 0
            lines += int(deleted) if deleted.isdigit() else 0
            touched.append(path)
        answers = [p for p in touched if not is_test_path(p) and not _NOT_ANSWERS.search(p)]
        if not answers or len(touched) > MAX_FILES + 2 or len(answers) > MAX_FILES or lines > MAX_LINES:
            continue
        if all(_BUILD.search(p) for p in answers):  # CI, packaging and build settings: not what search is for
            continue
        if not all(p in existing for p in answers):
            continue
        seen.add(text.lower())
        kind = "docs" if all(_MARKDOWN.search(p) for p in answers) else "behaviour"
        out.append(Question(text, kind, tuple(sorted(answers)), sha[:12]))
    return evenly(out, limit)


def symbol_questions(definitions: Iterable[tuple[str, str]], *, limit: int | None = None) -> list[Question]:
    """``(name, path)`` of each definition -> the bare name as a question, for names of 6 or
    more characters that one file defines (a name several files define has no one answer)."""
    where: dict[str, set[str]] = {}
    for name, path in definitions:
        if _NAME_Q.match(name) and len(name) >= 6 and not is_test_path(path):
            where.setdefault(name, set()).add(path)
    lower: dict[str, int] = {}
    for name in where:
        lower[name.lower()] = lower.get(name.lower(), 0) + 1
    out = [
        Question(name, "symbol", (next(iter(paths)),), next(iter(paths)))
        for name, paths in sorted(where.items())
        if len(paths) == 1 and lower[name.lower()] == 1
    ]
    return evenly(out, limit)


def evenly(items: list[Question], limit: int | None) -> list[Question]:
    if limit is None or len(items) <= limit:
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def definitions_in(root: Path, paths: Iterable[str], chunk_tokens: int = 300) -> list[tuple[str, str]]:
    """``(name, path)`` of every definition in these files under ``root``, as the chunker
    names them (the breadcrumbs of its chunks)."""
    from roocode_tui.core.chunking.keywords import definition_name
    from roocode_tui.core.chunking.splitter import Chunker
    from roocode_tui.core.files.discovery import SkipFile, decode_text
    from roocode_tui.core.files.languages import detect_language

    chunker = Chunker(chunk_tokens)
    out: list[tuple[str, str]] = []
    for rel in paths:
        language = detect_language(rel)
        if not language or _MARKDOWN.search(rel) or is_test_path(rel):
            continue
        try:
            text = decode_text((root / rel).read_bytes())
        except (OSError, SkipFile):
            continue
        for chunk in chunker.split(text, language, rel):
            name = definition_name(chunk.heading)
            if name:
                out.append((name, rel))
    return out


def collection_questions(
    roots: Iterable[Path],
    indexed: dict[str, list[str]],
    *,
    history: int = 200,
    symbols: int = 50,
    chunk_tokens: int = 300,
) -> list[Question]:
    """The questions for a collection: each root's history (when it is in a git work tree)
    and its definitions. ``indexed``: root -> the paths the collection reads under it."""
    out: list[Question] = []
    for root in roots:
        paths = indexed.get(str(root), [])
        folder = root.parent if root.is_file() else root  # a file indexed alone is stored under its folder
        if git_root(folder) is not None:
            out += mine_history(folder, paths, limit=history)
        out += symbol_questions(definitions_in(folder, paths, chunk_tokens), limit=symbols)
    return out


def load_questions(source: Path, indexed: dict[str, list[str]]) -> tuple[list[Question], int]:
    """Questions a person wrote (``eval --ask FILE``): one JSON object a line, ``text`` and the
    ``files`` that answer it (relative to an indexed folder, most relevant first), ``kind``
    optional (default ``question``). Answers the questions with an indexed answering file and
    how many were left out for having none. A line that is not such an object is an error
    naming the file and the line."""
    known = {path for paths in indexed.values() for path in paths}
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{source}: cannot read the questions: {exc}") from exc
    out: list[Question] = []
    left_out = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{source}:{number}: not JSON ({exc.msg})") from exc
        text = item.get("text") if isinstance(item, dict) else None
        files = item.get("files") if isinstance(item, dict) else None
        kind = item.get("kind", "question") if isinstance(item, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise UsageError(f'{source}:{number}: "text" must be the question, a non-empty string')
        if not isinstance(files, list) or not files or not all(isinstance(f, str) and f for f in files):
            raise UsageError(f'{source}:{number}: "files" must be a non-empty list of the paths that answer it')
        if not isinstance(kind, str) or not kind:
            raise UsageError(f'{source}:{number}: "kind" must be a string')
        answers = tuple(a for a in (f.strip().removeprefix("./") for f in files) if a in known)
        if not answers:
            left_out += 1
            continue
        out.append(Question(text.strip(), kind, answers, source=f"{source.name}:{number}"))
    return out, left_out


def indexed_paths(
    roots: Iterable[Path], include: list[str], exclude: list[str], max_file_bytes: int = 1024 * 1024
) -> dict[str, list[str]]:
    """root -> the paths an index run of a collection with these roots and globs reads."""
    from roocode_tui.core.files.discovery import SourceFile, Walker

    out: dict[str, list[str]] = {}
    for root in roots:
        if root.is_file():  # stored under its folder, by its name
            out[str(root)] = [root.name]
            continue
        walker = Walker(root, include=include, exclude=exclude, max_file_bytes=max_file_bytes)
        out[str(root)] = sorted(item.path for item in walker if isinstance(item, SourceFile))
    return out
