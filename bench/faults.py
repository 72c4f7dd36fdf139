"""The fault table: ``make faults``. Each fault, several runs, both stores, compared with a clean run.

    python bench/faults.py            # the whole table, writes the faults section of bench/RESULTS.md
    python bench/faults.py --quick    # one run of each (prints only)

The faults are the test suite's own (tests/support/embed_server.py injects them; the SIGKILL rounds and
the odd-file tree come from tests/system/test_crash.py and tests/core/test_hostile_files.py). Every run
starts from an empty store unless said otherwise, and its final points are compared with those
of a fault-free run of the same tree on the same store backend:

- points lost: points of the clean run that are missing, or stored with another file hash,
  chunk hash or line range;
- duplicates: points stored that the clean run does not have (a second copy of a chunk, or a
  stale one that should have been deleted).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "tests"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(TESTS))

from sections import machine, write_section  # noqa: E402
from support.cli import cli_env  # noqa: E402
from support.embed_server import EmbedServer  # noqa: E402
from support.embedders import SMALL, embedder_for  # noqa: E402
from support.hostile import as_unprivileged, build_tree, chown_tree  # noqa: E402
from support.paths import CORPUS  # noqa: E402
from support.qdrant_server import QdrantServer  # noqa: E402
from support.stores import all_points, make_store  # noqa: E402
from support.trees import mutate  # noqa: E402

from roocode_tui.core.config import StoreSettings  # noqa: E402
from roocode_tui.core.errors import EmbedderFatalError, ModelMismatchError, StoreError  # noqa: E402
from roocode_tui.core.ingest.indexer import Indexer  # noqa: E402

BACKENDS = ("embedded", "qdrant")
Points = dict[str, dict[str, Any]]


@dataclass
class Row:
    fault: str
    runs: int = 0
    lost: int = 0
    duplicates: int = 0
    outcomes: list[str] = field(default_factory=list)
    ok: bool = True

    def add(self, outcome: str, lost: int, dups: int, *, runs: int = 1, failed: bool | None = None) -> None:
        """Tally runs; a run failed when told so, else when its outcome says FAILED."""
        self.runs += runs
        self.lost += lost
        self.duplicates += dups
        self.outcomes.append(outcome)
        self.ok &= not (outcome.startswith("FAILED") if failed is None else failed)

    def outcome(self) -> str:
        seen: dict[str, int] = {}
        for o in self.outcomes:
            seen[o] = seen.get(o, 0) + 1
        return "; ".join(o if n == 1 else f"{o} (x{n})" for o, n in seen.items())


def compare(got: Points, want: Points) -> tuple[int, int]:
    lost = sum(
        1
        for pid, p in want.items()
        if pid not in got
        or any(got[pid][k] != p[k] for k in ("path", "file_hash", "chunk_hash", "start_line", "end_line"))
    )
    return lost, len(set(got) - set(want))


def make_tree(dest: Path) -> Path:
    """The test corpus plus pages enough for a run of many batches (faults land mid-run)."""
    shutil.copytree(CORPUS, dest, symlinks=True)
    (dest / "pages").mkdir()
    for i in range(16):
        (dest / "pages" / f"page_{i}.md").write_text(
            f"# Page {i}\n\n" + f"Notes on subject {i} and its details. " * 60 + f"\n\n## More\n\n{'Further. ' * 40}\n"
        )
    return dest


async def index(backend: str, data: Path, srv: EmbedServer, tree: Path, **kw: Any) -> Any:
    store = make_store(backend, data)
    emb = embedder_for(srv, **kw)
    try:
        return await Indexer(store, emb, "faults", [tree], index=SMALL).run()
    finally:
        await emb.aclose()
        await store.close()


async def points_of(backend: str, data: Path) -> Points:
    store = make_store(backend, data)
    try:
        return await all_points(store, "faults")
    finally:
        await store.close()


# -- server faults -------------------------------------------------------------------------------
FAULTS: list[tuple[str, dict[str, Any]]] = [
    ("20% of requests answered 429, 500 or 503 at random", {"fail_rate": 0.2}),
    ("429 with Retry-After, then 5xx bursts", {"fail_next": [429, 429, 503, 500, 502, 504], "retry_after_s": 0.2}),
    ("answers delayed past the 2 s timeout", {"delay_next": [0, 3.0, 0, 3.0, 3.0]}),
    ("connections closed before the answer", {"drop_next": 3}),
    ("connections cut in the middle of the answer", {"cut_next": 3}),
    ("item cap: 413 above 3 inputs", {"max_items": 3}),
    ("item cap: 400 'too many inputs' above 3", {"max_items": 3, "max_items_status": 400}),
    ("inputs over the context length (45 tokens)", {"max_model_len": 45}),
]


async def server_fault(backend: str, tree: Path, data: Path, faults: dict[str, Any], seed: int) -> str:
    with EmbedServer() as srv:
        srv._rng.seed(seed)  # a different 20% each run
        for key, value in faults.items():
            setattr(srv.faults, key, value)
        run = await index(backend, data, srv, tree)
    if run.phase != "done" or run.files_failed:
        return f"FAILED: {run.phase} {run.message} {run.errors[:2]}"
    return "ended with the fault-free points"


WRONG_ANSWERS: list[tuple[str, dict[str, Any]]] = [
    ("answers of the wrong dimension (32 instead of 64), after a file changed", {"wrong_dim": 32}),
    ("answers with one embedding too few, after a file changed", {"wrong_count": True}),
    ("a 200 answer that is an HTML page, after a file changed", {"not_json": True}),
]


async def wrong_answers(
    backend: str, tree: Path, work: Path, seed: int, faults: dict[str, Any]
) -> tuple[str, Points, Points]:
    """Index cleanly, change files, then the server answers wrongly every time: a clear error,
    store untouched.

    Twice: the same embedder goes on (the answers' check stops the run), and a new one starts
    (its dimension probe meets the collection's record, or the same wrong answer)."""
    tag = "-".join(faults)
    data = work / f"wrong-{tag}-{backend}-{seed}"
    tree2 = work / f"wrong-tree-{tag}-{backend}-{seed}"
    shutil.copytree(tree, tree2)
    messages = []
    with EmbedServer() as srv:
        emb = embedder_for(srv)
        store = make_store(backend, data)
        try:
            await Indexer(store, emb, "faults", [tree2], index=SMALL).run()
            before = await all_points(store, "faults")
            (tree2 / "docs" / "faq.md").write_text("# FAQ\n\nAll new answers.\n")
            (tree2 / "pages" / "page_0.md").unlink()
            for key, value in faults.items():
                setattr(srv.faults, key, value)
            for fresh in (False, True):
                if fresh:
                    await emb.aclose()
                    emb = embedder_for(srv)
                try:
                    await Indexer(store, emb, "faults", [tree2], index=SMALL).run()
                except (EmbedderFatalError, ModelMismatchError) as exc:
                    messages.append(_short(str(exc)))
                else:
                    messages.append("FAILED: the run accepted the answers")
        finally:
            await emb.aclose()
            await store.close()
    after = await points_of(backend, data)
    return "stopped with: " + " / ".join(dict.fromkeys(messages)), after, before


def _short(message: str) -> str:
    """The error without the server's address and the advice after it."""
    message = message.split("/v1: ", 1)[-1]
    return message.split("; use the original model")[0]


async def server_stopped(backend: str, tree: Path, work: Path, down_s: float) -> tuple[str, Points]:
    data = work / f"stopped-{backend}"
    srv = EmbedServer().start()
    srv.faults.delay_s = 0.2
    port = srv.port
    store = make_store(backend, data)
    emb = embedder_for(srv, max_concurrency=1, batch_size=4)
    indexer = Indexer(store, emb, "faults", [tree], index=SMALL)
    task = asyncio.create_task(indexer.run())
    p = indexer.progress
    try:
        while p.points_written == 0 and not task.done():
            await asyncio.sleep(0.05)
        srv.stop()
        down_at = time.monotonic()
        waiting = 0
        while time.monotonic() - down_at < down_s and not task.done():
            waiting += bool(p.waiting)
            await asyncio.sleep(0.5)
        paused = not task.done() and bool(p.waiting)
        back = EmbedServer(port=port).start()
        try:
            run = await asyncio.wait_for(task, timeout=120)
            resumed = time.monotonic() - down_at - down_s
        finally:
            back.stop()
    finally:
        await emb.aclose()
        await store.close()
    if not paused or run.phase != "done" or run.files_failed:
        return f"FAILED: paused={paused} {run.phase} {run.message}", await points_of(backend, data)
    outcome = f"paused ('waiting') while down, resumed by itself {resumed:.0f} s after the restart"
    return outcome, await points_of(backend, data)


# -- SIGKILL ------------------------------------------------------------------------------------
def sigkill_rounds(backend: str, work: Path, rounds: int) -> tuple[int, int, int, int, list[str]]:
    """tests/system/test_crash.py's rounds: change the tree, SIGKILL `index` at a random moment, re-run,
    compare with a clean index of the same tree. Returns (runs, kills, lost, duplicates, problems)."""
    rng = random.Random(20261124 + len(backend))
    tree = work / f"crash-tree-{backend}"
    shutil.copytree(CORPUS, tree, symlinks=True)
    (tree / "pages").mkdir()
    for i in range(25):
        (tree / "pages" / f"page_{i}.md").write_text(
            f"# Page {i}\n\n" + f"Some detail about topic {i}. " * 120 + f"\n\n## More\n\n{'Further notes. ' * 30}\n"
        )
    data = work / f"crash-{backend}"
    lost = dups = kills = 0
    problems: list[str] = []
    with EmbedServer() as srv:
        srv.faults.delay_s = 0.1
        env = cli_env(work / f"crash-home-{backend}", srv, backend, data)
        command = [sys.executable, "-m", "roocode_tui.cli", "index", str(tree), "-c", "crash", "--json"]
        subprocess.run(command, env=env, capture_output=True, timeout=180, check=True)
        for round_no in range(rounds):
            mutate(tree, rng, round_no)
            proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.3, 2.0))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(timeout=30)
            rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
            if rerun.returncode != 0:
                problems.append(f"round {round_no}: re-run failed: {rerun.stderr.strip()[-200:]}")
            got = asyncio.run(_crash_points(backend, data))
            srv.faults.delay_s = 0
            clean = work / f"crash-clean-{backend}-{round_no}"
            want = asyncio.run(_crash_clean(backend, clean, srv, tree))
            srv.faults.delay_s = 0.1
            shutil.rmtree(clean, ignore_errors=True)
            a, b = compare(got, want)
            lost, dups = lost + a, dups + b
    return rounds, kills, lost, dups, problems


