"""Analytics by segment: a breakdown tested against the rest, CSAT drivers, anomalies, cohorts.

Each tool checks its question against the workspace first (a period with data, segment
values that exist, a cohort that is saved), leaves out what the workspace does not fill
in, and says in words which differences are real (tested) and which are noise.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field

from deskops.analytics import cohorts as cohort_engine
from deskops.analytics import metrics as engine
from deskops.analytics import segments
from deskops.analytics.anomalies import series_anomalies
from deskops.analytics.charts import series_figure
from deskops.domain.analytics import (
    AnomalyEvent,
    Breakdown,
    Drivers,
    MetricInfo,
    MetricValue,
    SegmentValue,
)
from deskops.domain.models import CohortDefinition
from deskops.domain.types import Result
from deskops.operator.blocks import Block, ChartBlock
from deskops.operator.deps import OperatorDeps
from deskops.operator.tools.analytics import Nothing, PeriodQuery
from deskops.operator.tools.reporting import (
    Report,
    Window,
    checked_filters,
    checked_period,
    data_span,
    minutes,
    pct,
    table,
)

HISTORY_DAYS = 56
"""Days of history before a period that anomaly detection learns its baseline from (eight weeks)."""
CSAT_ATTRIBUTES = (
    "topic",
    "channel",
    "product_area",
    "plan",
    "region",
    "company_size",
    "language",
    "team",
    "outcome",
    "ai_involved",
)
"""What CSAT is broken down by; the outcome is a driver here (it comes before the rating)."""
COHORT_METRICS = (
    "conversation_volume",
    "conversations_per_customer",
    "ai_resolution_rate",
    "escalation_rate",
    "csat_satisfied_rate",
    "first_response_p50",
)


def show(value: float | None, unit: str) -> str:
    """A metric value in its unit: rates as percentages, seconds as minutes."""
    if value is None:
        return "n/a"
    if unit == "%":
        return pct(value)
    if unit == "seconds":
        return minutes(value)
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def segment_sentence(metric: MetricInfo, label: str, row: SegmentValue) -> str:
    """One segment against the rest, in words, with its test."""
    value, rest = show(row.value.value, metric.unit), show(row.rest.value, metric.unit)
    base = f"{label}: {metric.label} {value} (n={row.value.denominator:,}) against {rest} elsewhere"
    if row.verdict == "not enough data":
        return f"{base}; too few conversations to test."
    if row.verdict == "no significant difference":
        return f"{base}; not a significant difference (p={row.test.p_value})."
    return f"{base}; {row.verdict} (p={row.test.p_value})."


# ------------------------------------------------------------------------------------------ breakdown


class BreakdownQuery(PeriodQuery):
    metric: str
    """A catalog name, e.g. ``escalation_rate`` (see ``list_metrics``)."""
    by: str
    """One attribute: channel, topic, product_area, language, team, plan, region, company_size, ..."""
    filters: dict[str, str] = Field(default_factory=dict)
    """Attribute = value, e.g. {"channel": "chat"}; ``cohort`` names a saved cohort."""
    top: int = Field(default=12, ge=1, le=30)
    """Segments shown, largest sample first."""


class BreakdownReport(Report):
    breakdown: Breakdown

    def blocks(self) -> list[Block]:
        b = self.breakdown
        rows = [
            [
                s.segment,
                show(s.value.value, b.metric.unit),
                s.value.denominator,
                pct(s.share),
                show(s.rest.value, b.metric.unit),
                s.test.p_value,
                s.verdict,
            ]
            for s in b.segments
        ]
        columns = ["segment", b.metric.label, "n", "share", "rest", "p", "verdict"]
        return [table(f"{b.metric.label} by {b.by}, {b.period.start} to {b.period.end}", columns, rows)]


def metric_breakdown(deps: OperatorDeps, query: BreakdownQuery) -> BreakdownReport:
    """A metric per segment of one attribute, each tested against the rest of the workspace."""
    start, end = checked_period(deps, query.start, query.end)
    filters = checked_filters(deps, query.filters)
    with deps.services.uow() as uow:
        result = segments.breakdown(
            uow.workspace(deps.workspace),
            columns=deps.services.columns,
            metric=deps.services.registry.metric(query.metric),
            start=start,
            end=end,
            by=query.by,
            filters=filters,
            top=query.top,
            today=deps.today,
        )
    m = result.metric
    summary = [
        f"{m.label} over {result.total.denominator:,} conversations: {show(result.total.value, m.unit)}; "
        f"{query.by} is filled in for {pct(result.coverage)} of them."
    ]
    tested = [s for s in result.segments if s.verdict in ("better", "worse", "different")]
    for row in sorted(tested, key=lambda s: s.test.p_value or 1.0)[:3]:
        summary.append(segment_sentence(m, f"{query.by}={row.segment}", row))
    if not tested:
        summary.append(f"No segment of {query.by} differs significantly from the rest.")
    return BreakdownReport(summary=summary + result.notices, breakdown=result)


# -------------------------------------------------------------------------------------------- drivers


class DriversReport(Report):
    rated: int
    """Conversations of the period with a CSAT rating."""
    conversations: int
    csat_average: float | None
    drivers: Drivers

    def blocks(self) -> list[Block]:
        d = self.drivers
        rows = [
            [
                r.attribute,
                r.segment,
                pct(r.value.value),
                r.value.denominator,
                pct(r.rest.value),
                r.impact,
                r.test.p_value,
            ]
            for r in d.drivers
        ]
        columns = ["attribute", "segment", "satisfied", "rated", "elsewhere", "impact", "p"]
        return [table(f"CSAT drivers, {d.period.start} to {d.period.end}", columns, rows)]


class DriversQuery(PeriodQuery):
    filters: dict[str, str] = Field(default_factory=dict)
    """Only these conversations, e.g. {"channel": "email"}."""
    limit: int = Field(default=8, ge=1, le=30)


def csat_drivers(deps: OperatorDeps, query: DriversQuery) -> DriversReport:
    """What drives customer satisfaction: segments rated significantly worse (or better) than the rest."""
    start, end = checked_period(deps, query.start, query.end)
    filters = checked_filters(deps, query.filters)
    registry = deps.services.registry
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        found = segments.drivers(
            scope,
            columns=deps.services.columns,
            metric=registry.metric("csat_satisfied_rate"),
            start=start,
            end=end,
            attributes=CSAT_ATTRIBUTES,
            filters=filters,
            limit=query.limit,
            today=deps.today,
        )
        window = Window(deps, scope, start, end)
        average = window.compare("csat_average", filters)
        volume = window.compare("conversation_volume", filters)
    rated, conversations = found.total.denominator, volume.current.denominator
    if rated == 0:
        summary = [
            f"None of the period's {conversations:,} conversations was rated: there is no CSAT to explain."
        ]
        return DriversReport(
            summary=summary, rated=0, conversations=conversations, csat_average=None, drivers=found
        )
    summary = [
        f"{rated:,} of {conversations:,} conversations were rated "
        f"({pct(rated / conversations if conversations else None)}); {pct(found.total.value)} satisfied (4 "
        f"or 5), average {average.current.value}."
    ]
    worst = [d for d in found.drivers if (d.impact or 0) < 0]
    for d in worst[:3]:
        summary.append(
            f"{d.attribute}={d.segment}: {pct(d.value.value)} satisfied against {pct(d.rest.value)} "
            f"elsewhere (p={d.test.p_value}), {abs(d.impact or 0):.0f} fewer satisfied ratings than the "
            "rest's rate predicts."
        )
    if not worst:
        summary.append("No segment is rated significantly worse than the rest.")
    if rated < 100:
        summary.append(f"Only {rated} ratings: differences need to be large to be significant.")
    return DriversReport(
        summary=summary + found.notices,
        rated=rated,
        conversations=conversations,
        csat_average=average.current.value,
        drivers=found,
    )


# ------------------------------------------------------------------------------------------ anomalies


class AnomalyQuery(PeriodQuery):
    metric: str
    """A catalog name (a heartbeat metric such as escalation_rate, conversation_volume)."""
    by: str | None = None
    """One attribute to look for anomalies in each of its largest segments."""
    filters: dict[str, str] = Field(default_factory=dict)
    top: int = Field(default=6, ge=1, le=20)


class AnomaliesReport(Report):
    metric: MetricInfo
    events: list[AnomalyEvent]
    """Anomalies that touch the period, strongest first."""
    history_from: date
    """Where the baseline starts (eight weeks before the period)."""
    chart: ChartBlock

    def blocks(self) -> list[Block]:
        rows = [
            [e.group, e.start[:10], e.end[:10], e.direction, e.observed, e.expected, e.confidence]
            for e in self.events
        ]
        columns = ["group", "from", "to", "direction", "observed", "expected", "confidence"]
        return [self.chart, table(f"Anomalies in {self.metric.label}", columns, rows)]


def detect_anomalies(deps: OperatorDeps, query: AnomalyQuery) -> AnomaliesReport:
    """Days when a metric left its seasonal baseline, overall or per segment, with size and confidence."""
    start, end = checked_period(deps, query.start, query.end)
    filters = checked_filters(deps, query.filters)
    span = data_span(deps)
    # Days before the first conversation would read as a jump from zero: learn from the data only.
    history = max(start - timedelta(days=HISTORY_DAYS), span[0] if span else start)
    with deps.services.uow() as uow:
        series = engine.series(
            uow.workspace(deps.workspace),
            columns=deps.services.columns,
            metric=deps.services.registry.metric(query.metric),
            start=history,
            end=end,
            granularity="day",
            by=query.by,
            filters=filters,
            top=query.top,
            today=deps.today,
        )
    report = series_anomalies(series)
    events = [e for e in report.events if e.end[:10] >= start.isoformat()]
    events.sort(key=lambda e: -e.confidence)
    m = series.metric
    good = {"up": "better", "down": "worse"} if m.good == "up" else {"up": "worse", "down": "better"}
    summary = []
    for e in events[:4]:
        judged = f" ({good[e.direction]})" if m.good else ""
        summary.append(
            f"{m.label} of {e.group} went {e.direction}{judged} from {e.start[:10]} to {e.end[:10]}: "
            f"{show(e.observed, m.unit)} against an expected {show(e.expected, m.unit)} (confidence "
            f"{e.confidence})."
        )
    if not events:
        summary.append(
            f"No anomaly in {m.label} from {start} to {end}: it stayed within its seasonal baseline "
            f"(learned from {history})."
        )
    chart = ChartBlock(title=f"{m.label}, {history} to {end}", chart=series_figure(series, anomalies=events))
    return AnomaliesReport(
        summary=summary + series.notices, metric=m, events=events, history_from=history, chart=chart
    )


# -------------------------------------------------------------------------------------------- cohorts


class CohortLine(Result):
    name: str
    definition: CohortDefinition
    described: str
    """The definition in words."""
    members: int
    """Customers in it as of the workspace's latest day."""


