"""The engine's metric sampler: once a second, the GPUs, vLLM's queue, and this engine's own
throughput and request latency go into its bounded history (core/history.py), and each run's
throughput into the run's own (RunRates), so F3 and F2 can chart the past of an engine they
attached to just now. Its latest GPU and vLLM readings are what F3 and the status bar show
(Engine.monitor): read then when it is not sampling (an engine inside a face before its first
chart, or one given its history)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from roocode_tui.core.monitor.history import MetricHistory, RunRates

LOG = logging.getLogger("roocode_tui.engine")
SAMPLE_S = 1.0
RETRY_S = 60.0  # a source that is not there (no GPU, not a vLLM server) is asked again this often


class Sampler:
    def __init__(self, engine: Any, history: MetricHistory, gpu_reader: Any = None):
        self.engine = engine
        self.history = history
        self.gpu_reader = gpu_reader
        self.rates: dict[str, RunRates] = {}  # run id -> its throughput since its start
        self._counts: dict[str, tuple[int, int]] = {}  # run id -> (chunks, tokens) at the last sample
        self._requests = 0  # the embedder's request count at the last sample
        self._skip_until = {"gpu": 0.0, "vllm": 0.0}
        self._vllm: Any = None
        self._http: Any = None
        self._task: asyncio.Task[None] | None = None
        self.gpus: tuple[list[Any], str] | None = None  # the latest GPU reading: (GPUs, why none)
        self.vllm: Any = None  # the latest VllmReading

    @property
    def vllm_url(self) -> str:
        """The server vLLM's metrics are read from ("" with the local model)."""
        cfg = self.engine.settings.embedder
        return cfg.base_urls[0].removesuffix("/v1") if cfg.provider == "openai" else ""

    async def latest_gpus(self) -> tuple[list[Any], str]:
        """The GPUs as last sampled (or read now, when the sampler is not running or has not
        read them yet), and why there are none."""
        if self._task is None or self.gpus is None:
            self.gpus = await self._read_gpus()
        return self.gpus

    async def latest_vllm(self) -> Any:
        """vLLM's metrics as last sampled (or read now, as :meth:`latest_gpus`); None with the
        local model."""
        if self.engine.settings.embedder.provider != "openai":
            return None
        if self._task is None or self.vllm is None:
            self.vllm = await self._read_vllm()
        return self.vllm

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="metric-sampler")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _loop(self) -> None:
        # The first round one period after the start: an engine started by a command is busy
        # then answering it and starting its run (the round imports the HTTP client and asks
        # the server for its metrics: ~0.1 s of the interpreter on the cold index's path).
        await asyncio.sleep(SAMPLE_S)
        while True:
            started = time.monotonic()
            try:
                await self.sample()
            except Exception:  # a sampler that dies would leave gaps forever: log and go on
                LOG.exception("metric sample failed")
            await asyncio.sleep(max(0.05, SAMPLE_S - (time.monotonic() - started)))

    async def sample(self) -> None:
        """One round: everything measured now goes in at one time."""
        now = self.history.clock()
        self.sample_engine(now)
        await asyncio.gather(self._sample_gpu(now), self._sample_vllm(now))

    def sample_engine(self, now: float) -> None:
        """This engine's chunks/s and tokens/s (counter deltas of every run since the last
        sample), each active run's own rates, and the latency of the requests that ended since."""
        chunks = tokens = 0
        runs = self.engine.all_runs()
        for run in runs:
            p = run.progress
            counts = (int(getattr(p, "chunks_embedded", 0)), int(getattr(p, "tokens_embedded", 0)))
            last = self._counts.get(run.id, (0, 0))
            dc, dt = counts[0] - last[0], counts[1] - last[1]
            self._counts[run.id] = counts
            chunks += max(0, dc)
            tokens += max(0, dt)
            if run.kind != "copy" and p.active:
                rates = self.rates.setdefault(run.id, RunRates())
                rates.add(p.elapsed, max(0, dc) / SAMPLE_S, max(0, dt) / SAMPLE_S)
        known = {r.id for r in runs}
        for gone in [k for k in self._counts if k not in known]:  # forgotten runs (engine keeps 20)
            self._counts.pop(gone, None)
            self.rates.pop(gone, None)
        self.history.add("chunks_per_s", chunks / SAMPLE_S, now)  # idle: 0, a point on the chart too
        self.history.add("tokens_per_s", tokens / SAMPLE_S, now)
        embedder = self.engine.open_embedder()
        if embedder is None:
            return
        stats = embedder.stats
        new = stats.requests - self._requests
        self._requests = stats.requests
        if new > 0:
            from roocode_tui.core.monitor.metrics import percentile

            recent = [x * 1000 for x in stats.latencies_s[-min(new, len(stats.latencies_s)) :]]
            self.history.add("latency_p50", percentile(recent, 0.5), now)
            self.history.add("latency_p95", percentile(recent, 0.95), now)
        elif new < 0:  # a new embedder (the store was released and opened again)
            self._requests = stats.requests

    async def _read_gpus(self) -> tuple[list[Any], str]:
        if self.gpu_reader is not None:
            return self.gpu_reader()
        from roocode_tui.core.monitor.gpu import read_gpus

        return await asyncio.to_thread(read_gpus)

    async def _sample_gpu(self, now: float) -> None:
        if now < self._skip_until["gpu"]:
            return
        self.gpus = await self._read_gpus()
        gpus = self.gpus[0]
        if not gpus:
            self._skip_until["gpu"] = now + RETRY_S
            return
        utils = [g.utilization for g in gpus if g.utilization is not None]
        if utils:
            self.history.add("gpu_util", sum(utils) / len(utils), now)
        self.history.add("vram_used", sum(g.memory_used for g in gpus) / 2**30, now)
        self.history.facts["vram_total"] = round(sum(g.memory_total for g in gpus) / 2**30, 3)

    async def _read_vllm(self) -> Any:
        import httpx

        from roocode_tui.core.monitor.metrics import VllmMonitor

        if self._vllm is None:
            cfg = self.engine.settings.embedder
            key = cfg.api_key.get_secret_value() if cfg.api_key else None
            self._vllm = VllmMonitor(cfg.base_urls[0], key, cfg.tls_verify_arg)
            self._http = httpx.AsyncClient(timeout=2.0, verify=self._vllm.verify)
        return await self._vllm.poll(self._http)

    async def _sample_vllm(self, now: float) -> None:
        settings = self.engine.settings
        if settings.embedder.provider != "openai" or now < self._skip_until["vllm"]:
            return
        reading = self.vllm = await self._read_vllm()
        if reading.error:
            self._skip_until["vllm"] = now + (RETRY_S if reading.healthy is not None else 5.0)
            return
        self.history.add("vllm_running", reading.running, now)
        self.history.add("vllm_waiting", reading.waiting, now)
        self.history.add("kv_cache", reading.kv_cache * 100 if reading.kv_cache is not None else None, now)
        self.history.add("prompt_tokens_per_s", reading.prompt_tokens_per_s, now)
