"""Keys never leak, read-only mode refuses writes, risky setups draw a warning."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support.cli import in_process_env
from support.embed_server import EmbedServer

from roocode_tui.core.config import EmbedderSettings, Settings, StoreSettings, load_settings
from roocode_tui.core.security import warnings_for

SENTINEL = "sk-sentinel-9d1c7e5a3b"


def run(home: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = in_process_env()
    full.update({"HOME": str(home), "NO_COLOR": "1"}, **env)
    return subprocess.run(
        [sys.executable, "-m", "roocode_tui.cli", *args], capture_output=True, text=True, env=full, timeout=120
    )


def test_a_sentinel_key_appears_in_no_output_and_no_log(tmp_path: Path, corpus: Path):
    home = tmp_path / "home"
    with EmbedServer(api_key=SENTINEL) as srv:
        env = {
            "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
            "ROOCODE_TUI_EMBEDDER__BASE_URL": srv.base_url,
            "ROOCODE_TUI_EMBEDDER__MODEL": srv.model,
            "ROOCODE_TUI_EMBEDDER__API_KEY": SENTINEL,
        }
        outputs = [
            run(home, env, "index", str(corpus), "-c", "s", "--json"),
            run(home, env, "search", "backups", "-c", "s", "--json"),
            run(home, env, "search", "backups", "-c", "s"),
            run(home, env, "collections", "info", "s", "--json"),
            run(home, env, "doctor", "--json"),
            run(home, env, "doctor"),
        ]
        srv.faults.fail_next = [401] * 10  # errors quote the server's answers: still no key
        outputs.append(
            run(home, {**env, "ROOCODE_TUI_EMBEDDER__API_KEY": SENTINEL + "x"}, "search", "x", "-c", "s", "--debug")
        )
    assert outputs[0].returncode == 0 and json.loads(outputs[0].stdout)["files_indexed"] == 7
    for out in outputs:
        assert SENTINEL not in out.stdout + out.stderr
    logs = list(home.rglob("roocode-tui.log*"))
    assert logs, "a log file is written in the user state dir"
    for log in logs:
        text = log.read_text()
        assert SENTINEL not in text
    assert "index run" in logs[0].read_text()


def test_key_over_plain_http_and_a_readable_config_draw_warnings(tmp_path: Path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[embedder]\nprovider = "openai"\nmodel = "m"\n'
        f'base_url = "http://192.168.1.101:8000/v1"\napi_key = "{SENTINEL}"\n'
    )
    cfg.chmod(0o644)
    found = warnings_for(load_settings(cfg))
    assert any("clear text to http://192.168.1.101:8000/v1" in w for w in found)
    assert any("other users can read it: chmod 600" in w for w in found)
    assert all(SENTINEL not in w for w in found)
    cfg.chmod(0o600)
    local = Settings(
        embedder=EmbedderSettings(provider="openai", model="m", api_key=SENTINEL, base_url="http://127.0.0.1:8000/v1")
    )
    assert warnings_for(local) == []
    tls = Settings(store=StoreSettings(backend="qdrant", url="https://10.0.0.1:6333", api_key=SENTINEL))
    assert warnings_for(tls) == []


def test_read_only_refuses_writes_in_the_cli(tmp_path: Path, corpus: Path):
    home = tmp_path / "home"
    with EmbedServer() as srv:
        env = {
            "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
            "ROOCODE_TUI_EMBEDDER__BASE_URL": srv.base_url,
            "ROOCODE_TUI_EMBEDDER__MODEL": srv.model,
        }
        assert run(home, env, "index", str(corpus), "-c", "ro").returncode == 0
        refused = run(home, env, "--read-only", "index", str(corpus), "-c", "ro")
        assert refused.returncode == 2 and "read-only mode" in refused.stderr
        by_config = run(home, {**env, "ROOCODE_TUI_READ_ONLY": "true"}, "collections", "delete", "ro", "--yes")
        assert by_config.returncode == 2 and "read-only" in by_config.stderr
        assert run(home, env, "--read-only", "search", "backups", "-c", "ro").returncode == 0  # reads still work


async def test_read_only_refuses_writes_in_the_tui(tmp_path: Path):
    from roocode_tui.tui.app import create_app

    app = create_app(Settings(store=StoreSettings(path=tmp_path / "d"), read_only=True))
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("f2", "s")
        await pilot.pause()
        assert app.ingest_progress is None
        assert any("read-only" in str(n.message) for n in app._notifications)
        assert app.sub_title == "read-only"
