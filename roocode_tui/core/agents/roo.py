"""Roo Code's codebase index: its collection names, point ids, payloads and chunks.

Everything here follows Roo Code's source (src/services/code-index/ in RooCodeInc/Roo-Code);
each formula names the file it comes from. Roo Code is TypeScript: string lengths and slices
count UTF-16 code units and hashes see the string as UTF-8, so the helpers below do the same
(a file with emoji gets the ids Roo Code would give it).

Chunks: markdown, the line-based fallback and the tree-sitter chunker (its queries, its node
rules, with the grammar versions closest to Roo Code's: :mod:`roocode_tui.core.agents.roo_tree`) are
ported rule by rule, so a block has the lines, text and id Roo Code gives it.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from roocode_tui.core.agents import roo_tree
from roocode_tui.core.agents.profile import AgentProfile
from roocode_tui.core.agents.roo_blocks import (  # noqa: F401 - the block layer, re-exported
    _JS_WS,
    MAX_BLOCK_CHARS,
    MAX_CHARS_TOLERANCE_FACTOR,
    MIN_BLOCK_CHARS,
    MIN_CHUNK_REMAINDER_CHARS,
    NAMESPACE,
    Block,
    _sha256,
    _utf8,
    chunk_lines,
    decode,
    js_head,
    js_len,
    js_tail,
    js_trim,
    point_id,
    segment_hash,
)

# constants/index.ts
MAX_FILE_SIZE_BYTES = 1024 * 1024
# vector-store/qdrant-client.ts: markIndexingComplete / markIndexingIncomplete
MARKER_ID = str(uuid.uuid5(NAMESPACE, "__indexing_metadata__"))
# vector-store/qdrant-client.ts: search() (its score_threshold, 0.4, is not applied here:
# results are ranked, the score shown)
SEARCH_HNSW_EF = 128
# vector-store/qdrant-client.ts: initialize() / _createPayloadIndexes()
HNSW_M = 64
HNSW_EF_CONSTRUCT = 512
INDEXED_SEGMENTS = 5  # pathSegments.0 .. pathSegments.4
PAYLOAD_KEYS = ("filePath", "codeChunk", "startLine", "endLine")  # isPayloadValid()

# tree-sitter/index.ts `extensions` (the scanner's list, shared/supported-extensions.ts)
EXTENSIONS = frozenset(
    "." + e
    for e in (
        "tla js jsx ts vue tsx py rs go c h cpp hpp cs rb java php swift sol kt kts ex exs el "
        "html htm md markdown json css rdl ml mli lua scala toml zig elm ejs erb vb"
    ).split()
)
# shared/supported-extensions.ts fallbackExtensions: always chunked by lines
FALLBACK_EXTENSIONS = frozenset({".vb", ".scala", ".swift"})
# In the scanner's list but no parser loads for them (tree-sitter/languageParser.ts has no case
# for .htm and .elm; it loads .ejs and .erb under the key "embedded_template", which
# parser.ts then looks up as "ejs"/"erb" and does not find): parseFile returns no block at all,
# not even line chunks.
NO_PARSER_EXTENSIONS = frozenset({".htm", ".elm", ".ejs", ".erb"})
# glob/constants.ts DIRS_TO_IGNORE, as the scanner applies it (glob/ignore-utils.ts
# isPathInIgnoredDirectory, and the ripgrep globs of glob/list-files.ts): any path part equal
# to one of these names, or starting with "." (hidden files too), leaves the file out.
IGNORED_NAMES = frozenset(
    "node_modules __pycache__ env venv dist out bundle vendor tmp temp deps pkg Pods .git".split()
)
IGNORED_DIR_PAIRS = (("target", "dependency"), ("build", "dependencies"))
# What roocode-tui adds to the payload of each point it writes into Roo Code's collection, so
# that a run deletes only points it wrote (Roo Code reads only its own keys and ignores this
# one; when Roo Code writes a point with the same id, its payload replaces ours and the point
# is Roo Code's from then on).
OWNER_KEY = "indexedBy"
OWNER = "roocode-tui"

#: Roo Code's profile (RooCodeInc/Roo-Code at cb836567), the reference its successors differ from
ROO = AgentProfile(
    name="roo-code",
    key="roo",
    label="Roo Code",
    source="RooCodeInc/Roo-Code@cb836567180a3ff1da6d082f3178b90c3bd22a70",
    extensions=EXTENSIONS,
    line_chunked=FALLBACK_EXTENSIONS,
    no_parser=NO_PARSER_EXTENSIONS,
    markdown=frozenset({".md", ".markdown"}),
    ignored_names=IGNORED_NAMES,
    ignored_dir_pairs=IGNORED_DIR_PAIRS,
    root_ignore_files=(".rooignore",),
    max_file_bytes=MAX_FILE_SIZE_BYTES,
    dialect=roo_tree.ROO,
    line_chunker=chunk_lines,
    extension_id="rooveterinaryinc.roo-cline",
    cache_prefix="roo-index-cache-",
)

_NAME = re.compile(r"ws-[0-9a-f]{16}")
_WS = "[" + re.escape(_JS_WS) + "]"  # JavaScript's \\s
# tree-sitter/markdownParser.ts
_ATX = re.compile(r"(#{1,6})" + _WS + r"+([^\n\r\u2028\u2029]+)\Z")
_SETEXT_H1 = re.compile(r"={3,}" + _WS + r"*\Z")
_SETEXT_H2 = re.compile(r"-{3,}" + _WS + r"*\Z")
# validSetextTextRegex: /^\s*[^#<>!\[\]`\t]+[^\n]$/ (no u flag: it sees UTF-16 units)
_SETEXT_TEXT = re.compile(_WS + r"*[^#<>!\[\]`\t]+[^\n]\Z")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


# -- names -----------------------------------------------------------------------------------
def workspace_path(path: str | os.PathLike[str]) -> str:
    """The workspace path as Roo Code hashes it: VS Code's ``uri.fsPath`` of the opened folder,
    absolute and normalised, symlinks not resolved, no trailing separator."""
    return os.path.abspath(os.path.expanduser(os.fspath(path)))


def collection_name(workspace: str | os.PathLike[str]) -> str:
    """vector-store/qdrant-client.ts constructor: ``ws-`` + sha256(workspacePath)[:16]."""
    digest = hashlib.sha256(_utf8(workspace_path(workspace))).hexdigest()
    return f"ws-{digest[:16]}"


def is_roo_name(name: str) -> bool:
    return _NAME.fullmatch(name) is not None


def find_workspace(name: str, candidates: Iterable[str | os.PathLike[str]]) -> str | None:
    """The candidate workspace (or one of its parents) whose collection is ``name``."""
    seen: set[str] = set()
    for candidate in candidates:
        path = workspace_path(candidate)
        while path not in seen:
            seen.add(path)
            if collection_name(path) == name:
                return path
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
    return None


# -- file selection --------------------------------------------------------------------------
def ignored_path(rel: str, profile: AgentProfile = ROO) -> bool:
    """glob/ignore-utils.ts isPathInIgnoredDirectory(), with list-files.ts's ripgrep globs
    (``!**/target/dependency/**``): on the path relative to the workspace, file name included."""
    parts = [p for p in rel.replace("\\", "/").split("/") if p]
    if any(p in profile.ignored_names or (p.startswith(".") and p != ".") for p in parts):
        return True
    dirs = parts[:-1]
    return any(pair in profile.ignored_dir_pairs for pair in zip(dirs, dirs[1:], strict=False))


class RooRules:
    """Roo Code's file selection for the walker (processors/scanner.ts scanDirectory()), or
    that of the agent whose profile is given (its extensions, ignored names, ignore files).

    Its listing is ripgrep's (glob/list-files.ts: ``rg --files --hidden --follow`` with the
    ignored names as globs): hidden files included, symlinks followed, ``.ignore`` and
    ``.rgignore`` in the workspace, below it and above it; inside a git repository
    ``.gitignore`` files from the repository's root down and ``.git/info/exclude`` too, outside
    one none (ripgrep needs a repository for them). Then the scanner keeps what its own
    ``.gitignore`` (the workspace root's, read always) and ``.rooignore`` (the root's) allow, in
    its extension list, outside the ignored names, up to 1 MiB. Nothing else is left out:
    build/, target/, coverage/, lock and minified files are indexed, as Roo Code indexes them.
    (A global git excludesFile, which ripgrep also reads, is not.)"""

    def __init__(self, workspace: str | os.PathLike[str] | None = None, profile: AgentProfile = ROO):
        self.profile = profile
        self.workspace = os.path.abspath(os.fspath(workspace)) if workspace else None
        self.git_root = _git_root(self.workspace) if self.workspace else None
        in_git = self.git_root is not None
        self.ignore_files: tuple[str, ...] = (".ignore", ".rgignore") + ((".gitignore",) if in_git else ())
        self.root_ignore_files: tuple[str, ...] = profile.root_ignore_files + (() if in_git else (".gitignore",))

    def specs_above(self, root: Any) -> list[tuple[str, Any]]:
        """(the root's path relative to the directory, its spec) for each directory above the
        root whose ignore files ripgrep applies inside it, outermost first."""
        from roocode_tui.core.files.discovery import load_spec

        root_path = os.path.abspath(os.fspath(root))
        out: list[tuple[str, Any]] = []
        parent = os.path.dirname(root_path)
        chain = []
        while parent and parent != os.path.dirname(parent):
            chain.append(parent)
            parent = os.path.dirname(parent)
        git_root = _git_root(root_path) if self.git_root is not None else None
        for directory in reversed(chain):
            names = [".ignore", ".rgignore"]
            if git_root is not None and (directory + "/").startswith(git_root + "/"):
                names.append(".gitignore")
                if directory == git_root:
                    names.append(".git/info/exclude")
            spec = load_spec(Path(directory), names)
            if spec is not None:
                out.append((os.path.relpath(root_path, directory) + "/", spec))
        return out

    def dir_reason(self, name: str, rel: str, path: object) -> str | None:
        if ignored_path(rel + "/x", self.profile):
            return f"a directory {self.profile.label} never indexes"
        return None

    def file_reason(self, name: str, rel: str) -> str | None:
        label = self.profile.label
        if ignored_path(rel, self.profile):
            return f"hidden, or in a directory {label} never indexes"
        ext = os.path.splitext(name)[1].lower()
        if ext not in self.profile.extensions:
            return f"not a file type {label} indexes"
        if ext in self.profile.no_parser:
            return f"{label} has no parser for {ext} files"
        return None


def _git_root(path: str) -> str | None:
    """The git repository ``path`` is in (a ``.git`` directory or file), or None."""
    current = path
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


# -- ids and payloads ------------------------------------------------------------------------
def path_segments(file_path: str) -> dict[str, str]:
    """vector-store/qdrant-client.ts upsertPoints(): filePath split on the separator."""
    return {str(i): seg for i, seg in enumerate(s for s in file_path.split("/") if s)}


def payload(file_path: str, block: Block) -> dict[str, object]:
    """processors/scanner.ts processBatch(), plus pathSegments added by upsertPoints(), plus the
    :data:`OWNER_KEY` that marks the point as written here."""
    return {
        "filePath": file_path,
        "codeChunk": block.content,
        "startLine": block.start_line,
        "endLine": block.end_line,
        "segmentHash": block.segment_hash,
        "pathSegments": path_segments(file_path),
        OWNER_KEY: OWNER,
    }


def marker_payload(complete: bool, at_ms: int) -> dict[str, object]:
    """vector-store/qdrant-client.ts markIndexingComplete() / markIndexingIncomplete()."""
    stamp = "completed_at" if complete else "started_at"
    return {"type": "metadata", "indexing_complete": complete, stamp: at_ms}


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def ms_to_iso(ms: object) -> str | None:
    if not isinstance(ms, int | float) or isinstance(ms, bool):
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, UTC).replace(microsecond=0).isoformat()
    except (OverflowError, OSError, ValueError):
        return None


def directory_segments(prefix: str) -> list[str]:
    """vector-store/qdrant-client.ts search(): a directory prefix as pathSegments matches
    ("." or "./" is the whole workspace)."""
    cleaned = os.path.normpath(prefix.replace("\\", "/"))
    if cleaned in (".", "./"):
        return []
    return [s for s in PurePosixPath(cleaned).as_posix().split("/") if s and s != "."]


# -- chunks ----------------------------------------------------------------------------------
def split(text: str, abs_path: str, profile: AgentProfile = ROO) -> list[Block]:
    """The blocks Roo Code's parser (or the profile's agent's) makes of a file
    (processors/parser.ts parseContent()). The line-based fallback stands in for tree-sitter
    only where no grammar is available here (.rdl, .tla) or the agent's query does not compile
    against the grammar here."""
    ext = os.path.splitext(abs_path)[1].lower()
    seen: set[str] = set()
    if ext in profile.no_parser:
        return []
    if ext in profile.markdown:
        return _markdown(text, abs_path, seen, profile.line_chunker)
    if ext not in profile.line_chunked:
        try:
            return roo_tree.split(text, abs_path, ext[1:], seen, dialect=profile.dialect)
        except roo_tree.Unsupported:
            pass  # no grammar here for it: the line-based fallback stands in
    return profile.line_chunker(text.split("\n"), abs_path, seen, 1)


def _markdown_headers(text: str) -> list[tuple[int, int]]:
    """tree-sitter/markdownParser.ts parseMarkdown(): (first row, last row) of each section."""
    if not js_trim(text):
        return []
    lines = text.split("\n")
    starts: list[int] = []
    for i, line in enumerate(lines):
        if _ATX.match(line):
            starts.append(i)
            continue
        if i > 0 and (_SETEXT_H1.match(line) or _SETEXT_H2.match(line)) and _setext_text(lines[i - 1]):
            starts.append(i - 1)
    starts.sort()  # stable, as Array.prototype.sort
    return [(row, (starts[k + 1] - 1) if k + 1 < len(starts) else len(lines) - 1) for k, row in enumerate(starts)]


def _setext_text(line: str) -> bool:
    """validSetextTextRegex on the line above an underline. JavaScript matches it against UTF-16
    units, so a character outside the BMP counts as two (two stand-ins that match alike)."""
    return _SETEXT_TEXT.match(_ASTRAL.sub("\ue000\ue000", line)) is not None


def _markdown(text: str, file_path: str, seen: set[str], line_chunker: Any = chunk_lines) -> list[Block]:
    """processors/parser.ts parseMarkdownContent()."""
    lines = text.split("\n")
    sections = _markdown_headers(text)
    if not sections:
        return _markdown_section(lines, file_path, seen, 1, line_chunker)
    out: list[Block] = []
    if sections[0][0] > 0:
        out += _markdown_section(lines[: sections[0][0]], file_path, seen, 1, line_chunker)
    last = 0
    for first_row, last_row in sections:
        start, end = first_row + 1, last_row + 1
        out += _markdown_section(lines[start - 1 : end], file_path, seen, start, line_chunker)
        last = end
    if last < len(lines):
        out += _markdown_section(lines[last:], file_path, seen, last + 1, line_chunker)
    return out


def _markdown_section(
    lines: list[str], file_path: str, seen: set[str], start_line: int, line_chunker: Any = chunk_lines
) -> list[Block]:
    """processors/parser.ts processMarkdownSection()."""
    content = "\n".join(lines)
    if js_len(js_trim(content)) < MIN_BLOCK_CHARS:
        return []
    limit = MAX_BLOCK_CHARS * MAX_CHARS_TOLERANCE_FACTOR
    if js_len(content) > limit or any(js_len(line) > limit for line in lines):
        return line_chunker(lines, file_path, seen, start_line)
    digest = segment_hash(file_path, start_line, start_line + len(lines) - 1, content)
    if digest in seen:
        return []
    seen.add(digest)
    return [Block(start_line, start_line + len(lines) - 1, content, digest)]
