"""Roo Code's chunker for the files it parses with tree-sitter, ported rule by rule.

Source: src/services/code-index/processors/parser.ts (parseContent()) and
src/services/tree-sitter/languageParser.ts (loadRequiredLanguageParsers()) in RooCodeInc/Roo-Code
at commit cb836567180a3ff1da6d082f3178b90c3bd22a70. The queries are Roo Code's own
(:mod:`roocode_tui.core.roo_queries`); the grammars are tree-sitter-language-pack's, which are
newer than the ones Roo Code ships (tree-sitter-wasms 0.1.12). Where a query pattern names a node
type the newer grammar no longer has, :data:`ADAPTED` holds the pattern as changed here, with the
reason; everything else is as Roo Code has it.

The algorithm (parser.ts lines 152-229):

* every capture of every pattern of the language's query is a node in a queue (in capture
  order; the capture's name is never looked at);
* a node of fewer than 50 characters is dropped; one of 50..1,150 characters is a block (its
  rows, its exact text, deduplicated by segmentHash within the file); a longer node puts all its
  children, named and anonymous, at the end of the queue, and a longer node without children is
  cut by lines (``_chunkLeafNodeByLines``, the line rules of the fallback);
* a file whose query captures nothing gets the line-based fallback if it has 50 characters or
  more; a file whose captures are all too short gets no block at all.

Characters are JavaScript's (UTF-16 code units), as everywhere in :mod:`roocode_tui.core.roo`.
"""

from __future__ import annotations

import functools
import threading
from collections import deque
from typing import TYPE_CHECKING, Any

from roocode_tui.core import roo_queries as Q

if TYPE_CHECKING:
    from roocode_tui.core.roo import Block

# languageParser.ts: extension (lower case, no dot) -> (wasm grammar, query). The grammar is
# named as tree-sitter-language-pack names it. .json is parsed as JavaScript, .h as C, .mli with
# the OCaml (implementation) grammar, exactly as Roo Code does.
LANGUAGES: dict[str, tuple[str, str]] = {
    "js": ("javascript", "JAVASCRIPT"),
    "jsx": ("javascript", "JAVASCRIPT"),
    "json": ("javascript", "JAVASCRIPT"),
    "ts": ("typescript", "TYPESCRIPT"),
    "tsx": ("tsx", "TSX"),
    "py": ("python", "PYTHON"),
    "rs": ("rust", "RUST"),
    "go": ("go", "GO"),
    "cpp": ("cpp", "CPP"),
    "hpp": ("cpp", "CPP"),
    "c": ("c", "C"),
    "h": ("c", "C"),
    "cs": ("csharp", "CSHARP"),
    "rb": ("ruby", "RUBY"),
    "java": ("java", "JAVA"),
    "php": ("php", "PHP"),
    "kt": ("kotlin", "KOTLIN"),
    "kts": ("kotlin", "KOTLIN"),
    "css": ("css", "CSS"),
    "html": ("html", "HTML"),
    "ml": ("ocaml", "OCAML"),
    "mli": ("ocaml", "OCAML"),
    "sol": ("solidity", "SOLIDITY"),
    "toml": ("toml", "TOML"),
    "vue": ("vue", "VUE"),
    "lua": ("lua", "LUA"),
    "zig": ("zig", "ZIG"),
    "el": ("elisp", "ELISP"),
    "ex": ("elixir", "ELIXIR"),
    "exs": ("elixir", "ELIXIR"),
    # .rdl (systemrdl) and .tla (tlaplus): Roo Code parses them, but tree-sitter-language-pack
    # has no grammar for either; those files get the line-based fallback here.
}

# Patterns changed so that the query compiles against the pack's grammar: query name ->
# [(Roo Code's text, the text used here)]. Each replacement is the smallest change that keeps
# what the pattern captures; the reason is given with it.
ADAPTED: dict[str, list[tuple[str, str]]] = {
    # tree-sitter-php 0.22.2 (Roo Code's) puts an anonymous class's body directly in the
    # `object_creation_expression`; later versions wrap class, arguments and body in an
    # `anonymous_class` node. The captured node is the same `object_creation_expression`.
    "PHP": [
        (
            "(object_creation_expression\n  (declaration_list)) @definition.anonymous_class",
            "(object_creation_expression\n  (anonymous_class (declaration_list))) @definition.anonymous_class",
        )
    ],
}

# Node shapes that changed between the grammar Roo Code ships and the one used here, restored
# as Roo Code sees them: grammar -> node types that are leaves there (no children: an oversize
# one is cut by lines, not split into its children), and node types whose text there stops
# before the newline that ends them here.
#   rust: tree-sitter-rust 0.20.4's comments are single tokens, `line_comment` is `//` and the
#   rest of the line, without its newline; since 0.21 comments have children (`//`, a doc
#   marker, `doc_comment`) and a doc comment (`///`, `//!`) takes in its line's newline.
LEAVES: dict[str, frozenset[str]] = {"rust": frozenset({"line_comment", "block_comment"})}
NEWLINE_OUTSIDE: dict[str, frozenset[str]] = {"rust": frozenset({"line_comment"})}

MIN = 50  # MIN_BLOCK_CHARS
MAX = 1150  # MAX_BLOCK_CHARS * MAX_CHARS_TOLERANCE_FACTOR


class Unsupported(Exception):
    """No grammar or no compilable query here for a language Roo Code parses."""


