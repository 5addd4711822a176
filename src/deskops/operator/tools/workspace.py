"""The workspace itself: what data it holds and how well filled in, where data comes from, which metrics
carry signal here, and the audit trail of what changed.

This is attribute awareness at the level of the whole workspace: a field filled in for a
handful of conversations is named as such, so no answer is built on it.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from pydantic import Field

from deskops.analytics import metrics as engine
from deskops.analytics.columns import MISSING
from deskops.changes.audit import verify
from deskops.domain.changes import AuditEvent
from deskops.domain.types import Result
from deskops.operator.blocks import Block
from deskops.operator.deps import OperatorDeps
from deskops.operator.tools.analytics import Nothing
from deskops.operator.tools.reporting import Report, local_day, pct, table

RECENT_DAYS = 28
FIELDS = {
    "csat": "CSAT rating",
    "first_response_seconds": "first response time",
    "handling_seconds": "handling time",
    "topic": "topic",
    "team": "team",
    "language": "language",
    "product_area": "product area",
    "customer_id": "a known customer",
    "plan": "the customer's plan",
    "region": "the customer's region",
    "company_size": "the customer's company size",
}
"""Conversation fields analyses lean on, and what they are called in a sentence."""


class FieldCoverage(Result):
    field: str
    coverage: float
    """Share of the workspace's conversations that have it."""


class EventKind(Result):
    name: str
    count: int
    first: str | None
    last: str | None


class DataSources(Report):
    counts: dict[str, int]
    first_conversation: str | None
    last_conversation: str | None
    fields: list[FieldCoverage]
    custom_attributes: list[str]
    """``conversation.KEY`` / ``customer.KEY`` custom attributes found in the data."""
    events: list[EventKind]
    """Kinds of customer event, most frequent first (at most 15)."""
    decision_traces: int
    traces_from: str | None
    traces_to: str | None
    importers: list[str]

    def blocks(self) -> list[Block]:
        rows = [[FIELDS.get(f.field, f.field), pct(f.coverage)] for f in self.fields]
        out: list[Block] = [
            table("Records", ["kind", "count"], [[k, v] for k, v in self.counts.items()]),
            table("How filled in", ["field", "conversations with it"], rows),
        ]
        if self.events:
            out.append(
                table(
                    "Events",
                    ["event", "count", "first", "last"],
                    [[e.name, e.count, e.first, e.last] for e in self.events],
                )
            )
        return out


def data_sources(deps: OperatorDeps, query: Nothing) -> DataSources:
    """What data the workspace holds, how well each field is filled in, its events, traces, import sources."""
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        zone = scope.workspace.time_zone
        counts = scope.stats.table_counts()
        first, last = scope.stats.conversation_range()
        snapshot = deps.services.columns.snapshot(scope)
        events = scope.events.name_counts()
        traced = scope.traces.count()
        traced_from, traced_to = scope.traces.span()
    n = len(snapshot)
    fields = []
    for name in FIELDS:
        column = snapshot.columns[name]
        have = ~np.isnan(column) if column.dtype.kind == "f" else column >= 0
        fields.append(FieldCoverage(field=name, coverage=round(float(have.mean()), 4) if n else 0.0))
    custom = [
        name
        for name in snapshot.custom_attributes
        if n and float((snapshot.columns[name] > MISSING).mean()) > 0
    ]
    summary = [
        f"{counts['conversations']:,} conversations from {local_day(first, zone)} to "
        f"{local_day(last, zone)}, {counts['customers']:,} customers, {counts['articles']} articles, "
        f"{counts['guidance_rules']} guidance rules, {counts['procedures']} procedures, "
        f"{counts['events']:,} events."
    ]
    thin = [FIELDS[f.field] for f in fields if f.coverage < 0.01]
    partial = [f for f in fields if 0.01 <= f.coverage < 0.5]
    if thin:
        summary.append(f"Never or almost never filled in: {', '.join(thin)}: no analysis rests on them.")
    for f in partial:
        summary.append(
            f"Only {pct(f.coverage)} of conversations have {FIELDS[f.field]}: figures on it are a sample."
        )
    if traced:
        summary.append(
            f"{traced:,} decision traces of the AI agent from {local_day(traced_from, zone)} to "
            f"{local_day(traced_to, zone)} explain its hand-overs."
        )
    else:
        summary.append("No decision trace: why the AI agent handed over is unknown (only that it did).")
    if not events:
        summary.append("No customer events: cohorts can use attributes and conversation counts only.")
    return DataSources(
        summary=summary,
        counts=counts,
        first_conversation=local_day(first, zone),
        last_conversation=local_day(last, zone),
        fields=fields,
        custom_attributes=custom,
        events=[
            EventKind(
                name=e.name, count=e.count, first=local_day(e.first, zone), last=local_day(e.last, zone)
            )
            for e in events[:15]
        ],
        decision_traces=traced,
        traces_from=local_day(traced_from, zone),
        traces_to=local_day(traced_to, zone),
        importers=list(deps.services.registry.importers),
    )


