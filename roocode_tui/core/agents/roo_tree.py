"""Roo Code's chunker for the files it parses with tree-sitter, ported rule by rule.

Source: src/services/code-index/processors/parser.ts (parseContent()) and
src/services/tree-sitter/languageParser.ts (loadRequiredLanguageParsers()) in RooCodeInc/Roo-Code
at commit cb836567180a3ff1da6d082f3178b90c3bd22a70. The queries are Roo Code's own
(:mod:`roocode_tui.core.agents.roo_queries`). The grammars Roo Code ships (tree-sitter-wasms 0.1.12)
are older than most that can be had here: :data:`PINNED` takes a few from wheels of Roo Code's
version (or the next), the rest come from tree-sitter-language-pack. Where a newer grammar
changed what Roo Code's query or chunker sees, the change is undone here, each case with its
reason: :data:`ADAPTED` (a pattern naming a renamed node) and :data:`RESHAPE` (a node whose
extent or children differ). Everything else is as Roo Code has it; ``bench/roo_check.py``
measures what is left.

These tables make Roo Code's :class:`Dialect` (:data:`ROO`); an agent that forked Roo Code's
chunker (Zoo Code: :mod:`roocode_tui.core.agents.zoo`) brings its own, and every function here
takes the dialect to use (Roo Code's by default).

The algorithm (parser.ts lines 152-229):

* every capture of every pattern of the language's query is a node in a queue (in capture
  order; the capture's name is never looked at);
* a node of fewer than 50 characters is dropped; one of 50..1,150 characters is a block (its
  rows, its exact text, deduplicated by segmentHash within the file); a longer node puts all its
  children, named and anonymous, at the end of the queue, and a longer node without children is
  cut by lines (``_chunkLeafNodeByLines``, the line rules of the fallback);
* a file whose query captures nothing gets the line-based fallback if it has 50 characters or
  more; a file whose captures are all too short gets no block at all.

Characters are JavaScript's (UTF-16 code units), as everywhere in :mod:`roocode_tui.core.agents.roo`.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from roocode_tui.core.agents import roo_queries as Q
from roocode_tui.core.agents.roo_blocks import Block, chunk_lines, js_len, segment_hash

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
    "tla": ("tlaplus", "TLA_PLUS"),
    "el": ("elisp", "ELISP"),
    "ex": ("elixir", "ELIXIR"),
    "exs": ("elixir", "ELIXIR"),
    # .rdl (systemrdl): Roo Code parses it, but no grammar for it is packaged for Python; those
    # files get the line-based fallback here.
}

LUA_QUERY = r"""
; Function definitions
(function_declaration
  name: (identifier) @name.definition.function) @definition.function

(function_declaration
  name: (dot_index_expression
    table: (identifier)
    field: (identifier) @name.definition.method)) @definition.method

; Table constructors (class-like structures)
(variable_declaration
  (assignment_statement
    (variable_list
      name: (identifier) @name.definition.table)
    (expression_list
      value: (table_constructor)))) @definition.table

; Variable declarations
(chunk
  (assignment_statement
    (variable_list
      name: (identifier) @name.definition.variable)) @definition.variable)

(block
  (assignment_statement
    (variable_list
      name: (identifier) @name.definition.variable)) @definition.variable)

; Local variable declarations
(variable_declaration
  (assignment_statement
    (variable_list
      name: (identifier) @name.definition.variable))) @definition.variable

(variable_declaration
  (variable_list
    name: (identifier) @name.definition.variable)) @definition.variable
