"""``index --schema zoo|auto`` from the command line: Zoo Code's collection built, its cache handed
over into Zoo Code's storage, the owner shown by ``collections list``, and auto choosing the
workspace's agent or saying why it cannot."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from test_cli import cli

from roocode_tui.cli.parser import SCHEMAS
from roocode_tui.core.agents import schemas

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
    assert "--schema roo|zoo" in unknown.stderr

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
