"""Vector stores: the embedded Qdrant Edge engine, or a Qdrant server (or its local mode).

The names below load on first use (PEP 562): a process that needs one module of this package
(the search-index build process, ``edge_build``) does not pay for the settings and numpy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from roocode_tui.core.config import StoreSettings
    from roocode_tui.core.stores.base import CollectionInfo, CollectionMeta, Hit, SearchFilter, Store

_FROM_BASE = ("CollectionInfo", "CollectionMeta", "Hit", "SearchFilter", "Store")


def open_store(settings: StoreSettings) -> Store:
    from roocode_tui.core.errors import ConfigError

    if settings.backend == "embedded":
        from roocode_tui.core.stores.edge import EdgeStore

        return EdgeStore(settings.data_dir, vector_datatype=settings.vector_datatype)
    if settings.backend == "qdrant":
        from roocode_tui.core.stores.qdrant import QdrantStore

        return QdrantStore(settings)
    raise ConfigError(f"store.backend: unknown backend {settings.backend!r}")


def __getattr__(name: str) -> Any:
    if name in _FROM_BASE:
        from roocode_tui.core.stores import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CollectionInfo", "CollectionMeta", "Hit", "SearchFilter", "Store", "open_store"]
