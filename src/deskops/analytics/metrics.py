"""Metric values, time series with their denominators, breakdowns, comparisons and top movers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from scipy import stats

from deskops.analytics import cohorts
from deskops.analytics import frame as frames
from deskops.analytics.catalog import ATTRIBUTES, Metric, metric
from deskops.store.repositories import WorkspaceScope

MIN_SAMPLE = 30
"""Below this many conversations in the denominator a value is flagged thin and never tested."""
MAX_GROUPS = 12
OTHER = "(other)"
MISSING = "(none)"
OUTCOME_ATTRIBUTES = ("outcome", "team")
"""What happened in a conversation, not what came in: left out of top movers unless asked for."""


class MetricQueryError(ValueError):
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": _round(self.value),
            "numerator": _round(self.numerator),
            "denominator": self.denominator,
            "thin": self.thin,
        }


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

    def as_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def check_period(start: date, end: date, *, today: date | None = None) -> tuple[Period, list[str]]:
    """Refuse inverted or future ranges; clip an end in the future to today (with a notice)."""
    today = today or datetime.now(UTC).date()
    if end < start:
        raise MetricQueryError(f"the range is inverted: --from {start} is after --to {end}")
    if start > today:
        raise MetricQueryError(f"--from {start} is in the future (today is {today})")
    notices = []
    if end > today:
        notices.append(f"--to {end} is in the future; using {today}")
        end = today
    return Period(start, end), notices


def _check_attribute(name: str, m: Metric) -> None:
    if name not in ATTRIBUTES:
        raise MetricQueryError(f"unknown attribute {name!r}: use one of {', '.join(ATTRIBUTES)}")
    if name not in m.breakdowns:
        raise MetricQueryError(
            f"{m.name} cannot be broken down by {name}: use one of {', '.join(m.breakdowns)}"
        )


def _filtered(scope: WorkspaceScope, m: Metric, period: Period, filters: dict[str, str]) -> frames.Frame:
    """The period's conversations that pass the filters; ``cohort=NAME`` keeps the cohort's customers."""
    filters = dict(filters)
    cohort_name = filters.pop("cohort", None)
    for name in filters:
        _check_attribute(name, m)
    start, end = period.bounds(ZoneInfo(scope.workspace.time_zone))
    f = frames.load(scope, start, end)
    if filters:
        conditions = [(name, "==", _typed(name, value)) for name, value in filters.items()]
        f = f.take(f.mask(conditions))
    if cohort_name is not None:
        cohort = scope.cohorts.get(cohort_name)
        # Membership as of the end of the period: "frequent contacters" of this month.
        ids = np.array(sorted(cohorts.members(scope, cohort.definition, as_of=end)), dtype=float)
        f = f.take(np.isin(f["customer_id"], ids))
    return f


def _typed(name: str, value: str) -> object:
    if name == "ai_involved":
        return value.lower() in ("1", "true", "yes")
    return value


def series(
    scope: WorkspaceScope,
    *,
    metric_name: str,
    start: date,
    end: date,
    granularity: str = "day",
    by: str | None = None,
    filters: dict[str, str] | None = None,
    top: int = MAX_GROUPS,
    today: date | None = None,
) -> dict[str, Any]:
    """The metric per time bucket (and per group of ``by``), every point with its denominator.

    ``by`` names one attribute or several joined by commas (``plan,region``): groups are
    then the combinations, labelled ``Free × EU``.
    """
    m = metric(metric_name)
    period, notices = check_period(start, end, today=today)
    attributes = [a.strip() for a in by.split(",")] if by else []
    for attribute in attributes:
        _check_attribute(attribute, m)
    tz = ZoneInfo(scope.workspace.time_zone)
    f = _filtered(scope, m, period, filters or {})
    edges = frames.bucket_starts(period.start, period.end, granularity, tz)
    buckets = len(edges) - 1
    bucket = np.searchsorted(np.array([e.timestamp() for e in edges]), f["created"], side="right") - 1
    names, group = ["all"], np.zeros(len(f), dtype=np.int64)
    if attributes:
        names, group, extra = _top_groups(m, f, attributes, top)
        notices += extra
    # One sort by (group, bucket) turns every cell into a contiguous slice: no per-cell scans.
    key = group * buckets + np.clip(bucket, 0, buckets - 1)
    order = np.argsort(key, kind="stable")
    ordered = f.take(order)
    bounds = np.searchsorted(key[order], np.arange(len(names) * buckets + 1))
    starts = [edges[i].astimezone(tz).isoformat() for i in range(buckets)]
    out_groups = []
    for g, label in enumerate(names):
        points = [
            {
                "start": starts[i],
                **compute(m, ordered.slice(bounds[g * buckets + i], bounds[g * buckets + i + 1])).as_dict(),
            }
            for i in range(buckets)
        ]
        total = compute(m, ordered.slice(bounds[g * buckets], bounds[(g + 1) * buckets]))
        out_groups.append({"group": label, "total": total.as_dict(), "points": points})
    return {
        "metric": _describe(m),
        "workspace": scope.workspace.name,
        "time_zone": scope.workspace.time_zone,
        "period": period.as_dict(),
        "granularity": granularity,
        "by": by,
        "filters": filters or {},
        "total": compute(m, f).as_dict(),
        "groups": out_groups,
        "notices": notices,
    }


def _labels(values: np.ndarray) -> np.ndarray:
    return np.array([MISSING if v is None else str(v) for v in values.tolist()], dtype=object)


def _top_groups(
    m: Metric, f: frames.Frame, attributes: list[str], top: int
) -> tuple[list[str], np.ndarray, list[str]]:
    """Group names (largest samples first, then "(other)") and each conversation's group index."""
    parts = [_labels(f[a]) for a in attributes]
    labels = (
        parts[0]
        if len(parts) == 1
        else np.array([" × ".join(p) for p in zip(*parts, strict=True)], dtype=object)
    )
    sample = f.mask(m.where)
    names, inverse = np.unique(labels, return_inverse=True)
    counts = np.bincount(inverse, weights=sample.astype(float), minlength=len(names))
    if not sample.any():
        counts = np.bincount(inverse, minlength=len(names)).astype(float)
    ranked = sorted(range(len(names)), key=lambda i: (-counts[i], str(names[i])))
    keep = ranked[:top]
    position = np.full(len(names), len(keep), dtype=np.int64)
    position[keep] = np.arange(len(keep))
    notices = []
    kept = [str(names[i]) for i in keep]
    if len(ranked) > top:
        kept.append(OTHER)
        notices.append(
            f"{len(ranked)} groups of {' × '.join(attributes)}: showing the {top} largest, "
            f"the rest as {OTHER}"
        )
    return kept, position[inverse], notices