async def _crash_points(backend: str, data: Path) -> Points:
    store = make_store(backend, data)
    try:
        return await all_points(store, "crash")
    finally:
        await store.close()


async def _crash_clean(backend: str, data: Path, srv: EmbedServer, tree: Path) -> Points:
    from roocode_tui.core.config import EmbedderSettings
    from roocode_tui.core.embedders.openai import OpenAIEmbedder

    store = make_store(backend, data)
    emb = OpenAIEmbedder(EmbedderSettings(provider="openai", base_url=srv.base_url, model=srv.model))
    try:
        await Indexer(store, emb, "crash", [tree], index=SMALL).run()
        return await all_points(store, "crash")
    finally:
        await emb.aclose()
        await store.close()


# -- odd files ----------------------------------------------------------------------------------
ODD_FILES = [
    ("binary data under a code extension", "bin.py"),
    ("invalid UTF-8 (Latin-1 bytes)", "latin1.md"),
    ("UTF-16 with BOM", "utf16.md"),
    ("CRLF line endings", "crlf.py"),
    ("CR line endings", "cr.txt"),
    ("a 10 MB single line", "huge_line.txt"),
    ("an empty file", "empty.md"),
    ("a name with spaces", "name with spaces.md"),
    ("a name with a newline", "new\nline.md"),
    ("a non-ASCII name", "ünïcödé.md"),
    ("60 levels of nesting", "/".join(f"d{i}" for i in range(60)) + "/bottom.md"),
    ("a symlink loop", "loop/back"),
]


