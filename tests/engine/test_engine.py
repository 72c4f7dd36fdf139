"""The engine and its faces with real processes: an engine subprocess (`roocode-tui serve`, or
one a command starts), CLI subprocesses talking to it over its Unix socket, an embedding server
on loopback. Each test has its own HOME and runtime dir, and stops every engine it started."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from support.cli import CLI
from support.embed_server import EmbedServer
from support.engines import Box, _signal
from support.trees import many_files


# -- the engine and its faces ----------------------------------------------------------------
def test_a_command_starts_the_engine_which_keeps_the_store_and_the_runs(box: Box, corpus: Path):
    box.env["ROOCODE_TUI_EMBEDDER__API_KEY"] = "sk-never-leaves-the-engine"
    assert box.cli("status").returncode == 3  # none yet, and status starts none
    first = box.cli("index", str(corpus), "-c", "demo", "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["status"] == "done" and report["files_indexed"] == 7 and report["errors"] == []
    status = box.status()
    assert status is not None and status["pid"] != os.getpid()
    (run,) = status["runs"]
    assert run["collection"] == "demo" and run["phase"] == "done" and run["started_by"].startswith("cli pid ")
    raw = box.cli("status", "--json").stdout
    assert "sk-never-leaves-the-engine" not in raw and "**********" in raw  # keys stay in the engine
    assert oct(box.socket.stat().st_mode & 0o777) == "0o600"
    assert oct(box.socket.parent.stat().st_mode & 0o777) == "0o700"

    found = box.cli("search", "restore a snapshot", "-c", "demo", "--json")
    assert found.returncode == 0, found.stderr
    results = json.loads(found.stdout)["results"]
    assert results and {"id", "path", "start_line", "score", "text"} <= set(results[0])
    names = json.loads(box.cli("collections", "list", "--json").stdout)["collections"]
    assert [c["name"] for c in names] == ["demo"] and names[0]["points"] == report["points_written"]
    missing = box.cli("collections", "info", "nope")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "roocode-tui: error: collection 'nope' does not exist; available: demo"

    # The thin path: a search answered by the engine costs Python's start and little more (a
    # name mapped to None is marked absent, not loaded: httpx's own CLI, cli/__init__.py).
    probe = (
        "import sys; from roocode_tui import cli; code = cli.run(sys.argv[1:]); "
        "loaded = {m.split('.')[0] for m, mod in sys.modules.items() if mod is not None}; "
        "heavy = sorted(loaded & {'pydantic', 'httpx', 'asyncio', 'numpy'}); "
        "print('heavy:', heavy, file=sys.stderr); sys.exit(code)"
    )
    thin = box.python(probe, "search", "restore a snapshot", "-c", "demo", "--json")
    assert thin.returncode == 0 and "heavy: []" in thin.stderr, thin.stderr
    assert json.loads(thin.stdout)["results"] == results
    # The command's own entry point sends a plain search before building any parser.
    entry = (
        "import sys; from roocode_tui import entry; sys.argv = ['roocode-tui', *sys.argv[1:]]\n"
        "try:\n    entry.main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "names = ('argparse', 'http', 'json', 'socket', 'typing', 'pathlib', 'platformdirs', 'pydantic', 'httpx',"
        " 'asyncio', 'rich')\n"
        "print('loaded:', [n for n in names if n in sys.modules], file=sys.stderr); sys.exit(code)"
    )
    for form in (["--json"], ["--limit=10", "--json"], ["-n", "10", "--json", "--mode", "hybrid"]):
        tiny = box.python(entry, "search", "restore a snapshot", "-c", "demo", *form)
        assert tiny.returncode == 0 and "loaded: []" in tiny.stderr, tiny.stderr
        assert json.loads(tiny.stdout)["results"] == results
    missing = box.python(entry, "search", "anything", "-c", "nope", "--json")
    assert missing.returncode == 2 and missing.stderr.startswith(
        "roocode-tui: error: collection 'nope' does not exist"
    ), missing.stderr

    # Snapshots through the engine, which holds the collection: consistent, nothing to release.
    snap = json.loads(box.cli("collections", "snapshot", "demo", "--json").stdout)
    listed = json.loads(box.cli("collections", "snapshots", "demo", "--json").stdout)["snapshots"]
    assert [s["path"] for s in listed] == [snap["path"]]
    restored = box.cli("collections", "restore", "demo-copy", os.path.relpath(snap["path"]), "--json")
    assert restored.returncode == 0, restored.stderr  # a relative FILE is the command's, not the engine's
    assert json.loads(restored.stdout)["points"] == report["points_written"]

    # A command that opens the store itself: the engine lets go of it, and takes it back later.
    in_process = box.cli("--no-engine", "search", "restore a snapshot", "-c", "demo", "--json")
    assert in_process.returncode == 0, in_process.stderr
    assert json.loads(in_process.stdout)["results"][0]["path"] == results[0]["path"]
    assert box.cli("search", "restore a snapshot", "-c", "demo").returncode == 0
    assert box.engine_pid() == status["pid"]  # the same engine all along
    logs = list((box.home / ".local" / "state" / "roocode-tui").glob("*.log"))
    assert logs and not any("sk-never-leaves-the-engine" in log.read_text() for log in logs)


def test_two_commands_index_two_collections_while_a_third_searches(box: Box, tmp_path: Path, corpus: Path):
    box.serve()
    assert box.cli("index", str(corpus), "-c", "demo").returncode == 0
    a = many_files(tmp_path / "a", 30, "alpha")
    b = many_files(tmp_path / "b", 30, "beta")
    first = box.popen("index", str(a), "-c", "alpha", "--json")
    second = box.popen("index", str(b), "-c", "beta", "--json")
    searches = [box.cli("search", "restore a snapshot", "-c", "demo", "--json") for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in (first, second)]
    for proc, (out, err) in zip((first, second), outs, strict=True):
        assert proc.returncode == 0, err
        assert json.loads(out)["files_indexed"] == 30
    for found in searches:
        assert found.returncode == 0, found.stderr
        assert json.loads(found.stdout)["results"][0]["path"] == "docs/backups.md"
    runs = {r["collection"]: r for r in box.status()["runs"]}
    assert {runs[c]["phase"] for c in ("demo", "alpha", "beta")} == {"done"}
    again = box.cli("index", str(a), "-c", "alpha", "--json")
    assert json.loads(again.stdout)["files_unchanged"] == 30  # the engine's store is the truth


@pytest.mark.slow
def test_after_a_run_the_engine_builds_the_search_index_by_itself(tmp_path: Path):
    """An index run leaves its points unindexed (a search scans them all); once the collection
    is idle the engine builds its HNSW index in a child process and serves it, same answers.
    The build keeps to engine.build_memory_mb: too small a budget defers it, and says so; a
    budget too small for the whole collection splits the build into pieces."""
    with EmbedServer(dim=4096) as srv:  # 4096-d float32: Qdrant indexes a segment from 625 points on
        b = Box(tmp_path, srv)
        b.env["ROOCODE_TUI_EMBEDDER__BATCH_SIZE"] = "64"
        b.env["ROOCODE_TUI_STORE__VECTOR_DATATYPE"] = "float32"
        try:
            first = b.serve(ROOCODE_TUI_ENGINE__HNSW_AFTER_S="0", ROOCODE_TUI_ENGINE__BUILD_MEMORY_MB="1")
            docs = tmp_path / "big"
            for i in range(14):
                path = docs / f"part{i:02d}.md"
                path.parent.mkdir(parents=True, exist_ok=True)
                sections = [f"## Section {i}.{j}\n\nStep {j} of part {i}: " + f"word{i}x{j} " * 30 for j in range(25)]
                path.write_text("\n\n".join(sections) + "\n")
            ran = b.cli("index", str(docs), "-c", "big", "--json", timeout=300)
            assert ran.returncode == 0, ran.stderr
            points = json.loads(ran.stdout)["points_written"]
            assert 1250 <= points <= 1500, points

            def last() -> dict:
                found = (b.status() or {}).get("search_index", {}).get("last", {}).get("big", {})
                assert "error" not in found, found
                return found

            b.wait_for(lambda: "deferred" in last(), "the build to be deferred", timeout=60)
            assert last()["deferred"].endswith("engine.build_memory_mb is 1")
            (info,) = json.loads(b.cli("collections", "list", "--json").stdout)["collections"]
            assert info["search_index"]["state"] == "deferred"
            assert " deferred " in b.cli("collections", "list").stdout.splitlines()[1]
            assert "big: deferred: the smallest build needs about" in b.cli("status").stdout
            first.terminate()
            first.wait(timeout=30)

            # 90 MB holds about 800 of these points at a time: two pieces of half the collection each
            b.serve(ROOCODE_TUI_ENGINE__HNSW_AFTER_S="0", ROOCODE_TUI_ENGINE__BUILD_MEMORY_MB="90")
            b.cli("collections", "list")  # a face uses the collection: the engine looks at it
            b.wait_for(lambda: "seconds" in last(), "the background index build", timeout=240)
            built = last()
            assert built["how"] == "split" and built["pieces"] == 2 and built["budget_mb"] == 90, (built, points)
            assert built["optimized"] is True and built["max_rss_mb"] > 0
            (info,) = json.loads(b.cli("collections", "list", "--json").stdout)["collections"]
            assert info["points"] == points
            assert info["search_index"] == {"state": "indexed", "points": points, "unindexed": 0}
            table = b.cli("collections", "list").stdout.splitlines()
            assert "search" in table[0] and " indexed " in table[1], table
            assert "search index: built in the background 0 s after a run, within 90 MB" in b.cli("status").stdout
            # The built shard answers: a word only section 3.7 has (30 times) finds it by the keyword
            # lane, which is exact. The dense lane answers too, but its HNSW search is approximate and
            # the test server's bag-of-words vectors are nearly orthogonal to each other, the worst
            # case for a graph search: it found part00.md first in 1 fresh-clone CI run of 9.
            found = b.cli("search", "word3x7", "-c", "big", "--mode", "keyword", "--json")
            assert found.returncode == 0, found.stderr
            assert json.loads(found.stdout)["results"][0]["path"] == "part03.md"
            dense = b.cli("search", "word3x7", "-c", "big", "--mode", "dense", "--json")
            assert dense.returncode == 0 and len(json.loads(dense.stdout)["results"]) == 10, dense.stderr
            shards = [p for p in (b.home / ".local/share/roocode-tui/collections/big").iterdir() if p.is_dir()]
            b.wait_for(lambda: sum(p.exists() for p in shards) == 1, "the replaced shard to be removed", timeout=30)
            again = b.cli("index", str(docs), "-c", "big", "--json")
            assert json.loads(again.stdout)["files_unchanged"] == 14  # the built shard is the collection
        finally:
            b.stop_all()


def test_a_copy_is_a_run_of_the_engine_which_keeps_serving(box: Box, tmp_path: Path, corpus: Path):
    box.serve()
    indexed = json.loads(box.cli("index", str(corpus), "-c", "demo", "--json").stdout)
    pid = box.engine_pid()
    back = tmp_path / "back"
    out = box.cli("collections", "copy", "demo", "--to", "embedded", "--path", str(back), "--as", "far", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert (
        report["status"] == "done" and report["points_copied"] == indexed["points_written"] == report["target_points"]
    )
    assert report["target"] == f"embedded store at {back}"
    here = box.cli("collections", "copy", "demo", "--to", "embedded", "--as", "near", "--detach", "--json")
    assert here.returncode == 0, here.stderr
    run_id = json.loads(here.stdout)["run"]
    box.wait_for(lambda: any(r["id"] == run_id and r["phase"] == "done" for r in box.status()["runs"]), "the copy")
    runs = {r["id"]: r for r in box.status()["runs"]}
    assert runs[run_id]["kind"] == "copy" and runs[run_id]["collection"] == "demo"
    assert runs[run_id]["points_written"] == indexed["points_written"]
    assert runs[run_id]["started_by"].startswith("cli pid ")
    names = {c["name"]: c["points"] for c in json.loads(box.cli("collections", "list", "--json").stdout)["collections"]}
    assert names == {"demo": indexed["points_written"], "near": indexed["points_written"]}
    found = box.cli("search", "restore a snapshot", "-c", "near", "--json")
    assert json.loads(found.stdout)["results"][0]["path"] == "docs/backups.md"
    assert box.engine_pid() == pid  # the engine kept its store open throughout: nothing was released
    missing = box.cli("collections", "copy", "nope", "--to", "embedded", "--as", "x")
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1, missing.stderr
    assert "'nope'" in missing.stderr


def test_ctrl_c_cancels_the_engines_run_and_detach_leaves_it_going(box: Box, tmp_path: Path, embed_server):
    box.serve()
    tree = many_files(tmp_path / "tree", 40)
    embed_server.faults.delay_s = 0.1
    proc = box.popen("index", str(tree), "-c", "slow", "--json")
    box.wait_for(lambda: (box.run_of("slow") or {}).get("files_indexed", 0) >= 2, "the run to write files")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert json.loads(out)["status"] == "cancelled"
    assert box.run_of("slow")["phase"] == "cancelled"

    detached = box.cli("index", str(tree), "-c", "slow", "--detach", "--json")
    assert detached.returncode == 0, detached.stderr
    run_id = json.loads(detached.stdout)["run"]
    embed_server.faults.delay_s = 0
    box.wait_for(lambda: (box.run_of("slow") or {}).get("id") == run_id, "the detached run")
    box.wait_for(lambda: box.run_of("slow")["phase"] == "done", "the detached run to finish")
    status = box.cli("status")
    assert status.returncode == 0 and run_id in status.stdout and "slow" in status.stdout
    follow = box.popen("status", "--follow", "--json")
    first = json.loads(follow.stdout.readline())  # one line per change of the runs
    assert [r["id"] for r in first["runs"]][-1] == run_id
    follow.send_signal(signal.SIGINT)
    follow.communicate(timeout=30)
    assert follow.returncode == 0


def test_a_killed_engine_is_noticed_and_the_next_one_resumes_to_the_fault_free_points(
    box: Box, tmp_path: Path, embed_server
):
    tree = many_files(tmp_path / "tree", 40)
    clean = Box(tmp_path / "clean", embed_server)
    assert clean.cli("--no-engine", "index", str(tree), "-c", "kill").returncode == 0
    expected = point_ids(clean.home)

    engine = box.serve()
    embed_server.faults.delay_s = 0.1
    proc = box.popen("index", str(tree), "-c", "kill", "--json")
    box.wait_for(lambda: (box.run_of("kill") or {}).get("files_indexed", 0) >= 3, "the run to write files")
    engine.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    _, err = proc.communicate(timeout=30)
    noticed = time.monotonic() - killed_at
    assert proc.returncode == 1 and noticed < 1.5, (noticed, err)
    assert "the engine" in err and "stopped answering" in err and err.count("\n") == 1

    embed_server.faults.delay_s = 0
    resumed = box.cli("index", str(tree), "-c", "kill", "--json")  # starts a fresh engine
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["files_unchanged"] >= 3 and report["files_indexed"] + report["files_unchanged"] == 40
    assert box.engine_pid() not in (None, engine.pid)
    box.stop_all()
    assert point_ids(box.home) == expected  # nothing lost, nothing duplicated


def point_ids(home: Path) -> set[str]:
    import asyncio

    from roocode_tui.core.stores.edge import EdgeStore

    async def read() -> set[str]:
        store = EdgeStore(home / ".local" / "share" / "roocode-tui")
        ids: set[str] = set()
        offset = None
        try:
            while True:
                page, offset = await store.scroll("kill", offset, 512)
                ids |= {p.id for p in page}
                if offset is None:
                    return ids
        finally:
            await store.close()

    return asyncio.run(read())


# -- faults and trust ------------------------------------------------------------------------
def test_one_engine_per_store_a_stale_socket_is_replaced_and_other_settings_are_refused(box: Box, corpus: Path):
    box.socket.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(box.socket))  # a socket file nobody listens on: an engine that died
    stale.close()
    first = box.serve()
    second = subprocess.run([*CLI, "serve"], env=box.env, capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    assert f"an engine is running already (pid {first.pid}" in second.stderr
    assert second.stderr.count("\n") == 1

    other = box.cli("search", "x", "-c", "demo", ROOCODE_TUI_SEARCH__MODE="dense")
    assert other.returncode == 1 and other.stderr.count("\n") == 1
    assert f"the running engine (pid {first.pid}) was started with no config file (search.mode differs)" in other.stderr
    assert "--no-engine" in other.stderr

    stopped = box.cli("serve", "--stop")
    assert stopped.returncode == 0
    assert f"stopping the engine (pid {first.pid}) of embedded {box.home}" in stopped.stderr
    assert f"the engine (pid {first.pid}) has exited" in stopped.stderr
    # It returned once the engine had exited: what comes right after finds none.
    assert first.poll() is not None and not box.socket.exists()
    after = box.cli("status")
    assert after.returncode == 3 and after.stdout.startswith("no engine is running for embedded ")


def test_faces_of_two_stores_get_two_engines_and_see_only_their_own_collections(box: Box, tmp_path: Path, corpus: Path):
    """Two data dirs under one uid and no XDG_RUNTIME_DIR (the runtime dir is then shared by
    every process of the user): each store gets its own engine, found by its faces alone."""
    del box.env["XDG_RUNTIME_DIR"]
    stores = {}
    for name in ("x1", "x2"):
        env = {"XDG_DATA_HOME": str(tmp_path / name)}
        done = box.cli("index", str(corpus), "-c", f"only-{name}", "--json", **env)
        assert done.returncode == 0, done.stderr
        stores[name] = env
    pids = set()
    try:
        for name, env in stores.items():
            listed = json.loads(box.cli("collections", "list", "--json", **env).stdout)["collections"]
            assert [c["name"] for c in listed] == [f"only-{name}"]
            status = json.loads(box.cli("status", "--json", **env).stdout)
            pids.add(status["pid"])
            assert status["serves"] == f"embedded {os.path.realpath(tmp_path / name / 'roocode-tui')}"
            other = "x2" if name == "x1" else "x1"
            theirs = [e for e in status["other_engines"] if str(tmp_path / other) in e["store"]["where"]]
            assert len(theirs) == 1 and theirs[0]["pid"] != status["pid"]
        assert len(pids) == 2
        # A search of the other store's collection is not answered from this one (thin path included).
        missing = box.cli("search", "backups", "-c", "only-x2", **stores["x1"])
        assert missing.returncode == 2 and "available: only-x1" in missing.stderr
        for env in stores.values():
            stopped = box.cli("serve", "--stop", **env)
            assert stopped.returncode == 0 and "has exited" in stopped.stderr, stopped.stderr
            assert box.cli("status", **env).returncode == 3
    finally:
        for pid in pids:
            _signal(pid, signal.SIGTERM)


def _tcp_listeners(pid: int) -> list[str]:
    """The TCP ports process ``pid`` listens on (from /proc: its socket inodes in LISTEN state)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                if cols[3] == "0A" and cols[9] in inodes:
                    ports.append(str(int(cols[1].rsplit(":", 1)[1], 16)))
    return ports


