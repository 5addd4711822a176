"""`deskops eval search`: BM25 alone, dense alone and the hybrids on labelled query sets, in one run."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deskops.errors import InvalidInput
from deskops.harness.datasets import load_banking77, load_stackfaq
from deskops.harness.retrieval import RetrievalCase, evaluate
from deskops.search import abstain
from deskops.search.chunks import Chunk, article_chunks, document_chunks
from deskops.search.dense import Embedder, EmbeddingCache, embed
from deskops.search.index import METHODS, HybridIndex, SearchConfig

DATASETS = ("stackfaq", "simulated", "banking77")
SINGLE = ("bm25", "dense")
HYBRID = ("rrf", "hybrid", "hybrid_rerank")


@dataclass
class SearchDataset:
    name: str
    chunks: list[Chunk]
    cases: list[RetrievalCase]
    notes: str


def load(name: str, *, seed: int = 7, max_queries: int | None = None) -> SearchDataset:
    """One of DATASETS, chunked for indexing; ``max_queries`` keeps that many queries, evenly spread."""
    if max_queries is not None and max_queries < 1:
        raise InvalidInput(f"--max-queries must be at least 1, got {max_queries}")
    if name == "simulated":
        simulated = simulated_dataset(seed=seed)
        return SearchDataset(
            simulated.name, simulated.chunks, spread(simulated.cases, max_queries), simulated.notes
        )
    if name == "stackfaq":
        data = load_stackfaq()
    elif name == "banking77":
        data = load_banking77(max_queries=max_queries, seed=seed)
    else:
        raise InvalidInput(f"unknown dataset {name!r}: use one of {', '.join(DATASETS)}")
    chunks = [
        c
        for doc in data.corpus
        for c in document_chunks(doc_id=doc.id, title=doc.title, body=doc.text, fields={"state": "published"})
    ]
    cases = data.cases if name == "banking77" else spread(data.cases, max_queries)
    return SearchDataset(data.name, chunks, cases, data.notes)


def spread(cases: list[RetrievalCase], limit: int | None) -> list[RetrievalCase]:
    """At most ``limit`` cases, evenly spaced through the list (so every topic or thread is sampled)."""
    if limit is None or limit >= len(cases):
        return cases
    step = len(cases) / limit
    return [cases[int(i * step)] for i in range(limit)]


def simulated_dataset(*, seed: int = 7) -> SearchDataset:
    """The simulator's help center (every state) and its labelled customer phrasings."""
    from deskops.bootstrap import build
    from deskops.simulate.workspace import SimulationConfig, simulate_workspace

    with tempfile.TemporaryDirectory(prefix="deskops-eval-") as folder:
        services = build(database_url=f"sqlite:///{Path(folder) / 'eval.db'}", data_dir=Path(folder))
        try:
            with services.uow() as uow:
                simulate_workspace(
                    uow=uow,
                    config=SimulationConfig(seed=seed, conversations=200, days=30),
                    truth_path=Path(folder) / "truth.json",
                )
            with services.uow() as uow:
                articles = uow.workspace("demo").articles.list()
            import json

            truth = json.loads((Path(folder) / "truth.json").read_text())
        finally:
            services.close()
    chunks = [c for article in articles for c in article_chunks(article)]
    cases = [
        RetrievalCase(q["query"], {f"article:{a}": (2 if i == 0 else 1) for i, a in enumerate(q["relevant"])})
        for q in truth["search_queries"]
    ]
    return SearchDataset(
        "simulated",
        chunks,
        cases,
        f"simulated help center (seed {seed}): {len(articles)} articles in every state; queries are "
        "customer phrasings (with typo variants); relevant = the topic's published articles, main "
        "article graded 2, duplicates 1; topics without a published article are abstention cases",
    )


