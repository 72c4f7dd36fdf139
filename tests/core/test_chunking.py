from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest
from support.paths import FIXTURES

from roocode_tui.core.chunking.splitter import Chunker, markdown_sections
from roocode_tui.core.files.discovery import decode_text

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def assert_exact(text: str, chunks) -> None:
    lines = text.split("\n")
    for c in chunks:
        span = "\n".join(lines[c.start_line - 1 : c.end_line])
        assert c.text in span, (c.start_line, c.end_line)
        # the chunk starts on its first line and ends on its last
        assert lines[c.start_line - 1].strip() and c.text.split("\n")[0].strip() in lines[c.start_line - 1]
        assert c.text.split("\n")[-1].strip() in lines[c.end_line - 1]
        assert c.end_line - c.start_line == c.text.count("\n")


@pytest.mark.parametrize(
    ("path", "language"),
    [
        (STDLIB / "argparse.py", "python"),
        (STDLIB / "json" / "decoder.py", "python"),
        (FIXTURES / "corpus/src/net/retry.go", "go"),
        (FIXTURES / "corpus/src/net/http_client.ts", "typescript"),
    ],
)
def test_code_chunks_have_exact_lines(path: Path, language: str):
    text = decode_text(path.read_bytes())
    chunks = Chunker(120, 12).split(text, language, path.name)
    assert len(chunks) >= 2
    assert_exact(text, chunks)
    assert all(c.tokens <= 120 + 40 for c in chunks)
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_markdown_sections_keep_breadcrumbs_and_ignore_fenced_hashes():
    text = (
        "Intro line\n\n# Title\n\nHello\n\n## Setup\n\n```bash\n# not a heading\nmake\n```\n\n"
        "### Linux\n\napt install x\n\n## Usage\n\nRun it.\n"
    )
    crumbs = [c for _, _, c in markdown_sections(text)]
    assert crumbs == ["", "Title", "Title > Setup", "Title > Setup > Linux", "Title > Usage"]
    chunks = Chunker(300, 30).split(text, "markdown", "README.md")
    assert_exact(text, chunks)
    setup = next(c for c in chunks if c.heading == "Title > Setup")
    assert "# not a heading" in setup.text and setup.start_line == 7
    assert setup.embed_input.startswith("README.md > Title > Setup\n\n")


def test_heading_without_body_joins_the_next_section():
    text = "# Top\n## Sub\n\nbody text\n"
    chunks = Chunker(300, 30).split(text, "markdown", "a.md")
    assert len(chunks) == 1 and chunks[0].start_line == 1 and chunks[0].heading == "Top > Sub"


def test_long_markdown_section_splits_with_exact_lines():
    body = "\n\n".join(f"Paragraph {i} " + "lorem ipsum dolor sit amet " * 8 for i in range(30))
    text = "# Big\n\n" + body + "\n"
    chunks = Chunker(100, 10).split(text, "markdown", "big.md")
    assert len(chunks) > 5 and all(c.heading == "Big" for c in chunks)
    assert_exact(text, chunks)


def test_crlf_and_repeated_text_keep_line_numbers():
    raw = b"x = 1\r\n" * 3 + b"def f():\r\n    return 2\r\n" + b"x = 1\r\n" * 200
    text = decode_text(raw)
    chunks = Chunker(40, 4).split(text, "python", "r.py")
    assert_exact(text, chunks)
    assert chunks[-1].end_line == 205
    starts = [c.start_line for c in chunks]
    assert starts == sorted(starts)
    # consecutive chunks overlap by whole lines, never by more than the overlap budget
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert 0 <= a.end_line - b.start_line + 1 <= 4


def test_identical_chunks_hash_alike_but_get_distinct_ids():
    from roocode_tui.core.ingest.jobs import chunk_ids

    text = ("def same():\n    return 1\n\n\n" * 2).strip()
    chunks = Chunker(16, 0).split(text, "python", "d.py")
    assert len(chunks) == 2 and chunks[0].chunk_hash == chunks[1].chunk_hash
    ids = chunk_ids("/r", "d.py", chunks)
    assert len(set(ids)) == 2
    assert ids == chunk_ids("/r", "d.py", chunks)  # deterministic
    assert ids != chunk_ids("/other", "d.py", chunks)


