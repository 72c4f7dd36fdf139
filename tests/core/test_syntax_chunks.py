"""Code chunks by syntax tree, on real files and on one snippet per language: definitions
whole with their doc comments, breadcrumbs, exact lines, and the fallback."""

from __future__ import annotations

import pytest
from support.paths import FIXTURES

from roocode_tui.core.chunking.splitter import Chunk, Chunker
from roocode_tui.core.chunking.syntax import GRAMMARS
from roocode_tui.core.files.languages import detect_language

CODE = FIXTURES / "code"


def chunks_of(name: str, text: str | None = None, **kw) -> tuple[str, list[Chunk]]:
    if text is None:
        text = (CODE / name).read_text()
    return text, Chunker(**kw).split(text, detect_language(name), name)


def assert_exact(text: str, chunks: list[Chunk]) -> None:
    """Every chunk's text is on its lines; every non-blank line is in some chunk."""
    lines = text.split("\n")
    covered: set[int] = set()
    for c in chunks:
        span = "\n".join(lines[c.start_line - 1 : c.end_line])
        assert c.text in span, (c.start_line, c.end_line, c.heading)
        assert span.strip().startswith(c.text.split("\n")[0].strip())
        assert span.rstrip().endswith(c.text.split("\n")[-1].strip())
        covered.update(range(c.start_line, c.end_line + 1))
    missing = [i + 1 for i, line in enumerate(lines) if line.strip() and i + 1 not in covered]
    assert not missing, f"lines in no chunk: {missing[:10]}"


def line_of(text: str, needle: str) -> int:
    return text.split("\n").index(next(line for line in text.split("\n") if needle in line)) + 1


def chunk_with(chunks: list[Chunk], heading: str) -> Chunk:
    found = [c for c in chunks if c.heading == heading]
    assert len(found) == 1, (heading, sorted({c.heading for c in chunks}))
    return found[0]


@pytest.mark.parametrize("name", sorted(p.name for p in CODE.iterdir() if p.suffix != ".md"))
def test_real_files_keep_exact_lines_and_lose_nothing(name: str):
    text, chunks = chunks_of(name)
    assert chunks and any(c.heading for c in chunks)
    assert_exact(text, chunks)


def test_go_methods_are_whole_with_their_doc_comments():
    text, chunks = chunks_of("stack.go")
    fmt = chunk_with(chunks, "func Frame.Format")
    assert fmt.start_line == line_of(text, "// Format formats the frame according to the fmt.Formatter interface.")
    lines = text.split("\n")
    assert lines[fmt.end_line - 1] == "}" and lines[fmt.end_line] == ""  # to its closing brace
    after = min((c for c in chunks if c.start_line > fmt.end_line), key=lambda c: c.start_line)
    assert after.heading == "func Frame.MarshalText" and after.text.startswith("// MarshalText formats")
    assert fmt.embed_input.startswith("stack.go > func Frame.Format (frame format)\n\n// Format formats")
    name = chunk_with(chunks, "func Frame.name")
    assert name.text.startswith("// name returns the name of this function, if known.\nfunc (f Frame) name()")


def test_rust_attributes_and_doc_comments_stay_with_the_item_and_big_modules_split_at_members():
    text, chunks = chunks_of("scopeguard.rs", merge_below=0)
    drop = chunk_with(chunks, "impl Drop for ScopeGuard<T, F, S>")
    assert drop.start_line == line_of(text, "impl<T, F, S> Drop for ScopeGuard<T, F, S>")
    assert "fn drop(&mut self)" in drop.text and drop.end_line == line_of(text, "impl<T, F, S> fmt::Debug") - 2
    assert drop.embed_input.startswith("scopeguard.rs > impl Drop for ScopeGuard<T, F, S> (scope guard)\n\n")
    guard = chunk_with(chunks, "struct ScopeGuard")
    assert guard.text.startswith("/// `ScopeGuard` is a scope guard")
    tests = [c for c in chunks if c.heading.startswith("mod tests > fn ")]
    assert {c.heading for c in tests} >= {"mod tests > fn test_defer_success_1", "mod tests > fn test_into_inner"}
    test = chunk_with(chunks, "mod tests > fn test_into_inner")
    assert text.split("\n")[test.start_line - 1].strip() == "#[test]"  # the attribute above it


