"""``python -m roocode_tui.cli``: the command line (what the engine's spawn and the tests run)."""

import os

from roocode_tui.cli.commands import main

os.environ.setdefault("PYTHONUNBUFFERED", "1")
main()
