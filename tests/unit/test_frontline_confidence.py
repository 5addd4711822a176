"""The front-line agent's confidence model: features, fitting, reliability, labels from history,
and where the shipped default comes from."""

from __future__ import annotations

import csv
import math
import random
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from deskops.domain.calibration import CalibrationOutcome
from deskops.domain.models import (
    CONFIDENCE_FEATURES,
    CalibrationSource,
    CandidateTrace,
    ConfidenceModel,
    ConfidenceTrace,
    Decision,
    DecisionTrace,
    FrontlineSettings,
)
from deskops.domain.search import HitExplanation, SearchHit
from deskops.frontline import confidence
from deskops.frontline.agent import Reply
from deskops.frontline.calibrate import labels_for
from deskops.frontline.questions import Known, QuestionBank, article_questions
from deskops.harness import eval_frontline, frontline_episodes
from deskops.harness.datasets import DatasetMissing
from deskops.harness.frontline_episodes import Episode, Record
from deskops.store.repositories.conversations import Opening
from hashing_embedder import HashingEmbedder


def _hit(
    article: str, score: float, *, bm25: float | None, dense: float | None, ranks: tuple[int, int]
) -> SearchHit:
    return SearchHit(
        id=f"article:{article}",
        kind="article",
        title=article,
        score=score,
        passage="",
        why=HitExplanation(
            matched_terms=["card"], bm25=bm25, bm25_rank=ranks[0], dense=dense, dense_rank=ranks[1]
        ),
    )


def _unit(*values: float) -> np.ndarray:
    vector = np.zeros(4, dtype=np.float32)
    vector[: len(values)] = values
    return vector / np.linalg.norm(vector)


# ------------------------------------------------------------------------------------------ features


def test_features_compare_each_candidate_with_the_best_other_article() -> None:
    hits = [
        _hit("a", 0.80, bm25=6.0, dense=0.70, ranks=(1, 1)),
        _hit("b", 0.60, bm25=3.0, dense=0.65, ranks=(2, 2)),
    ]
    query = _unit(1, 0)
    bank = QuestionBank(
        {
            "article:a": Known(np.stack([_unit(1, 1), _unit(0, 1)]), ("title", "faq")),
            "article:b": Known(np.stack([_unit(1, 0.1)]), ("conversation:c-1",)),
        }
    )
    a, b = confidence.candidate_features(
        hits=hits, query="my card is lost", query_vector=query, content_words=2, bank=bank
    )
    assert list(a) == list(CONFIDENCE_FEATURES)
    assert a["margin"] == pytest.approx(0.20) and b["margin"] == pytest.approx(-0.20)
    assert (a["keyword"], b["keyword"]) == (1.0, 0.5)
    assert (a["agree"], b["agree"], a["search_first"], b["search_first"]) == (1.0, 0.0, 1.0, 0.0)
    assert a["question"] == pytest.approx(math.sqrt(0.5), abs=1e-4)
    assert b["question"] == pytest.approx(1 / math.sqrt(1.01), abs=1e-4)
    assert b["question_lead"] == pytest.approx(b["question"] - a["question"], abs=1e-6)
    assert a["question_support"] == pytest.approx((math.sqrt(0.5) + 0.0) / 2, abs=1e-4)
    assert (a["known"], b["known"]) == (pytest.approx(math.log(3)), pytest.approx(math.log(2)))
    assert a["short"] == 1.0 and a["length"] == pytest.approx(math.log(3))
    assert a["matched_share"] == pytest.approx(1 / 4)
    assert a["topic"] == 0.0  # no topic vote: neutral


def test_a_past_conversation_never_counts_as_a_known_question_for_itself() -> None:
    hits = [_hit("a", 0.8, bm25=1.0, dense=0.7, ranks=(1, 1))]
    bank = QuestionBank(
        {"article:a": Known(np.stack([_unit(1), _unit(0, 1)]), ("conversation:c-7", "title"))}
    )
    seen = confidence.candidate_features(
        hits=hits, query="q", query_vector=_unit(1), content_words=5, bank=bank
    )[0]
    unseen = confidence.candidate_features(
        hits=hits, query="q", query_vector=_unit(1), content_words=5, bank=bank, excluding="conversation:c-7"
    )[0]
    assert seen["question"] == pytest.approx(1.0) and unseen["question"] == pytest.approx(0.0)
    assert unseen["known"] == pytest.approx(math.log(2))


