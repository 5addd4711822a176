"""The action layer's speed on the 50k demo: reviewing a one-article proposal (without and with the
impact replay), applying it, and verifying an audit log of a million events.

Each figure comes with a yardstick from the same run: a review beside the plain read of the
workspace it starts with, an apply beside the repository write it wraps, audit verification
beside reading the same rows and hashing the same bytes without the chain's checks.
"""

from __future__ import annotations

import hashlib
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from deskops.bootstrap import build
from deskops.changes import audit
from deskops.changes.apply import apply_proposal
from deskops.changes.proposals import create_proposal
from deskops.domain.changes import (
    GENESIS,
    Actor,
    ActorKind,
    ChangeSet,
    ProposalDraft,
    canonical_json,
    chain_hash,
)
from deskops.domain.models import Article, Role
from deskops.search.dense import Embedder
from deskops.simulate.workspace import SimulationConfig, simulate_workspace
from deskops.store import tables as t

BENCHER = Actor(kind=ActorKind.local, name="bench", role=Role.admin)
NOTE = "If something looks different on your screen, refresh the page and try again."


def _quantiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50": round(statistics.median(ordered), 1),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        "n": len(ordered),
    }


def run_changes_bench(
    *,
    conversations: int = 50_000,
    days: int = 180,
    proposals: int = 40,
    replayed: int = 15,
    events: int = 1_000_000,
    embedder: Embedder | None = None,
    log: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="deskops-bench-changes-") as folder:
        services = build(
            database_url=f"sqlite:///{folder}/bench.db", data_dir=Path(folder), embedder=embedder
        )
        try:
            return _run(services, Path(folder), conversations, days, proposals, replayed, events, log)
        finally:
            services.close()


def _run(
    services: Any,
    folder: Path,
    conversations: int,
    days: int,
    proposals: int,
    replayed: int,
    events: int,
    log: Callable[[str], None],
) -> dict[str, Any]:
    began = time.perf_counter()
    with services.uow() as uow:
        simulate_workspace(
            uow=uow,
            config=SimulationConfig(seed=7, conversations=conversations, days=days),
            truth_path=folder / "truth.json",
        )
    log(f"simulated {conversations:,} conversations in {time.perf_counter() - began:.0f} s")
    began = time.perf_counter()
    services.search.rebuild("demo")
    log(f"search index built in {time.perf_counter() - began:.0f} s")
    with services.uow() as uow:
        articles = [a for a in uow.workspace("demo").articles.list(state="published")][: proposals + replayed]

    def draft(article: Article) -> ProposalDraft:
        return ProposalDraft(
            title=f"Add a refresh tip to {article.title}"[:200],
            description=f"Customers reading {article.title.lower()} see an old screen, so the article "
            "now says to refresh the page.",
            change_set=ChangeSet(
                articles=[{"external_id": article.external_id, "body": article.body + "\n" + NOTE}]
            ),
        )

    reviewing = services.reviewing
    # First use loads the model and the index: not what a review costs afterwards.
    warm = create_proposal(
        uow=services.uow(), workspace="demo", draft=draft(articles[0]), actor=BENCHER, reviewing=reviewing
    )
    review_ms, read_ms, made = [], [], []
    for article in articles[:proposals]:
        began = time.perf_counter()
        with services.uow() as uow:  # the yardstick: reading what every review starts from
            scope = uow.workspace("demo")
            scope.articles.list(), scope.guidance.list(), scope.procedures.list()
        read_ms.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        report = create_proposal(
            uow=services.uow(),
            workspace="demo",
            draft=draft(article),
            actor=BENCHER,
            reviewing=reviewing,
            replay=False,
        )
        review_ms.append((time.perf_counter() - began) * 1000)
        made.append(report.proposal.id)
    log(f"reviewed {len(made)} one-article proposals without the replay")
    with_replay_ms, replay_ms, replayed_conversations = [], [], []
    for article in articles[proposals : proposals + replayed]:
        began = time.perf_counter()
        report = create_proposal(
            uow=services.uow(), workspace="demo", draft=draft(article), actor=BENCHER, reviewing=reviewing
        )
        with_replay_ms.append((time.perf_counter() - began) * 1000)
        impact = next(r for r in report.reviews if r.reviewer == "impact")
        replay_ms.append(impact.duration_ms)
        replayed_conversations.append(
            next((int(f.message.split()[1]) for f in impact.findings if f.code == "impact.replay"), 0)
        )
        made.append(report.proposal.id)
    log(f"reviewed {len(with_replay_ms)} one-article proposals with the replay")

    apply_ms, save_ms = [], []
    for proposal_id in made:
        began = time.perf_counter()
        apply_proposal(
            uow=services.uow(), workspace="demo", proposal_id=proposal_id, actor=BENCHER, override="bench"
        )
        apply_ms.append((time.perf_counter() - began) * 1000)
    for article in articles[: len(made)]:  # the yardstick: the same write through the repository alone
        with services.uow() as uow:
            scope = uow.workspace("demo")
            current = scope.articles.get(article.external_id)
            began = time.perf_counter()
            scope.articles.save(
                Article.model_validate(
                    {
                        **current.model_dump(exclude={"version"}),
                        "body": current.body + " ",
                        "updated_at": datetime.now(UTC),
                    }
                )
            )
            uow.commit()
            save_ms.append((time.perf_counter() - began) * 1000)
    log(f"applied {len(apply_ms)} proposals")
    del warm
    verify = _audit_bench(services, events, log)
    return {
        "benchmark": "changes",
        "workspace": {"conversations": conversations, "days": days, "database": "sqlite"},
        "review_without_replay_ms": {**_quantiles(review_ms), "target_p95": 500},
        "review_with_replay_ms": {**_quantiles(with_replay_ms), "target_p95": 3000},
        "impact_replay_ms": _quantiles(replay_ms),
        "replayed_conversations": _quantiles([float(n) for n in replayed_conversations]),
        "yardstick_read_workspace_ms": _quantiles(read_ms),
        "apply_ms": {**_quantiles(apply_ms), "target_p95": 50},
        "yardstick_repository_save_ms": _quantiles(save_ms),
        "apply_over_save_p50": round(statistics.median(apply_ms) / statistics.median(save_ms), 2),
        "audit_verify": verify,
    }