"""

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
    # tree-sitter-ocaml 0.20.4 gives `module_binding`'s module_name the field `name`; later
    # versions have no field there.
    "OCAML": [
        (
            "(module_binding\n    name: (module_name) @name.definition)",
            "(module_binding\n    (module_name) @name.definition)",
        )
    ],
    # Roo Code's tree-sitter-vue (commit 7e48557) calls the root `component`; the pack's calls
    # it `document` (the same node: the whole file).
    "VUE": [("(component) @component.definition", "(document) @component.definition")],
    # Roo Code's tree-sitter-lua 2.1.3 (Azganoth's) and the pack's (tree-sitter-grammars') are
    # two projects with other node names. The same nodes, pattern by pattern: a function
    # statement, local or not, is `function_declaration`; `a.b` is `dot_index_expression`; a
    # local declaration holds an `assignment_statement` (so a plain assignment is matched
    # where statements are: in a chunk or a block); a table is `table_constructor`. Their
    # children are shaped as Roo Code's grammar has them below (_LUA).
    "LUA": [(Q.LUA, LUA_QUERY)],
}


class _Point(NamedTuple):
    row: int
    column: int


class _Span:
    """A node as Roo Code's grammar has it, where the grammar here shapes it differently."""

    __slots__ = ("children", "end_byte", "end_point", "start_byte", "start_point", "type")

    def __init__(self, node: Any, end_byte: int, end_point: Any, children: list[Any]):
        self.type, self.start_byte, self.start_point = node.type, node.start_byte, node.start_point
        self.end_byte, self.end_point, self.children = end_byte, end_point, children


def _group(kind: str, nodes: list[Any]) -> _Span:
    """A node that Roo Code's grammar has around ``nodes`` and the grammar here does not."""
    span = _Span(nodes[0], nodes[-1].end_byte, nodes[-1].end_point, list(nodes))
    span.type = kind
    return span


def _leaf(node: Any) -> _Span:
    """A node that is one token in Roo Code's grammar: no children (cut by lines when long)."""
    return _Span(node, node.end_byte, node.end_point, [])


def _rust_comment(node: Any) -> _Span:
    """tree-sitter-rust 0.20.4 (Roo Code's): a comment is one token, no children, and a line
    comment is `//` and the rest of its line without the newline. Since 0.21 comments have
    children (`//`, a doc marker, `doc_comment`) and a doc comment (`///`, `//!`) takes in the
    newline that ends it."""
    end, end_point = node.end_byte, node.end_point
    if node.type == "line_comment" and end_point.column == 0 and end_point.row > node.start_point.row:
        end, end_point = end - 1, _Point(node.start_point.row, node.start_point.column + end - 1 - node.start_byte)
    return _Span(node, end, end_point, [])


def _rust_string(node: Any) -> _Span:
    """tree-sitter-rust 0.20.4: a string's text between escapes is a hidden node, so its children
    are its quotes and escape sequences; since 0.21 that text is a `string_content` child."""
    return _Span(node, node.end_byte, node.end_point, [c for c in node.children if c.type != "string_content"])


def _csharp_file_namespace(node: Any) -> _Span:
    """tree-sitter-c-sharp 0.20.0 (Roo Code's): `namespace N;` holds the using directives and
    type declarations after it, to the end of the last one (comments between them too; trailing
    ones stay outside, as tree-sitter leaves trailing extras to the parent). Since 0.21 it is
    the one line and what follows is its siblings."""
    children = list(node.children)
    last = node
    sibling = node.next_sibling
    while sibling is not None:
        children.append(sibling)
        if not sibling.is_extra:
            last = sibling
        sibling = sibling.next_sibling
    while children and children[-1] is not last and children[-1].is_extra:
        children.pop()
    return _Span(node, last.end_byte, last.end_point, children)


def _js_do(node: Any) -> Any:
    """tree-sitter-javascript 0.20.3 (under typescript 0.20.5 too): `do ... while (c)` ends at
    its condition; the `;` after it is a statement of its own. Later versions take it in."""
    children = node.children
    if len(children) < 2 or children[-1].type != ";":
        return node
    return _Span(node, children[-2].end_byte, children[-2].end_point, children[:-1])


_JS_FOR_CLAUSES = frozenset({"lexical_declaration", "variable_declaration", "empty_statement", "(", ")", ";"})


