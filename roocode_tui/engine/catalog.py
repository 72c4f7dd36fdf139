"""The engine's collections: listed and described for the faces (with how fresh each is),
created, deleted, watched, snapshotted and restored, and the store's lines for the monitor."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roocode_tui.core.errors import CollectionNotFoundError, RoocodeError, UsageError

if TYPE_CHECKING:  # the store's code (numpy) loads with the first request that needs it
    from roocode_tui.core.stores.base import CollectionInfo


class Catalog:
    def __init__(self, engine: Any):
        self.engine = engine

    @property
    def settings(self) -> Any:
        return self.engine.settings

    # -- describing --------------------------------------------------------------------------
    async def list_all(self) -> list[CollectionInfo]:
        """Every collection (Engine.collections)."""
        from roocode_tui.core.agents import detect
        from roocode_tui.core.stores.base import CollectionInfo

        store, _ = await self.engine.backends()
        infos = []
        agents = detect.scan()  # once for the list: who wrote each agent's collection
        for name in await store.list_collections():
            try:
                infos.append(await _catalog().info(store, name, agents))
            except RoocodeError as exc:  # one broken collection does not hide the others
                infos.append(CollectionInfo(name=name, points=0, meta=None, status=str(exc)[:60]))
        return [await self._described(store, i, infos) for i in infos]

    async def info(self, name: str) -> CollectionInfo:
        """One collection (Engine.collection)."""
        from roocode_tui.core.agents.roo_qdrant import describe

        store, _ = await self.engine.backends()
        if await store.get_meta(name) is None and await describe(store, name) is None:
            await self.known(store, [name])
            raise CollectionNotFoundError(f"collection {name!r} does not exist")
        info = await _catalog().info(store, name)
        return await self._described(store, info, [info])

    async def known(self, store: Any, names: list[str]) -> None:
        """Every named collection exists, or one line naming the missing and the available ones."""
        existing = await store.list_collections()
        missing = [n for n in names if n not in existing]
        if missing:
            listed = ", ".join(existing) or "none yet (index something first)"
            raise CollectionNotFoundError(f"collection {missing[0]!r} does not exist; available: {listed}")

    async def _described(self, store: Any, info: CollectionInfo, infos: list[CollectionInfo]) -> CollectionInfo:
        """A collection's info for a face, with how its searches find neighbours, its watcher,
        an agent's workspace and how fresh it is, as the engine answers it."""
        import dataclasses

        from roocode_tui.core.agents.roo_qdrant import workspace_of

        indexer = self.engine.indexer
        index = indexer.describe(info.name)
        if index is None and info.meta is not None:
            with contextlib.suppress(RoocodeError):
                index = await store.search_index(info.name)
            if index is not None and index["state"] != "indexed":
                indexer.used(info.name)
                deferred = indexer.deferred(info.name)
                if deferred:  # waits for memory or a bigger budget
                    index = {**index, "state": "deferred", "deferred": deferred}
        watcher = self.engine.watchers.by_name.get(info.name)
        info = dataclasses.replace(
            info,
            search_index=index,
            watcher=watcher.to_json() if watcher else None,
            workspace=workspace_of(self.settings, info, infos),
        )
        return dataclasses.replace(info, freshness=self._freshness(info)).answered()

    def _freshness(self, info: CollectionInfo) -> str:
        """How far a collection's points may lag behind its files, in a few words."""
        name, meta = info.name, info.meta
        if info.kind == "roo-code":
            return f"a coding agent's index ({info.owner}): the agent keeps it fresh while the workspace is open"
        if meta is None:
            return "unknown (not a roocode-tui collection)"
        runs = self.engine.active_runs()
        run = next((r for r in runs if r.progress.collection == name and r.kind != "copy"), None)
        if run is not None:
            return f"being indexed now (run {run.id})"
        watcher = info.watcher
        if watcher is not None:
            if watcher["state"] in ("idle", "polling"):
                return "watched: in sync with its files"
            pending = f" ({watcher['pending']} files changed)" if watcher["pending"] else ""
            return f"watched: {watcher['state']}{pending}"
        when = meta.last_indexed_at
        if not when:
            return "never indexed"
        if meta.last_run.get("status") == "done with failures":
            return f"indexed at {when}, some files failed (see index_status), not watched"
        return f"indexed at {when}, not watched: changes since then are not in it"

    async def agents_which(self, workspace: str) -> dict[str, Any]:
        """Each coding agent's collection of a workspace (Engine.agents_which)."""
        from roocode_tui.core.agents import roo, schemas

        store, _ = await self.engine.backends()
        return await schemas.which(roo.workspace_path(workspace), store)

    async def agent_index(self, workspace: str) -> dict[str, Any]:
        """Roo Code's collection of a workspace, as ``roo which --json`` prints it (Engine.agent_index)."""
        from roocode_tui.core.agents import roo
        from roocode_tui.core.agents.roo_qdrant import describe

        workspace = roo.workspace_path(workspace)
        name = roo.collection_name(workspace)
        store, _ = await self.engine.backends()
        out: dict[str, Any] = {"workspace": workspace, "collection": name}
        try:
            info = await describe(store, name)
            out["exists"] = info is not None or name in await store.list_collections()
        except RoocodeError as exc:
            out["exists"], out["error"] = None, str(exc)
            return out
        if info is not None:
            out.update(points=info.points, dimension=info.dimension, **info.to_json(workspace))
        return out

    async def resolve(self, name: str | None, cwd: str) -> str:
        from roocode_tui.core.backends import resolve_search_collection

        store, _ = await self.engine.backends()
        return await resolve_search_collection(self.settings, store, name, cwd)

    # -- changing ----------------------------------------------------------------------------
    async def create(self, name: str, paths: list[str], include: list[str], exclude: list[str]) -> None:
        from roocode_tui.core.backends import create_collection

        self.engine.refuse_if_read_only("create")
        store, embedder = await self.engine.backends()
        await create_collection(store, embedder, name, paths, include, exclude)

    async def delete(self, name: str) -> bool:
        engine = self.engine
        engine.refuse_if_read_only("collections delete")
        engine.refuse_if_written(name, "cancel it")
        store, _ = await engine.backends()
        if name not in await store.list_collections():
            raise CollectionNotFoundError(f"collection {name!r} does not exist")
        await engine.indexer.stop(name)
        await engine.watchers.stop(name)
        return await store.delete_collection(name)

    async def set_watch(self, name: str, on: bool) -> dict[str, Any]:
        """Watch a collection's paths, or stop (Engine.set_watch)."""
        import dataclasses

        from roocode_tui.core.agents import roo

        engine = self.engine
        engine.refuse_if_read_only("watch (a watched collection is written as its files change)")
        if not engine.watching:
            raise UsageError("watching needs the background engine: run it without --no-engine (or roocode-tui serve)")
        store, _ = await engine.backends()
        meta = await store.get_meta(name)
        if meta is None:
            if roo.is_roo_name(name) and name in await store.list_collections():
                raise UsageError(f"collection {name!r} is Roo Code's: Roo Code keeps it fresh itself")
            raise CollectionNotFoundError(f"collection {name!r} does not exist")
        if on and not meta.paths:
            raise UsageError(
                f"collection {name!r} has no paths to watch: index it with roocode-tui index PATH -c {name}"
            )
        await store.save_meta(dataclasses.replace(meta, watch=on))
        if on:
            engine.watchers.start(name)
            return engine.watchers.by_name[name].to_json()
        await engine.watchers.stop(name)
        return {"collection": name, "state": "not watched"}

    async def optimize(self, name: str) -> dict[str, Any]:
        """Build a collection's search index now (Engine.optimize)."""
        engine = self.engine
        store = await self._existing(name)
        engine.refuse_if_read_only("collections optimize")
        engine.refuse_if_written(name, "let it finish (or cancel it)")
        await engine.indexer.stop(name)  # a background build of it would be dropped anyway
        started = time.monotonic()
        if hasattr(store, "plan_index_build"):  # the embedded store: as the engine builds it, within its budget
            done = await engine.indexer.build_now(store, name)
        else:
            done = {"optimized": await store.optimize(name)}
        return {"collection": name, **done, "seconds": round(time.monotonic() - started, 3)}

    async def abort_rebuild(self, name: str) -> bool:
        """Drop an unfinished rebuild of a collection; True when there was one (Engine.abort_rebuild)."""
        store = await self._existing(name)
        self.engine.refuse_if_read_only("collections rebuild")
        self.engine.refuse_if_written(name, "cancel it")
        return await store.abort_rebuild(name)

    async def finish_rebuild(self, name: str) -> None:
        """Serve an unfinished rebuild's index as it is (Engine.finish_rebuild)."""
        store = await self._existing(name)
        self.engine.refuse_if_read_only("collections rebuild")
        self.engine.refuse_if_written(name, "cancel it")
        staging = await store.staging_of(name)
        if staging is None:
            raise UsageError(
                f"{name!r} has no unfinished rebuild to switch to (start one: roocode-tui collections rebuild {name})"
            )
        await store.finish_rebuild(name, staging)
        self.engine.indexer.written(name)  # the index it serves now is looked at as after a run

    async def _existing(self, name: str) -> Any:
        """The store, once it has ``name`` as ours or as Roo Code's (one line when it does not)."""
        from roocode_tui.core.agents.roo_qdrant import describe

        store, _ = await self.engine.backends()
        if await store.get_meta(name) is None and await describe(store, name) is None:
            raise CollectionNotFoundError(f"collection {name!r} does not exist")
        return store

    # -- snapshots ---------------------------------------------------------------------------
    async def snapshot(self, name: str, out: str | None = None) -> dict[str, Any]:
        from roocode_tui.core.collections import snapshots

        engine = self.engine
        if self.settings.store.backend != "embedded":
            engine.refuse_if_read_only("collections snapshot (it creates the snapshot on the server)")
        engine.refuse_if_written(name, "let it finish (or cancel it)")
        store, _ = await engine.backends()
        target = Path(out) if out else None
        return (await snapshots.take(store, self.settings.store.data_dir, name, target)).to_json()

    async def snapshots(self, name: str) -> list[dict[str, Any]]:
        from roocode_tui.core.collections import snapshots

        store, _ = await self.engine.backends()
        return [s.to_json() for s in await snapshots.list_snapshots(store, self.settings.store.data_dir, name)]

    async def restore(self, name: str, file: str) -> dict[str, Any]:
        from roocode_tui.core.collections import snapshots

        self.engine.refuse_if_read_only("restore")
        store, _ = await self.engine.backends()
        return await snapshots.restore(store, name, Path(file))

    # -- the monitor -------------------------------------------------------------------------
    async def store_lines(self, store: Any, active: str | None) -> list[tuple[str, str]]:
        """The monitor's store lines: reachable and where, the server's version, the active collection."""
        from roocode_tui.core.display import display_path

        settings = self.settings
        lines: list[tuple[str, str]] = []
        where = settings.store.url or display_path(str(settings.store.data_dir))
        try:
            names = await store.list_collections()
            lines.append((f"{store.backend} at {where}: reachable, {len(names)} collection(s)", "green"))
            if version := await store.server_version():
                lines.append((f"Qdrant version {version}", ""))
            if active and active in names:
                info = await _catalog().info(store, active)
                lines.append((f"active: {active} · {info.points:,} points · {info.status}", "bold"))
            elif active:
                lines.append((f"active: {active} (not created yet)", "yellow"))
        except RoocodeError as exc:
            lines.append((str(exc), "red"))
        return lines


def _catalog() -> Any:
    """core/collections/catalog.py, imported when first used (it brings numpy and the stores' code)."""
    from roocode_tui.core.collections import catalog

    return catalog
