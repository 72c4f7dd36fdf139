"""One order for search results, whatever the store and however it was built.

A store breaks ties by storage position, and storage position depends on how a collection
was written (one run, or a run resumed after a crash, a copy, a restore). Two stores with
the same points must answer the same query with the same list, so every list here is
ordered by score, then by a key unique to the point (its location, then its id), and a
store's top-k is widened until no tie crosses the cut. Hybrid search fuses its two lanes
here too (weighted reciprocal rank fusion, Qdrant's formula), from lanes ordered that way,
instead of in the store: a store's fusion ranks tied lane hits by storage position, which
changes the fused scores themselves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the stores' contract uses this module: only its annotations name Hit
    from roocode_tui.core.stores.base import Hit

RRF_K = 60  # as in Qdrant's Fusion.Rrf(k=60)
SCORE_DIGITS = 6  # scores equal to this many places are a tie (float16 vs float32 copies agree)
EXTRA = 8  # the first window beyond the cut
MAX_WINDOW = 8192  # a collection of identical chunks stops widening here


def rank_key(hit: Hit) -> tuple[float, str, str, int, int, str]:
    """Score first; a tie goes by where the chunk is (root, path, lines: what a person reads),
    then by point id, which is unique."""
    return (-round(hit.score, SCORE_DIGITS), hit.root, hit.path, hit.start_line, hit.end_line, hit.id)


def ordered(hits: Iterable[Hit]) -> list[Hit]:
    """Best first; equal scores in the order of :func:`rank_key`."""
    return sorted(hits, key=rank_key)


def settled(hits: Sequence[Hit], limit: int, asked: int) -> bool:
    """Whether the first ``limit`` of a store's top ``asked`` (already :func:`ordered`) are
    the same whichever tied points the store happened to return: true when the store ran out
    of points, or when the score at the cut is above the last one fetched (then every point
    tied with the cut is in the window)."""
    if len(hits) < asked or len(hits) <= limit or asked >= MAX_WINDOW:
        return True
    return rank_key(hits[limit - 1])[0] < rank_key(hits[-1])[0]


def stable_top(fetch: Callable[[int], list[Hit]], limit: int) -> list[Hit]:
    """The top ``limit`` of ``fetch(n)`` (a store's top n, in its own order), in a stable order."""
    asked = limit + EXTRA
    while True:
        hits = ordered(fetch(asked))
        if settled(hits, limit, asked):
            return hits[:limit]
        asked *= 2


async def stable_top_async(fetch: Callable[[int], Awaitable[list[Hit]]], limit: int) -> list[Hit]:
    """:func:`stable_top` for a store that answers asynchronously."""
    asked = limit + EXTRA
    while True:
        hits = ordered(await fetch(asked))
        if settled(hits, limit, asked):
            return hits[:limit]
        asked *= 2


def rrf_score(position: int, weight: float) -> float:
    """Qdrant's weighted RRF term for a 0-based position: ``1 / ((position + 1) / weight + k - 1)``
    (weight 1 gives the classic ``1 / (k + rank)``)."""
    return 1.0 / ((position + 1) / weight + RRF_K - 1)


def fuse(lanes: Sequence[Sequence[Hit]], weights: Sequence[float], limit: int) -> list[Hit]:
    """Weighted RRF of lanes that are each :func:`ordered`; the fused score replaces each hit's."""
    scores: dict[str, float] = {}
    hits: dict[str, Hit] = {}
    for lane, weight in zip(lanes, weights, strict=True):
        if weight <= 0:
            continue
        for position, hit in enumerate(lane):
            scores[hit.id] = scores.get(hit.id, 0.0) + rrf_score(position, weight)
            kept = hits.get(hit.id)
            if kept is None or (kept.vector is None and hit.vector is not None):
                hits[hit.id] = hit
    return ordered(dataclasses.replace(hits[pid], score=score) for pid, score in scores.items())[:limit]


def lane_depth(limit: int) -> int:
    """How deep each lane of a hybrid query looks."""
    return max(limit * 4, 40)
