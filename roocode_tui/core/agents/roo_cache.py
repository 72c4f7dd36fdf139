"""Roo Code's own record of what it indexed, written for it: ``index --schema roo --write-cache``.

Roo Code decides what to embed from a cache file in VS Code's storage for the extension,
``roo-index-cache-<sha256(workspace)>.json`` (``code-index/cache-manager.ts``): absolute file
paths to the sha256 of their text. A file whose hash is there is not parsed or embedded again
(``processors/scanner.ts``), so writing it after a complete run hands Roo Code the index with
nothing left to do. Only files read whole in that run, whose blocks are all in the collection,
are listed; a file missing from the cache is simply indexed by Roo Code.

Roo Code keeps the cache in memory while VS Code has the workspace open and writes it back
from there, so the file is written only while no VS Code extension host runs for this user
and nothing holds the file or its lock.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from roocode_tui.core.agents import roo
from roocode_tui.core.agents.profile import AgentProfile
from roocode_tui.core.errors import UsageError

EXTENSION_ID = roo.ROO.extension_id


def cache_name(workspace: str, profile: AgentProfile = roo.ROO) -> str:
    """``roo-index-cache-${sha256(workspacePath)}.json`` (Zoo Code keeps the name)."""
    return f"{profile.cache_prefix}{roo._sha256(roo.workspace_path(workspace))}.json"


def js_string(text: str) -> str:
    """A path as JavaScript holds it: a byte that is not UTF-8 (a lone surrogate here) is U+FFFD."""
    return roo._utf8(text).decode("utf-8")


def file_hash(data: bytes) -> str:
    """scanner.ts: sha256 of the file read as ``Buffer.toString("utf-8")``."""
    return roo._sha256(roo.decode(data))


def storage_dirs(home: Path | None = None, profile: AgentProfile = roo.ROO) -> list[Path]:
    """Where VS Code keeps the extension's global storage, Remote-SSH servers first."""
    home = home or Path.home()
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    user_dirs = [
        home / ".vscode-server" / "data" / "User",
        home / ".vscode-server-insiders" / "data" / "User",
        config / "Code" / "User",
        config / "Code - Insiders" / "User",
        config / "VSCodium" / "User",
        home / "Library" / "Application Support" / "Code" / "User",
    ]
    return [d / "globalStorage" / profile.extension_id for d in user_dirs]


def cache_path(workspace: str, dest: str | None, profile: AgentProfile = roo.ROO) -> Path:
    """The cache file for ``workspace``: in ``dest`` (a directory, or the file itself when it
    ends in ``.json``), else in the first of :func:`storage_dirs` that exists."""
    flag, label = "--write-cache", profile.label
    if dest:
        given = Path(dest).expanduser()
        if given.suffix == ".json":
            return given.absolute()
        if not given.is_dir():
            raise UsageError(f"{flag}: {given} is not a directory (give {label}'s storage directory)")
        return given.absolute() / cache_name(workspace, profile)
    for d in storage_dirs(profile=profile):
        if d.is_dir():
            return d / cache_name(workspace, profile)
    looked = ", ".join(str(d) for d in storage_dirs(profile=profile)[:3])
    raise UsageError(f"{flag}: no storage of {label}'s found (looked in {looked}, ...): name it: {flag}=DIR")


def holders(path: Path, proc: Path = Path("/proc")) -> list[str]:
    """What keeps the cache from being written now: its lock, a process with it open, a VS
    Code extension host of this user (Roo Code there writes its in-memory copy back)."""
    found = []
    lock = path.with_name(path.name + ".lock")  # safeWriteJson's proper-lockfile
    if lock.exists():
        found.append(f"its lock {lock} (Roo Code is writing it)")
    return found + processes_holding(path, proc, _extension_host)


def _extension_host(argv: list[bytes]) -> str | None:
    return "VS Code's extension host" if b"--type=extensionHost" in b" ".join(argv) else None


def processes_holding(path: Path, proc: Path, agent_process: Callable[[list[bytes]], str | None]) -> list[str]:
    """The processes of this user that keep a cache file from being written: one that
    ``agent_process`` names (its argv -> what it is, or None: the agent, which would write its own
    copy back), or one with the file open."""
    found: list[str] = []
    if not proc.is_dir():
        return found
    me = os.getuid()
    target = str(path)
    for entry in proc.iterdir():
        if not entry.name.isdigit() or entry.name == str(os.getpid()):
            continue
        try:
            if entry.stat().st_uid != me:
                continue
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        what = agent_process(argv)
        if what is not None:
            found.append(f"{what} (pid {entry.name})")
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == target:
                    found.append(f"pid {entry.name} has it open")
                    break
            except OSError:
                continue
    return found


def refuse_if_held(path: Path, profile: AgentProfile = roo.ROO) -> None:
    held = holders(path)
    if held:
        raise UsageError(
            f"--write-cache: {path} is in use: {'; '.join(held)}. Close VS Code (on a "
            f"Remote-SSH box: its remote window) and run again; {profile.label} would write its own copy over it"
        )


def write(path: Path, hashes: dict[str, str]) -> None:
    """Replace the cache file at once (a reader sees the old file or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".roo-index-cache-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(dict(sorted(hashes.items())), f, ensure_ascii=False, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
