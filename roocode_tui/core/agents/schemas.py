"""The agents' index schemas an ``index --schema`` run can build, and ``--schema auto``.

One entry per agent: its profile (what it indexes and how it chunks) and the function that
prepares an Indexer for its collection. ``auto`` picks the agent that indexes the workspace
(:mod:`roocode_tui.core.agents.detect`: its cache file, else Kilo Code's metadata point in the
collection, else the one agent installed) and says which, and why.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from roocode_tui.core.agents import detect, kilo, kilo_qdrant, roo, roo_qdrant, zoo_qdrant
from roocode_tui.core.agents.kilo import KILO
from roocode_tui.core.agents.profile import AgentProfile
from roocode_tui.core.agents.zoo import ZOO
from roocode_tui.core.errors import UsageError


@dataclass(frozen=True)
class AgentSchema:
    profile: AgentProfile
    prepare: Callable[..., Awaitable[Any]]  # the agent module's prepare_indexer (roo_qdrant's arguments)


SCHEMAS: dict[str, AgentSchema] = {
    roo.ROO.key: AgentSchema(roo.ROO, roo_qdrant.prepare_indexer),
    ZOO.key: AgentSchema(ZOO, zoo_qdrant.prepare_indexer),
    KILO.key: AgentSchema(KILO, kilo_qdrant.prepare_indexer),
}
#: every ``--schema`` value: ours, each agent's, and auto
CHOICES = ("native", *SCHEMAS, "auto")
_BY_AGENT = {s.profile.name: key for key, s in SCHEMAS.items()}


@dataclass(frozen=True)
class Choice:
    key: str  # a key of SCHEMAS; "" while auto still has the collection's metadata point to read
    why: str  # "" when named on the command line
    workspace: str = ""  # auto's workspace
    found: detect.Scan | None = field(default=None, compare=False)  # what auto found on disk

    def line(self) -> str:
        return f"--schema auto: {SCHEMAS[self.key].profile.label}'s index ({self.why})"


def choose(schema: str, paths: list[str], cwd: str | None, found: detect.Scan | None = None) -> Choice:
    """The agent schema of a run: the one named, or for ``auto`` the workspace's agent when a
    cache file names it (else :func:`resolve` reads the collection's metadata point first)."""
    if schema in SCHEMAS:
        return Choice(schema, "")
    if schema != "auto":
        raise UsageError(f"--schema {schema}: unknown (choose from {', '.join(CHOICES)})")
    workspace = roo_qdrant.workspace_for(paths, cwd)
    found = found or detect.scan()
    owner = detect.owner_of_workspace(workspace, found)
    if owner.agent is not None and owner.why.startswith("its cache file"):
        return Choice(_BY_AGENT[owner.agent], owner.why)
    return Choice("", "", workspace, found)


async def resolve(choice: Choice, store: Any) -> Choice:
    """An auto choice the cache files did not settle: by the metadata point of the workspace's
    collection, else the one agent installed; a usage error naming the candidates when neither tells."""
    if choice.key:
        return choice
    workspace, found = choice.workspace, choice.found or detect.scan()
    marker = None
    for name in dict.fromkeys([kilo.collection_name(workspace), roo.collection_name(workspace)]):
        marker = marker or await kilo_qdrant.marker_of(store, name)
    owner = detect.owner_of_workspace(workspace, found, marker)
    if owner.agent is None:
        named = "|".join(_BY_AGENT[a] for a in owner.candidates if a in _BY_AGENT)
        raise UsageError(
            f"--schema auto: cannot tell which agent indexes {workspace} ({owner.why}): name it with --schema {named}"
        )
    return Choice(_BY_AGENT[owner.agent], owner.why)


def collection_name(schema: str, paths: list[str], cwd: str | None) -> str:
    """The collection an agent schema's run writes: every agent here names it as Roo Code does,
    Kilo Code over the workspace's realpath."""
    workspace = roo_qdrant.workspace_for(paths, cwd)
    if schema == "auto":
        try:
            schema = choose(schema, paths, cwd).key
        except UsageError:
            pass
    return kilo.collection_name(workspace) if schema == KILO.key else roo.collection_name(workspace)


async def prepare_indexer(
    choice: Choice,
    settings: Any,
    store: Any,
    embedder: Any,
    paths: list[str],
    collection: str | None,
    *,
    rebuild: bool = False,
    on_progress: Any = None,
    cwd: str | None = None,
    cache: str | None = None,
) -> Any:
    choice = await resolve(choice, store)
    indexer = await SCHEMAS[choice.key].prepare(
        settings,
        store,
        embedder,
        paths,
        collection,
        rebuild=rebuild,
        on_progress=on_progress,
        cwd=cwd,
        agent_cache=cache,
    )
    indexer.progress.schema = choice.key
    if choice.why:
        indexer.progress.schema_why = choice.why
    return indexer


async def which(workspace: str, store: Any, found: detect.Scan | None = None) -> dict[str, Any]:
    """What each agent has of ``workspace`` (``agents which``): its collection's name, whether the
    store has it, its points and marker, the agent's cache file when one names it; the agents
    installed, and the one that indexes the workspace (or why that cannot be told)."""
    found = found or detect.scan()
    names = detect.cache_names(workspace)
    agents: list[dict[str, Any]] = []
    infos: dict[str, Any] = {}
    for key, schema in SCHEMAS.items():
        profile = schema.profile
        name = kilo.collection_name(workspace) if key == KILO.key else roo.collection_name(workspace)
        if name not in infos:
            infos[name] = await roo_qdrant.describe(store, name)
        info = infos[name]
        cache = next(
            (
                d / names[profile.name]
                for d in found.storage.get(profile.name, [])
                if (d / names[profile.name]).is_file()
            ),
            None,
        )
        entry: dict[str, Any] = {
            "schema": key,
            "agent": profile.name,
            "label": profile.label,
            "collection": name,
            "exists": info is not None,
            "installed": [i.to_json() for i in found.installed if i.agent == profile.name],
            "cache": str(cache) if cache else None,
        }
        if info is not None:
            entry.update(points=info.points, dimension=info.dimension, indexing_complete=info.indexing_complete)
            entry["layout"] = "kilo-code" if info.owner == KILO.name else "roo-code"
        agents.append(entry)
    marker = next((a["layout"] for a in agents if a.get("layout") == KILO.name), None)
    if marker is None and any(a["exists"] for a in agents):
        marker = "roo-layout"
    owner = detect.owner_of_workspace(workspace, found, marker)
    return {"workspace": workspace, "agents": agents, "owner": owner.to_json() | {"why": owner.why}}
