"""The statistics behind segment shifts, checked against scipy's own tests."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from deskops.analytics.metrics import two_proportion_z_test
from deskops.analytics.shifts import _relative, _Sums, _z


def _mean_sums(values: np.ndarray) -> _Sums:
    return _Sums(float(len(values)), float(values.sum()), float((values * values).sum()))


@pytest.mark.parametrize(
    ("x1", "n1", "x0", "n0"), [(60, 200, 40, 210), (5, 40, 30, 45), (500, 1000, 480, 990)]
)
def test_rates_use_the_pooled_two_proportion_z(x1: int, n1: int, x0: int, n0: int) -> None:
    z = _z("rate", _Sums(n1, x1, x1), _Sums(n0, x0, x0), (7, 7))
    assert z == pytest.approx(two_proportion_z_test(x1, n1, x0, n0).statistic, abs=1e-4)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_means_use_welch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(4.0, 1.0, 300), rng.normal(3.8, 1.4, 250)
    welch = stats.ttest_ind(a, b, equal_var=False).statistic
    assert _z("mean", _mean_sums(a), _mean_sums(b), (7, 7)) == pytest.approx(welch, rel=1e-9)


def test_counts_compare_daily_rates_and_know_the_period_lengths() -> None:
    # 30 conversations in 10 days against 30 in 20 days: the rate doubled.
    z = _z("count", _Sums(30, 30, 30), _Sums(30, 30, 30), (10, 20))
    share = 10 / 30
    assert z == pytest.approx((30 - 60 * share) / math.sqrt(60 * share * (1 - share)))
    assert _relative("count", _Sums(30, 30, 30), _Sums(30, 30, 30), (10, 20)) == pytest.approx(1.0)
    assert _z("count", _Sums(4, 4, 4), _Sums(3, 3, 3), (7, 7)) is None  # too few to test


def test_too_little_data_is_untested_not_significant() -> None:
    assert _z("rate", _Sums(10, 5, 5), _Sums(200, 50, 50), (7, 7)) is None
    assert _z("rate", _Sums(200, 2, 2), _Sums(200, 50, 50), (7, 7)) is None  # fewer than 5 successes
    flat = np.full(100, 4.0)
    assert _z("mean", _mean_sums(flat), _mean_sums(flat), (7, 7)) is None  # no variance at all


def test_quantiles_move_as_the_ratio_of_geometric_means() -> None:
    now, then = np.log1p(np.full(50, 99.0)), np.log1p(np.full(50, 9.0))
    assert _relative("quantile", _mean_sums(now), _mean_sums(then), (7, 7)) == pytest.approx(9.0)
