"""How a face reaches the engine: the background one for its store (found or started), or
one in the face's own process when the engine is off."""

from __future__ import annotations

from typing import Any


async def open_engine(settings: Any) -> Any:
    """The engine a command talks to: the background one (found or started), or, with the engine
    off, one in this process (a running background engine lets go of the store first). Either
    way the same calls (engine/api.py); the caller closes it."""
    if settings.engine.enabled:
        from roocode_tui.engine.client import connect

        return await connect(settings)
    from roocode_tui.engine.local import LocalEngine

    await release_store_first(settings)
    return LocalEngine(settings)


async def release_store_first(settings: Any) -> None:
    """A command about to open the store itself: a running engine lets go of it first."""
    from roocode_tui.engine.client import release_store

    await release_store(settings)
