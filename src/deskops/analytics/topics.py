"""Topics over time: which grew or shrank against the previous period, and which are new or rising.

A topic's count moves with the whole workspace's volume (a busy Monday lifts every
topic), so both questions are asked of its *share* of all conversations: the trend with
a two-proportion z-test of share now against share before, emergence with a one-sided
binomial test of the recent share against the baseline share. A topic with no
conversation in the baseline and enough in the recent window is new.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from scipy import stats

from deskops.analytics import frame as frames
from deskops.analytics.catalog import BY_NAME
from deskops.analytics.columns import ColumnStore
from deskops.analytics.metrics import (
    MetricQueryError,
    Period,
    check_period,
    compute_groups,
    two_proportion_z_test,
)
from deskops.domain.analytics import (
    EmergingTopic,
    EmergingTopics,
    SignificanceTest,
    TopicTrend,
    TopicTrends,
)
from deskops.domain.types import DateRange, rounded
from deskops.store.repositories import WorkspaceScope

MIN_NEW = 10
"""Conversations a topic needs in the recent window to be reported new or rising."""
RISING = 1.5
FALSE_DISCOVERY = 0.01
"""Adjusted p-value under which a rise is reported: at most one topic in a hundred reported is noise."""
"""Share ratio (recent over baseline) from which a significant rise is reported."""


def _topic_frames(
    scope: WorkspaceScope, columns: ColumnStore, periods: list[Period]
) -> list[tuple[frames.Frame, np.ndarray, list[str]]]:
    snapshot = columns.snapshot(scope)  # one snapshot for every period: the same topic codes
    tz = ZoneInfo(scope.workspace.time_zone)
    out = []
    for period in periods:
        f = frames.load(snapshot, *period.bounds(tz))
        codes, names = f.codes("topic")
        out.append((f, codes, names))
    return out


def topic_trends(
    scope: WorkspaceScope,
    *,
    columns: ColumnStore,
    start: date,
    end: date,
    limit: int = 15,
    today: date | None = None,
) -> TopicTrends:
    """Every topic's volume, share and AI outcome now against the previous period of the same length."""
    if not 1 <= limit <= 100:
        raise MetricQueryError(f"limit must be between 1 and 100, not {limit}")
    current, notices = check_period(start, end, today=today)
    before = current.previous()
    (now, codes_now, names), (then, codes_then, _) = _topic_frames(scope, columns, [current, before])
    size = len(names)
    counts_now = np.bincount(codes_now, minlength=size)
    counts_then = np.bincount(codes_then, minlength=size)
    resolution, escalation = BY_NAME["ai_resolution_rate"], BY_NAME["escalation_rate"]
    res_now, res_then = (
        compute_groups(resolution, f, c, size) for f, c in ((now, codes_now), (then, codes_then))
    )
    esc_now, esc_then = (
        compute_groups(escalation, f, c, size) for f, c in ((now, codes_now), (then, codes_then))
    )
    total_now, total_then = len(now), len(then)
    rows = []
    for code in range(1, size):  # code 0: no topic
        a, b = int(counts_now[code]), int(counts_then[code])
        if a == 0 and b == 0:
            continue
        rows.append(
            TopicTrend(
                topic=names[code],
                conversations=a,
                previous=b,
                change=a - b,
                share=round(a / total_now, 4) if total_now else 0.0,
                previous_share=round(b / total_then, 4) if total_then else 0.0,
                share_test=two_proportion_z_test(a, total_now, b, total_then)
                if total_now and total_then
                else _untested("a period has no conversations"),
                ai_resolution=res_now[code].result(),
                previous_ai_resolution=res_then[code].result(),
                escalation=esc_now[code].result(),
                previous_escalation=esc_then[code].result(),
            )
        )
    rows.sort(key=lambda r: (-abs(r.change), r.topic))
    if counts_now[0]:
        notices.append(f"{int(counts_now[0]):,} conversations of the period have no topic")
    return TopicTrends(
        workspace=scope.workspace.name,
        current=current.range(),
        previous=before.range(),
        conversations=total_now,
        previous_conversations=total_then,
        topics=rows[:limit],
        notices=notices,
    )


def emerging_topics(
    scope: WorkspaceScope,
    *,
    columns: ColumnStore,
    end: date,
    days: int = 7,
    baseline_days: int = 28,
    min_conversations: int = MIN_NEW,
    today: date | None = None,
) -> EmergingTopics:
    """Topics new in the last ``days`` (none in the ``baseline_days`` before) or rising significantly."""
    if not 1 <= days <= 90 or not days <= baseline_days <= 365:
        raise MetricQueryError(
            f"days must be 1-90 and baseline_days from days to 365, not {days} and {baseline_days}"
        )
    recent, notices = check_period(end - timedelta(days=days - 1), end, today=today)
    baseline = Period(recent.start - timedelta(days=baseline_days), recent.start - timedelta(days=1))
    (now, codes_now, names), (then, codes_then, _) = _topic_frames(scope, columns, [recent, baseline])
    size = len(names)
    counts_now = np.bincount(codes_now, minlength=size)
    counts_then = np.bincount(codes_then, minlength=size)
    total_now, total_then = len(now), len(then)
    if total_then == 0:
        notices.append(f"no conversation from {baseline.start} to {baseline.end}: nothing to compare with")
    found = []
    tested: list[tuple[int, float]] = []
    for code in range(1, size):
        a, b = int(counts_now[code]), int(counts_then[code])
        if a < min_conversations or not total_now or not total_then:
            continue
        if b == 0:
            found.append(_emerging(names[code], "new", a, b, a / total_now, 0.0, None, None))
            continue
        tested.append(
            (code, float(stats.binomtest(a, total_now, b / total_then, alternative="greater").pvalue))
        )
    # Every topic is a test: control the false discovery rate across them (Benjamini-Hochberg), or some
    # topic would "rise" in every quiet week.
    adjusted = stats.false_discovery_control([p for _, p in tested]) if tested else []
    for (code, _), p in zip(tested, adjusted, strict=True):
        a, b = int(counts_now[code]), int(counts_then[code])
        share_now, share_then = a / total_now, b / total_then
        if p < FALSE_DISCOVERY and share_now / share_then >= RISING:
            found.append(
                _emerging(
                    names[code], "rising", a, b, share_now, share_then, share_now / share_then, float(p)
                )
            )
    found.sort(key=lambda t: (t.status != "new", -(t.ratio or 0.0), t.topic))
    return EmergingTopics(
        workspace=scope.workspace.name,
        recent=recent.range(),
        baseline=DateRange(start=baseline.start, end=baseline.end),
        recent_conversations=total_now,
        baseline_conversations=total_then,
        topics=found,
        unclassified_share=round(int(counts_now[0]) / total_now, 4) if total_now else 0.0,
        notices=notices,
    )


def _emerging(
    topic: str,
    status: str,
    recent: int,
    baseline: int,
    share_now: float,
    share_then: float,
    ratio: float | None,
    p: float | None,
) -> EmergingTopic:
    return EmergingTopic(
        topic=topic,
        status="new" if status == "new" else "rising",
        recent=recent,
        baseline=baseline,
        recent_share=round(share_now, 4),
        baseline_share=round(share_then, 4),
        ratio=rounded(ratio, 2),
        p_value=rounded(p, 6),
    )


def _untested(reason: str) -> SignificanceTest:
    return SignificanceTest(name=None, p_value=None, significant=False, reason=reason)