def test_no_tcp_listener_unless_configured_and_then_only_with_the_token(box: Box):
    import urllib.error
    import urllib.request

    plain = box.serve()
    assert box.status()["listen"] is None and _tcp_listeners(plain.pid) == []
    box.stop_all()

    served = box.serve(ROOCODE_TUI_ENGINE__LISTEN="127.0.0.1:0")
    status = box.status()
    host, port = status["listen"].rsplit(":", 1)
    assert host == "127.0.0.1" and _tcp_listeners(served.pid) == [port]
    token_file = Path(status["token_file"])
    assert token_file == box.home / ".local" / "state" / "roocode-tui" / "engine.token"
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    token = token_file.read_text().strip()
    assert len(token) >= 40 and token not in box.cli("status", "--json").stdout

    def get(path: str, auth: str | None) -> tuple[int, dict]:
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": auth} if auth else {})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    for auth in (None, "Bearer wrong", f"Basic {token}"):
        code, body = get("/status", auth)
        assert code == 401 and "needs its token" in body["error"]["message"]
    code, body = get("/status", f"Bearer {token}")
    assert code == 200 and body["pid"] == served.pid
    assert box.cli("status").returncode == 0  # the socket's faces need no token


def _engines_of(box: Box) -> list[int]:
    """The `serve` processes running with this box's HOME (its engines, started by whom ever)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                env = (entry / "environ").read_bytes().split(b"\0")
                alive = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
                if b"serve" in argv and f"HOME={box.home}".encode() in env and alive:
                    found.append(int(entry.name))
    return found


def _engine_log(box: Box) -> str:
    logs = list((box.home / ".local" / "state" / "roocode-tui").glob("engine-*.log"))
    return logs[0].read_text() if logs else ""


def test_a_cold_index_starts_one_engine_while_it_loads_its_settings(box: Box, corpus: Path):
    """With no engine running, `index` starts one before loading its own settings (the two
    start-ups overlap: ~0.3 s of a cold command) and waits for that one, not a second."""
    done = box.cli("index", str(corpus), "-c", "demo", "--json")
    assert done.returncode == 0, done.stderr
    status = box.status()
    assert status is not None and _engines_of(box) == [status["pid"]]
    log = _engine_log(box)
    assert [line for line in log.splitlines() if line.startswith("roocode-tui engine ")] == [
        f"roocode-tui engine {status['pid']} on {box.socket} (exits after 120 s idle; Ctrl-C stops it)"
    ], log
    assert "an engine is running already" not in log and "error" not in log.lower()
    again = box.cli("index", str(corpus), "-c", "demo", "--json")  # the running one answers
    assert again.returncode == 0 and box.status()["pid"] == status["pid"], again.stderr


def _maps(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def test_only_an_index_command_starts_its_engine_with_the_run_s_code_loaded(box: Box, corpus: Path):
    """An engine that `index` starts loads the chunkers (syntax trees, their grammars) before it
    listens, not with the run's first files; one that another face starts does not pay for them."""
    assert box.cli("collections", "list").returncode == 0
    other = box.status()
    assert other is not None and "--for-index" not in _cmdline(other["pid"])
    assert "tree_sitter" not in _maps(other["pid"])  # no run yet: no grammar loaded
    box.cli("serve", "--stop")
    box.wait_for(lambda: box.status() is None, "the engine to stop")

    done = box.cli("index", str(corpus), "-c", "demo", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["chunks_embedded"] > 0
    ready = box.status()
    assert ready is not None and "--for-index" in _cmdline(ready["pid"])
    assert "tree_sitter" in _maps(ready["pid"])


_GC_PROBE = """
import gc, json, os, signal, sys, threading, time
from pathlib import Path

from support.engines import engine_status

from roocode_tui.cli.commands import run

def watch():
    while engine_status(Path(sys.argv[1])) is None:
        time.sleep(0.02)
    print(json.dumps({"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}), flush=True)
    os.kill(os.getpid(), signal.SIGTERM)

threading.Thread(target=watch, daemon=True).start()
sys.exit(run(["serve"]))
"""


def test_the_engine_starts_without_the_collector_and_serves_with_it(box: Box):
    """`serve` turns the garbage collector off for its start (its imports allocate much and free
    little) and back on once it serves, with what the start made frozen."""
    probe = box.python(
        f"import sys; sys.path.insert(0, {str(Path(__file__).parents[1])!r})\n{_GC_PROBE}", str(box.socket)
    )
    assert probe.returncode == 0, probe.stderr
    seen = json.loads(probe.stdout.splitlines()[-1])
    assert seen["enabled"] is True
    assert seen["frozen"] > 10_000  # the start's objects: modules, classes, the app


def _cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def test_an_index_refused_before_it_needs_the_engine_leaves_none_running(box: Box, corpus: Path):
    """The engine started early for a command that then fails on its own (here: --read-only
    refuses an index) is stopped with it."""
    refused = box.cli("index", str(corpus), "-c", "demo", "--read-only")
    assert refused.returncode == 2 and "read-only mode" in refused.stderr, refused.stderr
    assert (box.home / ".local" / "state" / "roocode-tui").is_dir()  # its log: it was started
    assert _engines_of(box) == [] and box.status() is None


def test_a_read_only_engine_refuses_writes_from_every_face(box: Box, corpus: Path):
    assert box.cli("index", str(corpus), "-c", "demo").returncode == 0
    box.cli("serve", "--stop")
    box.wait_for(lambda: box.status() is None, "the engine to stop")
    box.serve("--read-only")
    refused = box.cli("index", str(corpus), "-c", "demo")
    assert refused.returncode == 2 and "read-only engine" in refused.stderr
    deleted = box.cli("collections", "delete", "demo", "--yes")
    assert deleted.returncode == 2 and "read-only engine" in deleted.stderr
    assert box.cli("search", "snapshot", "-c", "demo").returncode == 0  # reading is fine


NOBODY = 65534


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as a second user")
def test_another_user_is_refused_by_the_socket_and_by_its_peer_check(box: Box):
    box.serve()

    def as_nobody() -> str:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            outcome = "?"
            try:
                os.close(read_end)
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
                s = socket.socket(socket.AF_UNIX)
                s.settimeout(5)
                try:
                    s.connect(str(box.socket))
                    s.sendall(b"GET /status HTTP/1.1\r\nHost: engine\r\n\r\n")
                    outcome = "answered" if s.recv(100) else "closed"
                except PermissionError:
                    outcome = "permission denied"
                except (ConnectionResetError, BrokenPipeError):
                    outcome = "closed"
            finally:
                os.write(write_end, outcome.encode())
                os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end) as fh:
            result = fh.read()
        os.waitpid(pid, 0)
        return result

    assert as_nobody() == "permission denied"  # the socket is 0600 in a 0700 directory
    # Opened up by mistake: the engine still checks who is calling (SO_PEERCRED) and hangs up.
    opened = [box.runtime, box.socket.parent]
    for directory in opened:
        os.chmod(directory, 0o755)
    os.chmod(box.socket, 0o666)
    try:
        assert as_nobody() == "closed"
    finally:
        for directory in opened:
            os.chmod(directory, 0o700)
        os.chmod(box.socket, 0o600)
    assert box.status() is not None  # and still serves its user


