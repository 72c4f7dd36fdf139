"""What every embedder offers the pipeline and search."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

MAX_INGEST_WAIT_S = 2.0  # the longest a held ingest batch waits for searches

QWEN3_TASK = "Given a search query, retrieve relevant code or documentation that answers it"


def default_prefixes(model: str) -> tuple[str, str]:
    """(query_prefix, document_prefix) for a model family; configurable per collection."""
    name = model.lower()
    if "qwen3-embedding" in name or "qwen3_embedding" in name:
        return f"Instruct: {QWEN3_TASK}\nQuery:", ""
    if "e5" in name.split("/")[-1]:
        return "query: ", "passage: "
    if "nomic-embed-code" in name:
        return "Represent this query for searching relevant code: ", ""
    if "nomic-embed-text" in name:
        return "search_query: ", "search_document: "
    if "bge" in name and "en" in name and "m3" not in name:
        return "Represent this sentence for searching relevant passages: ", ""
    return "", ""


@dataclass
class EmbedderStats:
    """Counters the progress model and the monitor read."""

    requests: int = 0
    items: int = 0
    failures: int = 0
    in_flight: int = 0
    latencies_s: list[float] = field(default_factory=list)

    def record(self, started: float, items: int) -> None:
        self.requests += 1
        self.items += items
        self.latencies_s.append(time.perf_counter() - started)
        if len(self.latencies_s) > 512:
            del self.latencies_s[:256]


@dataclass
class BatchResult:
    """Vectors for a batch; rows listed in ``failed`` (index -> reason) are zeros."""

    vectors: np.ndarray
    failed: dict[int, str] = field(default_factory=dict)


class Embedder(abc.ABC):
    """Turns texts into L2-normalised float32 vectors."""

    #: recorded in each collection; another model may not write or search it
    model_id: str
    query_prefix: str
    document_prefix: str
    #: texts per request the pipeline should aim for
    batch_size: int
    #: requests the pipeline may keep in flight
    max_concurrency: int
    max_batch_tokens: int

    def __init__(self) -> None:
        self.stats = EmbedderStats()

    def vector_identity(self) -> str:
        """What makes this embedder's document vectors what they are, besides their size: the
        model and the document prefix it adds (ingest/reuse.py keys reused vectors by it)."""
        return f"{self.model_id}\x00{self.document_prefix}"

    @abc.abstractmethod
    async def dimension(self) -> int:
        """The real output size (may ask the server once)."""

    @abc.abstractmethod
    async def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Vectors for document texts, shape (len(texts), dim)."""

    @abc.abstractmethod
    async def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Vectors for queries (with the query prefix), shape (len(texts), dim)."""

    async def embed_batch(self, texts: list[str]) -> BatchResult:
        """Like embed_documents, but one bad input fails alone instead of the whole batch."""
        return BatchResult(await self.embed_documents(texts))

    #: why indexing is paused (server down), or "" while all is well
    waiting: str = ""
    #: monotonic time until which ingest batches wait: a person is searching
    _hold_until: float = 0.0

    def hold_ingest(self, seconds: float) -> None:
        """Keep new ingest batches back for a while, so that a search has the server to itself.

        Batches already sent finish; the ones after them wait. Searches share the embedder with
        the ingest, and a saturated server answers a query only after the step it is running.
        """
        if seconds > 0:
            self._hold_until = max(self._hold_until, time.monotonic() + seconds)

    #: searches being answered now: new ingest batches wait for them
    _queries: int = 0

    @contextlib.contextmanager
    def searching(self) -> Iterator[None]:
        """While a search is answered, new ingest batches wait (the query meets a server that
        is finishing what it has, not a queue of batches)."""
        self._queries += 1
        try:
            yield
        finally:
            self._queries -= 1

    @property
    def ingest_held(self) -> bool:
        return self._queries > 0 or time.monotonic() < self._hold_until

    async def ingest_turn(self) -> None:
        """Wait while ingest is held back for a search (returns at once otherwise). A batch
        waits at most MAX_INGEST_WAIT_S: searches that never stop (a script polling) slow
        ingest down but never starve it."""
        start = time.monotonic()
        while self.ingest_held and time.monotonic() - start < MAX_INGEST_WAIT_S:
            await asyncio.sleep(0.02)

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections or threads."""

    def describe(self) -> str:
        return self.model_id


def normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32, copy=False)
