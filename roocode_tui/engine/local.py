"""The engine in this process: the store and the embedder opened once and kept, the index runs
as tasks with their progress, searches ahead of ingest batches on the one embedder.

``LocalEngine`` composes its parts and answers the ``Engine`` interface through them: the
backends (engine/backends.py), the runs (engine/runs.py), the collections (engine/catalog.py),
the searches (engine/search.py), the watchers (engine/watch.py), the background search-index
builds (engine/indexing.py) and the metric sampler (engine/sampler.py)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from roocode_tui import __version__
from roocode_tui.core.errors import RoocodeError, UsageError
from roocode_tui.engine.api import Engine, MonitorSnapshot, RunSnapshot
from roocode_tui.engine.backends import Backends
from roocode_tui.engine.catalog import Catalog
from roocode_tui.engine.indexing import SearchIndexer
from roocode_tui.engine.runs import Run, Runs
from roocode_tui.engine.search import Searches
from roocode_tui.engine.watch import Watchers

if TYPE_CHECKING:
    from roocode_tui.core.results import SearchResult
    from roocode_tui.core.stores.base import CollectionInfo

LOG = logging.getLogger("roocode_tui.engine")
#: The store's mapped pages are let go once no search or run has used it for this long (see
#: ``release_when_idle``).
PAGES_IDLE_S = 30.0


class LocalEngine(Engine):
    def __init__(self, settings: Any, *, history: Any = None, gpu_reader: Any = None):
        """``history``: a MetricHistory fed by its maker (tests); by default the engine samples
        its own once a second (engine/sampler.py) from its start, or from the first history()
        call when it runs inside a face. ``gpu_reader``: what reads the GPUs (NVML or nvidia-smi
        by default; tests and benchmarks give their own)."""
        from roocode_tui.core.monitor.history import MetricHistory
        from roocode_tui.engine.sampler import Sampler

        self.settings = settings
        self.pid = os.getpid()
        self.started_at = datetime.now(UTC).replace(microsecond=0).isoformat()
        self.held = Backends(self)
        self.index_runs = Runs(self)
        self.catalog = Catalog(self)
        self.searches = Searches(self)
        self.followers = 0  # faces following a run or watching the engine right now
        self.stopping = False
        self.last_activity = time.monotonic()
        self.indexer = SearchIndexer(self)
        self.listening: str | None = None  # the TCP listener (engine.listen), once bound
        self.watchers = Watchers(self)
        self.watching = False  # watchers run (the served engine; not one inside a face)
        self._watch_start: asyncio.Task[None] | None = None
        self.metrics = history if history is not None else MetricHistory()
        self.sampler = Sampler(self, self.metrics, gpu_reader=gpu_reader)
        self._sampling = history is None  # may start the sampler

    # -- what the parts ask of each other ----------------------------------------------------
    async def backends(self) -> tuple[Any, Any]:
        """The store and the embedder, opened on first use."""
        return await self.held.open()

    def reopened(self) -> None:
        """The backends were opened again after a release: the watchers come back."""
        if self.watching:
            self._watch_start = asyncio.create_task(self.watchers.start_all())

    def open_store(self) -> Any:
        """The store if it is open (None after a release)."""
        return self.held.store

    def open_embedder(self) -> Any:
        """The embedder if it is open (None before the first request and after a release)."""
        return self.held.embedder

    @property
    def _embedder(self) -> Any:  # bench/soak.py reads the embedder's stats under this name
        return self.held.embedder

    def run_of(self, run_id: str) -> Run | None:
        return self.index_runs.by_id.get(run_id)

    def all_runs(self) -> list[Run]:
        return list(self.index_runs.by_id.values())

    def active_runs(self) -> list[Run]:
        return self.index_runs.active()

    def writing(self, name: str) -> bool:
        return self.index_runs.writing(name)

    def refuse_if_written(self, name: str, what: str) -> None:
        self.index_runs.refuse_if_written(name, what)

    def refuse_if_read_only(self, what: str) -> None:
        if self.settings.read_only:
            raise UsageError(f"read-only engine: {what} would write to the store (start it without --read-only)")

    # -- lifetime ----------------------------------------------------------------------------
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

    def busy(self) -> bool:
        return (
            bool(self.active_runs())
            or self.followers > 0
            or self.indexer.building is not None
            or bool(self.watchers.by_name)
        )

    async def release_when_idle(self) -> bool:
        """Let the store's mapped pages go once no search or run has used it for
        ``PAGES_IDLE_S`` (core/stores/edge/store.py ``release_pages``). Searches map in the pages they
        touch (vectors, keyword postings, payloads), and a long-lived engine would hold them all
        (an engine idle with a 100k-point collection: 261 MB of them). They stay in the page
        cache, so the next search maps them again without reading the disk, unless the kernel
        needed the memory meanwhile. True when it let them go."""
        held = self.held
        if (
            not held.pages_kept
            or self.active_runs()
            or self.indexer.building is not None
            or time.monotonic() - held.used < PAGES_IDLE_S
        ):
            return False
        return await held.release_pages()

    async def release(self) -> bool:
        if self.active_runs():
            return False
        await self.indexer.stop()
        await self.watchers.stop()  # back when the store is opened again
        await self.held.release()
        return True

    async def aclose(self) -> None:
        """Cancel the runs (each finishes the file it is writing) and close the backends."""
        self.watching = False
        await self.sampler.stop()
        await self.watchers.stop()
        await self.index_runs.cancel_all()
        await self.indexer.stop()
        await self.held.close()

    # -- status, the monitor, the history ----------------------------------------------------
    async def status(self) -> dict[str, Any]:
        from roocode_tui.engine.paths import compared, fingerprint, served_store, token_path

        store = self.settings.store
        embedder = self.held.embedder
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
                "model_id": embedder.model_id if embedder is not None else None,
            },
            "followers": self.followers,
            "runs": [r.snapshot().to_json() for r in self.all_runs()],
            "search_index": self.indexer.status(),
            "watchers": self.watchers.to_json(),
        }

    async def monitor(self, active: str | None, *, gpus_only: bool = False) -> MonitorSnapshot:
        from roocode_tui.core.monitor.metrics import percentile

        gpus, why = await self.sampler.latest_gpus()
        if gpus_only:
            return MonitorSnapshot(None, [], gpus, why)
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
        lines = await self.catalog.store_lines(store, active)
        vllm = await self.sampler.latest_vllm()
        return MonitorSnapshot(pipeline, lines, gpus, why, vllm, self.sampler.vllm_url if vllm is not None else "")

    async def history(self, window: str, run_id: str | None = None, names: list[str] | None = None) -> dict[str, Any]:
        self.start_sampling()
        try:
            out = self.metrics.window(window, names=names)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if run_id is not None:
            run = self.index_runs.named(run_id)
            rates = self.sampler.rates.get(run_id)
            out["run"] = {
                "id": run_id,
                "collection": run.progress.collection,
                **(rates.to_json() if rates is not None else {"step_s": 1.0, "points": []}),
            }
        return out

    async def hold_ingest(self, seconds: float) -> None:
        if self.held.embedder is not None:
            self.held.embedder.hold_ingest(min(max(0.0, seconds), 60.0))

    # -- collections -------------------------------------------------------------------------
    async def collections(self) -> list[CollectionInfo]:
        return await self.catalog.list_all()

    async def collection(self, name: str) -> CollectionInfo:
        return await self.catalog.info(name)

    async def delete_collection(self, name: str) -> bool:
        return await self.catalog.delete(name)

    async def create_collection(self, name: str, paths: list[str], include: list[str], exclude: list[str]) -> None:
        await self.catalog.create(name, paths, include, exclude)

    async def resolve_collection(self, name: str | None, cwd: str) -> str:
        return await self.catalog.resolve(name, cwd)

    async def snapshot(self, name: str, out: str | None = None) -> dict[str, Any]:
        return await self.catalog.snapshot(name, out)

    async def snapshots(self, name: str) -> list[dict[str, Any]]:
        return await self.catalog.snapshots(name)

    async def restore(self, name: str, file: str) -> dict[str, Any]:
        return await self.catalog.restore(name, file)

    async def set_watch(self, name: str, on: bool) -> dict[str, Any]:
        return await self.catalog.set_watch(name, on)

    async def optimize(self, name: str) -> dict[str, Any]:
        return await self.catalog.optimize(name)

    async def abort_rebuild(self, name: str) -> bool:
        return await self.catalog.abort_rebuild(name)

    async def finish_rebuild(self, name: str) -> None:
        await self.catalog.finish_rebuild(name)

    async def agents_which(self, workspace: str) -> dict[str, Any]:
        return await self.catalog.agents_which(workspace)

    async def agent_index(self, workspace: str) -> dict[str, Any]:
        return await self.catalog.agent_index(workspace)

    async def resolve_package(self, name: str, ecosystem: str, **where: Any) -> dict[str, Any]:
        from roocode_tui.engine.sources import resolve_package

        return await resolve_package(self, name, ecosystem, **where)

    # -- searches ----------------------------------------------------------------------------
    async def search(self, queries: list[str], collection: str | None, **options: Any) -> list[SearchResult]:
        return await self.searches.search(queries, collection, **options)

    async def read(self, path: str, start_line: int, end_line: int | None, *, cwd: str) -> dict[str, Any]:
        return await self.searches.read(path, start_line, end_line, cwd=cwd)

    # -- runs --------------------------------------------------------------------------------
    async def start_run(self, paths: list[str], collection: str | None, **options: Any) -> RunSnapshot:
        """Start an index run. ``changes`` ({root: [relative paths]}, a watcher's): only those
        paths changed, so the run reads only them (an incremental run of the collection).
        ``agent_cache`` (with an agent's ``schema``): write that agent's cache file after a complete
        run, into that directory or file ("": VS Code's storage for the agent, found)."""
        return await self.index_runs.start(paths, collection, **options)

    async def start_copy(self, name: str, to: str, **options: Any) -> RunSnapshot:
        return await self.index_runs.start_copy(name, to, **options)

    async def runs(self) -> list[RunSnapshot]:
        return [r.snapshot() for r in self.all_runs()]

    def follow(self, run_id: str) -> AsyncIterator[RunSnapshot]:
        return self.index_runs.follow(run_id)

    async def cancel(self, run_id: str) -> RunSnapshot:
        return await self.index_runs.cancel(run_id)
