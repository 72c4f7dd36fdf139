"""``index --schema roo --write-cache``: Roo Code's own cache of what it indexed, written
after a complete run in its format (``code-index/cache-manager.ts``: absolute path -> sha256 of
the text, in ``roo-index-cache-<sha256(workspace)>.json``), and refused while VS Code holds it."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest
from support.workspaces import run_roo_index, workspace_files

from roocode_tui.core.agents import roo_cache
from roocode_tui.core.errors import UsageError


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_a_complete_run_writes_roos_cache_of_every_file_it_read(tmp_path: Path, qwen_server):
    workspace = workspace_files(tmp_path / "shop")
    (workspace / "src" / "tiny.ts").write_text("let a = 1\n")  # read, no block: Roo Code hashes it too
    (workspace / "src" / "latin1.py").write_bytes(b"# caf\xe9: not UTF-8\nprint('bonjour, le monde entier')\n")
    storage = tmp_path / "globalStorage" / roo_cache.EXTENSION_ID
    storage.mkdir(parents=True)
    progress = await run_roo_index(tmp_path / "data", qwen_server, workspace, agent_cache=str(storage))
    assert progress.phase == "done" and progress.files_failed == 0

    name = "roo-index-cache-" + sha(str(workspace).encode()) + ".json"
    path = storage / name
    assert progress.agent_cache == str(path) and str(path) in progress.message
    written = json.loads(path.read_text())
    files = ["docs/guide.md", "src/app.ts", "src/tiny.ts", "src/latin1.py"]  # not notes.txt: not Roo's type
    expected = {}
    for rel in files:
        data = (workspace / rel).read_bytes()
        # Buffer.toString("utf-8"), then sha256 of that string: an invalid byte is U+FFFD
        expected[str(workspace / rel)] = sha(data.decode("utf-8", errors="replace").encode())
    assert written == expected
    assert written[str(workspace / "src" / "latin1.py")] != sha((workspace / "src" / "latin1.py").read_bytes())
    assert not [p for p in storage.iterdir() if p.name != name]  # no temporary file left

    # A file given by name is written there; an unchanged re-run writes the same hashes.
    again = tmp_path / "elsewhere.json"
    second = await run_roo_index(tmp_path / "data", qwen_server, workspace, agent_cache=str(again))
    assert second.files_unchanged == 3 and json.loads(again.read_text()) == expected


async def test_no_cache_after_a_failed_file(tmp_path: Path, qwen_server):
    workspace = workspace_files(tmp_path / "shop")
    storage = tmp_path / "storage"
    storage.mkdir()
    await run_roo_index(tmp_path / "data", qwen_server, workspace)
    (workspace / "docs" / "guide.md").write_text("# Guide\n\nRewritten: every step of the install is new now.\n")
    qwen_server.faults.fail_from = qwen_server.posts + 2  # 400 for every request after the dimension probe
    progress = await run_roo_index(tmp_path / "data", qwen_server, workspace, agent_cache=str(storage))
    assert progress.files_failed == 1 and progress.agent_cache == ""
    assert "cache not written: 1 file(s) failed" in progress.message and not list(storage.iterdir())


async def test_a_held_cache_is_refused_before_the_run(tmp_path: Path, qwen_server):
    workspace = workspace_files(tmp_path / "shop")
    storage = tmp_path / "storage"
    storage.mkdir()
    path = storage / roo_cache.cache_name(str(workspace))
    path.write_text('{"kept": "as it was"}')
    lock = path.with_name(path.name + ".lock")
    lock.mkdir()  # safeWriteJson's lock: Roo Code is writing the file
    qwen_server.reset_counts()
    with pytest.raises(UsageError, match="is in use: its lock"):
        await run_roo_index(tmp_path / "data", qwen_server, workspace, agent_cache=str(storage))
    assert json.loads(path.read_text()) == {"kept": "as it was"}
    assert qwen_server.inputs == []  # refused before anything was embedded


def test_holders_name_an_extension_host_and_a_process_with_the_file_open(tmp_path: Path):
    path = tmp_path / "roo-index-cache-x.json"
    path.write_text("{}")
    proc = tmp_path / "proc"
    host = proc / "4242"
    (host / "fd").mkdir(parents=True)
    (host / "cmdline").write_bytes(b"/home/u/.vscode-server/node\0out/bootstrap-fork\0--type=extensionHost\0")
    other = proc / "5151"
    (other / "fd").mkdir(parents=True)
    (other / "cmdline").write_bytes(b"python3\0tool.py\0")
    (other / "fd" / "3").symlink_to(path)
    idle = proc / "6161"
    (idle / "fd").mkdir(parents=True)
    (idle / "cmdline").write_bytes(b"bash\0")
    assert sorted(roo_cache.holders(path, proc)) == ["VS Code's extension host (pid 4242)", "pid 5151 has it open"]
    (other / "fd" / "3").unlink()
    (host / "cmdline").write_bytes(b"code\0--type=renderer\0")
    assert roo_cache.holders(path, proc) == []


def test_the_cache_goes_to_vs_codes_storage_for_roo_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    workspace = "/srv/work/shop"
    with pytest.raises(UsageError, match=r"no storage of Roo Code.s found.*--write-cache=DIR"):
        roo_cache.cache_path(workspace, None)
    desktop = tmp_path / ".config" / "Code" / "User" / "globalStorage" / "rooveterinaryinc.roo-cline"
    desktop.mkdir(parents=True)
    assert roo_cache.cache_path(workspace, None) == desktop / roo_cache.cache_name(workspace)
    remote = tmp_path / ".vscode-server" / "data" / "User" / "globalStorage" / "rooveterinaryinc.roo-cline"
    remote.mkdir(parents=True)  # a Remote-SSH server's storage comes first
    assert roo_cache.cache_path(workspace, None) == remote / roo_cache.cache_name(workspace)
    assert roo_cache.cache_name(workspace) == f"roo-index-cache-{sha(workspace.encode())}.json"
    with pytest.raises(UsageError, match="is not a directory"):
        roo_cache.cache_path(workspace, str(tmp_path / "missing"))


@pytest.mark.skipif(sys.platform != "linux", reason="/proc")
def test_holders_on_this_machine_sees_a_file_this_test_holds_open(tmp_path: Path):
    import subprocess

    path = tmp_path / "held.json"
    path.write_text("{}")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; f = open(sys.argv[1]); print('open', flush=True); sys.stdin.read()", path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        assert f"pid {holder.pid} has it open" in roo_cache.holders(path)
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    assert not [h for h in roo_cache.holders(path) if "has it open" in h]
