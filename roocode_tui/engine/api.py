"""The engine's interface, shared by the in-process engine and the client of a running one, and
the JSON shapes that cross the socket."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from roocode_tui.core.ingest.progress import ACTIVE_PHASES, FileProblem
from roocode_tui.core.results import SearchResult

if TYPE_CHECKING:  # the store's code loads with the engine, not with a face that reads answers
    from roocode_tui.core.monitor.gpu import GpuInfo
    from roocode_tui.core.monitor.metrics import VllmReading
    from roocode_tui.core.stores.base import CollectionInfo

LOG_TAIL = 50  # log lines of a run sent with each snapshot


@dataclass
class RunSnapshot:
    """One index run as the engine reports it: progress counts, rates, the current file, the
    recent log, and the ``index --json`` report. Reads like ``IngestProgress`` for the faces."""

    id: str
    kind: str  # "index" or "rebuild"
    started_by: str
    started_at: str  # wall clock, ISO 8601
    collection: str
    phase: str
    files_total: int | None
    files_done: int
    files_unchanged: int
    files_skipped: int
    files_failed: int
    files_indexed: int
    files_deleted: int
    chunks_total: int
    chunks_done: int
    chunks_embedded: int
    chunks_reused: int
    points_written: int
    chunks_per_s: float
    tokens_per_s: float
    eta_s: float | None
    elapsed: float
    current_file: str
    waiting: str
    message: str
    rebuild: bool
    serving_points: int | None = None
    switched: bool = False
    discovery_done: bool = False
    files_seen: int = 0
    files_queued: int = 0
    dirs_skipped: int = 0
    chunks_reused_from_other_collections: int = 0
    error_type: str = ""  # a failed run: the class of its error (the face raises the same)
    log: list[FileProblem] = field(default_factory=list)  # the recent errors and skips
    report_json: dict[str, Any] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.phase in ACTIVE_PHASES

    @property
    def errors(self) -> list[FileProblem]:
        return [FileProblem(e["path"], e["reason"]) for e in self.report_json.get("errors", [])]

    def report(self) -> dict[str, Any]:
        return dict(self.report_json)

    def to_json(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["report"] = out.pop("report_json")
        out["log"] = [{"path": e.path, "reason": e.reason, "kind": e.kind} for e in self.log]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunSnapshot:
        data = dict(data)
        data["report_json"] = data.pop("report", {})
        data["log"] = [FileProblem(e["path"], e["reason"], e.get("kind", "error")) for e in data.get("log", [])]
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    @classmethod
    def of(cls, run_id: str, kind: str, started_by: str, started_at: str, p: Any, error_type: str = "") -> RunSnapshot:
        return cls(
            id=run_id,
            kind=kind,
            started_by=started_by,
            started_at=started_at,
            collection=p.collection,
            phase=p.phase,
            files_total=p.files_total,
            files_done=p.files_done,
            files_unchanged=p.files_unchanged,
            files_skipped=p.files_skipped,
            files_failed=p.files_failed,
            files_indexed=p.files_indexed,
            files_deleted=p.files_deleted,
            chunks_total=p.chunks_total,
            chunks_done=p.chunks_done,
            chunks_embedded=p.chunks_embedded,
            chunks_reused=p.chunks_reused,
            points_written=p.points_written,
            chunks_per_s=round(p.chunks_per_s, 3),
            tokens_per_s=round(p.tokens_per_s, 1),
            eta_s=round(p.eta_s, 1) if p.eta_s is not None else None,
            elapsed=round(p.elapsed, 3),
            current_file=p.current_file,
            waiting=p.waiting,
            message=p.message,
            rebuild=p.rebuild,
            serving_points=p.serving_points,
            switched=p.switched,
            discovery_done=p.discovery_done,
            files_seen=p.files_seen,
            files_queued=p.files_queued,
            dirs_skipped=p.dirs_skipped,
            chunks_reused_from_other_collections=p.chunks_reused_from_other_collections,
            error_type=error_type,
            log=list(p.log)[-LOG_TAIL:],
            report_json=p.report(),
        )


@dataclass
class MonitorSnapshot:
    """What the monitor pane and the status bar draw: the engine's embedding pipeline and store,
    and the latest readings of its metric sampler (engine/sampler.py): the GPUs (or why none is
    seen) and vLLM's ``/metrics``."""

    #: the embedder's requests, failures, batches in flight, latency p50/p95 (None: not asked)
    pipeline: dict[str, Any] | None
    #: [line, style] pairs: reachable, version, the active collection
    store: list[tuple[str, str]]
    gpus: list[GpuInfo]
    gpu_why: str  # why no GPU is seen, when none is
    #: vLLM's latest metrics; None where there is no server to watch (the local model), or not asked
    vllm: VllmReading | None = None
    vllm_url: str = ""  # the server they are read from

    def to_json(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "store": [list(pair) for pair in self.store],
            "gpus": [asdict(g) for g in self.gpus],
            "gpu_why": self.gpu_why,
            "vllm": asdict(self.vllm) if self.vllm is not None else None,
            "vllm_url": self.vllm_url,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MonitorSnapshot:
        from roocode_tui.core.monitor.gpu import GpuInfo, GpuProcess
        from roocode_tui.core.monitor.metrics import VllmReading

        gpus = [
            GpuInfo(**{**g, "processes": tuple(GpuProcess(**p) for p in g.get("processes", []))})
            for g in data.get("gpus", [])
        ]
        vllm = data.get("vllm")
        return cls(
            pipeline=data.get("pipeline"),
            store=[(str(line), str(style)) for line, style in data.get("store", [])],
            gpus=gpus,
            gpu_why=str(data.get("gpu_why") or ""),
            vllm=VllmReading(**vllm) if isinstance(vllm, dict) else None,
            vllm_url=str(data.get("vllm_url") or ""),
        )


class Engine(abc.ABC):
    """What every face may ask of the engine."""

    @abc.abstractmethod
    async def status(self) -> dict[str, Any]:
        """Version, pid, config, store, collections count, runs (running and recent)."""

    @abc.abstractmethod
    async def collections(self) -> list[CollectionInfo]:
        """Every collection, with the engine's word on each (its search index, its watcher, an
        agent's workspace, its freshness); ``to_json()`` is what ``collections list --json`` shows."""

    @abc.abstractmethod
    async def collection(self, name: str) -> CollectionInfo:
        """One collection, as :meth:`collections` describes it (``collections info --json``)."""

    @abc.abstractmethod
    async def delete_collection(self, name: str) -> bool: ...

    @abc.abstractmethod
    async def create_collection(self, name: str, paths: list[str], include: list[str], exclude: list[str]) -> None:
        """An empty collection that remembers its paths and globs (indexed later)."""

    @abc.abstractmethod
    async def resolve_collection(self, name: str | None, cwd: str) -> str:
        """The collection a search without ``--collection`` would use (or the one named, as is)."""

    @abc.abstractmethod
    async def snapshot(self, name: str, out: str | None = None) -> dict[str, Any]:
        """Write a snapshot file of a collection (``Snapshot.to_json()``); ``out``: an absolute
        file or directory (default: snapshots/ in the store's data dir)."""

    @abc.abstractmethod
    async def snapshots(self, name: str) -> list[dict[str, Any]]: ...

    @abc.abstractmethod
    async def restore(self, name: str, file: str) -> dict[str, Any]:
        """Restore a snapshot file into the new collection ``name``."""

    @abc.abstractmethod
    async def optimize(self, name: str) -> dict[str, Any]:
        """Build a collection's search index now: ``{"collection", "optimized", "seconds"}``
        (``optimized`` false: nothing to do, or the server indexes by itself)."""

    @abc.abstractmethod
    async def abort_rebuild(self, name: str) -> bool:
        """Drop a collection's unfinished rebuild (its old index still serves); False when it
        had none. Refused while a run writes the collection."""

    @abc.abstractmethod
    async def finish_rebuild(self, name: str) -> None:
        """Serve a collection's unfinished rebuild as it is (UsageError when it has none).
        Refused while a run writes the collection."""

    @abc.abstractmethod
    async def agents_which(self, workspace: str) -> dict[str, Any]:
        """Each coding agent's collection of a workspace, as ``agents which --json`` prints it
        (core/agents/schemas.py ``which``): ``{"workspace", "agents": [{"schema", "agent",
        "label", "collection", "exists", "installed", "cache", ...}], "owner"}``."""

    @abc.abstractmethod
    async def agent_index(self, workspace: str) -> dict[str, Any]:
        """Roo Code's collection of a workspace, as ``roo which --json`` prints it:
        ``{"workspace", "collection", "exists"}``, with ``points``, ``dimension``,
        ``indexing_complete``, ``completed_at`` and ``started_at`` when it is in Roo Code's
        format, and ``error`` (``exists`` null) when the store could not tell."""

    @abc.abstractmethod
    async def resolve_package(
        self, name: str, ecosystem: str, *, python: str | None, node_modules: str | None, cwd: str
    ) -> dict[str, Any]:
        """An installed package's paths to index (core/files/packages.py): ``{"ecosystem",
        "name", "version", "paths", "where", "collection"}``; relative ``python`` and
        ``node_modules`` are taken from ``cwd``."""

    @abc.abstractmethod
    async def monitor(self, active: str | None, *, gpus_only: bool = False) -> MonitorSnapshot:
        """For the monitor pane: the pipeline, the store's lines (``active``: the collection
        searched), the GPUs and vLLM's metrics. ``gpus_only``: the GPU readings alone (the status
        bar's gauge): neither the store nor vLLM is asked."""

    @abc.abstractmethod
    async def history(self, window: str, run_id: str | None = None, names: list[str] | None = None) -> dict[str, Any]:
        """The engine's metric history over one window ("5m", "1h", "6h"):
        ``MetricHistory.window()`` (core/history.py; ``names``: only those series), and with
        ``run_id`` that run's throughput since its start (``run``: ``{"id", "collection",
        "step_s", "points": [[s, chunks/s, tokens/s], ...]}``)."""

    @abc.abstractmethod
    async def hold_ingest(self, seconds: float) -> None:
        """A person is typing a search: every run sends no new batch for a moment."""

    @abc.abstractmethod
    async def search(
        self,
        queries: list[str],
        collection: str | None,
        *,
        limit: int,
        path: str | None,
        lang: str | None,
        mode: str | None,
        cwd: str,
        ranking: bool | None = None,
        explain: bool = False,
        group_by: str | None = None,
        rerank: bool | None = None,
    ) -> list[SearchResult]:
        """One result per query, as it crosses the socket (``SearchResult.to_json()``; an engine
        in a face's process answers ``SearchResult.answered()``). ``ranking``: through the ranking
        stack (None: as ``[search] ranking`` says); ``rerank``: through the reranker (None: when
        ``[reranker] enabled``; True without one configured is refused); ``explain``: each hit says why it ranks there;
        ``group_by="file"``: ranked files, each with its best chunks (``files``)."""

    @abc.abstractmethod
    async def read(self, path: str, start_line: int, end_line: int | None, *, cwd: str) -> dict[str, Any]:
        """Lines of a file an index run of some collection reads (core/reading.py): anything
        else is refused with one line (ReadRefusedError)."""

    @abc.abstractmethod
    async def start_run(
        self,
        paths: list[str],
        collection: str | None,
        *,
        rebuild: bool,
        schema: str,
        cwd: str,
        started_by: str,
        agent_cache: str | None = None,
        reuse: bool = True,
        dry_run: bool = False,
    ) -> RunSnapshot: ...

    @abc.abstractmethod
    async def start_copy(
        self,
        name: str,
        to: str,
        *,
        url: str | None,
        path: str | None,
        new_name: str | None,
        started_by: str,
    ) -> RunSnapshot:
        """``collections copy`` as a run: followed, cancelled and listed as index runs are."""

    @abc.abstractmethod
    async def set_watch(self, name: str, on: bool) -> dict[str, Any]:
        """Watch a collection's paths and keep its points in sync (or stop): its watcher's state."""

    @abc.abstractmethod
    async def runs(self) -> list[RunSnapshot]: ...

    @abc.abstractmethod
    def follow(self, run_id: str) -> AsyncIterator[RunSnapshot]:
        """Snapshots of a run as it changes (about four a second at most), the last one final."""

    @abc.abstractmethod
    async def cancel(self, run_id: str) -> RunSnapshot: ...

    @abc.abstractmethod
    async def release(self) -> bool:
        """Close the stores (an in-process command is about to open them); False while runs go."""

    @abc.abstractmethod
    async def aclose(self) -> None: ...
