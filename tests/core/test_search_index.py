"""The embedded store's search index (HNSW) built on a copy in another process and switched in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from roocode_tui.core.stores.base import CollectionMeta, PointRecord
from roocode_tui.core.stores.edge import EdgeStore

DIM = 1024  # float32 at 1024-d: Qdrant indexes a segment from 2,500 points on
N = 2800


def points(start: int, n: int, seed: int = 0) -> list[PointRecord]:
    rng = np.random.default_rng(seed)
    vecs = rng.standard_normal((n, DIM)).astype(np.float32)
    return [
        PointRecord(
            id=f"00000000-0000-0000-0000-{start + i:012d}",
            vector=vecs[i],
            payload={"path": f"f{start + i}.md", "root": "/r", "text": f"chunk {start + i}"},
            sparse=([1 + i % 7, 100], [1.0, 0.5]),
        )
        for i in range(n)
    ]


async def filled(tmp_path: Path) -> EdgeStore:
    store = EdgeStore(tmp_path / "data", vector_datatype="float32")
    await store.create_collection(
        CollectionMeta(name="demo", dimension=DIM, model="m", query_prefix="", document_prefix="", hybrid=True)
    )
    for i in range(0, N, 700):
        await store.upsert("demo", points(i, 700, seed=i))
    return store


def build(target: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "roocode_tui.core.stores.edge_build", str(target)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def resident_kb(under: Path) -> int:
    """This process's resident pages of the files mapped from under ``under`` (smaps' Rss)."""
    total, inside = 0, False
    prefix = str(under) + "/"
    with open("/proc/self/smaps", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            head = line.split()
            if head and "-" in head[0] and not head[0].endswith(":"):
                inside = len(head) > 5 and head[5].startswith(prefix)
            elif inside and head[0] == "Rss:":
                total += int(head[1])
    return total


def shard_dirs(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "data" / "collections" / "demo").iterdir() if p.is_dir())


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_built_copy_serves_the_same_points_with_an_index(tmp_path: Path):
    store = await filled(tmp_path)
    assert await store.search_index("demo") == {"state": "full scan", "points": N, "unindexed": N}
    probes = [p.vector for p in points(0, 5)]
    before = [[h.id for h in await store.search("demo", v, 5)] for v in probes]

    job = await store.begin_index_build("demo")
    assert job is not None and job.points == N
    # Searches answer from the serving shard while the copy is built in its own process.
    result = build(job.target)
    assert result["optimized"] is True
    assert [[h.id for h in await store.search("demo", v, 5)] for v in probes] == before

    assert await store.finish_index_build(job) is True
    # Opening the built shard read its write-ahead log, while the shard it replaced was still
    # open: those pages were let go at once (the two shards' memory added up there).
    assert resident_kb(job.target / "wal") == 0
    assert await store.search_index("demo") == {"state": "indexed", "points": N, "unindexed": 0}
    assert await store.count("demo") == N
    await store.warm_index("demo")  # its first search, paid by the engine once the old one is closed
    after = [[h.id for h in await store.search("demo", v, 5)] for v in probes]
    assert [a[0] for a in after] == [b[0] for b in before]  # each probe finds itself first
    states = await store.file_states("demo", ["/r"])
    assert len(states) == N
    await store.close()

    # The old shard is gone once let go; the collection opens from the built one.
    assert len(shard_dirs(tmp_path)) == 1
    again = EdgeStore(tmp_path / "data")
    assert await again.count("demo") == N
    assert (await again.search_index("demo"))["state"] == "indexed"
    await again.close()


@pytest.mark.slow
@pytest.mark.asyncio
async def test_writes_during_the_build_are_replayed_on_the_copy_before_it_serves(tmp_path: Path):
    """A watched collection is written every few seconds: its build must not be thrown away
    by each write, and no write may be lost by the switch."""
    store = await filled(tmp_path)
    job = await store.begin_index_build("demo")
    assert job is not None
    extra = points(N, 3, seed=99)
    await store.upsert("demo", extra[:2])  # a sync wrote while the copy was being built
    build(job.target)
    await store.upsert("demo", extra[2:])
    await store.delete_ids("demo", [extra[1].id, points(5, 1)[0].id])
    await store.set_payload("demo", [extra[0].id], {"heading": "replayed"})
    assert store.churn("demo") == N + 3 + 2 + 1

    assert await store.finish_index_build(job) is True
    assert await store.count("demo") == N + 3 - 2
    (hit,) = await store.search("demo", extra[0].vector, 1)
    assert hit.id == extra[0].id and hit.heading == "replayed"
    assert (await store.search("demo", extra[2].vector, 1))[0].id == extra[2].id
    gone = {extra[1].id, points(5, 1)[0].id}
    assert not gone & {h.id for h in await store.search("demo", extra[1].vector, 20)}
    assert store.churn("demo") == 0  # the built copy holds no deleted points
    assert (await store.search_index("demo"))["state"] == "indexed"
    await store.close()
    assert len(shard_dirs(tmp_path)) == 1
    again = EdgeStore(tmp_path / "data")  # the replayed writes are on disk
    assert await again.count("demo") == N + 1
    await again.close()


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_build_whose_journal_cannot_keep_up_is_dropped_and_nothing_is_lost(tmp_path: Path, monkeypatch):
    from roocode_tui.core.stores.edge import builds as edge

    monkeypatch.setattr(edge, "JOURNAL_POINTS", 2)
    store = await filled(tmp_path)
    job = await store.begin_index_build("demo")
    assert job is not None
    build(job.target)
    extra = points(N, 3, seed=99)
    await store.upsert("demo", extra)  # more than the journal keeps: a whole run, say

    assert await store.finish_index_build(job) is False
    assert not job.target.exists()
    assert await store.count("demo") == N + 3
    hit = await store.search("demo", extra[0].vector, 1)
    assert hit[0].id == extra[0].id
    assert (await store.search_index("demo"))["state"] == "full scan"
    await store.close()
    assert len(shard_dirs(tmp_path)) == 1


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_write_waits_while_the_shard_is_copied(tmp_path: Path, monkeypatch):
    """A copy taken while a write lands could be torn: writes wait for the copy, then go to
    the journal."""
    import asyncio
    import threading

    from roocode_tui.core.stores.edge import builds as edge

    store = await filled(tmp_path)
    extra = points(N, 1, seed=7)
    writer = threading.Thread(target=lambda: asyncio.run(store.upsert("demo", extra)))
    copied = {}
    real_copytree = edge.shutil.copytree

    def copytree(src, dst, *args, **kw):
        if not copied:
            writer.start()
            writer.join(timeout=0.5)
            copied["writer_done_during_copy"] = not writer.is_alive()
        return real_copytree(src, dst, *args, **kw)

    monkeypatch.setattr(edge.shutil, "copytree", copytree)
    job = await store.begin_index_build("demo")
    writer.join(timeout=30)
    assert job is not None and copied == {"writer_done_during_copy": False}
    assert not writer.is_alive() and len(job.journal.ops) == 1
    assert build(job.target)["optimized"] is True
    assert await store.finish_index_build(job) is True
    assert await store.count("demo") == N + 1
    await store.close()


@pytest.mark.asyncio
async def test_a_collection_being_rebuilt_is_not_copied(tmp_path: Path):
    store = await filled(tmp_path)
    meta = await store.get_meta("demo")
    await store.begin_rebuild(meta)
    assert await store.begin_index_build("demo") is None
    await store.close()


@pytest.mark.asyncio
async def test_a_small_collection_counts_as_indexed(tmp_path: Path):
    store = EdgeStore(tmp_path / "data", vector_datatype="float32")
    await store.create_collection(
        CollectionMeta(name="demo", dimension=DIM, model="m", query_prefix="", document_prefix="", hybrid=True)
    )
    await store.upsert("demo", points(0, 50))
    assert await store.search_index("demo") == {"state": "indexed", "points": 50, "unindexed": 50}
    await store.close()


def test_the_state_in_a_word_or_two():
    from roocode_tui.core.display import search_index_label

    assert search_index_label(None) == "—"
    assert search_index_label({"state": "full scan", "points": 9000, "unindexed": 9000}) == "full scan"
    assert search_index_label({"state": "building", "seconds": 12.7, "points": 9000}) == "building 12s"
    assert search_index_label({"state": "building", "seconds": 12.7, "percent": 40}) == "building 40%"
    split = {"state": "building", "percent": 40, "pieces": 5, "pieces_built": 2}
    assert search_index_label(split) == "building 40% (2/5 pieces)"
    assert search_index_label({"state": "deferred", "deferred": "low memory"}) == "deferred"


def _engine(store: EdgeStore) -> object:
    from types import SimpleNamespace

    settings = SimpleNamespace(
        engine=SimpleNamespace(hnsw_after_s=30.0, build_memory_mb=256),
        store=SimpleNamespace(backend="embedded"),
        read_only=False,
    )
    return SimpleNamespace(settings=settings, open_store=lambda: store, writing=lambda name: False)


@pytest.mark.asyncio
async def test_a_collection_written_without_pause_is_looked_at_every_few_minutes(tmp_path: Path, monkeypatch):
    """Each run's end pushes the idle wait back; the first write since the last look bounds it."""
    import asyncio

    from roocode_tui.engine import indexing

    clock = [1000.0]
    monkeypatch.setattr(indexing.time, "monotonic", lambda: clock[0])
    ix = indexing.SearchIndexer(_engine(EdgeStore(tmp_path / "data")))
    ix._task = asyncio.get_running_loop().create_future()  # no builder loop: only the schedule
    ix.written("w")
    assert ix._due["w"] == 1030.0  # idle for hnsw_after_s
    for now in (1020.0, 1100.0, 1250.0, 1290.0):  # a sync every little while
        clock[0] = now
        ix.written("w")
        assert ix._due["w"] == min(now + 30.0, 1000.0 + indexing.BUSY_S)
    assert ix._due["w"] == 1300.0
    ix._task.cancel()


