"""Code units by syntax tree: where each definition of a file starts and ends, and its name.

The chunker keeps a definition whole when it fits in a chunk, splits a large one at its
members, and merges small neighbours (``chunking.Chunker``). This module finds the units:
tree-sitter parses the file (grammars compiled into the ``tree-sitter-language-pack`` wheel,
nothing downloaded), and ``syntax_rules`` says per grammar which nodes are definitions, what
they are called in a breadcrumb (``impl Display for Foo > fn fmt``), where their name is and
which hold members. Comments and attributes right above a definition (no blank line between)
belong to it: a doc comment stays with what it documents.

A unit is (first line, last line, breadcrumb, node), 1-based and inclusive: chunks keep exact
line numbers. A file that mostly does not parse (a fragment, another language) gets no units
and the chunker falls back to its separators.
"""

from __future__ import annotations

import threading
from typing import Any

from roocode_tui.core.chunking import syntax_rules as rules

Unit = tuple[int, int, str, Any]  # (first line, last line, breadcrumb, (grammar, node) or None)

#: our language ids (languages.detect_language) -> the grammar that parses them
GRAMMARS = {
    "typescript": "typescript",
    "tsx": "tsx",
    "javascript": "javascript",
    "jsx": "javascript",
    "go": "go",
    "rust": "rust",
    "java": "java",
    "c": "c",
    "cpp": "cpp",
    "csharp": "csharp",
    "ruby": "ruby",
    "php": "php",
    "kotlin": "kotlin",
    "swift": "swift",
    "scala": "scala",
    "lua": "lua",
    "bash": "bash",
    "elixir": "elixir",
    "solidity": "solidity",
    "zig": "zig",
    "emacs-lisp": "elisp",
    "ocaml": "ocaml",
    "vue": "vue",
    "toml": "toml",
    "json": "json",
    "yaml": "yaml",
    # Python is cut by its own ``ast`` (chunking._python_units): measured as good, and exact
    # for every version of the language the interpreter reads.
}

#: breadcrumb words that name a definition (the chunk's header spells its name out in words)
LABELS = frozenset(
    word for table in rules.LANGS.values() for label in table["definitions"].values() for word in label.split()[:1]
) | {"def", "class", "fn", "func", "function", "method", "struct", "interface", "type", "var"}

_local = threading.local()


def _parser(grammar: str) -> Any:
    cache = getattr(_local, "parsers", None)
    if cache is None:
        cache = _local.parsers = {}
    parser = cache.get(grammar)
    if parser is None:
        from tree_sitter_language_pack import get_parser

        parser = cache[grammar] = get_parser(grammar)  # type: ignore[arg-type]
    return parser


def supported(language: str) -> bool:
    return language in GRAMMARS


def parse(grammar: str, text: str) -> Any:
    return _parser(grammar).parse(text.encode("utf-8", "surrogatepass"))


def units(language: str, text: str) -> list[Unit] | None:
    """The top-level units of a file, or None when it has no grammar or does not parse."""
    grammar = GRAMMARS.get(language)
    if grammar is None:
        return None
    try:
        root = parse(grammar, text).root_node
    except Exception:
        return None
    top = root.named_children
    if not top:
        return None
    broken = sum(1 for n in top if n.type == "ERROR")
    if broken * 2 > len(top):  # mostly not this language (or a fragment): the separators do better
        return None
    last = text.count("\n") + 1
    parents = rules.unit_parents(grammar, root)
    if not parents:
        return None
    if len(parents) == 1:
        return units_of(grammar, parents[0], 1, last, "")
    out: list[Unit] = []  # YAML documents: one after another
    cursor = 1
    for parent in parents:
        inner = [u for u in units_of(grammar, parent, cursor, last, "") if u[3] is not None]
        for u in inner:
            if u[0] > cursor:
                out.append((cursor, u[0] - 1, "", None))
            out.append(u)
            cursor = u[1] + 1
    if cursor <= last:
        out.append((cursor, last, "", None))
    return out


def inner_units(ref: Any, first: int, last: int, crumb: str) -> list[Unit] | None:
    """A large definition's units (``ref``: a unit's node): its members, with the lines before
    the first and after the last member as units of their own; None when it holds no members."""
    grammar, node = ref
    offset = 0
    if grammar == "vue" and node.type == "script_element":
        # The script is raw text to the Vue grammar: parse it in its own language, its rows
        # shifted to the file's.
        raw = rules._first(node, "raw_text")
        if raw is None or raw.text is None:
            return None
        grammar, offset = rules.vue_script_language(node), raw.start_point.row
        try:
            body = _parser(grammar).parse(raw.text).root_node
        except Exception:
            return None
    else:
        body = rules.def_body(grammar, node)
    if body is None:
        return None
    inner = units_of(grammar, body, first, last, crumb, offset)
    return inner if len(inner) > 1 and any(u[3] is not None for u in inner) else None


def units_of(grammar: str, parent: Any, first: int, last: int, crumb: str, offset: int = 0) -> list[Unit]:
    """Units of the lines first..last holding ``parent``'s definitions: each definition (with
    the comments and attributes right above it), and the lines between definitions.
    ``offset``: rows of this tree start at that row of the file (a Vue script)."""
    out: list[Unit] = []
    cursor = first
    for node, label, name in rules.members(grammar, parent):
        start = rules.leading_start_row(grammar, node) + 1 + offset
        end = min(rules.last_row(node) + 1 + offset, last)
        start = max(start, cursor)
        if end < start:
            continue  # on a line a unit already holds
        if start > cursor:
            out.append((cursor, start - 1, crumb, None))
        symbol = f"{label} {' '.join(name.split())}" if name else label
        out.append((start, end, f"{crumb} > {symbol}" if crumb else symbol, (grammar, node)))
        cursor = end + 1
    if cursor <= last:
        out.append((cursor, last, crumb, None))
    return out