def test_small_rust_items_merge_whole_and_the_header_names_each_one():
    text, chunks = chunks_of("scopeguard.rs")
    start = line_of(text, "impl<T, F, S> Drop for ScopeGuard<T, F, S>")
    drop = next(c for c in chunks if c.start_line <= start <= c.end_line)
    assert drop.start_line == start  # whole, from its first line
    debug = line_of(text, "impl<T, F, S> fmt::Debug for ScopeGuard<T, F, S>")
    assert "fn drop(&mut self)" in drop.text and drop.end_line > debug  # with its small neighbour
    assert drop.heading == ""  # no scope in common: the payload's heading stays a breadcrumb
    assert drop.embed_input.startswith(
        "scopeguard.rs > impl Drop for ScopeGuard<T, F, S>, impl fmt::Debug for ScopeGuard<T, F, S> (scope guard)\n\n"
    )
    tests = [c for c in chunks if c.heading == "mod tests"]  # a module's small members: merged, named
    assert any(
        c.embed_input.startswith("scopeguard.rs > mod tests > fn test_defer, fn test_defer_success_1 (") for c in tests
    )
    assert_exact(text, chunks)


def test_overloads_are_one_chunk_under_their_name():
    text, chunks = chunks_of("rxjs-filter.ts")
    first = line_of(text, "export function filter<T, S extends T, A>(")
    last = line_of(text, "export function filter<T>(predicate: (value: T, index: number) => boolean): Mono")
    sigs = next(c for c in chunks if c.start_line <= first <= c.end_line)
    assert sigs.end_line == last and sigs.text.count("export function filter") == 5
    assert sigs.start_line == 1  # the imports above are a small neighbour
    assert sigs.heading == "function filter"  # named by its definitions, not by the imports
    assert sigs.embed_input.startswith("rxjs-filter.ts > function filter (filter)\n\nimport {")
    impl = [c for c in chunks if c.start_line > last]
    assert impl and all(c.heading == "function filter" for c in impl)  # larger than a chunk: split inside
    assert_exact(text, chunks)


def test_typescript_exported_function_keeps_its_jsdoc_and_javascript_class_stays_whole():
    text, chunks = chunks_of("tiny-invariant.ts")
    first = min((c for c in chunks if c.heading == "function invariant"), key=lambda c: c.start_line)
    assert first.start_line == line_of(text, "/**") and first.text.startswith("/**\n * `invariant` is used")
    text, chunks = chunks_of("yocto-queue.js")
    queue = chunk_with(chunks, "class Queue")
    last = len(text.rstrip().split("\n"))
    assert (queue.start_line, queue.end_line) == (line_of(text, "export default class Queue"), last)


def test_c_functions_with_their_storage_class_line():
    text, chunks = chunks_of("markupsafe_speedups.c")
    kind1 = chunk_with(chunks, "function escape_unicode_kind1")
    assert kind1.start_line == line_of(text, "escape_unicode_kind1(PyUnicodeObject *in)") - 1  # "static PyObject*"
    assert kind1.text.startswith("static PyObject*\nescape_unicode_kind1")


def test_a_c_headers_prototypes_are_definitions_with_their_doxygen_comment_a_blank_line_above():
    text, chunks = chunks_of("yaml.h", chunk_tokens=300, overlap_tokens=0)
    alias = next(c for c in chunks if c.heading.endswith("function yaml_alias_event_initialize"))
    assert alias.start_line == line_of(text, "Create an ALIAS event.") - 1  # its "/**"
    assert "yaml_alias_event_initialize(yaml_event_t *event" in alias.text
    assert "Create a SCALAR event." not in alias.text  # the next prototype's comment is the next's
    scalar = next(c for c in chunks if c.heading.endswith("function yaml_scalar_event_initialize"))
    assert scalar.text.lstrip().startswith("/**\n * Create a SCALAR event.")
    assert_exact(text, chunks)


@pytest.mark.parametrize(
    ("name", "source", "expected"),
    [
        (  # prototypes are definitions; a variable and a function pointer are not
            "api.h",
            "/** Opens it. */\nint api_open(const char *path);\n\nextern int api_level;\n\n"
            "/**\n * Reads it.\n */\n\nchar *api_read(int fd, size_t *len);\n\n"
            "/* a hook */\nint (*api_hook)(void);\n",
            [("function api_open", 1, 2), ("function api_read", 6, 10)],
        ),
        (  # attribute macros after the parameters: tree-sitter cannot parse it, still a prototype
            "lzma_like.h",
            "/**\n * \\brief Checks a check.\n */\n"
            "extern LZMA_API(lzma_bool) lzma_check_is_supported(lzma_check check)\n"
            "\t\tlzma_nothrow lzma_attr_const;\n\n/** The size. */\n"
            "extern LZMA_API(uint32_t) lzma_check_size(lzma_check check) lzma_nothrow;\n",
            [("function lzma_check_is_supported", 1, 5), ("function lzma_check_size", 7, 8)],
        ),
        (  # a method declared in a class body, and one defined there
            "shape.hpp",
            "class Shape {\n public:\n  /// The area.\n  double area() const;\n"
            "  /// Its name.\n  const char *name() const { return n_; }\n};\n",
            [("class Shape", 1, 7)],
        ),
    ],
    ids=["c", "c-attributes", "cpp"],
)
def test_prototypes_in_snippets(name: str, source: str, expected: list):
    _, chunks = chunks_of(name, source, chunk_tokens=400, overlap_tokens=0, merge_below=0)
    assert [(c.heading, c.start_line, c.end_line) for c in chunks if c.heading] == expected
    assert_exact(source, chunks)


