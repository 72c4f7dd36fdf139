"""Zoo Code's index (core/agents/zoo.py): its blocks for real files, checked against what Zoo
Code's own chunker gives (tests/fixtures/zoo/expected.json, made by running Zoo Code's
CodeParser under node: see SOURCES.md there), and its profile beside Roo Code's."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import importlib.util
import json
import os

import pytest
from support.paths import REPO

from roocode_tui.core.agents import roo, roo_cache, roo_tree, zoo, zoo_qdrant

ROOT = REPO
FIXTURES = ROOT / "tests/fixtures"
EXPECTED: dict[str, list[dict]] = json.loads((FIXTURES / "zoo/expected.json").read_text(encoding="utf-8"))
# Roo Code's blocks for the Zig file, made by Roo Code's chunker (tree-sitter-wasms 0.1.12)
ROO_EXPECTED: dict[str, list[dict]] = json.loads((FIXTURES / "zoo/roo_expected.json").read_text(encoding="utf-8"))
ROO_FIXTURES: dict[str, list[dict]] = json.loads((FIXTURES / "roo/expected.json").read_text(encoding="utf-8"))
OLD_PYTHON = importlib.util.find_spec("tree_sitter_python") is not None
# Zoo Code's Zig grammar is tree-sitter-zig 1.1 (tree-sitter-wasms 0.1.13); the one installed here
# is Roo Code's, 1.0.0 (one version can be installed), which captures one more block of this file.
ZIG_1_1 = importlib.metadata.version("tree-sitter-zig") >= "1.1"


def blocks_of(rel: str, profile=zoo.ZOO) -> list[roo.Block]:
    """Our blocks for a fixture, with the path string the agent was given (the relative one)."""
    return roo.split(roo.decode((ROOT / rel).read_bytes()), rel, profile)


def as_set(blocks) -> set[tuple]:
    return {(b.start_line, b.end_line, b.segment_hash, b.content) for b in blocks}


def expected_set(blocks: list[dict]) -> set[tuple]:
    return {(b["start_line"], b["end_line"], b["segmentHash"], b["content"]) for b in blocks}


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_blocks_are_zoo_codes(rel: str):
    """Same lines, same text, same segmentHash (so the same point id): every block, no more."""
    ours = as_set(blocks_of(rel))
    theirs = expected_set(EXPECTED[rel])
    if rel.endswith(".zig") and not ZIG_1_1:
        # tree-sitter-zig 1.0.0 parses `true` as an identifier: Roo Code's query captures the
        # assignment `... = true;` as a variable declaration (line 178); 1.1 parses a boolean
        extra = expected_set(ROO_EXPECTED[rel]) - theirs
        assert [row[:2] for row in extra] == [(178, 178)]
        assert ours == theirs | extra
        return
    assert ours == theirs
    assert len(blocks_of(rel)) == len(EXPECTED[rel])  # deduplicated as Zoo Code deduplicates


def test_node_types_are_zoo_codes():
    for rel, blocks in EXPECTED.items():
        if rel.endswith(".zig") or rel.endswith(".txt"):
            continue
        types: dict[str, str] = {}
        ext = os.path.splitext(rel)[1][1:]
        roo_tree.split(roo.decode((ROOT / rel).read_bytes()), rel, ext, set(), types, zoo.ZOO.dialect)
        assert {b["segmentHash"]: b["type"] for b in blocks} == types, rel


def test_roo_profile_still_gives_roo_codes_blocks():
    """The same Zig file under Roo Code's profile: Roo Code's blocks (its grammar is the one here)."""
    for rel, blocks in ROO_EXPECTED.items():
        assert as_set(blocks_of(rel, roo.ROO)) == expected_set(blocks)


@pytest.mark.parametrize("rel", sorted(ROO_FIXTURES))
def test_zoo_gives_roo_codes_blocks_for_roo_codes_languages(rel: str):
    """Zoo Code's own chunker gives exactly Roo Code's blocks for every file of
    tests/fixtures/roo/ (checked under node), and so does its profile here."""
    if rel.endswith(".py") and not OLD_PYTHON:
        pytest.skip("tree-sitter-python 0.21.0 is not installable on this machine")
    assert as_set(blocks_of(rel)) == expected_set(ROO_FIXTURES[rel])


def test_txt_is_chunked_by_lines_and_dart_parsed():
    text = (FIXTURES / "zoo/click_LICENSE.txt").read_text()
    assert blocks_of("tests/fixtures/zoo/click_LICENSE.txt") == roo.chunk_lines(
        text.split("\n"), "tests/fixtures/zoo/click_LICENSE.txt", set(), 1
    )
    # Roo Code does not index either
    assert roo.ROO.extensions.isdisjoint({".txt", ".dart"})
    assert zoo.ZOO.extensions == roo.ROO.extensions | {".txt", ".dart"}
    assert zoo.ZOO.line_chunked == {".txt", ".vb", ".scala", ".swift"}
    assert roo_tree.supported("dart", zoo.ZOO.dialect) and not roo_tree.supported("dart")


def test_top_level_dart_functions_are_signatures_only():
    """Zoo Code's Dart query captures a top-level function's signature (the body is its
    sibling in the grammar): short signatures make no block, so `convert`, `parseShape` and
    `main` are not indexed; a class over 1,150 characters gives way to its members."""
    rel = "tests/fixtures/zoo/cases/shapes.dart"
    starts = {b.start_line for b in blocks_of(rel)}
    assert not starts & {86, 96, 112}
    assert 35 not in starts and {41, 56, 70} <= starts  # class Rectangle: too long, its children


def test_file_selection():
    rules = roo.RooRules(None, zoo.ZOO)
    assert rules.file_reason("notes.txt", "docs/notes.txt") is None
    assert rules.file_reason("main.dart", "lib/main.dart") is None
    assert roo.RooRules(None).file_reason("notes.txt", "docs/notes.txt") == "not a file type Roo Code indexes"
    assert rules.file_reason("x.dart", "build/.dart_tool/x.dart") == "hidden, or in a directory Zoo Code never indexes"
    assert rules.file_reason("page.htm", "page.htm") == "Zoo Code has no parser for .htm files"
    # Zoo Code reads .rooignore (its RooIgnoreController is Roo Code's): no .zooignore
    assert zoo.ZOO.root_ignore_files == (".rooignore",)


def test_cache_file_in_zoo_codes_storage(tmp_path):
    workspace = str(tmp_path / "ws")
    storage = tmp_path / "globalStorage" / "zoocodeorganization.zoo-code"
    storage.mkdir(parents=True)
    digest = hashlib.sha256(workspace.encode()).hexdigest()
    assert roo_cache.cache_path(workspace, str(storage), zoo.ZOO) == storage / f"roo-index-cache-{digest}.json"
    dirs = roo_cache.storage_dirs(tmp_path, zoo.ZOO)
    assert dirs[0] == tmp_path / ".vscode-server/data/User/globalStorage/zoocodeorganization.zoo-code"


def test_zoo_schema_keeps_roo_codes_layout():
    store = type("Store", (), {"backend": "qdrant"})()
    schema = zoo_qdrant.ZooSchema(store, "/srv/ws")
    assert schema.collection == roo.collection_name("/srv/ws")
    assert schema.owner == "zoo-code" and schema.profile is zoo.ZOO
    assert schema.walk_rules.profile is zoo.ZOO
    assert schema.marker_id == roo.MARKER_ID
    block = roo.Block(1, 2, "text", "h")
    assert schema.block_payload("a/b.txt", block) == roo.payload("a/b.txt", block)


def test_profile_is_data():
    assert dataclasses.replace(zoo.ZOO, label="x").dialect is zoo.ZOO.dialect
    assert zoo.ZOO.parsed == zoo.ZOO.extensions - {".htm", ".elm", ".ejs", ".erb"}
