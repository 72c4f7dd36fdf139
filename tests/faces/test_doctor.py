"""`doctor` names what is wrong, one verdict per fault, and never shows a key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.cli import in_process_env
from support.embed_server import EmbedServer

SENTINEL = "sk-sentinel-5f2a9c0e7b1d"


def doctor(home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = in_process_env()
    full.update({"HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}, **env)
    return subprocess.run(
        [sys.executable, "-m", "roocode_tui.cli", "doctor", *([] if "HUMAN" in env else ["--json"])],
        capture_output=True,
        text=True,
        env=full,
        timeout=120,
    )


@pytest.fixture
def server():
    with EmbedServer(api_key=SENTINEL) as srv:
        yield srv


def base_env(srv: EmbedServer, **over: str) -> dict[str, str]:
    env = {
        "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
        "ROOCODE_TUI_EMBEDDER__BASE_URL": srv.base_url,
        "ROOCODE_TUI_EMBEDDER__MODEL": srv.model,
        "ROOCODE_TUI_EMBEDDER__API_KEY": SENTINEL,
    }
    env.update(over)
    return env


def failed(out: subprocess.CompletedProcess[str]) -> list[dict]:
    assert SENTINEL not in out.stdout + out.stderr
    return [c for c in json.loads(out.stdout)["checks"] if c["status"] == "fail"]


def test_healthy_setup_passes(tmp_path: Path, server: EmbedServer):
    out = doctor(tmp_path, base_env(server))
    assert out.returncode == 0, out.stdout
    checks = {c["name"]: c for c in json.loads(out.stdout)["checks"]}
    assert checks["embedding probe"]["status"] == "ok" and "64-d" in checks["embedding probe"]["verdict"]
    assert checks["store"]["status"] == "ok"
    assert SENTINEL not in out.stdout


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"ROOCODE_TUI_EMBEDDER__BASE_URL": "http://127.0.0.1:9/v1"}, "unreachable"),
        ({"ROOCODE_TUI_EMBEDDER__MODEL": "Qwen/Qwen3-Embedding-8B"}, "model 'Qwen/Qwen3-Embedding-8B' is not served"),
        ({"ROOCODE_TUI_EMBEDDER__DIMENSIONS": "1024"}, "dimensions 1024 is larger than the model's 64"),
        ({"ROOCODE_TUI_EMBEDDER__API_KEY": SENTINEL + "-wrong"}, "the API key was refused"),
    ],
    ids=["wrong-url", "wrong-model", "wrong-dimension", "wrong-api-key"],
)
def test_each_fault_gets_one_clear_verdict(tmp_path: Path, server: EmbedServer, override: dict, expected: str):
    out = doctor(tmp_path, base_env(server, **override))
    assert out.returncode == 1
    bad = failed(out)
    assert len(bad) == 1, bad
    assert expected in bad[0]["verdict"] and bad[0]["fix"]


def test_human_output_never_shows_the_key(tmp_path: Path, server: EmbedServer):
    out = doctor(tmp_path, base_env(server, ROOCODE_TUI_EMBEDDER__API_KEY=SENTINEL + "-wrong", HUMAN="1"))
    assert out.returncode == 1 and "✗" in out.stdout and "api_key" in out.stdout
    assert SENTINEL not in out.stdout + out.stderr