def odd_files(backend: str, work: Path) -> dict[str, tuple[str, int, int]]:
    """Index the odd-file tree twice; per file: (outcome, points lost, duplicates) against the first run."""
    root = work / f"odd-{backend}"
    build_tree(root)
    data = work / f"odd-data-{backend}"
    out: dict[str, tuple[str, int, int]] = {}
    with EmbedServer() as srv:
        first = asyncio.run(index(backend, data, srv, root))
        p1 = asyncio.run(points_of(backend, data))
        second = asyncio.run(index(backend, data, srv, root))
        p2 = asyncio.run(points_of(backend, data))
    skipped = {e.path: e.reason for e in first.log if e.kind == "skip"}
    for _label, path in ODD_FILES:
        mine1 = {k: v for k, v in p1.items() if v["path"] == path}
        mine2 = {k: v for k, v in p2.items() if v["path"] == path}
        if path in skipped:
            outcome = f"skipped: {skipped[path]}"
        elif mine1:
            spans = sorted((v["start_line"], v["end_line"]) for v in mine1.values())
            outcome = f"indexed, lines {spans[0][0]}-{spans[-1][1]}"
        else:
            outcome = "FAILED: neither indexed nor skipped"
        lost, dups = compare(mine2, mine1)
        if second.files_indexed or second.chunks_embedded:
            dups += second.chunks_embedded
        out[path] = (outcome, lost, dups)
    return out