class CohortList(Report):
    cohorts: list[CohortLine]

    def blocks(self) -> list[Block]:
        rows = [[c.name, c.members, c.described] for c in self.cohorts]
        return [table("Cohorts", ["cohort", "customers", "who"], rows)]


def describe_cohort(definition: CohortDefinition) -> str:
    parts = [f"{k}={v}" for k in ("plan", "region", "company_size") if (v := getattr(definition, k))]
    parts += [f"{k}={v}" for k, v in definition.attributes.items()]
    who = ", ".join(parts) or "every customer"
    if definition.min_conversations:
        who += f" with at least {definition.min_conversations} conversations in {definition.within_days} days"
    return who


def list_cohorts(deps: OperatorDeps, query: Nothing) -> CohortList:
    """The saved cohorts: who is in each (in words) and how many customers that is today."""
    as_of = datetime.combine(deps.today + timedelta(days=1), time(), ZoneInfo("UTC"))
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        lines = [
            CohortLine(
                name=c.name,
                definition=c.definition,
                described=describe_cohort(c.definition),
                members=len(cohort_engine.members(scope, c.definition, as_of=as_of)),
            )
            for c in scope.cohorts.list()
        ]
    summary = (
        [f"{len(lines)} saved cohorts; the largest is {max(lines, key=lambda c: c.members).name}."]
        if lines
        else ["No cohort is saved yet (deskops cohorts define NAME --where KEY=VALUE)."]
    )
    return CohortList(summary=summary, cohorts=lines)


