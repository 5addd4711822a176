"""Metric values, time series with their denominators, breakdowns, comparisons and top movers."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from scipy import stats

from deskops.analytics import cohorts
from deskops.analytics import frame as frames
from deskops.analytics.catalog import ATTRIBUTES, Metric
from deskops.analytics.columns import ColumnStore, Snapshot
from deskops.domain.analytics import (
    Comparison,
    MetricSeries,
    MetricValue,
    Mover,
    Movers,
    PeriodValue,
    SeriesGroup,
    SeriesPoint,
    SignificanceTest,
    Verdict,
)
from deskops.domain.types import DateRange, Granularity, rounded
from deskops.errors import InvalidInput
from deskops.store.repositories import WorkspaceScope

EARLIEST = date(1970, 1, 1)
"""Periods start on or after this day (timestamps are refused at import before it, too)."""
MAX_BUCKETS = 10_000
"""Time buckets one series may have (hourly for about 14 months, daily for 27 years)."""
MAX_POINTS = 200_000
"""Buckets × groups one series may have: beyond this the answer is unreadable and the memory large."""
MAX_TOP = 100
"""Groups a breakdown may show (the rest are pooled as (other)); also the most movers
``deskops metrics --movers --top`` lists (the Python API may ask for every segment)."""
MAX_BY = 4
"""Attributes one breakdown may combine (``plan,region,channel,topic``)."""
MIN_SAMPLE = 30
"""Below this many conversations in the denominator a value is flagged thin and never tested."""
MAX_GROUPS = 12
OTHER = "(other)"
MISSING = frames.MISSING_LABEL
OUTCOME_ATTRIBUTES = ("outcome", "team")
"""What happened in a conversation, not what came in: left out of top movers unless asked for."""


class MetricQueryError(InvalidInput):
    """A metric query the caller has to fix."""


@dataclass(frozen=True)
class Value:
    value: float | None
    numerator: float | None
    """Conversations counted (rates), sum of values (means), None for quantiles."""
    denominator: int
    """Conversations in the sample: the thing to look at before trusting the value."""

    @property
    def thin(self) -> bool:
        return self.denominator < MIN_SAMPLE

    def result(self) -> MetricValue:
        """The published figure (rounded)."""
        return MetricValue(
            value=rounded(self.value),
            numerator=rounded(self.numerator),
            denominator=self.denominator,
            thin=self.thin,
        )

    def over(self, period: Period) -> PeriodValue:
        """The published figure for one period of a comparison."""
        return PeriodValue(start=period.start, end=period.end, **self.result().model_dump())


def compute(m: Metric, f: frames.Frame) -> Value:
    """The metric over every conversation of ``f``."""
    sample = f.mask(m.where)
    n = int(sample.sum())
    if m.kind == "count":
        return Value(float(len(f)), float(len(f)), len(f))
    if m.kind == "rate":
        hits = int((sample & f.mask(m.hit)).sum())
        return Value(hits / n if n else None, float(hits), n)
    if m.kind == "per_customer":
        customers = f["customer_id"][~np.isnan(f["customer_id"])]
        distinct = len(np.unique(customers))
        return Value(len(f) / distinct if distinct else None, float(len(f)), distinct)
    assert m.value is not None
    values = f[m.value][sample]
    values = values[~np.isnan(values)]
    if m.kind == "mean":
        return Value(float(values.mean()) if len(values) else None, float(values.sum()), len(values))
    assert m.quantile is not None
    return Value(float(np.quantile(values, m.quantile)) if len(values) else None, None, len(values))


def compute_groups(m: Metric, f: frames.Frame, group: np.ndarray, groups: int) -> list[Value]:
    """The metric for each group 0..groups-1, ``group`` giving each conversation's group."""
    sums = _group_sums(m, f, group, groups)
    if sums is None:  # quantiles and distinct customers: sort the rows by group and take slices
        needed = {"created", "customer_id", *(c for c, _, _ in m.where)} | ({m.value} if m.value else set())
        order = np.argsort(group, kind="stable")
        ordered = f.select(needed).take(order)
        bounds = np.searchsorted(group[order], np.arange(groups + 1))
        return [compute(m, ordered.slice(bounds[g], bounds[g + 1])) for g in range(groups)]
    return _values(m, *sums)