@pytest.mark.slow
@pytest.mark.asyncio
async def test_the_engine_compacts_a_collection_after_much_churn_and_not_before(tmp_path: Path):
    """Replaced and deleted points stay in Qdrant's segments (disk and memory) until a build
    compacts them: past CHURN_MIN / CHURN_SHARE the engine builds an indexed collection again."""
    from roocode_tui.engine import indexing

    store = await filled(tmp_path)
    ix = indexing.SearchIndexer(_engine(store))
    await ix._build("demo")  # a full scan: built
    assert ix._builds == 1 and store.churn("demo") == 0
    assert (await store.search_index("demo"))["state"] == "indexed"

    def size() -> int:
        root = tmp_path / "data" / "collections" / "demo"
        return sum(f.stat().st_size for f in root.rglob("*") if f.is_file())

    for start in range(0, 1400, 700):  # 1,400 points rewritten: new versions, old ones deleted
        await store.delete_ids("demo", [p.id for p in points(start, 700)])
        await store.upsert("demo", points(N + start, 700, seed=start + 1))
    assert (await store.search_index("demo"))["state"] == "indexed"  # 1,400 unindexed: scanned cheaply
    assert store.churn("demo") == 2800 >= max(indexing.CHURN_MIN, indexing.CHURN_SHARE * N)
    before = size()
    await ix._build("demo")
    assert ix._builds == 2 and store.churn("demo") == 0
    await store.tidy()  # the replaced shard goes once its grace time is over
    assert await store.count("demo") == N

    await store.delete_ids("demo", [p.id for p in points(N, 10)])  # a little churn: nothing to do
    await store.upsert("demo", points(N, 10, seed=5))
    await ix._build("demo")
    assert ix._builds == 2 and "demo" in ix._checked
    await store.close()
    assert size() < before  # the deleted points are gone from disk


