"""Kilo Code v7's codebase index (extension ``kilocode.kilo-code``, CLI ``kilo``): its profile,
file selection, payloads, metadata point and cache file.

Kilo Code 7 indexes with ``packages/kilo-indexing`` (7.3.63 at maphew/kilocode 8b7b69b5, which
carries Kilo-Org/kilocode's history); bench/kilo_ref/NOTES.md has every rule with its file and
line. Its chunker is Roo Code's (:mod:`roocode_tui.core.agents.roo`), so a block has the lines,
text, segmentHash and point id Roo Code gives it, with these differences:

* the workspace path is the realpath (``AppFileSystem.resolve``): the collection name, every
  segmentHash, ``filePath`` and the cache file's name are made from it;
* 60 extensions, 23 of them always cut by lines (shared/supported-extensions.ts); an extension
  whose grammar cannot be used is cut by lines too (parser.ts ``_fallbackForUnavailableParser``),
  which always happens to ``.htm`` (no case in languageParser.ts) and ``.ejs``/``.erb`` (loaded
  under the key ``embedded_template``, looked up under their own);
* the Java query also captures a method's return type (tree-sitter/queries/java.ts);
* the scanner lists with glob (hidden names left out, symlinked directories not entered), leaves
  out ``FileIgnore``'s folders and patterns (file/ignore.ts), reads the root's ``.gitignore`` and
  ``.kilocodeignore`` only (shared/load-ignore.ts), skips files over 1 MiB and has no file cap;
* every point's payload has ``fileHash`` (sha256 of the file's text) after ``filePath``;
* the metadata point has its own id and records the embedding profile (qdrant-client.ts), which
  Kilo compares with its configuration on every start (:mod:`roocode_tui.core.agents.kilo_qdrant`);
* the cache file, Roo Code's format, lives in ``$XDG_STATE_HOME/kilo/indexing/``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from roocode_tui.core.agents import roo, roo_cache, roo_tree
from roocode_tui.core.agents.roo_blocks import _sha256, js_trim
from roocode_tui.core.errors import UsageError

KILO_COMMIT = "8b7b69b551ec7f27f94a8596776dbb9bc9602995"  # maphew/kilocode; kilo-indexing 7.3.63

# vector-store/qdrant-client.ts:12-21
MARKER_ID = "f946a536-9af4-4f1f-9f95-7d6efb4647d5"
INDEX_SCHEMA = 2
# qdrant-client.ts:476-483 isPayloadValid(): a search result without these keys is dropped
PAYLOAD_KEYS = ("filePath", "fileHash", "codeChunk", "startLine", "endLine")

# tree-sitter/index.ts:33-107 `extensions` (the scanner's list)
EXTENSIONS = frozenset(
    "." + e
    for e in (
        "bash bazel bzl build gradle ninja sh zsh css ejs erb htm html js jsx ts tsx vue c cpp cs go h "
        "hpp m mm rs swift zig ex exs java kt kts scala dart el elm lua php py r rb vb ml mli ql rdl res "
        "resi sol tla json markdown md rst sql toml yaml yml"
    ).split()
)
# shared/supported-extensions.ts:16-47 fallbackExtensions: always cut by lines
LINE_CHUNKED = frozenset(
    ".bash .bazel .bzl .build .gradle .ninja .sh .zsh .dart .elm .m .mm .ql .r .res .resi .sql .vb "
    ".yaml .yml .rst .scala .swift".split()
)
# file/ignore.ts:4-33: a path part equal to one of these (case-sensitive) leaves the file out
IGNORED_FOLDERS = frozenset(
    "node_modules bower_components .pnpm-store vendor .npm dist build out .next target bin obj .git .svn "
    ".hg .vscode .idea .turbo .output desktop .sst .cache .webkit-cache __pycache__ .pytest_cache "
    "mypy_cache .history .gradle".split()
)
# file/ignore.ts:35-49, the patterns that can match a file of a scanned extension: `**/NAME/**`,
# any directory of this name (the rest name other extensions or hidden directories)
IGNORED_DIRS = frozenset({"logs", "tmp", "temp", "coverage", ".nyc_output"})
# shared/load-ignore.ts:5: read at the workspace root only
ROOT_IGNORE_FILES = (".gitignore", ".kilocodeignore")

# tree-sitter/queries/java.ts:41-43: the method pattern also captures the return type
_ROO_METHOD = """(method_declaration
  name: (identifier) @name.definition.method) @definition.method"""
_KILO_METHOD = """(method_declaration
  type: (_) @definition.method.start ; kilocode_change
  name: (identifier) @name.definition.method) @definition.method"""
assert _ROO_METHOD in roo_tree.ROO.queries["JAVA"]
#: Roo Code's dialect with Kilo Code's Java query (grammars, other queries: Roo Code's)
DIALECT = roo_tree.ROO.extend("kilo", {}, {"JAVA": roo_tree.ROO.queries["JAVA"].replace(_ROO_METHOD, _KILO_METHOD)})

KILO = dataclasses.replace(
    roo.ROO,
    name="kilo-code",
    key="kilo",
    label="Kilo Code",
    source=f"maphew/kilocode@{KILO_COMMIT} (packages/kilo-indexing 7.3.63)",
    extensions=EXTENSIONS,
    line_chunked=LINE_CHUNKED,
    no_parser=frozenset(),  # a grammar that cannot be used gives line chunks, not nothing
    ignored_names=IGNORED_FOLDERS,
    ignored_dir_pairs=(),
    root_ignore_files=(".kilocodeignore",),
    dialect=DIALECT,
    extension_id="kilocode.kilo-code",
)


# -- names -----------------------------------------------------------------------------------
def workspace_path(path: str | os.PathLike[str]) -> str:
    """The workspace path as Kilo Code hashes it: absolute, symlinks resolved
    (packages/core/src/filesystem.ts resolve() = realpathSync(path.resolve(p)))."""
    return os.path.realpath(roo.workspace_path(path))


def collection_name(workspace: str | os.PathLike[str]) -> str:
    """qdrant-client.ts:95,104: ``ws-`` + sha256(workspace path)[:16], over the realpath."""
    return roo.collection_name(workspace_path(workspace))


# -- file selection --------------------------------------------------------------------------
def ignored_path(rel: str) -> bool:
    """glob's ``dot: false`` (a name starting with "."), FileIgnore.match()'s folders, and its
    directory patterns, on the path relative to the workspace, file name included."""
    parts = [p for p in rel.replace("\\", "/").split("/") if p]
    if any(p.startswith(".") or p in IGNORED_FOLDERS for p in parts):
        return True
    return any(p in IGNORED_DIRS for p in parts[:-1])


class KiloRules:
    """Kilo Code's file selection for the walker (processors/scanner.ts:147-170, 262-265):
    ``glob("**/*", {dot: false, nodir: true})`` (no hidden file or directory, symlinked files
    listed, symlinked directories not entered), FileIgnore's folders and patterns, the root's
    ``.gitignore`` and ``.kilocodeignore`` only (nested ``.gitignore`` files, ``.git/info/exclude``
    and ``.rooignore`` are not read, repository or not), its 60 extensions, 1 MiB, no file cap."""

    ignore_files: tuple[str, ...] = ()  # read in every directory: none
    root_ignore_files: tuple[str, ...] = ROOT_IGNORE_FILES

    def __init__(self, workspace: str | os.PathLike[str] | None = None):
        self.profile = KILO
        self.workspace = workspace_path(workspace) if workspace else None

    def specs_above(self, root: Any) -> list[tuple[str, Any]]:
        return []  # nothing above the workspace applies

    def dir_reason(self, name: str, rel: str, path: object) -> str | None:
        if ignored_path(rel + "/x"):
            return "a directory Kilo Code never indexes"
        if os.path.islink(os.fspath(path)):  # type: ignore[arg-type]
            return "a symlinked directory (Kilo Code's glob does not enter it)"
        return None

    def file_reason(self, name: str, rel: str) -> str | None:
        if ignored_path(rel):
            return "hidden, or in a directory Kilo Code never indexes"
        if os.path.splitext(name)[1].lower() not in EXTENSIONS:
            return "not a file type Kilo Code indexes"
        return None


# -- blocks and payloads ---------------------------------------------------------------------
def split(text: str, abs_path: str) -> list[roo.Block]:
    """The blocks Kilo Code's parser makes of a file (processors/parser.ts parseContent()); the
    path is the absolute one under the realpath workspace."""
    return roo.split(text, abs_path, KILO)


def file_hash(text: str) -> str:
    """scanner.ts:268,275: sha256 of the text read with ``readFile(path, "utf-8")``."""
    return _sha256(text)


def payload(file_path: str, digest: str, block: roo.Block) -> dict[str, object]:
    """scanner.ts:599-622 and qdrant-client.ts upsertPoints(), in Kilo Code's key order, plus
    the :data:`roo.OWNER_KEY` that marks the point as written here (Kilo reads only its keys)."""
    return {
        "filePath": file_path,
        "fileHash": digest,
        "codeChunk": block.content,
        "startLine": block.start_line,
        "endLine": block.end_line,
        "segmentHash": block.segment_hash,
        "pathSegments": roo.path_segments(file_path),
        roo.OWNER_KEY: roo.OWNER,
    }


def marker_payload(provider: str, model_id: str, dimension: int, complete: bool, at_ms: int) -> dict[str, object]:
    """qdrant-client.ts:721-777 markIndexingComplete() / markIndexingIncomplete()."""
    stamp = "completed_at" if complete else "started_at"
    return {
        "type": "metadata",
        "index_schema": INDEX_SCHEMA,
        "indexing_complete": complete,
        "embedding_provider": provider,
        "embedding_model_id": model_id,
        "embedding_dimension": dimension,
        stamp: at_ms,
    }


def is_marker(payload: dict[str, Any] | None) -> bool:
    return isinstance(payload, dict) and payload.get("type") == "metadata"


# embedders/ollama.ts:51-67 and model-registry.ts:24: the one model whose texts get a prefix
_PREFIXES = {("ollama", "nomic-embed-text"): "search_query: "}
MAX_ITEM_TOKENS = 8191


def prefix_of(provider: str, model_id: str) -> str:
    return _PREFIXES.get((provider, model_id), "")


def embed_text(text: str, prefix: str) -> str:
    """What Kilo Code sends its embedder for a text (documents and queries alike): the text with
    the model's prefix, unless it has it already or the prefixed text's estimate (length / 4)
    passes 8,191 tokens."""
    if not prefix or text.startswith(prefix):
        return text
    prefixed = prefix + text
    return text if -(-roo.js_len(prefixed) // 4) > MAX_ITEM_TOKENS else prefixed


def document_text(block: roo.Block, prefix: str) -> str:
    """scanner.ts:314-315: the trimmed block, as the embedder receives it."""
    return embed_text(js_trim(block.content), prefix)


# -- the cache file --------------------------------------------------------------------------
def state_dir(env: dict[str, str] | None = None, home: Path | None = None) -> Path:
    """Kilo's cache directory (packages/opencode/src/kilocode/indexing.ts:264, global.ts):
    ``$XDG_STATE_HOME/kilo/indexing``, default ``~/.local/state/kilo/indexing``."""
    env = os.environ if env is None else env
    base = (env.get("XDG_STATE_HOME") or "").replace("\n", "")
    return Path(base or (home or Path.home()) / ".local" / "state") / "kilo" / "indexing"


def cache_name(workspace: str) -> str:
    """cache-manager.ts:25-26: ``roo-index-cache-<sha256(workspace path)>.json``, the realpath."""
    return f"{KILO.cache_prefix}{_sha256(workspace_path(workspace))}.json"


def cache_path(workspace: str, dest: str | None) -> Path:
    """The cache file for ``workspace``: in ``dest`` (a directory, or the file itself when it
    ends in ``.json``), else in Kilo's cache directory (made if need be, as Kilo makes it)."""
    if dest:
        given = Path(dest).expanduser()
        if given.suffix == ".json":
            return given.absolute()
        if not given.is_dir():
            raise UsageError(f"--write-cache: {given} is not a directory (give Kilo Code's cache directory)")
        return given.absolute() / cache_name(workspace)
    return state_dir() / cache_name(workspace)


def holders(path: Path, proc: Path = Path("/proc")) -> list[str]:
    """What keeps the cache from being written now: a process of this user with the file open,
    or a Kilo Code CLI (``kilo``; the VS Code extension starts ``kilo serve``), whose server keeps
    the cache in memory and writes it back."""
    return roo_cache.processes_holding(path, proc, _kilo_cli)


def _kilo_cli(argv: list[bytes]) -> str | None:
    return "Kilo Code's CLI" if os.path.basename(argv[0].decode("utf-8", "replace")) in ("kilo", "kilocode") else None


def refuse_if_held(path: Path) -> None:
    held = holders(path)
    if held:
        raise UsageError(
            f"--write-cache: {path} is in use: {'; '.join(held)}. Close VS Code and Kilo Code's CLI "
            "and run again; Kilo Code would write its own copy over it"
        )


def write_cache(path: Path, hashes: dict[str, str]) -> None:
    """cache-manager.ts:45-50: ``JSON.stringify`` of the object (no spaces), written to a
    temporary file and renamed over the cache, so a reader sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(hashes, f, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
