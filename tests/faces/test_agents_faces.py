"""The coding agents' indexes through the faces: ``agents which`` on the command line, and F4 naming
the agent that wrote each collection (Zoo Code by its cache file, Kilo Code by its metadata point)
with F1 searching each."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from support.cli import cli
from support.embed_server import EmbedServer
from support.tui import SIZE, plain, search_for, settle
from support.workspaces import kilo_config, run_index, shop

from roocode_tui.core.agents import kilo, roo
from roocode_tui.core.config import EmbedderSettings, Settings, StoreSettings
from roocode_tui.tui.app import create_app

# Many commands run to their end: each forked from one process that imported the command line
# once (tests/conftest.py forked_cli)
pytestmark = pytest.mark.usefixtures("forked_cli")

ZOO_STORAGE = Path(".vscode-server/data/User/globalStorage/zoocodeorganization.zoo-code")


def test_agents_which_names_each_agents_collection_and_the_one_that_indexes_it(tmp_path: Path, embed_server):
    home = Path(os.environ["HOME"])
    kilo_config(home, embed_server)
    ws = shop(tmp_path / "shop")
    env = {
        "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
        "ROOCODE_TUI_EMBEDDER__BASE_URL": embed_server.base_url,
        "ROOCODE_TUI_EMBEDDER__MODEL": embed_server.model,
        "ROOCODE_TUI_STORE__BACKEND": "qdrant",
        "ROOCODE_TUI_STORE__PATH": str(tmp_path / "qdrant"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local/state"),
    }
    built = cli("index", str(ws), "--schema", "kilo", "--write-cache", "--json", home=home, env=env)
    assert built.returncode == 0, built.stderr
    again = cli("index", str(ws), "--schema", "kilo", home=home, env=env)  # the text form says whose profile
    assert again.returncode == 0 and "Kilo Code's metadata point: " in again.stderr and "kilo.jsonc" in again.stderr
    found = json.loads(cli("agents", "which", str(ws), "--json", home=home, env=env).stdout)
    by = {a["schema"]: a for a in found["agents"]}
    assert by["kilo"]["collection"] == kilo.collection_name(str(ws)) and by["kilo"]["exists"]
    assert by["kilo"]["layout"] == "kilo-code" and by["kilo"]["indexing_complete"] is True
    assert by["kilo"]["cache"] == str(home / ".local/state/kilo/indexing" / kilo.cache_name(str(ws)))
    assert by["roo"]["collection"] == by["zoo"]["collection"] == roo.collection_name(str(ws))
    assert found["owner"] == {"agent": "kilo-code", "why": "its cache file names this workspace"}
    text = cli("agents", "which", str(ws), home=home, env=env)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == str(ws) and any(
        line.split()[:2] == ["Kilo", "Code"] and "Kilo Code's layout" in line for line in lines
    )
    assert lines[-1].startswith("indexed by kilo-code (its cache file names this workspace)")
    # no symlink: Roo Code's and Zoo Code's collection would be this same one, and it is Kilo Code's
    assert by["roo"]["exists"] and by["roo"]["layout"] == "kilo-code"
    # roo which still answers, and says whose the collection is
    which = json.loads(cli("roo", "which", str(ws), "--json", home=home, env=env).stdout)
    assert which["collection"] == roo.collection_name(str(ws)) and which["owner"] == "kilo-code"


async def test_f4_names_the_agent_of_each_collection_and_f1_searches_both(tmp_path: Path):
    from roocode_tui.tui.panes.collections import CollectionTable

    home = Path(os.environ["HOME"])
    with EmbedServer() as srv:
        kilo_config(home, srv)
        data = tmp_path / "qdrant"
        (home / ZOO_STORAGE).mkdir(parents=True)
        zoo_ws, kilo_ws = shop(tmp_path / "zoo-shop"), shop(tmp_path / "kilo-shop")
        await run_index(data, srv, zoo_ws, schema="zoo", agent_cache="")  # its cache in Zoo Code's storage
        await run_index(data, srv, kilo_ws, schema="kilo")
        zoo_name, kilo_name = roo.collection_name(str(zoo_ws)), kilo.collection_name(str(kilo_ws))
        settings = Settings(
            embedder=EmbedderSettings(provider="openai", base_url=srv.base_url, model=srv.model),
            store=StoreSettings(backend="qdrant", path=data),
        )
        app = create_app(settings, collection=kilo_name, gpu_reader=lambda: ([], "no GPU in tests"))
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("f4")
            await settle(app, pilot)
            table = app.query_one(CollectionTable)
            assert plain(table.get_row(zoo_name)[4]).strip() == "zoo-code"
            assert plain(table.get_row(kilo_name)[4]).strip() == "kilo-code"
            await pilot.press("f1")
            await search_for(app, pilot, "turn a price into cents")
            results = app.query_one("#results")
            assert results.option_count > 0
            assert "src/util.py" in str(results.get_option_at_index(0).prompt)

            # the Zoo Code collection, made the active one from F4
            await pilot.press("f4")
            await settle(app, pilot)
            table.move_cursor(row=table.get_row_index(zoo_name))
            await pilot.press("enter")
            await settle(app, pilot)
            assert app.active == zoo_name
            await pilot.press("f1")
            await search_for(app, pilot, "sum the prices of every line of the cart")
            results = app.query_one("#results")
            assert results.option_count > 0
            assert "src/app.ts" in str(results.get_option_at_index(0).prompt)
