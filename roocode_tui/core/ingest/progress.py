"""One progress model for an ingest run; the CLI bar, the TUI and ``--json`` all read it."""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from roocode_tui.core.display import fmt_duration, reused_label

MAX_LOG = 500  # recent errors/skips kept for display; counts are kept in full
ACTIVE_PHASES = ("starting", "indexing", "cleaning", "switching", "copying")  # a run in one of these is going
MAX_ERRORS = 10_000  # failed files listed in the report (the first ones); files_failed counts them all


@dataclass(frozen=True, slots=True)
class FileProblem:
    path: str
    reason: str
    kind: str = "error"  # "error" or "skip"


@dataclass
class Plan:
    """What a dry run found a run would do (``index --dry-run``): the files it would write, with
    the chunks and tokens left to embed after reuse, the files it would skip and why, and an
    estimate of the time (from the embedder's measured rate) and the cost."""

    #: (path, chunks, chunks to embed, tokens to embed), in the order the walk found them
    files: list[tuple[str, int, int, int]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason); a directory's ends in /
    chunks_to_embed: int = 0
    tokens_to_embed: int = 0
    #: tokens per second the embedder was measured at, and where ("" when none was)
    rate_tokens_per_s: float | None = None
    rate_from: str = ""
    price_per_million_tokens: float | None = None

    @property
    def seconds(self) -> float | None:
        if self.tokens_to_embed == 0:
            return 0.0
        return self.tokens_to_embed / self.rate_tokens_per_s if self.rate_tokens_per_s else None

    @property
    def cost(self) -> float | None:
        if self.price_per_million_tokens is None:
            return None
        return self.tokens_to_embed / 1e6 * self.price_per_million_tokens

    def summary(self, p: IngestProgress) -> str:
        """One line: what the run would do, what it would embed, how long and what it would cost."""
        line = (
            f"plan: {len(self.files):,} files to index, {p.files_unchanged:,} unchanged, {p.files_skipped:,} "
            f"skipped, {p.files_deleted:,} gone; {self.chunks_to_embed:,} chunks ({self.tokens_to_embed:,} tokens) "
            f"to embed, {reused_label(p)}"
        )
        seconds = self.seconds
        if self.tokens_to_embed and seconds is not None:
            assert self.rate_tokens_per_s is not None
            line += f"; about {fmt_duration(seconds)} at {self.rate_tokens_per_s:,.0f} tokens/s"
        elif self.tokens_to_embed:
            line += "; time unknown until a run on this model measures its rate"
        cost = self.cost
        if cost is not None:
            line += f"; cost {cost:,.4f} at {self.price_per_million_tokens:,} per million tokens"
        return line

    def report(self, *, files: bool = True) -> dict[str, Any]:
        seconds, cost = self.seconds, self.cost
        lists = {
            "files": [{"path": p, "chunks": c, "embed": e, "tokens": t} for p, c, e, t in self.files],
            "skipped_files": [{"path": p, "reason": r} for p, r in self.skipped],
        }
        return {
            "chunks_to_embed": self.chunks_to_embed,
            "tokens_to_embed": self.tokens_to_embed,
            "estimate": {
                "seconds": round(seconds, 1) if seconds is not None else None,
                "rate_tokens_per_s": round(self.rate_tokens_per_s, 1) if self.rate_tokens_per_s else None,
                "rate_from": self.rate_from,
                "cost": cost,
                "price_per_million_tokens": self.price_per_million_tokens,
            },
            "files_to_index": len(self.files),
            **(lists if files else {}),
        }


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
    chunks_reused: int = 0  # chunks whose vector the collection already held (or this run embedded)
    chunks_reused_from_other_collections: int = 0  # ... that another collection of the same model held
    tokens_embedded: int = 0
    points_written: int = 0
    points_deleted: int = 0
    embed_requests: int = 0
    #: tokens per second while batches were on the server (the embedder's speed), once measured
    embed_rate: float | None = None

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
    #: where vectors were looked for by content, and what it cost (ingest/reuse.py Reuse.summary)
    reuse: dict[str, Any] = field(default_factory=dict)
    #: a dry run (``index --dry-run``): nothing is embedded or written; ``plan`` says what would be
    dry_run: bool = False
    plan: Plan | None = None

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
        return self.chunks_embedded + self.chunks_reused + self.chunks_reused_from_other_collections

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
        if self.plan is not None:
            self.plan.skipped.append((path + "/" if is_dir else path, reason))

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
            "chunks_reused_from_other_collections": self.chunks_reused_from_other_collections,
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
            **({"reuse": self.reuse} if self.reuse else {}),
            # a dry run's plan; its file lists once it ended (not in every snapshot of the run)
            **({"dry_run": True, **self.plan.report(files=not self.active)} if self.plan else {}),
            "seconds": round(self.elapsed, 3),
        }
