"""Metric history in bounded memory: what F3 and F2 chart, kept by the engine so that a face
that attaches later sees the past.

Each series is three fixed-size rings of time buckets, one per window: 300 buckets of 1 s (the
last 5 minutes), 300 of 12 s (1 hour) and 300 of 72 s (6 hours). A sample goes into the current
bucket of every ring; a bucket keeps the count, sum, min and max of its samples, so a window is
read as min/mean/max per bucket. A bucket is reused when its slot comes round again, so memory
never grows: 3 rings x 300 buckets x 5 numbers x 8 bytes = 36 KB a series, whatever the uptime.

Times are the engine's monotonic clock (seconds); what leaves here is relative to "now" (age in
seconds, 0 = now, negative = the past), so a face in another process needs no clock of its own.
"""

from __future__ import annotations

import math
import time
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

BUCKETS = 300  # per ring: 5 min of 1 s, 1 h of 12 s, 6 h of 72 s
WINDOWS: dict[str, float] = {"5m": 1.0, "1h": 12.0, "6h": 72.0}  # window -> bucket width (s)
WINDOW_LABELS = {"5m": "5 min", "1h": "1 hour", "6h": "6 hours"}
BEST_OVER_S = 12.0  # "best recent rate": the highest mean of one 12 s bucket in the last hour


@dataclass(frozen=True, slots=True)
class SeriesSpec:
    name: str
    label: str
    unit: str


#: What the engine samples once a second (engine/sampler.py). Order is the charts' order.
SERIES: tuple[SeriesSpec, ...] = (
    SeriesSpec("gpu_util", "GPU utilisation", "%"),
    SeriesSpec("vram_used", "VRAM used", "GiB"),
    SeriesSpec("vllm_running", "vLLM requests running", "requests"),
    SeriesSpec("vllm_waiting", "vLLM requests waiting", "requests"),
    SeriesSpec("kv_cache", "KV-cache use", "%"),
    SeriesSpec("prompt_tokens_per_s", "prompt tokens/s (server)", "tokens/s"),
    SeriesSpec("chunks_per_s", "chunks/s (this engine)", "chunks/s"),
    SeriesSpec("tokens_per_s", "tokens/s (this engine)", "tokens/s"),
    SeriesSpec("latency_p50", "embedding latency p50", "ms"),
    SeriesSpec("latency_p95", "embedding latency p95", "ms"),
)


