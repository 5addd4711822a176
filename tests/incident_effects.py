"""Whether a simulated incident shows in the data: its metric, in its segment, over its window.

Computed from the raw tables with SQL and SciPy, not with deskops' analytics, so a test of
the simulator does not lean on the engine it will be used to test.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from scipy import stats

from deskops.simulate.truth import GroundTruth, IncidentTruth


@dataclass(frozen=True)
class Effect:
    incident: str
    metric: str
    during: float
    before: float
    p: float
    """One-sided p-value of a move in the stated direction."""
    samples: tuple[int, int]


def _utc(at: datetime) -> str:
    """A truth timestamp in the store's UTC text form."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def measure(db: sqlite3.Connection, truth: GroundTruth, incident: IncidentTruth) -> Effect:
    """The incident's metric in its segment over its window, against the same hours in the weeks before."""
    where, params = [], []
    for key, value in incident.filters().items():
        column = (
            f"customer_id in (select id from customers where {key} = ?)"
            if key in ("plan", "region")
            else f"{key} = ?"
        )
        where.append(column)
        params.append(value)
    segment = " and ".join(where)
    # The same hours one, two and three window-lengths (rounded up to whole weeks) earlier:
    # the baseline has the same weekdays and hours, so weekly seasonality cannot fake a move.
    lag = timedelta(days=7 * math.ceil((incident.end - incident.start) / timedelta(days=7)))
    earlier = [
        (incident.start - k * lag, incident.end - k * lag)
        for k in (1, 2, 3)
        if incident.start - k * lag >= truth.period.start
    ]
    assert earlier, f"{incident.id} starts too early to have weeks before it"
    spans = {"during": [(incident.start, incident.end)], "before": earlier}

    def rows(select: str, span: str, *, everywhere: bool = False) -> list[tuple[object, ...]]:
        found = []
        for lo, hi in spans[span]:
            sql = f"select {select} from conversations where created_at >= ? and created_at < ?"
            if everywhere:
                found += db.execute(sql, [_utc(lo), _utc(hi)]).fetchall()
            else:
                found += db.execute(f"{sql} and {segment}", [_utc(lo), _utc(hi), *params]).fetchall()
        return found

    def count(span: str, *, everywhere: bool = False) -> int:
        return sum(int(str(n)) for (n,) in rows("count(*)", span, everywhere=everywhere))

    up = incident.direction == "up"
    alternative = "greater" if up else "less"
    copies = len(earlier)
    if incident.metric == "conversation_volume":
        # The segment's share of all conversations: growth and the weekly cycle move both alike.
        inside = (count("during"), count("before"))
        total = (count("during", everywhere=True), count("before", everywhere=True))
        table = [[inside[0], inside[1]], [total[0] - inside[0], total[1] - inside[1]]]
        _, p = stats.fisher_exact(table, alternative=alternative)
        return Effect(incident.id, incident.metric, inside[0], inside[1] / copies, float(p), inside)
    if incident.metric == "escalation_rate":
        counts = []
        for span in ("during", "before"):
            flags = [
                bool(escalated) for ai, escalated in rows("ai_involved, escalated_at is not null", span) if ai
            ]
            counts.append([sum(flags), len(flags) - sum(flags)])
        _, p = stats.fisher_exact(counts, alternative=alternative)
        rates = [hit / (hit + miss) for hit, miss in counts]
        return Effect(
            incident.id, incident.metric, rates[0], rates[1], float(p), (sum(counts[0]), sum(counts[1]))
        )
    assert incident.metric == "csat_average", incident.metric
    during, before = (
        np.array([v for (v,) in rows("csat", span) if v is not None], dtype=float)
        for span in ("during", "before")
    )
    test = stats.mannwhitneyu(during, before, alternative=alternative)
    return Effect(
        incident.id, incident.metric, float(during.mean()), float(before.mean()), float(test.pvalue),
        (len(during), len(before)),
    )  # fmt: skip
