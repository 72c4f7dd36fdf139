from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from roocode_tui.core.chunking import Chunker, markdown_sections
from roocode_tui.core.discovery import decode_text

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
        (Path(__file__).parent / "fixtures/corpus/src/net/retry.go", "go"),
        (Path(__file__).parent / "fixtures/corpus/src/net/http_client.ts", "typescript"),
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
    from roocode_tui.core.ingest import chunk_ids

    text = ("def same():\n    return 1\n\n\n" * 2).strip()
    chunks = Chunker(16, 0).split(text, "python", "d.py")
    assert len(chunks) == 2 and chunks[0].chunk_hash == chunks[1].chunk_hash
    ids = chunk_ids("/r", "d.py", chunks)
    assert len(set(ids)) == 2
    assert ids == chunk_ids("/r", "d.py", chunks)  # deterministic
    assert ids != chunk_ids("/other", "d.py", chunks)


def test_empty_text_gives_no_chunks():
    assert Chunker().split("  \n\n", "text", "e.txt") == []
