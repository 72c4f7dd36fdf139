"""The embedded store: Qdrant Edge (Qdrant's engine in-process), one shard per collection.

Layout under the data dir::

    collections/<name>/meta.json   what the collection was built with (written atomically)
    collections/<name>/<shard>/    the Edge shard named by meta.json's "shard" key
    collections/<name>/<shard2>/   during a rebuild: the new shard, named by meta.json's "building"

A rebuild writes its new shard beside the serving one and switches by replacing meta.json
(one atomic rename); processes that have the old shard open notice the switch on their next
call and move to the new shard. A background search-index build (the engine's, see
``begin_index_build``) works on a copy of the serving shard and switches the same way.
A shard directory that meta.json no longer names is removed once no process holds it (the
engine's WAL lock tells).

Calls into the engine block, so they run in worker threads; the engine is thread-safe.
Only one process may open a shard (its WAL is locked): a second gets StoreBusyError.

The parts: ``layout`` (the collection folders and meta.json), ``shards`` (the shards a
process has open, and the gate for letting their mapped pages go), ``builds`` (search-index
builds and their journal), ``points`` (writes, reads and search lanes) and ``store``
(``EdgeStore``, which holds them).
"""

from __future__ import annotations

from roocode_tui.core.stores.edge.builds import IndexBuild, Journal
from roocode_tui.core.stores.edge.store import EdgeStore

__all__ = ["EdgeStore", "IndexBuild", "Journal"]