def test_a_cpp_class_split_at_its_members_names_declared_methods():
    methods = "\n".join(f"  /// Step {i} of the walk.\n  int step_{i}(int x, int y) const;\n" for i in range(60))
    source = f"class Walker {{\n public:\n{methods}}};\n"
    _, chunks = chunks_of("walker.hpp", source, chunk_tokens=80, overlap_tokens=0, merge_below=0)
    headings = {c.heading for c in chunks}
    assert "class Walker > function step_0" in headings and "class Walker > function step_59" in headings
    assert_exact(source, chunks)


# One snippet per language: (file name, source, [(breadcrumb, first line, last line)]) of the
# definitions, each with the comment or attribute right above it.
SNIPPETS = [
    (
        "Greeter.java",
        "package demo;\n\n/** Says hello. */\n@Deprecated\npublic class Greeter {\n"
        "    /** The greeting for a name. */\n    public String greet(String name) {\n"
        '        return "hi " + name;\n    }\n}\n',
        [("class Greeter", 3, 10)],
    ),
    (
        "Person.cs",
        "namespace App;\n\n/// <summary>A person.</summary>\n"
        "public class Person\n{\n    public string Name { get; set; }\n}\n",
        [("namespace App", 1, 1), ("class Person", 3, 7)],
    ),
    (
        "shape.rb",
        "# Shapes.\nmodule Geometry\n  # Area of a square.\n  def self.square(side)\n    side * side\n  end\nend\n",
        [("module Geometry", 1, 7)],
    ),
    (
        "user.php",
        "<?php\n\n/** A user. */\nclass User\n{\n    /** Finds one. */\n"
        "    public static function find(int $id): ?User\n"
        "    {\n        return null;\n    }\n}\n",
        [("class User", 3, 11)],
    ),
    (
        "Circle.kt",
        "package geo\n\n/** A circle. */\nclass Circle(val r: Double) {\n    fun area(): Double {\n"
        "        return 3.14 * r * r\n    }\n}\n\n// Entry point.\nfun main() {\n    println(Circle(1.0).area())\n}\n",
        [("class Circle", 3, 8), ("fun main", 10, 13)],
    ),
    (
        "Shape.swift",
        "import Foundation\n\n/// A shape.\nprotocol Shape {\n    func area() -> Double\n}\n\n"
        "/// A point.\nstruct Point {\n    var x: Double\n}\n",
        [("protocol Shape", 3, 6), ("struct Point", 8, 11)],
    ),
    (
        "Main.scala",
        'package demo\n\n/** Entry. */\nobject Main {\n  /** Runs. */\n  def run(): Unit = println("x")\n}\n',
        [("object Main", 3, 7)],
    ),
    (
        "util.lua",
        "local M = {}\n\n--- Adds two numbers.\nfunction M.add(a, b)\n  return a + b\nend\n\nreturn M\n",
        [("function M.add", 3, 6)],
    ),
    (
        "run.sh",
        '#!/bin/bash\nset -e\n\n# Prints usage.\nusage() {\n  echo "usage: run"\n}\n\nusage\n',
        [("function usage", 4, 7)],
    ),
    (
        "greeter.ex",
        'defmodule Greeter do\n  @doc "Says hello."\n  def hello(name) do\n    "hi " <> name\n  end\nend\n',
        [("defmodule Greeter", 1, 6)],
    ),
    (
        "Token.sol",
        "pragma solidity ^0.8.0;\n\n/// @title A token.\ncontract Token {\n    /// Moves tokens.\n"
        "    function transfer(address to) public {\n    }\n}\n",
        [("contract Token", 3, 8)],
    ),
    (
        "math.zig",
        'const std = @import("std");\n\n/// Adds two numbers.\n'
        "pub fn add(a: i32, b: i32) i32 {\n    return a + b;\n}\n",
        [("fn add", 3, 6)],
    ),
    (
        "my.el",
        ';;; my.el --- demo\n\n;; Adds two numbers.\n(defun my-add (a b)\n  "Add A and B."\n  (+ a b))\n',
        [("defun my-add", 3, 6)],
    ),
    (
        "geo.ml",
        "(* Geometry. *)\n\n(** The area of a square. *)\nlet square side =\n  side * side\n",
        [("let square", 3, 5)],
    ),
    (
        "shape.cpp",
        "#include <cmath>\n\nnamespace geo {\n/// A circle.\n"
        "class Circle {\n public:\n  double r;\n};\n}  // namespace geo\n",
        [("namespace geo", 3, 9)],
    ),
    (
        "App.vue",
        "<template>\n  <p>{{ msg }}</p>\n</template>\n\n<script setup lang=\"ts\">\nconst msg = 'hi'\n</script>\n",
        [("template", 1, 3), ('script setup lang="ts"', 5, 7)],
    ),
    (
        "config.toml",
        '# The title.\ntitle = "demo"\n\n[owner]\nname = "Tom"\n',
        [("key title", 1, 2), ("table owner", 4, 5)],
    ),
    (
        "package.json",
        '{\n  "name": "demo",\n  "scripts": {\n    "test": "jest"\n  }\n}\n',
        [("key name", 2, 2), ("key scripts", 3, 5)],
    ),
    (
        "compose.yaml",
        "services:\n  web:\n    image: nginx\nversion: 3\n",
        [("key services", 1, 3), ("key version", 4, 4)],
    ),
]