def test_empty_text_gives_no_chunks():
    assert Chunker().split("  \n\n", "text", "e.txt") == []


PY = '''"""Module docstring."""

import os

CONSTANT = 1


# Comment that documents helper.
def helper(x):
    return x + 1


def tiny():
    return 2


class Big:
    """A class larger than one chunk."""

    attr = 3

    def method_one(self):
        value = [n * 2 for n in range(10)]
        total = sum(value) + sum(value) + sum(value)
        return total + len(os.sep) * 12345 + 67890

    def method_two(self, other):
        first = other.alpha + other.beta + other.gamma
        second = other.delta * other.epsilon - other.zeta
        return first / second if second else first
'''


def test_python_chunks_follow_definitions():
    chunks = Chunker(60, 6).split(PY, "python", "m.py")
    assert_exact(PY, chunks)
    by_heading = {c.heading: c for c in chunks}
    # a class larger than a chunk is cut between its methods, each named by its scope
    assert "class Big > def method_one" in by_heading and "class Big > def method_two" in by_heading
    one = by_heading["class Big > def method_one"]
    assert one.text.startswith("def method_one") and one.text.rstrip().endswith("67890")
    assert one.embed_input.startswith("m.py > class Big > def method_one (method one)\n\n")
    # the comment above a definition travels with it
    helper = next(c for c in chunks if "def helper" in c.text)
    assert "# Comment that documents helper." in helper.text
    # no chunk starts inside a definition that fits in one chunk
    for c in chunks:
        first = c.text.split("\n")[0]
        assert not first.startswith((" ", "\t")) or c.heading.count(">") >= 1


def test_python_definitions_stand_alone_small_go_ones_merge_and_big_functions_split_with_overlap_inside():
    small = "import os\n\n\ndef a():\n    return 1\n\n\ndef b():\n    return 2\n"
    chunks = Chunker(300, 30).split(small, "python", "s.py")
    assert [(c.start_line, c.end_line, c.heading) for c in chunks] == [(1, 1, ""), (4, 5, "def a"), (8, 9, "def b")]
    go = "package s\n\nfunc A() int {\n\treturn 1\n}\n\nfunc B() int {\n\treturn 2\n}\n"
    merged = Chunker(300, 30).split(go, "go", "s.go")
    assert len(merged) == 1 and merged[0].start_line == 1 and merged[0].end_line == 9
    assert merged[0].symbols == ("a", "b")  # a merged chunk holds two definitions, each found by name
    body = "\n".join(f"    value_{i} = compute(value_{i - 1}, {i})" for i in range(1, 80))
    big = f"def huge():\n{body}\n    return value_79\n"
    parts = Chunker(80, 10).split(big, "python", "h.py")
    assert len(parts) > 3 and all(p.heading == "def huge" for p in parts)
    assert_exact(big, parts)
    assert any(b.start_line <= a.end_line for a, b in zip(parts, parts[1:], strict=False))  # overlap inside


def test_invalid_python_falls_back_to_the_generic_splitter():
    broken = "def ok():\n    return 1\n\ndef broken(:\n    pass\n" * 3
    chunks = Chunker(40, 4).split(broken, "python", "b.py")
    assert chunks and all(c.heading == "" for c in chunks)
    assert_exact(broken, chunks)


def test_fenced_code_blocks_stay_whole_when_they_fit():
    prose = "\n\n".join(f"Paragraph {i}: " + "words about the setup " * 6 for i in range(6))
    code = "```python\n" + "\n\n".join(f"step_{i} = run({i})" for i in range(12)) + "\n```"
    text = "# Guide\n\n" + prose + "\n\n" + code + "\n\n" + prose + "\n"
    chunks = Chunker(120, 12).split(text, "markdown", "guide.md")
    assert_exact(text, chunks)
    holding = [c for c in chunks if "step_0" in c.text]
    assert len(holding) == 1 and code in holding[0].text  # the blank lines inside did not split it
    assert all(c.heading == "Guide" for c in chunks)