def _mapped_rss_kb(part: str) -> int:
    """Resident kB of this process's mappings of files whose path contains ``part`` (``/wal/``:
    store write-ahead logs)."""
    total, inside = 0, False
    with open("/proc/self/smaps") as fh:
        for line in fh:
            first = line.split(maxsplit=5)
            if "-" in first[0] and len(first) >= 5 and not first[0].endswith(":"):
                inside = len(first) == 6 and part in first[5]
            elif inside and line.startswith("Rss:"):
                total += int(line.split()[1])
    return total


@pytest.mark.asyncio
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise on /proc/self/maps: Linux")
async def test_written_pages_are_let_go_while_points_are_written(tmp_path: Path, monkeypatch):
    """An index run writes vectors, payloads and keyword vectors through mapped files; every
    page written would stay resident (growing with the collection). Every RELEASE_POINTS
    points they are let go, and every point is still there, found by vector and by keyword."""
    from roocode_tui.core.stores.edge import points as edge

    kept = await filled(tmp_path / "kept")  # 2,800 points, fewer than RELEASE_POINTS
    kept_kb = _mapped_rss_kb(str(tmp_path / "kept"))
    await kept.close()

    monkeypatch.setattr(edge, "RELEASE_POINTS", 600)
    store = await filled(tmp_path / "let-go")
    let_go_kb = _mapped_rss_kb(str(tmp_path / "let-go"))
    # 2,800 x 4 KB of float32 vectors alone are 11 MB; kept resident without the release
    assert kept_kb > 8 * 1024
    assert let_go_kb < kept_kb / 3
    assert await store.count("demo") == N
    for i in (0, 1234, N - 1):
        start = i - i % 700  # filled() wrote points(start, 700, seed=start)
        (hit,) = await store.search("demo", points(start, 700, seed=start)[i - start].vector, 1)
        assert hit.id == f"00000000-0000-0000-0000-{i:012d}"
        assert (hit.text, hit.path) == (f"chunk {i}", f"f{i}.md")
    await store.close()


