"""vLLM's Prometheus ``/metrics`` and ``/health``: queue depth, KV cache, prompt tokens/s."""

from __future__ import annotations

import math
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # httpx loads when the first poll runs, not before the TUI's first frame
    import httpx

_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([^\s]+)")


def parse_prometheus(text: str) -> dict[str, float]:
    """Sum each metric over its label sets (one model served: the sum is the value)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            continue
        try:
            value = float(m.group(3))
        except ValueError:
            continue
        if math.isnan(value):
            continue
        out[m.group(1)] = out.get(m.group(1), 0.0) + value
    return out


@dataclass
class VllmReading:
    healthy: bool | None  # /health: True 200, False 503 (engine dead), None unknown
    running: float | None = None
    waiting: float | None = None
    kv_cache: float | None = None  # 0..1
    prompt_tokens_per_s: float | None = None
    error: str = ""


@dataclass
class VllmMonitor:
    """Polls one vLLM server; keeps the previous counter to turn it into a rate."""

    base_url: str  # the OpenAI root (".../v1") or the server root
    api_key: str | None = None
    verify: bool | str = True
    _last: tuple[float, float] | None = None
    history: deque[float] = field(default_factory=lambda: deque(maxlen=300))

    @property
    def root(self) -> str:
        return self.base_url[: -len("/v1")] if self.base_url.endswith("/v1") else self.base_url

    async def poll(self, client: httpx.AsyncClient | None = None) -> VllmReading:
        import httpx

        own = client is None
        http = client or httpx.AsyncClient(timeout=3.0, verify=self.verify)
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            try:
                health = await http.get(f"{self.root}/health", headers=headers)
                healthy: bool | None = health.status_code == 200
            except httpx.HTTPError as exc:
                return VllmReading(healthy=None, error=f"{self.root} unreachable ({type(exc).__name__})")
            try:
                resp = await http.get(f"{self.root}/metrics", headers=headers)
            except httpx.HTTPError as exc:
                return VllmReading(healthy=healthy, error=f"/metrics failed ({type(exc).__name__})")
            if resp.status_code != 200:
                return VllmReading(healthy=healthy, error=f"/metrics answered HTTP {resp.status_code}")
            return self.reading(healthy, resp.text)
        finally:
            if own:
                await http.aclose()

    def reading(self, healthy: bool | None, text: str, now: float | None = None) -> VllmReading:
        m = parse_prometheus(text)
        if not any(k.startswith("vllm:") for k in m):
            return VllmReading(healthy=healthy, error="no vllm: metrics here (not a vLLM server?)")
        now = time.monotonic() if now is None else now
        tokens = m.get("vllm:prompt_tokens_total")
        rate = None
        if tokens is not None:
            if self._last is not None and now > self._last[0]:
                rate = max(0.0, (tokens - self._last[1]) / (now - self._last[0]))
                self.history.append(rate)
            self._last = (now, tokens)
        kv = m.get("vllm:kv_cache_usage_perc", m.get("vllm:gpu_cache_usage_perc"))
        return VllmReading(
            healthy=healthy,
            running=m.get("vllm:num_requests_running"),
            waiting=m.get("vllm:num_requests_waiting"),
            kv_cache=kv,
            prompt_tokens_per_s=rate,
        )


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]
