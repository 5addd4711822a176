"""The front-line agent's confidence: the chance that answering from a retrieved article is right.

Every article search returns (its best passage each) is a candidate. For each, a few
interpretable features are computed from what the agent already has — the search's scores
and ranks, the embedding of the message, the questions each article is known to answer
(``frontline/questions.py``) and the topic vote of similar past conversations — and a
logistic model turns them into a probability. The agent answers from the likeliest candidate
when that probability reaches the threshold ("answer when the chance of a right answer is at
least p"), which means the same on every workspace.

The features of one candidate (all computed per message, in microseconds):

- ``fused``: the fused search score of its best passage;
- ``margin``: that score minus the best passage of a *different* article (the best other candidate);
- ``dense``: the cosine similarity of its best passage (0 when dense search did not return it);
- ``keyword``: its BM25 score as a share of the best BM25 score among the candidates;
- ``agree``: 1 when BM25 and dense search both rank it first;
- ``matched_share``: the share of the message's words found in the passage;
- ``question``: the highest similarity of the message to a question the article is known to answer
  (its title, its FAQ, past conversations its citation resolved);
- ``question_support``: the mean of the three highest (several close questions, not one);
- ``question_lead``: ``question`` minus the best ``question`` of the other candidates;
- ``known``: log(1 + number of known questions) — how much evidence the two above rest on;
- ``search_first``: 1 for the article search ranked first;
- ``length``: log(1 + content words of the message); ``short``: 1 for three content words or fewer
  (vague messages);
- ``topic``: the share of the topic vote of similar past conversations that goes to topics this
  article serves, minus 0.5 (0 when there is no vote or the article has no citation history).

The shipped default (``confidence_default.json``) is fitted by ``deskops eval frontline
--fit-default`` on development data only; a workspace refits it with ``deskops frontline
calibrate``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Literal

import numpy as np
from pydantic import Field

from deskops.domain.calibration import Reliability, ReliabilityBin
from deskops.domain.models import CONFIDENCE_FEATURES, CalibrationSource, CandidateTrace, ConfidenceModel
from deskops.domain.search import SearchHit
from deskops.domain.types import Result
from deskops.frontline.questions import QuestionBank

SHORT_TERMS = 3
"""A message with at most this many content words is vague (``short``)."""
TOPIC_CITATION_SHARE = 0.2
"""An article serves a topic when at least this share of its citations are in conversations of it."""
DRIVERS = 3
BINS = 10
L2 = 1.0
"""Inverse regularisation strength (scikit-learn's ``C``)."""


class DevelopmentFigures(Result):
    """The shipped default on one development episode, at its threshold."""

    source: CalibrationSource
    in_scope_correct_rate: float
    accuracy_when_answered: float | None
    out_of_scope_handover_recall: float | None


class ShippedConfidence(Result):
    """The default confidence model deskops ships and the threshold chosen with it."""

    model: ConfidenceModel
    threshold: float = Field(ge=0.0, le=1.0)
    """Answer when the chance of a right answer is at least this."""
    rule: str
    """How the threshold was chosen (on the development data only)."""
    development: list[DevelopmentFigures] = Field(default_factory=list)


@cache
def shipped() -> ShippedConfidence:
    """The default model and threshold (read from the package on first use)."""
    text = resources.files("deskops.frontline").joinpath("confidence_default.json").read_text()
    return ShippedConfidence.model_validate(json.loads(text))


@dataclass(frozen=True)
class Judgement:
    """One candidate article, judged."""

    hit: SearchHit
    search_rank: int
    features: dict[str, float]
    probability: float

    def as_trace(self) -> CandidateTrace:
        return CandidateTrace(
            article=self.hit.id,
            search_rank=self.search_rank,
            probability=round(self.probability, 4),
            features={k: round(v, 4) for k, v in self.features.items()},
        )


def candidate_features(
    *,
    hits: Sequence[SearchHit],
    query: str,
    query_vector: np.ndarray | None,
    content_words: int,
    bank: QuestionBank,
    topic_votes: Mapping[str, float] | None = None,
    article_topics: Mapping[str, Mapping[str, int]] | None = None,
    excluding: str | None = None,
) -> list[dict[str, float]]:
    """The features of every hit (best first), in ``CONFIDENCE_FEATURES`` order.

    ``excluding`` (``conversation:<id>``) keeps a past conversation from counting as a known
    question for itself (replays and calibration ask past conversations again).
    """
    words = max(1, len([w for w in query.lower().split() if w]))
    best_keyword = max([h.why.bm25 or 0.0 for h in hits], default=0.0)
    questions = []
    for hit in hits:
        known = bank.get(hit.id)
        sims = (
            np.sort(known.similarities(query_vector, excluding=excluding))[::-1]
            if query_vector is not None
            else np.zeros(0)
        )
        questions.append(
            (
                float(sims[0]) if len(sims) else 0.0,
                float(sims[:3].mean()) if len(sims) else 0.0,
                len(sims),
            )
        )
    votes_total = sum(topic_votes.values()) if topic_votes else 0.0
    out = []
    for i, hit in enumerate(hits):
        others = [h for j, h in enumerate(hits) if j != i]
        other_best = max((h.score for h in others), default=0.0)
        question, support, count = questions[i]
        other_question = max((q[0] for j, q in enumerate(questions) if j != i), default=0.0)
        topic = 0.0
        served = _served(article_topics, hit.id) if votes_total else set()
        if served and topic_votes:
            topic = sum(w for t, w in topic_votes.items() if t in served) / votes_total - 0.5
        values = {
            "fused": hit.score,
            "margin": hit.score - other_best,
            "dense": hit.why.dense or 0.0,
            "keyword": (hit.why.bm25 or 0.0) / best_keyword if best_keyword > 0 else 0.0,
            "agree": 1.0 if hit.why.bm25_rank == 1 and hit.why.dense_rank == 1 else 0.0,
            "matched_share": min(1.0, len(hit.why.matched_terms) / words),
            "question": question,
            "question_support": support,
            "question_lead": question - other_question,
            "known": math.log1p(count),
            "search_first": 1.0 if i == 0 else 0.0,
            "length": math.log1p(content_words),
            "short": 1.0 if content_words <= SHORT_TERMS else 0.0,
            "topic": topic,
        }
        out.append({name: float(values[name]) for name in CONFIDENCE_FEATURES})
    return out


def _served(article_topics: Mapping[str, Mapping[str, int]] | None, article_id: str) -> set[str]:
    cited = (article_topics or {}).get(article_id.removeprefix("article:"))
    if not cited:
        return set()
    total = sum(cited.values())
    return {topic for topic, count in cited.items() if count >= TOPIC_CITATION_SHARE * total}


def probability(model: ConfidenceModel, features: Mapping[str, float]) -> float:
    """P(answering from this candidate is right) under ``model``."""
    z = model.intercept + sum(
        w * features.get(n, 0.0) for n, w in zip(model.features, model.weights, strict=True)
    )
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


def judge(
    model: ConfidenceModel, hits: Sequence[SearchHit], features: Sequence[dict[str, float]]
) -> list[Judgement]:
    """Each candidate with its probability, in search order."""
    return [
        Judgement(hit=hit, search_rank=rank, features=values, probability=probability(model, values))
        for rank, (hit, values) in enumerate(zip(hits, features, strict=True), start=1)
    ]


def likeliest(judgements: Sequence[Judgement]) -> Judgement | None:
    """The candidate an answer would come from: the highest probability (search order breaks ties)."""
    return max(judgements, key=lambda j: (j.probability, -j.search_rank), default=None)


def drivers(model: ConfidenceModel, features: Mapping[str, float], n: int = DRIVERS) -> list[str]:
    """The features that moved the log-odds most from the model's average candidate, strongest first."""
    moved = [
        (name, features.get(name, 0.0), weight * (features.get(name, 0.0) - mean))
        for name, weight, mean in zip(model.features, model.weights, model.means, strict=True)
    ]
    moved.sort(key=lambda m: -abs(m[2]))
    # ``+ 0.0`` turns a negative zero into zero: "(+0.00)", never "(-0.00)".
    return [f"{name} {value:.2f} ({round(effect, 2) + 0.0:+.2f})" for name, value, effect in moved[:n]]


def fit(
    rows: Sequence[Mapping[str, float]],
    labels: Sequence[int],
    *,
    kind: Literal["default", "workspace"],
    fitted_on: str,
    sources: Sequence[CalibrationSource] = (),
    features: Sequence[str] = CONFIDENCE_FEATURES,
    fitted_at: date | None = None,
) -> ConfidenceModel:
    """A logistic regression of right (1) / wrong (0) on the features of judged candidates."""
    from sklearn.linear_model import LogisticRegression

    if len(rows) != len(labels):
        raise ValueError(f"{len(rows)} rows but {len(labels)} labels")
    if len(set(labels)) < 2:
        raise ValueError("fitting needs both right and wrong examples")
    x = np.array([[row.get(name, 0.0) for name in features] for row in rows], dtype=float)
    y = np.asarray(labels, dtype=int)
    regression = LogisticRegression(C=L2, max_iter=10_000).fit(x, y)
    return ConfidenceModel(
        kind=kind,
        features=list(features),
        weights=[round(float(w), 5) for w in regression.coef_[0]],
        intercept=round(float(regression.intercept_[0]), 5),
        means=[round(float(m), 5) for m in x.mean(axis=0)],
        fitted_on=fitted_on,
        sources=list(sources),
        examples=len(rows),
        fitted_at=fitted_at,
    )


def reliability(predicted: Sequence[float], right: Sequence[bool | int], bins: int = BINS) -> Reliability:
    """Expected calibration error (``bins`` equal-width bins), Brier score and the reliability table."""
    p = np.asarray(predicted, dtype=float)
    y = np.asarray(right, dtype=float)
    if not len(p):
        return Reliability(questions=0, ece=0.0, brier=0.0)
    index = np.minimum((p * bins).astype(int), bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        inside = index == b
        if not inside.any():
            continue
        predicted_mean, observed = float(p[inside].mean()), float(y[inside].mean())
        ece += inside.mean() * abs(predicted_mean - observed)
        table.append(
            ReliabilityBin(
                low=round(b / bins, 2),
                high=round((b + 1) / bins, 2),
                questions=int(inside.sum()),
                predicted=round(predicted_mean, 4),
                observed=round(observed, 4),
            )
        )
    return Reliability(
        questions=len(p), ece=round(float(ece), 4), brier=round(float(((p - y) ** 2).mean()), 4), bins=table
    )
