"""Vector stores: the embedded Qdrant Edge engine, or a Qdrant server (or its local mode)."""

from __future__ import annotations

from roocode_tui.core.config import StoreSettings
from roocode_tui.core.errors import ConfigError
from roocode_tui.core.stores.base import CollectionInfo, CollectionMeta, Hit, SearchFilter, Store


def open_store(settings: StoreSettings) -> Store:
    if settings.backend == "embedded":
        from roocode_tui.core.stores.edge import EdgeStore

        return EdgeStore(settings.data_dir, vector_datatype=settings.vector_datatype)
    if settings.backend == "qdrant":
        from roocode_tui.core.stores.qdrant import QdrantStore

        return QdrantStore(settings)
    raise ConfigError(f"store.backend: unknown backend {settings.backend!r}")


__all__ = ["CollectionInfo", "CollectionMeta", "Hit", "SearchFilter", "Store", "open_store"]
