"""``python -m roocode_tui.cli``: the command line (what the engine's spawn and the tests run)."""

import os
import sys

# httpx's package imports its own command-line client (click, rich, pygments: ~30 ms of every
# engine's start); nothing here runs it, and httpx falls back to a stub without it
sys.modules.setdefault("httpx._main", None)  # type: ignore[assignment]

from roocode_tui.cli.commands import main  # noqa: E402

os.environ.setdefault("PYTHONUNBUFFERED", "1")
main()
