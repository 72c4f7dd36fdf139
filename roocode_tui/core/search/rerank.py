"""Optional reranking of the top results by a cross-encoder server.

The Cohere/Jina shape that vLLM serves for Qwen3-Reranker: ``POST {base_url}/rerank`` with
``{"model", "query", "documents"}`` answers ``{"results": [{"index", "relevance_score"}]}``.
Off by default (``[reranker] enabled``). The scores shown stay on the search's scale; only
the order changes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx

from roocode_tui.core.config import RerankerSettings
from roocode_tui.core.errors import EmbedderError
from roocode_tui.core.stores.base import Hit


class Reranker:
    def __init__(self, settings: RerankerSettings):
        self.settings = settings
        key = settings.api_key.get_secret_value() if settings.api_key else None
        self._key = key
        self._client = httpx.AsyncClient(
            base_url=settings.base_url,
            headers={"Authorization": f"Bearer {key}"} if key else {},
            timeout=settings.timeout_s,
        )

    async def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        n = min(self.settings.top_n, len(hits))
        if n < 2:
            return hits
        head, tail = hits[:n], hits[n:]
        body = {"model": self.settings.model, "query": query, "documents": [h.text for h in head]}
        where = f"reranker {self.settings.base_url}"
        try:
            resp = await self._client.post("/rerank", json=body)
        except httpx.HTTPError as exc:
            raise EmbedderError(f"{where}: {type(exc).__name__}") from None
        if resp.status_code != 200:
            text = resp.text[:200].replace(self._key or "\0", "***")
            raise EmbedderError(f"{where}: HTTP {resp.status_code}: {text}")
        try:
            results: list[dict[str, Any]] = resp.json()["results"]
            order = sorted(results, key=lambda r: -float(r["relevance_score"]))
            ranked = [head[int(r["index"])] for r in order]
        except (ValueError, KeyError, TypeError, IndexError):
            raise EmbedderError(f"{where}: answer is not {{results: [{{index, relevance_score}}]}}") from None
        seen = {id(h) for h in ranked}
        ranked += [h for h in head if id(h) not in seen]  # a server that returned fewer than asked
        return [dataclasses.replace(h) for h in ranked] + tail

    async def aclose(self) -> None:
        await self._client.aclose()
