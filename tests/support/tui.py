"""The TUI under Pilot: its terminal size, settings for a loopback embedding server, stand-in
GPUs, and the steps tests take (let the workers finish, search, start an index run)."""

from __future__ import annotations

from pathlib import Path

from roocode_tui.core.config import CollectionSettings, EmbedderSettings, IndexSettings, Settings, StoreSettings

SIZE = (100, 30)


#: The embedding server's address as F3 shows it in snapshots: the test server listens on a
#: free port, another one in every run.
SHOWN_SERVER_URL = "http://embed.test:8000"


def make_settings(tmp_path: Path, srv, corpus: Path, **embedder) -> Settings:
    return Settings(
        embedder=EmbedderSettings(provider="openai", base_url=srv.base_url, model=srv.model, **embedder),
        store=StoreSettings(),  # the default data dir, under the test's own HOME
        index=IndexSettings(chunk_tokens=60, chunk_overlap_tokens=6),
        collections=[CollectionSettings(name="fresh", paths=[corpus])],
    )


def plain(renderable) -> str:
    from rich.console import Console

    console = Console(record=True, width=100, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


async def settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


async def start_fresh_ingest(app, pilot) -> None:
    """F2, pick the configured collection "fresh", press s."""
    await pilot.press("f2")
    await pilot.pause()
    app.query_one("#index-collection").value = "fresh"
    await pilot.press("s")


async def search_for(app, pilot, query: str) -> None:
    await settle(app, pilot)
    await pilot.press(*query, "enter")
    await settle(app, pilot)
