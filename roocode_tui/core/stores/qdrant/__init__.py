"""A Qdrant server through ``AsyncQdrantClient`` (or qdrant-client's local mode with ``path``).

Three layers, each a module: :mod:`.client` connects and retries each call, :mod:`.lifecycle`
keeps the collections behind their aliases and rebuilds them, :mod:`.store` holds the points
and answers searches (:class:`QdrantStore`).
"""

from roocode_tui.core.stores.qdrant.store import QdrantStore

__all__ = ["QdrantStore"]
