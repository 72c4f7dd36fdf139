"""Which coding agents this user runs, and which agent a collection or a workspace belongs to.

Found on disk, not configured:

* installed extensions: VS Code keeps each in ``<publisher>.<name>-<version>[-<platform>]/``
  under its extensions folder (``~/.vscode/extensions``; on a box reached by Remote-SSH,
  ``~/.vscode-server/extensions``), with the ``package.json`` that names it. A folder listed in
  the folder's ``.obsolete`` file is an uninstalled one VS Code has not deleted yet;
* the agents' cache files: Roo Code and Zoo Code write ``roo-index-cache-<sha256(workspace)>.json``
  into their own global storage (``globalStorage/<extension id>/``) once they indexed a workspace;
  Kilo Code writes the same name (over the workspace's realpath) into
  ``$XDG_STATE_HOME/kilo/indexing/``.

Roo Code's and Zoo Code's collections look alike in Qdrant (one layout, one metadata point), so the
owner of such a collection is the agent whose cache file names its workspace. The collection's
name is ``ws-`` and the first 16 hex digits of the same sha256, so the cache file is found from
the name alone. Both or neither: the owner is ambiguous, and :class:`Owner` says so. Kilo Code's
collections have a metadata point of their own (roo_qdrant.describe tells them apart).

The agent that indexes a workspace (``index --schema auto``) is the one whose cache file names it,
else Kilo Code when its collection holds Kilo's metadata point, else the one agent installed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from roocode_tui.core.agents import kilo, roo, roo_cache
from roocode_tui.core.agents.kilo import KILO
from roocode_tui.core.agents.profile import AgentProfile
from roocode_tui.core.agents.zoo import ZOO

#: the agents whose collections share Roo Code's layout, in the order a tie is written
ROO_LAYOUT: tuple[AgentProfile, ...] = (roo.ROO, ZOO)
#: every agent whose index a run can build, in the order a tie is written
AGENTS: tuple[AgentProfile, ...] = (*ROO_LAYOUT, KILO)

#: extension id (lower case, as VS Code names its folders) -> the agent's name
EXTENSIONS = {p.extension_id: p.name for p in AGENTS}


@dataclass(frozen=True)
class Installed:
    """One installed extension of a coding agent."""

    agent: str  # "roo-code", "zoo-code", "kilo-code"
    extension_id: str  # lower case
    version: str
    host: str  # "VS Code", "VS Code Server" (Remote-SSH), ...
    path: Path

    def to_json(self) -> dict[str, str]:
        return {
            "agent": self.agent,
            "extension": self.extension_id,
            "version": self.version,
            "host": self.host,
            "path": str(self.path),
        }


@dataclass(frozen=True)
class Owner:
    """Who wrote a collection: ``agent`` when known, else the ``candidates``; ``why``: how it was told
    (or why it cannot be)."""

    agent: str | None
    candidates: tuple[str, ...] = ()
    why: str = ""

    @property
    def label(self) -> str:
        """As a list shows it: ``zoo-code``, or ``roo-code|zoo-code?`` when it cannot tell."""
        return self.agent or ("|".join(self.candidates) + "?")

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"agent": self.agent}
        if self.agent is None:
            out.update(candidates=list(self.candidates), why=self.why)
        return out


@dataclass
class Scan:
    """What one look at this user's home found (cheap enough to take once per listing)."""

    installed: list[Installed] = field(default_factory=list)
    storage: dict[str, list[Path]] = field(default_factory=dict)  # agent -> its storage dirs that exist

    def agents(self) -> set[str]:
        return {i.agent for i in self.installed}


def extension_roots(home: Path | None = None) -> list[tuple[str, Path]]:
    """Where VS Code and its kin keep extensions, Remote-SSH servers first."""
    home = home or Path.home()
    return [
        ("VS Code Server", home / ".vscode-server" / "extensions"),
        ("VS Code Server Insiders", home / ".vscode-server-insiders" / "extensions"),
        ("VS Code", home / ".vscode" / "extensions"),
        ("VS Code Insiders", home / ".vscode-insiders" / "extensions"),
        ("VSCodium", home / ".vscode-oss" / "extensions"),
        ("Cursor", home / ".cursor" / "extensions"),
        ("Windsurf", home / ".windsurf" / "extensions"),
    ]


