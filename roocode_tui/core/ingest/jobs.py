"""An index run's units: a file's job (its chunks, their point ids, vectors as they come back),
the deterministic point ids, and the check that keeps two models out of one collection."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from roocode_tui.core.chunking.keywords import symbol_of
from roocode_tui.core.chunking.splitter import Chunk
from roocode_tui.core.embedders.base import Embedder
from roocode_tui.core.errors import ModelMismatchError
from roocode_tui.core.files.discovery import SourceFile
from roocode_tui.core.stores.base import CollectionMeta, FileState

POINT_NAMESPACE = uuid.UUID("6f0c2a8e-3b1d-5e47-9c2a-52f1d7a0e9b4")


def point_id(root: str, path: str, chunk_hash: str, occurrence: int = 0) -> str:
    """Deterministic id: the same chunk of the same file always lands on the same point.
    ``root``: the root's key in the collection (``Indexer.id_root``): its absolute path, or ""
    for the one root of a collection with portable ids (stores.base.PORTABLE_IDS)."""
    return str(uuid.uuid5(POINT_NAMESPACE, f"{root}\x00{path}\x00{chunk_hash}\x00{occurrence}"))


def chunk_ids(root: str, path: str, chunks: Iterable[Chunk]) -> list[str]:
    seen: dict[str, int] = {}
    ids = []
    for c in chunks:
        n = seen.get(c.chunk_hash, 0)
        seen[c.chunk_hash] = n + 1
        ids.append(point_id(root, path, c.chunk_hash, n))
    return ids


def check_compatible(meta: CollectionMeta, embedder: Embedder, dimension: int) -> None:
    """Refuse to mix vectors of two models in one collection."""
    if meta.model != embedder.model_id or meta.dimension != dimension:
        raise ModelMismatchError(
            f"collection {meta.name!r} was built with {meta.model} ({meta.dimension}-d) but the "
            f"configured embedder is {embedder.model_id} ({dimension}-d); use the original model, "
            f"or rebuild it: roocode-tui index --collection {meta.name} --rebuild"
        )


@dataclass(eq=False)
class FileJob:
    sf: SourceFile
    root: str
    file_hash: str
    chunks: list[Chunk]
    ids: list[str]
    old: FileState | None
    sparse: list[tuple[list[int], list[float]]] | None = None  # keyword vectors, hybrid collections
    vectors: list[np.ndarray | None] = field(default_factory=list)
    remaining: int = 0
    failed: str | None = None
    planned: list[int] = field(default_factory=list)  # a dry run: the chunks it would embed
    #: a file another collection holds whole: its points there (no chunks), and that collection
    copied: list[Any] | None = None
    copied_from: str = ""


def payload_symbol(chunk: Chunk) -> str | list[str]:
    """The payload's ``symbol``: the definition a chunk is, or each one a merged chunk holds
    (a keyword field matches any of a list)."""
    if len(chunk.symbols) > 1:
        return list(chunk.symbols)
    return chunk.symbols[0] if chunk.symbols else symbol_of(chunk.heading)


def display(root: Path | str, path: str) -> str:
    return path or str(root)
