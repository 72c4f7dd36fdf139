"""Language of a file from its name, as Pygments names it, cached per suffix."""

from __future__ import annotations

from functools import lru_cache
from pathlib import PurePath

# Names we want stable whatever Pygments' alias order is (they are stored in payloads).
_CANONICAL = {
    "python3": "python",
    "py": "python",
    "md": "markdown",
    "js": "javascript",
    "ts": "typescript",
    "sh": "bash",
    "shell": "bash",
    "c++": "cpp",
    "golang": "go",
    "rs": "rust",
    "yml": "yaml",
    "text": "text",
}

# Extensions Pygments would guess oddly or not at all.
_BY_SUFFIX = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdx": "markdown",
    ".rst": "rst",
    ".txt": "text",
    ".tsx": "tsx",
    ".jsx": "jsx",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".py": "python",
    ".pyi": "python",
    ".h": "c",
    ".toml": "toml",
    ".sql": "sql",
}


@lru_cache(maxsize=4096)
def _by_key(key: str) -> str:
    from pygments.lexers import get_lexer_for_filename
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_for_filename(key)
    except ClassNotFound:
        return "text"
    alias = lexer.aliases[0] if lexer.aliases else lexer.name.lower()
    return _CANONICAL.get(alias, alias)


def detect_language(filename: str) -> str:
    """Return a short language id (``python``, ``markdown``, ``text``...) for a file name."""
    name = PurePath(filename).name
    suffix = PurePath(name).suffix.lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    # Cache by suffix when there is one, else by the whole name (Makefile, Dockerfile).
    return _by_key(f"x{suffix}" if suffix else name)


# Our language ids -> langchain_text_splitters.Language values with separators.
LANGCHAIN_LANGUAGES = {
    "python": "python",
    "javascript": "js",
    "jsx": "js",
    "typescript": "ts",
    "tsx": "ts",
    "go": "go",
    "rust": "rust",
    "java": "java",
    "kotlin": "kotlin",
    "scala": "scala",
    "swift": "swift",
    "cpp": "cpp",
    "c": "c",
    "csharp": "csharp",
    "php": "php",
    "ruby": "ruby",
    "lua": "lua",
    "perl": "perl",
    "haskell": "haskell",
    "elixir": "elixir",
    "powershell": "powershell",
    "sol": "sol",
    "solidity": "sol",
    "protobuf": "proto",
    "proto": "proto",
    "rst": "rst",
    "latex": "latex",
    "tex": "latex",
    "html": "html",
    "cobol": "cobol",
    "markdown": "markdown",
}
