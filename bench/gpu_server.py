"""An OpenAI-compatible embedding server whose timing follows vLLM's continuous batching.

One engine loop. As in vLLM, each input of a request is its own sequence (vLLM's serving
layer turns a request of N inputs into N engine requests), and a request is answered when its
last input is done. Each step takes waiting inputs in arrival order up to a token budget and
a sequence cap (an input that alone exceeds the budget runs alone), and lasts
``step_ms + tokens / tokens_per_s``. The server-bound time of a corpus is therefore about
``tokens / tokens_per_s + ceil(tokens / budget) * step_ms``: the physical limit of an ingest.

Vectors are cheap deterministic pseudo-random unit vectors (the GPU's work is the sleep).
``GET /stats`` reports tokens, steps and busy time; ``GET /metrics`` speaks vLLM's names.

    python bench/gpu_server.py --port 8100 --tokens-per-s 100000 --step-ms 10
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np


def count_tokens(text: str) -> int:
    """The server's tokenizer: about 4 characters a token (BPE on English and code)."""
    return max(1, (len(text) + 3) // 4)


@dataclass(eq=False)
class _Job:
    """One input of a request: the request waits on ``done`` once its last input has run."""

    tokens: int
    request: _Request


@dataclass(eq=False)
class _Request:
    left: int
    done: threading.Event = field(default_factory=threading.Event)


class Engine:
    def __init__(self, tokens_per_s: float, step_ms: float, budget: int, max_seqs: int = 256):
        self.tokens_per_s = tokens_per_s
        self.step_s = step_ms / 1000
        self.budget = budget
        self.max_seqs = max_seqs
        self.queue: deque[_Job] = deque()
        self.cond = threading.Condition()
        self.tokens = 0
        self.steps = 0
        self.busy_s = 0.0
        self.gaps: list[tuple[float, float]] = []  # (when, how long) the queue was empty between steps
        self.overshoot_s = 0.0  # steps that lasted longer than they should (this process's own delays)
        self.requests = 0
        self.running = 0
        self.first_at = self.last_at = 0.0  # wall clock (time.time()) of the first step's start, the last's end
        threading.Thread(target=self._loop, daemon=True, name="engine").start()

    def submit(self, tokens: list[int], priority: int = 0) -> None:
        """Queue a request's inputs (their token counts) and wait until all have run; like
        vLLM's priority scheduling, a lower priority value goes first (it still waits for the
        step that is running: steps are not preempted)."""
        request = _Request(len(tokens))
        jobs = [_Job(n, request) for n in tokens]
        with self.cond:
            if priority < 0:
                self.queue.extendleft(reversed(jobs))
            else:
                self.queue.extend(jobs)
            self.requests += 1
            self.cond.notify()
        request.done.wait()

    def _loop(self) -> None:
        while True:
            with self.cond:
                idle_from = time.time()
                while not self.queue:
                    self.cond.wait()
                if self.last_at:
                    self.gaps.append((round(idle_from - self.first_at, 3), round(time.time() - idle_from, 4)))
                batch = [self.queue.popleft()]
                total = batch[0].tokens
                while self.queue and len(batch) < self.max_seqs and total + self.queue[0].tokens <= self.budget:
                    job = self.queue.popleft()
                    batch.append(job)
                    total += job.tokens
                self.running = len(batch)
            duration = self.step_s + total / self.tokens_per_s
            if not self.first_at:
                self.first_at = time.time()
            started = time.perf_counter()
            # sleep precisely: the GPU step is the unit of time being measured
            while (left := duration - (time.perf_counter() - started)) > 0:
                time.sleep(min(left, 0.002) if left < 0.003 else left - 0.002)
            over = time.perf_counter() - started - duration
            with self.cond:
                self.overshoot_s += over
                self.tokens += total
                self.steps += 1
                self.busy_s += duration
                self.running = 0
                self.last_at = time.time()
                finished = []
                for job in batch:
                    job.request.left -= 1
                    if not job.request.left:
                        finished.append(job.request)
            for request in finished:
                request.done.set()

    def stats(self) -> dict[str, Any]:
        with self.cond:
            return {
                "tokens": self.tokens,
                "steps": self.steps,
                "busy_s": self.busy_s,
                "requests": self.requests,
                "waiting": len(self.queue),
                "limit_s": self.tokens / self.tokens_per_s + self.steps * self.step_s,
                "first_at": self.first_at,
                "overshoot_s": self.overshoot_s,
                "gaps": [g for g in self.gaps if g[1] > 0.002],
                "last_at": self.last_at,
            }

    def reset(self) -> None:
        with self.cond:
            self.tokens = self.steps = self.requests = 0
            self.busy_s = self.first_at = self.last_at = self.overshoot_s = 0.0
            self.gaps = []


def _vectors(texts: list[str], dim: int) -> np.ndarray:
    out = np.empty((len(texts), dim), dtype=np.float32)
    for i, t in enumerate(texts):
        seed = int.from_bytes(hashlib.blake2b(t.encode("utf-8", "replace"), digest_size=8).digest(), "little")
        v = np.random.default_rng(seed).standard_normal(dim, dtype=np.float32)
        out[i] = v / np.linalg.norm(v)
    return out


def make_handler(engine: Engine, model: str, dim: int) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # as uvicorn (vLLM) does: no 40 ms delayed-ACK stalls

        def log_message(self, *a: Any) -> None:
            pass

        def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/stats":
                self._send(200, json.dumps(engine.stats()).encode())
            elif self.path == "/health":
                self._send(200, b"")
            elif self.path == "/v1/models":
                self._send(200, json.dumps({"object": "list", "data": [{"id": model, "object": "model"}]}).encode())
            elif self.path == "/metrics":
                s = engine.stats()
                text = (
                    f"vllm:num_requests_running {engine.running}\n"
                    f"vllm:num_requests_waiting {s['waiting']}\n"
                    f"vllm:kv_cache_usage_perc {min(1.0, engine.running / 64):.3f}\n"
                    f"vllm:prompt_tokens_total {s['tokens']}\n"
                )
                self._send(200, text.encode(), "text/plain")
            else:
                self._send(404, b'{"error": {"message": "Not Found", "type": "NotFoundError", "code": 404}}')

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/reset":
                engine.reset()
                self._send(200, b"{}")
                return
            body = json.loads(raw or b"{}")
            texts = body.get("input")
            texts = [texts] if isinstance(texts, str) else texts
            if body.get("model") != model:
                msg = {
                    "error": {
                        "message": f"The model `{body.get('model')}` does not exist.",
                        "type": "NotFoundError",
                        "param": None,
                        "code": 404,
                    }
                }
                self._send(404, json.dumps(msg).encode())
                return
            counts = [count_tokens(t) for t in texts]
            tokens = sum(counts)
            engine.submit(counts, int(body.get("priority") or 0))
            size = int(body.get("dimensions") or dim)
            vecs = _vectors(texts, size)
            b64 = body.get("encoding_format") == "base64"
            data = [
                {
                    "object": "embedding",
                    "index": i,
                    "embedding": base64.b64encode(v.tobytes()).decode() if b64 else v.tolist(),
                }
                for i, v in enumerate(vecs)
            ]
            usage = {"prompt_tokens": tokens, "total_tokens": tokens}
            self._send(200, json.dumps({"object": "list", "model": model, "data": data, "usage": usage}).encode())

    return Handler


def serve(port: int, tokens_per_s: float, step_ms: float, budget: int, model: str, dim: int) -> ThreadingHTTPServer:
    engine = Engine(tokens_per_s, step_ms, budget)
    httpd = ThreadingHTTPServer(("127.0.0.1", port), make_handler(engine, model, dim))
    httpd.daemon_threads = True
    return httpd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=8100)
    ap.add_argument("--tokens-per-s", type=float, default=100_000)
    ap.add_argument("--step-ms", type=float, default=10.0)
    ap.add_argument("--budget", type=int, default=16_384, help="tokens per engine step")
    ap.add_argument("--model", default="bench/gpu-timed")
    ap.add_argument("--dim", type=int, default=1024)
    a = ap.parse_args()
    httpd = serve(a.port, a.tokens_per_s, a.step_ms, a.budget, a.model, a.dim)
    print(
        f"gpu-timed server on http://127.0.0.1:{httpd.server_address[1]}/v1 "
        f"({a.tokens_per_s:.0f} tokens/s, step {a.step_ms} ms)",
        flush=True,
    )
    httpd.serve_forever()


if __name__ == "__main__":
    main()
