"""A new collection that starts as a copy of its sibling's: a git worktree, a second clone or a
copied tree of a folder the store already holds.

Copying a file's points one by one (``FileCopies``) costs about 0.4 ms of one core a point,
Python round trips through the store: at 30,000 points a worktree took a fifth of what
embedding the whole tree took on a fast server. A collection whose ids do not depend on where
its one folder is (``stores.base.PORTABLE_IDS``) can instead be copied whole inside the store
(``Store.seed_collection``: the embedded store copies its shard's files, a Qdrant server of one
node restores a snapshot of it), its points given the new root in one call; the run then goes
on as an incremental run of that copy: unchanged files keep their points (their file times
set), changed ones are cut again and only their new chunks embedded, files that are gone lose
their points. What it leaves is what embedding the tree
afresh leaves: the same ids, payloads and vectors.

The sibling is chosen among the run's vector sources: roocode-tui's collections of the same
vector key, cut by the same rules and sizes, storing vectors the same way, with portable ids and
one folder, of which at least half of a sample of the files are at the same place in the run's
folder. The sample only decides whether copying is worth it; what the copy keeps is decided file
by file, by content, as in any incremental run.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from roocode_tui.core.chunking.splitter import CHUNKER
from roocode_tui.core.errors import RoocodeError
from roocode_tui.core.ingest.reuse import NativeSource, cut_alike
from roocode_tui.core.stores.base import PORTABLE_IDS, CollectionMeta, now_iso

if TYPE_CHECKING:
    from roocode_tui.core.ingest.indexer import Indexer

LOG = logging.getLogger("roocode_tui.ingest")

#: files of a candidate looked for in the run's folder
SAMPLE = 64
#: the share of them that must be there for the copy to be worth it
MIN_SHARE = 0.5


@dataclass
class Seed:
    """Where a run's collection was copied from."""

    source: str
    points: int
    seconds: float
    #: of the points copied, those the run kept (the files and chunks found unchanged)
    kept: int = 0

    def summary(self) -> dict[str, object]:
        return {"from": self.source, "points": self.points, "kept": self.kept, "seconds": round(self.seconds, 3)}


def seedable(source: CollectionMeta | None, meta: CollectionMeta) -> bool:
    """Whether ``source``'s points are what this run would write for the same files: the same
    vector key, chunking rules and sizes, keyword vectors, vector storage, and portable ids of
    one folder."""
    return (
        cut_alike(source, meta.chunking, meta.hybrid)
        and meta.chunker == CHUNKER
        and bool(meta.chunking)
        and bool(meta.vector_key)
        and source.vector_key == meta.vector_key
        and bool(meta.vector_datatype)
        and source.vector_datatype == meta.vector_datatype
        and source.point_ids == PORTABLE_IDS == meta.point_ids
        and len(source.paths) == 1
        and source.staging_for is None
        and not source.copying
    )


def share_present(paths: list[str], root: Path) -> float:
    """The share of an evenly spread sample of ``paths`` (relative) that are files under ``root``."""
    if not paths:
        return 0.0
    step = max(1, len(paths) // SAMPLE)
    sample = paths[::step][:SAMPLE]
    return sum(_is_file(root / p) for p in sample) / len(sample)


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a directory this process may not enter
        return False


async def seed(ix: Indexer, meta: CollectionMeta) -> Seed | None:
    """Make the run's new collection a copy of its best sibling, if it has one; None otherwise
    (the run goes on as a new collection, copying what it can file by file)."""
    if ix.reuse is None or len(ix.roots) != 1 or not ix.roots[0].is_dir():
        return None
    root = ix.roots[0]
    best: tuple[float, int, NativeSource] | None = None
    for source in ix.reuse.sources:
        if not isinstance(source, NativeSource) or not seedable(source.meta, meta):
            continue
        try:
            paths = await ix.store.distinct_paths(source.name)
        except RoocodeError as exc:
            LOG.warning("collection %s not considered as a copy: %s", source.name, exc)
            continue
        share = share_present(paths, root)
        if share >= MIN_SHARE and (best is None or (share, len(paths)) > best[:2]):
            best = (share, len(paths), source)
    if best is None:
        return None
    source = best[2]
    assert source.meta is not None
    started = time.perf_counter()
    try:
        points = await ix.store.seed_collection(
            source.name, meta, {"root": source.meta.paths[0]}, {"root": str(root), "indexed_at": now_iso()}
        )
    except RoocodeError as exc:  # the copy only saves work: the run embeds or copies file by file
        LOG.warning("collection %s not copied from %s: %s", meta.name, source.name, exc)
        return None
    if points is None:
        return None
    done = Seed(source.name, points, time.perf_counter() - started)
    LOG.info("collection %s started as a copy of %s: %d points in %.2f s", meta.name, source.name, points, done.seconds)
    return done
