"""Performance report: how the AI agent and the team did over a period, against the one before.

The headline metrics this workspace actually has (a metric with no conversations behind it
is left out and said so), each with a significance test; for every significant change,
the segments that moved while the rest of the workspace held (segment shifts). When nothing
changed significantly it says so, and names
no cause.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from deskops.analytics.charts import series_figure
from deskops.domain.analytics import Comparison, SegmentShift
from deskops.domain.types import Result
from deskops.operator.blocks import MAX_ROWS, Block, ChartBlock, TableBlock, TextBlock
from deskops.operator.registry import SkillResult
from deskops.operator.runner import ToolRunner
from deskops.operator.tools.analytics import (
    MetricQuery,
    SeriesQuery,
    ShiftsQuery,
    compare_periods,
    metric_series,
    segment_shifts,
)

HEADLINE = (
    "conversation_volume",
    "ai_resolution_rate",
    "escalation_rate",
    "csat_average",
    "first_response_p50",
)
"""What a support lead reads first; each is reported only if the workspace has data for it."""
EXPLAINED = ("ai_resolution_rate", "escalation_rate", "csat_average", "conversation_volume")
"""Metrics whose significant changes are located (the segments that moved while the rest held)."""
MATERIAL = 0.10
"""A segment that moved by less than this, relatively, is not worth naming."""


class ReportAsk(Result):
    start: date
    end: date
    filters: dict[str, str] = Field(default_factory=dict)
    """A segment to report on, e.g. {"channel": "chat"}."""


def show(comparison: Comparison, value: float | None) -> str:
    """A value as a support lead reads it: rates as percentages, seconds as minutes, counts whole."""
    if value is None:
        return "–"
    unit = comparison.metric.unit
    if unit == "%":
        return f"{value * 100:.1f}%"
    if unit == "seconds":
        return f"{value:.0f} s" if abs(value) < 120 else f"{value / 60:.1f} min"
    if comparison.metric.kind == "count":
        return f"{value:,.0f}"
    return f"{value:.2f}"


def verdict(comparison: Comparison) -> str:
    """The comparison's verdict, except that a figure that did not move is not "worse": a median can
    hold while the distribution's test says the times shifted."""
    if comparison.test.significant and not comparison.change:
        return "same figure (the distribution shifted)"
    return comparison.verdict


def change_words(comparison: Comparison) -> str:
    change = comparison.change
    if change is None:
        return "no comparison"
    unit = comparison.metric.unit
    if unit == "%":
        return f"{change * 100:+.1f} pts"
    if unit == "seconds":
        return f"{change:+.0f} s" if abs(change) < 120 else f"{change / 60:+.1f} min"
    if comparison.metric.kind == "count":
        return f"{change:+,.0f}"
    return f"{change:+.2f}"


def performance_report(runner: ToolRunner, ask: ReportAsk) -> SkillResult:
    """How the AI agent and the team did over a period, against the one before, and what moved."""
    comparisons: list[Comparison] = []
    skipped: list[str] = []
    for name in HEADLINE:
        found = runner.call(
            compare_periods, MetricQuery(metric=name, start=ask.start, end=ask.end, filters=ask.filters)
        )
        if found.current.denominator == 0:
            skipped.append(found.metric.label)
            continue
        comparisons.append(found)
    if not comparisons:
        return SkillResult(
            answer=f"There are no conversations from {ask.start} to {ask.end} to report on.",
            blocks=[TextBlock(text="No conversations in that period.")],
            no_change=True,
        )
    current, previous = comparisons[0].current, comparisons[0].previous
    rows = [
        [c.metric.label, show(c, c.current.value), show(c, c.previous.value), change_words(c), verdict(c),
         c.current.denominator]
        for c in comparisons
    ]  # fmt: skip
    lines = [f"From {current.start} to {current.end}, against {previous.start} to {previous.end}:"]
    changed = [c for c in comparisons if c.test.significant and c.change]
    for c in comparisons:
        lines.append(
            f"- {c.metric.label}: {show(c, c.current.value)} (was {show(c, c.previous.value)}; {verdict(c)})"
        )
    columns = ["metric", "this period", "previous", "change", "verdict", "conversations"]
    blocks: list[Block] = [TableBlock(title="Headline metrics", columns=columns, rows=rows[:MAX_ROWS])]
    for c in changed:
        if c.metric.name not in EXPLAINED:
            continue
        shifts = runner.call(
            segment_shifts,
            ShiftsQuery(metric=c.metric.name, start=ask.start, end=ask.end, filters=ask.filters, limit=8),
        )
        sign = 1 if (c.change or 0) > 0 else -1
        named: list[SegmentShift] = []
        for s in shifts.shifts:
            if not (s.explains and abs(s.relative_change or 0) >= MATERIAL and (s.z or 0) * sign > 0):
                continue
            holds = set(zip(s.attribute.split(","), s.segment.split(" × "), strict=True))
            if any(holds >= {(n.attribute, n.segment)} for n in named):
                continue  # a pair holding a segment already named adds nothing
            named.append(s)
        named = named[:3]
        if not named:
            lines.append(
                f"  {c.metric.label}: the change is spread across the workspace, no segment stands out."
            )
            continue
        parts = [
            f"{s.attribute}={s.segment} ({show(c, s.previous.value)} -> {show(c, s.current.value)})"
            for s in named
        ]
        lines.append(f"  {c.metric.label} moved in {', '.join(parts)}, while the rest held.")
        blocks.append(
            TableBlock(
                title=f"Where {c.metric.label.lower()} moved (each segment against the rest)",
                columns=["attribute", "segment", "before", "now"],
                rows=[
                    [s.attribute, s.segment, show(c, s.previous.value), show(c, s.current.value)]
                    for s in named
                ],
            )
        )
    if not changed:
        lines.append("No headline metric changed significantly: nothing here needs explaining.")
    if skipped:
        lines.append(f"Not reported (no data in this workspace for the period): {', '.join(skipped)}.")
    days = (ask.end - ask.start).days + 1
    series = runner.call(
        metric_series,
        SeriesQuery(
            metric="ai_resolution_rate",
            start=ask.start,
            end=ask.end,
            filters=ask.filters,
            granularity="day" if days <= 62 else "week",
        ),
    )
    blocks.insert(0, TextBlock(text="\n".join(lines)))
    blocks.append(ChartBlock(title="AI resolution rate", chart=series_figure(series)))
    return SkillResult(answer="\n".join(lines), blocks=blocks, no_change=not changed)
