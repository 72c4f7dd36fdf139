"""Search indexes built without asking: once a collection of the embedded store has been idle
for ``engine.hnsw_after_s`` after a run, the engine builds its HNSW index in the background.

An index run leaves a collection's new points unindexed, so until its index is built a search
scans every vector (~14 ms at 50k x 1024-d, growing linearly). Qdrant Edge's ``optimize()``
holds the interpreter for the whole build, so the build runs on a copy of the shard in a child
process (``core/stores/edge_build.py``: one CPU, lowest priority) while the engine keeps
answering from the original; the copy is switched in when it is done, and dropped if anything
wrote to the collection meanwhile. A run that starts on the collection stops the build; the
run's end schedules the next one. One build at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import time
from typing import Any

from roocode_tui.core.errors import CollectionNotFoundError, RoocodeError, StoreError

LOG = logging.getLogger("roocode_tui.engine")
TIDY_AFTER_S = 2.5  # the replaced shard is let go after the store's grace time (edge.RETIRE_S)


class SearchIndexer:
    def __init__(self, engine: Any):
        self.engine = engine
        self._due: dict[str, float] = {}  # collection -> when to look at it (monotonic)
        self._checked: set[str] = set()  # looked at since their last write: nothing to do
        self._nothing: dict[str, tuple[int, int]] = {}  # a build found nothing to do at this (points, unindexed)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.building: dict[str, Any] | None = None  # {"collection", "points", "since"}
        self.last: dict[str, dict[str, Any]] = {}  # collection -> its last build's outcome
        self._tidying: asyncio.Future[None] | None = None
        self._s_per_point = 0.0  # the last build's pace
        self._builds = 0  # builds switched in

    @property
    def after_s(self) -> float:
        return float(self.engine.settings.engine.hnsw_after_s)

    @property
    def enabled(self) -> bool:
        s = self.engine.settings
        return self.after_s >= 0 and s.store.backend == "embedded" and not s.read_only

    # -- what faces and runs tell it ---------------------------------------------------------
    def written(self, name: str) -> None:
        """A run on ``name`` ended: look at it once it has been idle for a while."""
        self._checked.discard(name)
        self._schedule(name, self.after_s)

    def used(self, name: str) -> None:
        """A face searched or described ``name``: look at it once, if not looked at already
        (a collection indexed before this engine started, or by a --no-engine command)."""
        if name not in self._checked and name not in self._due:
            self._schedule(name, self.after_s)

    def _schedule(self, name: str, delay: float) -> None:
        if not self.enabled:
            return
        self._due[name] = time.monotonic() + max(0.0, delay)
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name="hnsw-builder")

    def describe(self, name: str) -> dict[str, Any] | None:
        """The build of ``name`` under way: {"state": "building", "seconds", "points"}."""
        b = self.building
        if b is None or b["collection"] != name:
            return None
        seconds = time.monotonic() - b["since"]
        out: dict[str, Any] = {"state": "building", "seconds": round(seconds, 1), "points": b["points"]}
        if self._s_per_point:  # an estimate from the last build's pace
            out["percent"] = min(99, int(100 * seconds / max(1e-9, b["points"] * self._s_per_point)))
        return out

    def beat(self) -> str:
        """Changes when what F4 shows of the search indexes does (the watch stream carries it)."""
        b = self.building
        label = ""
        if b is not None:
            label = f"{b['collection']}:{(self.describe(b['collection']) or {}).get('percent', '')}"
        failed = sum(1 for v in self.last.values() if "error" in v)
        return f"{label}/{self._builds}/{failed}"

    def status(self) -> dict[str, Any]:
        building = None
        if self.building is not None:
            building = {"collection": self.building["collection"], **(self.describe(self.building["collection"]) or {})}
        return {
            "enabled": self.enabled,
            "after_s": self.after_s,
            "building": building,
            "waiting": sorted(self._due),
            "last": self.last,
        }

    async def stop(self, name: str | None = None) -> None:
        """Stop the build of ``name`` (of any collection when None), removing its copy. What
        was due stays due: a run's end, or the next schedule, starts the loop again."""
        task = self._task
        if task is None or task.done():
            return
        if name is not None and (self.building is None or self.building["collection"] != name):
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self._task = None
        if name is not None and self._due:
            self._task = asyncio.create_task(self._loop(), name="hnsw-builder")

    # -- the builder -------------------------------------------------------------------------
    async def _loop(self) -> None:
        while self._due:
            name, due = min(self._due.items(), key=lambda kv: kv[1])
            wait = due - time.monotonic()
            if wait > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=wait)
                continue
            del self._due[name]
            if self.engine.writing(name):
                continue  # the run's end schedules it again
            try:
                await self._build(name)
            except CollectionNotFoundError:
                self.last.pop(name, None)
            except (RoocodeError, OSError, ValueError) as exc:
                LOG.warning("search index of %s: %s", name, exc)
                self.last[name] = {"error": str(exc)[:200], "at": _now()}
            except Exception as exc:  # never let one collection stop the builder
                LOG.exception("search index of %s: unexpected error", name)
                self.last[name] = {"error": f"unexpected: {exc}"[:200], "at": _now()}

    async def _build(self, name: str) -> None:
        store = self.engine.open_store()
        if store is None:
            return  # released: looked at again when next used
        look = await store.search_index(name)
        if look is None or look["state"] == "indexed":
            self._checked.add(name)
            return
        key = (int(look["points"]), int(look["unindexed"]))
        if self._nothing.get(name) == key:
            self._checked.add(name)
            return
        try:
            build = await store.begin_index_build(name)
        except RoocodeError:
            self._nothing[name] = key  # e.g. no room for the copy: not again until it changes
            raise
        if build is None:  # being written or rebuilt
            self._schedule(name, max(1.0, self.after_s))
            return
        self.building = {"collection": name, "points": build.points, "since": time.monotonic()}
        LOG.info("search index of %s: building (%d points, %d unindexed)", name, build.points, key[1])
        proc = None
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "roocode_tui.core.stores.edge_build",
                str(build.target),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await proc.communicate()
            if proc.returncode != 0:
                why = (err.decode(errors="replace").strip().splitlines() or [f"exit {proc.returncode}"])[-1]
                self._nothing[name] = key  # not again until the collection changes
                raise StoreError(f"the index build failed: {why}")
            result = json.loads(out.decode().strip().splitlines()[-1])
            if not result.get("optimized"):
                self._nothing[name] = key
                self._checked.add(name)
                await store.abort_index_build(build)
                return
            if await store.finish_index_build(build):
                asyncio.get_running_loop().call_later(TIDY_AFTER_S, self._tidy, store)
                self._checked.add(name)
                self.last[name] = {**result, "points": build.points, "at": _now()}
                self._s_per_point = float(result.get("seconds") or 0) / max(1, build.points)
                self._builds += 1
                LOG.info(
                    "search index of %s: built in %.1f s (child peak RSS %d MB)",
                    name,
                    result.get("seconds", 0),
                    result.get("max_rss_mb", 0),
                )
            else:
                self._schedule(name, self.after_s)  # written meanwhile: the copy was dropped
        except BaseException:
            if proc is not None and proc.returncode is None:
                proc.kill()
                with contextlib.suppress(Exception):
                    await asyncio.shield(proc.wait())
            with contextlib.suppress(Exception):
                await asyncio.shield(store.abort_index_build(build))
            raise
        finally:
            self.building = None

    def _tidy(self, store: Any) -> None:
        """Let go of the replaced shard once calls that were using it are done."""
        if store is self.engine.open_store():
            task = asyncio.ensure_future(store.tidy())
            self._tidying = task  # keep a reference until it is done


def _now() -> str:
    from roocode_tui.core.stores.base import now_iso  # numpy with it: the engine has it loaded

    return now_iso()
