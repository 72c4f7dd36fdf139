"""Background search-index builds of the embedded store: a copy of the serving shard is
indexed in another process (``core/stores/edge_build.py``) while the writes made meanwhile
are kept in a journal and replayed on the copy before it serves in the original's place."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from roocode_tui.core.errors import CollectionNotFoundError, StoreError
from roocode_tui.core.memory import release_mapped_pages
from roocode_tui.core.stores.base import DENSE
from roocode_tui.core.stores.edge.layout import SHARD_DIR, Layout, copy_shard, remove_if_free
from roocode_tui.core.stores.edge.shards import Shards

LOG = logging.getLogger("roocode_tui.store")
#: Writes made while a search-index build works on a copy are kept (a journal) and replayed on
#: the built copy before it serves. Past this many points written meanwhile the journal is
#: dropped, and with it the copy (a run that big is better followed by a build of its own).
JOURNAL_POINTS = 4096
JOURNAL_IDS = 65_536  # ids deleted or given a payload meanwhile
#: A streamed build's shard keeps its pieces as separate segments: Edge's merge optimizer would
#: otherwise join them into one, as big as the collection, which is what the pieces avoid.
MAX_SEGMENTS = 1024


@dataclasses.dataclass
class IndexBuild:
    """A search-index build under way on a copy of a collection's serving shard."""

    name: str
    source: str  # the shard directory copied
    target: Path  # the copy the build works on
    shard: Any  # the open shard that was copied: the switch needs it to be still the one in use
    points: int
    journal: Journal = dataclasses.field(default_factory=lambda: Journal())
    piece: int = 0  # stream: points per segment built (0: a copy, optimized whole)

    @property
    def streamed(self) -> bool:
        return self.piece > 0


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


def on_disk(index: Any) -> Any:
    """A keyword field index like ``index`` (Edge's PayloadIndexInfo), kept in its files and
    read through the page cache rather than loaded whole: a built segment's keyword indexes
    would otherwise hold ~1 KB of memory a point, in the build process and the engine alike."""
    from qdrant_edge import KeywordIndexParams, Memory, PayloadSchemaType

    if index.data_type != PayloadSchemaType.Keyword:
        return index.params or index.data_type
    prefix = bool(getattr(index.params, "prefix", False)) if index.params is not None else False
    return KeywordIndexParams(prefix=prefix or None, memory=Memory.Cold)


