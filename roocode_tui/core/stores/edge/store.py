"""EdgeStore: the embedded store's collections, rebuilds and search-index builds, on its
layout (layout.py), its open shards (shards.py) and its index builds (builds.py); the point
calls come from points.py."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any

from roocode_tui.core.errors import CollectionNotFoundError, StoreError
from roocode_tui.core.stores.base import SPARSE, CollectionMeta, Store, same_build
from roocode_tui.core.stores.edge.builder import BuildPlan
from roocode_tui.core.stores.edge.builds import Builds, IndexBuild
from roocode_tui.core.stores.edge.layout import SHARD_DIR, STAGING, Layout, copy_shard, remove_if_free, split_name
from roocode_tui.core.stores.edge.points import PointCalls
from roocode_tui.core.stores.edge.shards import MapGate, Shards, new_shard, open_shard

#: Qdrant's default optimizer threshold: a segment with more vector data than this gets an
#: HNSW index when optimised; below it a search scans the segment (cheap at that size).
INDEXING_THRESHOLD_KB = 10_000


class EdgeStore(PointCalls, Store):
    backend = "embedded"

    def __init__(self, data_dir: Path, *, vector_datatype: str = "float16"):
        self.data_dir = Path(data_dir).expanduser()
        self.vector_datatype = vector_datatype  # of the collections it creates
        self.root = self.data_dir / "collections"
        self._lock = threading.RLock()
        self._layout = Layout(self.root)
        self._shards = Shards(self._layout, self._lock)
        self._builds = Builds(self._layout, self._shards)
        self._unreleased = 0  # points written since the mapped pages were last let go
        self._maps = MapGate()

    async def _call(self, fn: Any, *args: Any) -> Any:
        return await asyncio.to_thread(self._shared_call, fn, *args)

    def _shared_call(self, fn: Any, *args: Any) -> Any:
        with self._maps.shared():
            return fn(*args)

    # -- collections -------------------------------------------------------------------------
    async def list_collections(self) -> list[str]:
        return await self._call(self._layout.names)

    async def get_meta(self, name: str) -> CollectionMeta | None:
        base, staged = split_name(name)
        raw = await self._call(self._layout.read_meta, base)
        if raw is not None and staged:
            raw = (raw.get("building") or {}).get("meta")
        return CollectionMeta.from_json(raw) if raw is not None else None

    async def save_meta(self, meta: CollectionMeta) -> None:
        base, staged = split_name(meta.name)

        def save() -> None:
            with self._lock:
                raw = self._layout.read_meta(base) or {}
                if staged:
                    building = raw.get("building")
                    if not building:
                        raise CollectionNotFoundError(f"collection {base!r} has no rebuild under way")
                    building["meta"] = meta.to_json()
                else:
                    raw.update(meta.to_json())
                self._layout.write_meta(base, raw)

        await self._call(save)

    async def create_collection(self, meta: CollectionMeta) -> None:
        def create() -> None:
            if self._layout.read_meta(meta.name) is not None:
                raise StoreError(f"collection {meta.name!r} already exists")
            shard, shard_name = new_shard(self._layout.dir(meta.name), meta, self.vector_datatype)
            with self._lock:
                # The collection exists once meta.json names its shard.
                self._layout.write_meta(meta.name, {**meta.to_json(), "shard": shard_name})
                self._shards.serve(meta.name, shard, shard_name)

        await self._call(create)

    async def seed_collection(
        self, source: str, meta: CollectionMeta, where: dict[str, str], payload: dict[str, Any]
    ) -> int | None:
        """The new collection as a copy of ``source``'s serving shard: its files copied while
        writes to it wait (as for an index build's copy), then the points ``where`` does not
        match dropped and ``payload`` set on the others, a call each. None (nothing made) when
        ``source`` is being written, copied or rebuilt."""
        from qdrant_edge import CountRequest, FieldCondition, Filter, MatchValue, UpdateOperation

        match = [FieldCondition(key=k, match=MatchValue(v)) for k, v in where.items()]

        def seed() -> int | None:
            builds = self._builds
            with self._lock:
                if self._layout.read_meta(meta.name) is not None:
                    raise StoreError(f"collection {meta.name!r} already exists")
                raw = self._layout.read_meta(source)
                if raw is None or raw.get("building") or builds.writing.get(source) or source in builds.gates:
                    return None
                shard = self._shards.current(source)
                shard.flush()
                from_dir = self._layout.dir(source) / self._shards.dirs[source]
                gate = builds.gates[source] = threading.Event()  # writes wait for the copy
            directory = self._layout.dir(meta.name)
            shard_name = f"{SHARD_DIR}-{uuid.uuid4().hex[:8]}"
            target = directory / shard_name
            try:
                directory.mkdir(parents=True, exist_ok=True)
                copy_shard(from_dir, target)
            except OSError as exc:
                shutil.rmtree(target, ignore_errors=True)
                raise StoreError(f"collection {meta.name!r}: cannot copy {source!r}'s shard: {exc}") from None
            finally:
                with self._lock:
                    del builds.gates[source]
                    gate.set()
            try:
                copy = open_shard(meta.name, target)
            except BaseException:
                shutil.rmtree(target, ignore_errors=True)
                raise
            try:
                if match:
                    copy.update(UpdateOperation.delete_points_by_filter(Filter(must_not=[Filter(must=match)])))
                copy.update(UpdateOperation.set_payload_by_filter(Filter(must=match), payload))
                copy.flush()
                points = int(copy.count(CountRequest(exact=True)))
                with self._lock:
                    if self._layout.read_meta(meta.name) is not None:
                        raise StoreError(f"collection {meta.name!r} already exists")
                    self._layout.write_meta(meta.name, {**meta.to_json(), "shard": shard_name})
                    self._shards.serve(meta.name, copy, shard_name)
            except BaseException:
                copy.close()
                shutil.rmtree(target, ignore_errors=True)
                raise
            return points

        points = await self._call(seed)
        if points is not None:  # the copy's pages just read and written: not this process's to keep
            await asyncio.to_thread(self.release_pages)
        return points

    async def staging_of(self, name: str) -> str | None:
        raw = await self._call(self._layout.read_meta, name)
        return name + STAGING if raw is not None and raw.get("building") else None

    async def delete_collection(self, name: str) -> bool:
        def delete() -> bool:
            directory = self._layout.dir(name)
            if not directory.exists():
                return False
            shard, staged = self._shards.forget(name)
            if staged is not None:
                staged.close()
            if shard is None and (directory / "meta.json").exists():
                # Make sure no other process has it open before removing anything.
                raw = self._layout.read_meta(name) or {}
                shard = open_shard(name, directory / raw.get("shard", SHARD_DIR))
            if shard is not None:
                shard.close()
            # Remove meta first: a crash halfway leaves no half-collection that looks whole.
            (directory / "meta.json").unlink(missing_ok=True)
            shutil.rmtree(directory, ignore_errors=True)
            return True

        return await self._call(delete)

    # -- rebuild -----------------------------------------------------------------------------
    async def begin_rebuild(self, meta: CollectionMeta) -> str:
        base = meta.name
        staging = base + STAGING

        def begin() -> str:
            with self._lock:
                raw = self._layout.read_meta(base)
                if raw is None:
                    raise CollectionNotFoundError(f"collection {base!r} does not exist in {self.root}")
                building = raw.get("building")
                if building:
                    old = CollectionMeta.from_json(building.get("meta") or {})
                    if same_build(old, meta):
                        return staging  # an unfinished rebuild: carry on where it stopped
                    self._drop_staging(base, raw)
                    raw = self._layout.read_meta(base) or raw
                staged = dataclasses.replace(meta, name=staging, staging_for=base, last_run={}, last_indexed_at=None)
                shard, shard_name = new_shard(self._layout.dir(staged.name), staged, self.vector_datatype)
                self._shards.open[staging], self._shards.dirs[staging] = shard, shard_name
                raw["building"] = {"shard": shard_name, "meta": staged.to_json()}
                self._layout.write_meta(base, raw)
                return staging

        return await self._call(begin)

    async def finish_rebuild(self, name: str, staging: str) -> None:
        def finish() -> None:
            with self._lock:
                raw = self._layout.read_meta(name)
                building = (raw or {}).get("building")
                if raw is None or not building or split_name(staging) != (name, True):
                    raise StoreError(f"collection {name!r} has no rebuild to finish")
                shards = self._shards
                shard = shards.open.get(staging)
                if shard is not None:
                    shard.flush()
                meta = CollectionMeta.from_json(building["meta"])
                meta = dataclasses.replace(meta, name=name, staging_for=None)
                old_dir = self._layout.dir(name) / str(raw.get("shard", SHARD_DIR))
                self._layout.write_meta(name, {**meta.to_json(), "shard": building["shard"]})  # the switch
                if name in shards.open:
                    shards.retire(name)
                if shard is not None:
                    shards.serve(name, shards.open.pop(staging), shards.dirs.pop(staging))
                if not any(p == old_dir for _, _, p in shards.retired):
                    remove_if_free(old_dir)  # else removed when this process lets go of it

        await self._call(finish)

    async def abort_rebuild(self, name: str) -> bool:
        def abort() -> bool:
            with self._lock:
                raw = self._layout.read_meta(name)
                if raw is None or not raw.get("building"):
                    return False
                self._drop_staging(name, raw)
                return True

        return await self._call(abort)

    def _drop_staging(self, name: str, raw: dict[str, Any]) -> None:
        building = raw.pop("building")
        self._layout.write_meta(name, raw)  # first forget it, then remove it
        shard = self._shards.open.pop(name + STAGING, None)
        self._shards.dirs.pop(name + STAGING, None)
        if shard is not None:
            shard.close()
        remove_if_free(self._layout.dir(name) / str(building.get("shard")))

    # -- search index ------------------------------------------------------------------------
    async def optimize(self, name: str) -> bool:
        """The engine builds HNSW only when asked: until then a search scans every vector."""

        def run() -> bool:
            with self._builds.writer(name) as shard:
                # it rewrites the segments: the copy's build is moot
                self._builds.spoil(name, "the collection was optimized meanwhile")
                done = bool(shard.optimize())
            if done:
                with self._lock:
                    self._shards.churn[name] = 0  # compacted
            return done

        return await self._call(run)

    async def search_index(self, name: str) -> dict[str, Any] | None:
        """How a search finds neighbours: "indexed" (HNSW, plus a scan of a remainder too small
        to index), or "full scan" of ``unindexed`` points (as an index run leaves a collection)."""
        from qdrant_edge import CountRequest, Filter, HasVectorCondition

        def look() -> dict[str, Any] | None:
            if split_name(name)[1]:
                return None  # a rebuild's staging shard: indexed once it serves
            shard = self._shards.current(name)
            info = shard.info()
            raw = self._layout.read_meta(name) or {}
            keyword = 0
            if raw.get("hybrid"):  # the engine counts keyword vectors among the indexed ones
                flt = Filter(must=[HasVectorCondition(SPARSE)])
                keyword = int(shard.count(CountRequest(filter=flt, exact=True)))
            unindexed = max(0, int(info.points_count) - max(0, int(info.indexed_vectors_count) - keyword))
            dimension = int(raw.get("dimension") or 1)
            width = self._shards.vector_bytes(name)
            threshold = INDEXING_THRESHOLD_KB * 1024 // max(1, dimension * width)
            state = "full scan" if unindexed >= threshold else "indexed"
            return {"state": state, "points": int(info.points_count), "unindexed": unindexed}

        return await self._call(look)

    async def plan_index_build(self, name: str, budget_mb: int, look: dict[str, Any] | None = None) -> BuildPlan:
        """How ``name``'s search index would be built within ``budget_mb`` (0: no budget) and the
        memory the machine has available now: whole, split into pieces, or deferred
        (``edge/builder.py``). ``look``: its ``search_index`` answer, when the caller has it."""
        from roocode_tui.core.stores.edge.builder import available_mb, plan_build

        look = look or await self.search_index(name)
        if look is None:
            raise CollectionNotFoundError(f"collection {name!r} has no search index of its own to build")

        def shape() -> tuple[int, int]:
            raw = self._layout.read_meta(name) or {}
            self._shards.current(name)
            return int(raw.get("dimension") or 1), self._shards.vector_bytes(name)

        dimension, width = await self._call(shape)
        return plan_build(
            points=int(look["points"]),
            unindexed=int(look["unindexed"]),
            dimension=dimension,
            width=width,
            budget_mb=budget_mb,
            available_mb=await asyncio.to_thread(available_mb),
            threshold_kb=INDEXING_THRESHOLD_KB,
        )

    def churn(self, name: str) -> int:
        """Points written or deleted in ``name`` since its shard was opened or built: the
        replaced and deleted ones stay in its segments (on disk and in memory) until a build
        compacts them."""
        with self._lock:
            return self._shards.churn.get(name, 0)

    async def begin_index_build(self, name: str, piece: int = 0) -> IndexBuild | None:
        """Copy the serving shard for a search-index build in another process (Qdrant Edge's
        optimize holds the interpreter for its whole run, so it cannot run beside searches in
        this one). Writes wait while the shard is copied (a second or two at 100k points);
        from then on they are kept in the build's journal and replayed on the copy when it is
        done. None when the collection is being rebuilt or a write is under way: try later.

        With ``piece`` the build streams instead: an empty shard is made, the points are sent
        to the build process page by page (``index_build_page``) and indexed ``piece`` at a
        time, so its memory follows the piece, not the collection (``edge/builder.py``)."""
        return await self._call(self._builds.begin, name, piece)

    async def index_build_page(self, build: IndexBuild, offset: Any, limit: int) -> tuple[bytes, Any, int]:
        """The next page of points for a streamed build's process (``Builds.page``)."""
        return await self._call(self._builds.page, build, offset, limit)

    async def finish_index_build(self, build: IndexBuild) -> bool:
        """Serve the built copy in place of the shard it was copied from, once the writes made
        meanwhile are replayed on it; False (the copy dropped) when that shard was replaced or
        the journal could not keep up."""
        return await self._call(self._builds.finish, build)

    async def warm_index(self, name: str) -> None:
        """Pay the first search of a shard just switched in (``Builds.warm``) before a face's
        search meets it; its pages can be let go afterwards, the cost stays paid."""
        await self._call(self._builds.warm, name)

    async def abort_index_build(self, build: IndexBuild) -> None:
        await self._call(self._builds.abort, build)

    # -- memory and shutdown -----------------------------------------------------------------
    def release_pages(self) -> int:
        """Let this process's resident pages of the store's mapped files go (core/memory.py);
        the bytes of mappings advised. The data stays in the files and in the page cache.

        Qdrant Edge writes vectors, payloads, keyword vectors and its write-ahead log through
        shared memory maps, and every page written stays in the process's RSS: an index run of
        129k chunks of 1024-d held ~470 MB of them at its end, growing with the collection, and
        a log file is read only when a shard opens. Called every ``RELEASE_POINTS`` points
        written, after each run and after an index build switches in. A page touched again (a
        search scanning the vectors) is mapped again from the page cache, without reading the
        disk unless the kernel dropped it meanwhile."""
        from roocode_tui.core.memory import release_mapped_pages

        with self._maps.alone():  # no store call unmaps a file meanwhile (see MapGate)
            return release_mapped_pages(str(self.root) + os.sep, os.sep)

    async def tidy(self) -> None:
        """Close and remove replaced shards whose grace time (RETIRE_S) is over."""

        def reap() -> None:
            with self._lock:
                self._shards.reap()

        await self._call(reap)

    async def release(self, name: str) -> None:
        def release() -> None:
            with self._lock:
                self._shards.retire(name)  # closed shortly, once calls still using it are done

        await self._call(release)

    async def close(self) -> None:
        await self._call(self.close_sync)

    def close_sync(self) -> None:
        self._shards.close_all()

    async def archive(self, name: str, write: Any) -> Any:
        """Flush collection ``name`` and run ``write(shard_dir, meta, points)`` while holding it.

        The engine's lock keeps other processes out of the shard, and this store's lock keeps
        this process's calls from starting on it until ``write`` returns: the files do not change.
        """
        from qdrant_edge import CountRequest

        def run() -> Any:
            shard = self._shards.current(name)
            with self._lock:
                shard.flush()
                raw = self._layout.read_meta(name) or {}
                points = int(shard.count(CountRequest(exact=True)))
                return write(self._layout.dir(name) / str(raw.get("shard", SHARD_DIR)), raw, points)

        return await self._call(run)