# -- the TUI as a face -------------------------------------------------------------------------
async def test_the_tui_follows_a_run_another_terminal_started_leaves_it_going_and_can_cancel_it(
    box: Box, tmp_path: Path, embed_server, monkeypatch: pytest.MonkeyPatch
):
    from roocode_tui.core.config import load_settings
    from roocode_tui.tui.app import create_app
    from roocode_tui.tui.modals import ConfirmModal

    box.serve()
    tree = many_files(tmp_path / "tree", 40)
    embed_server.faults.delay_s = 0.15
    cli = box.popen("index", str(tree), "-c", "slow", "--json")
    for key, value in box.env.items():  # the TUI gets the settings the engine has
        if key.startswith("ROOCODE_TUI_") or key in ("HOME", "XDG_RUNTIME_DIR"):
            monkeypatch.setenv(key, value)
    settings = load_settings()

    async def following(app, pilot) -> None:
        deadline = time.monotonic() + 60
        while not (app.ingest_progress is not None and app.ingest_progress.active):
            assert time.monotonic() < deadline, "F2 never showed the run"
            await pilot.pause(0.1)

    first = create_app(settings, gpu_reader=lambda: ([], "no GPU in tests"))
    async with first.run_test(size=(100, 30)) as pilot:
        await following(first, pilot)
        p = first.ingest_progress
        assert p.collection == "slow" and p.started_by.startswith("cli pid")
        assert not first.connection.in_process
        await pilot.press("f2")
        await pilot.pause()
        assert "slow" in str(first.query_one("#index-state").content)
        assert "by cli" in str(first.query_one("#index-runs").content)
        await pilot.press("ctrl+q")  # no question: the run is the engine's
        await pilot.pause()
    assert first.return_code == 0
    assert box.run_of("slow")["phase"] == "indexing"  # closing the TUI left the run going

    second = create_app(settings, gpu_reader=lambda: ([], "no GPU in tests"))
    async with second.run_test(size=(100, 30)) as pilot:
        await following(second, pilot)
        await pilot.press("f2")
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(second.screen, ConfirmModal) and "started by cli pid" in second.screen.question
        await pilot.press("y")
        deadline = time.monotonic() + 60
        while second.ingest_progress.phase != "cancelled":
            assert time.monotonic() < deadline, f"the run was not cancelled: {second.ingest_progress.phase}"
            await pilot.pause(0.1)
    out, err = cli.communicate(timeout=60)
    assert cli.returncode == 130, err  # the CLI that started it says it was cancelled
    assert json.loads(out)["status"] == "cancelled"


