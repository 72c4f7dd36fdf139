"""Roo Code's tree-sitter chunker, ported (core/roo_tree.py): its blocks for real files and for
one file per rule, checked against what Roo Code's own chunker gives (tests/fixtures/roo/
expected.json, made by running Roo Code's CodeParser under node: see SOURCES.md there)."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest
from support.paths import REPO

from roocode_tui.core.agents import roo, roo_tree

ROOT = REPO
EXPECTED: dict[str, list[dict]] = json.loads((ROOT / "tests/fixtures/roo/expected.json").read_text(encoding="utf-8"))
# tree-sitter-python 0.21.0 (Roo Code's version) has wheels for x86 only; elsewhere the pack's
# newer grammar parses Python, and a few blocks differ (README, "Roo Code's index").
OLD_PYTHON = importlib.util.find_spec("tree_sitter_python") is not None


def blocks_of(rel: str) -> list[roo.Block]:
    """Our blocks for a fixture, with the path string Roo Code was given (the relative one)."""
    return roo.split(roo.decode((ROOT / rel).read_bytes()), rel)


def as_set(blocks) -> set[tuple]:
    return {(b.start_line, b.end_line, b.segment_hash, b.content) for b in blocks}


def expected_set(rel: str) -> set[tuple]:
    return {(b["start_line"], b["end_line"], b["segmentHash"], b["content"]) for b in EXPECTED[rel]}


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_blocks_are_roo_codes(rel: str):
    """Same lines, same text, same segmentHash (so the same point id): every block, no more."""
    if rel.endswith(".py") and not OLD_PYTHON:
        pytest.skip("tree-sitter-python 0.21.0 is not installable on this machine")
    ours = blocks_of(rel)
    assert as_set(ours) == expected_set(rel)
    assert len(ours) == len(EXPECTED[rel])  # deduplicated as Roo Code deduplicates


def types_of(rel: str) -> dict[str, str]:
    types: dict[str, str] = {}
    ext = os.path.splitext(rel)[1][1:]
    roo_tree.split(roo.decode((ROOT / rel).read_bytes()), rel, ext, set(), types)
    return types


def test_node_types_are_roo_codes():
    """Not stored in Qdrant, but they tell which rule made each block."""
    for rel, blocks in EXPECTED.items():
        if rel.endswith(".py") and not OLD_PYTHON:
            continue
        types = types_of(rel)
        assert {b["segmentHash"]: b["type"] for b in blocks} == types, rel


def test_an_oversize_node_gives_way_to_its_children():
    # the class (1,443 characters) is not a block; its docstring and methods are, each one
    rel = "tests/fixtures/roo/cases/oversize.py"
    ours = sorted((b.start_line, b.end_line) for b in blocks_of(rel))
    assert (1, 45) not in ours
    assert ours == [(2, 2), (4, 5)] + [(7 + 5 * i, 10 + 5 * i) for i in range(8)]
    init = next(b for b in blocks_of(rel) if b.start_line == 4)
    assert len(init.content) == 50  # exactly the minimum: kept


def test_an_oversize_leaf_is_cut_by_lines():
    # a 1,763-character comment token has no children: the fallback's line rules cut it
    rel = "tests/fixtures/roo/cases/leaf_comment.js"
    ours = sorted(blocks_of(rel), key=lambda b: b.start_line)
    assert [(b.start_line, b.end_line) for b in ours] == [(1, 16), (17, 26), (28, 30)]
    assert ours[0].content.startswith("/*\n * Line 00") and ours[1].content.endswith(" */")
    assert types_of(rel)[ours[0].segment_hash] == "comment"


def test_captures_all_short_give_no_block_and_no_captures_give_the_fallback():
    assert blocks_of("tests/fixtures/roo/cases/all_short.py") == []  # 75 characters, no fallback
    rel = "tests/fixtures/roo/cases/no_captures.py"
    text = (ROOT / rel).read_text()
    expected = roo.chunk_lines(text.split("\n"), rel, set(), 1)
    assert blocks_of(rel) == expected and len(expected) == 2
    assert set(types_of(rel).values()) == {"fallback_chunk"}


def test_lengths_are_utf16_units():
    # function a is 49 code points but 50 UTF-16 units (one emoji): a block; b is 49 units: none
    rel = "tests/fixtures/roo/cases/emoji.ts"
    (block,) = blocks_of(rel)
    assert block.content.startswith("function a") and len(block.content) == 49
    assert roo.js_len(block.content) == 50


def test_one_node_captured_twice_is_one_block():
    # the generator matches the function pattern and the generator pattern
    (block,) = blocks_of("tests/fixtures/roo/cases/dedup.py")
    assert (block.start_line, block.end_line) == (1, 4)


def test_rust_comments_as_roo_codes_grammar_shapes_them():
    # tree-sitter-rust 0.20.4: a `///` comment ends before its newline, on its own line
    blocks = [b for b in blocks_of("tests/fixtures/code/scopeguard.rs") if b.content.startswith("///")]
    assert blocks and all(b.start_line == b.end_line and not b.content.endswith("\n") for b in blocks)


def test_a_csharp_file_scoped_namespace_holds_what_follows_it():
    # tree-sitter-c-sharp 0.20.0 (Roo Code's): the namespace spans the file, so it is oversize
    # and its children, the doc comments among them, are blocks
    rel = "tests/fixtures/roo/MediatR_OpenBehavior.cs"
    comments = [b for b in blocks_of(rel) if b.content.startswith("///")]
    assert [b.start_line for b in comments] == [7, 12, 14, 15, 16, 17, 36, 38, 39, 40]


def test_rust_strings_as_roo_codes_grammar_shapes_them():
    # tree-sitter-rust 0.20.4: a raw string is one token (a leaf: cut by lines); a string's text
    # between escapes is a hidden node (an oversize string leaves only its quotes and escapes)
    ours = sorted((b.start_line, b.end_line) for b in blocks_of("tests/fixtures/roo/cases/strings.rs"))
    assert ours == [(1, 16), (17, 24)]


def test_javascript_loops_as_roo_codes_grammar_shapes_them():
    """tree-sitter-javascript 0.20.3 (under Roo Code's JavaScript and TypeScript grammars):
    `do ... while (c)` ends before its `;`, a for loop's initializer and condition are
    expression statements that take in their `;` (its grammar.js, for_statement)."""
    from tree_sitter import Parser

    language, _query = roo_tree._compiled("typescript", "TYPESCRIPT")
    source = b"for (i = 0, k = 1; i < n; i++) {}\nfor (let j = 0; j < n;) {}\ndo { x() } while (y);\n"
    loops = Parser(language).parse(source).root_node.children
    shaped = [roo_tree.RESHAPE["typescript"][node.type](node) for node in loops]

    def parts(node):
        return [(c.type, source[c.start_byte : c.end_byte].decode()) for c in node.children]

    assert parts(shaped[0])[2:5] == [
        ("expression_statement", "i = 0, k = 1;"),
        ("expression_statement", "i < n;"),
        ("update_expression", "i++"),
    ]
    assert parts(shaped[1])[2:4] == [("lexical_declaration", "let j = 0;"), ("expression_statement", "j < n;")]
    assert source[shaped[2].start_byte : shaped[2].end_byte] == b"do { x() } while (y)"
    rel = "tests/fixtures/roo/cases/loops.ts"
    assert any(b.content.startswith("do {") and b.content.endswith("weight00)") for b in blocks_of(rel))


def test_extension_rules():
    text = "def f():\n    return 'a line long enough to make one block of its own'\n"
    assert roo.split(text, "/w/a.ejs") == [] and roo.split(text, "/w/a.htm") == []  # no parser loads
    # .swift/.vb/.scala: always the line-based fallback, whatever the content
    assert [(b.start_line, b.end_line) for b in roo.split(text, "/w/a.swift")] == [(1, 3)]
    # .json is parsed with the JavaScript grammar and query (its object and pair patterns)
    assert set(types_of("tests/fixtures/roo/cases/settings.json").values()) == {"object", "pair"}
    # a file whose name is only an extension has none (Node's path.extname(".py") is "")
    assert roo_tree.supported("py") and not roo_tree.supported("txt")


def test_every_query_compiles_here():
    """Roo Code's queries compile against the grammars here: three patterns adapted, and Lua's
    query written again for the pack's Lua grammar, another project's than Roo Code's with other
    node names (its blocks: penlight_pretty.lua above). .rdl files get the line-based fallback
    (no SystemRDL grammar here)."""
    unsupported = {ext for ext in roo_tree.LANGUAGES if not roo_tree.supported(ext)}
    assert unsupported == set()
    assert "rdl" not in roo_tree.LANGUAGES
