from __future__ import annotations

import html
import os
import shutil
import tempfile
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.embed_server import EmbedServer
from support.engines import Box
from support.paths import CORPUS
from support.stores import make_store

from roocode_tui.core.config import EmbedderSettings, IndexSettings
from roocode_tui.core.embedders.openai import OpenAIEmbedder


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
def forked_cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The test's ``cli()`` commands forked from one process per environment that imported the
    command line once (support/cli.py, support/zygote.py): each is still a process of its own
    that runs the command from its start. For the files that run many commands to their end."""
    from support import cli as support_cli

    support_cli.FORKED, support_cli.SCRATCH = {}, tmp_path_factory.mktemp("forked-cli")
    try:
        yield
    finally:
        zygotes, support_cli.FORKED, support_cli.SCRATCH = support_cli.FORKED, None, None
        for zygote in zygotes.values():
            zygote.__exit__(None, None, None)


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


@pytest.fixture(params=["embedded", "qdrant-local"])
async def store(request: pytest.FixtureRequest, tmp_path: Path):
    """Every store test runs against both backends: the contract is the same."""
    s = make_store(request.param, tmp_path / "data")
    yield s
    await s.close()


@pytest.fixture
def box(tmp_path: Path, embed_server: EmbedServer) -> Iterator[Box]:
    """One user's machine whose commands start engines (support/engines.py); every engine it
    started is stopped afterwards."""
    b = Box(tmp_path, embed_server)
    try:
        yield b
    finally:
        b.stop_all()


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
