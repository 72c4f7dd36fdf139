"""Library docs by name: `index --package NAME` with a distribution installed in a directory the
probed interpreter sees (PYTHONPATH), an npm package in node_modules, and a version upgrade
that re-indexes only what changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.cli import in_process_env
from support.embed_server import EmbedServer

from roocode_tui.core.errors import UsageError
from roocode_tui.core.files import packages

CLI = [sys.executable, "-m", "roocode_tui.cli"]


def install(site: Path, version: str, body: str, extra: dict[str, str] | None = None) -> None:
    """A distribution 'tinylib' as pip leaves it: the package, its dist-info with METADATA (the
    long description as its body) and RECORD."""
    for old in site.glob("tinylib-*.dist-info"):
        for f in old.iterdir():
            f.unlink()
        old.rmdir()
    pkg = site / "tinylib"
    pkg.mkdir(parents=True, exist_ok=True)
    files = {"tinylib/__init__.py": '"""tinylib: widgets."""\n', "tinylib/core.py": body, **(extra or {})}
    for rel, text in files.items():
        (site / rel).write_text(text)
    info = site / f"tinylib-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: tinylib\nVersion: {version}\nSummary: A tiny library.\n\n"
        "# tinylib\n\nTinylib frobnicates widgets with a quantum sprocket.\n"
    )
    record = [*files, f"tinylib-{version}.dist-info/METADATA", f"tinylib-{version}.dist-info/RECORD", "../../bin/tiny"]
    (info / "RECORD").write_text("".join(f"{r},,\n" for r in record))


def test_resolve_a_python_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    install(site, "1.0", "def frob():\n    return 1\n")
    monkeypatch.setenv("PYTHONPATH", str(site))
    pkg = packages.resolve("tinylib", python=sys.executable, data_dir=tmp_path / "data")
    assert (pkg.name, pkg.version, pkg.collection) == ("tinylib", "1.0", "lib-tinylib")
    description = tmp_path / "data" / "packages" / "pypi" / "lib-tinylib" / "DESCRIPTION.md"
    assert pkg.paths == [site / "tinylib", description]
    assert "quantum sprocket" in description.read_text() and description.read_text().startswith("# tinylib 1.0")
    with pytest.raises(UsageError, match="no package 'nothere' is installed for"):
        packages.resolve("nothere", python=sys.executable, data_dir=tmp_path / "data")
    with pytest.raises(UsageError, match="--ecosystem must be one of pypi, npm"):
        packages.resolve("x", "cargo", data_dir=tmp_path)
    assert packages.collection_for("@scope/Some.Pkg") == "lib-scope-some.pkg"


def test_resolve_an_npm_package(tmp_path: Path) -> None:
    project = tmp_path / "app"
    pkg = project / "node_modules" / "@acme" / "widgets"
    pkg.mkdir(parents=True)
    (pkg / "package.json").write_text(json.dumps({"name": "@acme/widgets", "version": "2.1.0"}))
    (project / "src").mkdir()
    found = packages.resolve("@acme/widgets", "npm", cwd=str(project / "src"), data_dir=tmp_path)
    assert (found.version, found.paths, found.collection) == ("2.1.0", [pkg], "lib-acme-widgets")
    given = packages.resolve("@acme/widgets", "npm", node_modules=str(project / "node_modules"), data_dir=tmp_path)
    assert given.paths == [pkg]
    with pytest.raises(UsageError, match="no npm package 'left-pad'"):
        packages.resolve("left-pad", "npm", cwd=str(project), data_dir=tmp_path)


def command(
    tmp_path: Path, embed_server: EmbedServer, timeout: int, **env: str
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """The CLI in this process's own home, embedding on the test server."""
    full = {
        **in_process_env(),
        "HOME": str(tmp_path / "home"),
        "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
        "ROOCODE_TUI_EMBEDDER__BASE_URL": embed_server.base_url,
        "ROOCODE_TUI_EMBEDDER__MODEL": embed_server.model,
        **env,
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, *args], env=full, capture_output=True, text=True, timeout=timeout)

    return cli


def test_index_a_package_then_its_upgrade(tmp_path: Path, embed_server: EmbedServer) -> None:
    site = tmp_path / "site"
    install(site, "1.0", "def frob():\n    '''Frobnicate one widget.'''\n    return 1\n")
    cli = command(tmp_path, embed_server, 120, PYTHONPATH=str(site))

    first = cli("index", "--package", "tinylib", "--python", sys.executable, "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["files_indexed"] == 3  # __init__.py, core.py, the description
    assert "tinylib 1.0" in first.stderr and "lib-tinylib" in first.stderr
    found = json.loads(cli("search", "quantum sprocket", "-c", "lib-tinylib", "--json").stdout)
    assert found["results"][0]["path"] == "DESCRIPTION.md"

    # An upgrade: one module changed, one added, the description's version line changed.
    install(
        site, "1.1", "def frob():\n    '''Frobnicate two widgets.'''\n    return 2\n", {"tinylib/new.py": "X = 1\n"}
    )
    second = cli("index", "--package", "tinylib", "--python", sys.executable, "--json")
    assert second.returncode == 0, second.stderr
    again = json.loads(second.stdout)
    assert (again["files_indexed"], again["files_unchanged"]) == (3, 1)  # core.py, new.py, the description
    refused = cli("index", "--package", "tinylib", str(site))
    assert refused.returncode == 2 and "--package" in refused.stderr
    assert os.path.isdir(site)


def test_index_a_real_installed_package(tmp_path: Path, embed_server: EmbedServer) -> None:
    """httpx as pip installed it in this environment: its modules and its PyPI description."""
    from importlib import metadata

    import httpx

    cli = command(tmp_path, embed_server, 300)

    ran = cli("index", "--package", "httpx", "--python", sys.executable, "--json")
    assert ran.returncode == 0, ran.stderr
    assert f"httpx {metadata.version('httpx')}" in ran.stderr
    modules = sorted(p.name for p in Path(httpx.__file__).parent.rglob("*.py"))
    report = json.loads(ran.stdout)
    assert report["files_indexed"] == len(modules) + 1 and report["files_failed"] == 0  # + the description
    info = json.loads(cli("collections", "info", "lib-httpx", "--json").stdout)
    assert str(Path(httpx.__file__).parent) in info["paths"]
    found = json.loads(cli("search", "AsyncClient", "-c", "lib-httpx", "--path", "_client.py", "--json").stdout)
    assert found["results"] and all(h["path"].endswith("_client.py") for h in found["results"])
    again = json.loads(cli("index", "--package", "httpx", "--python", sys.executable, "--json").stdout)
    assert again["files_indexed"] == 0 and again["files_unchanged"] == len(modules) + 1