async def test_the_tui_says_when_the_engine_dies_and_carries_on_with_a_new_one(
    box: Box, monkeypatch: pytest.MonkeyPatch
):
    from roocode_tui.core.config import load_settings
    from roocode_tui.tui.app import create_app

    engine = box.serve()
    for key, value in box.env.items():
        if key.startswith("ROOCODE_TUI_") or key in ("HOME", "XDG_RUNTIME_DIR"):
            monkeypatch.setenv(key, value)
    app = create_app(load_settings(), gpu_reader=lambda: ([], "no GPU in tests"))
    async with app.run_test(size=(100, 30)) as pilot:
        deadline = time.monotonic() + 30
        while app.connection.engine is None or app.status.store[1] is not True:
            assert time.monotonic() < deadline, "the TUI never connected"
            await pilot.pause(0.1)
        engine.send_signal(signal.SIGKILL)
        engine.wait(timeout=10)
        killed_at = time.monotonic()
        while "stopped answering" not in app.status.store[0]:
            assert time.monotonic() - killed_at < 3, "the TUI did not notice the engine died"
            await pilot.pause(0.05)
        noticed = time.monotonic() - killed_at
        while app.status.store[1] is not True:  # connect() starts a fresh engine
            assert time.monotonic() - killed_at < 40, "no fresh engine"
            await pilot.pause(0.1)
    assert noticed < 1.5
    assert box.engine_pid() not in (None, engine.pid)


