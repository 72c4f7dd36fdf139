"""roocode-tui: semantic search over docs and commented code, in the terminal."""

__version__ = "0.1.0"
