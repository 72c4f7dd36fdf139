"""The thin path of a face: `roocode-tui search` answered by a running engine with the standard
library alone (one HTTP/1.1 request written on the Unix socket), so that a script or an agent
asking many questions pays for starting Python and little more: no pydantic, httpx, asyncio or
even http.client import (that one loads the email package). ``roocode_tui/entry.py`` sends it
before the command line's parser is built.

Whether the engine has this face's settings is decided without loading them: both sides hash
the inputs the settings come from (the config file's bytes, the ``ROOCODE_TUI_*`` variables,
HOME and the XDG dirs). Equal inputs mean equal settings; when they differ (or anything else is
unusual) the command takes the full path, which loads the settings and compares the results.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

from roocode_tui import __version__

IDENTITY_HEADER = "X-Roocode-Identity"
_ENV_KEYS = ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")


def config_file(explicit: str | None) -> Path:
    """The config file a command reads (as config.load_settings chooses it)."""
    chosen = explicit or os.environ.get("ROOCODE_TUI_CONFIG")
    if chosen:
        return Path(chosen).expanduser()
    if sys.platform == "linux":  # platformdirs' answer there, without importing it
        base = os.environ.get("XDG_CONFIG_HOME", "").strip() or os.path.expanduser("~/.config")
        return Path(base) / "roocode-tui" / "config.toml"
    import platformdirs

    return Path(platformdirs.user_config_dir("roocode-tui")) / "config.toml"


def identity(explicit_config: str | None) -> str:
    """A hash of what a process's settings are made from (the [engine] keys apart)."""
    path = config_file(explicit_config)
    try:
        data = path.read_bytes()
        where = str(path.resolve())
    except OSError:
        data, where = b"", ""
    env = sorted(
        (k, v)
        for k, v in os.environ.items()
        if (k.startswith("ROOCODE_TUI_") and not k.startswith("ROOCODE_TUI_ENGINE__")) or k in _ENV_KEYS
    )
    blob = json.dumps([__version__, where, hashlib.sha256(data).hexdigest(), env])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _engine_table(explicit_config: str | None) -> dict[str, Any]:
    path = config_file(explicit_config)
    if not path.is_file():
        return {}
    import tomllib

    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("engine", {})
    except (OSError, ValueError):
        return {"unreadable": True}
    return table if isinstance(table, dict) else {"unreadable": True}


def socket_path(explicit_config: str | None) -> Path | None:
    """The engine's socket as the settings would give it; None when the engine is off here or
    the config needs the full path to be understood."""
    table = _engine_table(explicit_config)
    if table.get("unreadable"):
        return None
    enabled = os.environ.get("ROOCODE_TUI_ENGINE__ENABLED", str(table.get("enabled", True))).strip().lower()
    if enabled in ("0", "false", "no", "off"):
        return None
    configured = os.environ.get("ROOCODE_TUI_ENGINE__SOCKET") or table.get("socket")
    if configured:
        return Path(str(configured)).expanduser()
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base and os.path.isdir(base):
        return Path(base) / "roocode-tui" / "engine.sock"
    return Path("/tmp") / f"roocode-tui-{os.getuid()}" / "engine.sock"


class _Unexpected(Exception):
    pass


def _request(path: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
    """POST /search over the Unix socket: (status, body). The engine (uvicorn) answers one
    request per connection here: Connection: close, then the body by length or chunks."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (
        f"POST /search HTTP/1.1\r\nHost: engine\r\nConnection: close\r\nContent-Length: {len(body)}\r\n{head}\r\n"
    ).encode() + body
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(request)
        parts = []
        while chunk := sock.recv(262144):
            parts.append(chunk)
    raw = b"".join(parts)
    top, sep, rest = raw.partition(b"\r\n\r\n")
    if not sep:
        raise _Unexpected("no header")
    lines = top.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if "chunked" in fields.get("transfer-encoding", "").lower():
        out = bytearray()
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                return status, bytes(out)
            out += rest[:size]
            rest = rest[size + 2 :]
    if "content-length" in fields:
        return status, rest[: int(fields["content-length"])]
    return status, rest


def search(explicit_config: str | None, payload: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    """POST /search to the running engine: (HTTP status, JSON body), or None to take the full
    path (no engine, another identity, anything unexpected)."""
    path = socket_path(explicit_config)
    if path is None or not path.exists():
        return None
    try:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", IDENTITY_HEADER: identity(explicit_config)}
        status, raw = _request(str(path), body, headers, timeout=600)
        data = json.loads(raw or b"null")
    except (OSError, ValueError, IndexError, _Unexpected):
        return None
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if status == 409 and isinstance(error, dict) and error.get("type") == "IdentityMismatch":
        return None
    return status, data
