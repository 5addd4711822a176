"""Analytics tools: series, comparisons with significance, top movers, the summary, attributes, articles.

Each returns the analytics engine's typed result as it is: every value carries its
numerator and denominator, thin samples are flagged, and notices say how a question was
narrowed. Periods are days of the workspace's calendar, inclusive.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from deskops.analytics import metrics as engine
from deskops.analytics.articles import article_figures
from deskops.analytics.attributes import attribute_report as engine_attribute_report
from deskops.analytics.shifts import segment_shifts as engine_shifts
from deskops.analytics.summary import workspace_summary as engine_summary
from deskops.domain.analytics import (
    ArticleFigures,
    AttributeReport,
    Comparison,
    MetricInfo,
    MetricSeries,
    Movers,
    Shifts,
    WorkspaceSummary,
)
from deskops.domain.types import Granularity, Result
from deskops.operator.deps import OperatorDeps


class Nothing(Result):
    """A tool that needs no arguments."""


class PeriodQuery(Result):
    start: date
    """First day, in the workspace's time zone."""
    end: date
    """Last day, inclusive."""


class MetricQuery(PeriodQuery):
    metric: str
    """A catalog name, e.g. ``ai_resolution_rate`` (see ``list_metrics``)."""
    filters: dict[str, str] = Field(default_factory=dict)
    """Attribute = value, e.g. {"plan": "Starter"}; ``cohort`` names a saved cohort."""


class SeriesQuery(MetricQuery):
    granularity: Granularity = "day"
    by: str | None = None
    """An attribute to break down by (or up to four joined by commas)."""
    top: int = Field(default=8, ge=1, le=100)
    """Groups shown; the rest are summed as (other)."""


class MoversQuery(MetricQuery):
    attributes: list[str] | None = None
    """Only these attributes' segments (default: every attribute the metric has)."""
    limit: int = Field(default=5, ge=1, le=20)


class ShiftsQuery(MoversQuery):
    pairs: bool = True
    """Also test pairs of attributes (plan × product area ...), topics aside."""


class MetricCatalog(Result):
    metrics: list[MetricInfo]


def list_metrics(deps: OperatorDeps, query: Nothing) -> MetricCatalog:
    """Every metric of the catalog: name, meaning, unit, which direction is better, its breakdowns."""
    return MetricCatalog(metrics=[m.describe() for m in deps.services.registry.metrics.values()])


def metric_series(deps: OperatorDeps, query: SeriesQuery) -> MetricSeries:
    """A metric per time bucket (optionally per segment); each point carries its numerator and denominator."""
    with deps.services.uow() as uow:
        return engine.series(
            uow.workspace(deps.workspace),
            columns=deps.services.columns,
            metric=deps.services.registry.metric(query.metric),
            start=query.start,
            end=query.end,
            granularity=query.granularity,
            by=query.by,
            filters=query.filters,
            top=query.top,
            today=deps.today,
        )


def compare_periods(deps: OperatorDeps, query: MetricQuery) -> Comparison:
    """A metric over a period against the previous period of the same length, with a significance test."""
    with deps.services.uow() as uow:
        return engine.compare(
            uow.workspace(deps.workspace),
            columns=deps.services.columns,
            metric=deps.services.registry.metric(query.metric),
            start=query.start,
            end=query.end,
            filters=query.filters,
            today=deps.today,
        )


def top_movers(deps: OperatorDeps, query: MoversQuery) -> Movers:
    """The segments (plan, region, topic, channel ...) that explain most of a metric's change."""
    with deps.services.uow() as uow:
        return engine.top_movers(
            uow.workspace(deps.workspace),
            columns=deps.services.columns,
            metric=deps.services.registry.metric(query.metric),
            start=query.start,
            end=query.end,
            filters=query.filters,
            attributes=tuple(query.attributes) if query.attributes else None,
            limit=query.limit,
            today=deps.today,
        )


def segment_shifts(deps: OperatorDeps, query: ShiftsQuery) -> Shifts:
    """Which segment changed while the rest did not: each segment's change and its complement's, tested."""
    with deps.services.uow() as uow:
        return engine_shifts(
            uow.workspace(deps.workspace),
            columns=deps.services.columns,
            metric=deps.services.registry.metric(query.metric),
            start=query.start,
            end=query.end,
            filters=query.filters,
            attributes=tuple(query.attributes) if query.attributes else None,
            limit=query.limit,
            pairs=query.pairs,
            today=deps.today,
        )


def workspace_summary(deps: OperatorDeps, query: Nothing) -> WorkspaceSummary:
    """Size, period covered, outcome and channel mix, and the top topics of the workspace."""
    with deps.services.uow() as uow:
        return engine_summary(uow.workspace(deps.workspace))


def attribute_report(deps: OperatorDeps, query: PeriodQuery) -> AttributeReport:
    """Which attributes are filled in and which go with escalation: what to break down by, what to skip."""
    with deps.services.uow() as uow:
        return engine_attribute_report(
            uow.workspace(deps.workspace),
            columns=deps.services.columns,
            start=query.start,
            end=query.end,
            today=deps.today,
        )


def article_performance(deps: OperatorDeps, query: PeriodQuery) -> ArticleFigures:
    """Per article: how often the AI agent cited it, and how those conversations ended."""
    with deps.services.uow() as uow:
        return article_figures(
            uow.workspace(deps.workspace), start=query.start, end=query.end, today=deps.today
        )
