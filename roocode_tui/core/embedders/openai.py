"""OpenAI-compatible ``/v1/embeddings`` over one pooled async httpx client (vLLM, TEI, llama.cpp...).

Request: ``{"input": [...], "model": ..., "dimensions"?: n, "encoding_format": "base64"}``;
results are mapped by ``index``, and the count and dimension of every answer are checked.
Transient failures (429, 5xx, timeouts, dropped connections) are retried with exponential
backoff and jitter, honouring ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import base64
import random
import time
from typing import Any

import httpx
import numpy as np

from roocode_tui.core.config import EmbedderSettings
from roocode_tui.core.embedders.base import Embedder, default_prefixes, normalize
from roocode_tui.core.errors import EmbedderError

RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
MAX_ATTEMPTS = 6
MAX_BACKOFF_S = 30.0


class OpenAIEmbedder(Embedder):
    def __init__(self, settings: EmbedderSettings):
        super().__init__()
        if not settings.model:
            raise EmbedderError(
                "embedder.model is required when embedder.provider is 'openai' "
                "(for example Qwen/Qwen3-Embedding-8B)"
            )
        self.settings = settings
        self.base_url = settings.base_url
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
        self._client: httpx.AsyncClient | None = None
        self._api_key = settings.api_key.get_secret_value() if settings.api_key else None

    # -- plumbing ---------------------------------------------------------------------------
    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
            limits = httpx.Limits(
                max_connections=self.max_concurrency + 2,
                max_keepalive_connections=self.max_concurrency + 2,
            )
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                headers=headers,
                timeout=httpx.Timeout(self.settings.timeout_s, connect=min(10.0, self.settings.timeout_s)),
                limits=limits,
            )
        return self._client

    def _mask(self, text: str) -> str:
        if self._api_key and self._api_key in text:
            text = text.replace(self._api_key, "***")
        return text

    def _where(self) -> str:
        return f"embedding server {self.base_url}"

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- protocol ---------------------------------------------------------------------------
    async def dimension(self) -> int:
        if not self._probed:
            vec = await self._embed(["dimension probe"])
            self._probed = True
            self._dimension = int(vec.shape[1])
        assert self._dimension is not None
        return self._dimension

    async def embed_documents(self, texts: list[str]) -> np.ndarray:
        p = self.document_prefix
        return await self._embed([p + t for t in texts] if p else texts)

    async def embed_queries(self, texts: list[str]) -> np.ndarray:
        p = self.query_prefix
        return await self._embed([p + t for t in texts] if p else texts)

    def describe(self) -> str:
        return f"{self.model_id} @ {self.base_url}"

    async def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dimension or 0), dtype=np.float32)
        started = time.perf_counter()
        self.stats.in_flight += 1
        try:
            data = await self._post_with_retries(texts)
            vectors = self._parse(data, len(texts))
        except BaseException:
            self.stats.failures += 1
            raise
        finally:
            self.stats.in_flight -= 1
        self.stats.record(started, len(texts))
        return vectors

    def _body(self, texts: list[str]) -> dict[str, Any]:
        body: dict[str, Any] = {"input": texts, "model": self.model_id, "encoding_format": self._encoding}
        if self.settings.dimensions:
            body["dimensions"] = self.settings.dimensions
        return body

    async def _post_with_retries(self, texts: list[str]) -> dict[str, Any]:
        client = self._http()
        delay = 0.5
        last = ""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                resp = await client.post("/embeddings", json=self._body(texts))
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                wait = delay
            else:
                if resp.status_code == 200:
                    try:
                        return resp.json()
                    except ValueError:
                        last = "answer is not JSON"
                        wait = delay
                elif resp.status_code in RETRY_STATUS:
                    last = f"HTTP {resp.status_code}: {_error_message(resp)}"
                    wait = _retry_after(resp) or delay
                elif self._encoding == "base64" and _rejects_base64(resp):
                    self._encoding = "float"  # an older server: ask for plain floats
                    continue
                else:
                    raise EmbedderError(self._mask(self._http_error(resp)))
            if attempt == MAX_ATTEMPTS:
                break
            await asyncio.sleep(min(MAX_BACKOFF_S, wait) * (0.75 + random.random() / 2))
            delay = min(MAX_BACKOFF_S, delay * 2)
        raise EmbedderError(self._mask(f"{self._where()}: gave up after {MAX_ATTEMPTS} attempts: {last}"))

    def _http_error(self, resp: httpx.Response) -> str:
        msg = _error_message(resp)
        code = resp.status_code
        if code in (401, 403):
            return f"{self._where()}: HTTP {code} unauthorised: check embedder.api_key ({msg})"
        if code == 404:
            return (
                f"{self._where()}: HTTP 404: model {self.model_id!r} or the /embeddings route "
                f"is unknown ({msg})"
            )
        return f"{self._where()}: HTTP {code}: {msg}"

    def _parse(self, data: dict[str, Any], expected: int) -> np.ndarray:
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise EmbedderError(f"{self._where()}: answer has no 'data' list")
        if len(items) != expected:
            raise EmbedderError(
                f"{self._where()}: sent {expected} inputs, got {len(items)} embeddings back"
            )
        rows: list[np.ndarray | None] = [None] * expected
        for pos, item in enumerate(items):
            index = item.get("index", pos)
            if not isinstance(index, int) or not 0 <= index < expected or rows[index] is not None:
                raise EmbedderError(f"{self._where()}: bad or repeated index {index!r} in answer")
            emb = item.get("embedding")
            if isinstance(emb, str):
                vec = np.frombuffer(base64.b64decode(emb), dtype=np.float32)
            else:
                vec = np.asarray(emb, dtype=np.float32)
            rows[index] = vec
        dims = {len(r) for r in rows if r is not None}
        if len(dims) != 1:
            raise EmbedderError(f"{self._where()}: embeddings of different sizes {sorted(dims)}")
        got = dims.pop()
        want = self.settings.dimensions
        matrix = np.vstack(rows)  # type: ignore[arg-type]
        if want and got > want:
            # Servers without Matryoshka support (llama.cpp): truncate and re-normalise.
            matrix = matrix[:, :want]
            got = want
        if (want and got != want) or (self._dimension and got != self._dimension):
            expect = want or self._dimension
            raise EmbedderError(
                f"{self._where()}: model {self.model_id!r} returned {got}-d vectors, expected {expect}"
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


def _rejects_base64(resp: httpx.Response) -> bool:
    return resp.status_code in (400, 422) and "base64" in _error_message(resp).lower()
