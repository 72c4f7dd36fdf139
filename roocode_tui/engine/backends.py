"""What the engine works with: the store, the embedder and the reranker, opened on the first
request that needs them and kept until the engine is released or closed."""

from __future__ import annotations

import asyncio
import time
from typing import Any


class Backends:
    """The engine's store, embedder and reranker. ``released``: let go of for an in-process
    command (the watchers come back when they are opened again)."""

    def __init__(self, engine: Any):
        self.engine = engine
        self.store: Any = None
        self.embedder: Any = None
        self.reranker: Any = None
        self.released = False
        self.used = time.monotonic()  # the last search or run
        self.pages_kept = False  # pages mapped in since the store's last release
        self._lock = asyncio.Lock()
        self._releasing: set[asyncio.Future[Any]] = set()  # page releases under way (kept referenced)

    async def open(self) -> tuple[Any, Any]:
        """The store and the embedder, opened now if they are not."""
        async with self._lock:
            if self.store is None:
                from roocode_tui.core.backends import make_reranker, open_backends

                self.store, self.embedder = open_backends(self.engine.settings)
                self.reranker = make_reranker(self.engine.settings)
                if self.released:
                    self.engine.reopened()
                self.released = False
        return self.store, self.embedder

    def searched(self) -> None:
        """A search maps in the pages it touches: they are let go once the store is idle."""
        self.used, self.pages_kept = time.monotonic(), True

    async def release_pages(self) -> bool:
        """Let the store's mapped pages go (core/stores/edge/store.py ``release_pages``); True when
        the store can and there were pages kept since the last time."""
        release = getattr(self.store, "release_pages", None)
        kept, self.pages_kept = self.pages_kept, False
        if not kept or release is None:
            return False
        await asyncio.to_thread(release)
        return True

    def release_pages_soon(self) -> None:
        """After a run: the pages of the store's mapped files it wrote, let go in a thread (it
        waits for store calls under way: core/stores/edge/shards.py MapGate). Not awaited: the run ends now (a
        watcher's deferred sync looks at it at once)."""
        release = getattr(self.store, "release_pages", None)
        if release is not None:
            task = asyncio.ensure_future(asyncio.to_thread(release))
            self._releasing.add(task)
            task.add_done_callback(self._releasing.discard)

    async def release(self) -> None:
        """Close them for an in-process command; opened again by the next request."""
        self.released = True
        async with self._lock:
            await self.close()

    async def close(self) -> None:
        store, embedder, reranker = self.store, self.embedder, self.reranker
        self.store = self.embedder = self.reranker = None
        if reranker is not None:
            await reranker.aclose()
        if embedder is not None:
            await embedder.aclose()
        if store is not None:
            await store.close()