def _describe(m: Metric) -> dict[str, Any]:
    return m.describe()


# ------------------------------------------------------------------------------------- comparison


def compare(
    scope: WorkspaceScope,
    *,
    metric_name: str,
    start: date,
    end: date,
    filters: dict[str, str] | None = None,
    previous: tuple[date, date] | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """This period against the previous one of the same length (or ``previous``), with a proper test."""
    m = metric(metric_name)
    current, notices = check_period(start, end, today=today)
    before = Period(*previous) if previous else current.previous()
    f_now, f_before = (_filtered(scope, m, p, filters or {}) for p in (current, before))
    now, then = compute(m, f_now), compute(m, f_before)
    test = _test(m, f_now, f_before, now, then, current, before)
    delta = None if now.value is None or then.value is None else now.value - then.value
    verdict = "not enough data"
    if test["p_value"] is not None:
        if not test["significant"]:
            verdict = "no significant change"
        elif m.good is None:
            verdict = "changed"
        else:
            verdict = "better" if (delta or 0) * (1 if m.good == "up" else -1) > 0 else "worse"
    return {
        "metric": _describe(m),
        "workspace": scope.workspace.name,
        "filters": filters or {},
        "current": {**current.as_dict(), **now.as_dict()},
        "previous": {**before.as_dict(), **then.as_dict()},
        "change": _round(delta),
        "relative_change": _round(delta / then.value) if delta is not None and then.value else None,
        "test": test,
        "verdict": verdict,
        "notices": notices,
    }


def two_proportion_z_test(x1: int, n1: int, x0: int, n0: int) -> dict[str, Any]:
    """Is x1/n1 different from x0/n0? Pooled z-test, with a Wald 95% interval for the difference."""
    if min(x1, n1 - x1, x0, n0 - x0) < 5:
        return {
            "name": "two-proportion z-test",
            "p_value": None,
            "significant": False,
            "reason": "fewer than 5 successes or failures in a period",
        }
    pooled = (x1 + x0) / (n1 + n0)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    z = (x1 / n1 - x0 / n0) / se
    p = 2 * stats.norm.sf(abs(z))
    diff_se = math.sqrt(x1 / n1 * (1 - x1 / n1) / n1 + x0 / n0 * (1 - x0 / n0) / n0)
    low, high = (x1 / n1 - x0 / n0) + np.array([-1.96, 1.96]) * diff_se
    return {
        "name": "two-proportion z-test",
        "statistic": _round(z),
        "p_value": _round(p, 6),
        "significant": bool(p < 0.05),
        "ci95_change": [_round(low), _round(high)],
    }


def _test(
    m: Metric,
    f_now: frames.Frame,
    f_before: frames.Frame,
    now: Value,
    then: Value,
    current: Period,
    before: Period,
) -> dict[str, Any]:
    if now.thin or then.thin:
        return {
            "name": None,
            "p_value": None,
            "significant": False,
            "reason": f"fewer than {MIN_SAMPLE} conversations in a period",
        }
    if m.kind == "rate":
        return two_proportion_z_test(
            int(now.numerator or 0), now.denominator, int(then.numerator or 0), then.denominator
        )
    if m.kind == "count":
        days_now = (current.end - current.start).days + 1
        days_before = (before.end - before.start).days + 1
        total = now.denominator + then.denominator
        result = stats.binomtest(now.denominator, total, days_now / (days_now + days_before))
        return {
            "name": "exact test of equal daily rates (binomial, conditional on the total)",
            "p_value": _round(float(result.pvalue), 6),
            "significant": bool(result.pvalue < 0.05),
        }
    if m.kind in ("mean", "quantile"):
        assert m.value is not None
        a = f_now[m.value][f_now.mask(m.where)]
        b = f_before[m.value][f_before.mask(m.where)]
        a, b = a[~np.isnan(a)], b[~np.isnan(b)]
        result = stats.mannwhitneyu(a, b, alternative="two-sided")
        return {
            "name": "Mann-Whitney U",
            "statistic": _round(float(result.statistic)),
            "p_value": _round(float(result.pvalue), 6),
            "significant": bool(result.pvalue < 0.05),
        }
    return {"name": None, "p_value": None, "significant": False, "reason": f"no test for {m.kind} metrics"}


# ------------------------------------------------------------------------------------- top movers


def top_movers(
    scope: WorkspaceScope,
    *,
    metric_name: str,
    start: date,
    end: date,
    filters: dict[str, str] | None = None,
    previous: tuple[date, date] | None = None,
    attributes: tuple[str, ...] | None = None,
    limit: int = 10,
    today: date | None = None,
) -> dict[str, Any]:
    """Which segment of which attribute explains most of the change since the previous period.

    A rate (or mean) R = sum over segments of w_s * r_s, with w_s the segment's share of
    the sample. Each segment's contribution w1*r1 - w0*r0 adds up exactly to the change
    of R, and splits into a rate effect (mean weight x change of rate) and a mix effect
    (mean rate x change of weight). For counts a segment contributes its change in count.
    """
    m = metric(metric_name)
    if m.kind in ("quantile", "per_customer"):
        raise MetricQueryError(f"top movers need an additive metric; {m.name} is a {m.kind}")
    current, notices = check_period(start, end, today=today)
    before = Period(*previous) if previous else current.previous()
    f_now, f_before = (_filtered(scope, m, p, filters or {}) for p in (current, before))
    total_now, total_before = compute(m, f_now), compute(m, f_before)
    change = (total_now.value or 0.0) - (total_before.value or 0.0)
    movers = []
    for attribute in attributes or [a for a in m.breakdowns if a not in OUTCOME_ATTRIBUTES]:
        _check_attribute(attribute, m)
        labels_now, labels_before = _labels(f_now[attribute]), _labels(f_before[attribute])
        for segment in sorted(set(labels_now.tolist()) | set(labels_before.tolist())):
            a, b = (
                compute(m, f_now.take(labels_now == segment)),
                compute(m, f_before.take(labels_before == segment)),
            )
            movers.append(
                {
                    "attribute": attribute,
                    "segment": segment,
                    **_contribution(m, a, b, total_now, total_before),
                    "current": a.as_dict(),
                    "previous": b.as_dict(),
                }
            )
    movers.sort(key=lambda row: -row["contribution"] * (1 if change >= 0 else -1))
    for row in movers:
        row["share_of_change"] = _round(row["contribution"] / change) if change else None
    return {
        "metric": _describe(m),
        "workspace": scope.workspace.name,
        "current": {**current.as_dict(), **total_now.as_dict()},
        "previous": {**before.as_dict(), **total_before.as_dict()},
        "change": _round(change),
        "movers": movers[:limit],
        "notices": notices,
    }


def _contribution(m: Metric, a: Value, b: Value, total_now: Value, total_before: Value) -> dict[str, Any]:
    if m.kind == "count":
        return {"contribution": _round(a.denominator - b.denominator) or 0.0}
    w1 = a.denominator / total_now.denominator if total_now.denominator else 0.0
    w0 = b.denominator / total_before.denominator if total_before.denominator else 0.0
    r1, r0 = a.value or 0.0, b.value or 0.0
    return {
        "contribution": _round(w1 * r1 - w0 * r0) or 0.0,
        "rate_effect": _round((w0 + w1) / 2 * (r1 - r0)),
        "mix_effect": _round((r0 + r1) / 2 * (w1 - w0)),
    }


def _round(value: float | None, digits: int = 4) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)
