"""The engine's runs: index runs and copies as tasks with their progress, followed by faces,
cancelled, and kept a while once finished for status and F2. Two runs never write one
collection."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from roocode_tui.core.errors import CollectionNotFoundError, RoocodeError, UsageError
from roocode_tui.engine.api import RunSnapshot

LOG = logging.getLogger("roocode_tui.engine")
KEEP_FINISHED = 20  # finished runs kept for status and F2
FOLLOW_INTERVAL_S = 0.25  # at most four snapshots a second to a follower


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


class Runs:
    """The runs of one engine, running and recently finished, by id."""

    def __init__(self, engine: Any):
        self.engine = engine
        self.by_id: dict[str, Run] = {}
        self._ids = itertools.count(1)

    def active(self) -> list[Run]:
        return [r for r in self.by_id.values() if r.task is not None and not r.task.done()]

    def writing(self, name: str) -> bool:
        return any(r.progress.collection == name and r.kind != "plan" for r in self.active())

    def refuse_if_written(self, name: str, what: str) -> None:
        """One line naming the run that writes ``name`` and ``what`` to do first."""
        for run in self.active():
            if run.progress.collection == name:
                raise UsageError(f"collection {name!r} is being indexed (run {run.id}): {what} first")

    def named(self, run_id: str) -> Run:
        run = self.by_id.get(run_id)
        if run is None:
            known = ", ".join(self.by_id) or "none"
            raise CollectionNotFoundError(f"no run {run_id!r} in the engine (runs: {known})")
        return run

    # -- starting ----------------------------------------------------------------------------
    async def start(
        self,
        paths: list[str],
        collection: str | None,
        *,
        rebuild: bool,
        schema: str,
        cwd: str,
        started_by: str,
        changes: dict[str, list[str]] | None = None,
        agent_cache: str | None = None,
        reuse: bool = True,
        dry_run: bool = False,
    ) -> RunSnapshot:
        """An index run (Engine.start_run); ``dry_run``: a plan run, that embeds and writes nothing."""
        from roocode_tui.core.backends import prepare_indexer

        engine = self.engine
        if not dry_run:
            engine.refuse_if_read_only("index")
        store, embedder = await engine.backends()
        name = await self._target_name(store, paths, collection, schema, cwd)
        for other in self.active():
            if other.progress.collection == name and other.kind != "plan":  # a plan writes nothing
                raise UsageError(
                    f"collection {name!r} is being indexed already (run {other.id}, started by "
                    f"{other.started_by}): follow it with roocode-tui status --follow"
                )
        if changes is None and not dry_run:  # a whole run may write more than an index build's journal keeps
            await engine.indexer.stop(name)  # (a watcher's few changes are replayed on the copy)
        indexer = await prepare_indexer(
            engine.settings,
            store,
            embedder,
            paths,
            collection,
            rebuild=rebuild,
            schema=schema,
            cwd=cwd,
            changes=changes,
            agent_cache=agent_cache,
            reuse=reuse,
            dry_run=dry_run,
        )
        kind = "plan" if dry_run else "rebuild" if getattr(indexer, "publish_as", None) else "index"
        run = self._launch(kind, started_by, indexer)
        LOG.info("run %s: %s of %s for %s", run.id, run.kind, name, started_by)
        return run.snapshot()

    async def start_copy(
        self, name: str, to: str, *, url: str | None, path: str | None, new_name: str | None, started_by: str
    ) -> RunSnapshot:
        """A copy run (Engine.start_copy)."""
        from roocode_tui.core.collections.transfer import CopyRun, describe_store, same_store, target_settings
        from roocode_tui.core.stores import open_store

        settings = self.engine.settings
        self.engine.refuse_if_read_only("collections copy")
        if url and to != "qdrant":
            raise UsageError("--url names a Qdrant server: it goes with --to qdrant")
        new_name = new_name or name
        dest = target_settings(settings.store, to, url=url, path=Path(path) if path else None)
        same = same_store(settings.store, dest)
        if same and new_name == name:
            raise UsageError(
                f"collection {name!r}: the target is the configured store itself (give --as NEWNAME, or "
                "another --path / --url)"
            )
        store, _ = await self.engine.backends()
        self.refuse_if_written(name, "let it finish (or cancel it)")
        if same:
            self.refuse_if_written(new_name, "let it finish (or cancel it)")
        target_label = describe_store(dest)
        for other in self.active():
            if other.kind == "copy" and (other.indexer.new_name, other.indexer.labels[1]) == (new_name, target_label):
                raise UsageError(f"{new_name!r} is being copied there already (run {other.id})")
        target = store if same else open_store(dest)
        job = CopyRun(
            store,
            target,
            name,
            new_name,
            source_label=describe_store(settings.store),
            target_label=target_label,
            close_target=not same,
        )
        run = self._launch("copy", started_by, job)
        LOG.info("run %s: copy of %s to %s in the %s for %s", run.id, name, new_name, job.labels[1], started_by)
        return run.snapshot()

    async def _target_name(self, store: Any, paths: list[str], collection: str | None, schema: str, cwd: str) -> str:
        """The collection a run will write, before anything is prepared (two runs never write one)."""
        if schema != "native":
            from roocode_tui.core.agents import schemas

            return schemas.collection_name(schema, paths, cwd)
        from roocode_tui.core.backends import resolve_index_target

        return (await resolve_index_target(self.engine.settings, store, paths, collection, cwd)).name

    def _launch(self, kind: str, started_by: str, job: Any) -> Run:
        """A run of ``job`` (an Indexer, a CopyRun: ``run()``, ``progress``, ``_on_progress``)."""
        run = Run(f"r{next(self._ids)}", kind, started_by, job)
        job._on_progress = lambda _p: run.touch()
        run.task = asyncio.create_task(self._drive(run), name=f"run-{run.id}")
        self.by_id[run.id] = run
        self._forget_old()
        return run

    async def _drive(self, run: Run) -> None:
        engine = self.engine
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
            engine.last_activity = time.monotonic()
            if run.kind != "copy":
                engine.indexer.written(run.progress.collection)
            elif run.indexer.target is engine.open_store():  # a copy within the store: a new collection
                engine.indexer.written(run.indexer.new_name)
            # Every run of a collection, a copy reading it too, may have held its watcher's sync back.
            engine.watchers.run_ended(run.progress.collection, run.id, run.progress.phase, run.progress.message)
            run.touch()
            from roocode_tui.core.memory import release_freed_memory

            release_freed_memory()  # give the run's memory back to the system (core/memory.py)
            engine.held.release_pages_soon()  # and the pages of the store's mapped files it wrote

    def _forget_old(self) -> None:
        finished = [r for r in self.by_id.values() if r.task is not None and r.task.done()]
        for run in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self.by_id[run.id]

    # -- following and cancelling ------------------------------------------------------------
    async def follow(self, run_id: str) -> AsyncIterator[RunSnapshot]:
        """Snapshots of a run as it changes (Engine.follow); the engine counts its follower."""
        run = self.named(run_id)
        engine = self.engine
        engine.followers += 1
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
                if run.task is not None:  # the run's end is sent at once, not after the pause
                    await asyncio.wait({run.task}, timeout=FOLLOW_INTERVAL_S)
                else:
                    await asyncio.sleep(FOLLOW_INTERVAL_S)
        finally:
            engine.followers -= 1
            engine.last_activity = time.monotonic()

    async def cancel(self, run_id: str) -> RunSnapshot:
        run = self.named(run_id)
        if run.task is not None and not run.task.done():
            run.indexer.cancel()
            run.task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(run.task), timeout=60)
        return run.snapshot()

    async def cancel_all(self) -> None:
        """Each run finishes the file it is writing."""
        for run in self.active():
            await self.cancel(run.id)