def _audit_bench(services: Any, events: int, log: Callable[[str], None]) -> dict[str, Any]:
    """A chain of ``events`` written straight into the table (as appends would), then verified."""
    with services.uow() as uow:
        workspace = uow.workspaces.create("audit-bench")
        uow.commit()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    previous, batch, began = GENESIS, [], time.perf_counter()
    for seq in range(1, events + 1):
        at = start + timedelta(seconds=seq)
        body = canonical_json(
            {
                "seq": seq,
                "kind": "proposal.reviewed",
                "actor": "system:review",
                "items": [f"article:kb-{seq % 997:04d}"],
                "proposal_id": seq // 3,
                "at": at.isoformat(),
                "data": {"verdict": "pass", "reviews": {"size": "pass", "style": "pass"}},
            }
        )
        previous = chain_hash(previous, seq, body)
        batch.append(
            {
                "workspace_id": workspace.id,
                "seq": seq,
                "kind": "proposal.reviewed",
                "actor": "system:review",
                "proposal_id": seq // 3,
                "items": f" article:kb-{seq % 997:04d} ",
                "created_at": at,
                "event": body,
                "hash": previous,
            }
        )
        if len(batch) == 50_000 or seq == events:
            with services.engine.begin() as connection:
                connection.execute(sa.insert(t.audit_events), batch)
            batch = []
    log(f"wrote an audit chain of {events:,} events in {time.perf_counter() - began:.0f} s")
    with services.uow() as uow:
        scope = uow.workspace("audit-bench")
        began = time.perf_counter()
        result = audit.verify(scope)
        verify_s = time.perf_counter() - began
        began = time.perf_counter()
        texts = [(seq, event) for seq, event, _, _, _ in scope.audit.rows()]
        read_s = time.perf_counter() - began
    began = time.perf_counter()
    for seq, event in texts:
        hashlib.sha256(f"{GENESIS}|{seq}|{event}".encode()).hexdigest()
    hash_s = time.perf_counter() - began
    log(f"verified {result.events:,} events in {verify_s:.1f} s")
    return {
        "events": result.events,
        "ok": result.ok,
        "verify_s": round(verify_s, 2),
        "target_s": 10,
        "yardstick_read_rows_s": round(read_s, 2),
        "yardstick_sha256_only_s": round(hash_s, 2),
        "verify_over_read_and_hash": round(verify_s / (read_s + hash_s), 2),
    }
