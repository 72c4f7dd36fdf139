"""Engines in real processes: a Box is one user's machine (HOME, runtime dir, environment) whose
commands start engines, with the engine's status read over its socket; the `box` fixture
(conftest.py) stops every engine a test started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from roocode_tui.engine.quick import engine_tag, store_key

from .cli import CLI, in_process_env
from .embed_server import EmbedServer


class Box:
    """One user's machine: HOME, a runtime dir, the environment every process gets."""

    def __init__(self, tmp_path: Path, srv: EmbedServer):
        self.home = tmp_path / "home"
        self.home.mkdir(parents=True)
        self.runtime = Path(os.environ["XDG_RUNTIME_DIR"])  # short and private (conftest)
        self.env = in_process_env()
        self.env.update(
            {
                "HOME": str(self.home),
                "XDG_RUNTIME_DIR": str(self.runtime),
                "NO_COLOR": "1",
                "COLUMNS": "200",
                "ROOCODE_TUI_ENGINE__ENABLED": "true",
                "ROOCODE_TUI_ENGINE__IDLE_EXIT_S": "120",
                "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
                "ROOCODE_TUI_EMBEDDER__BASE_URL": srv.base_url,
                "ROOCODE_TUI_EMBEDDER__MODEL": srv.model,
                "ROOCODE_TUI_EMBEDDER__BATCH_SIZE": "4",
                "ROOCODE_TUI_EMBEDDER__MAX_CONCURRENCY": "1",
                "ROOCODE_TUI_INDEX__CHUNK_TOKENS": "60",
                "ROOCODE_TUI_INDEX__CHUNK_OVERLAP_TOKENS": "6",
            }
        )
        self.served: list[subprocess.Popen[bytes]] = []

    @property
    def socket(self) -> Path:
        """The socket of this box's engine: named by the store it serves (the default data dir)."""
        return engine_socket(self.runtime, self.env.get("XDG_DATA_HOME") or str(self.home / ".local" / "share"))

    def cli(self, *args: str, timeout: int = 120, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, *args], env={**self.env, **env}, capture_output=True, text=True, timeout=timeout)

    def python(self, code: str, *args: str) -> subprocess.CompletedProcess[str]:
        """``python -c code args...`` in this box's environment."""
        return subprocess.run(
            [sys.executable, "-c", code, *args], env=self.env, capture_output=True, text=True, timeout=60
        )

    def popen(self, *args: str, **env: str) -> subprocess.Popen[str]:
        """A command in the background, with SIGINT at its default as on a terminal (a runner that
        starts the suite in the background leaves SIGINT ignored, and Ctrl-C would never arrive)."""
        return subprocess.Popen(
            [*CLI, *args],
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )

    def serve(self, *args: str, **env: str) -> subprocess.Popen[bytes]:
        """`roocode-tui serve` in the foreground (of this test), ready when its status answers."""
        proc = subprocess.Popen(
            [*CLI, "serve", *args], env={**self.env, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.served.append(proc)
        self.wait_for(lambda: self.status() is not None or proc.poll() is not None, "the engine to answer")
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        return proc

    def status(self) -> dict | None:
        """The engine's status read over its socket from this process (what `status --json`
        shows, less the collections), or None when no engine answers."""
        return engine_status(self.socket)

    def engine_pid(self) -> int | None:
        status = self.status()
        return status["pid"] if status else None

    def run_of(self, collection: str) -> dict | None:
        """The latest run of a collection."""
        status = self.status() or {"runs": []}
        return next((r for r in reversed(status["runs"]) if r["collection"] == collection), None)

    @staticmethod
    def wait_for(check, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.05)

    def stop_all(self) -> None:
        """Every engine of this box: the ones served here, and one a command started."""
        pids = {p.pid for p in self.served if p.poll() is None}
        for lock in (self.runtime / "roocode-tui").glob("engine-*.lock"):
            text = lock.read_text().strip()
            if text.isdigit() and _alive(int(text)):
                pids.add(int(text))
        for pid in pids:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for pid in pids:
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _alive(pid):
                _signal(pid, signal.SIGKILL)
        for proc in self.served:
            proc.wait(timeout=10)


def engine_status(sock: Path) -> dict | None:
    if not sock.exists():
        return None
    try:
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)), base_url="http://engine", timeout=30) as http:
            resp = http.get("/status")
    except httpx.TransportError:
        return None  # a socket left by an engine that died, or one going away
    return resp.json() if resp.status_code == 200 else None


def engine_socket(runtime: Path, data_home: str) -> Path:
    """Where the engine of the embedded store under ``data_home`` listens."""
    key = store_key("embedded", None, os.path.join(data_home, "roocode-tui"))
    return runtime / "roocode-tui" / f"engine-{engine_tag(key)}.sock"


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (an engine a command started, reaped by nobody here) is gone
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