async def test_the_tui_shows_a_run_that_began_and_ended_between_two_looks(
    box: Box, corpus: Path, monkeypatch: pytest.MonkeyPatch
):
    from roocode_tui.core.config import load_settings
    from roocode_tui.tui.app import create_app

    box.serve()
    for key, value in box.env.items():
        if key.startswith("ROOCODE_TUI_") or key in ("HOME", "XDG_RUNTIME_DIR"):
            monkeypatch.setenv(key, value)
    app = create_app(load_settings(), gpu_reader=lambda: ([], "no GPU in tests"))
    async with app.run_test(size=(100, 30)) as pilot:
        deadline = time.monotonic() + 30
        while app.connection.engine is None or app.status.store[1] is not True:  # connected: "no collections yet"
            assert time.monotonic() < deadline, "the TUI never connected"
            await pilot.pause(0.1)
        assert app.active is None and "no collections yet" in app.status.store[0]
        done = box.cli("index", str(corpus), "-c", "quick")  # over in well under a poll
        assert done.returncode == 0, done.stderr
        while app.active != "quick":  # the run, shown and announced, makes its collection the active one
            assert time.monotonic() < deadline, "F2 never showed the finished run"
            await pilot.pause(0.1)
        await pilot.pause()
        assert app.ingest_progress.collection == "quick" and app.ingest_progress.phase == "done"
        assert app.status.store[0] == "store embedded"  # the run made the collection the bar missed
        assert "done quick" in str(app.query_one("#index-state").content)


