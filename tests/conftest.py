from __future__ import annotations

import html
import os
import shutil
import sys
import tempfile
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from embed_server import EmbedServer

from roocode_tui.core.config import EmbedderSettings, IndexSettings
from roocode_tui.core.embedders.openai import OpenAIEmbedder
from roocode_tui.core.stores.edge import EdgeStore

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = FIXTURES / "corpus"


def in_process_env() -> dict[str, str]:
    """The environment for a CLI subprocess that does its work itself (no engine), without the
    developer's ROOCODE_TUI_*: the tests that kill or time a command need that command to be
    the process doing the work. The engine's own tests (test_engine.py) start engines."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOCODE_TUI_")}
    env["ROOCODE_TUI_ENGINE__ENABLED"] = "false"
    return env


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own HOME, XDG dirs and runtime dir (where an engine's socket would
    go), none of the developer's ROOCODE_TUI_*, and commands that run in-process."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    for var in list(os.environ):
        if var.startswith("ROOCODE_TUI_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("ROOCODE_TUI_ENGINE__ENABLED", "false")
    runtime = tempfile.mkdtemp(prefix="rt-")  # short: a Unix socket path has 107 bytes at most
    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    yield home
    shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A private copy of the fixture corpus that a test may edit."""
    dest = tmp_path / "corpus"
    shutil.copytree(CORPUS, dest, symlinks=True)
    return dest


@pytest.fixture
def embed_server() -> Iterator[EmbedServer]:
    with EmbedServer() as srv:
        yield srv


@pytest.fixture
def qwen_server() -> Iterator[EmbedServer]:
    """A server that answers for a Qwen3 model name: the query prefix roocode-tui would add is
    there to be left out (Roo Code's collections are embedded without one)."""
    with EmbedServer(model="Qwen/Qwen3-Embedding-0.6B") as srv:
        yield srv


@pytest.fixture
def http_embedder(embed_server: EmbedServer) -> OpenAIEmbedder:
    return OpenAIEmbedder(
        EmbedderSettings(provider="openai", base_url=embed_server.base_url, model=embed_server.model, batch_size=8)
    )


async def all_points(store, name: str = "demo") -> dict[str, dict]:
    """Every point of a collection: id -> payload."""
    out, offset = {}, None
    while True:
        page, offset = await store.scroll(name, offset, 512)
        out.update({p.id: p.payload for p in page})
        if offset is None:
            return out


def make_store(kind: str, path: Path):
    if kind == "embedded":
        return EdgeStore(path)
    from roocode_tui.core.config import StoreSettings
    from roocode_tui.core.stores.qdrant import QdrantStore

    return QdrantStore(StoreSettings(backend="qdrant", path=path))


@pytest.fixture(params=["embedded", "qdrant-local"])
async def store(request: pytest.FixtureRequest, tmp_path: Path):
    """Every store test runs against both backends: the contract is the same."""
    s = make_store(request.param, tmp_path / "data")
    yield s
    await s.close()


@pytest.fixture
def small_chunks() -> IndexSettings:
    """Small chunks, so the fixture files split into several each."""
    return IndexSettings(chunk_tokens=60, chunk_overlap_tokens=6)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fixed timings and timestamps."""
    import roocode_tui.core.ingest.writing as ingest_module
    import roocode_tui.core.search.searcher as search_module

    monkeypatch.setattr(search_module, "time", types.SimpleNamespace(perf_counter=lambda: 0.0))
    monkeypatch.setattr(ingest_module, "now_iso", lambda: "2026-11-24T10:00:00+00:00")


@pytest.fixture
def snap_compare(snap_compare, frozen, monkeypatch: pytest.MonkeyPatch):
    """Every snapshot test goes through this harness, so none can forget what makes a snapshot
    the same in every run: a terminal size given, frozen clocks, no cursor blink (a blinking
    cursor is caught in whichever phase it is in), no animation, and no temporary path on
    screen (pytest's temp dirs are numbered per run, and a path's length moves columns and
    scrollbars): show paths under HOME (as ~/...) or fixed ones."""
    from textual.widgets import Input, TextArea

    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)  # the cursor stays drawn
    monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda self: None)
    temp_root = tempfile.gettempdir().rstrip("/") + "/"

    def compare(app, *, terminal_size: tuple[int, int], **kwargs) -> bool:
        app.animation_level = "none"
        export = app.export_screenshot

        def checked_export(*args, **kw) -> str:
            svg = export(*args, **kw)
            shown = html.unescape(svg).replace("\xa0", " ")
            assert temp_root not in shown, f"a snapshot shows a temporary path ({temp_root}...): it changes per run"
            return svg

        app.export_screenshot = checked_export
        return snap_compare(app, terminal_size=terminal_size, **kwargs)

    return compare


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first: a parallel run hands them out while the quick ones fill the gaps,
    instead of ending on a long one."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
