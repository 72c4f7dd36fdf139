"""Finding the coding agents on disk: installed extensions (VS Code, VS Code Server), the owner
of a collection in Roo Code's layout (Roo Code or Zoo Code) by the cache file that exists, and the
agent of a workspace (Kilo Code too: its cache file, or its metadata point in the collection)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from roocode_tui.core.agents import detect, kilo, roo, roo_cache
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
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
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


def kilo_cache_file(home: Path, workspace: str) -> Path:
    d = home / ".local" / "state" / "kilo" / "indexing"
    d.mkdir(parents=True, exist_ok=True)
    path = d / kilo.cache_name(workspace)
    path.write_text("{}")
    return path


def test_nothing_installed_and_no_vs_code_at_all(home: Path):
    assert detect.installed(home) == []
    owner = detect.owner_of_roo_layout(roo.collection_name("/src/app"), detect.scan(home))
    assert owner.agent is None and owner.candidates == ("roo-code", "zoo-code")
    assert owner.label == "roo-code|zoo-code?" and "neither extension is installed" in owner.why
    owner = detect.owner_of_workspace("/src/app", detect.scan(home))
    assert owner.agent is None and owner.candidates == ("roo-code", "zoo-code", "kilo-code")
    assert "no agent's extension is installed" in owner.why


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
    assert detect.owner_of_roo_layout(roo.collection_name("/src/app"), detect.scan(home)).agent is None


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
    assert owner.agent is None and owner.why == "no cache file of its workspace, and roo-code, zoo-code are installed"
    assert owner.candidates == ("roo-code", "zoo-code")
    owner = detect.owner_of_roo_layout(roo.collection_name("/src/app"), detect.scan(home))
    assert owner.agent is None and "both extensions are installed" in owner.why


def test_a_name_outside_the_layout_has_no_cache_to_find(home: Path):
    cache_file(home, ZOO, "/src/app")
    owner = detect.owner_of_roo_layout("docs", detect.scan(home))
    assert owner.agent is None


def test_kilos_cache_file_names_the_workspace(home: Path, tmp_path: Path):
    """$XDG_STATE_HOME/kilo/indexing/roo-index-cache-<sha256 of the realpath>.json"""
    real = tmp_path / "app"
    real.mkdir()
    link = tmp_path / "app-link"
    link.symlink_to(real)
    kilo_cache_file(home, str(real))
    found = detect.scan(home)
    assert found.storage["kilo-code"] == [home / ".local/state/kilo/indexing"]
    owner = detect.owner_of_workspace(str(link), found)  # Kilo hashes the realpath
    assert owner.agent == "kilo-code" and owner.why == "its cache file names this workspace"
    # another agent's cache of the same workspace: ambiguous, unless the collection's marker tells
    cache_file(home, roo.ROO, str(real))
    owner = detect.owner_of_workspace(str(real), detect.scan(home))
    assert owner.agent is None and owner.candidates == ("roo-code", "kilo-code")
    assert owner.why == "both agents have a cache file of its workspace"
    assert detect.owner_of_workspace(str(real), detect.scan(home), "kilo-code").agent == "kilo-code"
    owner = detect.owner_of_workspace(str(real), detect.scan(home), "roo-layout")
    assert owner.agent == "roo-code" and "Roo Code's metadata point" in owner.why


def test_kilo_state_home_is_honoured(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    (state / "kilo" / "indexing").mkdir(parents=True)
    (state / "kilo" / "indexing" / kilo.cache_name("/src/app")).write_text("{}")
    assert detect.owner_of_workspace("/src/app", detect.scan(home)).agent == "kilo-code"


def test_kilos_metadata_point_and_the_one_agent_installed(home: Path):
    found = detect.scan(home)
    owner = detect.owner_of_workspace("/src/app", found, "kilo-code")
    assert owner.agent == "kilo-code" and owner.why == "its collection holds Kilo Code's metadata point"
    extension(home / ".vscode-server" / "extensions", "kilocode.kilo-code-7.3.63", "kilocode", "kilo-code", "7.3.63")
    found = detect.scan(home)
    owner = detect.owner_of_workspace("/src/app", found)
    assert owner.agent == "kilo-code" and "it is the one installed" in owner.why
    # Roo Code's metadata point in the collection: Kilo Code cannot own it
    owner = detect.owner_of_workspace("/src/app", found, "roo-layout")
    assert owner.agent is None and owner.candidates == ("roo-code", "zoo-code")
    assert "no agent's extension is installed" in owner.why and "Roo Code's metadata point" in owner.why
