"""The Operator's run log: one row per turn and one per tool call, and the figures over a period."""

from __future__ import annotations

import builtins
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from deskops.domain.runs import OperatorRun, Percentiles, RunOutcome, RunStats, RunToolCall, ToolFigures
from deskops.store import tables as t
from deskops.store.repositories._base import BATCH, NotFound, WorkspaceRepository, batched


class RunRepository(WorkspaceRepository):
    def add(self, run: OperatorRun) -> int:
        """Store a run and its tool calls; returns the run's id."""
        run_id = self._next_id(t.operator_runs)
        self._conn.execute(
            sa.insert(t.operator_runs).values(
                workspace_id=self.workspace_id,
                id=run_id,
                **run.model_dump(mode="python", exclude={"id", "tools"}),
            )
        )
        if run.tools:
            self._conn.execute(
                sa.insert(t.operator_run_tools),
                [
                    {
                        "workspace_id": self.workspace_id,
                        "run_id": run_id,
                        "position": position,
                        "tool": call.tool,
                        "duration_ms": call.ms,
                        "ok": call.ok,
                        "error": call.error,
                    }
                    for position, call in enumerate(run.tools)
                ],
            )
        return run_id

    def get(self, run_id: int) -> OperatorRun:
        r = t.operator_runs
        row = self._conn.execute(sa.select(r).where(self._where(r), r.c.id == run_id)).first()
        if row is None:
            raise NotFound(f"no Operator run {run_id} in this workspace")
        return self._runs([row])[0]

    def list(self, *, limit: int = 20, since: datetime | None = None) -> builtins.list[OperatorRun]:
        """Newest first, optionally only those started at or after ``since``."""
        r = t.operator_runs
        query = sa.select(r).where(self._where(r))
        if since is not None:
            query = query.where(r.c.started_at >= since)
        rows = self._conn.execute(query.order_by(r.c.started_at.desc(), r.c.id.desc()).limit(limit)).all()
        return self._runs(rows)

    def count(self) -> int:
        return self._count(t.operator_runs)

    def stats(self, *, since: datetime | None = None) -> RunStats:
        """Latency percentiles, outcome rates, per-tool failure rates and latencies, tokens and cost of the
        runs started at or after ``since`` (all runs without it)."""
        r, c = t.operator_runs, t.operator_run_tools
        runs = sa.select(r.c.id, r.c.duration_ms, r.c.outcome, r.c.skill, r.c.input_tokens,
                         r.c.output_tokens, r.c.cost_usd).where(self._where(r))  # fmt: skip
        if since is not None:
            runs = runs.where(r.c.started_at >= since)
        rows = self._conn.execute(runs).all()
        calls = sa.select(c.c.tool, c.c.duration_ms, c.c.ok).where(self._where(c))
        if since is not None:
            calls = calls.where(
                c.c.run_id.in_(
                    sa.select(r.c.id).where(self._where(r), r.c.started_at >= since).scalar_subquery()
                )
            )
        per_tool: dict[str, builtins.list[tuple[float, bool]]] = {}
        for tool, ms, ok in self._conn.execute(calls):
            per_tool.setdefault(tool, []).append((ms, ok))
        outcomes = Counter(row.outcome for row in rows)
        costs = [row.cost_usd for row in rows if row.cost_usd is not None]
        total = len(rows)

        def rate(outcome: RunOutcome) -> float | None:
            return round(outcomes[outcome.value] / total, 4) if total else None

        return RunStats(
            workspace=self._workspace_name(),
            since=since,
            runs=total,
            latency_ms=_percentiles([row.duration_ms for row in rows]),
            outcomes={outcome.value: outcomes[outcome.value] for outcome in RunOutcome},
            success_rate=rate(RunOutcome.answered),
            clarification_rate=rate(RunOutcome.clarified),
            abstention_rate=rate(RunOutcome.abstained),
            failure_rate=rate(RunOutcome.failed),
            skills=dict(
                Counter(row.skill for row in rows if row.skill and row.outcome == "answered").most_common()
            ),
            tools=sorted(
                (
                    ToolFigures(
                        tool=tool,
                        calls=len(found),
                        failures=sum(not ok for _, ok in found),
                        failure_rate=round(sum(not ok for _, ok in found) / len(found), 4),
                        ms=_percentiles([ms for ms, _ in found]),
                    )
                    for tool, found in per_tool.items()
                ),
                key=lambda figures: (-figures.calls, figures.tool),
            ),
            input_tokens=sum(row.input_tokens or 0 for row in rows),
            output_tokens=sum(row.output_tokens or 0 for row in rows),
            cost_usd=round(sum(costs), 6) if costs else None,
            runs_with_cost=len(costs),
        )

    def _workspace_name(self) -> str:
        w = t.workspaces
        return str(self._conn.execute(sa.select(w.c.name).where(w.c.id == self.workspace_id)).scalar_one())

    def _runs(self, rows: Sequence[sa.Row[Any]]) -> builtins.list[OperatorRun]:
        c = t.operator_run_tools
        calls: dict[int, builtins.list[RunToolCall]] = {}
        for chunk in batched([row.id for row in rows], BATCH):
            found = self._conn.execute(
                sa.select(c.c.run_id, c.c.tool, c.c.duration_ms, c.c.ok, c.c.error)
                .where(self._where(c), c.c.run_id.in_(chunk))
                .order_by(c.c.run_id, c.c.position)
            )
            for run_id, tool, ms, ok, error in found:
                calls.setdefault(run_id, []).append(RunToolCall(tool=tool, ms=ms, ok=ok, error=error))
        return [
            OperatorRun.model_validate(
                {
                    **{k: v for k, v in row._mapping.items() if k != "workspace_id"},
                    "tools": calls.get(row.id, []),
                }
            )
            for row in rows
        ]


def _percentiles(values: builtins.list[float]) -> Percentiles:
    if not values:
        return Percentiles(p50=None, p95=None)
    p50, p95 = np.percentile(np.asarray(values, dtype=float), [50, 95])
    return Percentiles(p50=round(float(p50), 2), p95=round(float(p95), 2))
