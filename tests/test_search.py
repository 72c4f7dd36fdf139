from __future__ import annotations

from pathlib import Path

from roocode_tui.core.ingest import Indexer
from roocode_tui.core.search import parse_inline_filters, search
from roocode_tui.core.text import inert

NAME = "demo"


async def build(store, embedder, root: Path, settings):
    await Indexer(store, embedder, NAME, [root], index=settings).run()


async def test_results_carry_location_and_text(store, http_embedder, corpus, small_chunks):
    await build(store, http_embedder, corpus, small_chunks)
    result = await search(store, http_embedder, NAME, "restore snapshot stop the server", limit=3)
    top = result.hits[0]
    assert top.path == "docs/backups.md" and top.language == "markdown"
    assert top.root == str(corpus.resolve())
    lines = (corpus / top.path).read_text().split("\n")
    assert top.text in "\n".join(lines[top.start_line - 1 : top.end_line])
    assert result.embed_ms >= 0 and result.store_ms >= 0
    assert set(result.to_json()["results"][0]) >= {
        "root",
        "path",
        "start_line",
        "end_line",
        "score",
        "language",
        "text",
    }


async def test_filters_apply_inside_the_store_before_top_k(store, http_embedder, corpus, small_chunks):
    # Many markdown chunks match "snapshot"; with limit 1 a post-filter would return nothing.
    await build(store, http_embedder, corpus, small_chunks)
    result = await search(store, http_embedder, NAME, "snapshot restore backups", limit=1, path="src/")
    assert len(result.hits) == 1 and result.hits[0].path.startswith("src/")
    result = await search(store, http_embedder, NAME, "snapshot restore backups", limit=1, lang="go")
    assert [h.language for h in result.hits] == ["go"]
    result = await search(store, http_embedder, NAME, "snapshot", limit=5, path="src/**/*.py")
    assert result.hits and all(h.path.endswith(".py") and h.path.startswith("src/") for h in result.hits)
    result = await search(store, http_embedder, NAME, "snapshot", limit=5, lang="python,typescript")
    assert {h.language for h in result.hits} <= {"python", "typescript"}
    result = await search(store, http_embedder, NAME, "snapshot", limit=5, path="nothing/here/")
    assert result.hits == []


def test_inline_filters_are_parsed_out_of_the_query():
    assert parse_inline_filters("path:src/ how do retries work lang:go") == ("how do retries work", "src/", "go")
    assert parse_inline_filters("plain question") == ("plain question", None, None)
    assert parse_inline_filters("xpath:a stays") == ("xpath:a stays", None, None)


def test_inert_text_shows_escapes_and_bidi_controls_visibly():
    hostile = "a\x1b[31mred\x1b]52;c;ZXZpbA==\x07 \u202egnp.exe [bold]x[/]"
    shown = inert(hostile)
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "␛[31mred" in shown and "<U+202E>" in shown and "[bold]x[/]" in shown
    assert inert("tabs\tand\nnewlines") == "tabs\tand\nnewlines"
