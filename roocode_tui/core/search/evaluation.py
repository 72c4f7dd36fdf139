"""Scoring ranked search results against questions answered by files.

A result list is scored as the published whole-repository benchmarks score it: hits are
chunks, in order, and an answering file counts at the rank of its first chunk; later chunks
of a file already found take their place in the top 10 and score nothing (a list of ten
chunks of one file answers one file). Relevance is binary.

- NDCG@10: sum over answering files found at rank r of 1/log2(r + 1), over the ideal.
- MRR@10: 1 / the rank of the first chunk of any answering file.
- Recall@10: the share of answering files found in the top 10.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

from roocode_tui.core.search.questions import Question

K = 10


@dataclass
class Score:
    ndcg: float
    mrr: float
    recall: float


def score(question: Question, ranked_paths: Sequence[str], k: int = K) -> Score:
    """One question's score for the paths of its hits, best first (one path per chunk)."""
    wanted = set(question.files)
    first: dict[str, int] = {}
    for rank, path in enumerate(ranked_paths[:k], 1):
        if path in wanted and path not in first:
            first[path] = rank
    dcg = sum(1.0 / math.log2(r + 1) for r in first.values())
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(k, len(wanted)) + 1))
    mrr = 1.0 / min(first.values()) if first else 0.0
    return Score(dcg / ideal if ideal else 0.0, mrr, len(first) / len(wanted) if wanted else 0.0)


@dataclass
class Summary:
    n: int = 0
    ndcg: float = 0.0
    mrr: float = 0.0
    recall: float = 0.0
    per_kind: dict[str, Summary] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "questions": self.n,
            "ndcg@10": round(self.ndcg, 4),
            "mrr@10": round(self.mrr, 4),
            "recall@10": round(self.recall, 4),
        }
        if self.per_kind:
            out["by_kind"] = {kind: s.to_json() for kind, s in sorted(self.per_kind.items())}
        return out


def summarise(pairs: Iterable[tuple[Question, Score]], *, by_kind: bool = True) -> Summary:
    """The mean scores of (question, score) pairs, overall and per kind of question."""
    pairs = list(pairs)
    out = _mean(pairs)
    if by_kind:
        kinds = sorted({q.kind for q, _ in pairs})
        out.per_kind = {kind: _mean([(q, s) for q, s in pairs if q.kind == kind]) for kind in kinds}
    return out


def _mean(pairs: list[tuple[Question, Score]]) -> Summary:
    n = len(pairs)
    if not n:
        return Summary()
    return Summary(
        n,
        sum(s.ndcg for _, s in pairs) / n,
        sum(s.mrr for _, s in pairs) / n,
        sum(s.recall for _, s in pairs) / n,
    )


@dataclass(frozen=True)
class Setup:
    """One way of searching that an evaluation compares."""

    label: str
    mode: str
    ranking: bool
    rerank: bool = False


SETUPS = (
    Setup("dense", "dense", False),
    Setup("keyword", "keyword", False),
    Setup("hybrid", "hybrid", False),
    Setup("hybrid + ranking", "hybrid", True),
)
#: with a reranker configured, the same setups again through it
RERANKED = (
    Setup("hybrid + reranker", "hybrid", False, True),
    Setup("hybrid + ranking + reranker", "hybrid", True, True),
)


def setups(reranker: bool) -> tuple[Setup, ...]:
    """The setups an evaluation compares: the stack on and off, and the reranker on and off
    when one is configured."""
    return SETUPS + RERANKED if reranker else SETUPS


BATCH = 32  # questions per search request (progress moves per batch)

#: (queries, setup) -> for each query, the paths of its hits, best first
Searcher = Callable[[list[str], Setup], Awaitable[list[list[str]]]]
#: (setup label, questions done, questions in all)
Progress = Callable[[str, int, int], None]


async def evaluate(
    asked: Sequence[Question],
    search: Searcher,
    setups: Sequence[Setup] = SETUPS,
    on_progress: Progress | None = None,
) -> list[dict[str, object]]:
    """Each setup's scores over ``asked``: overall, per kind of question, and per half
    (``tune``/``held-out``), as JSON-ready dicts, in the order of ``setups``."""
    rows: list[dict[str, object]] = []
    for setup in setups:
        scored: list[tuple[Question, Score]] = []
        for start in range(0, len(asked), BATCH):
            batch = list(asked[start : start + BATCH])
            ranked = await search([q.text for q in batch], setup)
            scored += [(q, score(q, paths)) for q, paths in zip(batch, ranked, strict=True)]
            if on_progress is not None:
                on_progress(setup.label, len(scored), len(asked))
        rows.append(
            {
                "setup": setup.label,
                "mode": setup.mode,
                "ranking": setup.ranking,
                "rerank": setup.rerank,
                **summarise(scored).to_json(),
                "by_half": {
                    half: summarise([(q, s) for q, s in scored if q.half == half], by_kind=False).to_json()
                    for half in ("tune", "held-out")
                },
            }
        )
    return rows