def _group_sums(
    m: Metric, f: frames.Frame, group: np.ndarray, groups: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """(numerator, denominator) per group for the additive kinds, one ``np.bincount`` each; else None."""
    if m.kind == "count":
        counts = np.bincount(group, minlength=groups).astype(float)
        return counts, counts
    if m.kind == "rate":
        sample = f.mask(m.where)
        hits = np.bincount(group, weights=sample & f.mask(m.hit), minlength=groups)
        return hits, np.bincount(group, weights=sample, minlength=groups)
    if m.kind == "mean":
        assert m.value is not None
        values = f[m.value]
        known = f.mask(m.where) & ~np.isnan(values)
        sums = np.bincount(group, weights=np.where(known, values, 0.0), minlength=groups)
        return sums, np.bincount(group, weights=known, minlength=groups)
    return None


def _values(m: Metric, numerators: np.ndarray, denominators: np.ndarray) -> list[Value]:
    if m.kind == "count":
        return [Value(float(c), float(c), int(c)) for c in denominators]
    return [
        Value(float(x) / k if k else None, float(x), int(k))
        for x, k in zip(numerators.tolist(), denominators.tolist(), strict=True)
    ]


# ----------------------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    """Inclusive."""

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        first = datetime.combine(self.start, datetime.min.time(), tz).astimezone(UTC)
        last = datetime.combine(self.end + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
        return first, last

    def previous(self) -> Period:
        length = (self.end - self.start).days + 1
        return Period(self.start - timedelta(days=length), self.start - timedelta(days=1))

    def range(self) -> DateRange:
        return DateRange(start=self.start, end=self.end)


def check_period(start: date, end: date, *, today: date | None = None) -> tuple[Period, list[str]]:
    """Refuse inverted, future or implausible ranges; clip an end in the future to today (with a notice)."""
    today = today or datetime.now(UTC).date()
    if end < start:
        raise MetricQueryError(f"the range is inverted: --from {start} is after --to {end}")
    if start < EARLIEST:
        raise MetricQueryError(f"--from {start} is before {EARLIEST}: no support data is that old")
    if start > today:
        raise MetricQueryError(f"--from {start} is in the future (today is {today})")
    notices = []
    if end > today:
        notices.append(f"--to {end} is in the future; using {today}")
        end = today
    return Period(start, end), notices


def breakdown_attributes(by: str | None, m: Metric) -> list[str]:
    """The attributes named in ``by`` (commas between them), each known to ``m`` and named once."""
    attributes = [a.strip() for a in by.split(",")] if by else []
    for attribute in attributes:
        _check_attribute(attribute, m)
    repeated = sorted({a for a in attributes if attributes.count(a) > 1})
    if repeated:
        raise MetricQueryError(f"--by names {', '.join(repeated)} more than once")
    return attributes


def _check_attribute(name: str, m: Metric) -> None:
    if name not in ATTRIBUTES:
        raise MetricQueryError(f"unknown attribute {name!r}: use one of {', '.join(ATTRIBUTES)}")
    if name not in m.breakdowns:
        raise MetricQueryError(
            f"{m.name} cannot be broken down by {name}: use one of {', '.join(m.breakdowns)}"
        )


def _filtered(
    scope: WorkspaceScope,
    m: Metric,
    period: Period,
    filters: dict[str, str],
    snapshot: Snapshot,
) -> frames.Frame:
    """The period's conversations that pass the filters; ``cohort=NAME`` keeps the cohort's customers."""
    filters = dict(filters)
    cohort_name = filters.pop("cohort", None)
    for name in filters:
        _check_attribute(name, m)
    start, end = period.bounds(ZoneInfo(scope.workspace.time_zone))
    f = frames.load(snapshot, start, end)
    if filters:
        conditions = [(name, "==", _typed(name, value)) for name, value in filters.items()]
        f = f.take(f.mask(conditions))
    if cohort_name is not None:
        cohort = scope.cohorts.get(cohort_name)
        # Membership as of the end of the period: "frequent contacters" of this month.
        ids = np.array(sorted(cohorts.members(scope, cohort.definition, as_of=end)), dtype=float)
        f = f.take(np.isin(f["customer_id"], ids))
    return f


def _absent_values(f: frames.Frame, filters: dict[str, str]) -> list[str]:
    """A notice for each filter value no conversation of the workspace has, with the close ones."""
    notices = []
    for name, value in filters.items():
        if name == "cohort" or name not in f.dictionaries:
            continue
        values = [str(v) for v in f.dictionaries[name].values]
        if value not in values:
            close = difflib.get_close_matches(value, values, n=3, cutoff=0.6)
            shown = ", ".join(sorted(values)[:12])
            hint = f" (did you mean {', '.join(close)}?)" if close else f" (values: {shown})"
            notices.append(f"no conversation has {name}={value}{hint}")
    return notices


def _typed(name: str, value: str) -> object:
    if name == "ai_involved":
        return value.lower() in ("1", "true", "yes")
    return value


def series(
    scope: WorkspaceScope,
    *,
    columns: ColumnStore,
    metric: Metric,
    start: date,
    end: date,
    granularity: Granularity = "day",
    by: str | None = None,
    filters: dict[str, str] | None = None,
    top: int = MAX_GROUPS,
    today: date | None = None,
) -> MetricSeries:
    """The metric per time bucket (and per group of ``by``), every point with its denominator.

    ``by`` names one attribute or several joined by commas (``plan,region``): groups are
    then the combinations, labelled ``Free × EU``.
    """
    m = metric
    period, notices = check_period(start, end, today=today)
    attributes = breakdown_attributes(by, m)
    if len(attributes) > MAX_BY:
        raise MetricQueryError(f"--by combines at most {MAX_BY} attributes, not {len(attributes)}")
    if not 1 <= top <= MAX_TOP:
        raise MetricQueryError(f"--top must be between 1 and {MAX_TOP}, not {top}")
    expected = frames.bucket_count(period.start, period.end, granularity)
    if expected > MAX_BUCKETS:
        raise MetricQueryError(
            f"{expected:,} {granularity} buckets from {period.start} to {period.end} is more than "
            f"{MAX_BUCKETS:,}: use a coarser --granularity or a shorter period"
        )
    tz = ZoneInfo(scope.workspace.time_zone)
    f = _filtered(scope, m, period, filters or {}, columns.snapshot(scope))
    notices += _absent_values(f, filters or {})
    edges = frames.bucket_starts(period.start, period.end, granularity, tz)
    buckets = len(edges) - 1
    # Rows are in creation order, so each bucket is one run of rows: find the runs' ends.
    ends = np.searchsorted(f["created"], [frames.microseconds(e) for e in edges[1:-1]], side="left")
    bucket = np.repeat(np.arange(buckets), np.diff(np.concatenate([[0], ends, [len(f)]])))
    names, group = ["all"], np.zeros(len(f), dtype=np.int64)
    if attributes:
        names, group, extra = _top_groups(m, f, attributes, top, f.mask(m.where))
        notices += extra
    if len(names) * buckets > MAX_POINTS:
        raise MetricQueryError(
            f"{len(names)} groups × {buckets:,} buckets is more than {MAX_POINTS:,} points: use a smaller "
            "--top, a coarser --granularity or a shorter period"
        )
    key, size = group * buckets + bucket, len(names) * buckets
    sums = _group_sums(m, f, key, size)
    if sums is None:
        cells, totals = compute_groups(m, f, key, size), compute_groups(m, f, group, len(names))
    else:  # a group's total is the sum of its cells
        cells = _values(m, *sums)
        totals = _values(m, *(a.reshape(len(names), buckets).sum(axis=1) for a in sums))
    starts = [edges[i].astimezone(tz).isoformat() for i in range(buckets)]
    groups = [
        SeriesGroup(
            group=label,
            total=totals[g].result(),
            points=[
                SeriesPoint(start=starts[i], **cells[g * buckets + i].result().model_dump())
                for i in range(buckets)
            ],
        )
        for g, label in enumerate(names)
    ]
    return MetricSeries(
        metric=m.describe(),
        workspace=scope.workspace.name,
        time_zone=scope.workspace.time_zone,
        period=period.range(),
        granularity=granularity,
        by=by,
        filters=filters or {},
        total=compute(m, f).result(),
        groups=groups,
        notices=notices,
    )


def _top_groups(
    m: Metric, f: frames.Frame, attributes: list[str], top: int, sample: np.ndarray
) -> tuple[list[str], np.ndarray, list[str]]:
    """Group names (largest samples first, then "(other)") and each conversation's group index."""
    parts = [f.codes(a) for a in attributes]
    sizes = [len(names) for _, names in parts]
    space = math.prod(sizes)
    if space >= 2**63:  # each combination is one int64 below: beyond it they would wrap and mix
        raise MetricQueryError(
            f"{' × '.join(attributes)} have {' × '.join(map(str, sizes))} possible groups, more than "
            "can be counted: break down by fewer attributes"
        )
    combined = parts[0][0].astype(np.int32 if space < 2**31 else np.int64, copy=False)
    for (codes, _), size in zip(parts[1:], sizes[1:], strict=True):  # one integer per combination
        combined = combined * size + codes
    renumber: np.ndarray | None = None
    if space <= COUNTING_LIMIT:  # small integers: counting beats sorting
        present = np.flatnonzero(np.bincount(combined, minlength=space))
    else:
        present, renumber = np.unique(combined, return_inverse=True)

    def tally(weights: np.ndarray | None) -> np.ndarray:
        if renumber is None:
            return np.asarray(np.bincount(combined, weights=weights, minlength=space)[present], dtype=float)
        return np.asarray(np.bincount(renumber, weights=weights, minlength=len(present)), dtype=float)

    # Largest samples first; a metric with no sample in the period ranks by conversations.
    weights = tally(sample) if sample.any() else tally(None)
    labels = [_label(int(c), parts, sizes) for c in present]
    ranked = sorted(range(len(present)), key=lambda i: (-weights[i], labels[i]))
    keep = ranked[:top]
    notices = []
    kept = [labels[i] for i in keep]
    if len(ranked) > top:
        kept.append(OTHER)
        notices.append(
            f"{len(ranked)} groups of {' × '.join(attributes)}: showing the {top} largest, "
            f"the rest as {OTHER}"
        )
    if renumber is None:  # position of every combination, present or not
        position = np.full(space, len(keep), dtype=np.int64)
        position[present[keep]] = np.arange(len(keep))
        return kept, position[combined], notices
    position = np.full(len(present), len(keep), dtype=np.int64)
    position[keep] = np.arange(len(keep))
    return kept, position[renumber], notices


COUNTING_LIMIT = 1 << 22


def _label(combination: int, parts: list[tuple[np.ndarray, list[str]]], sizes: list[int]) -> str:
    digits = []
    for size in reversed(sizes):
        combination, digit = divmod(combination, size)
        digits.append(digit)
    return " × ".join(names[d] for (_, names), d in zip(parts, reversed(digits), strict=True))


# ------------------------------------------------------------------------------------- comparison


def two_periods(
    scope: WorkspaceScope,
    columns: ColumnStore,
    m: Metric,
    start: date,
    end: date,
    filters: dict[str, str],
    previous: tuple[date, date] | None,
    today: date | None,
) -> tuple[Period, Period, frames.Frame, frames.Frame, list[str]]:
    """A period and the one it is compared with (the same length before it, or ``previous``), each
    filtered, from one snapshot (so both share the same codes), with the notices on how it was read."""
    current, notices = check_period(start, end, today=today)
    before = Period(*previous) if previous else current.previous()
    snapshot = columns.snapshot(scope)
    f_now, f_before = (_filtered(scope, m, p, filters, snapshot) for p in (current, before))
    return current, before, f_now, f_before, notices + _absent_values(f_now, filters)


def compare(
    scope: WorkspaceScope,
    *,
    columns: ColumnStore,
    metric: Metric,
    start: date,
    end: date,
    filters: dict[str, str] | None = None,
    previous: tuple[date, date] | None = None,
    today: date | None = None,
) -> Comparison:
    """This period against the previous one of the same length (or ``previous``), with a proper test."""
    m = metric
    current, before, f_now, f_before, notices = two_periods(
        scope, columns, m, start, end, filters or {}, previous, today
    )
    now, then = compute(m, f_now), compute(m, f_before)
    test = _test(m, f_now, f_before, now, then, current, before)
    delta = None if now.value is None or then.value is None else now.value - then.value
    verdict: Verdict = "not enough data"
    if test.p_value is not None:
        if not test.significant:
            verdict = "no significant change"
        elif m.good is None:
            verdict = "changed"
        else:
            verdict = "better" if (delta or 0) * (1 if m.good == "up" else -1) > 0 else "worse"
    return Comparison(
        metric=m.describe(),
        workspace=scope.workspace.name,
        filters=filters or {},
        current=now.over(current),
        previous=then.over(before),
        change=rounded(delta),
        relative_change=rounded(delta / then.value) if delta is not None and then.value else None,
        test=test,
        verdict=verdict,
        notices=notices,
    )


def two_proportion_z_test(x1: int, n1: int, x0: int, n0: int) -> SignificanceTest:
    """Is x1/n1 different from x0/n0? Pooled z-test, with a Wald 95% interval for the difference."""
    name = "two-proportion z-test"
    if min(x1, n1 - x1, x0, n0 - x0) < 5:
        return SignificanceTest(
            name=name,
            p_value=None,
            significant=False,
            reason="fewer than 5 successes or failures in a period",
        )
    pooled = (x1 + x0) / (n1 + n0)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    z = (x1 / n1 - x0 / n0) / se
    p = 2 * stats.norm.sf(abs(z))
    diff_se = math.sqrt(x1 / n1 * (1 - x1 / n1) / n1 + x0 / n0 * (1 - x0 / n0) / n0)
    low, high = (x1 / n1 - x0 / n0) + np.array([-1.96, 1.96]) * diff_se
    return SignificanceTest(
        name=name,
        statistic=rounded(z),
        p_value=rounded(p, 6),
        significant=bool(p < 0.05),
        ci95_change=[rounded(low), rounded(high)],
    )


def _test(
    m: Metric,
    f_now: frames.Frame,
    f_before: frames.Frame,
    now: Value,
    then: Value,
    current: Period,
    before: Period,
) -> SignificanceTest:
    if now.thin or then.thin:
        return SignificanceTest(
            name=None,
            p_value=None,
            significant=False,
            reason=f"fewer than {MIN_SAMPLE} conversations in a period",
        )
    if m.kind == "rate":
        return two_proportion_z_test(
            int(now.numerator or 0), now.denominator, int(then.numerator or 0), then.denominator
        )
    if m.kind == "count":
        days_now = (current.end - current.start).days + 1
        days_before = (before.end - before.start).days + 1
        total = now.denominator + then.denominator
        result = stats.binomtest(now.denominator, total, days_now / (days_now + days_before))
        return SignificanceTest(
            name="exact test of equal daily rates (binomial, conditional on the total)",
            p_value=rounded(float(result.pvalue), 6),
            significant=bool(result.pvalue < 0.05),
        )
    if m.kind in ("mean", "quantile"):
        assert m.value is not None
        a = f_now[m.value][f_now.mask(m.where)]
        b = f_before[m.value][f_before.mask(m.where)]
        a, b = a[~np.isnan(a)], b[~np.isnan(b)]
        result = stats.mannwhitneyu(a, b, alternative="two-sided")
        return SignificanceTest(
            name="Mann-Whitney U",
            statistic=rounded(float(result.statistic)),
            p_value=rounded(float(result.pvalue), 6),
            significant=bool(result.pvalue < 0.05),
        )
    return SignificanceTest(
        name=None, p_value=None, significant=False, reason=f"no test for {m.kind} metrics"
    )


# ------------------------------------------------------------------------------------- top movers


def top_movers(
    scope: WorkspaceScope,
    *,
    columns: ColumnStore,
    metric: Metric,
    start: date,
    end: date,
    filters: dict[str, str] | None = None,
    previous: tuple[date, date] | None = None,
    attributes: tuple[str, ...] | None = None,
    limit: int = 10,
    today: date | None = None,
) -> Movers:
    """Which segment of which attribute explains most of the change since the previous period.

    A rate (or mean) R = sum over segments of w_s * r_s, with w_s the segment's share of
    the sample. Each segment's contribution w1*r1 - w0*r0 adds up exactly to the change
    of R, and splits into a rate effect (mean weight x change of rate) and a mix effect
    (mean rate x change of weight). For counts a segment contributes its change in count.
    """
    m = metric
    if m.kind in ("quantile", "per_customer"):
        raise MetricQueryError(f"top movers need an additive metric; {m.name} is a {m.kind}")
    if limit < 1:  # a slice to 0 or -1 would quietly show nothing or drop the last mover
        raise MetricQueryError(f"limit must be at least 1, not {limit}")
    if attributes:
        breakdown_attributes(",".join(attributes), m)  # each known, none twice
    current, before, f_now, f_before, notices = two_periods(
        scope, columns, m, start, end, filters or {}, previous, today
    )
    total_now, total_before = compute(m, f_now), compute(m, f_before)
    change = (total_now.value or 0.0) - (total_before.value or 0.0)
    movers: list[Mover] = []
    # An attribute the metric's own sample fixes (ai_involved for escalation_rate) cannot explain a change.
    fixed = {column for column, operator, _ in m.where if operator == "=="}
    default = [a for a in m.breakdowns if a not in OUTCOME_ATTRIBUTES and a not in fixed]
    for attribute in attributes or default:
        _check_attribute(attribute, m)
        (codes_now, names), (codes_before, _) = f_now.codes(attribute), f_before.codes(attribute)
        values_now = compute_groups(m, f_now, codes_now, len(names))
        values_before = compute_groups(m, f_before, codes_before, len(names))
        seen = (
            np.bincount(codes_now, minlength=len(names)) + np.bincount(codes_before, minlength=len(names))
        ) > 0
        for code in sorted(np.flatnonzero(seen), key=lambda c: names[c]):
            a, b = values_now[code], values_before[code]
            contribution, rate_effect, mix_effect = _contribution(m, a, b, total_now, total_before)
            movers.append(
                Mover(
                    attribute=attribute,
                    segment=names[code],
                    contribution=contribution,
                    rate_effect=rate_effect,
                    mix_effect=mix_effect,
                    current=a.result(),
                    previous=b.result(),
                    share_of_change=rounded(contribution / change) if change else None,
                )
            )
    movers.sort(key=lambda row: -row.contribution * (1 if change >= 0 else -1))
    return Movers(
        metric=m.describe(),
        workspace=scope.workspace.name,
        current=total_now.over(current),
        previous=total_before.over(before),
        change=rounded(change),
        movers=movers[:limit],
        notices=notices,
    )


def _contribution(
    m: Metric, a: Value, b: Value, total_now: Value, total_before: Value
) -> tuple[float, float | None, float | None]:
    """(contribution, rate effect, mix effect); counts have no rate or mix effect."""
    if m.kind == "count":
        return rounded(a.denominator - b.denominator) or 0.0, None, None
    w1 = a.denominator / total_now.denominator if total_now.denominator else 0.0
    w0 = b.denominator / total_before.denominator if total_before.denominator else 0.0
    r1, r0 = a.value or 0.0, b.value or 0.0
    return (
        rounded(w1 * r1 - w0 * r0) or 0.0,
        rounded((w0 + w1) / 2 * (r1 - r0)),
        rounded((r0 + r1) / 2 * (w1 - w0)),
    )
