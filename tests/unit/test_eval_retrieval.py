"""Retrieval metrics (hand-computed values, properties) and the public data set loaders."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskops.errors import Unavailable
from deskops.harness.datasets import (
    SHARED_DATA_ENV,
    DatasetMissing,
    RetrievalDataset,
    load_banking77,
    load_stackfaq,
    shared_data_dir,
)
from deskops.harness.retrieval import (
    RetrievalCase,
    evaluate,
    hit_at,
    ndcg_at,
    recall_at,
    reciprocal_rank,
)

CHECKOUT = Path(__file__).resolve().parents[2]
SHARED_DATA = CHECKOUT.parent / "shared" / "data"


# --- metrics, by hand ---------------------------------------------------------------


def test_single_relevant_at_rank_two() -> None:
    ranked, relevant = ["a", "b", "c"], {"b": 1}
    assert ndcg_at(ranked, relevant, 10) == pytest.approx(1 / math.log2(3))
    assert reciprocal_rank(ranked, relevant) == 0.5
    assert hit_at(ranked, relevant, 1) == 0.0
    assert hit_at(ranked, relevant, 5) == 1.0
    assert recall_at(ranked, relevant, 1) == 0.0
    assert recall_at(ranked, relevant, 2) == 1.0


def test_graded_relevance() -> None:
    # Gains 2**rel - 1: c (rel 2) -> 3, a (rel 1) -> 1.
    ranked, relevant = ["a", "x", "c"], {"a": 1, "c": 2}
    dcg = 1 / math.log2(2) + 3 / math.log2(4)
    ideal = 3 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at(ranked, relevant, 10) == pytest.approx(dcg / ideal)
    assert ndcg_at(["c", "a"], relevant, 10) == pytest.approx(1.0)
    # Cut at k=1 the ideal is the single best grade.
    assert ndcg_at(ranked, relevant, 1) == pytest.approx(1 / 3)
    assert recall_at(ranked, relevant, 2) == 0.5
    assert reciprocal_rank(ranked, relevant) == 1.0


def test_k_smaller_than_ranking_ignores_the_tail() -> None:
    ranked, relevant = ["x", "y", "z", "a"], {"a": 1, "b": 1}
    assert ndcg_at(ranked, relevant, 3) == 0.0
    assert recall_at(ranked, relevant, 3) == 0.0
    assert hit_at(ranked, relevant, 3) == 0.0
    assert recall_at(ranked, relevant, 4) == 0.5
    # Two relevant documents, so the ideal DCG at 4 counts both.
    assert ndcg_at(ranked, relevant, 4) == pytest.approx((1 / math.log2(5)) / (1 + 1 / math.log2(3)))
    assert reciprocal_rank(ranked, relevant) == 0.25


def test_recall_divides_by_every_relevant_document() -> None:
    relevant = {f"d{i}": 1 for i in range(20)}
    ranked = [f"d{i}" for i in range(10)]
    assert recall_at(ranked, relevant, 10) == 0.5
    assert hit_at(ranked, relevant, 1) == 1.0


def test_duplicates_count_once_at_their_first_position() -> None:
    ranked, relevant = ["a", "a", "b"], {"a": 1, "b": 1}
    # Collapsed to ["a", "b"]: both found in the top 2, an ideal ranking.
    assert recall_at(ranked, relevant, 2) == 1.0
    assert ndcg_at(ranked, relevant, 2) == pytest.approx(1.0)
    assert ndcg_at(["x", "x", "b"], {"b": 1}, 10) == pytest.approx(1 / math.log2(3))
    assert reciprocal_rank(["x", "x", "b"], {"b": 1}) == 0.5


def test_empty_relevant_scores_zero() -> None:
    for metric in (ndcg_at, recall_at, hit_at):
        assert metric(["a", "b"], {}, 5) == 0.0
    assert reciprocal_rank(["a"], {}) == 0.0
    assert ndcg_at([], {"a": 1}, 10) == 0.0


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="k must be >= 1"):
        recall_at(["a"], {"a": 1}, 0)
    with pytest.raises(ValueError, match="k must be >= 1"):
        evaluate([RetrievalCase("q", {"a": 1})], [["a"]], ks=(0,))


def test_case_refuses_grades_below_one() -> None:
    with pytest.raises(ValueError, match="grades must be >= 1"):
        RetrievalCase("q", {"a": 0})


def test_evaluate_averages_answerable_cases_only() -> None:
    cases = [
        RetrievalCase("first", {"a": 1}),
        RetrievalCase("second", {"b": 1}),
        RetrievalCase("no answer exists", {}),
    ]
    rankings = [["a", "x"], ["x", "y", "b"], ["a"]]
    result = evaluate(cases, rankings)
    assert set(result) == {
        "ndcg@10",
        "recall@1",
        "recall@5",
        "recall@10",
        "hit@1",
        "hit@5",
        "hit@10",
        "mrr",
        "queries",
    }
    assert result["queries"] == 2
    assert result["mrr"] == pytest.approx((1 + 1 / 3) / 2)
    assert result["hit@1"] == 0.5
    assert result["recall@5"] == 1.0
    assert result["ndcg@10"] == pytest.approx((1 + 1 / math.log2(4)) / 2)


def test_evaluate_with_no_answerable_case_and_mismatched_input() -> None:
    result = evaluate([RetrievalCase("nothing", {})], [["a"]], ks=(3,))
    assert result == {"ndcg@10": 0.0, "recall@3": 0.0, "hit@3": 0.0, "mrr": 0.0, "queries": 0}
    with pytest.raises(ValueError, match="one ranking per case"):
        evaluate([RetrievalCase("q", {"a": 1})], [])


# --- metrics, properties ------------------------------------------------------------

_IDS = st.sampled_from([f"d{i}" for i in range(8)])


@given(
    ranked=st.lists(_IDS, max_size=12),
    relevant=st.dictionaries(_IDS, st.integers(min_value=1, max_value=3), max_size=6),
    k=st.integers(min_value=1, max_value=12),
)
def test_metric_bounds_and_monotone_recall(ranked: list[str], relevant: dict[str, int], k: int) -> None:
    ndcg = ndcg_at(ranked, relevant, k)
    assert 0.0 <= ndcg <= 1.0 + 1e-12
    assert 0.0 <= reciprocal_rank(ranked, relevant) <= 1.0
    recalls = [recall_at(ranked, relevant, j) for j in range(1, 14)]
    assert recalls == sorted(recalls)
    hits = [hit_at(ranked, relevant, j) for j in range(1, 14)]
    assert hits == sorted(hits)
    assert all(hit >= recall for hit, recall in zip(hits, recalls, strict=True))
    if relevant:
        ideal = sorted(relevant, key=lambda doc_id: -relevant[doc_id])
        noise = [doc_id for doc_id in ranked if doc_id not in relevant]
        assert ndcg_at(ideal + noise, relevant, k) == pytest.approx(1.0)
        assert recall_at(ideal, relevant, len(ideal)) == 1.0


# --- loaders ------------------------------------------------------------------------


def _needs(folder: str) -> Path:
    if not (SHARED_DATA / folder).is_dir():
        pytest.skip(f"shared data set not found: {SHARED_DATA / folder} (see ../shared/data/README.md)")
    return SHARED_DATA


@pytest.fixture(scope="module")
def stackfaq() -> RetrievalDataset:
    return load_stackfaq(_needs("stackfaq"))


@pytest.fixture(scope="module")
def banking77() -> RetrievalDataset:
    return load_banking77(_needs("banking77"))


def test_shared_data_dir_defaults_beside_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SHARED_DATA_ENV, raising=False)
    assert shared_data_dir() == SHARED_DATA
    monkeypatch.setenv(SHARED_DATA_ENV, "/somewhere/else")
    assert shared_data_dir() == Path("/somewhere/else")


def test_missing_folder_raises_dataset_missing(tmp_path: Path) -> None:
    with pytest.raises(DatasetMissing, match=r"stackfaq.*stackExchange-FAQ\.json"):
        load_stackfaq(tmp_path)
    (tmp_path / "banking77").mkdir()
    (tmp_path / "banking77" / "train.csv").write_text("text,category\n", encoding="utf-8")
    with pytest.raises(DatasetMissing, match=r"banking77.*test\.csv") as raised:
        load_banking77(tmp_path)
    assert raised.value.folder == tmp_path / "banking77"
    assert isinstance(raised.value, Unavailable) and raised.value.status == 503


def test_stackfaq_threads_and_paraphrases(stackfaq: RetrievalDataset) -> None:
    assert stackfaq.name == "stackfaq"
    assert len(stackfaq.corpus) == 125
    assert len(stackfaq.cases) == 1249
    ids = {doc.id for doc in stackfaq.corpus}
    assert ids == {f"sf-{i}" for i in range(125)}
    assert all(doc.title and doc.text for doc in stackfaq.corpus)
    assert stackfaq.corpus[0].title == "Strikethrough with GitHub Markdown"
    for case in stackfaq.cases:
        assert case.query and case.query == case.query.strip() and case.query != "*"
        assert len(case.relevant) == 1 and set(case.relevant) <= ids
    assert stackfaq.cases[0].relevant == {"sf-0": 1}


def test_banking77_intents_as_relevance(banking77: RetrievalDataset) -> None:
    assert len(banking77.corpus) == 10_003
    assert len(banking77.cases) == 3_080
    assert all(doc.title == "" and doc.text for doc in banking77.corpus)
    assert banking77.corpus[0].id == "b77-train-0"
    ids = {doc.id for doc in banking77.corpus}
    relevant_sets = {frozenset(case.relevant) for case in banking77.cases}
    assert len(relevant_sets) == 77  # one set of training examples per intent
    assert all(case.relevant and set(case.relevant) <= ids for case in banking77.cases)
    # The intents partition the training set.
    assert sum(len(group) for group in relevant_sets) == 10_003


def test_banking77_sample_is_stratified_and_deterministic() -> None:
    root = _needs("banking77")
    first = load_banking77(root, max_queries=100, seed=7)
    again = load_banking77(root, max_queries=100, seed=7)
    other = load_banking77(root, max_queries=100, seed=8)
    assert len(first.cases) == 100
    assert first.cases == again.cases
    assert first.cases != other.cases
    assert len(first.corpus) == 10_003
    # Every intent appears once before any appears twice: 77 intents, 23 of them twice.
    counts: dict[frozenset[str], int] = {}
    for case in first.cases:
        key = frozenset(case.relevant)
        counts[key] = counts.get(key, 0) + 1
    assert len(counts) == 77 and max(counts.values()) == 2
    with pytest.raises(ValueError, match="max_queries"):
        load_banking77(root, max_queries=0)
