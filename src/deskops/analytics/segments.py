"""A metric per segment against the rest of the workspace, and the segments that drive it.

A breakdown says where a metric is high or low; the question a support lead asks next is
whether the difference is real. Each segment is tested against every other conversation
of the period (not against the overall value it is part of): rates with a two-proportion
z-test, means and quantiles with Mann-Whitney U. Drivers run the same test over every
attribute the workspace fills in and rank the segments by impact: the difference times
the segment's sample, i.e. how many resolutions, satisfied ratings (or score points) the
segment gains or loses against the rest.
"""

from __future__ import annotations

import difflib
from datetime import date

import numpy as np
from scipy import stats

from deskops.analytics import frame as frames
from deskops.analytics.catalog import Metric
from deskops.analytics.columns import ColumnStore
from deskops.analytics.metrics import (
    MIN_SAMPLE,
    MetricQueryError,
    Value,
    _absent_values,
    _filtered,
    breakdown_attributes,
    check_period,
    compute,
    compute_groups,
    two_proportion_z_test,
)
from deskops.domain.analytics import (
    Breakdown,
    Driver,
    Drivers,
    SegmentValue,
    SegmentVerdict,
    SignificanceTest,
)
from deskops.domain.types import rounded
from deskops.store.repositories import WorkspaceScope

EMPTY_COVERAGE = 0.01
"""An attribute filled in for fewer conversations than this share is empty here: never broken down by."""
MAX_SEGMENTS = 30


def coverage(f: frames.Frame, attribute: str) -> float:
    """Share of the frame's conversations with a value for ``attribute``."""
    if not len(f):
        return 0.0
    codes, _ = f.codes(attribute)
    if attribute in f.dictionaries:
        return float((codes > 0).mean())
    return 1.0  # booleans are always set


def breakdown(
    scope: WorkspaceScope,
    *,
    columns: ColumnStore,
    metric: Metric,
    start: date,
    end: date,
    by: str,
    filters: dict[str, str] | None = None,
    top: int = MAX_SEGMENTS,
    today: date | None = None,
) -> Breakdown:
    """The metric per segment of ``by``, each against the rest; refuses an attribute empty in the period."""
    m = metric
    if "," in by:
        raise MetricQueryError("a breakdown takes one attribute (use metric_series for combinations)")
    breakdown_attributes(by, m)
    fixed = {column: value for column, operator, value in m.where if operator == "=="}
    if by in fixed:
        raise MetricQueryError(
            f"{m.name} counts only conversations with {by}={fixed[by]}: broken down by {by} it has one "
            "segment"
        )
    if not 1 <= top <= MAX_SEGMENTS:
        raise MetricQueryError(f"top must be between 1 and {MAX_SEGMENTS}, not {top}")
    period, notices = check_period(start, end, today=today)
    f = _filtered(scope, m, period, filters or {}, columns.snapshot(scope))
    notices += _absent_values(f, filters or {})
    covered = coverage(f, by)
    if len(f) and covered < EMPTY_COVERAGE:
        filled = [a for a in m.breakdowns if a != by and coverage(f, a) >= EMPTY_COVERAGE]
        raise MetricQueryError(
            f"{by} is empty in {scope.workspace.name} from {period.start} to {period.end} ({covered:.1%} of "
            f"conversations have it): break down by {', '.join(filled) or 'nothing else'}"
        )
    codes, names = f.codes(by)
    rows = _segments(m, f, codes, names)
    rows.sort(key=lambda r: (-r.value.denominator, r.segment))
    if len(rows) > top:
        notices.append(f"{len(rows)} segments of {by}: showing the {top} largest")
    return Breakdown(
        metric=m.describe(),
        workspace=scope.workspace.name,
        period=period.range(),
        by=by,
        filters=filters or {},
        coverage=round(covered, 4),
        total=compute(m, f).result(),
        segments=rows[:top],
        notices=notices,
    )


def drivers(
    scope: WorkspaceScope,
    *,
    columns: ColumnStore,
    metric: Metric,
    start: date,
    end: date,
    attributes: tuple[str, ...] | None = None,
    filters: dict[str, str] | None = None,
    limit: int = 10,
    today: date | None = None,
) -> Drivers:
    """Segments of every filled-in attribute that differ significantly from the rest, by impact."""
    m = metric
    if m.kind in ("count", "per_customer"):
        raise MetricQueryError(f"drivers need a rate, mean or quantile; {m.name} is a {m.kind}")
    if attributes:
        for attribute in attributes:
            breakdown_attributes(attribute, m)
    period, notices = check_period(start, end, today=today)
    f = _filtered(scope, m, period, filters or {}, columns.snapshot(scope))
    notices += _absent_values(f, filters or {})
    fixed = {column for column, operator, _ in m.where if operator == "=="}
    skipped = [f"{a}: the metric's own sample fixes it" for a in sorted(fixed & set(m.breakdowns))]
    found: list[Driver] = []
    for attribute in attributes or tuple(a for a in m.breakdowns if a not in fixed):
        covered = coverage(f, attribute)
        if covered < EMPTY_COVERAGE:
            skipped.append(f"{attribute}: filled in for {covered:.1%} of conversations")
            continue
        codes, names = f.codes(attribute)
        for row in _segments(m, f, codes, names):
            if row.test.significant and row.value.denominator >= MIN_SAMPLE and row.difference is not None:
                impact = rounded(row.difference * row.value.denominator, 2)
                found.append(Driver(**row.model_dump(by_alias=False), attribute=attribute, impact=impact))
    sign = -1.0 if m.good == "up" else 1.0  # worst first: the largest loss against the rest
    if m.good is None:
        found.sort(key=lambda d: -abs(d.impact or 0.0))
    else:
        found.sort(key=lambda d: -(d.impact or 0.0) * sign)
    return Drivers(
        metric=m.describe(),
        workspace=scope.workspace.name,
        period=period.range(),
        total=compute(m, f).result(),
        drivers=found[:limit],
        skipped=skipped,
        notices=notices,
    )


