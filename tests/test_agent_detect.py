"""Finding the coding agents on disk: installed extensions (VS Code, VS Code Server) and the owner
of a collection in Roo Code's layout (Roo Code or Zoo Code) by the cache file that exists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from roocode_tui.core.agents import detect, roo, roo_cache
from roocode_tui.core.agents.zoo import ZOO


def extension(
    root: Path, folder: str, publisher: str | None = None, name: str | None = None, version: str = ""
) -> Path:
    d = root / folder
    d.mkdir(parents=True)
    if publisher:
        (d / "package.json").write_text(json.dumps({"publisher": publisher, "name": name, "version": version}))
    return d


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return h


def cache_file(home: Path, profile, workspace: str, server: bool = False) -> Path:
    base = home / ".vscode-server" / "data" / "User" if server else home / ".config" / "Code" / "User"
    d = base / "globalStorage" / profile.extension_id
    d.mkdir(parents=True, exist_ok=True)
    path = d / roo_cache.cache_name(workspace, profile)
    path.write_text("{}")
    return path


def test_installed_extensions_on_vs_code_and_vs_code_server(home: Path):
    server = home / ".vscode-server" / "extensions"
    local = home / ".vscode" / "extensions"
    extension(server, "zoocodeorganization.zoo-code-3.30.1", "ZooCodeOrganization", "zoo-code", "3.30.1")
    extension(server, "kilocode.kilo-code-7.0.2-linux-x64", "kilocode", "kilo-code", "7.0.2")
    extension(local, "rooveterinaryinc.roo-cline-3.25.0")  # no package.json: the folder name tells
    extension(local, "ms-python.python-2026.1.0", "ms-python", "python", "2026.1.0")  # not an agent
    found = {(i.agent, i.version, i.host) for i in detect.installed(home)}
    assert found == {
        ("zoo-code", "3.30.1", "VS Code Server"),
        ("kilo-code", "7.0.2", "VS Code Server"),
        ("roo-code", "3.25.0", "VS Code"),
    }


def test_an_uninstalled_extension_vs_code_has_not_deleted_yet_is_not_installed(home: Path):
    root = home / ".vscode" / "extensions"
    extension(root, "rooveterinaryinc.roo-cline-3.24.0", "RooVeterinaryInc", "roo-cline", "3.24.0")
    extension(root, "zoocodeorganization.zoo-code-3.30.1", "ZooCodeOrganization", "zoo-code", "3.30.1")
    (root / ".obsolete").write_text(json.dumps({"rooveterinaryinc.roo-cline-3.24.0": True}))
    assert [i.agent for i in detect.installed(home)] == ["zoo-code"]


def test_a_folder_whose_manifest_names_another_extension_is_not_taken_for_the_agent(home: Path):
    extension(home / ".vscode" / "extensions", "kilocode.kilo-code-fork-1.0.0", "someone", "kilo-code-fork", "1.0.0")
    assert detect.installed(home) == []


def test_nothing_installed_and_no_vs_code_at_all(home: Path):
    assert detect.installed(home) == []
    owner = detect.owner_of_workspace("/src/app", detect.scan(home))
    assert owner.agent is None and owner.candidates == ("roo-code", "zoo-code")
    assert owner.label == "roo-code|zoo-code?" and "neither extension is installed" in owner.why


@pytest.mark.parametrize("server", [False, True])
def test_the_cache_file_that_exists_names_the_owner(home: Path, server: bool):
    cache_file(home, ZOO, "/src/app", server=server)
    found = detect.scan(home)
    assert detect.owner_of_roo_layout(roo.collection_name("/src/app"), found).agent == "zoo-code"
    cache_file(home, roo.ROO, "/src/lib", server=server)
    assert detect.owner_of_workspace("/src/lib", detect.scan(home)).agent == "roo-code"


def test_both_caches_is_ambiguous_and_says_why(home: Path):
    cache_file(home, ZOO, "/src/app")
    cache_file(home, roo.ROO, "/src/app", server=True)
    owner = detect.owner_of_workspace("/src/app", detect.scan(home))
    assert owner.agent is None and owner.candidates == ("roo-code", "zoo-code")
    assert "both agents have a cache file" in owner.why
    assert owner.to_json() == {"agent": None, "candidates": ["roo-code", "zoo-code"], "why": owner.why}


def test_without_a_cache_the_one_installed_agent_owns_it(home: Path):
    extension(
        home / ".vscode-server" / "extensions",
        "zoocodeorganization.zoo-code-3.30.1",
        "ZooCodeOrganization",
        "zoo-code",
        "3.30.1",
    )
    cache_file(home, roo.ROO, "/src/other")  # another workspace's cache says nothing about this one
    assert detect.owner_of_workspace("/src/app", detect.scan(home)).agent == "zoo-code"
    extension(
        home / ".vscode" / "extensions", "rooveterinaryinc.roo-cline-3.25.0", "RooVeterinaryInc", "roo-cline", "3.25.0"
    )
    owner = detect.owner_of_workspace("/src/app", detect.scan(home))
    assert owner.agent is None and "both extensions are installed" in owner.why


def test_a_name_outside_the_layout_has_no_cache_to_find(home: Path):
    cache_file(home, ZOO, "/src/app")
    owner = detect.owner_of_roo_layout("docs", detect.scan(home))
    assert owner.agent is None