# Grammars taken from their own pinned wheels instead of tree-sitter-language-pack, because the
# pack's newer version parses differently from the one Roo Code ships (tree-sitter-wasms 0.1.12:
# python 0.21.0, go 0.20.0) in ways that change blocks; these are the oldest versions on PyPI,
# the same or the next after Roo Code's. grammar -> module (its ``language()`` is a pointer).
PINNED = {"python": "tree_sitter_python", "go": "tree_sitter_go"}


def _language(grammar: str) -> Any:
    from tree_sitter import Language

    if grammar in PINNED:
        import importlib
        import warnings

        module = importlib.import_module(PINNED[grammar])
        with warnings.catch_warnings():  # 0.21 wheels hand over an int, which py-tree-sitter deprecates
            warnings.simplefilter("ignore", DeprecationWarning)
            return Language(module.language())
    from tree_sitter_language_pack import get_language

    return get_language(grammar)  # type: ignore[arg-type]


@functools.cache
def _compiled(grammar: str, query_name: str) -> tuple[Any, Any]:
    from tree_sitter import Query

    try:
        language = _language(grammar)
    except Exception as exc:  # the pack raises its own lookup errors
        raise Unsupported(f"no {grammar} grammar: {exc}") from exc
    text = getattr(Q, query_name)
    for old, new in ADAPTED.get(query_name, ()):
        assert old in text, (query_name, old)
        text = text.replace(old, new)
    try:
        return language, Query(language, text)
    except Exception as exc:  # QueryError and friends
        raise Unsupported(f"{query_name} does not compile: {exc}") from exc


_local = threading.local()


def _parser(grammar: str, language: Any) -> Any:
    from tree_sitter import Parser

    parsers = _local.__dict__.setdefault("parsers", {})
    parser = parsers.get(grammar)
    if parser is None:
        parser = parsers[grammar] = Parser(language)
    return parser


def supported(ext: str) -> bool:
    """Whether files with this extension (no dot, lower case) are parsed here as Roo Code does."""
    if ext not in LANGUAGES:
        return False
    try:
        _compiled(*LANGUAGES[ext])
    except Unsupported:
        return False
    return True


def capture_nodes(query: Any, root: Any) -> list[Any]:
    """``query.captures(rootNode)`` as web-tree-sitter returns it: every capture of every match
    (text predicates applied), by start of the node, then pattern, then place in the match."""
    from tree_sitter import QueryCursor

    found = []
    for pattern, captures in QueryCursor(query).matches(root):
        for names_index, nodes in enumerate(captures.values()):
            for node_index, node in enumerate(nodes):
                found.append((node.start_byte, pattern, names_index, node_index, node))
    found.sort(key=lambda row: row[:4])
    return [row[4] for row in found]


def split(text: str, file_path: str, ext: str, seen: set[str], types: dict[str, str] | None = None) -> list[Block]:
    """parser.ts parseContent() for a tree-sitter file. Raises :class:`Unsupported` when this
    extension cannot be parsed here as Roo Code parses it. ``types``, if given, receives each
    block's type as Roo Code names it (segmentHash -> node type, ``fallback_chunk``...)."""
    from roocode_tui.core.roo import Block, _chunk_lines, js_len, segment_hash

    if ext not in LANGUAGES:
        raise Unsupported(f"no parser for .{ext}")
    grammar, query_name = LANGUAGES[ext]
    language, query = _compiled(grammar, query_name)
    source = text.encode("utf-8", "surrogatepass")
    tree = _parser(grammar, language).parse(source)
    queue = deque(capture_nodes(query, tree.root_node))
    if not queue:
        if js_len(text) >= MIN:
            return _typed(_chunk_lines(text.split("\n"), file_path, seen, 1), "fallback_chunk", types)
        return []
    ascii_source = text.isascii()
    leaves = LEAVES.get(grammar, frozenset())
    newline_outside = NEWLINE_OUTSIDE.get(grammar, frozenset())
    results: list[Block] = []
    while queue:
        node = queue.popleft()
        start, end = node.start_byte, node.end_byte
        last_row = node.end_point.row
        if newline_outside and node.type in newline_outside and source[end - 1 : end] == b"\n":
            end -= 1
            last_row -= 1
        if ascii_source:
            if end - start < MIN:
                continue
            content = source[start:end].decode("ascii")
            length = end - start
        else:
            if end - start < MIN:  # a UTF-16 unit takes one UTF-8 byte or more
                continue
            content = source[start:end].decode("utf-8", "surrogatepass")
            length = js_len(content)
            if length < MIN:
                continue
        if length > MAX:
            children = node.children if node.type not in leaves else None
            if children:
                queue.extend(children)
            else:  # _chunkLeafNodeByLines
                chunks = _chunk_lines(content.split("\n"), file_path, seen, node.start_point.row + 1)
                results += _typed(chunks, node.type, types)
            continue
        first, last = node.start_point.row + 1, last_row + 1
        digest = segment_hash(file_path, first, last, content)
        if digest not in seen:
            seen.add(digest)
            results.append(Block(first, last, content, digest))
            if types is not None:
                types[digest] = node.type
    return results


def _typed(blocks: list[Block], kind: str, types: dict[str, str] | None) -> list[Block]:
    if types is not None:
        for block in blocks:  # (an over-long line's pieces are "<kind>_segment" to Roo Code)
            types[block.segment_hash] = kind
    return blocks