def permission_denied(backend: str, work: Path) -> tuple[str, int, int]:
    """A directory that cannot be listed: skipped with its reason; its points from an earlier run stay."""
    base = Path(tempfile.mkdtemp(prefix="roocode-faults-perm-"))
    try:
        root, data = base / "tree", base / "data"
        (root / "secret").mkdir(parents=True)
        (root / "open.md").write_text("# Open\n\nA page anyone may read.\n")
        (root / "secret" / "hidden.md").write_text("# Hidden\n\nA page behind a locked door.\n")
        with EmbedServer() as srv:
            asyncio.run(index(backend, data, srv, root))
            before = asyncio.run(points_of(backend, data))
            chown_tree(base)
            os.chmod(root / "secret", 0)
            try:

                def again() -> dict[str, Any]:
                    run = asyncio.run(index(backend, data, srv, root))
                    skips = {e.path: e.reason for e in run.log if e.kind == "skip"}
                    return {"reason": skips.get("secret", ""), "phase": run.phase}

                result = as_unprivileged(again)
            finally:
                os.chmod(root / "secret", 0o755)
            after = asyncio.run(points_of(backend, data))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    lost, dups = compare(after, before)
    outcome = f"skipped: {result['reason']}; its points kept" if result["phase"] == "done" else "FAILED"
    return outcome, lost, dups


# -- the table ----------------------------------------------------------------------------------
async def gather_per_store(make: Callable[[str], Awaitable[Any]]) -> list[Any]:
    return list(await asyncio.gather(*(make(b) for b in BACKENDS)))


async def server_rows(work: Path, runs: int, stop_s: float, rows: list[Row]) -> None:
    tree = make_tree(work / "tree")
    want: dict[str, Points] = {}
    with EmbedServer() as srv:
        for backend in BACKENDS:
            await index(backend, work / f"clean-{backend}", srv, tree)
            want[backend] = await points_of(backend, work / f"clean-{backend}")
    for label, faults in FAULTS:
        row = Row(label)
        for seed in range(runs):
            for backend in BACKENDS:
                data = work / f"run-{backend}-{len(rows)}-{seed}"
                outcome = await server_fault(backend, tree, data, faults, seed)
                got = await points_of(backend, data)
                lost, dups = compare(got, want[backend])
                if (lost or dups) and not outcome.startswith("FAILED"):
                    outcome = "FAILED: the run ended but its points differ from the clean run's"
                row.add(outcome, lost, dups)
        rows.append(row)
        print(f"  {label}: {row.runs} runs, lost {row.lost}, duplicates {row.duplicates}: {row.outcome()}", flush=True)

    for label, faults in WRONG_ANSWERS:
        row = Row(label)
        for seed in range(runs):
            for backend in BACKENDS:
                outcome, after, before = await wrong_answers(backend, tree, work, seed, faults)
                lost, dups = compare(after, before)
                shown = outcome + " (store untouched)" if (lost, dups) == (0, 0) else outcome
                row.add(shown, lost, dups, failed="FAILED" in outcome)
        rows.append(row)
        print(f"  {row.fault}: {row.runs} runs: {row.outcome()}", flush=True)

    row = Row(f"the server stopped for {stop_s:.0f} s mid-run, then started again")
    results = await gather_per_store(lambda b: server_stopped(b, tree, work, stop_s))
    for backend, (outcome, got) in zip(BACKENDS, results, strict=True):
        lost, dups = compare(got, want[backend])
        row.add(outcome, lost, dups)
    rows.append(row)
    print(f"  {row.fault}: {row.outcome()}", flush=True)


