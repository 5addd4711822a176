"""`deskops eval search`: every method on the same queries, in one run; hybrid must win on nDCG@10.

The figures published in docs/search.md (every query of every data set) come from the
``slow`` tests here, run by ``make bench``; ``make test`` checks the same claims on an
evenly spread sample of the simulated queries.
"""

from __future__ import annotations

from typing import Any

import pytest

from deskops.harness.datasets import shared_data_dir
from deskops.harness.eval_search import load, run


def test_hybrid_beats_both_single_methods_on_a_sample_of_the_simulated_queries(real_embedder: Any) -> None:
    report = run(load("simulated", max_queries=240), embedder=real_embedder)
    methods = report["methods"]
    assert report["hybrid_beats_best_single"]
    assert methods["hybrid_rerank"]["ndcg@10"] > max(methods["bm25"]["ndcg@10"], methods["dense"]["ndcg@10"])
    assert methods["dense"]["ndcg@10"] > methods["bm25"]["ndcg@10"] > 0.5
    # Every 702 / 240 th phrasing: the sample covers the topics without a published answer too.
    no_answer = report["abstention"]["no_answer_queries"]
    assert no_answer > 0 and methods["hybrid_rerank"]["queries"] + no_answer == 240
    assert report["abstention"]["auc"] > 0.7


@pytest.mark.slow
def test_hybrid_beats_both_single_methods_on_the_simulated_help_center(real_embedder: Any) -> None:
    report = run(load("simulated"), embedder=real_embedder)
    methods = report["methods"]
    assert report["hybrid_beats_best_single"]
    assert methods["hybrid_rerank"]["ndcg@10"] > max(methods["bm25"]["ndcg@10"], methods["dense"]["ndcg@10"])
    assert methods["dense"]["ndcg@10"] > methods["bm25"]["ndcg@10"] > 0.5
    assert methods["hybrid_rerank"]["queries"] == 601  # 702 phrasings minus 101 with no published answer
    abstention = report["abstention"]
    assert abstention["ece"] < 0.1 and abstention["auc"] > 0.7 and abstention["no_answer_queries"] == 101


@pytest.mark.slow
def test_stackfaq_figures(real_embedder: Any) -> None:
    if not (shared_data_dir() / "stackfaq").exists():
        pytest.skip(f"StackFAQ not found in {shared_data_dir()}")
    report = run(
        load("stackfaq", max_queries=400), embedder=real_embedder, methods=("bm25", "dense", "hybrid_rerank")
    )
    methods = report["methods"]
    assert report["documents"] == 125 and methods["dense"]["queries"] == 400
    assert methods["hybrid_rerank"]["ndcg@10"] > 0.95 and methods["hybrid_rerank"]["hit@10"] > 0.98
    assert methods["bm25"]["ndcg@10"] < methods["dense"]["ndcg@10"]
