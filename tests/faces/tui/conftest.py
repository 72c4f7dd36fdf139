"""The TUI against a store indexed before it starts: the corpus under the test's HOME (F4 shows
it as ~/corpus), settings for the loopback embedding server with the corpus indexed as "demo",
and the snapshot harness with a fixed embedding server address on F3."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.paths import CORPUS
from support.stores import make_store
from support.tui import SHOWN_SERVER_URL, make_settings

from roocode_tui.core.config import Settings
from roocode_tui.core.embedders.openai import OpenAIEmbedder
from roocode_tui.core.ingest.indexer import Indexer


@pytest.fixture
def snap_compare(snap_compare, monkeypatch: pytest.MonkeyPatch):
    """The snapshot harness (tests/conftest.py), with F3 naming the embedding server SHOWN_SERVER_URL."""
    from roocode_tui.tui.panes.monitor import MonitorPane

    show_vllm = MonitorPane.show_vllm
    monkeypatch.setattr(
        MonitorPane, "show_vllm", lambda pane, reading, url: show_vllm(pane, reading, url and SHOWN_SERVER_URL)
    )
    return snap_compare


@pytest.fixture
def corpus(isolated_env: Path) -> Path:
    """The corpus under the test's HOME: F4 shows it as ~/corpus, the same in every run."""
    dest = isolated_env / "corpus"
    shutil.copytree(CORPUS, dest, symlinks=True)
    return dest


@pytest.fixture
async def settings(tmp_path: Path, embed_server, corpus: Path, frozen) -> Settings:
    s = make_settings(tmp_path, embed_server, corpus)
    hostile = corpus / "hostile.md"
    hostile.write_text("# Hostile\n\nmarkup [bold red]x[/] and escape \x1b[2J\x1b]52;c;ZXZpbA==\x07 gizmo\n")
    store = make_store("embedded", s.store.data_dir)
    embedder = OpenAIEmbedder(s.embedder)
    await Indexer(store, embedder, "demo", [corpus], index=s.index).run()
    await store.close()
    await embedder.aclose()
    return s