class ImporterLine(Result):
    name: str
    reads: list[str]
    """Kinds of record it imports (conversations, articles, customers)."""
    description: str
    command: str
    """How to run it."""


class Importers(Report):
    importers: list[ImporterLine]

    def blocks(self) -> list[Block]:
        return [
            table(
                "Import sources",
                ["source", "reads", "what", "command"],
                [[i.name, ", ".join(i.reads), i.description, i.command] for i in self.importers],
            )
        ]


def list_importers(deps: OperatorDeps, query: Nothing) -> Importers:
    """The import sources installed (built-in and plugins): what each reads and the command that runs it."""
    lines = [
        ImporterLine(
            name=spec.name,
            reads=list(spec.parsers),
            description=spec.description,
            command=f"deskops import FILE --workspace {deps.workspace} --kind {next(iter(spec.parsers))} "
            f"--source {spec.name}",
        )
        for spec in deps.services.registry.importers.values()
    ]
    summary = [
        f"{len(lines)} import sources: "
        + "; ".join(f"{i.name} reads {', '.join(i.reads)}" for i in lines)
        + ". Imports are all-or-nothing and idempotent by external id."
    ]
    return Importers(summary=summary, importers=lines)


class Availability(Result):
    metric: str
    label: str
    value: float | None
    denominator: int
    status: str
    """usable, thin (under 30 conversations) or empty (no data in this workspace)."""


class MetricAvailability(Report):
    start: str
    end: str
    metrics: list[Availability]

    def blocks(self) -> list[Block]:
        return [
            table(
                f"Metrics with data, {self.start} to {self.end}",
                ["metric", "sample", "status"],
                [[m.metric, m.denominator, m.status] for m in self.metrics],
            )
        ]


def metric_availability(deps: OperatorDeps, query: Nothing) -> MetricAvailability:
    """Which catalog metrics have data in this workspace over the last four weeks, and which are empty."""
    end = deps.today
    start = end - timedelta(days=RECENT_DAYS - 1)
    out = []
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        for metric in deps.services.registry.metrics.values():
            series = engine.series(
                scope,
                columns=deps.services.columns,
                metric=metric,
                start=start,
                end=end,
                granularity="month",
                today=deps.today,
            )
            total = series.total
            status = "empty" if total.denominator == 0 else "thin" if total.thin else "usable"
            out.append(
                Availability(
                    metric=metric.name,
                    label=metric.label,
                    value=total.value,
                    denominator=total.denominator,
                    status=status,
                )
            )
    usable = [m for m in out if m.status == "usable"]
    summary = [f"{len(usable)} of {len(out)} metrics have enough data from {start} to {end}."]
    empty = [m.metric for m in out if m.status == "empty"]
    thin = [m.metric for m in out if m.status == "thin"]
    if empty:
        summary.append(f"No data for {', '.join(empty)}: this workspace does not record what they need.")
    if thin:
        summary.append(f"Too few conversations to trust: {', '.join(thin)}.")
    return MetricAvailability(summary=summary, start=start.isoformat(), end=end.isoformat(), metrics=out)


class AuditQuery(Result):
    kind: str | None = Field(default=None, max_length=100)
    """A kind (``proposal.applied``) or a prefix ending in a dot (``proposal.``)."""
    item: str | None = Field(default=None, max_length=300)
    """Only events about this item (``article:kb-0042``)."""
    limit: int = Field(default=20, ge=1, le=200)


class AuditTrail(Report):
    events: list[AuditEvent]
    """Newest last."""
    chain_ok: bool
    """The whole chain recomputes (nothing edited, removed or reordered)."""
    total: int

    def blocks(self) -> list[Block]:
        rows = [
            [e.seq, e.at.isoformat()[:19], e.kind, e.actor, ", ".join(e.items), e.proposal_id]
            for e in self.events
        ]
        return [table("Audit log", ["seq", "at", "kind", "actor", "items", "proposal"], rows)]


def audit_trail(deps: OperatorDeps, query: AuditQuery) -> AuditTrail:
    """The audit log's latest events (proposals, reviews, approvals, applications) and if it is intact."""
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        events = scope.audit.list(kind=query.kind, item=query.item, limit=query.limit)
        check = verify(scope)
    summary = [
        f"The audit log holds {check.events:,} events"
        + (
            " and its hash chain is intact."
            if check.ok
            else f"; its chain is BROKEN at event {check.first_bad_seq}: {check.problem}."
        )
    ]
    if events:
        last = events[-1]
        summary.append(
            f"Latest: {last.kind} by {last.actor} on {last.at.date()}"
            + (f" (proposal {last.proposal_id})." if last.proposal_id else ".")
        )
    else:
        summary.append("No event matches." if query.kind or query.item else "Nothing has been recorded yet.")
    return AuditTrail(summary=summary, events=events, chain_ok=check.ok, total=check.events)
