"""The command line face: ``roocode-tui COMMAND`` (the thin search path is entry.py's).

- parser.py: the commands, their options and help;
- commands.py: ``run`` and the commands answered in this process;
- engine_commands.py: those the engine answers (index runs, serve, status, watch, mcp...);
- transfer.py: moving collections (copy, snapshot, restore);
- output.py: what they print.
"""

from __future__ import annotations

import sys

# httpx's package imports its own command-line client (click, rich's console, pygments: ~30 ms
# of every command's and the engine's start); nothing here runs it, and httpx falls back to a
# stub without it. Here, before anything of the command line imports httpx: every command
# (entry.py) and the engine (``python -m roocode_tui.cli serve``) come through this package.
sys.modules.setdefault("httpx._main", None)  # type: ignore[assignment]

from roocode_tui.cli.commands import main, run  # noqa: E402

__all__ = ["main", "run"]
