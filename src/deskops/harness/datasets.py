"""Public retrieval data sets, read from the shared data folder (never copied into the repo).

- **StackFAQ**: 125 StackExchange threads are the corpus; the crowd-written
  paraphrases of each thread's question are the queries, each relevant to its own
  thread only.
- **Banking77**: the training examples are the corpus; the test examples are the
  queries, each relevant to every training example of the same intent. That makes
  ~130 relevant documents per query, so read hit@k rather than recall@k there.
"""

from __future__ import annotations

import csv
import json
import os
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deskops.errors import InvalidInput, Unavailable
from deskops.harness.retrieval import RetrievalCase

__all__ = [
    "CorpusDoc",
    "DatasetMissing",
    "RetrievalDataset",
    "load_banking77",
    "load_stackfaq",
    "shared_data_dir",
]

SHARED_DATA_ENV = "DESKOPS_SHARED_DATA"
"""Environment variable naming the shared data folder (default: ``../shared/data`` from the checkout)."""

_STACKFAQ_FILE = "stackExchange-FAQ.json"
_STACKFAQ_PLACEHOLDER = "*"
"""Marks a paraphrase slot the annotators left empty."""


@dataclass(frozen=True)
class CorpusDoc:
    """One searchable document."""

    id: str
    title: str
    text: str
    """Body text, without the title."""


@dataclass(frozen=True)
class RetrievalDataset:
    """A corpus, the queries run against it and their relevance judgements."""

    name: str
    corpus: list[CorpusDoc]
    cases: list[RetrievalCase]
    notes: str
    """One line: how the corpus, the queries and the relevance were built."""


class DatasetMissing(Unavailable):
    """A data set's folder or file is not where it should be."""

    def __init__(self, folder: Path, expected: str) -> None:
        self.folder = folder
        super().__init__(
            f"{folder} not found or incomplete: it should contain {expected}. "
            f"Point {SHARED_DATA_ENV} at the shared data folder (see its README.md)."
        )


def shared_data_dir() -> Path:
    """The shared data folder: $DESKOPS_SHARED_DATA, else ``shared/data`` beside the checkout."""
    configured = os.environ.get(SHARED_DATA_ENV)
    if configured:
        return Path(configured).expanduser()
    # src/deskops/evals/datasets.py -> parents[3] is the checkout; data sits beside it.
    return Path(__file__).resolve().parents[3].parent / "shared" / "data"


def require_files(folder: Path, names: tuple[str, ...], expected: str) -> None:
    if not all((folder / name).is_file() for name in names):
        raise DatasetMissing(folder, expected)


def load_stackfaq(root: Path | None = None) -> RetrievalDataset:
    """StackFAQ: one document per thread, its paraphrases (minus ``*`` placeholders) as queries."""
    folder = (root or shared_data_dir()) / "stackfaq"
    require_files(folder, (_STACKFAQ_FILE,), f"{_STACKFAQ_FILE} (StackFAQ: 125 threads with paraphrases)")
    with (folder / _STACKFAQ_FILE).open(encoding="utf-8") as handle:
        threads: list[dict[str, Any]] = json.load(handle)["root"]["qapair"]
    corpus: list[CorpusDoc] = []
    cases: list[RetrievalCase] = []
    for index, thread in enumerate(threads):
        doc_id = f"sf-{index}"
        answers = thread["answer"]
        # One thread stores its single answer as a bare string rather than a list.
        if isinstance(answers, str):
            answers = [answers]
        body = "\n\n".join(answer.strip() for answer in answers if answer and answer.strip())
        corpus.append(CorpusDoc(id=doc_id, title=thread["question"].strip(), text=body))
        for paraphrase in thread["rephr"]:
            # The file also holds one null paraphrase; skip it like the placeholders.
            query = (paraphrase or "").strip()
            if query and query != _STACKFAQ_PLACEHOLDER:
                cases.append(RetrievalCase(query=query, relevant={doc_id: 1}))
    notes = (
        "StackFAQ (Karan & Šnajder 2018): corpus = StackExchange threads (title = question, "
        "text = answers); queries = crowd paraphrases without '*' placeholders; relevant = own thread"
    )
    return RetrievalDataset(name="stackfaq", corpus=corpus, cases=cases, notes=notes)


def read_banking77(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"text", "category"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: expected a header with columns text,category, got {reader.fieldnames}")
        return [(row["text"].strip(), row["category"]) for row in reader]


def stratified_sample(categories: list[str], size: int, seed: int) -> list[int]:
    """Row indices, round-robin over the intents (in a seeded order), rows shuffled within each."""
    rows_by_category: dict[str, list[int]] = defaultdict(list)
    for row, category in enumerate(categories):
        rows_by_category[category].append(row)
    rng = random.Random(seed)
    order = sorted(rows_by_category)
    rng.shuffle(order)
    for category in sorted(rows_by_category):
        rng.shuffle(rows_by_category[category])
    chosen: list[int] = []
    deepest = max(len(rows) for rows in rows_by_category.values())
    depth = 0
    while len(chosen) < size and depth < deepest:
        for category in order:
            rows = rows_by_category[category]
            if depth < len(rows) and len(chosen) < size:
                chosen.append(rows[depth])
        depth += 1
    return sorted(chosen)


def load_banking77(
    root: Path | None = None, *, max_queries: int | None = None, seed: int = 0
) -> RetrievalDataset:
    """Banking77 as retrieval: train examples are documents, test examples are queries.

    ``max_queries`` keeps a stratified sample of the test queries: intents are visited
    round-robin in a seeded order, taking a seeded-random example of each, so every
    intent is represented once before any appears twice. The same seed gives the same
    sample; the corpus is always the whole training set.
    """
    if max_queries is not None and max_queries < 1:
        raise InvalidInput(f"max_queries must be >= 1 or None, got {max_queries}")
    folder = (root or shared_data_dir()) / "banking77"
    require_files(
        folder, ("train.csv", "test.csv"), "train.csv and test.csv (Banking77, columns text,category)"
    )
    train = read_banking77(folder / "train.csv")
    test = read_banking77(folder / "test.csv")
    corpus = [CorpusDoc(id=f"b77-train-{row}", title="", text=text) for row, (text, _) in enumerate(train)]
    ids_by_category: dict[str, list[str]] = defaultdict(list)
    for doc, (_, category) in zip(corpus, train, strict=True):
        ids_by_category[category].append(doc.id)
    rows = list(range(len(test)))
    if max_queries is not None and max_queries < len(test):
        rows = stratified_sample([category for _, category in test], max_queries, seed)
    cases = [
        RetrievalCase(query=test[row][0], relevant=dict.fromkeys(ids_by_category[test[row][1]], 1))
        for row in rows
    ]
    notes = (
        "Banking77 (PolyAI): corpus = train examples; queries = test examples"
        + (f" (stratified sample of {len(cases)}, seed {seed})" if len(cases) < len(test) else "")
        + "; relevant = every train example of the same intent (~130 each: read hit@k, not recall@k)"
    )
    return RetrievalDataset(name="banking77", corpus=corpus, cases=cases, notes=notes)