@pytest.mark.asyncio
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise on /proc/self/maps: Linux")
async def test_the_write_ahead_log_pages_are_let_go_and_nothing_is_lost(tmp_path: Path):
    store = await filled(tmp_path)
    extra = points(N, 200, seed=3)
    await store.upsert("demo", extra)
    before = _mapped_rss_kb("/wal/")
    assert before > 1024  # every write touched the log's pages: they stay resident
    assert store.release_pages() > 0
    assert _mapped_rss_kb("/wal/") < before / 4
    await store.delete_ids("demo", [extra[0].id])  # writing goes on (the pages come back as used)
    assert await store.count("demo") == N + 199
    await store.close()

    # A process that let its log pages go and then died before any flush: the log replays whole.
    script = f"""
import asyncio, os, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_search_index import points
from roocode_tui.core.stores.edge import EdgeStore
async def main():
    store = EdgeStore({str(tmp_path / "data")!r})
    await store.upsert("demo", points({N + 200}, 50, seed=4))
    assert store.release_pages() > 0
    await store.delete_ids("demo", [points({N + 200}, 1, seed=4)[0].id])
    assert store.release_pages() > 0
    os._exit(0)  # no flush, no close
asyncio.run(main())
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    again = EdgeStore(tmp_path / "data")
    assert await again.count("demo") == N + 199 + 49
    (hit,) = await again.search("demo", points(N + 200, 2, seed=4)[1].vector, 1)
    assert hit.id == points(N + 200, 2, seed=4)[1].id
    await again.close()


@pytest.mark.asyncio
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise on /proc/self/maps: Linux")
async def test_an_idle_engine_lets_the_pages_its_searches_mapped_go(tmp_path: Path, embed_server, monkeypatch):
    """Searches map in what they touch; once the engine has been idle for PAGES_IDLE_S it lets
    those pages go, once, and the next search answers the same."""
    import roocode_tui.engine.local as local
    from roocode_tui.core.config import EmbedderSettings, EngineSettings, Settings, StoreSettings

    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(40):
        (tree / f"doc{i}.md").write_text(f"# Topic {i}\n\n" + f"Paragraph {i} about subject {i % 7}.\n" * 30)
    settings = Settings(
        embedder=EmbedderSettings(provider="openai", base_url=embed_server.base_url, model=embed_server.model),
        store=StoreSettings(path=tmp_path / "data"),
        engine=EngineSettings(enabled=False),
    )
    engine = local.LocalEngine(settings)
    store_dir = str(tmp_path / "data")
    try:
        run = await engine.start_run(
            [str(tree)], "docs", rebuild=False, schema="native", cwd=str(tmp_path), started_by="t"
        )
        await engine.run_of(run.id).task
        assert await engine.release_when_idle() is False  # the run let its pages go itself

        async def ask() -> list[str]:
            (result,) = await engine.search(
                ["subject 3 topic 10"], "docs", limit=5, path=None, lang=None, mode="hybrid", cwd=str(tmp_path)
            )
            return [h.path for h in result.hits]

        first = await ask()
        assert first
        mapped = _mapped_rss_kb(store_dir)
        assert mapped > 0
        assert await engine.release_when_idle() is False  # not idle long enough
        monkeypatch.setattr(local, "PAGES_IDLE_S", 0.0)
        assert await engine.release_when_idle() is True
        assert _mapped_rss_kb(store_dir) < mapped
        assert await engine.release_when_idle() is False  # once, until a search maps pages again
        assert await ask() == first
        assert await engine.release_when_idle() is True
    finally:
        await engine.aclose()


def wait_for(predicate, what: str, timeout: float = 10.0) -> None:
    """Poll ``predicate`` until it holds; fail naming ``what`` was awaited after ``timeout`` s."""
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"still not so after {timeout:g}s: {what}")
        time.sleep(0.001)


def test_letting_pages_go_waits_for_store_calls_and_holds_new_ones():
    """The mapped files are listed before they are let go: no store call may unmap one in
    between (its address could be reused by private memory, which the release would zero)."""
    import threading

    from roocode_tui.core.stores.edge.shards import MapGate as _MapGate

    class CountedCondition(threading.Condition):
        """Counts the threads waiting on it: the test waits until each thread it started is
        blocked in the gate, instead of asserting before that thread has run at all."""

        def __init__(self) -> None:
            super().__init__()
            self.waiters = 0

        def wait(self, timeout: float | None = None) -> bool:
            self.waiters += 1  # the condition's lock is held here
            try:
                return super().wait(timeout)
            finally:
                self.waiters -= 1

    gate = _MapGate()
    cond = gate._cond = CountedCondition()
    events: list[str] = []
    inside, leave, released = threading.Event(), threading.Event(), threading.Event()

    def call() -> None:
        with gate.shared(), gate.shared():  # re-entrant within a thread
            events.append("call in")
            inside.set()
            assert leave.wait(10)
            events.append("call out")

    def release() -> None:
        with gate.alone():
            events.append("release")
        released.set()

    first = threading.Thread(target=call)
    first.start()
    assert inside.wait(10)
    rel = threading.Thread(target=release)
    rel.start()
    wait_for(lambda: gate._waiting == 1 and cond.waiters == 1, "the release waits for the call under way")
    later_in = threading.Event()

    def later() -> None:
        with gate.shared():
            events.append("later call")
        later_in.set()

    nxt = threading.Thread(target=later)
    nxt.start()
    wait_for(lambda: cond.waiters == 2, "a new call waits behind the waiting release")
    assert not released.is_set() and not later_in.is_set() and events == ["call in"]
    leave.set()
    for t in (first, rel, nxt):
        t.join(10)
        assert not t.is_alive()
    assert events == ["call in", "call out", "release", "later call"]


# -- builds that fit a memory budget (engine.build_memory_mb) --------------------------------------
WIDE = 4096  # float32 at 4096-d: Qdrant indexes a segment from 625 points on


def wide_points(start: int, n: int, seed: int = 0) -> list[PointRecord]:
    rng = np.random.default_rng(seed)
    vecs = rng.standard_normal((n, WIDE)).astype(np.float32)
    words = ["alpha", "beta", "gamma", "delta", "omega"]
    return [
        PointRecord(
            id=f"00000000-0000-0000-0000-{start + i:012d}",
            vector=vecs[i],
            payload={
                "path": f"d{(start + i) % 9}/f{start + i}.md",
                "root": "/r",
                "text": f"{words[i % 5]} {start + i}",
            },
            # no two points score alike for a word: the same answers whatever the segments' order
            sparse=([1 + i % 5, 100 + (start + i) % 13], [1.0 + (start + i) / 10_000, 0.5 + (start + i) / 20_000]),
        )
        for i in range(n)
    ]


async def wide_store(tmp_path: Path, n: int) -> EdgeStore:
    store = EdgeStore(tmp_path / "data", vector_datatype="float32")
    await store.create_collection(
        CollectionMeta(name="wide", dimension=WIDE, model="m", query_prefix="", document_prefix="", hybrid=True)
    )
    for i in range(0, n, 325):
        await store.upsert("wide", wide_points(i, min(325, n - i), seed=i))
    return store


async def answers(store: EdgeStore, probes: list[np.ndarray]) -> list[list[tuple[str, float]]]:
    """Dense, keyword and fused answers to each probe: ids and scores."""
    out = []
    for i, v in enumerate(probes):
        sparse = ([1 + i % 5, 100 + i % 13], [1.0, 1.0])
        for vector, sp in ((v, None), (None, sparse), (v, sparse)):
            out.append([(h.id, h.score) for h in await store.search("wide", vector, 8, sparse=sp)])
    return out


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_build_over_its_budget_is_split_into_pieces_and_answers_the_same(tmp_path: Path):
    """A budget too small for the whole build streams the points to the build process, which
    indexes them a piece at a time; the pieces are indexed segments and every search (dense,
    keyword, fused) answers as the full scan did before, ids and scores."""
    from roocode_tui.core.stores.edge.builder import run_build

    n = 1300
    store = await wide_store(tmp_path, n)
    look = await store.search_index("wide")
    assert look == {"state": "full scan", "points": n, "unindexed": n}
    whole = await store.plan_index_build("wide", 0, look)
    assert whole.how == "whole" and whole.piece == 0
    from roocode_tui.core.stores.edge.builder import piece_mb, point_bytes

    budget = piece_mb(n, 650, point_bytes(WIDE, 4)) + 1  # room for half of it at a time
    assert budget < whole.need_mb
    plan = await store.plan_index_build("wide", budget, look)
    assert plan.how == "split" and plan.pieces == 2 and plan.piece == 650, plan
    assert plan.need_mb <= plan.budget_mb
    assert plan.describe() == f"split into 2 pieces of 650 points (about {plan.need_mb} MB, budget {plan.budget_mb} MB)"

    probes = [p.vector for p in wide_points(0, 6, seed=0)] + [p.vector for p in wide_points(650, 4, seed=650)]
    before = await answers(store, probes)
    job = await store.begin_index_build("wide", plan.piece)
    assert job is not None and job.streamed and job.points == n
    seen: list[dict] = []
    result = await run_build(store, job, seen.append)
    assert result["optimized"] is True and result["pieces"] == 2
    assert [line["piece"] for line in seen if "piece" in line] == [1, 2]
    assert await store.finish_index_build(job) is True

    assert await store.search_index("wide") == {"state": "indexed", "points": n, "unindexed": 0}
    after = await answers(store, probes)
    # Each lane's answers: the same ids, the same scores. (A fused answer reads each lane deeper
    # than its top 8, where an HNSW search of random 4096-d vectors, nearly orthogonal to each
    # other, is approximate, as it is after any build: its first hit is compared.)
    for k, (a, b) in enumerate(zip(after, before, strict=True)):
        if k % 3 == 2:
            assert a[0][0] == b[0][0]
            continue
        assert [i for i, _ in a] == [i for i, _ in b]
        assert np.allclose([s for _, s in a], [s for _, s in b], atol=1e-6)
    await store.close()
    assert len([p for p in (tmp_path / "data" / "collections" / "wide").iterdir() if p.is_dir()]) == 1
    again = EdgeStore(tmp_path / "data")
    assert await again.count("wide") == n
    assert await answers(again, probes) == after
    await again.close()


@pytest.mark.slow
@pytest.mark.asyncio
async def test_writes_during_a_streamed_build_are_replayed_and_none_is_lost(tmp_path: Path):
    """The points are read from the serving shard while the build runs: writes made meanwhile,
    before or after the page they fall in was read, all reach the built shard."""
    from roocode_tui.core.stores.edge import builder
    from roocode_tui.core.stores.edge.builder import run_build

    n = 1300
    store = await wide_store(tmp_path, n)
    job = await store.begin_index_build("wide", 650)
    assert job is not None
    extra = wide_points(n, 2, seed=77)
    real_page = store.index_build_page
    pages = [0]

    async def page(build, offset, limit):
        pages[0] += 1
        if pages[0] == 3:  # mid-stream: one point already sent is deleted, one not yet sent is renamed
            await store.upsert("wide", extra)
            await store.delete_ids("wide", [wide_points(0, 1)[0].id])
            await store.set_payload("wide", [wide_points(n - 1, 1)[0].id], {"heading": "replayed"})
        return await real_page(build, offset, limit)

    store.index_build_page = page  # type: ignore[method-assign]
    assert n > builder.PAGE_POINTS * 3
    await run_build(store, job)
    assert await store.finish_index_build(job) is True
    assert await store.count("wide") == n + 2 - 1
    (hit,) = await store.search("wide", extra[1].vector, 1)
    assert hit.id == extra[1].id
    renamed = wide_points(975, 325, seed=975)[-1]  # the last point, written in the last batch
    (hit,) = await store.search("wide", renamed.vector, 1)
    assert hit.id == renamed.id and hit.heading == "replayed"
    gone = wide_points(0, 1)[0]
    assert gone.id not in {h.id for h in await store.search("wide", gone.vector, 20)}
    await store.close()


def test_a_plan_fits_the_budget_and_the_memory_available():
    from roocode_tui.core.stores.edge.builder import min_piece, plan_build, point_bytes

    shape = {"dimension": 1024, "width": 2, "threshold_kb": 10_000}
    # no budget, plenty of memory: the whole shard at once
    whole = plan_build(points=100_000, unindexed=100_000, budget_mb=0, available_mb=None, **shape)
    assert whole.how == "whole" and whole.pieces == 1 and whole.need_mb > 1000
    # a budget: pieces as big as it allows, each within it
    split = plan_build(points=100_000, unindexed=100_000, budget_mb=256, available_mb=8000, **shape)
    assert split.how == "split" and split.pieces > 1 and split.need_mb <= 256
    assert split.piece * split.pieces >= 100_000
    # a collection built before, a few points written since: the copy fits
    again = plan_build(points=100_000, unindexed=3_000, budget_mb=512, available_mb=8000, **shape)
    assert again.how == "whole"
    # the machine has less available than the budget: the smaller one counts
    tight = plan_build(points=100_000, unindexed=100_000, budget_mb=512, available_mb=200, **shape)
    assert tight.how == "split" and tight.need_mb <= 200
    # not even the smallest useful piece fits: deferred, and why
    smallest = min_piece(1024, 2, 10_000)
    assert smallest == 5000 and point_bytes(1024, 2) > 4096
    low = plan_build(points=100_000, unindexed=100_000, budget_mb=512, available_mb=30, **shape)
    assert low.how == "deferred" and low.deferred.startswith("30 MB of memory available, the build needs about")
    small = plan_build(points=100_000, unindexed=100_000, budget_mb=20, available_mb=8000, **shape)
    assert small.how == "deferred" and "engine.build_memory_mb is 20" in small.deferred
    assert small.describe().startswith("deferred: the smallest build needs about")
    assert low.low_memory and not small.low_memory  # only the first is worth trying again later
    # pieces never smaller than an indexed segment's minimum, even when split evenly
    odd = plan_build(points=7_000, unindexed=7_000, budget_mb=110, available_mb=None, **shape)
    assert odd.how == "split" and odd.piece >= smallest
