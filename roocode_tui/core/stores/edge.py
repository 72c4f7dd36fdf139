"""The embedded store: Qdrant Edge (Qdrant's engine in-process), one shard per collection.

Layout under the data dir::

    collections/<name>/meta.json   what the collection was built with (written atomically)
    collections/<name>/<shard>/    the Edge shard named by meta.json's "shard" key
    collections/<name>/<shard2>/   during a rebuild: the new shard, named by meta.json's "building"

A rebuild writes its new shard beside the serving one and switches by replacing meta.json
(one atomic rename); processes that have the old shard open notice the switch on their next
call and move to the new shard. A background search-index build (the engine's, see
``begin_index_build``) works on a copy of the serving shard and switches the same way.
A shard directory that meta.json no longer names is removed once no process holds it (the
engine's WAL lock tells).

Calls into the engine block, so they run in worker threads; the engine is thread-safe.
Only one process may open a shard (its WAL is locked): a second gets StoreBusyError.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from roocode_tui.core.config import check_collection_name
from roocode_tui.core.errors import CollectionNotFoundError, StoreBusyError, StoreError
from roocode_tui.core.stores.base import (
    DENSE,
    KEYWORD_FIELDS,
    SPARSE,
    STATE_FIELDS,
    CollectionMeta,
    FileState,
    Hit,
    Lane,
    PointRecord,
    SearchFilter,
    Store,
    accumulate_state,
    dense_of,
    same_build,
)

LOG = logging.getLogger("roocode_tui.store")
SHARD_DIR = "shard"
SCROLL_PAGE = 2048
STAGING = "~rebuild"  # "<name>~rebuild" names the shard a rebuild of <name> writes
#: Qdrant's default optimizer threshold: a segment with more vector data than this gets an
#: HNSW index when optimised; below it a search scans the segment (cheap at that size).
INDEXING_THRESHOLD_KB = 10_000
RETIRE_S = 2.0  # a replaced shard stays open this long for calls still using it
#: Writes made while a search-index build works on a copy are kept (a journal) and replayed on
#: the built copy before it serves. Past this many points written meanwhile the journal is
#: dropped, and with it the copy (a run that big is better followed by a build of its own).
JOURNAL_POINTS = 4096
JOURNAL_IDS = 65_536  # ids deleted or given a payload meanwhile
#: Written pages of the store's mapped files let go after this many points are written (see
#: ``release_pages``): about 8 MB of 1024-d float16 vectors, payloads and keyword vectors.
RELEASE_POINTS = 4096
SWEEP_AGE_S = 60.0  # an unnamed shard dir younger than this may be one another process is creating


def _split(name: str) -> tuple[str, bool]:
    """(collection, is the staging shard of its rebuild)."""
    if name.endswith(STAGING):
        return name[: -len(STAGING)], True
    return name, False


@dataclasses.dataclass
class IndexBuild:
    """A search-index build under way on a copy of a collection's serving shard."""

    name: str
    source: str  # the shard directory copied
    target: Path  # the copy the build works on
    shard: Any  # the open shard that was copied: the switch needs it to be still the one in use
    points: int
    journal: Journal = dataclasses.field(default_factory=lambda: Journal())


@dataclasses.dataclass
class Journal:
    """The writes a collection took while its copy was being built, in the order they were
    made: replayed on the copy before it serves, so a watched collection written every few
    seconds still gets its index built and its deleted points compacted."""

    ops: list[Any] = dataclasses.field(default_factory=list)  # Edge UpdateOperations
    points: int = 0
    ids: int = 0
    spoiled: str = ""  # why the copy can no longer be brought up to date ("" while it can)

    def add(self, op: Any, points: int = 0, ids: int = 0) -> None:
        if self.spoiled:
            return
        self.points += points
        self.ids += ids
        if self.points > JOURNAL_POINTS or self.ids > JOURNAL_IDS:
            self.spoil(f"more than {JOURNAL_POINTS} points written meanwhile")
        else:
            self.ops.append(op)

    def spoil(self, why: str) -> None:
        self.spoiled = self.spoiled or why
        self.ops.clear()  # let go of the vectors now


def _vector_bytes(shard_dir: Path) -> int:
    """Bytes per dense vector component, from the shard's own config."""
    try:
        config = json.loads((shard_dir / "edge_config.json").read_text(encoding="utf-8"))
        return 2 if config["vectors"][DENSE].get("datatype") == "float16" else 4
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return 4


def _named_dirs(raw: dict[str, Any]) -> set[str]:
    """The shard directories meta.json names: the serving one, and a rebuild's."""
    names = (raw.get("shard", SHARD_DIR), (raw.get("building") or {}).get("shard"))
    return {str(n) for n in names if n}


