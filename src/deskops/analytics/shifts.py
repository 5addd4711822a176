"""Where a change lives: each segment's own change, tested, beside the same test on the rest.

Top movers split a change into contributions, which favour big segments: a segment holding
half the conversations carries half of any change. An investigation asks a sharper
question — did *this* segment change while everything else stayed put? For every value of
every attribute, the segment's value now is tested against its value before, and so is
its complement's (every other conversation of the sample). A segment *explains* the change
when its own test passes at a Bonferroni-corrected level and its complement moved less than
a third as much, relatively (or the other way). With ``pairs``, every pair of attributes
(topics aside) is tested too — a misconfigured rule hits "Starter plan × billing", which
neither attribute alone shows — and the 5 % family-wise level is split evenly between the
single and the paired segments. The complement is judged by the size of its
move, not by a test, so that on a million conversations a trace of spill-over (which a test
would call significant) does not hide where the change lives.

All of it is per-group sums (one ``np.bincount`` per attribute and period), so it costs
about as much as a breakdown. The tests:

- rates: the two-proportion z-test;
- counts: the number of conversations per day now against before (binomial, normal
  approximation, conditional on the total);
- means: Welch's z on the values;
- quantiles: Welch's z on the logarithm of the values (a location shift; sorting every
  segment for an exact rank test would cost far more than the question is worth).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
from scipy import stats

from deskops.analytics import frame as frames
from deskops.analytics.catalog import Metric
from deskops.analytics.columns import ColumnStore
from deskops.analytics.metrics import (
    MIN_SAMPLE,
    OUTCOME_ATTRIBUTES,
    MetricQueryError,
    Value,
    _check_attribute,
    compute,
    compute_groups,
    two_periods,
)
from deskops.domain.analytics import SegmentShift, Shifts
from deskops.domain.types import rounded
from deskops.store.repositories import WorkspaceScope

FAMILY_ALPHA = 0.05
SPILLOVER = 1 / 3
"""The rest may move up to this fraction of the segment's relative change for the segment to explain it."""
NOT_SEGMENTS = ("ai_involved",)
NOT_PAIRED = ("topic",)
"""Topics are already fine-grained (and nested in product areas): pairing them only splits data thin."""
"""Attributes that describe how a conversation was handled rather than who or what it is about."""
TESTS = {
    "rate": "two-proportion z-test",
    "count": "conversations per day, binomial (normal approximation)",
    "mean": "Welch z-test",
    "quantile": "Welch z-test on log values",
}


@dataclass(frozen=True)
class _Sums:
    """Sufficient statistics of one group in one period: n, sum and sum of squares of the tested value."""

    n: float
    total: float
    squares: float

    def minus(self, other: _Sums) -> _Sums:
        return _Sums(self.n - other.n, self.total - other.total, self.squares - other.squares)

    def level(self, kind: str, days: int) -> float | None:
        """The value compared: conversations per day (counts), else the mean of the tested value."""
        if kind == "count":
            return self.n / days
        return self.total / self.n if self.n else None


def segment_shifts(
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
    pairs: bool = False,
    today: date | None = None,
) -> Shifts:
    """Each segment's change from the previous period and its complement's, tested; explainers first."""
    m = metric
    if m.kind not in TESTS:
        raise MetricQueryError(
            f"segment shifts need a rate, count, mean or quantile metric; {m.name} is a {m.kind}"
        )
    if limit < 1:
        raise MetricQueryError(f"limit must be at least 1, not {limit}")
    filters = filters or {}
    current, before, f_now, f_before, notices = two_periods(
        scope, columns, m, start, end, filters, previous, today
    )
    fixed = {column for column, operator, _ in m.where if operator == "=="} | set(filters)
    default = [a for a in m.breakdowns if a not in (*OUTCOME_ATTRIBUTES, *NOT_SEGMENTS) and a not in fixed]
    for attribute in attributes or ():
        _check_attribute(attribute, m)
    days = ((current.end - current.start).days + 1, (before.end - before.start).days + 1)
    chosen = list(attributes or default)
    groupings = [(a, *f_now.codes(a), f_before.codes(a)[0], 1) for a in chosen]
    if pairs:
        singles = [a for a in chosen if a not in NOT_PAIRED]
        for i, first in enumerate(singles):
            for second in singles[i + 1 :]:
                groupings.append(
                    (
                        f"{first},{second}",
                        *_paired(f_now, first, second),
                        _paired(f_before, first, second)[0],
                        2,
                    )
                )
    rows: list[tuple[str, str, Value, Value, _Sums, _Sums, int]] = []
    all_now, all_before = (_sums(m, f, np.zeros(len(f), dtype=np.int64), 1)[0] for f in (f_now, f_before))
    for attribute, codes_now, names, codes_before, family in groupings:
        values_now = compute_groups(m, f_now, codes_now, len(names))
        values_before = compute_groups(m, f_before, codes_before, len(names))
        sums_now, sums_before = (
            _sums(m, f_now, codes_now, len(names)),
            _sums(m, f_before, codes_before, len(names)),
        )
        for code, name in enumerate(names):
            if sums_now[code].n + sums_before[code].n == 0:
                continue
            rows.append(
                (
                    attribute,
                    name,
                    values_now[code],
                    values_before[code],
                    sums_now[code],
                    sums_before[code],
                    family,
                )
            )
    tested = [(row, _z(m.kind, row[4], row[5], days)) for row in rows]
    families = {family for *_, family in rows}
    sizes = {f: sum(1 for row, z in tested if row[6] == f and z is not None) for f in families}
    alphas = {f: FAMILY_ALPHA / len(families) / max(1, sizes[f]) for f in families}
    shifts = []
    for (attribute, name, a, b, now, then, family), z in tested:
        alpha = alphas[family]
        rest_now, rest_then = all_now.minus(now), all_before.minus(then)
        zc = _z(m.kind, rest_now, rest_then, days)
        p, pc = _p(z), _p(zc)
        moved = _relative(m.kind, now, then, days)
        rest_moved = _relative(m.kind, rest_now, rest_then, days)
        significant = p is not None and p < alpha
        contained = (
            rest_moved is None
            or moved is None
            or rest_moved * moved <= 0
            or abs(rest_moved) <= SPILLOVER * abs(moved)
        )
        shifts.append(
            SegmentShift(
                attribute=attribute,
                segment=name,
                current=a.result(),
                previous=b.result(),
                share=rounded(then.n / all_before.n if all_before.n else 0.0) or 0.0,
                z=rounded(z, 3),
                p_value=rounded(p, 8),
                complement_z=rounded(zc, 3),
                complement_p=rounded(pc, 8),
                relative_change=rounded(moved),
                complement_relative_change=rounded(rest_moved),
                significant=significant,
                explains=significant and contained,
            )
        )
    shifts.sort(key=lambda s: (not s.explains, -(abs(s.z or 0.0) - abs(s.complement_z or 0.0))))
    return Shifts(
        metric=m.describe(),
        workspace=scope.workspace.name,
        filters=filters,
        current=compute(m, f_now).over(current),
        previous=compute(m, f_before).over(before),
        test=TESTS[m.kind],
        alpha=rounded(alphas.get(1, FAMILY_ALPHA), 8) or 0.0,
        shifts=shifts[:limit],
        notices=notices,
    )


