"""One progress model for an ingest run; the CLI bar, the TUI and ``--json`` all read it."""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

MAX_LOG = 500  # recent errors/skips kept for display; counts are kept in full
ACTIVE_PHASES = ("starting", "indexing", "cleaning", "switching", "copying")  # a run in one of these is going
MAX_ERRORS = 10_000  # failed files listed in the report (the first ones); files_failed counts them all


@dataclass(frozen=True, slots=True)
class FileProblem:
    path: str
    reason: str
    kind: str = "error"  # "error" or "skip"


@dataclass
class IngestProgress:
    collection: str
    phase: str = "starting"  # starting, indexing, cleaning, switching, done, cancelled, failed
    #: a zero-downtime rebuild: the old index serves (with this many points) until the switch
    rebuild: bool = False
    serving_points: int | None = None
    switched: bool = False  # the rebuilt index now serves the collection
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    discovery_done: bool = False

    files_seen: int = 0
    files_skipped: int = 0
    files_unchanged: int = 0
    files_indexed: int = 0
    files_failed: int = 0
    files_deleted: int = 0
    files_queued: int = 0  # read and chunked, waiting for vectors
    dirs_skipped: int = 0

    chunks_total: int = 0  # chunks of the files queued so far
    chunks_embedded: int = 0
    chunks_reused: int = 0  # unchanged chunks of changed files: vector taken from the store
    tokens_embedded: int = 0
    points_written: int = 0
    points_deleted: int = 0
    embed_requests: int = 0

    current_file: str = ""
    skip_reasons: Counter[str] = field(default_factory=Counter)
    errors: list[FileProblem] = field(default_factory=list)  # failed files, the first MAX_ERRORS
    errors_omitted: int = 0  # failed files past MAX_ERRORS (counted, not listed)
    log: deque[FileProblem] = field(default_factory=lambda: deque(maxlen=MAX_LOG))
    message: str = ""  # a run-level error or status line
    agent_cache: str = ""  # the agent's cache file this run wrote (index --write-cache)
    schema: str = ""  # the agent schema of the run ("roo", "zoo"); "" for a native collection
    schema_why: str = ""  # --schema auto: why that agent
    waiting: str = ""  # why the run is paused (embedding server down), or ""

    # -- derived -----------------------------------------------------------------------------
    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def files_done(self) -> int:
        return self.files_skipped + self.files_unchanged + self.files_indexed + self.files_failed

    @property
    def files_total(self) -> int | None:
        return self.files_seen if self.discovery_done else None

    @property
    def chunks_done(self) -> int:
        return self.chunks_embedded + self.chunks_reused

    @property
    def chunks_per_s(self) -> float:
        return self.chunks_embedded / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.tokens_embedded / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left, once discovery knows the totals and some work was measured."""
        if not self.discovery_done or self.chunks_embedded == 0:
            return None
        left = self.chunks_total - self.chunks_done
        rate = self.chunks_per_s
        return left / rate if rate > 0 else None

    @property
    def active(self) -> bool:
        return self.phase in ACTIVE_PHASES

    # -- updates -----------------------------------------------------------------------------
    def skip(self, path: str, reason: str, *, is_dir: bool = False) -> None:
        if is_dir:
            self.dirs_skipped += 1
        else:
            self.files_seen += 1
            self.files_skipped += 1
        self.skip_reasons[reason.split(" (")[0]] += 1
        self.log.append(FileProblem(path, reason, "skip"))

    def fail(self, path: str, reason: str) -> None:
        self.files_failed += 1
        problem = FileProblem(path, reason, "error")
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(problem)
        else:
            self.errors_omitted += 1
        self.log.append(problem)

    def report(self) -> dict[str, Any]:
        """The ``index --json`` object."""
        return {
            "collection": self.collection,
            "status": self.phase,
            "files_seen": self.files_seen,
            "files_indexed": self.files_indexed,
            "files_unchanged": self.files_unchanged,
            "files_skipped": self.files_skipped,
            "files_failed": self.files_failed,
            "files_deleted": self.files_deleted,
            "chunks_embedded": self.chunks_embedded,
            "chunks_reused": self.chunks_reused,
            "tokens_embedded": self.tokens_embedded,
            "points_written": self.points_written,
            "points_deleted": self.points_deleted,
            "embed_requests": self.embed_requests,
            "skipped": dict(sorted(self.skip_reasons.items())),
            "errors": [{"path": e.path, "reason": e.reason} for e in self.errors],
            **({"errors_omitted": self.errors_omitted} if self.errors_omitted else {}),
            "message": self.message,
            "waiting": self.waiting,
            **({"schema": self.schema} if self.schema else {}),
            **({"schema_why": self.schema_why} if self.schema_why else {}),
            # roo_cache: the key's name before Roo Code's successors
            **({"agent_cache": self.agent_cache, "roo_cache": self.agent_cache} if self.agent_cache else {}),
            **({"rebuild": {"serving_points": self.serving_points, "switched": self.switched}} if self.rebuild else {}),
            "seconds": round(self.elapsed, 3),
        }
