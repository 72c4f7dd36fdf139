"""Vector stores: the embedded Qdrant Edge engine, and (later) a Qdrant server."""

from __future__ import annotations

from roocode_tui.core.config import StoreSettings
from roocode_tui.core.errors import ConfigError
from roocode_tui.core.stores.base import CollectionInfo, CollectionMeta, Hit, SearchFilter, Store


def open_store(settings: StoreSettings) -> Store:
    if settings.backend == "embedded":
        from roocode_tui.core.stores.edge import EdgeStore

        return EdgeStore(settings.data_dir)
    raise ConfigError(
        "store.backend = 'qdrant' is not available in this version; use 'embedded'"
    )


__all__ = ["CollectionInfo", "CollectionMeta", "Hit", "SearchFilter", "Store", "open_store"]
