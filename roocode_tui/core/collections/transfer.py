"""Copy a collection from one store to another without re-embedding it.

Points travel with their dense and keyword (sparse) vectors and payloads: scrolled from the
source page by page, upserted into the target in the same pages. The target is created with
the source's build record (model, dimension, prefixes, hybrid) and carries a ``copying`` record
while the copy runs: the source, the scroll offset of the next page and the count so far, saved
after every page. A copy that stops (Ctrl-C, a crash, a server going away) and runs again
continues from that offset; point ids are deterministic, so a page written twice is overwritten,
never duplicated. The record is cleared when the last page is in.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from roocode_tui.core.config import StoreSettings
from roocode_tui.core.errors import CollectionNotFoundError, RoocodeError, StoreError, UsageError
from roocode_tui.core.ingest.progress import IngestProgress
from roocode_tui.core.stores.base import CollectionMeta, Store, now_iso

COPY_PAGE = 256
# What must match for points of one collection to belong in another.
COMPATIBLE = ("model", "dimension", "query_prefix", "document_prefix", "distance", "hybrid")


def describe_store(settings: StoreSettings) -> str:
    """Where a store is, in words (no credentials)."""
    if settings.backend == "embedded":
        return f"embedded store at {settings.data_dir}"
    if settings.url:
        from urllib.parse import urlsplit

        parts = urlsplit(settings.url)
        host = parts.netloc.rpartition("@")[2]  # never user:password@
        return f"Qdrant at {parts.scheme}://{host}{parts.path}"
    return f"Qdrant local mode at {settings.data_dir}"


def target_settings(
    source: StoreSettings, to: str, *, url: str | None = None, path: Path | None = None
) -> StoreSettings:
    """The store a copy writes to: ``to`` is ``embedded`` or ``qdrant``.

    embedded: ``path`` or the configured ``store.path`` (default: the user data dir).
    qdrant: ``url`` or the configured ``store.url``; with neither, ``path`` names a directory for
    qdrant-client's local mode. The other [store] settings (api_key, TLS, timeouts, HNSW) apply.
    """
    if to == "embedded":
        if url:
            raise UsageError("--url names a Qdrant server: it goes with --to qdrant")
        return source.model_copy(update={"backend": "embedded", "url": None, "path": path or source.path})
    if to != "qdrant":
        raise UsageError(f"--to: expected embedded or qdrant (got {to!r})")
    server = url or (source.url if path is None else None)
    if server is None and path is None:
        raise UsageError(
            "--to qdrant needs a server: set store.url (or ROOCODE_TUI_STORE__URL), or pass --url URL "
            "(or --path DIR for qdrant-client's local mode)"
        )
    try:
        checked = StoreSettings.model_validate(
            {**source.model_dump(), "backend": "qdrant", "url": server, "path": path or source.path}
        )
    except Exception:
        raise UsageError(f"--url: expected an http:// or https:// URL (got {server!r})") from None
    return checked


def same_store(a: StoreSettings, b: StoreSettings) -> bool:
    if a.backend != b.backend:
        return False
    if a.backend == "qdrant" and (a.url or b.url):
        return a.url == b.url
    return a.data_dir.resolve() == b.data_dir.resolve()


@dataclass
class CopyProgress:
    collection: str
    target_collection: str
    source: str
    target: str
    points_total: int = 0
    points_copied: int = 0  # in the target so far, this run and the runs before it
    resumed_from: int = 0  # points a previous run had copied
    target_points: int | None = None
    status: str = "starting"  # starting | copying | done | interrupted | failed
    started: float = dataclasses.field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def points_per_s(self) -> float:
        done = self.points_copied - self.resumed_from
        return done / self.elapsed if self.elapsed > 0 else 0.0

    def report(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "target_collection": self.target_collection,
            "source": self.source,
            "target": self.target,
            "status": self.status,
            "points_total": self.points_total,
            "points_copied": self.points_copied,
            "resumed_from": self.resumed_from,
            "target_points": self.target_points,
            "seconds": round(self.elapsed, 3),
        }


def _jsonable_offset(offset: Any) -> Any:
    """A scroll offset as JSON keeps it (the engine returns UUIDs; ints stay ints)."""
    if offset is None or isinstance(offset, int | str):
        return offset
    if isinstance(offset, uuid.UUID):
        return str(offset)
    return str(offset)


def _mismatch(a: CollectionMeta, b: CollectionMeta) -> list[str]:
    return [
        f"{key} {getattr(b, key)!r} (source: {getattr(a, key)!r})"
        for key in COMPATIBLE
        if getattr(a, key) != getattr(b, key)
    ]


async def _source_meta(source: Store, name: str, where: str) -> CollectionMeta:
    meta = await source.get_meta(name)
    if meta is not None:
        if meta.copying:
            raise UsageError(f"collection {name!r} in the {where} is itself an unfinished copy: finish that copy first")
        return meta
    if name not in await source.list_collections():
        raise CollectionNotFoundError(f"collection {name!r} does not exist in the {where}")
    from roocode_tui.core.agents.roo_qdrant import describe

    if await describe(source, name) is not None:
        raise UsageError(
            f"collection {name!r} is Roo Code's: copy moves roocode-tui collections only (Roo Code's index "
            "lives in a Qdrant server: use collections snapshot / restore there, or index --schema roo)"
        )
    raise UsageError(f"collection {name!r} in the {where} was not made by roocode-tui: nothing says how to copy it")


async def copy_collection(
    source: Store,
    target: Store,
    name: str,
    new_name: str | None = None,
    *,
    source_label: str,
    target_label: str,
    page: int = COPY_PAGE,
    on_progress: Callable[[CopyProgress], None] | None = None,
) -> CopyProgress:
    """Copy collection ``name`` of ``source`` into ``target`` (as ``new_name``), resuming an
    interrupted copy of the same collection. Refuses an existing target that is not one."""
    new_name = new_name or name
    if source is target and new_name == name:
        raise UsageError(f"collection {name!r}: source and target are the same collection (use --as NEWNAME)")
    progress = CopyProgress(name, new_name, source_label, target_label)
    src = await _source_meta(source, name, source_label)
    progress.points_total = await source.count(name)
    origin = {"source": source_label, "source_name": name}
    fingerprint = {"source_points": progress.points_total, "source_indexed_at": src.last_indexed_at}

    existing = await target.get_meta(new_name)
    offset: Any = None
    if existing is None:
        if new_name in await target.list_collections():
            raise UsageError(
                f"collection {new_name!r} already exists in the {target_label} and was not made by roocode-tui: "
                "choose another name with --as"
            )
        state = {**origin, **fingerprint, "offset": None, "copied": 0, "started_at": now_iso()}
        meta = dataclasses.replace(src, name=new_name, copying=state)
        await target.create_collection(meta)
    else:
        state = existing.copying
        if not state or {k: state.get(k) for k in origin} != origin:
            why = _mismatch(src, existing)
            detail = f" (built with {', '.join(why)})" if why else ""
            raise UsageError(
                f"collection {new_name!r} already exists in the {target_label}{detail}: choose another name "
                "with --as, or delete it there"
            )
        if why := _mismatch(src, existing):
            raise UsageError(
                f"collection {new_name!r} in the {target_label} is a copy of another build of {name!r} "
                f"({', '.join(why)}): delete it there and copy again"
            )
        meta = existing
        if all(state.get(k) == v for k, v in fingerprint.items()):
            offset = state.get("offset")
            progress.resumed_from = progress.points_copied = int(state.get("copied", 0))
        else:  # the source changed since: go through it all again (upserts overwrite)
            state = {**state, **fingerprint, "offset": None, "copied": 0}

    progress.status = "copying"
    if on_progress:
        on_progress(progress)
    try:
        while True:
            if offset is None and progress.points_copied and state.get("offset") is None:
                break  # resumed a copy whose last page was written but not yet marked finished
            points, nxt = await source.scroll(name, offset, page, with_vectors=True)
            for point in points:
                if point.vector.shape != (src.dimension,):
                    raise StoreError(
                        f"collection {name!r} in the {source_label}: point {point.id} has a "
                        f"{point.vector.shape[0]}-d vector, the collection {src.dimension}-d: not copied"
                    )
            await target.upsert(new_name, points)
            progress.points_copied += len(points)
            offset = _jsonable_offset(nxt)
            state = {**state, "offset": offset, "copied": progress.points_copied}
            meta = dataclasses.replace(meta, copying=state)
            await target.save_meta(meta)
            if on_progress:
                on_progress(progress)
            if offset is None:
                break
        await target.save_meta(dataclasses.replace(meta, copying=None))
    except BaseException as exc:
        progress.status = "failed" if isinstance(exc, Exception) else "interrupted"
        progress.finished = time.monotonic()
        raise
    progress.target_points = await target.count(new_name)
    progress.status = "done"
    progress.finished = time.monotonic()
    if on_progress:
        on_progress(progress)
    if progress.target_points != progress.points_total:
        raise StoreError(
            f"collection {new_name!r} in the {target_label} has {progress.target_points} points, the source "
            f"{progress.points_total}: the source changed during the copy; delete the copy and run it again"
        )
    return progress


@dataclass
class CopyRunProgress(IngestProgress):
    """A copy's progress in the shape every face reads a run in (F2, ``status``, the CLI's
    bar): points stand where an index run has chunks; ``report()`` is ``copy --json``'s."""

    copy: CopyProgress | None = None

    def report(self) -> dict[str, Any]:
        if self.copy is None:
            return {"collection": self.collection, "status": self.phase, "message": self.message}
        out = self.copy.report()
        if self.message:
            out["message"] = self.message
        return out