def _obsolete(root: Path) -> set[str]:
    try:
        data = json.loads((root / ".obsolete").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {str(k).lower() for k, v in data.items() if v} if isinstance(data, dict) else set()


def _identify(folder: Path) -> tuple[str, str] | None:
    """(extension id, version) of an extension folder, from its package.json, else its name."""
    try:
        manifest = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    if isinstance(manifest, dict) and manifest.get("publisher") and manifest.get("name"):
        return f"{manifest['publisher']}.{manifest['name']}".lower(), str(manifest.get("version") or "")
    name = folder.name.lower()
    for ext_id in EXTENSIONS:
        if name.startswith(ext_id + "-"):
            return ext_id, name[len(ext_id) + 1 :].split("-")[0]
    return None


def installed(home: Path | None = None) -> list[Installed]:
    """The coding agents' extensions installed for this user, newest version first per host."""
    found: list[Installed] = []
    for host, root in extension_roots(home):
        if not root.is_dir():
            continue
        gone = _obsolete(root)
        try:
            folders = sorted(root.iterdir())
        except OSError:
            continue
        for folder in folders:
            if not folder.is_dir() or folder.name.lower() in gone:
                continue
            if not any(folder.name.lower().startswith(ext_id + "-") for ext_id in EXTENSIONS):
                continue
            ident = _identify(folder)
            if ident is None or ident[0] not in EXTENSIONS:
                continue
            found.append(Installed(EXTENSIONS[ident[0]], ident[0], ident[1], host, folder))
    return found


def scan(home: Path | None = None) -> Scan:
    storage = {p.name: [d for d in roo_cache.storage_dirs(home, p) if d.is_dir()] for p in ROO_LAYOUT}
    state = kilo.state_dir(home=home)
    storage[KILO.name] = [state] if state.is_dir() else []
    return Scan(installed(home), storage)


def _has_cache(dirs: list[Path], prefix: str, digest: str) -> bool:
    """A cache file of a workspace whose sha256 starts with ``digest`` in one of ``dirs``."""
    return any(next(d.glob(f"{prefix}{digest}*.json"), None) is not None for d in dirs)


def owner_of_roo_layout(name: str, found: Scan) -> Owner:
    """The owner of a collection in Roo Code's layout named ``name`` (``ws-<16 hex>``)."""
    digest = name[len("ws-") :].lower() if roo.is_roo_name(name) else ""
    with_cache = [
        p.name for p in ROO_LAYOUT if digest and _has_cache(found.storage.get(p.name, []), p.cache_prefix, digest)
    ]
    if len(with_cache) == 1:
        return Owner(with_cache[0], why="its cache file names this workspace")
    everyone = tuple(p.name for p in ROO_LAYOUT)
    if with_cache:
        return Owner(None, tuple(with_cache), "both agents have a cache file of its workspace")
    there = [a for a in everyone if a in found.agents()]
    if len(there) == 1:
        return Owner(there[0], why="no agent's cache file names this workspace; it is the one installed")
    why = "no cache file of its workspace, and " + (
        "both extensions are installed" if there else "neither extension is installed here"
    )
    return Owner(None, everyone, why)


def cache_names(workspace: str) -> dict[str, str]:
    """Each agent's cache file name for ``workspace`` (Kilo Code hashes its realpath)."""
    names = {p.name: roo_cache.cache_name(workspace, p) for p in ROO_LAYOUT}
    names[KILO.name] = kilo.cache_name(workspace)
    return names


def owner_of_workspace(workspace: str, found: Scan, marker: str | None = None) -> Owner:
    """The agent that indexes ``workspace``: the one whose cache file names it; else, when its
    collection holds Kilo Code's metadata point (``marker`` "kilo-code"), Kilo Code; else the
    one agent installed among those that can own it (Roo Code's metadata point, ``marker``
    "roo-layout", leaves out Kilo Code)."""
    names = cache_names(workspace)
    with_cache = [p.name for p in AGENTS if any((d / names[p.name]).is_file() for d in found.storage.get(p.name, []))]
    if len(with_cache) == 1:
        return Owner(with_cache[0], why="its cache file names this workspace")
    if marker == KILO.name:
        return Owner(KILO.name, why="its collection holds Kilo Code's metadata point")
    candidates = with_cache or [p.name for p in AGENTS]
    marked = ""
    if marker == "roo-layout":
        candidates = [a for a in candidates if a != KILO.name]
        marked = "; its collection holds Roo Code's metadata point"
    if with_cache:
        if len(candidates) == 1:
            return Owner(candidates[0], why=f"{', '.join(with_cache)} have a cache file of its workspace{marked}")
        return Owner(None, tuple(candidates), f"{_several(len(with_cache))} have a cache file of its workspace{marked}")
    there = [a for a in candidates if a in found.agents()]
    if len(there) == 1:
        return Owner(there[0], why=f"no agent's cache file names this workspace; it is the one installed{marked}")
    why = "no cache file of its workspace, and " + (
        f"{', '.join(there)} are installed" if there else "no agent's extension is installed here"
    )
    return Owner(None, tuple(there or candidates), why + marked)


def _several(n: int) -> str:
    return "both agents" if n == 2 else f"{n} agents"
