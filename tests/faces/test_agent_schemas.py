"""``index --schema zoo|kilo|auto`` from the command line: Zoo Code's and Kilo Code's collections
built, their caches handed over where each agent keeps them, the owner shown by ``collections
list``, and auto choosing the workspace's agent or saying why it cannot."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from support.cli import cli

from roocode_tui.cli.parser import SCHEMAS
from roocode_tui.core.agents import schemas

# Many commands run to their end: each forked from one process that imported the command line
# once (tests/conftest.py forked_cli)
pytestmark = pytest.mark.usefixtures("forked_cli")

ZOO_DIR = "zoocodeorganization.zoo-code"
ROO_DIR = "rooveterinaryinc.roo-cline"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


def install(home: Path, folder: str, publisher: str, name: str) -> None:
    d = home / ".vscode-server" / "extensions" / f"{folder}-1.0.0"
    d.mkdir(parents=True)
    (d / "package.json").write_text(json.dumps({"publisher": publisher, "name": name, "version": "1.0.0"}))
    (home / ".vscode-server" / "data" / "User" / "globalStorage" / folder).mkdir(parents=True, exist_ok=True)


def test_the_parser_offers_every_schema():
    assert tuple(SCHEMAS) == schemas.CHOICES


@pytest.mark.slow
def test_schema_auto_builds_zoo_codes_index_hands_it_over_and_tells_the_owner(tmp_path: Path, home: Path, embed_server):
    env = {
        "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
        "ROOCODE_TUI_EMBEDDER__BASE_URL": embed_server.base_url,
        "ROOCODE_TUI_EMBEDDER__MODEL": embed_server.model,
        "ROOCODE_TUI_STORE__BACKEND": "qdrant",
        "ROOCODE_TUI_STORE__PATH": str(tmp_path / "qdrant"),
        "XDG_CONFIG_HOME": str(home / ".config"),
    }
    workspace = tmp_path / "shop"
    (workspace / "src").mkdir(parents=True)
    (workspace / "src" / "cart.py").write_text(
        "def total(cart):\n    # the sum of the line prices\n    return sum(x.price for x in cart)\n"
    )
    (workspace / "NOTES.txt").write_text("Refunds go back to the card they came from.\n" * 3)
    digest = hashlib.sha256(str(workspace).encode()).hexdigest()
    name = f"ws-{digest[:16]}"

    # nothing installed, no cache: auto cannot tell, and says how to choose
    unknown = cli("index", str(workspace), "--schema", "auto", home=home, env=env)
    assert unknown.returncode == 2 and "cannot tell which agent indexes" in unknown.stderr
    assert "--schema roo|zoo|kilo" in unknown.stderr

    # Zoo Code installed on this Remote-SSH box: auto builds its index, and writes its cache
    install(home, ZOO_DIR, "ZooCodeOrganization", "zoo-code")
    built = cli("index", str(workspace), "--schema", "auto", "--write-cache", "--json", home=home, env=env)
    assert built.returncode == 0, built.stderr
    report = json.loads(built.stdout)
    assert report["collection"] == name and report["schema"] == "zoo" and "one installed" in report["schema_why"]
    assert report["files_indexed"] == 2  # .txt is Zoo Code's (Roo Code skips it)
    cache = home / ".vscode-server" / "data" / "User" / "globalStorage" / ZOO_DIR / f"roo-index-cache-{digest}.json"
    assert report["agent_cache"] == report["roo_cache"] == str(cache)
    assert set(json.loads(cache.read_text())) == {str(workspace / "src" / "cart.py"), str(workspace / "NOTES.txt")}

    # the list names the owner: Zoo Code's cache names the workspace
    listed = json.loads(cli("collections", "list", "--json", home=home, env=env).stdout)["collections"]
    (entry,) = [c for c in listed if c["name"] == name]
    assert entry["kind"] == "roo-code" and entry["owner"] == "zoo-code"
    assert entry["roo"]["owner_why"] == "its cache file names this workspace"
    assert "zoo-code (complete)" in " ".join(cli("collections", "list", home=home, env=env).stdout.split())

    # Roo Code installed beside it: the cache still decides, and the text output says so
    install(home, ROO_DIR, "RooVeterinaryInc", "roo-cline")
    again = cli("index", str(workspace), "--schema", "auto", home=home, env=env)
    assert again.returncode == 0, again.stderr
    assert "--schema auto chose zoo: its cache file names this workspace" in again.stderr

    # both agents' caches name it: ambiguous, nothing written
    roo_cache = cache.parent.parent / ROO_DIR / cache.name
    roo_cache.write_text("{}")
    both = cli("index", str(workspace), "--schema", "auto", home=home, env=env)
    assert both.returncode == 2 and "both agents have a cache file" in both.stderr

    # named, a schema needs no detection; the no-cache flag alias still works
    named = cli("index", str(workspace), "--schema", "roo", "--json", home=home, env=env)
    assert named.returncode == 0, named.stderr
    assert json.loads(named.stdout)["schema"] == "roo" and "schema_why" not in json.loads(named.stdout)


@pytest.mark.slow
def test_schema_kilo_builds_kilo_codes_index_hands_its_cache_over_and_is_told_apart(
    tmp_path: Path, home: Path, embed_server
):
    env = {
        "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
        "ROOCODE_TUI_EMBEDDER__BASE_URL": embed_server.base_url,
        "ROOCODE_TUI_EMBEDDER__MODEL": embed_server.model,
        "ROOCODE_TUI_STORE__BACKEND": "qdrant",
        "ROOCODE_TUI_STORE__PATH": str(tmp_path / "qdrant"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
    }
    config = home / ".config" / "kilo" / "kilo.jsonc"
    config.parent.mkdir(parents=True)
    config.write_text(
        '{\n  // Kilo Code indexes into Qdrant with the same model\n  "indexing": {\n    "enabled": true,\n'
        f'    "provider": "openai-compatible",\n    "model": "{embed_server.model}",\n    "dimension": 64,\n'
        '    "vectorStore": "qdrant",\n  },\n}\n'
    )
    workspace = tmp_path / "shop"
    (workspace / "src").mkdir(parents=True)
    (workspace / "src" / "cart.py").write_text(
        "def total(cart):\n    # the sum of the line prices\n    return sum(x.price for x in cart)\n"
    )
    (workspace / "deploy.sh").write_text(
        "#!/bin/sh\n# copy the built site to the web server\nrsync -a out/ web:/srv/\n"
    )
    (workspace / "build").mkdir()
    (workspace / "build" / "gen.py").write_text("def generated():\n    return 'made by the build, left out by Kilo'\n")
    digest = hashlib.sha256(str(workspace.resolve()).encode()).hexdigest()
    name = f"ws-{digest[:16]}"

    built = cli("index", str(workspace), "--schema", "kilo", "--write-cache", "--json", home=home, env=env)
    assert built.returncode == 0, built.stderr
    report = json.loads(built.stdout)
    assert report["collection"] == name and report["schema"] == "kilo" and report["files_indexed"] == 2
    cache = home / ".local" / "state" / "kilo" / "indexing" / f"roo-index-cache-{digest}.json"
    assert report["agent_cache"] == str(cache) and str(config) in report["message"]
    assert set(json.loads(cache.read_text())) == {str(workspace / "src" / "cart.py"), str(workspace / "deploy.sh")}

    # the list names the owner: Kilo Code's metadata point
    listed = json.loads(cli("collections", "list", "--json", home=home, env=env).stdout)["collections"]
    (entry,) = [c for c in listed if c["name"] == name]
    assert entry["owner"] == "kilo-code" and entry["roo"]["owner_why"] == "its metadata point is Kilo Code's"
    assert "kilo-code (complete)" in " ".join(cli("collections", "list", home=home, env=env).stdout.split())

    # searched as Kilo Code searches it
    found = cli("search", "sum of the line prices", "--collection", name, "--json", home=home, env=env)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["results"][0]["path"] == "src/cart.py"

    # Roo Code's schema does not write into Kilo Code's collection: one line naming both
    refused = cli("index", str(workspace), "--schema", "roo", home=home, env=env)
    assert refused.returncode == 2
    assert "holds Kilo Code's index" in refused.stderr and "--schema roo does not write" in refused.stderr
    assert "--schema kilo" in refused.stderr

    # auto: Kilo Code's cache names the workspace
    auto = cli("index", str(workspace), "--schema", "auto", "--json", home=home, env=env)
    assert auto.returncode == 0, auto.stderr
    report = json.loads(auto.stdout)
    assert report["schema"] == "kilo" and report["schema_why"] == "its cache file names this workspace"
    assert report["files_unchanged"] == 2 and report["points_written"] == 0