class CopyRun:
    """``collections copy`` as a run the engine owns: ``run()``, ``progress``, ``cancel()`` and
    ``_on_progress``, as an Indexer has them. Cancelling leaves a copy that continues when run
    again (see :func:`copy_collection`)."""

    def __init__(
        self,
        source: Store,
        target: Store,
        name: str,
        new_name: str,
        *,
        source_label: str,
        target_label: str,
        close_target: bool,
    ) -> None:
        self.source, self.target = source, target
        self.name, self.new_name = name, new_name
        self.labels = source_label, target_label
        self.close_target = close_target
        self.progress = CopyRunProgress(collection=name, discovery_done=True)
        self.progress.current_file = f"copy to {new_name} in the {target_label}"
        self._on_progress: Callable[[Any], None] | None = None

    def _update(self, copy: CopyProgress) -> None:
        p = self.progress
        p.copy = copy
        p.phase = "copying" if copy.status == "copying" else p.phase
        p.chunks_total = copy.points_total
        p.chunks_reused = copy.resumed_from  # copied by an earlier run of this copy
        p.chunks_embedded = copy.points_copied - copy.resumed_from  # the rate and ETA count these
        p.points_written = copy.points_copied
        if self._on_progress is not None:
            self._on_progress(p)

    async def run(self) -> CopyRunProgress:
        import asyncio

        p = self.progress
        try:
            await copy_collection(
                self.source,
                self.target,
                self.name,
                self.new_name,
                source_label=self.labels[0],
                target_label=self.labels[1],
                on_progress=self._update,
            )
            p.phase = "done"
            p.current_file = ""
            p.message = f"copied to {self.new_name} in the {self.labels[1]}"
        except asyncio.CancelledError:
            p.phase = "cancelled"
            p.message = f"interrupted: the same copy continues where it stopped (into the {self.labels[1]})"
            raise
        except RoocodeError as exc:
            p.phase, p.message = "failed", str(exc)
            raise
        except Exception as exc:  # a store's own exception: one line, not a traceback
            p.phase, p.message = "failed", f"copy of {self.name!r} into the {self.labels[1]}: {exc}"
            raise StoreError(p.message) from None
        finally:
            p.finished = time.monotonic()
            if self.close_target:
                await self.target.close()
            if self._on_progress is not None:
                self._on_progress(p)
        return p

    def cancel(self) -> None:
        """The engine cancels the run's task; the page being written finishes or is written again."""
