"""Crash consistency: SIGKILL an index run at random moments, re-run it, compare with a clean run.

Each round first changes the tree (edits, deletions, new files) so that the killed run has
discovery, embedding, upserts and stale-point deletions to do. After the re-run the store must
hold exactly the points of a clean index of the same tree: same ids, same file and chunk
hashes, no duplicates, no orphans.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from pathlib import Path

import pytest
from support.cli import cli_env
from support.embed_server import EmbedServer
from support.stores import all_points, make_store
from support.trees import mutate
from support.zygote import Zygote

from roocode_tui.core.config import EmbedderSettings, IndexSettings
from roocode_tui.core.embedders.openai import OpenAIEmbedder
from roocode_tui.core.ingest.indexer import Indexer

ROUNDS = 20  # per store, in PARTS independent tests (a parallel run spreads them over its workers)
PARTS = 4


async def clean_points(tree: Path, srv: EmbedServer, backend: str, data: Path) -> dict[str, dict]:
    store = make_store(backend, data)
    emb = OpenAIEmbedder(EmbedderSettings(provider="openai", base_url=srv.base_url, model=srv.model))
    try:
        await Indexer(store, emb, "crash", [tree], index=IndexSettings(chunk_tokens=60, chunk_overlap_tokens=6)).run()
        return await all_points(store, "crash")
    finally:
        await emb.aclose()
        await store.close()


async def stored_points(backend: str, data: Path) -> dict[str, dict]:
    store = make_store(backend, data)
    try:
        return await all_points(store, "crash")
    finally:
        await store.close()


@pytest.mark.slow
@pytest.mark.parametrize("part", range(PARTS))
@pytest.mark.parametrize("backend", ["embedded", "qdrant"])
def test_sigkill_at_random_moments_never_loses_or_duplicates(tmp_path: Path, corpus: Path, backend: str, part: int):
    rounds = ROUNDS // PARTS
    rng = random.Random(20261124 + part)
    tree = corpus
    (tree / "pages").mkdir()
    for i in range(25):
        (tree / "pages" / f"page_{i}.md").write_text(
            f"# Page {i}\n\n" + f"Some detail about topic {i}. " * 120 + f"\n\n## More\n\n{'Further notes. ' * 30}\n"
        )
    data = tmp_path / "data"
    home = tmp_path / "home"
    with EmbedServer() as srv:
        srv.faults.delay_s = 0.1
        env = cli_env(home, srv, backend, data)
        command = ["index", str(tree), "-c", "crash", "--json"]
        # Each command is a process forked from one that imported the command line once (a fresh
        # interpreter spends most of a second importing): killed, it dies as the installed one would.
        with Zygote(env, tmp_path / "runs") as zygote:
            first = zygote.run(command)
            assert first.rc == 0, first.stderr
            kills = 0
            for round_no in range(rounds):
                mutate(tree, rng, round_no)
                proc = zygote.spawn(command)
                time.sleep(rng.uniform(0.1, 1.8))  # start-up, discovery, embedding, upserts, deletions
                if proc.poll() is None:
                    proc.kill()
                    kills += 1
                assert proc.wait() in (0, -signal.SIGKILL)
                srv.faults.delay_s = 0  # the slow server was there to kill a run mid-way: the re-run just finishes
                rerun = zygote.run(command)
                assert rerun.rc == 0, rerun.stderr
                got = asyncio.run(stored_points(backend, data))
                want = asyncio.run(clean_points(tree, srv, backend, tmp_path / f"clean{round_no}"))
                srv.faults.delay_s = 0.1
                assert set(got) == set(want), (
                    f"round {round_no}: {len(set(got) - set(want))} orphans, {len(set(want) - set(got))} lost"
                )
                for pid, payload in want.items():
                    assert (
                        got[pid]["file_hash"] == payload["file_hash"]
                        and got[pid]["chunk_hash"] == payload["chunk_hash"]
                    )
                    assert (got[pid]["start_line"], got[pid]["end_line"]) == (
                        payload["start_line"],
                        payload["end_line"],
                    )
            assert kills >= rounds // 2, "most rounds must really be killed mid-run"
