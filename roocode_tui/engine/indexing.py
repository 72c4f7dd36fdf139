"""Search indexes built without asking: once a collection of the embedded store has been idle
for ``engine.hnsw_after_s`` after a run, the engine builds its HNSW index in the background.
A collection that is written all the time (a watched one, saved every few seconds) is looked
at every ``BUSY_S`` instead, and built when it needs it: points not indexed yet, or many points
replaced or deleted since its last build (Qdrant keeps those in its segments, on disk and in
memory, until the build compacts them; without it a watched collection's engine grows).

An index run leaves a collection's new points unindexed, so until its index is built a search
scans every vector (~14 ms at 50k x 1024-d, growing linearly). Qdrant Edge's ``optimize()``
holds the interpreter for the whole build, so the build runs on a copy of the shard in a child
process (``core/stores/edge_build.py``: one CPU, lowest priority) while the engine keeps
answering from the original; the copy is switched in when it is done, and dropped if anything
wrote to the collection meanwhile. Writes made during the build are replayed on the copy
before it serves (``EdgeStore`` keeps them); a whole run that starts on the collection stops
the build, and its end schedules the next one. One build at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from roocode_tui.core.errors import CollectionNotFoundError, RoocodeError, StoreError
from roocode_tui.core.stores.edge.builder import run_build

LOG = logging.getLogger("roocode_tui.engine")
TIDY_AFTER_S = 2.5  # the replaced shard is let go after the store's grace time (core/stores/edge/shards.py RETIRE_S)
BUSY_S = 300.0  # a collection written without pause is looked at this often
CHURN_MIN = 1000  # a build compacts once this many points were written or deleted since the last
CHURN_SHARE = 0.10  # ... and this share of the collection's points
DEFER_S = 300.0  # a build deferred for want of memory is looked at again this much later


class SearchIndexer:
    def __init__(self, engine: Any):
        self.engine = engine
        self._due: dict[str, float] = {}  # collection -> when to look at it (monotonic)
        self._checked: set[str] = set()  # looked at since their last write: nothing to do
        self._nothing: dict[str, tuple[int, int, int]] = {}  # a build found nothing to do at (points, unindexed, churn)
        self._busy_since: dict[str, float] = {}  # collection -> its first write since it was last looked at
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.building: dict[str, Any] | None = None  # {"collection", "points", "since"}
        self.last: dict[str, dict[str, Any]] = {}  # collection -> its last build's outcome
        self._tidying: asyncio.Future[None] | None = None
        self._s_per_point = 0.0  # the last build's pace
        self._builds = 0  # builds switched in
        self._one = asyncio.Lock()  # one build process at a time: the memory budget is for all builds

    @property
    def after_s(self) -> float:
        return float(self.engine.settings.engine.hnsw_after_s)

    @property
    def budget_mb(self) -> int:
        return int(self.engine.settings.engine.build_memory_mb)

    @property
    def enabled(self) -> bool:
        s = self.engine.settings
        return self.after_s >= 0 and s.store.backend == "embedded" and not s.read_only

    # -- what faces and runs tell it ---------------------------------------------------------
    def written(self, name: str) -> None:
        """A run on ``name`` ended: look at it once it has been idle for a while, or BUSY_S
        after its first write since it was last looked at, whichever comes first."""
        self._checked.discard(name)
        now = time.monotonic()
        since = self._busy_since.setdefault(name, now)
        self._schedule(name, min(self.after_s, max(0.0, since + max(BUSY_S, self.after_s) - now)))

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
        plan = b.get("plan") or {}
        out: dict[str, Any] = {"state": "building", "seconds": round(seconds, 1), "points": b["points"], **plan}
        percent = None
        if self._s_per_point:  # an estimate from the last build's pace
            percent = min(99, int(100 * seconds / max(1e-9, b["points"] * self._s_per_point)))
        pieces = int(plan.get("pieces") or 1)
        if pieces > 1:
            out["pieces_built"] = b.get("pieces_built", 0)
            percent = max(percent or 0, int(100 * out["pieces_built"] / pieces))
        if percent is not None:
            out["percent"] = percent
        return out

    def deferred(self, name: str) -> str:
        """Why the build of ``name`` waits ("" when it does not)."""
        return str(self.last.get(name, {}).get("deferred") or "")

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
            "budget_mb": self.budget_mb,
            "building": building,
            "waiting": sorted(self._due),
            "last": self.last,
            "builds": self._builds,
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
        self._busy_since.pop(name, None)
        look, key = await _looked(store, name)
        if look is None:
            self._checked.add(name)
            return
        points, churn = key[0], key[2]
        need = max(CHURN_MIN, CHURN_SHARE * points)
        nothing = self._nothing.get(name)  # the last build found nothing to do, or failed:
        again = nothing is None or nothing[:2] != key[:2] or churn - nothing[2] >= need  # not before this
        if not again or (look["state"] == "indexed" and churn < need):
            self._checked.add(name)
            return
        plan = await store.plan_index_build(name, self.budget_mb, look)
        if plan.deferred:
            if self.last.get(name, {}).get("deferred") != plan.deferred:
                LOG.info("search index of %s: %s", name, plan.describe())
            self.last[name] = {**plan.to_json(), "points": points, "at": _now()}
            if plan.low_memory:
                self._schedule(name, DEFER_S)  # memory may have freed up by then
            else:
                self._nothing[name] = key  # a budget too small: not again until the collection changes
            return
        async with self._one:
            if await self._execute(store, name, plan, key) is None:  # being written or rebuilt
                self._schedule(name, max(1.0, self.after_s))

    async def build_now(self, store: Any, name: str) -> dict[str, Any]:
        """``collections optimize``: the build the engine makes in the background, made now and
        awaited, the same way (the build process, within ``engine.build_memory_mb``, searches
        answering meanwhile). ``{"optimized": False}``: nothing to do. A build that cannot fit
        is refused with why, not made beyond the budget."""
        look, key = await _looked(store, name)
        if look is None or (look["state"] == "indexed" and not key[2]):
            return {"optimized": False}
        plan = await store.plan_index_build(name, self.budget_mb, look)
        if plan.deferred:
            raise StoreError(
                f"collection {name!r}: the search index is not built: {plan.deferred} "
                "(engine.build_memory_mb: 0 builds without a limit)"
            )
        async with self._one:
            result = await self._execute(store, name, plan, key)
        if result is None:
            raise StoreError(f"collection {name!r} is being written or rebuilt: optimize it afterwards")
        return {"optimized": bool(result.get("optimized")), "how": plan.how, "pieces": plan.pieces}

    async def _execute(self, store: Any, name: str, plan: Any, key: tuple[int, int, int]) -> dict[str, Any] | None:
        """Build ``name``'s search index as ``plan`` says and switch it in: the build process's
        last line, or None when the collection is being written or rebuilt."""
        try:
            build = await store.begin_index_build(name, plan.piece)
        except RoocodeError:
            self._nothing[name] = key  # e.g. no room for the copy: not again until it changes
            raise
        if build is None:
            return None
        self.building = {
            "collection": name,
            "points": build.points,
            "since": time.monotonic(),
            "plan": plan.to_json(),
            "pieces_built": 0,
        }
        LOG.info(
            "search index of %s: building (%d points, %d unindexed): %s", name, build.points, key[1], plan.describe()
        )
        try:
            try:
                result = await run_build(store, build, self._progress)
            except StoreError:
                self._nothing[name] = key  # not again until the collection changes
                raise
            if not result.get("optimized"):
                self._nothing[name] = key
                self._checked.add(name)
                await store.abort_index_build(build)
                return result
            if await store.finish_index_build(build):
                asyncio.get_running_loop().call_later(TIDY_AFTER_S, self._tidy, store, name)
                self._checked.add(name)
                self.last[name] = {**result, **plan.to_json(), "points": build.points, "at": _now()}
                self._s_per_point = float(result.get("seconds") or 0) / max(1, build.points)
                self._builds += 1
                LOG.info(
                    "search index of %s: built in %.1f s, %s (build process peak RSS %d MB)",
                    name,
                    result.get("seconds", 0),
                    plan.describe(),
                    result.get("max_rss_mb", 0),
                )
                return result
            self._schedule(name, self.after_s)  # written meanwhile: the copy was dropped
            return {**result, "optimized": False}
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.shield(store.abort_index_build(build))
            raise
        finally:
            self.building = None

    def _progress(self, line: dict[str, Any]) -> None:
        """A line from the build process (a piece built)."""
        if self.building is not None and "piece" in line:
            self.building["pieces_built"] = int(line["piece"])

    def _tidy(self, store: Any, name: str) -> None:
        """Let go of the replaced shard once calls that were using it are done, give the memory
        it held back to the system, then warm the new one."""
        if store is self.engine.open_store():
            task = asyncio.ensure_future(_let_go(store, name))
            self._tidying = task  # keep a reference until it is done


async def _looked(store: Any, name: str) -> tuple[dict[str, Any] | None, tuple[int, int, int]]:
    """A collection's search index as the store sees it (None: nothing to index) and the key a
    build is remembered by: (points, unindexed points, churn)."""
    look = await store.search_index(name)
    if look is None:
        return None, (0, 0, 0)
    churn = store.churn(name) if hasattr(store, "churn") else 0
    return look, (int(look["points"]), int(look["unindexed"]), churn)


async def _let_go(store: Any, name: str) -> None:
    """The replaced shard closed first, then the new one's first search paid: done the other
    way round, or in the switch itself, the two shards' memory adds up (at 129k points the
    first search maps ~130 MB of the new shard's files, the old shard holds ~200 MB of its
    own), and that sum was the engine's peak."""
    from roocode_tui.core.memory import release_freed_memory

    await store.tidy()
    await asyncio.to_thread(release_freed_memory)
    release = getattr(store, "release_pages", None)
    warm = getattr(store, "warm_index", None)
    if warm is not None:
        try:
            await warm(name)
        except Exception as exc:  # deleted or rebuilt meanwhile, say: only a first search is slower
            LOG.debug("search index of %s: not warmed: %s", name, exc)
    if release is not None:  # the pages that search mapped in
        await asyncio.to_thread(release)


def _now() -> str:
    from roocode_tui.core.stores.base import now_iso  # numpy with it: the engine has it loaded

    return now_iso()
