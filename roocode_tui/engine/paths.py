"""Where the engine lives: a private runtime directory with its socket and lock, and its log.

gpg-agent and ssh-agent put their sockets in ``$XDG_RUNTIME_DIR`` (a per-user tmpfs, 0700);
where there is none, a ``/tmp/roocode-tui-<uid>`` directory that must be ours and private.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import platformdirs

from roocode_tui import __version__
from roocode_tui.core.errors import UsageError
from roocode_tui.engine.quick import engine_tag, store_key

APP = "roocode-tui"
MAX_SOCKET_PATH = 107  # sun_path is 108 bytes on Linux, NUL included


def runtime_dir(settings: Any) -> Path:
    configured = settings.engine.socket
    if configured is not None:
        return Path(configured).expanduser().parent
    base = os.environ.get("XDG_RUNTIME_DIR") or systemd_runtime_dir()
    if base and os.path.isdir(base):
        return Path(base) / APP
    return Path("/tmp") / f"{APP}-{os.getuid()}"


def systemd_runtime_dir() -> str | None:
    """The runtime dir systemd gives a logged-in user (what XDG_RUNTIME_DIR names), when there is
    one: a face started with a trimmed environment (an agent's MCP server gets HOME, PATH and
    little else) still finds the engine the user's terminals use."""
    guess = f"/run/user/{os.getuid()}"
    try:
        return guess if os.stat(guess).st_uid == os.getuid() else None
    except OSError:
        return None


def served_store(settings: Any) -> str:
    """What the engine of these settings serves (see quick.store_key): faces of one store
    share an engine, and an engine never answers a face of another store."""
    store = settings.store
    return store_key(store.backend, store.url, str(store.data_dir))


def tag(settings: Any) -> str:
    """The short name of these settings' engine: its socket, lock and log carry it."""
    return engine_tag(served_store(settings))


def socket_path(settings: Any) -> Path:
    configured = settings.engine.socket
    path = (
        Path(configured).expanduser()
        if configured is not None
        else runtime_dir(settings) / f"engine-{tag(settings)}.sock"
    )
    if len(os.fsencode(str(path))) > MAX_SOCKET_PATH:
        raise UsageError(f"engine.socket: {path} is longer than a Unix socket path may be ({MAX_SOCKET_PATH} bytes)")
    return path


def sockets(settings: Any) -> list[Path]:
    """Every engine socket of this user that these settings can see: those in the runtime dir,
    and the configured one."""
    found = sorted(runtime_dir(settings).glob("engine-*.sock")) if settings.engine.socket is None else []
    mine = socket_path(settings)
    return found if mine in found or not mine.exists() else [mine, *found]


def lock_path(settings: Any) -> Path:
    return socket_path(settings).with_suffix(".lock")


def read_pid(fd: int) -> int | None:
    """The pid an engine wrote into its lock file."""
    try:
        return int(os.pread(fd, 32, 0).decode().strip() or 0) or None
    except (OSError, ValueError):
        return None


def lock_holder(path: Path) -> int | None:
    """The pid of the engine holding the lock at ``path`` (-1 when it wrote none), or None
    when no engine holds it: an engine holds it until its last step."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_pid(fd) or -1
    else:
        return None
    finally:
        os.close(fd)


def log_path(settings: Any) -> Path:
    """The engine's log (one per store): ``~/.local/state/roocode-tui/engine-<tag>.log``."""
    return Path(platformdirs.user_state_dir(APP)) / f"engine-{tag(settings)}.log"


def token_path(settings: Any) -> Path:
    configured = settings.engine.token_file
    return (
        Path(configured).expanduser()
        if configured is not None
        else Path(platformdirs.user_state_dir(APP)) / "engine.token"
    )


def engine_token(settings: Any) -> str:
    """The TCP listener's token: read from its file, or made (random, 0600) when there is none."""
    import secrets

    path = token_path(settings)
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        token = ""
    except OSError as exc:
        raise UsageError(f"engine.token_file: cannot read {path}: {exc.strerror or exc}") from None
    if token:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            raise UsageError(f"engine.token_file: {path} is readable by others: chmod 600 {path}")
        return token
    token = secrets.token_urlsafe(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(token + "\n")
    except OSError as exc:
        raise UsageError(f"engine.token_file: cannot write {path}: {exc.strerror or exc}") from None
    return token


def private_dir(path: Path) -> Path:
    """Create ``path`` 0700, or check that an existing one is ours and not open to others."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = path.stat()
    except OSError as exc:
        raise UsageError(f"engine: cannot create {path}: {exc.strerror or exc}") from None
    if st.st_uid != os.getuid():
        raise UsageError(f"engine: {path} belongs to another user (uid {st.st_uid}); set engine.socket elsewhere")
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(path, 0o700)
    return path


def fingerprint(settings: Any) -> str:
    """What must match between a face and the engine it talks to: the version and the settings
    (file and environment alike; secrets as set-or-not, never their values). Left out:
    read_only, which each face applies to itself too, and [engine], which says how to reach
    and run the engine, not what it does."""
    blob = json.dumps([__version__, compared(settings)], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def compared(settings: Any) -> dict[str, Any]:
    """The settings a face and its engine must share, as JSON (secrets masked by pydantic),
    and the store they resolve to (the default data dir is no setting but differs by HOME and
    XDG_DATA_HOME)."""
    return {**settings.model_dump(mode="json", exclude={"read_only", "engine"}), "served_store": served_store(settings)}


def first_difference(ours: Any, theirs: Any, where: str = "") -> str | None:
    """The first key (dotted) whose value differs, or None."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(set(ours) | set(theirs)):
            found = first_difference(ours.get(key), theirs.get(key), f"{where}.{key}" if where else key)
            if found:
                return found
        return None
    return None if ours == theirs else (where or "(settings)")