class Ring:
    """``size`` buckets of ``step`` seconds; bucket k (time // step) lives in slot k % size."""

    __slots__ = ("count", "keys", "maxs", "mins", "size", "step", "sums")

    def __init__(self, step: float, size: int = BUCKETS):
        self.step = step
        self.size = size
        self.keys = array("q", [-1]) * size  # the bucket number a slot holds now (-1: empty)
        self.count = array("q", [0]) * size
        self.sums = array("d", [0.0]) * size
        self.mins = array("d", [0.0]) * size
        self.maxs = array("d", [0.0]) * size

    def add(self, t: float, value: float) -> None:
        k = int(t // self.step)
        i = k % self.size
        if self.keys[i] != k:  # a new bucket: whatever the slot held is older than the window
            self.keys[i], self.count[i], self.sums[i] = k, 0, 0.0
            self.mins[i], self.maxs[i] = value, value
        self.count[i] += 1
        self.sums[i] += value
        self.mins[i] = min(self.mins[i], value)
        self.maxs[i] = max(self.maxs[i], value)

    def buckets(self, now: float) -> Iterable[tuple[float, float, float, float]]:
        """(start of the bucket, mean, min, max) of each filled bucket in the window, oldest first."""
        last = int(now // self.step)
        for k in range(last - self.size + 1, last + 1):
            i = k % self.size
            if k >= 0 and self.keys[i] == k and self.count[i]:
                yield k * self.step, self.sums[i] / self.count[i], self.mins[i], self.maxs[i]

    def nbytes(self) -> int:
        return sum(a.itemsize * len(a) for a in (self.keys, self.count, self.sums, self.mins, self.maxs))


class Series:
    """One metric at every window's resolution."""

    __slots__ = ("rings", "spec")

    def __init__(self, spec: SeriesSpec):
        self.spec = spec
        self.rings = {window: Ring(step) for window, step in WINDOWS.items()}

    def add(self, t: float, value: float) -> None:
        for ring in self.rings.values():
            ring.add(t, value)


def _round(x: float) -> float:
    return round(x, 3)


class MetricHistory:
    """Every series the engine samples, bounded; read a window as JSON for a face."""

    def __init__(self, specs: Iterable[SeriesSpec] = SERIES, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.series = {s.name: Series(s) for s in specs}
        self.facts: dict[str, float] = {}  # scalars a chart needs beside its series (VRAM total)

    def add(self, name: str, value: float | None, t: float | None = None) -> None:
        """One sample; None or NaN (not measured now) leaves a gap."""
        if value is None or math.isnan(value):
            return
        self.series[name].add(self.clock() if t is None else t, float(value))

    def nbytes(self) -> int:
        return sum(r.nbytes() for s in self.series.values() for r in s.rings.values())

    def best(self, name: str, now: float | None = None) -> float | None:
        """The highest mean of one bucket in the last hour (12 s: a sustained rate, not a
        burst of one finished batch), or None before any sample."""
        now = self.clock() if now is None else now
        means = [mean for _t, mean, _lo, _hi in self.series[name].rings["1h"].buckets(now)]
        return max(means) if means else None

    def window(self, window: str, now: float | None = None, names: Iterable[str] | None = None) -> dict[str, Any]:
        """``{"window", "label", "span_s", "step_s", "series": {name: {"label", "unit",
        "points": [[age_s, mean, min, max], ...]}}, "facts", "best_tokens_per_s"}``; ages are
        seconds before now (negative), a bucket's age is its start's. ``names``: only these
        series (default all)."""
        if window not in WINDOWS:
            raise ValueError(f"window must be one of {', '.join(WINDOWS)} (got {window!r})")
        now = self.clock() if now is None else now
        step = WINDOWS[window]
        out: dict[str, Any] = {}
        wanted = set(self.series if names is None else names)
        for name, series in self.series.items():
            if name not in wanted:
                continue
            points = [
                [_round(start - now), _round(mean), _round(lo), _round(hi)]
                for start, mean, lo, hi in series.rings[window].buckets(now)
            ]
            out[name] = {"label": series.spec.label, "unit": series.spec.unit, "points": points}
        best = self.best("tokens_per_s", now) if "tokens_per_s" in self.series else None
        return {
            "window": window,
            "label": WINDOW_LABELS[window],
            "span_s": step * BUCKETS,
            "step_s": step,
            "series": out,
            "facts": dict(self.facts),
            "best_tokens_per_s": _round(best) if best is not None else None,
        }


class RunRates:
    """A run's throughput from its start, in at most ``limit`` points whatever its length: one
    point a second, and when full, every two neighbours are merged into one (their mean) and the
    step doubles. A day-long run costs the same few KB as a minute's."""

    __slots__ = ("_pending", "limit", "points", "step")

    def __init__(self, limit: int = 240):
        self.limit = limit
        self.step = 1.0  # seconds per point
        self.points: list[tuple[float, float, float]] = []  # (seconds since start, chunks/s, tokens/s)
        self._pending: list[tuple[float, float, float]] = []  # samples of the point being filled

    def add(self, elapsed: float, chunks_per_s: float, tokens_per_s: float) -> None:
        self._pending.append((elapsed, chunks_per_s, tokens_per_s))
        if len(self._pending) * 1.0 >= self.step:  # one sample a second: a point every `step` samples
            n = len(self._pending)
            first = self._pending[0][0]
            self.points.append((first, sum(p[1] for p in self._pending) / n, sum(p[2] for p in self._pending) / n))
            self._pending = []
            if len(self.points) >= self.limit:
                merged = [
                    (a[0], (a[1] + b[1]) / 2, (a[2] + b[2]) / 2)
                    for a, b in zip(self.points[0::2], self.points[1::2], strict=False)
                ]
                if len(self.points) % 2:
                    merged.append(self.points[-1])
                self.points = merged
                self.step *= 2

    def to_json(self) -> dict[str, Any]:
        return {
            "step_s": self.step,
            "points": [[_round(t), _round(c), _round(k)] for t, c, k in self.points],
        }