class Builds:
    """The writes to each collection (counted, and journalled while its copy is built) and
    the index builds under way. Its methods block: the store runs them in worker threads."""

    def __init__(self, layout: Layout, shards: Shards) -> None:
        self.layout = layout
        self.shards = shards
        self.lock = shards.lock
        self.writes: dict[str, int] = {}  # name -> writes started (a copy is usable while it holds)
        self.writing: dict[str, int] = {}  # name -> writes in progress
        self.journals: dict[str, Journal] = {}  # name -> the writes its index build must replay
        self.gates: dict[str, threading.Event] = {}  # name -> set when its shard's copy is made

    @contextlib.contextmanager
    def writer(self, name: str) -> Iterator[Any]:
        """The shard to write, counted: a copy made for a search-index build is usable only if
        no write ran while it was copied, and switches in only when none is in progress."""
        while True:
            with self.lock:
                gate = self.gates.get(name)
                if gate is None:
                    shard = self.shards.current(name)
                    self.writes[name] = self.writes.get(name, 0) + 1
                    self.writing[name] = self.writing.get(name, 0) + 1
                    break
            gate.wait()  # its shard is being copied for an index build: a moment
        try:
            yield shard
        except BaseException:
            # perhaps applied in part: the copy cannot follow
            self.spoil(name, "a write failed meanwhile")
            raise
        finally:
            with self.lock:
                self.writing[name] -= 1

    def written(self, name: str, op: Any, points: int = 0, ids: int = 0) -> None:
        """``op`` was applied to the serving shard: the index build under way replays it."""
        with self.lock:
            self.shards.churn[name] = self.shards.churn.get(name, 0) + points + ids
            journal = self.journals.get(name)
            if journal is not None:
                journal.add(op, points, ids)

    def spoil(self, name: str, why: str) -> None:
        """The index build under way for ``name`` (if any) can no longer be brought up to date."""
        with self.lock:
            journal = self.journals.get(name)
            if journal is not None:
                journal.spoil(why)

    def begin(self, name: str, piece: int = 0) -> IndexBuild | None:
        """Copy ``name``'s serving shard for an index build, or with ``piece`` make the empty
        shard its points will be streamed to (``EdgeStore.begin_index_build``)."""
        from qdrant_edge import CountRequest

        with self.lock:
            raw = self.layout.read_meta(name)
            if raw is None:
                raise CollectionNotFoundError(f"collection {name!r} does not exist in {self.layout.root}")
            if raw.get("building") or self.writing.get(name) or name in self.journals:
                return None
            shard = self.shards.current(name)
            if piece > 0:
                return self._begin_stream(name, raw, shard, piece)
            shard.flush()
            source, writes = self.shards.dirs[name], self.writes.get(name, 0)
            points = int(shard.count(CountRequest(exact=True)))
            gate = self.gates[name] = threading.Event()  # writes wait for the copy
        target = self.layout.dir(name) / f"{SHARD_DIR}-{uuid.uuid4().hex[:8]}"
        try:
            copy_shard(self.layout.dir(name) / source, target)
        except OSError as exc:
            shutil.rmtree(target, ignore_errors=True)
            with self.lock:
                del self.gates[name]
                gate.set()
            raise StoreError(f"collection {name!r}: cannot copy its shard for an index build: {exc}") from None
        with self.lock:
            del self.gates[name]
            gate.set()
            if self.writes.get(name, 0) != writes or self.shards.open.get(name) is not shard:
                shutil.rmtree(target, ignore_errors=True)  # switched or written meanwhile
                return None
            build = IndexBuild(name, source, target, shard, points)
            self.journals[name] = build.journal
        return build

    def _begin_stream(self, name: str, raw: dict[str, Any], shard: Any, piece: int) -> IndexBuild:
        """Under the lock: an empty shard like ``shard`` (same vectors, same field indexes), and
        the journal started before the first page is read, so every write made while the points
        are streamed is replayed on the built shard (a write is a whole point or a payload
        assignment: replaying it on a point read after it was made changes nothing)."""
        from qdrant_edge import CountRequest, EdgeOptimizersConfig

        from roocode_tui.core.stores.base import CollectionMeta
        from roocode_tui.core.stores.edge.shards import new_shard

        source = self.shards.dirs[name]
        directory = self.layout.dir(name)
        meta = CollectionMeta.from_json(raw)
        width = self.shards.vector_bytes(name)
        datatype = "float16" if width == 2 else "float32"
        fields = {k: on_disk(v) for k, v in (shard.info().payload_schema or {}).items()}
        optimizers = EdgeOptimizersConfig(
            # the pieces stay as built: a merge would build a segment of the whole collection
            default_segment_number=MAX_SEGMENTS,
            max_segment_size=max(1, piece * meta.dimension * width // 1024),
        )
        try:
            new, target_name = new_shard(directory, meta, datatype, fields=fields, optimizers=optimizers, cold=True)
            new.close()  # the build process opens it
        except (OSError, StoreError) as exc:
            raise StoreError(f"collection {name!r}: cannot make a shard for an index build: {exc}") from None
        points = int(shard.count(CountRequest(exact=True)))
        build = IndexBuild(name, source, directory / target_name, shard, points, piece=piece)
        self.journals[name] = build.journal
        return build

    def page(self, build: IndexBuild, offset: Any, limit: int) -> tuple[bytes, Any, int]:
        """The next ``limit`` points of the shard a stream build reads, pickled for the build
        process (``edge_build.stream``), the offset after them, and how many there were."""
        import array
        import pickle
        import uuid as uuidlib

        from qdrant_edge import ScrollRequest

        with self.lock:
            if self.shards.open.get(build.name) is not build.shard or build.journal.spoiled:
                raise StoreError(f"collection {build.name!r} was replaced during its index build")
        records, nxt = build.shard.scroll(
            ScrollRequest(offset=offset, limit=limit, with_payload=True, with_vector=True)
        )
        rows = []
        for rec in records:
            vectors = {}
            for key, value in (rec.vector or {}).items():
                if isinstance(value, list):
                    vectors[key] = array.array("f", value).tobytes()
                else:
                    vectors[key] = (value.indices, value.values)
            pid = str(rec.id) if isinstance(rec.id, uuidlib.UUID) else rec.id
            rows.append((pid, vectors, rec.payload))
        return pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL), nxt, len(rows)

    def finish(self, build: IndexBuild) -> bool:
        """Serve the built copy once the journal is replayed (``EdgeStore.finish_index_build``)."""
        from qdrant_edge import EdgeShard

        name = build.name
        try:
            new = EdgeShard.load(str(build.target))
            # Opening it read its write-ahead log (the last pieces' points, ~100 MB mapped at
            # 129k points) while the shard it replaces is still open: let those pages go now,
            # not after the switch. No other call can reach this shard's mappings yet, so the
            # MapGate is not needed. Its first search (~0.4 s at 129k points) is paid once the
            # replaced shard is closed (``warm``), not here where the two would add up.
            release_mapped_pages(str(build.target) + os.sep, os.sep)
        except Exception as exc:
            self.drop_journal(build)
            shutil.rmtree(build.target, ignore_errors=True)
            raise StoreError(f"collection {name!r}: the built index does not open: {exc}") from None
        ok = False
        try:
            while True:
                with self.lock:
                    journal = build.journal
                    if journal.spoiled:
                        LOG.info("collection %s: index build dropped: %s", name, journal.spoiled)
                        break
                    if journal.ops:  # replayed outside the lock: writes go on meanwhile
                        ops, journal.ops = journal.ops, []
                    elif not self.writing.get(name):
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
            self.drop_journal(build)
            if not ok:
                new.close()
                remove_if_free(build.target)
        return ok

    def _switch(self, build: IndexBuild, new: Any) -> bool:
        """Under the lock, every journalled write replayed: serve ``new`` if still valid."""
        name = build.name
        raw = self.layout.read_meta(name)
        ok = (
            raw is not None
            and not raw.get("building")
            and str(raw.get("shard", SHARD_DIR)) == build.source
            and self.shards.open.get(name) is build.shard
            and not build.journal.spoiled
        )
        if ok:
            assert raw is not None
            new.flush()
            self.layout.write_meta(name, {**raw, "shard": build.target.name})  # the switch
            self.shards.retire(name)  # closed and removed once the calls using it are done
            self.shards.serve(name, new, build.target.name)
        return ok

    def warm(self, name: str) -> None:
        """One search on ``name``'s shard: a shard just opened pays for its first (Qdrant Edge
        loads what its segments keep for searching: ~0.4 s at 129k points, then ~10 ms)."""
        from qdrant_edge import Query, QueryRequest

        dimension = int((self.layout.read_meta(name) or {}).get("dimension") or 0)
        if dimension:
            shard = self.shards.current(name)
            shard.query(QueryRequest(limit=10, query=Query.Nearest([1.0] * dimension, using=DENSE)))

    def drop_journal(self, build: IndexBuild) -> None:
        with self.lock:
            if self.journals.get(build.name) is build.journal:
                del self.journals[build.name]
            build.journal.spoil("the build is over")

    def abort(self, build: IndexBuild) -> None:
        self.drop_journal(build)
        remove_if_free(build.target)
