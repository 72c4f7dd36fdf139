from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import REPO

from roocode_tui.core.config import default_config_path, load_settings
from roocode_tui.core.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_without_any_file():
    s = load_settings()
    assert s.config_path is None
    assert s.embedder.provider == "local" and s.store.backend == "embedded"
    assert s.store.data_dir.name == "roocode-tui"
    assert s.index.max_file_bytes == 1024 * 1024


def test_default_file_location_is_used(isolated_env: Path):
    path = default_config_path()
    assert str(path).startswith(str(isolated_env))
    write(path, "[embedder]\nmax_concurrency = 7\n")
    assert load_settings().embedder.max_concurrency == 7


def test_file_then_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    cfg = write(
        tmp_path / "c.toml",
        '[embedder]\nprovider = "openai"\nmodel = "Qwen/Qwen3-Embedding-8B"\ndimensions = 1024\n'
        '[store]\npath = "data"\n[[collections]]\nname = "docs"\npaths = ["../docs", "/abs"]\n'
        'exclude = ["*.tmp"]\n',
    )
    monkeypatch.setenv("ROOCODE_TUI_EMBEDDER__DIMENSIONS", "512")
    s = load_settings(cfg)
    assert s.embedder.model == "Qwen/Qwen3-Embedding-8B" and s.embedder.dimensions == 512
    assert s.store.path == tmp_path / "data"  # relative to the config file
    assert s.collections[0].paths == [tmp_path.parent / "docs", Path("/abs")]
    monkeypatch.setenv("ROOCODE_TUI_CONFIG", str(cfg))
    assert load_settings().embedder.provider == "openai"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[embedder]\nbatch_size = "abc"\n', r"embedder\.batch_size: .*valid integer.*'abc'"),
        ('[embedder]\nmodle = "x"\n', r"embedder\.modle: unknown key"),
        ("[embedder\n", r"invalid TOML.*line 1"),
        ('[store]\nbackend = "mongo"\n', r"store\.backend: Input should be 'embedded' or 'qdrant'"),
        ('[[collections]]\nname = "bad name!"\n', r"collections\.0\.name: a collection name is"),
        ('[[collections]]\npaths = ["x"]\n', r"collections\.0\.name: required key is missing"),
        ("[index]\nchunk_tokens = 100\nchunk_overlap_tokens = 200\n", r"index: chunk_overlap_tokens must be smaller"),
        ('[embedder]\nbase_url = "ftp://x"\n', r"embedder\.base_url: expected an http"),
    ],
)
def test_bad_values_name_the_file_and_key(tmp_path: Path, text: str, expected: str):
    cfg = write(tmp_path / "bad.toml", text)
    with pytest.raises(ConfigError, match=expected) as info:
        load_settings(cfg)
    message = str(info.value)
    assert "\n" not in message and str(cfg) in message


def test_bad_env_value_names_the_variable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ROOCODE_TUI_EMBEDDER__PROVIDER", "gpu")
    with pytest.raises(ConfigError, match="environment variable ROOCODE_TUI_EMBEDDER__PROVIDER"):
        load_settings()


def test_missing_explicit_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml")


def test_api_key_never_echoed_in_errors(tmp_path: Path):
    cfg = write(tmp_path / "k.toml", "[embedder]\napi_key = 12345678901234\n")
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    assert "12345678901234" not in str(info.value)


def test_example_config_is_valid_and_documents_every_key():
    example = REPO / "config.example.toml"
    s = load_settings(example)
    assert s.embedder.base_url == "http://192.168.1.101:8000/v1"
    text = example.read_text()
    from roocode_tui.core.config import EmbedderSettings, IndexSettings, RooSettings, StoreSettings

    for model in (EmbedderSettings, StoreSettings, IndexSettings, RooSettings):
        for key in model.model_fields:
            assert f"{key} =" in text, key


def test_cli_prints_one_line_and_exits_2(tmp_path: Path):
    cfg = write(tmp_path / "bad.toml", "[embedder]\nbatch_size = -3\n")
    proc = subprocess.run(
        [sys.executable, "-m", "roocode_tui.cli", "--config", str(cfg), "collections", "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "embedder.batch_size" in proc.stderr


def test_deploy_config_is_valid():
    s = load_settings(REPO / "deploy" / "config.toml")
    assert s.store.backend == "qdrant" and s.store.url == "http://192.168.1.100:6333"
    assert s.embedder.model == "Qwen/Qwen3-Embedding-8B" and s.embedder.dimensions == 1024