def _js_for(node: Any) -> Any:
    """tree-sitter-javascript 0.20.3: a `for (;;)` loop's initializer and condition, when they
    are expressions, are `expression_statement` nodes that take in their `;`. Later versions
    have the expression and the `;` side by side."""
    children = list(node.children)
    out: list[Any] = []
    i, clauses = 0, 0
    while i < len(children):
        child = children[i]
        if (
            clauses < 2
            and out
            and out[0].type == "for"
            and child.type not in _JS_FOR_CLAUSES
            and i + 1 < len(children)
            and children[i + 1].type == ";"
        ):
            semicolon = children[i + 1]
            out.append(_group("expression_statement", [child, semicolon]))
            i += 2
            clauses += 1
            continue
        if child.type in ("lexical_declaration", "variable_declaration", "empty_statement"):
            clauses += 1
        out.append(child)
        i += 1
        if child.type == ")":
            clauses = 2
    if len(out) == len(children):
        return node
    return _Span(node, node.end_byte, node.end_point, out)


_JS = {"do_statement": _js_do, "for_statement": _js_for}


# The pack's Lua node types under the names tree-sitter-lua 2.1.3 (Roo Code's) gives them.
_LUA_NAMES = {
    "variable_declaration": "local_variable_declaration",
    "assignment_statement": "variable_assignment",
    "table_constructor": "table",
    "function_call": "call",
    "arguments": "argument_list",
    "elseif_statement": "elseif_clause",
    "else_statement": "else_clause",
    "dot_index_expression": "variable",
    "method_index_expression": "variable",
    "bracket_index_expression": "variable",
}


def _lua(node: Any) -> _Span:
    """A Lua node as tree-sitter-lua 2.1.3 (Roo Code's) shapes it: a function's parameters are
    the parentheses and, between them, a `parameter_list`; a call's arguments in parentheses
    hold one `expression_list`; a table's fields are a `field_list` between its braces; a
    local declaration is `local`, the names, `=` and the values (no assignment node); a `for`
    has its clause's parts as its own. Same spans, other names: ``_LUA_NAMES``."""
    kind = node.type
    children: list[Any] = []
    for child in node.children:
        inner = child.children[1:-1]
        if child.type == "parameters" and inner:
            children += [child.children[0], _group("parameter_list", inner), child.children[-1]]
        elif child.type in ("for_generic_clause", "for_numeric_clause") or (
            child.type == "assignment_statement" and kind == "variable_declaration"
        ):
            children += child.children
        else:
            children.append(child)
    if kind == "arguments" and node.children and node.children[0].type == "(" and len(node.children) > 2:
        children = [node.children[0], _group("expression_list", node.children[1:-1]), node.children[-1]]
    elif kind == "table_constructor" and len(node.children) > 2:
        children = [node.children[0], _group("field_list", node.children[1:-1]), node.children[-1]]
    span = _Span(node, node.end_byte, node.end_point, children)
    if kind == "function_declaration":
        local = node.children and node.children[0].type == "local"
        span.type = "local_function_definition_statement" if local else "function_definition_statement"
    elif kind == "for_statement":
        clause = node.child_by_field_name("clause")
        numeric = clause is not None and clause.type == "for_numeric_clause"
        span.type = "for_numeric_statement" if numeric else "for_generic_statement"
    else:
        span.type = _LUA_NAMES.get(kind, kind)
    return span


_LUA = {
    **dict.fromkeys(("function_declaration", "function_definition", "for_statement", *_LUA_NAMES), _lua),
    "comment": _leaf,  # one token in tree-sitter-lua 2.1.3 (and a string): cut by lines when long
    "string": _leaf,
}