@pytest.mark.parametrize(("name", "source", "expected"), SNIPPETS, ids=[s[0] for s in SNIPPETS])
def test_each_language_keeps_its_definitions_whole(name: str, source: str, expected: list):
    assert detect_language(name) in GRAMMARS
    _, chunks = chunks_of(name, source, chunk_tokens=400, overlap_tokens=0, merge_below=0)
    got = [(c.heading, c.start_line, c.end_line) for c in chunks if c.heading]
    assert got == expected
    assert_exact(source, chunks)


def test_a_definition_larger_than_a_chunk_is_split_inside_under_its_name():
    body = "\n".join(f"    total += step({i}) * {i}" for i in range(120))
    head = "package big\n\n// Sum adds up the steps.\nfunc Sum() int {\n    total := 0\n"
    source = f"{head}{body}\n    return total\n}}\n"
    _, chunks = chunks_of("big.go", source, chunk_tokens=200, overlap_tokens=20)
    inside = [c for c in chunks if c.heading == "func Sum"]
    assert len(inside) >= 3 and inside[0].start_line == 3
    assert_exact(source, chunks)


def test_what_does_not_parse_or_has_no_grammar_falls_back_to_separators():
    garbage = "this is not go at all {{{ ]]] ((( \n" * 40
    text, chunks = chunks_of("broken.go", garbage, chunk_tokens=80, overlap_tokens=0)
    assert chunks and all(c.heading == "" for c in chunks)
    assert_exact(text, chunks)
    prose = "Plain words in a file with no grammar.\n\n" * 30
    text, chunks = chunks_of("notes.xyz", prose, chunk_tokens=60, overlap_tokens=0)
    assert chunks and all(c.heading == "" for c in chunks)
    assert_exact(text, chunks)


def test_ruby_methods_keep_their_rdoc_comments_and_small_classes_merge():
    text, chunks = chunks_of("blank.rb", chunk_tokens=120, overlap_tokens=12)
    present = chunk_with(chunks, "class Object > def present?")
    assert present.start_line == line_of(text, "# An object is present if it's not blank.")
    lines = text.split("\n")
    assert lines[present.end_line - 1] == "  end" and present.text.endswith("!blank?\n  end")
    true_class = chunk_with(chunks, "class TrueClass")  # fits: whole, from its line to its end
    assert (true_class.start_line, lines[true_class.end_line - 1]) == (line_of(text, "class TrueClass"), "end")
    pieces = [c for c in chunks if c.heading == "class String > def blank?"]  # larger than a chunk
    assert len(pieces) > 1 and pieces[0].text.startswith("# A string is blank if it's empty")
    _, default = chunks_of("blank.rb")
    pair = next(c for c in default if c.symbols)  # two small classes share a chunk, named both
    assert pair.symbols == ("nilclass", "falseclass") and pair.text.startswith("class NilClass")