def run(
    dataset: SearchDataset,
    *,
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    config: SearchConfig | None = None,
    methods: tuple[str, ...] = METHODS,
    fit_abstention: bool = False,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Index the dataset once, run every method on every query, report metrics per method."""
    config = config or SearchConfig()
    began = time.perf_counter()
    vectors, computed = embed(embedder, [c.text for c in dataset.chunks], cache=cache)
    index = HybridIndex(embedder.dimension)
    index.add("eval", dataset.chunks, vectors)
    queries, _ = embed(embedder, [case.query for case in dataset.cases], cache=cache)
    log(
        f"{dataset.name}: {len(dataset.chunks)} chunks, {len(dataset.cases)} queries, "
        f"{computed} embeddings computed, {time.perf_counter() - began:.1f}s"
    )
    report: dict[str, Any] = {
        "dataset": dataset.name,
        "notes": dataset.notes,
        "chunks": len(dataset.chunks),
        "documents": len({c.doc_id for c in dataset.chunks}),
        "methods": {},
    }
    for method in methods:
        rankings, started = [], time.perf_counter()
        for case, vector in zip(dataset.cases, queries, strict=True):
            rankings.append(
                [h.doc_id for h in index.search(case.query, vector, k=10, method=method, config=config)]
            )
        figures = evaluate(dataset.cases, rankings)
        figures["ms_per_query"] = round(
            1000 * (time.perf_counter() - started) / max(1, len(dataset.cases)), 3
        )
        report["methods"][method] = {
            k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()
        }
    single = max(report["methods"][m]["ndcg@10"] for m in SINGLE if m in report["methods"])
    best_hybrid = max((report["methods"][m]["ndcg@10"], m) for m in HYBRID if m in report["methods"])
    report["best_single_ndcg@10"] = single
    report["best_hybrid"] = {"method": best_hybrid[1], "ndcg@10": best_hybrid[0]}
    report["hybrid_beats_best_single"] = best_hybrid[0] > single
    rows, labels = abstention_rows(index, dataset, queries, config)
    report["abstention"] = abstention_report(rows, labels, dataset)
    if fit_abstention and rows:
        weights = abstain.fit(rows, labels)
        report["abstention_fitted"] = {
            "features": list(abstain.FEATURES),
            "weights": weights,
            **abstention_report(rows, labels, dataset, weights),
        }
    return report


def abstention_rows(
    index: HybridIndex, dataset: SearchDataset, queries: np.ndarray, config: SearchConfig
) -> tuple[list[list[float]], list[int]]:
    """Features of each query's top hit and whether that hit is relevant."""
    rows, labels = [], []
    for case, vector in zip(dataset.cases, queries, strict=True):
        hits = index.search(case.query, vector, k=2, method="hybrid_rerank", config=config)
        if not hits:
            continue
        rows.append(abstain.signals(case.query, hits))
        labels.append(int(hits[0].doc_id in case.relevant))
    return rows, labels


def abstention_report(
    rows: list[list[float]],
    labels: list[int],
    dataset: SearchDataset,
    weights: tuple[float, ...] | list[float] = abstain.WEIGHTS,
) -> dict[str, Any]:
    """Calibration (Brier, ECE, AUC) of the confidence and what declining below the threshold does."""
    if not rows:
        return {}
    p = np.array([abstain.confidence(r, weights) for r in rows])
    y = np.array(labels)
    bins = np.minimum((p * 10).astype(int), 9)
    ece = sum(
        abs(p[bins == b].mean() - y[bins == b].mean()) * (bins == b).mean()
        for b in range(10)
        if (bins == b).any()
    )
    declined = p < abstain.DEFAULT_THRESHOLD
    no_answer = np.array([not case.relevant for case in dataset.cases])[: len(p)]
    return {
        "threshold": abstain.DEFAULT_THRESHOLD,
        "brier": round(float(((p - y) ** 2).mean()), 4),
        "ece": round(float(ece), 4),
        "auc": round(_auc(p, y), 4),
        "top_hit_relevant_rate": round(float(y.mean()), 4),
        "declined_rate": round(float(declined.mean()), 4),
        "accuracy_when_answering": round(float(y[~declined].mean()), 4) if (~declined).any() else None,
        "no_answer_queries": int(no_answer.sum()),
        "no_answer_declined": round(float(declined[no_answer].mean()), 4) if no_answer.any() else None,
    }


def _auc(p: np.ndarray, y: np.ndarray) -> float:
    positives, negatives = p[y == 1], p[y == 0]
    if not len(positives) or not len(negatives):
        return float("nan")
    ranks = np.argsort(np.argsort(np.r_[positives, negatives])) + 1
    return float(
        (ranks[: len(positives)].sum() - len(positives) * (len(positives) + 1) / 2)
        / (len(positives) * len(negatives))
    )
