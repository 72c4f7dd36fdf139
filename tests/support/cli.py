"""The roocode-tui command in a subprocess: the environment it runs in, and one call of it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .embed_server import EmbedServer

CLI = [sys.executable, "-m", "roocode_tui.cli"]


def in_process_env() -> dict[str, str]:
    """The environment for a CLI subprocess that does its work itself (no engine), without the
    developer's ROOCODE_TUI_*: the tests that kill or time a command need that command to be
    the process doing the work. The engine's own tests (test_engine.py) start engines."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOCODE_TUI_")}
    env["ROOCODE_TUI_ENGINE__ENABLED"] = "false"
    return env


#: while a test uses the ``forked_cli`` fixture: its zygotes (support/zygote.py), one per environment
FORKED: dict[tuple[tuple[str, str], ...], Any] | None = None
SCRATCH: Path | None = None


def cli(*args: str, home: Path, env: dict[str, str] | None = None, input: str | None = None, timeout: int = 180):
    """One ``roocode-tui`` command run to its end: a fresh interpreter, or, under the
    ``forked_cli`` fixture, a process forked from one that imported the command line once in the
    same environment (the same command from its start; only the import is shared)."""
    full_env = in_process_env()
    full_env.update({"HOME": str(home), "NO_COLOR": "1", "COLUMNS": "120"})
    full_env.update(env or {})
    if FORKED is not None and SCRATCH is not None:
        from .zygote import Zygote

        key = tuple(sorted(full_env.items()))
        if key not in FORKED:
            FORKED[key] = Zygote(full_env, SCRATCH / f"zygote{len(FORKED)}")
        child = FORKED[key].spawn(list(args), stdin=input)
        rc = child.wait()
        return subprocess.CompletedProcess(
            [*CLI, *args], rc, child.out.read_text(errors="replace"), child.err.read_text(errors="replace")
        )
    return subprocess.run(
        [sys.executable, "-m", "roocode_tui.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        input=input,
    )


def cli_env(home: Path, srv: EmbedServer, backend: str, data: Path) -> dict[str, str]:
    env = in_process_env()
    env.update(
        {
            "HOME": str(home),
            "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
            "ROOCODE_TUI_EMBEDDER__BASE_URL": srv.base_url,
            "ROOCODE_TUI_EMBEDDER__MODEL": srv.model,
            "ROOCODE_TUI_EMBEDDER__BATCH_SIZE": "2",
            "ROOCODE_TUI_EMBEDDER__MAX_CONCURRENCY": "2",
            "ROOCODE_TUI_STORE__BACKEND": backend,
            "ROOCODE_TUI_STORE__PATH": str(data),
            "ROOCODE_TUI_INDEX__CHUNK_TOKENS": "60",
            "ROOCODE_TUI_INDEX__CHUNK_OVERLAP_TOKENS": "6",
        }
    )
    return env
