"""The command line face: ``roocode-tui COMMAND`` (the thin search path is entry.py's).

- parser.py: the commands, their options and help;
- commands.py: ``run`` and the commands answered in this process;
- engine_commands.py: those the engine answers (index runs, serve, status, watch, mcp...);
- transfer.py: moving collections (copy, snapshot, restore);
- output.py: what they print.
"""

from __future__ import annotations

from roocode_tui.cli.commands import main, run

__all__ = ["main", "run"]