# grammar -> node type -> the node as Roo Code's grammar shapes it
RESHAPE: dict[str, dict[str, Any]] = {
    "rust": {
        "line_comment": _rust_comment,
        "block_comment": _rust_comment,
        # tree-sitter-rust 0.20.4: a raw string (`r#"..."#`) is one token from its external
        # scanner; since 0.21 it has children (its delimiters and a `string_content`)
        "raw_string_literal": _leaf,
        "string_literal": _rust_string,
    },
    "csharp": {"file_scoped_namespace_declaration": _csharp_file_namespace},
    "lua": _LUA,
    "javascript": _JS,
    "typescript": _JS,
    "tsx": _JS,
}

MIN = 50  # MIN_BLOCK_CHARS
MAX = 1150  # MAX_BLOCK_CHARS * MAX_CHARS_TOLERANCE_FACTOR


class Unsupported(Exception):
    """No grammar or no compilable query here for a language the agent parses."""


# Grammars taken from their own pinned wheels instead of tree-sitter-language-pack, because the
# pack's newer version parses differently from the one Roo Code ships (tree-sitter-wasms 0.1.12:
# python 0.21.0, go 0.20.0) in ways that change blocks; these are the oldest versions on PyPI,
# the same or the next after Roo Code's. grammar -> module (its ``language()`` is a pointer).
PINNED = {
    "python": "tree_sitter_python",
    "go": "tree_sitter_go",
    # The pack's zig is another project's grammar (different node names); tree-sitter-zig 1.0.0
    # is the one Roo Code ships. The pack has no tlaplus; 1.2.5 is the release after Roo Code's.
    "zig": "tree_sitter_zig",
    "tlaplus": "tree_sitter_tlaplus",
}


@dataclass(frozen=True)
class Dialect:
    """The tree-sitter half of an agent's chunker: which grammar and which of the agent's
    queries parse each extension, and how the grammars here are brought back to the agent's.

    ``languages``: extension (lower case, no dot) -> (grammar, query name), as the agent's
    languageParser.ts maps them. ``queries``: query name -> the query's text as the agent ships
    it. ``adapted``: query name -> [(the agent's text, the text used here)], the smallest edits
    that make a query compile against a newer grammar (:data:`ADAPTED`). ``pinned``: grammar ->
    the Python module to take it from instead of tree-sitter-language-pack (:data:`PINNED`).
    ``reshape``: grammar -> node type -> a function giving the node as the agent's grammar
    shapes it (:data:`RESHAPE`). The rules for nodes (sizes, children, line chunks) are the
    same for every dialect; an agent whose rules differ brings its own splitter."""

    name: str
    languages: Mapping[str, tuple[str, str]]
    queries: Mapping[str, str]
    adapted: Mapping[str, Sequence[tuple[str, str]]] = field(default_factory=dict)
    pinned: Mapping[str, str] = field(default_factory=dict)
    reshape: Mapping[str, Mapping[str, Callable[[Any], Any]]] = field(default_factory=dict)

    def extend(self, name: str, languages: Mapping[str, tuple[str, str]], queries: Mapping[str, str]) -> Dialect:
        """This dialect with more extensions and queries (an agent that adds languages)."""
        return Dialect(
            name,
            {**self.languages, **languages},
            {**self.queries, **queries},
            self.adapted,
            self.pinned,
            self.reshape,
        )


#: Roo Code's (commit cb836567): its queries (roo_queries.py), grammars closest to
#: tree-sitter-wasms 0.1.12
ROO = Dialect(
    "roo",
    LANGUAGES,
    {query: getattr(Q, query) for _grammar, query in LANGUAGES.values()},
    ADAPTED,
    PINNED,
    RESHAPE,
)


def _language(grammar: str, pinned: Mapping[str, str] = PINNED) -> Any:
    from tree_sitter import Language

    if grammar in pinned:
        import importlib
        import warnings

        try:
            module = importlib.import_module(pinned[grammar])
        except ImportError:  # tree-sitter-python 0.21.0 has wheels for x86 machines only
            module = None
        if module is not None:
            with warnings.catch_warnings():  # 0.21 wheels hand over an int, which py-tree-sitter deprecates
                warnings.simplefilter("ignore", DeprecationWarning)
                return Language(module.language())
    from tree_sitter_language_pack import get_language

    return get_language(grammar)  # type: ignore[arg-type]


