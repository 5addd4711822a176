"""Decision traces of the front-line agent: one per reply, queryable by conversation and decision."""

from __future__ import annotations

import builtins
from datetime import datetime

import sqlalchemy as sa

from deskops.domain.models import Decision, DecisionTrace
from deskops.store import tables as t
from deskops.store.repositories._base import NotFound, WorkspaceRepository


class TraceRepository(WorkspaceRepository):
    def add(self, trace: DecisionTrace) -> int:
        """Store a trace; returns its id."""
        trace_id = self._next_id(t.decision_traces)
        self._conn.execute(
            sa.insert(t.decision_traces).values(
                workspace_id=self.workspace_id,
                id=trace_id,
                conversation_external_id=trace.conversation_external_id,
                message_index=trace.message_index,
                created_at=trace.created_at,
                decision=trace.decision.value,
                confidence=trace.confidence,
                latency_ms=trace.latency_ms,
                trace=trace.model_dump(mode="json"),
            )
        )
        return trace_id

    def get(self, trace_id: int) -> DecisionTrace:
        row = self._conn.execute(
            sa.select(t.decision_traces.c.trace).where(
                self._where(t.decision_traces), t.decision_traces.c.id == trace_id
            )
        ).first()
        if row is None:
            raise NotFound(f"no decision trace {trace_id} in this workspace")
        return DecisionTrace.model_validate(row.trace)

    def for_conversation(self, conversation_external_id: str) -> builtins.list[DecisionTrace]:
        """Every trace of one conversation, in message order."""
        tr = t.decision_traces
        rows = self._conn.execute(
            sa.select(tr.c.trace)
            .where(self._where(tr), tr.c.conversation_external_id == conversation_external_id)
            .order_by(tr.c.message_index, tr.c.id)
        )
        return [DecisionTrace.model_validate(row.trace) for row in rows]

    def list(
        self,
        *,
        decision: Decision | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
    ) -> builtins.list[DecisionTrace]:
        """Newest first, optionally one decision kind and a [start, end) window."""
        tr = t.decision_traces
        query = sa.select(tr.c.trace).where(self._where(tr))
        if decision is not None:
            query = query.where(tr.c.decision == decision.value)
        if start is not None:
            query = query.where(tr.c.created_at >= start)
        if end is not None:
            query = query.where(tr.c.created_at < end)
        rows = self._conn.execute(query.order_by(tr.c.created_at.desc(), tr.c.id.desc()).limit(limit))
        return [DecisionTrace.model_validate(row.trace) for row in rows]

    def decision_counts(
        self, *, start: datetime | None = None, end: datetime | None = None
    ) -> dict[str, int]:
        """Traces per decision (answer, clarify, procedure_step, handover) made in [start, end)."""
        tr = t.decision_traces
        query = sa.select(tr.c.decision, sa.func.count()).where(self._where(tr))
        if start is not None:
            query = query.where(tr.c.created_at >= start)
        if end is not None:
            query = query.where(tr.c.created_at < end)
        return {decision: int(n) for decision, n in self._conn.execute(query.group_by(tr.c.decision))}

    def span(self) -> tuple[datetime | None, datetime | None]:
        """When the first and the last trace were made (None, None without traces)."""
        tr = t.decision_traces
        row = self._conn.execute(
            sa.select(sa.func.min(tr.c.created_at), sa.func.max(tr.c.created_at)).where(self._where(tr))
        ).one()
        return row[0], row[1]

    def count(self) -> int:
        return self._count(t.decision_traces)