# -- typed answers: the same objects from the engine in this process and from a served one ----
async def test_the_client_answers_the_same_typed_objects_as_the_engine_in_this_process(
    box: Box, corpus: Path, monkeypatch: pytest.MonkeyPatch
):
    """Searches (chunks with their explanations, files, several collections, keyword mode) and
    the collections: what the served engine's server writes, its client reads back into the
    very objects the engine in this process returns."""
    import dataclasses

    from roocode_tui.core.config import load_settings
    from roocode_tui.core.results import FileResult, Hit, SearchResult
    from roocode_tui.core.stores.base import CollectionInfo
    from roocode_tui.engine.client import running
    from roocode_tui.engine.local import LocalEngine
    from roocode_tui.engine.quick import search_request

    box.env["ROOCODE_TUI_ENGINE__HNSW_AFTER_S"] = "3600"  # no background index build between the two looks
    box.serve()
    assert box.cli("index", str(corpus), "-c", "demo").returncode == 0
    assert box.cli("index", str(corpus / "docs"), "-c", "docs").returncode == 0
    for key, value in box.env.items():
        if key.startswith("ROOCODE_TUI_") or key in ("HOME", "XDG_RUNTIME_DIR"):
            monkeypatch.setenv(key, value)
    settings = load_settings()
    asked = [
        search_request(
            ["restore a snapshot", "LRUCache get"],
            "demo",
            limit=5,
            path=None,
            lang=None,
            mode=None,
            cwd=str(box.home),
            explain=True,
        ),
        search_request(
            ["where are backups kept"],
            "demo,docs",
            limit=3,
            path=None,
            lang=None,
            mode=None,
            cwd=str(box.home),
            group_by="file",
        ),
        search_request(["restore"], "demo", limit=4, path="docs/", lang=None, mode="keyword", cwd=str(box.home)),
    ]

    async def answers(engine) -> tuple[list[list[SearchResult]], list[CollectionInfo], CollectionInfo]:
        found = [await engine.search(**request) for request in asked]
        untimed = [[dataclasses.replace(r, embed_ms=0.0, store_ms=0.0) for r in results] for results in found]
        return untimed, await engine.collections(), await engine.collection("demo")

    client = await running(settings)
    assert client is not None
    try:
        served = await answers(client)
        assert await client.release()  # the store is this process's now
    finally:
        await client.aclose()
    local = LocalEngine(settings)
    try:
        in_process = await answers(local)
    finally:
        await local.aclose()

    searches, infos, demo = served
    assert all(isinstance(r, SearchResult) for results in searches for r in results)
    assert all(isinstance(h, Hit) for results in searches for r in results for h in r.hits)
    chunks, files, keyword = searches
    assert [r.query for r in chunks] == ["restore a snapshot", "LRUCache get"] and all(r.hits for r in chunks)
    assert all(h.explain for h in chunks[0].hits)
    assert files[0].files and all(isinstance(f, FileResult) for f in files[0].files)
    assert keyword[0].mode == "keyword" and keyword[0].hits and all(h.path.startswith("docs/") for h in keyword[0].hits)
    assert [i.name for i in infos] == ["demo", "docs"] and all(isinstance(i, CollectionInfo) for i in infos)
    assert demo.freshness and demo.meta is not None and demo.meta.paths == [str(corpus)]
    assert served == in_process