def close_values(f: frames.Frame, attribute: str, value: str) -> list[str]:
    """Values of ``attribute`` in the frame close to ``value`` (for an error message)."""
    _, names = f.codes(attribute)
    return difflib.get_close_matches(value, names[1:], n=3, cutoff=0.5)


def _segments(m: Metric, f: frames.Frame, codes: np.ndarray, names: list[str]) -> list[SegmentValue]:
    values = compute_groups(m, f, codes, len(names))
    total = compute(m, f)
    sample = f.mask(m.where)
    out = []
    for code, value in enumerate(values):
        if value.denominator == 0:
            continue
        rest, test = _against_rest(m, f, codes == code, sample, value, total)
        difference = None if value.value is None or rest.value is None else value.value - rest.value
        out.append(
            SegmentValue(
                segment=names[code],
                value=value.result(),
                share=round(value.denominator / total.denominator, 4) if total.denominator else 0.0,
                rest=rest.result(),
                difference=rounded(difference),
                test=test,
                verdict=_verdict(m, test, difference),
            )
        )
    return out


def _against_rest(
    m: Metric, f: frames.Frame, inside: np.ndarray, sample: np.ndarray, value: Value, total: Value
) -> tuple[Value, SignificanceTest]:
    if m.kind in ("count", "per_customer"):
        rest = compute(m, f.take(~inside))
        return rest, SignificanceTest(
            name=None, p_value=None, significant=False, reason="a count is not tested"
        )
    if m.kind == "rate":
        n = total.denominator - value.denominator
        x = (total.numerator or 0.0) - (value.numerator or 0.0)
        rest = Value(x / n if n else None, x, n)
    else:
        rest = compute(m, f.take(~inside))
    if value.thin or rest.thin:
        return rest, SignificanceTest(
            name=None, p_value=None, significant=False, reason=f"fewer than {MIN_SAMPLE} conversations"
        )
    if m.kind == "rate":
        return rest, two_proportion_z_test(
            int(value.numerator or 0), value.denominator, int(rest.numerator or 0), rest.denominator
        )
    assert m.value is not None
    column = f[m.value]
    known = sample & ~np.isnan(column)
    result = stats.mannwhitneyu(column[known & inside], column[known & ~inside], alternative="two-sided")
    return rest, SignificanceTest(
        name="Mann-Whitney U",
        statistic=rounded(float(result.statistic)),
        p_value=rounded(float(result.pvalue), 6),
        significant=bool(result.pvalue < 0.05),
    )


def _verdict(m: Metric, test: SignificanceTest, difference: float | None) -> SegmentVerdict:
    if test.p_value is None or difference is None:
        return "not enough data"
    if not test.significant:
        return "no significant difference"
    if m.good is None:
        return "different"
    return "better" if difference * (1 if m.good == "up" else -1) > 0 else "worse"


def cohort_against_rest(
    scope: WorkspaceScope,
    *,
    columns: ColumnStore,
    metric: Metric,
    start: date,
    end: date,
    cohort: str,
    today: date | None = None,
) -> SegmentValue:
    """The metric over a saved cohort's conversations against every other conversation of the period."""
    from zoneinfo import ZoneInfo

    from deskops.analytics import cohorts

    m = metric
    period, _ = check_period(start, end, today=today)
    definition = scope.cohorts.get(cohort).definition
    f = _filtered(scope, m, period, {}, columns.snapshot(scope))
    _, until = period.bounds(ZoneInfo(scope.workspace.time_zone))
    ids = np.array(sorted(cohorts.members(scope, definition, as_of=until)), dtype=float)
    inside = np.isin(f["customer_id"], ids)
    value = compute(m, f.take(inside))
    rest, test = _against_rest(m, f, inside, f.mask(m.where), value, compute(m, f))
    difference = None if value.value is None or rest.value is None else value.value - rest.value
    total = compute(m, f)
    return SegmentValue(
        segment=cohort,
        value=value.result(),
        share=round(value.denominator / total.denominator, 4) if total.denominator else 0.0,
        rest=rest.result(),
        difference=rounded(difference),
        test=test,
        verdict=_verdict(m, test, difference),
    )
