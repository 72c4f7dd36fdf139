"""Stages 1 and 2 of an index run, each a thread: the source walks the collection's roots (or
only the paths a watcher saw change) and the reader tells unchanged files from changed ones and
has the schema read and chunk what changed (``IndexSchema.examine``)."""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roocode_tui.core.errors import StoreError
from roocode_tui.core.files.discovery import FullWalkNeeded, Skip, SourceFile, Walker
from roocode_tui.core.stores.base import FileState

if TYPE_CHECKING:
    from roocode_tui.core.ingest.indexer import Indexer

PATH_QUEUE = 16  # source -> reader: batches of up to PATH_BATCH walked files
PATH_BATCH = 256

#: the end of the source's and the reader's output
DONE = object()


@dataclass
class Scope:
    """One root of a run and what of it the run looks at."""

    root: Path  # as given: a directory, or a single file
    name: str  # the root recorded in payloads (a single file's directory)
    walker: Walker
    only: list[str] | None = None  # None: all of it; else these relative paths and what is below them
    single: str | None = None  # a single file given as a path: its name

    def covers(self, path: str) -> bool:
        if self.single is not None:
            return path == self.single
        return self.only is None or any(path == o or path.startswith(o + "/") for o in self.only)

    def items(self) -> Iterator[SourceFile | Skip]:
        return iter(self.walker) if self.only is None else self.walker.changed(self.only)


class Found:
    """What the source and the reader saw that keeps stored points: files present (or
    unreadable for now), directories that could not be listed, roots that could not be opened."""

    def __init__(self, *, strict: bool = False) -> None:
        self.files: set[tuple[str, str]] = set()
        self.dirs: list[tuple[str, str]] = []
        self.roots: set[str] = set()
        #: only files seen keep points: the run's collection is a copy of another (ingest/seed.py),
        #: whose files under a directory this run cannot list are not this tree's to keep
        self.strict = strict

    def keeps(self, key: tuple[str, str]) -> bool:
        root, path = key
        if self.strict:
            return key in self.files
        return (
            key in self.files
            or root in self.roots
            or any(root == r and (d == "" or path.startswith(d + "/")) for r, d in self.dirs)
        )


def scopes_of(ix: Indexer) -> list[Scope]:
    """The run's roots, each with its walker and, in a run fed with changed paths, what of it to look at."""
    follow, rules = ix.schema.follow_symlinks, ix.schema.walk_rules
    out = []
    for root in ix.roots:
        walker = Walker(
            root,
            include=ix.include,
            exclude=ix.exclude,
            max_file_bytes=ix._max_bytes,
            follow_symlinks=follow,
            skip_dirs=ix.settings.skip_dirs,
            stop=ix._stop,
            rules=rules,
        )
        if root.is_file():  # a file given as a path is stored under its directory
            out.append(Scope(root, str(root.parent), walker, single=root.name))
            continue
        only = None
        if ix.changes is not None:
            only = walker.change_scope(ix.changes.get(str(root), []))
            if only == [""]:
                only = None
        out.append(Scope(root, str(root), walker, only=only))
    return out


# -- stage 1: the source thread ----------------------------------------------------------------
def source(ix: Indexer, scopes: list[Scope], out: queue.Queue[Any], found: Found) -> None:
    """Walk (or walk the changed paths of) each root; hand files and skips to the reader."""
    stop = ix._stop
    batch: list[Any] = []

    def put(msg: Any) -> bool:
        while not stop.is_set():
            try:
                out.put(msg, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    try:
        for sc in scopes:
            for item in sc.items():
                if stop.is_set():
                    return
                if isinstance(item, Skip):
                    if item.path == "":
                        found.roots.add(sc.name)
                        batch.append(("fail", (str(sc.root), item.reason)))
                    else:
                        if item.reason.startswith("cannot list"):
                            found.dirs.append((sc.name, item.path))
                        batch.append(("skip", item))
                else:
                    batch.append(("file", item))
                if len(batch) >= PATH_BATCH:
                    if not put(batch):
                        return
                    batch = []
    except FullWalkNeeded as exc:
        batch.append(("error", exc))
    except Exception as exc:  # a bug or an OS failure: end the run with a clear error
        batch.append(("error", StoreError(f"file discovery failed: {exc}")))
    if batch and not put(batch):
        return
    put(DONE)


# -- stage 2: the reader thread ----------------------------------------------------------------
def reader(
    ix: Indexer,
    inq: queue.Queue[Any],
    loop: asyncio.AbstractEventLoop,
    out: asyncio.Queue[Any],
    states: dict[tuple[str, str], FileState],
    found: Found,
) -> None:
    stop = ix._stop
    buffer: list[Any] = []
    last_send = time.monotonic()

    def send(msg: Any) -> bool:
        fut = asyncio.run_coroutine_threadsafe(out.put(msg), loop)
        while not stop.is_set():
            try:
                fut.result(timeout=0.1)
                return True
            except TimeoutError:
                continue
            except Exception:
                return False
        fut.cancel()
        return False

    def post(msg: Any) -> bool:
        """Buffer findings; hand them over in batches (a thread hop per file costs more
        than the work for an unchanged one). A file to embed goes out at once."""
        nonlocal last_send
        if msg is not DONE:
            buffer.append(msg)
            if msg[0] not in ("file", "error") and len(buffer) < 512 and time.monotonic() - last_send < 0.05:
                return True
        if buffer:
            batch = list(buffer)
            buffer.clear()
            last_send = time.monotonic()
            if not send(batch):
                return False
        return send(msg) if msg is DONE else True

    while not stop.is_set():
        try:
            batch = inq.get(timeout=0.1)
        except queue.Empty:
            continue
        if batch is DONE:
            post(DONE)
            return
        many = getattr(ix.schema, "examine_many", None)
        files = [obj for kind, obj in batch if kind == "file"] if many is not None else []
        for kind, obj in batch:
            if stop.is_set():
                return
            if kind == "file":
                if many is not None:
                    continue  # examined together below
                try:
                    msg = ix.schema.examine(ix, obj, str(obj.root), states, ix._max_bytes, found.files)
                except Exception as exc:  # a bug: end the run with a clear error
                    msg = ("error", StoreError(f"reading {obj.path} failed: {exc}"))
            else:
                msg = (kind, obj)
            if msg is not None and not post(msg):
                return
        if files:
            # together: the files another collection holds whole are found in few lookups
            findings = many(ix, files, states, ix._max_bytes, found.files)
            while not stop.is_set():
                try:
                    msg = next(findings)
                except StopIteration:
                    break
                except Exception as exc:  # a bug: end the run with a clear error
                    msg = ("error", StoreError(f"reading {files[0].path} and others failed: {exc}"))
                if msg is not None and not post(msg):
                    return
                if msg is not None and msg[0] == "error":
                    break