def _paired(f: frames.Frame, first: str, second: str) -> tuple[np.ndarray, list[str]]:
    """Each row's group for the pair of attributes, and the labels ``a × b``."""
    (a, names_a), (b, names_b) = f.codes(first), f.codes(second)
    return a.astype(np.int64) * len(names_b) + b, [f"{x} × {y}" for x in names_a for y in names_b]


def _sums(m: Metric, f: frames.Frame, group: np.ndarray, groups: int) -> list[_Sums]:
    """n, sum and sum of squares of the tested value per group (hits for rates, nothing for counts)."""
    if m.kind == "count":
        counts = np.bincount(group, minlength=groups).astype(float)
        return [_Sums(c, c, c) for c in counts.tolist()]
    sample = f.mask(m.where)
    if m.kind == "rate":
        hits = (sample & f.mask(m.hit)).astype(float)
        n = np.bincount(group, weights=sample, minlength=groups)
        x = np.bincount(group, weights=hits, minlength=groups)
        return [_Sums(a, b, b) for a, b in zip(n.tolist(), x.tolist(), strict=True)]
    assert m.value is not None
    values = f[m.value].astype(float)
    known = sample & ~np.isnan(values)
    if m.kind == "quantile":
        values = np.log1p(np.clip(values, 0.0, None))
    values = np.where(known, values, 0.0)
    n = np.bincount(group, weights=known, minlength=groups)
    total = np.bincount(group, weights=values, minlength=groups)
    squares = np.bincount(group, weights=values * values, minlength=groups)
    return [_Sums(*row) for row in zip(n.tolist(), total.tolist(), squares.tolist(), strict=True)]


def _z(kind: str, now: _Sums, then: _Sums, days: tuple[int, int]) -> float | None:
    """The signed statistic of now against then, or None when there is too little to test."""
    if kind == "count":
        total = now.n + then.n
        if total < 10:
            return None
        share = days[0] / (days[0] + days[1])
        return (now.n - total * share) / math.sqrt(total * share * (1 - share))
    if now.n < MIN_SAMPLE or then.n < MIN_SAMPLE:
        return None
    if kind == "rate":
        x1, n1, x0, n0 = now.total, now.n, then.total, then.n
        if min(x1, n1 - x1, x0, n0 - x0) < 5:
            return None
        pooled = (x1 + x0) / (n1 + n0)
        return (x1 / n1 - x0 / n0) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    mean1, mean0 = now.total / now.n, then.total / then.n
    var1 = max(0.0, now.squares / now.n - mean1 * mean1) * now.n / (now.n - 1)
    var0 = max(0.0, then.squares / then.n - mean0 * mean0) * then.n / (then.n - 1)
    se = math.sqrt(var1 / now.n + var0 / then.n)
    return (mean1 - mean0) / se if se > 0 else None


def _relative(kind: str, now: _Sums, then: _Sums, days: tuple[int, int]) -> float | None:
    a, b = now.level(kind, days[0]), then.level(kind, days[1])
    if a is None or b is None or b == 0:
        return None
    if kind == "quantile":  # mean log values: the ratio of geometric means
        return math.expm1(a - b)
    return a / b - 1


def _p(z: float | None) -> float | None:
    return None if z is None else float(2 * stats.norm.sf(abs(z)))