# -- a Qdrant server's faults ---------------------------------------------------------------------
WRITES = r"^/collections/faults/points$"  # the run's point upserts
STORE_FAULTS: list[tuple[str, Callable[[QdrantServer], Any]]] = [
    ("Qdrant server: 503 on three writes", lambda q: q.faults.answer(503, times=3, method="PUT", path=WRITES)),
    (
        "Qdrant server: 429 with Retry-After 1 on two writes",
        lambda q: q.faults.answer(429, retry_after=1, times=2, method="PUT", path=WRITES),
    ),
    (
        "Qdrant server: 502 and 504 from a proxy",
        lambda q: [q.faults.answer(c, method="PUT", path=WRITES) for c in (502, 504)],
    ),
    (
        "Qdrant server: connections dropped before the write",
        lambda q: q.faults.drop(times=3, method="PUT", path=WRITES),
    ),
    (
        "Qdrant server: the write done but its answer lost",
        lambda q: q.faults.lose_answer(times=3, method="PUT", path=WRITES),
    ),
    ("Qdrant server: a 200 with half its JSON", lambda q: q.faults.garble(times=3, method="PUT", path=WRITES)),
]


def qdrant_store(q: QdrantServer, patience_s: float) -> Any:
    from roocode_tui.core.stores.qdrant import QdrantStore

    return QdrantStore(StoreSettings(backend="qdrant", url=q.url, patience_s=patience_s, timeout_s=5))


async def on_qdrant_server(
    tree: Path, srv: EmbedServer, fault: Callable[[QdrantServer], Any] | None, patience_s: float = 60
):
    """A run into a Qdrant server (the suite's, over qdrant-client's local mode) with ``fault``
    set after the collection exists: (outcome, the run's points, the clean run's points)."""
    with QdrantServer() as q:
        store = qdrant_store(q, patience_s)
        emb = embedder_for(srv, batch_size=4, max_concurrency=2)
        try:
            await Indexer(store, emb, "clean", [tree], index=SMALL).run()
            want = await all_points(store, "clean")
            if fault is not None:
                fault(q)
            started = time.monotonic()
            try:
                run = await Indexer(store, emb, "faults", [tree], index=SMALL).run()
            except StoreError as exc:
                took = time.monotonic() - started
                return f"stopped after {took:.0f} s with: {_short(str(exc).replace(q.url, 'URL'))}", {}, {}
            got = await all_points(store, "faults")
            if run.phase != "done" or run.files_failed:
                return f"FAILED: {run.phase} {run.message}", got, want
            ids = q.point_ids("faults")
            if len(ids) != len(set(ids)):
                return "FAILED: a point stored twice", got, want
            return "ended with the fault-free points", got, want
        finally:
            await emb.aclose()
            await store.close()


