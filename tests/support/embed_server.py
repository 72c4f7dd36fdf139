"""An OpenAI-compatible embeddings server for tests, speaking the way vLLM does.

Same routes (``/v1/embeddings``, ``/v1/models``, ``/health``), same request body, same answer
shape (``data[].index``, float or base64 ``embedding``, ``usage``) and the same error JSON
(``{"error": {"message", "type", "param", "code"}}``). Embeddings are deterministic feature
hashes of the words (so lexical overlap means similarity), which is all a test needs from a
model that cannot run here. Faults are injected on demand through :class:`Faults`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

WORD = re.compile(r"[A-Za-z][a-z]+|[A-Z]+(?![a-z])|\d+")


def hash_embed(text: str, dim: int) -> np.ndarray:
    vec = np.zeros(dim, dtype=np.float32)
    vec[0] = 0.5  # a shared component: unrelated texts score low but not all exactly 0 (no ties)
    for word in WORD.findall(text):
        h = int.from_bytes(hashlib.blake2b(word.lower().encode(), digest_size=8).digest(), "little")
        vec[h % dim] += 1.0 if (h >> 32) & 1 else -1.0
    return vec / float(np.linalg.norm(vec))


def count_tokens(text: str) -> int:
    return max(1, len(text) // 4)


@dataclass
class Faults:
    """What the server does wrong. Every field is off by default."""

    fail_rate: float = 0.0  # share of requests answered with a random 429/500/503
    fail_statuses: tuple[int, ...] = (429, 500, 503)
    retry_after_s: float | None = None  # sent with 429 / 503
    fail_next: list[int] = field(default_factory=list)  # statuses for the next requests, in order
    delay_s: float = 0.0  # before answering every request
    delay_next: list[float] = field(default_factory=list)  # extra delays for the next requests
    max_items: int | None = None  # more inputs than this -> max_items_status (413, or 400/422 "too many inputs")
    max_items_status: int = 413
    max_model_len: int | None = None  # an input longer than this (tokens) -> 400 context length
    wrong_count: bool = False  # one embedding too few
    wrong_count_next: int = 0  # one embedding too few, for this many answers
    wrong_dim: int | None = None  # answer vectors of this size
    not_json: bool = False  # answer 200 with an HTML page, as a proxy in front of a dead server can
    drop_next: int = 0  # close the connection without answering, this many times
    cut_next: int = 0  # send the headers and half of a 200 answer, then close the connection, this many times
    fail_from: int | None = None  # from this request on (1-based), answer fail_from_status
    fail_from_status: int = 400
    reject_base64: bool = False  # answer 400 to encoding_format "base64", like older servers
    seed: int = 1234


class EmbedServer:
    """Start with ``with EmbedServer() as srv: ... srv.base_url``."""

    def __init__(self, dim: int = 64, model: str = "test/hash-embed", api_key: str | None = None, port: int = 0):
        self.dim = dim
        self.port = port
        self.model = model
        self.api_key = api_key
        self.faults = Faults()
        self.requests = 0  # answered embedding requests (200)
        self.posts = 0  # every POST, answered or not
        self.reranks = 0
        self.running = 0  # requests being answered now (vllm:num_requests_running)
        self.prompt_tokens = 0  # vllm:prompt_tokens_total
        self.inputs: list[str] = []  # every input embedded, in arrival order
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self._rng = random.Random(self.faults.seed)
        self._httpd: ThreadingHTTPServer | None = None
        self._conns: set[Any] = set()
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self.port, "start the server first"
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> EmbedServer:
        server = self

        class Handler(_Handler):
            srv = server

        class Server(ThreadingHTTPServer):
            allow_reuse_address = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that was killed mid-request is part of the tests

        self._httpd = Server(("127.0.0.1", self.port), Handler)
        self.port = self._httpd.server_address[1]
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop like a killed server: open keep-alive connections are cut too."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        with self.lock:
            conns, self._conns = self._conns, set()
        for conn in conns:
            try:
                conn.shutdown(2)
            except OSError:
                pass

    def __enter__(self) -> EmbedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset_counts(self) -> None:
        with self.lock:
            self.requests = 0
            self.inputs.clear()
            self.bodies.clear()


class _Handler(BaseHTTPRequestHandler):
    srv: EmbedServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # as uvicorn (vLLM) does

    def log_message(self, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.srv.lock:
            self.srv._conns.add(self.connection)

    def _json(self, code: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _error(self, code: int, message: str, kind: str, headers: dict[str, str] | None = None) -> None:
        self._json(code, {"error": {"message": message, "type": kind, "param": None, "code": code}}, headers)

    def _authorised(self) -> bool:
        key = self.srv.api_key
        if key is None:
            return True
        if self.headers.get("Authorization") == f"Bearer {key}":
            return True
        self._error(401, "Unauthorized", "AuthenticationError")
        return False

    def do_GET(self) -> None:
        if self.path == "/health":
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/metrics":
            srv = self.srv
            body = (
                "# HELP vllm:num_requests_running Number of requests in model execution batches.\n"
                "# TYPE vllm:num_requests_running gauge\n"
                f'vllm:num_requests_running{{model_name="{srv.model}"}} {float(srv.running)}\n'
                "# TYPE vllm:num_requests_waiting gauge\n"
                f'vllm:num_requests_waiting{{model_name="{srv.model}"}} 0.0\n'
                "# TYPE vllm:kv_cache_usage_perc gauge\n"
                f'vllm:kv_cache_usage_perc{{model_name="{srv.model}"}} 0.25\n'
                "# TYPE vllm:prompt_tokens_total counter\n"
                f'vllm:prompt_tokens_total{{model_name="{srv.model}"}} {float(srv.prompt_tokens)}\n'
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/v1/models":
            if self._authorised():
                self._json(
                    200, {"object": "list", "data": [{"id": self.srv.model, "object": "model", "owned_by": "vllm"}]}
                )
        else:
            self._error(404, f"Not Found: {self.path}", "NotFoundError")

    def _rerank(self, raw: bytes) -> None:
        """vLLM's /rerank (Cohere/Jina shape); relevance = shared words, as a cross-encoder stand-in."""
        body = json.loads(raw or b"{}")
        query = {w.lower() for w in WORD.findall(body.get("query", ""))}
        docs = body.get("documents")
        if not isinstance(docs, list):
            self._error(400, "documents must be a list of strings", "BadRequestError")
            return
        results = []
        for i, doc in enumerate(docs):
            words = {w.lower() for w in WORD.findall(doc)}
            results.append(
                {"index": i, "document": {"text": doc}, "relevance_score": len(query & words) / (len(query) or 1)}
            )
        results.sort(key=lambda r: -r["relevance_score"])
        with self.srv.lock:
            self.srv.reranks += 1
        self._json(
            200, {"id": "rerank-1", "model": body.get("model"), "usage": {"total_tokens": 0}, "results": results}
        )

    def do_POST(self) -> None:
        with self.srv.lock:
            self.srv.running += 1
        try:
            self._post()
        finally:
            with self.srv.lock:
                self.srv.running -= 1

    def _post(self) -> None:
        srv = self.srv
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path == "/v1/rerank":
            self._rerank(raw)
            return
        if self.path != "/v1/embeddings":
            self._error(404, f"Not Found: {self.path}", "NotFoundError")
            return
        if not self._authorised():
            return
        f = srv.faults
        with srv.lock:
            srv.posts += 1
            if f.fail_from is not None and srv.posts >= f.fail_from:
                forced_permanent = f.fail_from_status
            else:
                forced_permanent = None
            if f.drop_next > 0:
                f.drop_next -= 1
                self.close_connection = True
                self.connection.shutdown(2)
                return
            forced = f.fail_next.pop(0) if f.fail_next else forced_permanent
            if forced is None and f.fail_rate and srv._rng.random() < f.fail_rate:
                forced = srv._rng.choice(f.fail_statuses)
        with srv.lock:
            extra = f.delay_next.pop(0) if f.delay_next else 0.0
        if f.delay_s or extra:
            time.sleep(f.delay_s + extra)
        if forced is not None:
            headers = (
                {"Retry-After": str(f.retry_after_s)} if f.retry_after_s is not None and forced in (429, 503) else None
            )
            kind = {429: "RateLimitError", 400: "BadRequestError"}.get(forced, "ServiceUnavailableError")
            self._error(forced, "injected failure", kind, headers)
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._error(400, "Invalid JSON body", "BadRequestError")
            return
        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            self._error(400, "input must be a non-empty string or list of strings", "BadRequestError")
            return
        if body.get("model") != srv.model:
            self._error(404, f"The model `{body.get('model')}` does not exist.", "NotFoundError")
            return
        if f.max_items is not None and len(texts) > f.max_items:
            kind = "PayloadTooLarge" if f.max_items_status == 413 else "BadRequestError"
            self._error(f.max_items_status, f"batch of {len(texts)} inputs exceeds the limit of {f.max_items}", kind)
            return
        if f.max_model_len is not None:
            for t in texts:
                n = count_tokens(t)
                if n > f.max_model_len:
                    self._error(
                        400,
                        f"This model's maximum context length is {f.max_model_len} tokens. However, "
                        f"you requested {n} tokens in the input for embedding generation. Please "
                        "reduce the length of the input.",
                        "BadRequestError",
                    )
                    return
        dim = body.get("dimensions") or srv.dim
        if dim > srv.dim:
            self._error(400, f"dimensions {dim} is larger than the model's {srv.dim}", "BadRequestError")
            return
        if f.wrong_dim:
            dim = f.wrong_dim
        encoding = body.get("encoding_format", "float")
        if encoding == "base64" and f.reject_base64:
            self._error(400, "encoding_format 'base64' is not supported", "BadRequestError")
            return
        data = []
        for i, t in enumerate(texts):
            vec = hash_embed(t, srv.dim)[:dim]
            vec = vec / (np.linalg.norm(vec) or 1.0)
            emb: Any = (
                base64.b64encode(vec.astype(np.float32).tobytes()).decode() if encoding == "base64" else vec.tolist()
            )
            data.append({"index": i, "object": "embedding", "embedding": emb})
        with srv.lock:
            short = f.wrong_count or f.wrong_count_next > 0
            if f.wrong_count_next > 0:
                f.wrong_count_next -= 1
        if short:
            data = data[:-1]
        data.reverse()  # order is not guaranteed: clients must map by index
        with srv.lock:
            srv.requests += 1
            srv.prompt_tokens += sum(count_tokens(t) for t in texts)
            srv.inputs.extend(texts)
            srv.bodies.append({k: v for k, v in body.items() if k != "input"})
        tokens = sum(count_tokens(t) for t in texts)
        answer = {
            "id": f"embd-{srv.requests}",
            "object": "list",
            "created": int(time.time()),
            "model": srv.model,
            "data": data,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens, "completion_tokens": 0},
        }
        with srv.lock:
            cut = f.cut_next > 0
            if cut:
                f.cut_next -= 1
        if cut:  # the connection breaks in the middle of the answer
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if f.not_json:
            page = b"<html><body><h1>502 Bad Gateway</h1>\x1b[31m</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        self._json(200, answer)