async def test_f3_and_the_status_bar_show_the_engines_gpu_and_vllm_readings(
    box: Box, tmp_path: Path, embed_server: EmbedServer, monkeypatch: pytest.MonkeyPatch
):
    """The engine reads the GPUs (here a stand-in nvidia-smi on its PATH, no NVML) and vLLM's
    /metrics (the embedding server's) once a second; F3 and the status bar's VRAM gauge draw its
    latest readings, and the TUI reads neither itself."""
    from support.gpus import fake_nvidia_smi
    from support.tui import plain
    from textual.widgets import Static

    from roocode_tui.core.config import load_settings
    from roocode_tui.core.monitor.metrics import VllmMonitor
    from roocode_tui.tui.app import create_app

    fake_nvidia_smi(tmp_path / "bin")
    no_nvml = tmp_path / "no-nvml"
    no_nvml.mkdir()
    (no_nvml / "pynvml.py").write_text('raise ImportError("no NVML here")\n')
    embed_server.running = 3
    box.serve(PATH=f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}", PYTHONPATH=str(no_nvml))
    for key, value in box.env.items():
        if key.startswith("ROOCODE_TUI_") or key in ("HOME", "XDG_RUNTIME_DIR"):
            monkeypatch.setenv(key, value)

    async def polled_here(self, client=None):
        raise AssertionError("the TUI polled vLLM itself")

    def read_here():
        raise AssertionError("the TUI read the GPUs itself")

    monkeypatch.setattr(VllmMonitor, "poll", polled_here)
    app = create_app(load_settings(), gpu_reader=read_here)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f3")

        def shown(box_id: str) -> str:
            return plain(app.query_one(box_id, Static).content)

        deadline = time.monotonic() + 30
        while "H100" not in shown("#gpu-info") or "VRAM" not in str(app.query_one("#status", Static).content):
            assert time.monotonic() < deadline, f"F3 shows no GPU of the engine's: {shown('#gpu-info')}"
            await pilot.pause(0.1)
        gpu = shown("#gpu-info")
        assert "#0 NVIDIA H100 80GB HBM3" in gpu and "62.0/79.6 GiB" in gpu and "util 97% · 61°C · 512 W" in gpu
        assert "#2 NVIDIA A100-SXM4-40GB" in gpu and "util n/a · 29°C · 54 W" in gpu
        vllm = shown("#vllm-info")
        assert embed_server.base_url.removesuffix("/v1") in vllm and "healthy" in vllm, vllm
        assert "running 3 · waiting 0" in vllm and "KV cache" in vllm and "25%" in vllm, vllm
        assert "VRAM" in (status := str(app.query_one("#status", Static).content)) and "62.0/80G" in status
        assert app.connection.engine is not None and not app.connection.in_process
