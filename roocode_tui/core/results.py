"""What a search answers: hits, files and results, as plain dataclasses with the JSON the engine
sends (``to_json``) and reads back (``from_json``).

The standard library only (numpy loads when a hit is made with a stored vector): the store
contract (core/stores/base.py) and the searcher (core/search/searcher.py) re-export these, and
the thin path of a face (cli/search.py, entry.py) reads the engine's answer into them without
loading the store's code, pydantic or numpy.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

DENSE = "dense"  # the dense vector's name in every store


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    score: float
    root: str
    path: str
    start_line: int
    end_line: int
    language: str
    text: str
    heading: str
    vector: np.ndarray | None = None
    #: which version of its file the chunk is from: (indexed_at, mtime_ns, file_hash); not shown
    version: tuple[str, int, str] | None = None
    #: the collection it came from, in a search of several collections ("" in a search of one)
    collection: str = ""
    #: the (normalised) names of the definitions the chunk holds: its payload's ``symbol``
    symbols: tuple[str, ...] = ()
    #: why it ranks where it does (core/search/ranker.py), when a search was asked to explain
    explain: dict[str, Any] | None = None

    @classmethod
    def from_payload(cls, point_id: Any, score: float, payload: dict[str, Any], vector: Any = None) -> Hit:
        file_hash = payload.get("file_hash")
        version = None
        if isinstance(file_hash, str):
            version = (str(payload.get("indexed_at", "")), int(payload.get("mtime_ns") or 0), file_hash)
        return cls(
            id=str(point_id),
            score=float(score),
            root=str(payload.get("root", "")),
            path=str(payload.get("path", "")),
            start_line=int(payload.get("start_line", 0)),
            end_line=int(payload.get("end_line", 0)),
            language=str(payload.get("language", "")),
            text=str(payload.get("text", "")),
            heading=str(payload.get("heading", "")),
            vector=dense_of(vector),
            version=version,
            symbols=_symbols(payload.get("symbol")),
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Hit:
        hit = cls.from_payload(data.get("id", ""), float(data.get("score", 0.0)), data)
        if data.get("collection"):
            hit = dataclasses.replace(hit, collection=str(data["collection"]))
        if isinstance(data.get("explain"), dict):
            hit = dataclasses.replace(hit, explain=data["explain"])
        return hit

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "root": self.root,
            "path": self.path,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "score": round(self.score, 6),
            "language": self.language,
            "heading": self.heading,
            "text": self.text,
            **({"collection": self.collection} if self.collection else {}),
            **({"explain": self.explain} if self.explain is not None else {}),
        }


@dataclass
class FileResult:
    """A file as an answer: where something lives, with its best chunks, best first."""

    root: str
    path: str
    language: str
    score: float  # its best chunk's
    hits: list[Hit]
    collection: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "path": self.path,
            "language": self.language,
            "score": round(self.score, 6),
            "chunks": [h.to_json() for h in self.hits],
            **({"collection": self.collection} if self.collection else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileResult:
        hits = [Hit.from_json(h) for h in data.get("chunks", [])]
        return cls(
            str(data.get("root", "")),
            str(data.get("path", "")),
            str(data.get("language", "")),
            float(data.get("score", 0.0)),
            hits,
            str(data.get("collection", "")),
        )


@dataclass
class SearchResult:
    query: str
    collection: str
    hits: list[Hit]
    embed_ms: float = 0.0
    store_ms: float = 0.0
    mode: str = "dense"
    note: str = ""
    filters: dict[str, Any] = field(default_factory=dict)
    #: the same search as ranked files (a search grouped by file), else None
    files: list[FileResult] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SearchResult:
        """A result as :meth:`to_json` wrote it (the engine's answer to a face)."""
        timing = data.get("timing_ms") or {}
        hits = [Hit.from_json(h) for h in data.get("results", [])]
        files = [FileResult.from_json(f) for f in data["files"]] if isinstance(data.get("files"), list) else None
        return cls(
            data["query"],
            data["collection"],
            hits,
            float(timing.get("embed", 0.0)),
            float(timing.get("store", 0.0)),
            data.get("mode", "dense"),
            data.get("note", ""),
            files=files,
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "query": self.query,
            "collection": self.collection,
            "mode": self.mode,
            "results": [h.to_json() for h in self.hits],
            "timing_ms": {"embed": round(self.embed_ms, 1), "store": round(self.store_ms, 1)},
        }
        if self.files is not None:
            out["files"] = [f.to_json() for f in self.files]
        if self.note:
            out["note"] = self.note
        return out

    def answered(self) -> SearchResult:
        """The result as the engine answers it: what :meth:`to_json` carries and nothing more
        (scores and times rounded, no stored vector, file version or symbols), so an engine in
        a face's process answers exactly what the client of a served one reads back."""
        return SearchResult.from_json(self.to_json())


def dense_of(vector: Any) -> np.ndarray | None:
    """The dense vector of a point as either backend returns it (a list, or {name: list})."""
    if isinstance(vector, dict):
        vector = vector.get(DENSE)
    if vector is None:
        return None
    import numpy as np

    return np.asarray(vector, dtype=np.float32)


def _symbols(value: Any) -> tuple[str, ...]:
    """A payload's ``symbol``: one name, a list of them (a merged chunk), or none."""
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str) and v)
    return ()
