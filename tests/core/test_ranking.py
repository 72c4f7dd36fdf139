"""The same points give the same answers: equal scores are ordered by location, then point id, on both stores,
whatever order the points were written in. Real stores, real index runs over HTTP on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from support.stores import make_store

from roocode_tui.core.embedders.openai import OpenAIEmbedder
from roocode_tui.core.ingest.indexer import Indexer
from roocode_tui.core.search.searcher import search_many
from roocode_tui.core.stores.base import Hit
from roocode_tui.core.stores.order import fuse, ordered, settled, stable_top

NAME = "demo"
# The same section in several files: identical chunks, so identical dense and keyword scores.
SHARED = (
    "## Licence\n\nThis file is part of the gizmo toolkit. Redistribution and use in source and binary\n"
    "forms, with or without modification, are permitted provided that the notice is retained.\n"
)
DOCS = {
    "docs/retry.md": "# Retries\n\nThe client retries a request with exponential backoff when the server "
    "answers 429 or 503, and gives up after max_retries attempts.\n\n" + SHARED,
    "docs/cache.md": "# Cache\n\nA least recently used cache keeps the last entries in memory; "
    "evict_oldest drops the oldest when the cache is full.\n\n" + SHARED,
    "docs/queue.md": "# Queue\n\nThe embedding queue lets searches go ahead of ingest batches so a person "
    "never waits behind a long index run.\n\n" + SHARED,
    "src/retry.py": "def retry_call(fn, max_retries=3):\n"
    '    """Call fn again on failure, with exponential backoff."""\n'
    "    for attempt in range(max_retries):\n        try:\n            return fn()\n        except OSError:\n"
    "            continue\n",
    "src/cache.py": 'def evict_oldest(cache):\n    """Drop the least recently used entry of the cache."""\n'
    "    cache.popitem(last=False)\n",
}
DUPLICATES = [f"licences/copy_{i}.md" for i in range(6)]
QUERIES = [
    ("dense", "redistribution and use in source and binary forms"),
    ("dense", "how does the client retry a request"),
    ("hybrid", "redistribution gizmo toolkit notice"),
    ("hybrid", "evict_oldest cache entry"),
    ("hybrid", "retry_call max_retries"),
    ("keyword", "gizmo toolkit"),
    ("keyword", "retry_call"),
]


def write_tree(root: Path) -> Path:
    for rel, text in DOCS.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    for rel in DUPLICATES:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"# Copy\n\n{SHARED}")
    return root


async def answers(store, embedder) -> list[list[tuple]]:
    out = []
    for mode, query in QUERIES:
        for merge in (False, True):
            (result,) = await search_many(store, embedder, NAME, [query], limit=8, mode=mode, merge=merge)
            out.append([(h.id, h.path, h.start_line, h.end_line, h.score) for h in result.hits])
    return out


def same_answers(got: list[list[tuple]], expected: list[list[tuple]]) -> None:
    """Same points in the same order; scores equal up to float noise (qdrant-client's local mode
    sums a dot product in a different order when its arrays are laid out differently)."""
    assert [[row[:-1] for row in hits] for hits in got] == [[row[:-1] for row in hits] for hits in expected]
    for hits, want in zip(got, expected, strict=True):
        assert [row[-1] for row in hits] == pytest.approx([row[-1] for row in want], abs=1e-5)


async def point_ids(store) -> set[str]:
    ids, offset = set(), None
    while True:
        page, offset = await store.scroll(NAME, offset, 512)
        ids |= {p.id for p in page}
        if offset is None:
            return ids


async def interrupted_build(store, embedder, root: Path, settings) -> None:
    """A run cancelled after its first batch, the rest resumed, then files edited and put back
    one by one (each round trip deletes their points and writes them again, at the end)."""

    # One batch of two chunks at a time, and the run cancelled as soon as the first batch is
    # back, with every later batch held until then: the cancel lands mid-run however fast or
    # slow the machine (an earlier version cancelled on a file count, and on a loaded machine
    # the files were all written before the cancel arrived).
    one_by_one = OpenAIEmbedder(embedder.settings.model_copy(update={"batch_size": 2, "max_concurrency": 1}))
    embed_batch = one_by_one.embed_batch
    calls = 0

    async def first_batch_only(texts):
        nonlocal calls
        calls += 1
        if calls > 1:
            await asyncio.Event().wait()  # until the cancel
        result = await embed_batch(texts)
        asyncio.get_running_loop().call_soon(task.cancel)
        return result

    one_by_one.embed_batch = first_batch_only
    indexer = Indexer(store, one_by_one, NAME, [root], index=settings)
    task = asyncio.create_task(indexer.run())
    try:
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        await one_by_one.aclose()
    assert indexer.progress.files_indexed < len(DOCS) + len(DUPLICATES)  # stopped part-way
    await Indexer(store, embedder, NAME, [root], index=settings).run()
    for rel in [*reversed(DUPLICATES), *DOCS]:
        original = (root / rel).read_text()
        (root / rel).write_text(original + "\nAn edit that is undone again.\n")
        await Indexer(store, embedder, NAME, [root], index=settings).run()
        (root / rel).write_text(original)
        await Indexer(store, embedder, NAME, [root], index=settings).run()


@pytest.mark.parametrize("kind", ["embedded", "qdrant-local"])
async def test_a_store_built_in_one_run_and_one_built_through_interruptions_answer_alike(
    kind: str, tmp_path: Path, http_embedder, small_chunks
):
    root = write_tree(tmp_path / "tree")
    clean = make_store(kind, tmp_path / "clean")
    rebuilt = make_store(kind, tmp_path / "rebuilt")
    try:
        await Indexer(clean, http_embedder, NAME, [root], index=small_chunks).run()
        await interrupted_build(rebuilt, http_embedder, root, small_chunks)
        assert await point_ids(clean) == await point_ids(rebuilt)
        expected = await answers(clean, http_embedder)
        # the lists have ties in them (the shared licence), or this test would prove nothing
        assert any(len({round(row[-1], 6) for row in hits}) < len(hits) for hits in expected)
        same_answers(await answers(rebuilt, http_embedder), expected)
        modes = [mode for mode, _ in QUERIES for _merge in (False, True)]
        dense = [hits for mode, hits in zip(modes, expected, strict=True) if mode == "dense"]
        for hits in dense:  # best first, ties by location (hybrid shows cosines in fused order)
            keys = [(-round(row[-1], 6), row[1], row[2], row[3], row[0]) for row in hits]
            assert keys == sorted(keys)
    finally:
        await clean.close()
        await rebuilt.close()


def hit(pid: str, score: float) -> Hit:
    return Hit(pid, score, "r", "same.md", 1, 2, "markdown", "text", "")  # one place: ties go by id


def test_a_tie_across_the_cut_widens_the_window_until_it_ends():
    # 3 points score 0.9 and 20 tie at 0.5; the store returns tied points in whatever order it keeps
    tied = [f"t{i:02d}" for i in range(20)]
    store_order = [hit("c", 0.9), hit("a", 0.9), hit("b", 0.9)] + [hit(p, 0.5) for p in reversed(tied)]
    asked: list[int] = []

    def fetch(n: int) -> list[Hit]:
        asked.append(n)
        return store_order[:n]

    top = stable_top(fetch, 4)
    assert [h.id for h in top] == ["a", "b", "c", "t00"]  # the smallest id of all twenty tied at the cut
    assert asked == [12, 24]  # the first window ended inside the tie; the second saw all of it
    assert not settled(ordered(store_order[:5]), 4, 5)  # a full window that ends on the cut's score
    assert settled(ordered(store_order[:5]), 3, 5)  # the cut is above the window's last score
    assert settled(ordered(store_order[:5]), 4, 6)  # the store ran out: nothing more to see


def test_fusion_scores_ranks_as_qdrant_does_and_breaks_ties_by_id():
    dense = [hit("a", 0.9), hit("b", 0.8)]
    keyword = [hit("b", 3.0), hit("c", 2.0)]
    fused = fuse([dense, keyword], [1.0, 1.5], 10)
    # Qdrant's weighted RRF: 1 / ((position + 1) / weight + k - 1), k = 60
    assert fused[0].id == "b" and fused[0].score == pytest.approx(1 / (2 + 59) + 1 / (1 / 1.5 + 59))
    assert [h.id for h in fused[1:]] == ["a", "c"]  # 1/(1 + 59) > 1/(2/1.5 + 59)
    assert fused[1].score == pytest.approx(1 / 60) and fused[2].score == pytest.approx(1 / (2 / 1.5 + 59))
    same = fuse([[hit("y", 0.5)], [hit("x", 0.5)]], [1.0, 1.0], 10)
    assert [h.id for h in same] == ["x", "y"]  # equal fused scores: by id
