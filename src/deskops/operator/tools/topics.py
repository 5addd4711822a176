"""Topic analytics: which topics grew or shrank, which are new or rising, how each fares with the AI agent."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from deskops.analytics.topics import emerging_topics as engine_emerging
from deskops.analytics.topics import topic_trends as engine_trends
from deskops.domain.analytics import EmergingTopics, TopicTrends
from deskops.domain.types import Result
from deskops.operator.blocks import Block
from deskops.operator.deps import OperatorDeps
from deskops.operator.tools.analytics import PeriodQuery
from deskops.operator.tools.reporting import Report, checked_period, data_span, pct, table


class TrendsQuery(PeriodQuery):
    limit: int = Field(default=12, ge=1, le=100)
    """Topics listed, largest change of volume first."""


class TrendsReport(Report):
    trends: TopicTrends

    def blocks(self) -> list[Block]:
        t = self.trends
        rows = [
            [
                r.topic,
                r.conversations,
                r.previous,
                r.change,
                pct(r.share),
                r.share_test.p_value,
                pct(r.ai_resolution.value),
                pct(r.previous_ai_resolution.value),
            ]
            for r in t.topics
        ]
        columns = ["topic", "now", "before", "change", "share", "p (share)", "AI resolution", "before"]
        return [
            table(f"Topics, {t.current.start} to {t.current.end} against the period before", columns, rows)
        ]


def topic_trends(deps: OperatorDeps, query: TrendsQuery) -> TrendsReport:
    """Each topic's volume, share and AI resolution against the previous period, largest change first."""
    start, end = checked_period(deps, query.start, query.end)
    with deps.services.uow() as uow:
        trends = engine_trends(
            uow.workspace(deps.workspace),
            columns=deps.services.columns,
            start=start,
            end=end,
            limit=query.limit,
            today=deps.today,
        )
    summary = [
        f"{trends.conversations:,} conversations from {trends.current.start} to {trends.current.end}, "
        f"against {trends.previous_conversations:,} in the period before."
    ]
    moved = [r for r in trends.topics if r.share_test.significant]
    for r in moved[:4]:
        direction = "grew" if r.share > r.previous_share else "shrank"
        summary.append(
            f"{r.topic} {direction} from {r.previous:,} to {r.conversations:,} conversations "
            f"({pct(r.previous_share)} to {pct(r.share)} of all, p={r.share_test.p_value})."
        )
    if not moved:
        summary.append("No topic's share of conversations changed significantly.")
    for r in trends.topics:
        a, b = r.ai_resolution, r.previous_ai_resolution
        if (
            a.value is not None
            and b.value is not None
            and not a.thin
            and not b.thin
            and b.value - a.value >= 0.1
        ):
            summary.append(
                f"AI resolution on {r.topic} fell from {pct(b.value)} to {pct(a.value)} "
                f"(n={a.denominator:,}): worth a look."
            )
    return TrendsReport(summary=summary + trends.notices, trends=trends)


class EmergingQuery(Result):
    end: date
    """Last day of the recent window (the workspace's latest day for "now")."""
    days: int = Field(default=7, ge=1, le=90)
    """Length of the recent window."""
    baseline_days: int = Field(default=28, ge=1, le=365)
    """Length of the baseline window just before it."""
    min_conversations: int = Field(default=10, ge=1, le=10_000)
    """Conversations a topic needs in the recent window to be reported."""


class EmergingReport(Report):
    emerging: EmergingTopics

    def blocks(self) -> list[Block]:
        e = self.emerging
        rows = [
            [
                t.topic,
                t.status,
                t.recent,
                t.baseline,
                pct(t.recent_share),
                pct(t.baseline_share),
                t.ratio,
                t.p_value,
            ]
            for t in e.topics
        ]
        columns = ["topic", "status", "recent", "baseline", "share", "baseline share", "ratio", "p"]
        return [table(f"Emerging topics, {e.recent.start} to {e.recent.end}", columns, rows)]


def emerging_topics(deps: OperatorDeps, query: EmergingQuery) -> EmergingReport:
    """Topics new or rising faster than the workspace in the last days (tested against a baseline)."""
    checked_period(deps, query.end, query.end)
    span = data_span(deps)
    with deps.services.uow() as uow:
        found = engine_emerging(
            uow.workspace(deps.workspace),
            columns=deps.services.columns,
            end=query.end,
            days=query.days,
            baseline_days=query.baseline_days,
            min_conversations=query.min_conversations,
            today=deps.today,
        )
    summary = []
    if span is not None and found.baseline.start < span[0]:
        held = max(0, (found.baseline.end - span[0]).days + 1)
        summary.append(
            f"The baseline starts before the data ({span[0]}): only {held} of its {query.baseline_days} "
            "days hold conversations, so a topic may look new only because the data is."
        )
    for t in found.topics[:5]:
        if t.status == "new":
            summary.append(
                f"{t.topic} is new: {t.recent:,} conversations from {found.recent.start} to "
                f"{found.recent.end}, none in the {query.baseline_days} days before."
            )
        else:
            summary.append(
                f"{t.topic} is rising: {pct(t.recent_share)} of conversations against "
                f"{pct(t.baseline_share)} before ({t.ratio}x, p={t.p_value})."
            )
    if not found.topics:
        summary.append(
            f"No topic is new or rising significantly from {found.recent.start} to {found.recent.end}."
        )
    if found.unclassified_share >= 0.2:
        summary.append(
            f"{pct(found.unclassified_share)} of recent conversations have no topic: a new subject may hide "
            "there."
        )
    return EmergingReport(summary=summary + found.notices, emerging=found)