def _remove_if_free(path: Path) -> bool:
    """Delete a shard directory unless a process holds it open (its WAL directory is locked)."""
    wal = path / "wal"
    fd = None
    try:
        if wal.is_dir():
            fd = os.open(wal, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
        shutil.rmtree(path, ignore_errors=True)
        return True
    except OSError:
        return False
    finally:
        if fd is not None:
            os.close(fd)


class _MapGate:
    """Store calls share it; letting mapped pages go (``release_pages``) takes it alone.

    ``madvise(MADV_DONTNEED)`` is safe on the store's shared file mappings, but the list of
    them is read from /proc/self/maps first: a call running meanwhile could unmap one (a log
    file rotated, a shard closed) and the address be reused by private memory, which
    DONTNEED would zero. So no store call runs while the pages are let go (a few ms), and a
    release waits for the calls under way. Re-entrant for a thread already inside."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._shared = 0
        self._alone = False
        self._waiting = 0  # releases waiting: new calls wait behind them
        self._local = threading.local()

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            with self._cond:
                while self._alone or self._waiting:
                    self._cond.wait()
                self._shared += 1
        self._local.depth = depth + 1
        try:
            yield
        finally:
            self._local.depth = depth
            if depth == 0:
                with self._cond:
                    self._shared -= 1
                    self._cond.notify_all()

    @contextlib.contextmanager
    def alone(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            try:
                while self._alone or self._shared:
                    self._cond.wait()
            finally:
                self._waiting -= 1
            self._alone = True
        try:
            yield
        finally:
            with self._cond:
                self._alone = False
                self._cond.notify_all()


class EdgeStore(Store):
    backend = "embedded"

    def __init__(self, data_dir: Path, *, vector_datatype: str = "float16"):
        self.data_dir = Path(data_dir).expanduser()
        self.vector_datatype = vector_datatype  # of the collections it creates
        self.root = self.data_dir / "collections"
        self._shards: dict[str, Any] = {}
        self._shard_dirs: dict[str, str] = {}  # name -> the shard directory its open shard is
        self._stamps: dict[str, tuple[int, int]] = {}  # name -> meta.json (inode, mtime) when checked
        self._retired: list[tuple[float, Any, Path]] = []  # replaced shards: (when, shard, its dir)
        self._writes: dict[str, int] = {}  # name -> writes started (a copy is usable while it holds)
        self._writing: dict[str, int] = {}  # name -> writes in progress
        self._journals: dict[str, Journal] = {}  # name -> the writes its index build must replay
        self._gates: dict[str, threading.Event] = {}  # name -> set when its shard's copy is made
        self._churn: dict[str, int] = {}  # name -> points written or deleted since its shard opened
        self._unreleased = 0  # points written since the mapped pages were last let go
        self._maps = _MapGate()
        self._lock = threading.RLock()

    # -- files -------------------------------------------------------------------------------
    def _dir(self, name: str) -> Path:
        base, _ = _split(name)
        check_collection_name(base)
        return self.root / base

    def _stamp(self, name: str) -> tuple[int, int] | None:
        try:
            st = os.stat(self._dir(name) / "meta.json")
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns

    def _read_meta(self, name: str) -> dict[str, Any] | None:
        path = self._dir(name) / "meta.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise StoreError(f"collection {name!r}: unreadable {path}: {exc}") from None

    def _write_meta(self, name: str, data: dict[str, Any]) -> None:
        directory = self._dir(name)
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".meta.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, directory / "meta.json")

    # -- shards ------------------------------------------------------------------------------
    def _shard(self, name: str) -> Any:
        base, staged = _split(name)
        with self._lock:
            self._reap()
            shard = self._shards.get(name)
            stamp = self._stamp(base)
            if shard is not None and (staged or stamp == self._stamps.get(name)):
                return shard
            raw = self._read_meta(base)
            if raw is None:
                if shard is not None:
                    self._retire(name)
                raise CollectionNotFoundError(f"collection {base!r} does not exist in {self.root}")
            if staged:
                building = raw.get("building") or {}
                if "shard" not in building:
                    raise CollectionNotFoundError(f"collection {base!r} has no rebuild under way")
                shard_dir = str(building["shard"])
            else:
                shard_dir = str(raw.get("shard", SHARD_DIR))
            if shard is not None:
                if self._shard_dirs.get(name) == shard_dir:
                    self._stamps[name] = stamp  # meta.json was rewritten, same shard
                    return shard
                self._retire(name)  # a rebuild (here or in another process) switched the collection
            first_open = not any(_split(n)[0] == base for n in self._shards)
            path = self._dir(base) / shard_dir
            again = [r for r in self._retired if r[2] == path]  # let go of a moment ago: take it back
            if again:
                self._retired.remove(again[0])
                shard = again[0][1]
            else:
                shard = self._open(base, path)
            self._shards[name], self._shard_dirs[name] = shard, shard_dir
            if stamp is not None:
                self._stamps[name] = stamp
            if first_open and not staged:
                self._sweep(base, raw)
            return shard

    @contextlib.contextmanager
    def _writer(self, name: str) -> Any:
        """The shard to write, counted: a copy made for a search-index build is usable only if
        no write ran while it was copied, and switches in only when none is in progress."""
        while True:
            with self._lock:
                gate = self._gates.get(name)
                if gate is None:
                    shard = self._shard(name)
                    self._writes[name] = self._writes.get(name, 0) + 1
                    self._writing[name] = self._writing.get(name, 0) + 1
                    break
            gate.wait()  # its shard is being copied for an index build: a moment
        try:
            yield shard
        except BaseException:
            with self._lock:
                journal = self._journals.get(name)
                if journal is not None:  # perhaps applied in part: the copy cannot follow
                    journal.spoil("a write failed meanwhile")
            raise
        finally:
            with self._lock:
                self._writing[name] -= 1

    def _written(self, name: str, op: Any, points: int = 0, ids: int = 0) -> None:
        """``op`` was applied to the serving shard: the index build under way replays it."""
        with self._lock:
            self._churn[name] = self._churn.get(name, 0) + points + ids
            journal = self._journals.get(name)
            if journal is not None:
                journal.add(op, points, ids)

    def _serve(self, name: str, shard: Any, shard_dir: str) -> None:
        """Hand out ``shard`` (in ``shard_dir``) for ``name`` from now on; meta.json names it
        already (written just before, under the lock)."""
        self._shards[name], self._shard_dirs[name] = shard, shard_dir
        self._stamps[name] = self._stamp(name) or (0, 0)
        self._churn[name] = 0

    def _retire(self, name: str) -> None:
        """Stop handing out a replaced shard; close it a little later (calls may still use it)."""
        shard = self._shards.pop(name, None)
        shard_dir = self._shard_dirs.pop(name, None)
        self._stamps.pop(name, None)
        if shard is not None and shard_dir is not None:
            self._retired.append((time.monotonic(), shard, self._dir(name) / shard_dir))

    def _reap(self, force: bool = False) -> None:
        now = time.monotonic()
        keep = []
        for when, shard, path in self._retired:
            if not force and now - when < RETIRE_S:
                keep.append((when, shard, path))
                continue
            with contextlib.suppress(Exception):
                shard.close()
            if not self._named(path):
                _remove_if_free(path)
        self._retired = keep

    def _named(self, path: Path) -> bool:
        """Whether meta.json still names this shard directory (serving or being built)."""
        raw = self._read_meta(path.parent.name) if (path.parent / "meta.json").exists() else None
        if raw is None:
            return False
        return path.name in _named_dirs(raw)

    def _sweep(self, base: str, raw: dict[str, Any]) -> None:
        """Remove shard directories meta.json does not name, when no process holds them."""
        directory = self._dir(base)
        keep = _named_dirs(raw)
        held = set(self._shard_dirs.values())
        for path in [p for p in directory.iterdir() if p.is_dir()]:
            if path.name in keep or path.name in held or not path.name.startswith(SHARD_DIR):
                continue
            with contextlib.suppress(OSError):
                if time.time() - path.stat().st_mtime < SWEEP_AGE_S:
                    continue  # perhaps another process is creating it right now
            _remove_if_free(path)

    def _open(self, name: str, path: Path, config: Any = None) -> Any:
        from qdrant_edge import EdgeShard

        try:
            if config is not None:
                return EdgeShard.create(str(path), config)
            return EdgeShard.load(str(path))
        except Exception as exc:
            text = str(exc)
            if "WouldBlock" in text or "lock" in text.lower():
                raise StoreBusyError(
                    f"collection {name!r} is open in another process (the embedded store lets one "
                    "process use a collection at a time): close the other roocode-tui, or use a "
                    'Qdrant server ([store] backend = "qdrant")'
                ) from None
            raise StoreError(f"collection {name!r}: cannot open {path}: {text}") from None

    async def _call(self, fn: Any, *args: Any) -> Any:
        return await asyncio.to_thread(self._shared_call, fn, *args)

    def _shared_call(self, fn: Any, *args: Any) -> Any:
        with self._maps.shared():
            return fn(*args)

    # -- collections -------------------------------------------------------------------------
    async def list_collections(self) -> list[str]:
        def scan() -> list[str]:
            if not self.root.is_dir():
                return []
            return sorted(p.name for p in self.root.iterdir() if (p / "meta.json").is_file())

        return await self._call(scan)

    async def get_meta(self, name: str) -> CollectionMeta | None:
        base, staged = _split(name)
        raw = await self._call(self._read_meta, base)
        if raw is not None and staged:
            raw = (raw.get("building") or {}).get("meta")
        return CollectionMeta.from_json(raw) if raw is not None else None

    async def save_meta(self, meta: CollectionMeta) -> None:
        base, staged = _split(meta.name)

        def save() -> None:
            with self._lock:
                raw = self._read_meta(base) or {}
                if staged:
                    building = raw.get("building")
                    if not building:
                        raise CollectionNotFoundError(f"collection {base!r} has no rebuild under way")
                    building["meta"] = meta.to_json()
                else:
                    raw.update(meta.to_json())
                self._write_meta(base, raw)

        await self._call(save)

    async def create_collection(self, meta: CollectionMeta) -> None:
        def create() -> None:
            if self._read_meta(meta.name) is not None:
                raise StoreError(f"collection {meta.name!r} already exists")
            shard, shard_name = self._new_shard(meta)
            with self._lock:
                # The collection exists once meta.json names its shard.
                self._write_meta(meta.name, {**meta.to_json(), "shard": shard_name})
                self._serve(meta.name, shard, shard_name)

        await self._call(create)

    def _new_shard(self, meta: CollectionMeta) -> tuple[Any, str]:
        """A new empty shard directory in the collection's directory (not yet named by meta.json)."""
        from qdrant_edge import (
            Distance,
            EdgeConfig,
            EdgeSparseVectorParams,
            EdgeVectorParams,
            KeywordIndexParams,
            Modifier,
            PayloadSchemaType,
            UpdateOperation,
            VectorStorageDatatype,
        )

        directory = self._dir(meta.name)
        shard_name = f"{SHARD_DIR}-{uuid.uuid4().hex[:8]}"
        sparse = {SPARSE: EdgeSparseVectorParams(modifier=Modifier.Idf)} if meta.hybrid else None
        config = EdgeConfig(
            vectors={
                DENSE: EdgeVectorParams(
                    size=meta.dimension,
                    distance=Distance.Cosine,
                    datatype=VectorStorageDatatype.Float16
                    if self.vector_datatype == "float16"
                    else VectorStorageDatatype.Float32,
                    # Read through the page cache as searches touch them. In memory (Qdrant's
                    # default) a shard that opens reads every vector file whole, the empty
                    # 32 MB of a segment still being filled too (measured: 32 MB resident for
                    # 500 points), and an engine that re-opens shards after each index build
                    # would carry that for every collection.
                    on_disk=True,
                )
            },
            sparse_vectors=sparse,
        )
        directory.mkdir(parents=True, exist_ok=True)
        shard = self._open(meta.name, directory / shard_name, config)
        for field in KEYWORD_FIELDS:
            params = KeywordIndexParams(prefix=True) if field == "path" else PayloadSchemaType.Keyword
            shard.update(UpdateOperation.create_field_index(field, params))
        shard.flush()
        return shard, shard_name

    # -- rebuild -----------------------------------------------------------------------------
    async def begin_rebuild(self, meta: CollectionMeta) -> str:
        base = meta.name
        staging = base + STAGING

        def begin() -> str:
            with self._lock:
                raw = self._read_meta(base)
                if raw is None:
                    raise CollectionNotFoundError(f"collection {base!r} does not exist in {self.root}")
                building = raw.get("building")
                if building:
                    old = CollectionMeta.from_json(building.get("meta") or {})
                    if same_build(old, meta):
                        return staging  # an unfinished rebuild: carry on where it stopped
                    self._drop_staging(base, raw)
                    raw = self._read_meta(base) or raw
                staged = dataclasses.replace(meta, name=staging, staging_for=base, last_run={}, last_indexed_at=None)
                shard, shard_name = self._new_shard(staged)
                self._shards[staging], self._shard_dirs[staging] = shard, shard_name
                raw["building"] = {"shard": shard_name, "meta": staged.to_json()}
                self._write_meta(base, raw)
                return staging

        return await self._call(begin)

    async def finish_rebuild(self, name: str, staging: str) -> None:
        def finish() -> None:
            with self._lock:
                raw = self._read_meta(name)
                building = (raw or {}).get("building")
                if raw is None or not building or _split(staging) != (name, True):
                    raise StoreError(f"collection {name!r} has no rebuild to finish")
                shard = self._shards.get(staging)
                if shard is not None:
                    shard.flush()
                meta = CollectionMeta.from_json(building["meta"])
                meta = dataclasses.replace(meta, name=name, staging_for=None)
                old_dir = self._dir(name) / str(raw.get("shard", SHARD_DIR))
                self._write_meta(name, {**meta.to_json(), "shard": building["shard"]})  # the switch
                if name in self._shards:
                    self._retire(name)
                if shard is not None:
                    self._serve(name, self._shards.pop(staging), self._shard_dirs.pop(staging))
                if not any(p == old_dir for _, _, p in self._retired):
                    _remove_if_free(old_dir)  # else removed when this process lets go of it

        await self._call(finish)

    async def abort_rebuild(self, name: str) -> bool:
        def abort() -> bool:
            with self._lock:
                raw = self._read_meta(name)
                if raw is None or not raw.get("building"):
                    return False
                self._drop_staging(name, raw)
                return True

        return await self._call(abort)

    def _drop_staging(self, name: str, raw: dict[str, Any]) -> None:
        building = raw.pop("building")
        self._write_meta(name, raw)  # first forget it, then remove it
        shard = self._shards.pop(name + STAGING, None)
        self._shard_dirs.pop(name + STAGING, None)
        if shard is not None:
            shard.close()
        _remove_if_free(self._dir(name) / str(building.get("shard")))

    async def optimize(self, name: str) -> bool:
        """The engine builds HNSW only when asked: until then a search scans every vector."""

        def run() -> bool:
            with self._writer(name) as shard:
                with self._lock:
                    journal = self._journals.get(name)
                    if journal is not None:  # it rewrites the segments: the copy's build is moot
                        journal.spoil("the collection was optimized meanwhile")
                done = bool(shard.optimize())
            if done:
                with self._lock:
                    self._churn[name] = 0  # compacted
            return done

        return await self._call(run)

    async def search_index(self, name: str) -> dict[str, Any] | None:
        """How a search finds neighbours: "indexed" (HNSW, plus a scan of a remainder too small
        to index), or "full scan" of ``unindexed`` points (as an index run leaves a collection)."""
        from qdrant_edge import CountRequest, Filter, HasVectorCondition

        def look() -> dict[str, Any] | None:
            if _split(name)[1]:
                return None  # a rebuild's staging shard: indexed once it serves
            shard = self._shard(name)
            info = shard.info()
            raw = self._read_meta(name) or {}
            keyword = 0
            if raw.get("hybrid"):  # the engine counts keyword vectors among the indexed ones
                flt = Filter(must=[HasVectorCondition(SPARSE)])
                keyword = int(shard.count(CountRequest(filter=flt, exact=True)))
            unindexed = max(0, int(info.points_count) - max(0, int(info.indexed_vectors_count) - keyword))
            dimension = int(raw.get("dimension") or 1)
            width = _vector_bytes(self._dir(name) / self._shard_dirs.get(name, SHARD_DIR))
            threshold = INDEXING_THRESHOLD_KB * 1024 // max(1, dimension * width)
            state = "full scan" if unindexed >= threshold else "indexed"
            return {"state": state, "points": int(info.points_count), "unindexed": unindexed}

        return await self._call(look)

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

        with self._maps.alone():  # no store call unmaps a file meanwhile (see _MapGate)
            return release_mapped_pages(str(self.root) + os.sep, os.sep)

    def churn(self, name: str) -> int:
        """Points written or deleted in ``name`` since its shard was opened or built: the
        replaced and deleted ones stay in its segments (on disk and in memory) until a build
        compacts them."""
        with self._lock:
            return self._churn.get(name, 0)

    async def begin_index_build(self, name: str) -> IndexBuild | None:
        """Copy the serving shard for a search-index build in another process (Qdrant Edge's
        optimize holds the interpreter for its whole run, so it cannot run beside searches in
        this one). Writes wait while the shard is copied (a second or two at 100k points);
        from then on they are kept in the build's journal and replayed on the copy when it is
        done. None when the collection is being rebuilt or a write is under way: try later."""
        from qdrant_edge import CountRequest

        def begin() -> IndexBuild | None:
            with self._lock:
                raw = self._read_meta(name)
                if raw is None:
                    raise CollectionNotFoundError(f"collection {name!r} does not exist in {self.root}")
                if raw.get("building") or self._writing.get(name) or name in self._journals:
                    return None
                shard = self._shard(name)
                shard.flush()
                source, writes = self._shard_dirs[name], self._writes.get(name, 0)
                points = int(shard.count(CountRequest(exact=True)))
                gate = self._gates[name] = threading.Event()  # writes wait for the copy
            target = self._dir(name) / f"{SHARD_DIR}-{uuid.uuid4().hex[:8]}"
            try:
                # Plain copies (fresh mtimes): another process's sweep sees a new directory.
                shutil.copytree(self._dir(name) / source, target, copy_function=shutil.copyfile)
            except OSError as exc:
                shutil.rmtree(target, ignore_errors=True)
                with self._lock:
                    del self._gates[name]
                    gate.set()
                raise StoreError(f"collection {name!r}: cannot copy its shard for an index build: {exc}") from None
            with self._lock:
                del self._gates[name]
                gate.set()
                if self._writes.get(name, 0) != writes or self._shards.get(name) is not shard:
                    shutil.rmtree(target, ignore_errors=True)  # switched or written meanwhile
                    return None
                build = IndexBuild(name, source, target, shard, points)
                self._journals[name] = build.journal
            return build

        return await self._call(begin)

    async def finish_index_build(self, build: IndexBuild) -> bool:
        """Serve the built copy in place of the shard it was copied from, once the writes made
        meanwhile are replayed on it; False (the copy dropped) when that shard was replaced or
        the journal could not keep up."""
        from qdrant_edge import EdgeShard, Query, QueryRequest

        def finish() -> bool:
            name = build.name
            try:
                new = EdgeShard.load(str(build.target))
                dimension = int((self._read_meta(name) or {}).get("dimension") or 0)
                for _ in range(3):  # fault its graph in before searches meet it
                    new.query(QueryRequest(limit=10, query=Query.Nearest([1.0] * dimension, using=DENSE)))
            except Exception as exc:
                self._drop_journal(build)
                shutil.rmtree(build.target, ignore_errors=True)
                raise StoreError(f"collection {name!r}: the built index does not open: {exc}") from None
            ok = False
            try:
                while True:
                    with self._lock:
                        journal = build.journal
                        if journal.spoiled:
                            LOG.info("collection %s: index build dropped: %s", name, journal.spoiled)
                            break
                        if journal.ops:  # replayed outside the lock: writes go on meanwhile
                            ops, journal.ops = journal.ops, []
                        elif not self._writing.get(name):
                            ok = self._switch(build, new)
                            break
                        else:
                            ops = []
                    for op in ops:
                        new.update(op)
                    if not ops:
                        time.sleep(0.005)  # a write is under way: it lands in the journal
            except Exception as exc:
                raise StoreError(f"collection {name!r}: the writes made during its index build: {exc}") from None
            finally:
                self._drop_journal(build)
                if not ok:
                    new.close()
                    _remove_if_free(build.target)
            return ok

        return await self._call(finish)

    def _switch(self, build: IndexBuild, new: Any) -> bool:
        """Under the lock, every journalled write replayed: serve ``new`` if still valid."""
        name = build.name
        raw = self._read_meta(name)
        ok = (
            raw is not None
            and not raw.get("building")
            and str(raw.get("shard", SHARD_DIR)) == build.source
            and self._shards.get(name) is build.shard
            and not build.journal.spoiled
        )
        if ok:
            assert raw is not None
            new.flush()
            self._write_meta(name, {**raw, "shard": build.target.name})  # the switch
            self._retire(name)  # closed and removed once the calls using it are done
            self._serve(name, new, build.target.name)
        return ok

    def _drop_journal(self, build: IndexBuild) -> None:
        with self._lock:
            if self._journals.get(build.name) is build.journal:
                del self._journals[build.name]
            build.journal.spoil("the build is over")

    async def abort_index_build(self, build: IndexBuild) -> None:
        def abort() -> None:
            self._drop_journal(build)
            _remove_if_free(build.target)

        await self._call(abort)

    async def tidy(self) -> None:
        """Close and remove replaced shards whose grace time (RETIRE_S) is over."""

        def reap() -> None:
            with self._lock:
                self._reap()

        await self._call(reap)

    async def release(self, name: str) -> None:
        def release() -> None:
            with self._lock:
                self._retire(name)  # closed shortly, once calls still using it are done

        await self._call(release)

    async def staging_of(self, name: str) -> str | None:
        raw = await self._call(self._read_meta, name)
        return name + STAGING if raw is not None and raw.get("building") else None

    async def delete_collection(self, name: str) -> bool:
        def delete() -> bool:
            directory = self._dir(name)
            if not directory.exists():
                return False
            with self._lock:
                shard = self._shards.pop(name, None)
                staged = self._shards.pop(name + STAGING, None)
                for key in (name, name + STAGING):
                    self._shard_dirs.pop(key, None)
                    self._stamps.pop(key, None)
                self._reap(force=True)
            if staged is not None:
                staged.close()
            if shard is None and (directory / "meta.json").exists():
                # Make sure no other process has it open before removing anything.
                raw = self._read_meta(name) or {}
                shard = self._open(name, directory / raw.get("shard", SHARD_DIR))
            if shard is not None:
                shard.close()
            # Remove meta first: a crash halfway leaves no half-collection that looks whole.
            (directory / "meta.json").unlink(missing_ok=True)
            shutil.rmtree(directory, ignore_errors=True)
            return True

        return await self._call(delete)

    async def count(self, name: str) -> int:
        from qdrant_edge import CountRequest

        def count() -> int:
            return int(self._shard(name).count(CountRequest(exact=True)))

        return await self._call(count)

    # -- points ------------------------------------------------------------------------------
    async def upsert(self, name: str, points: list[PointRecord]) -> None:
        if not points:
            return
        from qdrant_edge import Point, SparseVector, UpdateOperation

        def vectors(p: PointRecord) -> dict[str, Any]:
            out: dict[str, Any] = {DENSE: p.vector.tolist()}
            if p.sparse is not None and p.sparse[0]:
                out[SPARSE] = SparseVector(indices=p.sparse[0], values=p.sparse[1])
            return out

        def upsert() -> None:
            batch = [Point(id=p.id, vector=vectors(p), payload=p.payload) for p in points]
            op = UpdateOperation.upsert_points(batch)
            with self._writer(name) as shard:
                shard.update(op)
                self._written(name, op, points=len(batch))

        await self._call(upsert)
        self._unreleased += len(points)
        if self._unreleased >= RELEASE_POINTS:
            self._unreleased = 0
            await asyncio.to_thread(self.release_pages)

    async def delete_ids(self, name: str, ids: list[str]) -> None:
        if not ids:
            return
        from qdrant_edge import UpdateOperation

        def delete() -> None:
            op = UpdateOperation.delete_points(list(ids))
            with self._writer(name) as shard:
                shard.update(op)
                self._written(name, op, ids=len(ids))

        await self._call(delete)

    async def set_payload(self, name: str, ids: list[str], payload: dict[str, Any]) -> None:
        if not ids:
            return
        from qdrant_edge import UpdateOperation

        def update() -> None:
            op = UpdateOperation.set_payload(list(ids), payload)
            with self._writer(name) as shard:
                shard.update(op)
                self._written(name, op, ids=len(ids))

        await self._call(update)

    async def file_states(
        self, name: str, roots: list[str], under: list[str] | None = None
    ) -> dict[tuple[str, str], FileState]:
        from qdrant_edge import FieldCondition, Filter, MatchAny, MatchPrefix, ScrollRequest

        must = [FieldCondition(key="root", match=MatchAny(list(roots)))] if roots else []
        should = None
        if under is not None:  # the paths themselves, and what lies below them
            should = [FieldCondition(key="path", match=MatchAny(list(under) or ["\x00"]))]
            should += [FieldCondition(key="path", match=MatchPrefix(u + "/")) for u in under]
        flt = Filter(must=must or None, should=should) if must or should else None

        def scan() -> dict[tuple[str, str], FileState]:
            shard = self._shard(name)
            states: dict[tuple[str, str], FileState] = {}
            offset = None
            while True:
                records, offset = shard.scroll(
                    ScrollRequest(offset=offset, limit=SCROLL_PAGE, filter=flt, with_payload=STATE_FIELDS)
                )
                for rec in records:
                    accumulate_state(states, rec.id, rec.payload or {})
                if offset is None:
                    return states

        return await self._call(scan)

    async def get_vectors(self, name: str, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}

        def fetch() -> dict[str, np.ndarray]:
            records = self._shard(name).retrieve(list(ids), with_payload=False, with_vector=[DENSE])
            return {str(rec.id): vec for rec in records if (vec := dense_of(rec.vector)) is not None}

        return await self._call(fetch)

    async def scroll(
        self, name: str, offset: Any = None, limit: int = 256, *, with_vectors: bool = False
    ) -> tuple[list[PointRecord], Any]:
        from qdrant_edge import ScrollRequest

        def page() -> tuple[list[PointRecord], Any]:
            records, nxt = self._shard(name).scroll(
                ScrollRequest(offset=offset, limit=limit, with_payload=True, with_vector=bool(with_vectors))
            )
            return [PointRecord.from_record(rec.id, rec.payload, rec.vector) for rec in records], nxt

        return await self._call(page)

    async def defines_any(self, name: str, symbols: list[str]) -> bool:
        if not symbols:
            return False
        from qdrant_edge import CountRequest, FieldCondition, Filter, MatchAny

        def count() -> int:
            flt = Filter(must=[FieldCondition(key="symbol", match=MatchAny(list(symbols)))])
            return int(self._shard(name).count(CountRequest(filter=flt, exact=True)))

        return await self._call(count) > 0

    async def distinct_paths(self, name: str) -> list[str]:
        from qdrant_edge import FacetRequest

        def facet() -> list[str]:
            resp = self._shard(name).facet(FacetRequest(key="path", limit=1_000_000, exact=True))
            return sorted(str(h.value) for h in resp)

        return await self._call(facet)

    async def search_lane(self, name: str, lane: Lane) -> list[Hit]:
        return (await self.search_lanes(name, [lane]))[0]

    async def search_lanes(self, name: str, lanes: Sequence[Lane]) -> list[list[Hit]]:
        """The lanes one after another in one call into the store: Qdrant Edge holds the
        interpreter while it searches, so lanes on threads of their own only wait for each other."""
        from roocode_tui.core.stores.order import stable_top

        def query() -> list[list[Hit]]:
            shard = self._shard(name)
            out: list[list[Hit]] = []
            for lane in lanes:
                q = _dense_query(lane.vector) if lane.vector is not None else _sparse_query(lane.sparse)
                out.append(stable_top(_fetcher(shard, q, _edge_filter(lane.flt)), lane.limit))
            return out

        return await self._call(query)

    async def close(self) -> None:
        await self._call(self.close_sync)

    def close_sync(self) -> None:
        with self._lock:
            shards, self._shards = self._shards, {}
            self._shard_dirs.clear()
            self._stamps.clear()
            self._reap(force=True)
        for shard in shards.values():
            try:
                shard.flush()
            finally:
                shard.close()

    async def archive(self, name: str, write: Any) -> Any:
        """Flush collection ``name`` and run ``write(shard_dir, meta, points)`` while holding it.

        The engine's lock keeps other processes out of the shard, and this store's lock keeps
        this process's calls from starting on it until ``write`` returns: the files do not change.
        """
        from qdrant_edge import CountRequest

        def run() -> Any:
            shard = self._shard(name)
            with self._lock:
                shard.flush()
                raw = self._read_meta(name) or {}
                points = int(shard.count(CountRequest(exact=True)))
                return write(self._dir(name) / str(raw.get("shard", SHARD_DIR)), raw, points)

        return await self._call(run)


def _dense_query(vector: np.ndarray | None) -> Any:
    from qdrant_edge import Query

    return Query.Nearest(vector.astype(np.float32).tolist(), using=DENSE) if vector is not None else None


def _sparse_query(sparse: tuple[list[int], list[float]] | None) -> Any:
    from qdrant_edge import Query, SparseVector

    return Query.Nearest(SparseVector(indices=sparse[0], values=sparse[1]), using=SPARSE) if sparse else None


def _fetcher(shard: Any, q: Any, edge_filter: Any) -> Callable[[int], list[Hit]]:
    """A shard's top n for one query, as hits (what :func:`stable_top` asks for)."""
    from qdrant_edge import QueryRequest

    def fetch(n: int) -> list[Hit]:
        request = QueryRequest(limit=n, query=q, filter=edge_filter, with_payload=True, with_vector=None)
        return [Hit.from_payload(p.id, p.score, p.payload or {}, None) for p in shard.query(request)]

    return fetch


def _edge_filter(flt: SearchFilter | None) -> Any:
    if flt is None:
        return None
    from qdrant_edge import FieldCondition, Filter, MatchAny, MatchPrefix, MatchValue

    must: list[Any] = []
    if flt.root:
        must.append(FieldCondition(key="root", match=MatchValue(flt.root)))
    if flt.path_prefix:
        must.append(FieldCondition(key="path", match=MatchPrefix(flt.path_prefix)))
    if flt.paths is not None:
        must.append(FieldCondition(key="path", match=MatchAny(list(flt.paths) or ["\x00"])))
    if flt.languages:
        must.append(FieldCondition(key="language", match=MatchAny(list(flt.languages))))
    if flt.symbols is not None:
        must.append(FieldCondition(key="symbol", match=MatchAny(list(flt.symbols) or ["\x00"])))
    return Filter(must=must) if must else None
