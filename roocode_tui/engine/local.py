"""The engine in this process: the store and the embedder opened once and kept, the index runs
as tasks with their progress, searches ahead of ingest batches on the one embedder."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from roocode_tui import __version__
from roocode_tui.core.errors import CollectionNotFoundError, RoocodeError, UsageError
from roocode_tui.engine.api import Engine, RunSnapshot
from roocode_tui.engine.indexing import SearchIndexer
from roocode_tui.engine.watch import Watchers

LOG = logging.getLogger("roocode_tui.engine")
FILE_CHUNKS = 4  # a search grouped by file ranks this many chunks per file asked for
KEEP_FINISHED = 20  # finished runs kept for status and F2
FOLLOW_INTERVAL_S = 0.25  # at most four snapshots a second to a follower
#: The store's mapped pages are let go once no search or run has used it for this long (see
#: ``release_when_idle``).
PAGES_IDLE_S = 30.0


@dataclass(eq=False)
class Run:
    id: str
    kind: str
    started_by: str
    indexer: Any
    started_at: str = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0).isoformat())
    task: asyncio.Task[Any] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    version: int = 0
    error_type: str = ""

    @property
    def progress(self) -> Any:
        return self.indexer.progress

    def snapshot(self) -> RunSnapshot:
        return RunSnapshot.of(self.id, self.kind, self.started_by, self.started_at, self.progress, self.error_type)

    def touch(self) -> None:
        self.version += 1
        self.changed.set()


class LocalEngine(Engine):
    def __init__(self, settings: Any, *, history: Any = None):
        """``history``: a MetricHistory fed by its maker (tests); by default the engine samples
        its own once a second (engine/sampler.py) from its start, or from the first history()
        call when it runs inside a face."""
        from roocode_tui.core.monitor.history import MetricHistory
        from roocode_tui.engine.sampler import Sampler

        self.settings = settings
        self.pid = os.getpid()
        self.started_at = datetime.now(UTC).replace(microsecond=0).isoformat()
        self._store: Any = None
        self._embedder: Any = None
        self._reranker: Any = None
        self._runs: dict[str, Run] = {}
        self._ids = itertools.count(1)
        self._open_lock = asyncio.Lock()
        self.followers = 0  # faces following a run or watching the engine right now
        self.stopping = False
        self.last_activity = time.monotonic()
        self.store_used = time.monotonic()  # the last search or run
        self._pages_kept = False  # pages mapped in since the store's last release
        self._releasing: set[asyncio.Future[Any]] = set()  # page releases under way (kept referenced)
        self.indexer = SearchIndexer(self)
        self.listening: str | None = None  # the TCP listener (engine.listen), once bound
        self.watchers = Watchers(self)
        self.watching = False  # watchers run (the served engine; not one inside a face)
        self._watch_start: asyncio.Task[None] | None = None
        self._released = False  # the store was let go of for an in-process command
        self.metrics = history if history is not None else MetricHistory()
        self.sampler = Sampler(self, self.metrics)
        self._sampling = history is None  # may start the sampler

    # -- backends ----------------------------------------------------------------------------
    async def backends(self) -> tuple[Any, Any]:
        async with self._open_lock:
            if self._store is None:
                from roocode_tui.core.backends import make_reranker, open_backends

                self._store, self._embedder = open_backends(self.settings)
                self._reranker = make_reranker(self.settings)
                if self.watching and self._released:  # opened again after a release: watchers come back
                    self._watch_start = asyncio.create_task(self.watchers.start_all())
                self._released = False
        return self._store, self._embedder

    async def start_watching(self) -> None:
        """The served engine watches its watched collections from its start (a catch-up run
        first for each)."""
        self.watching = True
        try:
            await self.backends()
            await self.watchers.start_all()
        except RoocodeError as exc:  # the store is down: the first request that opens it starts them
            LOG.warning("watchers not started: %s", exc)

    def start_sampling(self) -> None:
        if self._sampling:
            self.sampler.start()

    def run_of(self, run_id: str) -> Run | None:
        return self._runs.get(run_id)

    def open_store(self) -> Any:
        """The store if it is open (None after a release)."""
        return self._store

    def all_runs(self) -> list[Run]:
        return list(self._runs.values())

    def open_embedder(self) -> Any:
        """The embedder if it is open (None before the first request and after a release)."""
        return self._embedder

    def active_runs(self) -> list[Run]:
        return [r for r in self._runs.values() if r.task is not None and not r.task.done()]

    def writing(self, name: str) -> bool:
        return any(r.progress.collection == name for r in self.active_runs())

    async def release_when_idle(self) -> bool:
        """Let the store's mapped pages go once no search or run has used it for
        ``PAGES_IDLE_S`` (core/stores/edge.py ``release_pages``). Searches map in the pages they
        touch (vectors, keyword postings, payloads), and a long-lived engine would hold them all
        (an engine idle with a 100k-point collection: 261 MB of them). They stay in the page
        cache, so the next search maps them again without reading the disk, unless the kernel
        needed the memory meanwhile. True when it let them go."""
        if (
            not self._pages_kept
            or self.active_runs()
            or self.indexer.building is not None
            or time.monotonic() - self.store_used < PAGES_IDLE_S
        ):
            return False
        self._pages_kept = False
        release = getattr(self._store, "release_pages", None)
        if release is None:
            return False
        await asyncio.to_thread(release)
        return True

    def busy(self) -> bool:
        return (
            bool(self.active_runs())
            or self.followers > 0
            or self.indexer.building is not None
            or bool(self.watchers.by_name)
        )

    def _writes(self, what: str) -> None:
        if self.settings.read_only:
            raise UsageError(f"read-only engine: {what} would write to the store (start it without --read-only)")

    # -- status and collections --------------------------------------------------------------
    async def status(self) -> dict[str, Any]:
        from roocode_tui.engine.paths import compared, fingerprint, served_store, token_path

        store = self.settings.store
        return {
            "version": __version__,
            "pid": self.pid,
            "started_at": self.started_at,
            "config": str(self.settings.config_path) if self.settings.config_path else None,
            "fingerprint": fingerprint(self.settings),
            "settings": compared(self.settings),  # keys masked: a face names what differs
            "read_only": self.settings.read_only,
            "listen": self.listening,
            "token_file": str(token_path(self.settings)) if self.listening else None,
            "store": {"backend": store.backend, "where": store.url or str(store.data_dir)},
            "serves": served_store(self.settings),
            "embedder": {
                "provider": self.settings.embedder.provider,
                "model": self.settings.embedder.model,
                "model_id": self._embedder.model_id if self._embedder is not None else None,
            },
            "followers": self.followers,
            "runs": [r.snapshot().to_json() for r in self._runs.values()],
            "search_index": self.indexer.status(),
            "watchers": self.watchers.to_json(),
        }

    async def collections(self) -> list[dict[str, Any]]:
        from roocode_tui.core.stores.base import CollectionInfo

        store, _ = await self.backends()
        infos = []
        for name in await store.list_collections():
            try:
                infos.append(await _catalog().info(store, name))
            except RoocodeError as exc:  # one broken collection does not hide the others
                infos.append(CollectionInfo(name=name, points=0, meta=None, status=str(exc)[:60]))
        return [await self._described(store, i, infos) for i in infos]

    async def _described(self, store: Any, info: Any, infos: list[Any]) -> dict[str, Any]:
        """A collection's info for a face, with how its searches find neighbours."""
        import dataclasses

        from roocode_tui.core.agents.roo_qdrant import workspace_of

        index = self.indexer.describe(info.name)
        if index is None and info.meta is not None:
            with contextlib.suppress(RoocodeError):
                index = await store.search_index(info.name)
            if index is not None and index["state"] != "indexed":
                self.indexer.used(info.name)
        watcher = self.watchers.by_name.get(info.name)
        info = dataclasses.replace(info, search_index=index, watcher=watcher.to_json() if watcher else None)
        out = info.to_json(workspace_of(self.settings, info, infos))
        out["freshness"] = self._freshness(out)
        return out

    def _freshness(self, info: dict[str, Any]) -> str:
        """How far a collection's points may lag behind its files, in a few words."""
        name = info["name"]
        if info["kind"] == "roo-code":
            return "Roo Code's index: Roo Code keeps it fresh while the workspace is open"
        if info["kind"] != "roocode-tui":
            return "unknown (not a roocode-tui collection)"
        run = next((r for r in self.active_runs() if r.progress.collection == name and r.kind != "copy"), None)
        if run is not None:
            return f"being indexed now (run {run.id})"
        watcher = info.get("watcher")
        if watcher is not None:
            if watcher["state"] in ("idle", "polling"):
                return "watched: in sync with its files"
            pending = f" ({watcher['pending']} files changed)" if watcher["pending"] else ""
            return f"watched: {watcher['state']}{pending}"
        when = info.get("last_indexed_at")
        if not when:
            return "never indexed"
        if info.get("last_run", {}).get("status") == "done with failures":
            return f"indexed at {when}, some files failed (see index_status), not watched"
        return f"indexed at {when}, not watched: changes since then are not in it"

    async def collection(self, name: str) -> dict[str, Any]:
        from roocode_tui.core.agents.roo_qdrant import describe

        store, _ = await self.backends()
        if await store.get_meta(name) is None and await describe(store, name) is None:
            await self._known(store, [name])
            raise CollectionNotFoundError(f"collection {name!r} does not exist")
        info = await _catalog().info(store, name)
        return await self._described(store, info, [info])

    async def delete_collection(self, name: str) -> bool:
        self._writes("collections delete")
        self._not_being_written(name, "cancel it")
        store, _ = await self.backends()
        if name not in await store.list_collections():
            raise CollectionNotFoundError(f"collection {name!r} does not exist")
        await self.indexer.stop(name)
        await self.watchers.stop(name)
        return await store.delete_collection(name)

    async def create_collection(self, name: str, paths: list[str], include: list[str], exclude: list[str]) -> None:
        from roocode_tui.core.backends import create_collection

        self._writes("create")
        store, embedder = await self.backends()
        await create_collection(store, embedder, name, paths, include, exclude)

    async def resolve_collection(self, name: str | None, cwd: str) -> str:
        from roocode_tui.core.backends import resolve_search_collection

        store, _ = await self.backends()
        return await resolve_search_collection(self.settings, store, name, cwd)

    async def snapshot(self, name: str, out: str | None = None) -> dict[str, Any]:
        from roocode_tui.core.collections import snapshots

        if self.settings.store.backend != "embedded":
            self._writes("collections snapshot (it creates the snapshot on the server)")
        self._not_being_written(name, "let it finish (or cancel it)")
        store, _ = await self.backends()
        target = Path(out) if out else None
        return (await snapshots.take(store, self.settings.store.data_dir, name, target)).to_json()

    async def snapshots(self, name: str) -> list[dict[str, Any]]:
        from roocode_tui.core.collections import snapshots

        store, _ = await self.backends()
        return [s.to_json() for s in await snapshots.list_snapshots(store, self.settings.store.data_dir, name)]

    async def restore(self, name: str, file: str) -> dict[str, Any]:
        from roocode_tui.core.collections import snapshots

        self._writes("restore")
        store, _ = await self.backends()
        return await snapshots.restore(store, name, Path(file))

    async def monitor(self, active: str | None) -> dict[str, Any]:
        from roocode_tui.core.monitor.metrics import percentile

        store, embedder = await self.backends()
        stats = embedder.stats
        lat = [x * 1000 for x in stats.latencies_s]
        pipeline = {
            "in_flight": stats.in_flight,
            "requests": stats.requests,
            "failures": stats.failures,
            "p50_ms": percentile(lat, 0.5),
            "p95_ms": percentile(lat, 0.95),
            "files_queued": sum(r.progress.files_queued for r in self.active_runs()),
        }
        return {"pipeline": pipeline, "store": await _store_lines(self.settings, store, active)}

    async def history(self, window: str, run_id: str | None = None, names: list[str] | None = None) -> dict[str, Any]:
        self.start_sampling()
        try:
            out = self.metrics.window(window, names=names)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if run_id is not None:
            run = self._run(run_id)
            rates = self.sampler.rates.get(run_id)
            out["run"] = {
                "id": run_id,
                "collection": run.progress.collection,
                **(rates.to_json() if rates is not None else {"step_s": 1.0, "points": []}),
            }
        return out

    async def hold_ingest(self, seconds: float) -> None:
        if self._embedder is not None:
            self._embedder.hold_ingest(min(max(0.0, seconds), 60.0))

    def _not_being_written(self, name: str, what: str) -> None:
        for run in self.active_runs():
            if run.progress.collection == name:
                raise UsageError(f"collection {name!r} is being indexed (run {run.id}): {what} first")

    # -- search ------------------------------------------------------------------------------
    async def search(
        self,
        queries: list[str],
        collection: str | None,
        *,
        limit: int,
        path: str | None,
        lang: str | None,
        mode: str | None,
        cwd: str,
        ranking: bool | None = None,
        explain: bool = False,
        group_by: str | None = None,
        rerank: bool | None = None,
    ) -> list[dict[str, Any]]:
        from roocode_tui.core.backends import resolve_search_collection
        from roocode_tui.core.search.searcher import GROUP_BY, collection_names, group_files, merge_collections

        if not queries:
            raise UsageError("no query")
        if group_by not in (None, *GROUP_BY):
            raise UsageError(f"group_by must be one of {', '.join(GROUP_BY)} (got {group_by!r})")
        store, embedder = await self.backends()
        if rerank and self._reranker is None:
            raise UsageError("no reranker is configured ([reranker] enabled = false)")
        reranker = None if rerank is False else self._reranker
        self.store_used, self._pages_kept = time.monotonic(), True
        groups = self.settings.search.groups
        names = collection_names(collection, groups)
        if not names and self.settings.default_collection in groups:
            names = collection_names(self.settings.default_collection, groups)
        if names:  # several: one ranking of them all (core/search/searcher.py)
            await self._known(store, names)
        else:
            names = [await resolve_search_collection(self.settings, store, None, cwd)]
        # One embedding queue for every face: while a search is answered, no run sends a new
        # batch (a person typing in the TUI holds them back longer: hold_ingest,
        # tui.search_holds_ingest_s). Searches that never stop slow runs down, never starve them.
        with embedder.searching() if self.settings.tui.search_holds_ingest_s > 0 else contextlib.nullcontext():
            ranked = self.settings.search.ranking if ranking is None else ranking
            chunks = min(1000, limit * FILE_CHUNKS) if group_by == "file" else limit
            each = [
                await self._search(
                    store, embedder, n, queries, chunks, path, lang, mode, cwd, ranked, explain, reranker
                )
                for n in names
            ]
        for name in names:
            self.indexer.used(name)
        results = each[0] if len(each) == 1 else merge_collections(each, chunks)
        if group_by == "file":
            for r in results:
                r.files = group_files(r.hits, limit)
                r.hits = r.hits[:limit]
        return [r.to_json() for r in results]

    async def _known(self, store: Any, names: list[str]) -> None:
        """Every named collection exists, or one line naming the missing and the available ones."""
        existing = await store.list_collections()
        missing = [n for n in names if n not in existing]
        if missing:
            listed = ", ".join(existing) or "none yet (index something first)"
            raise CollectionNotFoundError(f"collection {missing[0]!r} does not exist; available: {listed}")

    async def _search(
        self,
        store: Any,
        embedder: Any,
        name: str,
        queries: list[str],
        limit: int,
        path: str | None,
        lang: str | None,
        mode: str | None,
        cwd: str,
        ranking: bool = True,
        explain: bool = False,
        reranker: Any = None,
    ) -> list[Any]:
        from roocode_tui.core.agents.roo_qdrant import candidates
        from roocode_tui.core.collections.catalog import search_many

        opts = self.settings.search
        return await search_many(
            store,
            embedder,
            name,
            queries,
            limit=limit,
            path=path,
            lang=lang,
            mode=mode or opts.mode,
            weights=(opts.dense_weight, opts.keyword_weight),
            merge=opts.merge_adjacent,
            reranker=reranker,
            workspaces=candidates(self.settings, cwd=cwd),
            ranking=ranking,
            explain=explain,
        )

    async def read(self, path: str, start_line: int, end_line: int | None, *, cwd: str) -> dict[str, Any]:
        from roocode_tui.core.files.reading import read_lines, roots_of

        store, _ = await self.backends()
        metas = [m for n in await store.list_collections() if (m := await store.get_meta(n)) is not None]
        index = self.settings.index
        return await asyncio.to_thread(read_lines, roots_of(metas), path, start_line, end_line, cwd=cwd, index=index)

    # -- runs --------------------------------------------------------------------------------
    async def start_run(
        self,
        paths: list[str],
        collection: str | None,
        *,
        rebuild: bool,
        schema: str,
        cwd: str,
        started_by: str,
        changes: dict[str, list[str]] | None = None,
        roo_cache: str | None = None,
    ) -> RunSnapshot:
        """Start an index run. ``changes`` ({root: [relative paths]}, a watcher's): only those
        paths changed, so the run reads only them (an incremental run of the collection).
        ``roo_cache`` (with ``schema="roo"``): write Roo Code's cache file after a complete run,
        into that directory or file ("": VS Code's storage for Roo Code, found)."""
        from roocode_tui.core.backends import prepare_indexer

        self._writes("index")
        store, embedder = await self.backends()
        name = await self._target_name(store, paths, collection, schema, cwd)
        for other in self.active_runs():
            if other.progress.collection == name:
                raise UsageError(
                    f"collection {name!r} is being indexed already (run {other.id}, started by "
                    f"{other.started_by}): follow it with roocode-tui status --follow"
                )
        if changes is None:  # a whole run may write more than an index build's journal keeps
            await self.indexer.stop(name)  # (a watcher's few changes are replayed on the copy)
        indexer = await prepare_indexer(
            self.settings,
            store,
            embedder,
            paths,
            collection,
            rebuild=rebuild,
            schema=schema,
            cwd=cwd,
            changes=changes,
            roo_cache=roo_cache,
        )
        run = self._launch("rebuild" if getattr(indexer, "publish_as", None) else "index", started_by, indexer)
        LOG.info("run %s: %s of %s for %s", run.id, run.kind, name, started_by)
        return run.snapshot()

    def _launch(self, kind: str, started_by: str, job: Any) -> Run:
        """A run of ``job`` (an Indexer, a CopyRun: ``run()``, ``progress``, ``_on_progress``)."""
        run = Run(f"r{next(self._ids)}", kind, started_by, job)
        job._on_progress = lambda _p: run.touch()
        run.task = asyncio.create_task(self._drive(run), name=f"run-{run.id}")
        self._runs[run.id] = run
        self._forget_old_runs()
        return run

    async def start_copy(
        self,
        name: str,
        to: str,
        *,
        url: str | None,
        path: str | None,
        new_name: str | None,
        started_by: str,
    ) -> RunSnapshot:
        from roocode_tui.core.collections.transfer import CopyRun, describe_store, same_store, target_settings
        from roocode_tui.core.stores import open_store

        self._writes("collections copy")
        if url and to != "qdrant":
            raise UsageError("--url names a Qdrant server: it goes with --to qdrant")
        new_name = new_name or name
        dest = target_settings(self.settings.store, to, url=url, path=Path(path) if path else None)
        same = same_store(self.settings.store, dest)
        if same and new_name == name:
            raise UsageError(
                f"collection {name!r}: the target is the configured store itself (give --as NEWNAME, or "
                "another --path / --url)"
            )
        store, _ = await self.backends()
        self._not_being_written(name, "let it finish (or cancel it)")
        if same:
            self._not_being_written(new_name, "let it finish (or cancel it)")
        target_label = describe_store(dest)
        for other in self.active_runs():
            if other.kind == "copy" and (other.indexer.new_name, other.indexer.labels[1]) == (new_name, target_label):
                raise UsageError(f"{new_name!r} is being copied there already (run {other.id})")
        target = store if same else open_store(dest)
        job = CopyRun(
            store,
            target,
            name,
            new_name,
            source_label=describe_store(self.settings.store),
            target_label=target_label,
            close_target=not same,
        )
        run = self._launch("copy", started_by, job)
        LOG.info("run %s: copy of %s to %s in the %s for %s", run.id, name, new_name, job.labels[1], started_by)
        return run.snapshot()

    async def set_watch(self, name: str, on: bool) -> dict[str, Any]:
        import dataclasses

        from roocode_tui.core.agents import roo

        self._writes("watch (a watched collection is written as its files change)")
        if not self.watching:
            raise UsageError("watching needs the background engine: run it without --no-engine (or roocode-tui serve)")
        store, _ = await self.backends()
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
            self.watchers.start(name)
            return self.watchers.by_name[name].to_json()
        await self.watchers.stop(name)
        return {"collection": name, "state": "not watched"}

    async def _target_name(self, store: Any, paths: list[str], collection: str | None, schema: str, cwd: str) -> str:
        """The collection a run will write, before anything is prepared (two runs never write one)."""
        if schema == "roo":
            from roocode_tui.core.agents import roo
            from roocode_tui.core.agents.roo_qdrant import workspace_for

            return roo.collection_name(workspace_for(paths, cwd))
        from roocode_tui.core.backends import resolve_index_target

        return (await resolve_index_target(self.settings, store, paths, collection, cwd)).name

    async def _drive(self, run: Run) -> None:
        try:
            await run.indexer.run()
        except asyncio.CancelledError:
            pass  # the run says cancelled; a cancel is not an engine failure
        except RoocodeError as exc:
            run.error_type = type(exc).__name__
            LOG.warning("run %s failed: %s", run.id, exc)
            p = run.progress
            if p.phase != "failed":
                p.phase, p.message = "failed", p.message or str(exc)
        except Exception:
            LOG.exception("run %s: unexpected error", run.id)
            run.error_type = "RoocodeError"
            p = run.progress
            p.phase, p.message = "failed", p.message or "unexpected error (see the engine log)"
        finally:
            self.last_activity = time.monotonic()
            if run.kind != "copy":
                self.indexer.written(run.progress.collection)
            elif run.indexer.target is self._store:  # a copy within the store: a new collection
                self.indexer.written(run.indexer.new_name)
            # Every run of a collection, a copy reading it too, may have held its watcher's sync back.
            self.watchers.run_ended(run.progress.collection, run.id, run.progress.phase, run.progress.message)
            run.touch()
            from roocode_tui.core.memory import release_freed_memory

            release_freed_memory()  # give the run's memory back to the system (core/memory.py)
            release = getattr(self._store, "release_pages", None)
            if release is not None:  # and the pages of the store's mapped files it wrote
                # In a thread: it waits for store calls under way (EdgeStore._MapGate). Not
                # awaited: the run ends now (a watcher's deferred sync looks at it at once).
                task = asyncio.ensure_future(asyncio.to_thread(release))
                self._releasing.add(task)
                task.add_done_callback(self._releasing.discard)

    def _forget_old_runs(self) -> None:
        finished = [r for r in self._runs.values() if r.task is not None and r.task.done()]
        for run in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._runs[run.id]

    def _run(self, run_id: str) -> Run:
        run = self._runs.get(run_id)
        if run is None:
            known = ", ".join(self._runs) or "none"
            raise CollectionNotFoundError(f"no run {run_id!r} in the engine (runs: {known})")
        return run

    async def runs(self) -> list[RunSnapshot]:
        return [r.snapshot() for r in self._runs.values()]

    async def follow(self, run_id: str) -> AsyncIterator[RunSnapshot]:
        run = self._run(run_id)
        self.followers += 1
        try:
            seen = -1
            while True:
                done = run.task is None or run.task.done()
                if run.version != seen or done:
                    seen = run.version
                    yield run.snapshot()
                if done:
                    return
                run.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(run.changed.wait(), timeout=1.0)  # a heartbeat a second
                await asyncio.sleep(FOLLOW_INTERVAL_S)
        finally:
            self.followers -= 1
            self.last_activity = time.monotonic()

    async def cancel(self, run_id: str) -> RunSnapshot:
        run = self._run(run_id)
        if run.task is not None and not run.task.done():
            run.indexer.cancel()
            run.task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(run.task), timeout=60)
        return run.snapshot()

    # -- lifetime ----------------------------------------------------------------------------
    async def release(self) -> bool:
        if self.active_runs():
            return False
        await self.indexer.stop()
        await self.watchers.stop()  # back when the store is opened again
        self._released = True
        async with self._open_lock:
            await self._close_backends()
        return True

    async def _close_backends(self) -> None:
        store, embedder, reranker = self._store, self._embedder, self._reranker
        self._store = self._embedder = self._reranker = None
        if reranker is not None:
            await reranker.aclose()
        if embedder is not None:
            await embedder.aclose()
        if store is not None:
            await store.close()

    async def aclose(self) -> None:
        """Cancel the runs (each finishes the file it is writing) and close the backends."""
        self.watching = False
        await self.sampler.stop()
        await self.watchers.stop()
        for run in self.active_runs():
            await self.cancel(run.id)
        await self.indexer.stop()
        await self._close_backends()


async def _store_lines(settings: Any, store: Any, active: str | None) -> list[tuple[str, str]]:
    """The monitor's store lines: reachable and where, the server's version, the active collection."""
    from roocode_tui.core.display import display_path

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
    """core/catalog.py, imported when first used (it brings numpy and the stores' code)."""
    from roocode_tui.core.collections import catalog

    return catalog
