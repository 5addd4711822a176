"""Combining the BM25 and dense rankings."""

from __future__ import annotations

import numpy as np

RRF_K = 60


def reciprocal_rank_fusion(*rankings: np.ndarray, k: int = RRF_K) -> dict[int, float]:
    """Sum of 1 / (k + rank) over the rankings each candidate appears in (ranks start at 1)."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, candidate in enumerate(ranking.tolist(), start=1):
            fused[candidate] = fused.get(candidate, 0.0) + 1.0 / (k + rank)
    return fused


def weighted_blend(bm25: np.ndarray, dense: np.ndarray, *, alpha: float) -> np.ndarray:
    """``alpha`` x cosine similarity + (1 - alpha) x BM25 scaled to [0, 1] by the best candidate's score."""
    top = float(bm25.max()) if len(bm25) else 0.0
    keyword = bm25 / top if top > 0 else np.zeros_like(bm25)
    return alpha * dense + (1 - alpha) * np.clip(keyword, 0.0, None)
