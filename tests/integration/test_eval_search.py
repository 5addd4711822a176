"""`deskops eval search`: every method on the same queries, in one run; hybrid must win on nDCG@10."""

from __future__ import annotations

import pytest

from deskops.evals.datasets import shared_data_dir
from deskops.evals.search import load, run
from deskops.search.dense import SentenceTransformerEmbedder

EMBEDDER = SentenceTransformerEmbedder()


def test_hybrid_beats_both_single_methods_on_the_simulated_help_center() -> None:
    report = run(load("simulated"), embedder=EMBEDDER)
    methods = report["methods"]
    assert report["hybrid_beats_best_single"]
    assert methods["hybrid_rerank"]["ndcg@10"] > max(methods["bm25"]["ndcg@10"], methods["dense"]["ndcg@10"])
    assert methods["dense"]["ndcg@10"] > methods["bm25"]["ndcg@10"] > 0.5
    assert methods["hybrid_rerank"]["queries"] == 601  # 702 phrasings minus 101 with no published answer
    abstention = report["abstention"]
    assert abstention["ece"] < 0.1 and abstention["auc"] > 0.7 and abstention["no_answer_queries"] == 101


def test_stackfaq_figures() -> None:
    if not (shared_data_dir() / "stackfaq").exists():
        pytest.skip(f"StackFAQ not found in {shared_data_dir()}")
    report = run(
        load("stackfaq", max_queries=400), embedder=EMBEDDER, methods=("bm25", "dense", "hybrid_rerank")
    )
    methods = report["methods"]
    assert report["documents"] == 125 and methods["dense"]["queries"] == 400
    assert methods["hybrid_rerank"]["ndcg@10"] > 0.95 and methods["hybrid_rerank"]["hit@10"] > 0.98
    assert methods["bm25"]["ndcg@10"] < methods["dense"]["ndcg@10"]
