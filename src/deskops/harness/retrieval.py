"""Ranking metrics for search evaluation: nDCG@k, recall@k, hit@k and MRR.

A ranking is a sequence of document ids, best first. Relevance is graded: a mapping
from document id to a grade >= 1; ids absent from it (or graded <= 0) are not
relevant. A ranking may name the same document twice (say, two passages of one
article); every metric counts a document once, at its first (best) position, and
cuts at ``k`` after collapsing the repeats.

Recall@k divides by *all* relevant documents, the standard definition. When a query
has many relevant documents (Banking77 used as retrieval: every training example of
the query's intent is relevant, about 130 of them), recall@10 cannot exceed
10 / 130 by construction, so hit@k ("was anything relevant in the top k") is the
number to read there.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["RetrievalCase", "evaluate", "hit_at", "ndcg_at", "recall_at", "reciprocal_rank"]


@dataclass(frozen=True)
class RetrievalCase:
    """One query and the documents that answer it."""

    query: str
    relevant: dict[str, int] = field(default_factory=dict)
    """Document id -> graded relevance (>= 1). Empty: nothing answers it (an abstention case)."""

    def __post_init__(self) -> None:
        low = {doc_id: grade for doc_id, grade in self.relevant.items() if grade < 1}
        if low:
            raise ValueError(f"relevance grades must be >= 1, got {low} for query {self.query!r}")


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")


def _distinct(ranked: Sequence[str]) -> Iterator[str]:
    """The ranking with repeated ids dropped, keeping each id's first position."""
    seen: set[str] = set()
    for doc_id in ranked:
        if doc_id not in seen:
            seen.add(doc_id)
            yield doc_id


def _top(ranked: Sequence[str], k: int) -> list[str]:
    _check_k(k)
    top: list[str] = []
    for doc_id in _distinct(ranked):
        if len(top) == k:
            break
        top.append(doc_id)
    return top


def _relevant_ids(relevant: Mapping[str, int]) -> set[str]:
    return {doc_id for doc_id, grade in relevant.items() if grade > 0}


def _dcg(grades: Sequence[int]) -> float:
    # Gain 2**rel - 1 rewards a highly relevant document much more than a marginal one.
    return sum((2**grade - 1) / math.log2(position + 2) for position, grade in enumerate(grades))


def ndcg_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int = 10) -> float:
    """Normalised DCG of the top k (gain 2**grade - 1, log2 discount); 0.0 when nothing is relevant."""
    top = _top(ranked, k)
    grades = sorted((grade for grade in relevant.values() if grade > 0), reverse=True)
    ideal = _dcg(grades[:k])
    if ideal == 0:
        return 0.0
    return _dcg([max(relevant.get(doc_id, 0), 0) for doc_id in top]) / ideal


def recall_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """Share of all relevant documents found in the top k; 0.0 when nothing is relevant."""
    wanted = _relevant_ids(relevant)
    if not wanted:
        _check_k(k)
        return 0.0
    return len(wanted.intersection(_top(ranked, k))) / len(wanted)


def hit_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """1.0 when at least one relevant document is in the top k, else 0.0."""
    wanted = _relevant_ids(relevant)
    return 1.0 if wanted.intersection(_top(ranked, k)) else 0.0


def reciprocal_rank(ranked: Sequence[str], relevant: Mapping[str, int]) -> float:
    """1 / rank of the first relevant document over the whole ranking, 0.0 when none is found."""
    wanted = _relevant_ids(relevant)
    for rank, doc_id in enumerate(_distinct(ranked), start=1):
        if doc_id in wanted:
            return 1.0 / rank
    return 0.0


def evaluate(
    cases: Sequence[RetrievalCase],
    rankings: Sequence[Sequence[str]],
    ks: Sequence[int] = (1, 5, 10),
    *,
    ndcg_k: int = 10,
) -> dict[str, float]:
    """Mean ndcg@10, recall@k, hit@k and MRR over the cases that have relevant documents.

    Abstention cases (empty ``relevant``) are left out of every average, since no
    ranking can score on them; ``queries`` is the number of cases averaged.
    """
    if len(cases) != len(rankings):
        raise ValueError(f"{len(cases)} cases but {len(rankings)} rankings: give one ranking per case")
    for k in (*ks, ndcg_k):
        _check_k(k)
    sums: dict[str, float] = {f"ndcg@{ndcg_k}": 0.0}
    sums.update({f"recall@{k}": 0.0 for k in ks})
    sums.update({f"hit@{k}": 0.0 for k in ks})
    sums["mrr"] = 0.0
    answered = 0
    for case, ranked in zip(cases, rankings, strict=True):
        if not case.relevant:
            continue
        answered += 1
        sums[f"ndcg@{ndcg_k}"] += ndcg_at(ranked, case.relevant, ndcg_k)
        for k in ks:
            sums[f"recall@{k}"] += recall_at(ranked, case.relevant, k)
            sums[f"hit@{k}"] += hit_at(ranked, case.relevant, k)
        sums["mrr"] += reciprocal_rank(ranked, case.relevant)
    result = {name: (total / answered if answered else 0.0) for name, total in sums.items()}
    result["queries"] = answered
    return result