_COMPILED: dict[tuple[str, str, str], tuple[Any, Any] | Unsupported] = {}
_compile_lock = threading.Lock()


def _compiled(grammar: str, query_name: str, dialect: Dialect = ROO) -> tuple[Any, Any]:
    """(language, query) for a dialect's grammar and query, compiled once."""
    key = (dialect.name, grammar, query_name)
    found = _COMPILED.get(key)
    if found is None:
        with _compile_lock:
            found = _COMPILED.get(key)
            if found is None:
                found = _COMPILED[key] = _compile(grammar, query_name, dialect)
    if isinstance(found, Unsupported):
        raise found
    return found


def _compile(grammar: str, query_name: str, dialect: Dialect) -> tuple[Any, Any] | Unsupported:
    from tree_sitter import Query

    try:
        language = _language(grammar, dialect.pinned)
    except Exception as exc:  # the pack raises its own lookup errors
        return Unsupported(f"no {grammar} grammar: {exc}")
    text = dialect.queries[query_name]
    for old, new in dialect.adapted.get(query_name, ()):
        assert old in text, (query_name, old)
        text = text.replace(old, new)
    try:
        return language, Query(language, text)
    except Exception as exc:  # QueryError and friends
        return Unsupported(f"{query_name} does not compile: {exc}")


_local = threading.local()


def _parser(grammar: str, language: Any) -> Any:
    from tree_sitter import Parser

    parsers = _local.__dict__.setdefault("parsers", {})
    parser = parsers.get((grammar, id(language)))
    if parser is None:
        parser = parsers[(grammar, id(language))] = Parser(language)
    return parser


def supported(ext: str, dialect: Dialect = ROO) -> bool:
    """Whether files with this extension (no dot, lower case) are parsed here as the agent does."""
    if ext not in dialect.languages:
        return False
    try:
        _compiled(*dialect.languages[ext], dialect)
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


def split(
    text: str,
    file_path: str,
    ext: str,
    seen: set[str],
    types: dict[str, str] | None = None,
    dialect: Dialect = ROO,
) -> list[Block]:
    """parser.ts parseContent() for a tree-sitter file. Raises :class:`Unsupported` when this
    extension cannot be parsed here as the agent parses it. ``types``, if given, receives each
    block's type as the agent names it (segmentHash -> node type, ``fallback_chunk``...)."""
    if ext not in dialect.languages:
        raise Unsupported(f"no parser for .{ext}")
    grammar, query_name = dialect.languages[ext]
    language, query = _compiled(grammar, query_name, dialect)
    source = text.encode("utf-8", "surrogatepass")
    tree = _parser(grammar, language).parse(source)
    queue = deque(capture_nodes(query, tree.root_node))
    if not queue:
        if js_len(text) >= MIN:
            return _typed(chunk_lines(text.split("\n"), file_path, seen, 1), "fallback_chunk", types)
        return []
    ascii_source = text.isascii()
    reshape = dialect.reshape.get(grammar, {})
    results: list[Block] = []
    while queue:
        node = queue.popleft()
        if node.type in reshape:
            node = reshape[node.type](node)
        start, end = node.start_byte, node.end_byte
        if end - start < MIN:  # a UTF-16 unit takes one UTF-8 byte or more
            continue
        if ascii_source:
            content = source[start:end].decode("ascii")
            length = end - start
        else:
            content = source[start:end].decode("utf-8", "surrogatepass")
            length = js_len(content)
            if length < MIN:
                continue
        if length > MAX:
            children = node.children
            if children:
                queue.extend(children)
            else:  # _chunkLeafNodeByLines
                chunks = chunk_lines(content.split("\n"), file_path, seen, node.start_point.row + 1)
                results += _typed(chunks, node.type, types)
            continue
        first, last = node.start_point.row + 1, node.end_point.row + 1
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
