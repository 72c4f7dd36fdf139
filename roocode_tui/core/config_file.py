"""The config file: where it is and what it says, read without validating it.

Validation is core/config.py's (pydantic-settings over this file's values and the environment).
This module imports no pydantic, so the TUI can read its config before its first frame and
validate it right after (pydantic and pydantic-settings cost ~0.1 s of start-up): a missing file
or bad TOML still stops the TUI before it starts, a bad value right after its first frame, with
the same one-line message either way.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from roocode_tui.core.errors import ConfigError

APP_NAME = "roocode-tui"
ENV_PREFIX = "ROOCODE_TUI_"
CONFIG_ENV = "ROOCODE_TUI_CONFIG"
COLLECTION_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def check_collection_name(name: str) -> str:
    if not COLLECTION_NAME_RE.match(name):
        raise ValueError(
            "a collection name is 1-63 letters, digits, '_', '-' or '.', starting with a "
            f"letter or digit (got {name!r})"
        )
    return name


@dataclass
class ConfigFile:
    """The config file's values as read (relative paths resolved), not yet validated."""

    path: Path  # the file read, or the default location where none exists
    found: bool  # a file was read (named explicitly, or at the default location)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        """How an error names the source of a bad value (an environment variable is named instead)."""
        return f"config file {self.path}" if self.found else "settings"


def read_config(config: str | os.PathLike[str] | None = None) -> ConfigFile:
    """The TOML file (explicit, ``ROOCODE_TUI_CONFIG``, or the default location), read and parsed;
    a missing explicit file, an unreadable one or bad TOML raise :class:`ConfigError`."""
    explicit = config or os.environ.get(CONFIG_ENV)
    path = Path(explicit).expanduser() if explicit else default_config_path()
    if not explicit and not path.exists():
        return ConfigFile(path, found=False)
    data = _read_toml(path)
    path = path.resolve()
    _resolve_relative_paths(data, path.parent)
    return ConfigFile(path, found=True, data=data)


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # only when there is a file to read

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: invalid TOML: {exc}") from None


def _resolve_relative_paths(data: dict[str, Any], base: Path) -> None:
    """Collection paths and the store path in a config file are relative to the file."""

    def fix(p: Any) -> Any:
        if isinstance(p, str) and p:
            expanded = Path(p).expanduser()
            return os.path.normpath(expanded if expanded.is_absolute() else base / expanded)
        return p

    store = data.get("store")
    if isinstance(store, dict):
        for key in ("path", "ca_cert"):
            if key in store:
                store[key] = fix(store[key])
    for coll in data.get("collections") or []:
        if isinstance(coll, dict) and isinstance(coll.get("paths"), list):
            coll["paths"] = [fix(p) for p in coll["paths"]]