@pytest.mark.parametrize(
    ("votes", "expected"),
    [
        ({"payouts": 3.0, "refunds": 1.0}, 0.25),  # 3/4 of the vote for a topic it serves, centred on 0.5
        ({"refunds": 1.0}, -0.5),  # every similar conversation is about a topic it does not serve
        ({}, 0.0),  # no vote: neutral
    ],
)
def test_the_topic_feature_is_the_vote_share_of_topics_the_article_serves(
    votes: dict[str, float], expected: float
) -> None:
    hits = [_hit("a", 0.8, bm25=1.0, dense=0.7, ranks=(1, 1))]
    # "a" serves payouts (9 of 10 citations); 1 citation of 10 in refunds is under a fifth.
    features = confidence.candidate_features(
        hits=hits,
        query="q",
        query_vector=None,
        content_words=5,
        bank=QuestionBank(),
        topic_votes=votes,
        article_topics={"a": {"payouts": 9, "refunds": 1}},
    )[0]
    assert features["topic"] == pytest.approx(expected)


def test_an_article_says_which_questions_it_answers() -> None:
    body = (
        "Cards arrive in a week.\n\n## Questions this answers\n\n- Where is my card\n- card not here yet\n\n"
        "## Steps\n\n1. Open the app.\n2. How do I track it?\n"
    )
    assert article_questions("Card arrival", body) == [
        "Card arrival",
        "Where is my card",
        "card not here yet",
        "How do I track it?",
    ]


# ------------------------------------------------------------------------------------------ fitting


