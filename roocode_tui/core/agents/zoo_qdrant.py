"""Zoo Code's collection in a Qdrant server: built as Zoo Code builds it.

Its layout is Roo Code's (collection name, point ids, payload, metadata point, HNSW settings), so
recognising, describing and searching one is :mod:`roocode_tui.core.agents.roo_qdrant`'s work; a
Zoo Code collection and a Roo Code one of the same workspace are the same collection. Building
one differs in the file selection and the blocks (:data:`roocode_tui.core.agents.zoo.ZOO`), and
in where the cache file goes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from roocode_tui.core.agents import roo_qdrant
from roocode_tui.core.agents.profile import AgentProfile
from roocode_tui.core.agents.zoo import ZOO


class ZooSchema(roo_qdrant.RooSchema):
    """How the Indexer builds Zoo Code's collection for one workspace: Roo Code's points and
    metadata point, Zoo Code's files and blocks, its cache file (``--write-cache``)."""

    def __init__(self, store: Any, workspace: str, cache_file: Path | None = None, profile: AgentProfile = ZOO):
        super().__init__(store, workspace, cache_file, profile)


async def prepare_indexer(
    settings: Any,
    store: Any,
    embedder: Any,
    paths: list[str],
    collection: str | None,
    *,
    rebuild: bool = False,
    on_progress: Any = None,
    cwd: str | None = None,
    agent_cache: str | None = None,
) -> Any:
    """An Indexer that builds Zoo Code's collection for the workspace PATH (default: ``cwd``);
    with ``agent_cache`` ("" or a directory or file), one that writes Zoo Code's cache file too
    (in ``globalStorage/zoocodeorganization.zoo-code/`` when "")."""
    return await roo_qdrant.prepare_indexer(
        settings,
        store,
        embedder,
        paths,
        collection,
        rebuild=rebuild,
        on_progress=on_progress,
        cwd=cwd,
        agent_cache=agent_cache,
        profile=ZOO,
        schema_class=ZooSchema,
    )
