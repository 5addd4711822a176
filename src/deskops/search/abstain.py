"""How likely the best hit answers the query: the "no good match" signal callers abstain on.

A logistic model over four features of the ranking. Its weights were fitted with
`deskops eval search --dataset simulated --fit-abstention` (simulated help center,
seed 7: target = "the top hit is a relevant article", queries with no published
answer included as negatives) and are checked for calibration on other data by
`deskops eval search` (Brier score and expected calibration error in its output).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deskops.search.index import Hit

FEATURES = ("bias", "dense_top", "dense_margin", "matched_share", "retrievers_agree")
WEIGHTS = (-1.034, 1.9652, 2.7181, 0.5858, 1.1005)
"""Fitted 2026-11-26 (simulated, seed 7, 702 queries): Brier 0.182, ECE 0.038, AUC 0.751."""
DEFAULT_THRESHOLD = 0.5


def features(
    *, dense_top: float, dense_second: float | None, matched_share: float, agree: bool
) -> list[float]:
    margin = dense_top - dense_second if dense_second is not None else dense_top
    return [1.0, dense_top, margin, matched_share, 1.0 if agree else 0.0]


def signals(query: str, hits: Sequence[Hit]) -> list[float]:
    """Feature values for a ranked list of hits (best first)."""
    top = hits[0].explanation
    words = [w for w in query.lower().split() if w]
    second = hits[1].explanation.dense if len(hits) > 1 else None
    return features(
        dense_top=float(top.dense or 0.0),
        dense_second=float(second) if second is not None else None,
        matched_share=len(top.matched_terms) / max(1, len(words)),
        agree=top.bm25_rank == 1 and top.dense_rank == 1,
    )


def confidence(values: Sequence[float], weights: Sequence[float] = WEIGHTS) -> float:
    """Probability that the top hit answers the query."""
    z = sum(w * x for w, x in zip(weights, values, strict=True))
    return 1 / (1 + math.exp(-max(-40.0, min(40.0, z))))


def fit(
    rows: Sequence[Sequence[float]], labels: Sequence[int], *, steps: int = 3000, l2: float = 1e-3
) -> list[float]:
    """Logistic regression by gradient descent (a handful of features; no dependency needed)."""
    import numpy as np

    x = np.asarray(rows, dtype=float)
    y = np.asarray(labels, dtype=float)
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -40, 40)))
        gradient = x.T @ (p - y) / len(y) + l2 * np.r_[0.0, w[1:]]
        hessian = (x.T * (p * (1 - p))) @ x / len(y) + l2 * np.eye(len(w))
        w -= np.linalg.solve(hessian, gradient)  # Newton steps converge in a few iterations
        if np.abs(gradient).max() < 1e-8:
            break
    return [round(float(v), 4) for v in w]
