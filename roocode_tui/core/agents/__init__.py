"""Coding agents' codebase indexes, read and written exactly as each agent does: Roo Code's (its
names, blocks, tree-sitter parsing, Qdrant layout and cache file) and Zoo Code's, its successor,
each described by an agent profile (profile.py)."""
