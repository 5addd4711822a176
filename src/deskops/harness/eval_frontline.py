"""`deskops eval frontline`: how well the front-line agent knows when not to answer (Banking77).

A help center is built for some Banking77 intents (one article per intent, its body the
intent's name and a dozen training questions); the remaining intents are held out, so
their test questions have no article: the right move is to hand over. Every test
question goes through the real agent (offline, real search and embeddings). At each
confidence threshold the agent answers when the retrieval confidence reaches it and
hands over otherwise, which gives:

- answer accuracy on in-scope questions: answered with the article of the right intent
  (as a share of all in-scope questions, and of the ones answered);
- hand-over recall on out-of-scope questions (handed over / all out-of-scope) and
  hand-over precision (out-of-scope among all handed over).

The default threshold is the one that maximises the mean of in-scope correct-answer
rate and out-of-scope hand-over recall (both are what a support team wants).
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskops.domain.types import Latency

if TYPE_CHECKING:
    from deskops.search.dense import Embedder
from deskops.harness.datasets import read_banking77, require_files, shared_data_dir, stratified_sample

THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(20))
QUESTIONS_PER_ARTICLE = 12


def _title(intent: str) -> str:
    return intent.replace("_", " ").capitalize()


def run_frontline_eval(
    *,
    root: Path | None = None,
    in_scope_share: float = 0.65,
    max_queries: int | None = None,
    seed: int = 0,
    log: Callable[[str], None] = lambda line: None,
    embedder: Embedder | None = None,
) -> dict[str, Any]:
    from deskops.bootstrap import build
    from deskops.domain.models import Article, Decision, FrontlineSettings
    from deskops.frontline.agent import Inquiry

    folder = (root or shared_data_dir()) / "banking77"
    require_files(
        folder, ("train.csv", "test.csv"), "train.csv and test.csv (Banking77, columns text,category)"
    )
    train, test = read_banking77(folder / "train.csv"), read_banking77(folder / "test.csv")
    intents = sorted({category for _, category in train})
    rng = random.Random(seed)
    shuffled = intents[:]
    rng.shuffle(shuffled)
    in_scope = set(shuffled[: round(in_scope_share * len(intents))])
    examples: dict[str, list[str]] = defaultdict(list)
    for text, category in train:
        examples[category].append(text)
    rows = list(range(len(test)))
    if max_queries is not None and max_queries < len(test):
        rows = stratified_sample([category for _, category in test], max_queries, seed)

    with tempfile.TemporaryDirectory(prefix="deskops-eval-frontline-") as tmp:
        services = build(
            database_url=f"sqlite:///{Path(tmp) / 'b77.db'}", data_dir=Path(tmp), embedder=embedder
        )
        now = datetime.now(UTC)
        with services.uow() as uow:
            scope = uow.workspace(uow.workspaces.create("b77", time_zone="UTC"))
            for intent in sorted(in_scope):
                questions = rng.sample(examples[intent], min(QUESTIONS_PER_ARTICLE, len(examples[intent])))
                body = f"{_title(intent)}.\n\n## Questions this answers\n\n" + "\n".join(
                    f"- {q}" for q in questions
                )
                scope.articles.save(
                    Article(
                        external_id=intent, title=_title(intent), body=body, created_at=now, updated_at=now
                    )
                )
            # Every threshold is applied afterwards to the recorded confidence: answer everything here.
            scope.agent_settings.save(FrontlineSettings(confidence_threshold=0.0))
            uow.commit()
        log(f"indexing {len(in_scope)} articles ...")
        services.search.rebuild("b77")
        agent = services.frontline
        with services.uow() as uow:
            content = agent.content(uow.workspace("b77"))
        records, latencies = [], []
        log(f"asking {len(rows)} test questions ...")
        for row in rows:
            text, intent = test[row]
            began = time.perf_counter()
            reply = agent.decide("b77", Inquiry(message=text), content)
            latencies.append((time.perf_counter() - began) * 1000)
            top = reply.trace.passages[0].id.removeprefix("article:") if reply.trace.passages else None
            records.append(
                {
                    "in_scope": intent in in_scope,
                    "confidence": reply.trace.confidence,
                    "answerable": reply.decision == Decision.answer,
                    "correct": top == intent,
                }
            )
        services.close()

    latency = Latency.of(latencies)
    curve = [_point(records, threshold) for threshold in THRESHOLDS]
    best = max(curve, key=lambda p: (p["balanced"], -abs(p["threshold"] - 0.5)))
    return {
        "eval": "frontline",
        "dataset": "banking77",
        "help_center": {
            "articles": len(in_scope),
            "in_scope_intents": len(in_scope),
            "out_of_scope_intents": len(intents) - len(in_scope),
            "questions_per_article": QUESTIONS_PER_ARTICLE,
            "seed": seed,
        },
        "questions": {
            "in_scope": sum(r["in_scope"] for r in records),
            "out_of_scope": sum(not r["in_scope"] for r in records),
        },
        "curve": curve,
        "chosen_threshold": best["threshold"],
        "at_chosen_threshold": best,
        "rule": "maximise the mean of in-scope correct-answer rate and out-of-scope hand-over recall",
        "latency_ms": {"p50": latency.p50_ms, "p95": latency.p95_ms},
    }


def _point(records: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    inside = [r for r in records if r["in_scope"]]
    outside = [r for r in records if not r["in_scope"]]

    def answers(r: dict[str, Any]) -> bool:
        return bool(r["answerable"] and r["confidence"] >= threshold)

    answered_in = [r for r in inside if answers(r)]
    correct = sum(r["correct"] for r in answered_in)
    handed_out = sum(not answers(r) for r in outside)
    handed_in = len(inside) - len(answered_in)
    correct_rate = correct / len(inside) if inside else 0.0
    recall = handed_out / len(outside) if outside else 0.0
    handed = handed_out + handed_in
    return {
        "threshold": threshold,
        "in_scope_answer_rate": round(len(answered_in) / len(inside), 4) if inside else None,
        "in_scope_correct_rate": round(correct_rate, 4),
        "in_scope_accuracy_when_answered": round(correct / len(answered_in), 4) if answered_in else None,
        "out_of_scope_handover_recall": round(recall, 4),
        "handover_precision": round(handed_out / handed, 4) if handed else None,
        "out_of_scope_wrongly_answered": len(outside) - handed_out,
        "balanced": round((correct_rate + recall) / 2, 4),
    }