async def store_rows(work: Path, runs: int, stop_s: float, rows: list[Row]) -> None:
    tree = make_tree(work / "store-tree")
    with EmbedServer() as srv:
        srv.faults.delay_s = 0.01  # a run long enough for faults to land mid-run
        for label, fault in STORE_FAULTS:
            row = Row(label)
            for _ in range(runs):
                outcome, got, want = await on_qdrant_server(tree, srv, fault)
                lost, dups = compare(got, want)
                row.add(outcome, lost, dups)
            rows.append(row)
            print(
                f"  {row.fault}: {row.runs} runs, lost {row.lost}, duplicates {row.duplicates}: {row.outcome()}",
                flush=True,
            )

        row = Row(f"Qdrant server: restarted for {stop_s:.0f} s mid-run (store.patience_s {stop_s + 30:.0f})")
        outcome, got, want = await on_qdrant_server(
            tree, srv, lambda q: q.faults.down(stop_s, method="PUT", path=WRITES, skip=2), patience_s=stop_s + 30
        )
        lost, dups = compare(got, want)
        row.add(outcome, lost, dups)
        rows.append(row)
        print(f"  {row.fault}: {row.outcome()}", flush=True)

        row = Row("Qdrant server: down for good mid-run (store.patience_s 10)")
        outcome, _, _ = await on_qdrant_server(
            tree, srv, lambda q: q.faults.down(3600, method="PUT", path=WRITES, skip=2), patience_s=10
        )
        row.add(outcome, 0, 0, failed="stopped after" not in outcome)
        rows.append(row)
        print(f"  {row.fault}: {row.outcome()}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description="the fault table")
    ap.add_argument(
        "--quick", action="store_true", help="one run of each, 5 SIGKILL rounds, a 10 s outage; prints only"
    )
    ap.add_argument("--runs", type=int, default=3, help="runs of each server fault per store")
    ap.add_argument("--kills", type=int, default=10, help="SIGKILL rounds per store")
    ap.add_argument("--stop-s", type=float, default=30.0, help="how long the server stays stopped")
    ap.add_argument(
        "--only", nargs="*", choices=["server", "store", "kill", "odd"], help="some parts only (prints only)"
    )
    a = ap.parse_args()
    if a.quick:
        a.runs, a.kills, a.stop_s = 1, 5, 10.0
    started = time.monotonic()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="roocode-faults-") as tmp:
        work = Path(tmp)
        os.environ["HOME"] = str(work / "home")
        parts = set(a.only or ["server", "store", "kill", "odd"])
        if "server" in parts:
            print("server faults", flush=True)
            asyncio.run(server_rows(work, a.runs, a.stop_s, rows))
        if "store" in parts:
            print("a Qdrant server's faults", flush=True)
            asyncio.run(store_rows(work, a.runs, min(a.stop_s, 20.0), rows))
        if "kill" in parts:
            print("SIGKILL at random moments", flush=True)
            kill_rows(work, a.kills, rows)
        if "odd" in parts:
            print("odd files", flush=True)
            odd_rows(work, rows)
    took = time.monotonic() - started
    table = render(rows, took, a)
    print(table, flush=True)
    if not a.quick and not a.only:
        write_section("faults", table)
        print(f"wrote the faults section of {HERE / 'RESULTS.md'}", flush=True)
    bad = [r for r in rows if r.lost or r.duplicates or not r.ok]
    sys.exit(1 if bad else 0)


def kill_rows(work: Path, kills: int, rows: list[Row]) -> None:
    results: dict[str, Any] = {}
    threads = [
        threading.Thread(target=lambda b=b: results.__setitem__(b, sigkill_rounds(b, work, kills))) for b in BACKENDS
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    row = Row("SIGKILL of `index` at a random moment (discovery, embedding, upsert, deletion), then a re-run")
    for backend in BACKENDS:
        runs, killed, lost, dups, problems = results[backend]
        row.runs += runs
        row.lost += lost
        row.duplicates += dups
        row.outcomes.append(f"{backend}: {killed} of {runs} runs killed mid-run, re-runs complete")
        row.outcomes += [f"FAILED: {p}" for p in problems]
        row.ok &= not problems
    rows.append(row)
    print(f"  {row.fault}: {row.outcome()}", flush=True)


def odd_rows(work: Path, rows: list[Row]) -> None:
    per_store = {b: odd_files(b, work) for b in BACKENDS}
    for label, path in ODD_FILES:
        shown = path.replace("\n", "\\n")
        row = Row(f"{label} (`{shown if len(shown) < 40 else shown[:20] + '…/' + shown.rsplit('/', 1)[-1]}`)")
        for backend in BACKENDS:
            outcome, lost, dups = per_store[backend][path]
            row.add(outcome, lost, dups, runs=2)
        rows.append(row)
    row = Row("a directory that cannot be listed (chmod 000, read as an unprivileged user)")
    for backend in BACKENDS:
        outcome, lost, dups = permission_denied(backend, work)
        row.add(outcome, lost, dups)
    rows.append(row)


def render(rows: list[Row], took: float, a: argparse.Namespace) -> str:
    lines = [
        "## Faults and odd inputs (`make faults`)",
        "",
        f"Machine: {machine()}. Took {took:.0f} s. Every run on both stores (embedded, and qdrant-client's "
        "local mode), compared with a fault-free run of the same tree: **points lost** = clean-run points "
        "missing or stored with another file hash, chunk hash or line range; **duplicates** = points stored "
        "that the clean run does not have. Odd files: each tree indexed twice per store (lost and duplicates "
        "against the first run). The Qdrant server rows: runs into the test suite's Qdrant REST server "
        "(tests/support/qdrant_server.py, over qdrant-client's local mode) with faults on the run's point writes, "
        "compared with a clean collection on the same server.",
        "",
        "| fault or input | runs | points lost | duplicates | outcome |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r.fault} | {r.runs} | {r.lost} | {r.duplicates} | {r.outcome()} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
