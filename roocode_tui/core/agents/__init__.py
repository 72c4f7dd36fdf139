"""Coding agents' codebase indexes, read and written exactly as each agent does: Roo Code's today
(its names, blocks, tree-sitter parsing, Qdrant layout and cache file)."""