def _synthetic(n: int, seed: int) -> tuple[list[dict[str, float]], list[int]]:
    """Rows whose label follows P(right) = logistic(-3 + 6 x question + 2 x margin)."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for _ in range(n):
        question, margin = float(rng.uniform(0, 1)), float(rng.normal(0, 0.3))
        p = 1 / (1 + math.exp(-(-3 + 6 * question + 2 * margin)))
        rows.append({"question": question, "margin": margin})
        labels.append(int(rng.uniform() < p))
    return rows, labels


def test_a_fit_recovers_the_relationship_and_is_calibrated_on_new_data() -> None:
    rows, labels = _synthetic(4000, seed=1)
    model = confidence.fit(
        rows, labels, kind="workspace", fitted_on="synthetic rows", features=("question", "margin")
    )
    weights = dict(zip(model.features, model.weights, strict=True))
    assert weights["question"] == pytest.approx(6, rel=0.2) and weights["margin"] == pytest.approx(
        2, rel=0.35
    )
    assert model.intercept == pytest.approx(-3, rel=0.2) and model.examples == 4000
    test_rows, test_labels = _synthetic(4000, seed=2)
    fitted = confidence.reliability([confidence.probability(model, r) for r in test_rows], test_labels)
    assert fitted.ece < 0.03
    # A model that is sure of everything is badly calibrated on the same data.
    overconfident = model.model_copy(update={"weights": [w * 4 for w in model.weights], "intercept": -12.0})
    worse = confidence.reliability([confidence.probability(overconfident, r) for r in test_rows], test_labels)
    assert worse.ece > fitted.ece + 0.05 and worse.brier > fitted.brier


def test_reliability_is_the_weighted_gap_per_bin() -> None:
    report = confidence.reliability([0.05, 0.15, 0.95, 0.95], [0, 1, 1, 0])
    # bins: [0.0,0.1) 1 question gap 0.05; [0.1,0.2) gap 0.85; [0.9,1.0] gap 0.45 for 2 questions
    assert report.ece == pytest.approx((0.05 + 0.85 + 2 * 0.45) / 4, abs=1e-4)
    assert [(b.low, b.questions) for b in report.bins] == [(0.0, 1), (0.1, 1), (0.9, 2)]
    assert report.brier == pytest.approx((0.05**2 + 0.85**2 + 0.05**2 + 0.95**2) / 4, abs=1e-4)


def test_fitting_needs_both_kinds_of_example() -> None:
    with pytest.raises(ValueError, match="both right and wrong"):
        confidence.fit(
            [{"question": 0.5}] * 5, [1] * 5, kind="workspace", fitted_on="x", features=("question",)
        )


def test_drivers_name_the_features_that_moved_the_probability_most() -> None:
    model = ConfidenceModel(
        features=["question", "margin", "short"],
        weights=[6.0, 2.0, -1.0],
        intercept=-3.0,
        means=[0.5, 0.0, 0.2],
        fitted_on="x",
        examples=10,
    )
    drivers = confidence.drivers(model, {"question": 0.9, "margin": -0.3, "short": 0.2})
    assert drivers == ["question 0.90 (+2.40)", "margin -0.30 (-0.60)", "short 0.20 (+0.00)"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"features": ["question", "colour"]}, "unknown feature"),
        ({"features": ["question", "question"]}, "named twice"),
        ({"weights": [1.0]}, "same length"),
        ({"intercept": float("inf")}, "finite"),
    ],
)
def test_a_stored_model_is_checked(change: dict[str, object], message: str) -> None:
    document = {
        "features": ["question", "margin"],
        "weights": [1.0, 2.0],
        "intercept": 0.0,
        "means": [0.0, 0.0],
        "fitted_on": "x",
        "examples": 3,
    } | change
    with pytest.raises(ValidationError, match=message):
        FrontlineSettings.model_validate({"confidence_model": document})


# ----------------------------------------------------------------------------- labels from history


def _reply(*articles: str) -> Reply:
    candidates = [
        CandidateTrace(article=f"article:{a}", search_rank=n, probability=0.5, features={"question": n / 10})
        for n, a in enumerate(articles, 1)
    ]
    trace = DecisionTrace(
        created_at=datetime(2026, 10, 1, tzinfo=UTC),
        query="q",
        confidence=0.5,
        threshold=0.4,
        calibration=ConfidenceTrace(
            article=candidates[0].article, model="m", drivers=[], candidates=candidates
        ),
        decision=Decision.answer,
        reason="r",
        reply="r",
        model="offline",
        latency_ms=1.0,
    )
    return Reply(decision=Decision.answer, reply="r", reason="r", citations=[], trace=trace)


def _opening(outcome: str | None, *, topic: str | None = "payouts", reopened: int = 0) -> Opening:
    return Opening(
        external_id="c-1",
        created_at=datetime(2026, 10, 1, tzinfo=UTC),
        topic=topic,
        channel="chat",
        ai_involved=True,
        outcome=outcome,
        plan=None,
        region=None,
        text="q",
        reopen_count=reopened,
    )


TOPICS = {"kb-pay": {"payouts": 8, "refunds": 2}, "kb-ref": {"refunds": 10}}


@pytest.mark.parametrize(
    ("outcome", "reopened", "expected"),
    [
        ("ai_resolved", 0, {"kb-pay": 1, "kb-ref": 0}),  # the cited article resolved it
        ("ai_resolved", 1, {"kb-pay": 0, "kb-ref": 0}),  # reopened: the answer was not right
        ("escalated_unresolved", 0, {"kb-pay": 0, "kb-ref": 0}),
        ("human_resolved", 0, {"kb-pay": 0, "kb-ref": 0}),
        ("abandoned", 0, {"kb-ref": 0}),  # says nothing about the cited article
    ],
)
def test_history_labels_the_cited_article_by_outcome_and_others_by_topic(
    outcome: str, reopened: int, expected: dict[str, int]
) -> None:
    labelled = labels_for(
        _reply("kb-pay", "kb-ref", "kb-new"), _opening(outcome, reopened=reopened), ["kb-pay"], TOPICS
    )
    assert {item.features["question"]: item.right for item in labelled} == {
        {"kb-pay": 0.1, "kb-ref": 0.2}[a]: right for a, right in expected.items()
    }


def test_without_a_topic_only_the_cited_article_is_labelled() -> None:
    labelled = labels_for(_reply("kb-pay", "kb-ref"), _opening("ai_resolved", topic=None), ["kb-ref"], TOPICS)
    assert [(item.features["question"], item.right) for item in labelled] == [(0.2, 1)]


# ------------------------------------------------------------------------------ the shipped default


def test_the_shipped_default_was_fitted_on_development_data_only() -> None:
    shipped = confidence.shipped()
    sources = shipped.model.sources
    assert shipped.model.kind == "default" and sources and shipped.rule == eval_frontline.THRESHOLD_RULE
    assert all(s.dataset in ("banking77", "simulated") for s in sources)
    assert all(s.split == "train" for s in sources if s.dataset == "banking77")
    expected = {
        (seed, history)
        for seed in eval_frontline.DEVELOPMENT_SEEDS
        for history in eval_frontline.DEVELOPMENT_HISTORIES
    }
    assert {(s.seed, s.history) for s in sources if s.dataset == "banking77"} == expected
    assert {s.seed for s in sources if s.dataset == "simulated"} == set(
        eval_frontline.DEVELOPMENT_SIMULATED_SEEDS
    )
    assert eval_frontline.SIMULATED_SEED not in eval_frontline.DEVELOPMENT_SIMULATED_SEEDS
    assert [d.source for d in shipped.development] == sources
    assert 0 < shipped.threshold < 1 and set(shipped.model.features) == set(CONFIDENCE_FEATURES)


def _record(confidence_: float, correct: bool, in_scope: bool) -> Record:
    return Record(in_scope, confidence_, True, correct, [], [])


def test_fitting_the_default_refuses_the_test_split() -> None:
    rng = random.Random(0)
    records = []
    for _ in range(50):
        features = {"question": rng.random()}
        right = int(features["question"] > 0.5)
        candidate = CandidateTrace(article="article:a", search_rank=1, probability=0.5, features=features)
        records.append(Record(bool(right), 0.5, True, bool(right), [candidate], [right]))
    leaked = Episode(CalibrationSource(dataset="banking77", split="test", seed=0, questions=50), {}, records)
    with pytest.raises(ValueError, match="training questions only"):
        eval_frontline.fit_default([leaked])
    allowed = Episode(
        CalibrationSource(dataset="banking77", split="train", seed=100, questions=50), {}, records
    )
    fitted = eval_frontline.fit_default([allowed])
    assert fitted.model.sources == [allowed.source] and fitted.development[0].source == allowed.source


def test_the_threshold_rule_is_the_lowest_probability_meeting_both_floors() -> None:
    # In scope: right answers at 0.9, wrong ones at 0.3; out of scope: a tenth at 0.5, the rest at 0.1.
    records = [_record(0.9, True, True)] * 90 + [_record(0.3, False, True)] * 10
    records += [_record(0.5, False, False)] * 10 + [_record(0.1, False, False)] * 90
    # At 0.11 the wrong in-scope answers still count (accuracy 0.9 < 0.95); from 0.31 they are handed
    # over and 90 % of out-of-scope questions are too.
    assert eval_frontline.choose_threshold(records) == 0.31


def test_development_episodes_never_read_the_test_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Banking77 development episode needs train.csv only, and never opens test.csv."""
    folder = tmp_path / "banking77"
    folder.mkdir()
    rng = random.Random(1)
    words = ["card", "transfer", "refund", "pin", "cash", "fee", "rate", "top", "limit", "account"]
    with (folder / "train.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        for intent in words:
            for n in range(20):
                writer.writerow([f"question {n} about my {intent} {rng.choice(words)}", f"{intent}_issue"])
    read: list[str] = []
    real = frontline_episodes.read_banking77

    def spy(path: Path) -> list[tuple[str, str]]:
        read.append(path.name)
        return real(path)

    monkeypatch.setattr(frontline_episodes, "read_banking77", spy)
    episode = frontline_episodes.banking77_episode(
        seed=100, split="train", history=3, max_queries=40, root=tmp_path, embedder=HashingEmbedder()
    )
    assert read == ["train.csv"]
    assert episode.source.split == "train" and len(episode.records) == 40
    assert episode.help_center["in_scope_intents"] == 6  # 65 % of 10 intents
    assert any(r.candidates for r in episode.records)
    with pytest.raises(DatasetMissing, match=r"test\.csv"):
        frontline_episodes.banking77_episode(seed=0, split="test", root=tmp_path, embedder=HashingEmbedder())


def test_a_calibration_outcome_leaves_out_what_did_not_happen() -> None:
    outcome = CalibrationOutcome(
        workspace="w",
        decision="kept",
        reason="too little history",
        conversations=3,
        labelled=2,
        right=1,
        wrong=1,
    )
    assert set(outcome.to_json()) == {
        "workspace",
        "decision",
        "reason",
        "conversations",
        "labelled",
        "right",
        "wrong",
        "protected_topics",
    }