class CohortQuery(PeriodQuery):
    cohort: str = Field(min_length=1, max_length=100)
    """A saved cohort's name (see ``list_cohorts``)."""


class CohortFigure(Result):
    metric: MetricInfo
    cohort: MetricValue
    rest: MetricValue
    difference: float | None
    p_value: float | None
    verdict: str


class CohortReport(Report):
    cohort: str
    described: str
    figures: list[CohortFigure]
    """Headline metrics with data in the period (metrics the cohort has no sample for are left out)."""
    left_out: list[str]

    def blocks(self) -> list[Block]:
        rows = [
            [
                f.metric.label,
                show(f.cohort.value, f.metric.unit),
                f.cohort.denominator,
                show(f.rest.value, f.metric.unit),
                f.p_value,
                f.verdict,
            ]
            for f in self.figures
        ]
        return [
            table(
                f"Cohort {self.cohort} against the rest",
                ["metric", "cohort", "n", "rest", "p", "verdict"],
                rows,
            )
        ]


def cohort_report(deps: OperatorDeps, query: CohortQuery) -> CohortReport:
    """A saved cohort against every other customer: volume, AI resolution, escalation, CSAT, response time."""
    start, end = checked_period(deps, query.start, query.end)
    registry = deps.services.registry
    figures, left_out = [], []
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        definition = scope.cohorts.get(query.cohort).definition
        for name in COHORT_METRICS:
            metric = registry.metrics.get(name)
            if metric is None:
                continue
            row = segments.cohort_against_rest(
                scope,
                columns=deps.services.columns,
                metric=metric,
                start=start,
                end=end,
                cohort=query.cohort,
                today=deps.today,
            )
            if row.value.denominator == 0 and metric.kind != "count":
                left_out.append(f"{name}: the cohort has no sample in the period")
                continue
            figures.append(
                CohortFigure(
                    metric=metric.describe(),
                    cohort=row.value,
                    rest=row.rest,
                    difference=row.difference,
                    p_value=row.test.p_value,
                    verdict=row.verdict,
                )
            )
    summary = [f"Cohort {query.cohort} ({describe_cohort(definition)}), {start} to {end}:"]
    significant = [f for f in figures if f.verdict in ("better", "worse", "different")]
    for f in significant:
        summary.append(
            f"{f.metric.label} {show(f.cohort.value, f.metric.unit)} against "
            f"{show(f.rest.value, f.metric.unit)} for everyone else: {f.verdict} (p={f.p_value})."
        )
    if not significant:
        summary.append("No headline metric differs significantly from the rest of the workspace.")
    volume = next((f for f in figures if f.metric.name == "conversation_volume"), None)
    if volume is not None and volume.cohort.denominator == 0:
        summary.append("The cohort had no conversation in the period.")
    return CohortReport(
        summary=summary,
        cohort=query.cohort,
        described=describe_cohort(definition),
        figures=figures,
        left_out=left_out,
    )
