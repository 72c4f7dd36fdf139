"""The Qdrant Edge shards a process has open: opening and creating them, moving to the one
meta.json names, closing replaced ones a little later, and the gate that keeps store calls
out while the pages of their mapped files are let go."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from roocode_tui.core.errors import CollectionNotFoundError, StoreBusyError, StoreError
from roocode_tui.core.stores.base import DENSE, KEYWORD_FIELDS, SPARSE, CollectionMeta
from roocode_tui.core.stores.edge.layout import SHARD_DIR, STAGING, Layout, remove_if_free, split_name, vector_bytes

RETIRE_S = 2.0  # a replaced shard stays open this long for calls still using it


def open_shard(name: str, path: Path, config: Any = None) -> Any:
    """The shard in ``path`` (created with ``config`` when given) for collection ``name``."""
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


def new_shard(
    directory: Path,
    meta: CollectionMeta,
    vector_datatype: str,
    *,
    fields: dict[str, Any] | None = None,
    optimizers: Any = None,
    cold: bool = False,
) -> tuple[Any, str]:
    """A new empty shard directory in the collection's directory (not yet named by meta.json),
    with the keyword field indexes (``fields``: name -> Edge index params, default the
    store's own) and Edge optimizer settings (``optimizers``, default Edge's). ``cold``: the
    keyword (sparse) index of its built segments stays in its files, read through the page
    cache, instead of in memory."""
    from qdrant_edge import (
        Distance,
        EdgeConfig,
        EdgeSparseVectorParams,
        EdgeVectorParams,
        KeywordIndexParams,
        Memory,
        Modifier,
        PayloadSchemaType,
        UpdateOperation,
        VectorStorageDatatype,
    )

    shard_name = f"{SHARD_DIR}-{uuid.uuid4().hex[:8]}"
    memory = Memory.Cold if cold else None
    sparse = {SPARSE: EdgeSparseVectorParams(modifier=Modifier.Idf, memory=memory)} if meta.hybrid else None
    config = EdgeConfig(
        vectors={
            DENSE: EdgeVectorParams(
                size=meta.dimension,
                distance=Distance.Cosine,
                datatype=VectorStorageDatatype.Float16
                if vector_datatype == "float16"
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
        optimizers=optimizers,
    )
    directory.mkdir(parents=True, exist_ok=True)
    shard = open_shard(meta.name, directory / shard_name, config)
    if fields is None:
        fields = {
            f: KeywordIndexParams(prefix=True) if f == "path" else PayloadSchemaType.Keyword for f in KEYWORD_FIELDS
        }
    for field, params in fields.items():
        shard.update(UpdateOperation.create_field_index(field, params))
    shard.flush()
    return shard, shard_name


class MapGate:
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


class Shards:
    """The shards this process has open, by name (a rebuild's staging shard under its
    staging name), and the replaced ones it closes once their grace time is over.

    ``lock`` is the store's: it guards these and the index builds' bookkeeping alike."""

    def __init__(self, layout: Layout, lock: threading.RLock) -> None:
        self.layout = layout
        self.lock = lock
        self.open: dict[str, Any] = {}
        self.dirs: dict[str, str] = {}  # name -> the shard directory its open shard is
        self.stamps: dict[str, tuple[int, int]] = {}  # name -> meta.json (inode, mtime) when checked
        self.retired: list[tuple[float, Any, Path]] = []  # replaced shards: (when, shard, its dir)
        self.churn: dict[str, int] = {}  # name -> points written or deleted since its shard opened

    def current(self, name: str) -> Any:
        """The shard meta.json names for ``name``, opened (or moved to, after a switch) as needed."""
        base, staged = split_name(name)
        with self.lock:
            self.reap()
            shard = self.open.get(name)
            stamp = self.layout.stamp(base)
            if shard is not None and (staged or stamp == self.stamps.get(name)):
                return shard
            raw = self.layout.read_meta(base)
            if raw is None:
                if shard is not None:
                    self.retire(name)
                raise CollectionNotFoundError(f"collection {base!r} does not exist in {self.layout.root}")
            if staged:
                building = raw.get("building") or {}
                if "shard" not in building:
                    raise CollectionNotFoundError(f"collection {base!r} has no rebuild under way")
                shard_dir = str(building["shard"])
            else:
                shard_dir = str(raw.get("shard", SHARD_DIR))
            if shard is not None:
                if self.dirs.get(name) == shard_dir:
                    self.stamps[name] = stamp  # meta.json was rewritten, same shard
                    return shard
                self.retire(name)  # a rebuild (here or in another process) switched the collection
            first_open = not any(split_name(n)[0] == base for n in self.open)
            path = self.layout.dir(base) / shard_dir
            again = [r for r in self.retired if r[2] == path]  # let go of a moment ago: take it back
            if again:
                self.retired.remove(again[0])
                shard = again[0][1]
            else:
                shard = open_shard(base, path)
            self.open[name], self.dirs[name] = shard, shard_dir
            if stamp is not None:
                self.stamps[name] = stamp
            if first_open and not staged:
                self.layout.sweep(base, raw, set(self.dirs.values()))
            return shard

    def vector_bytes(self, name: str) -> int:
        """Bytes per dense vector component of ``name``'s open shard (2: float16, 4: float32)."""
        return vector_bytes(self.layout.dir(name) / self.dirs.get(name, SHARD_DIR))

    def serve(self, name: str, shard: Any, shard_dir: str) -> None:
        """Hand out ``shard`` (in ``shard_dir``) for ``name`` from now on; meta.json names it
        already (written just before, under the lock)."""
        self.open[name], self.dirs[name] = shard, shard_dir
        self.stamps[name] = self.layout.stamp(name) or (0, 0)
        self.churn[name] = 0

    def retire(self, name: str) -> None:
        """Stop handing out a replaced shard; close it a little later (calls may still use it)."""
        shard = self.open.pop(name, None)
        shard_dir = self.dirs.pop(name, None)
        self.stamps.pop(name, None)
        if shard is not None and shard_dir is not None:
            self.retired.append((time.monotonic(), shard, self.layout.dir(name) / shard_dir))

    def reap(self, force: bool = False) -> None:
        now = time.monotonic()
        keep = []
        for when, shard, path in self.retired:
            if not force and now - when < RETIRE_S:
                keep.append((when, shard, path))
                continue
            with contextlib.suppress(Exception):
                shard.close()
            if not self.layout.named(path):
                remove_if_free(path)
        self.retired = keep

    def forget(self, name: str) -> tuple[Any, Any]:
        """Stop handing out ``name``'s shard and its rebuild's, closing the replaced ones now:
        (its shard, its staging shard), each None when not open, for the caller to close."""
        with self.lock:
            shard = self.open.pop(name, None)
            staged = self.open.pop(name + STAGING, None)
            for key in (name, name + STAGING):
                self.dirs.pop(key, None)
                self.stamps.pop(key, None)
            self.reap(force=True)
        return shard, staged

    def close_all(self) -> None:
        with self.lock:
            shards, self.open = self.open, {}
            self.dirs.clear()
            self.stamps.clear()
            self.reap(force=True)
        for shard in shards.values():
            try:
                shard.flush()
            finally:
                shard.close()
