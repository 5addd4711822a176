"""The anomaly detector on series whose anomalies are known."""

from __future__ import annotations

import numpy as np

from deskops.analytics.anomalies import baseline, detect, rolling_zscore, season_length

DAY = 86400.0


def weekly_series(days: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    times = np.arange(days) * DAY
    weekly = np.array([100, 104, 102, 98, 95, 50, 40], dtype=float)
    values = weekly[np.arange(days) % 7] * (1 + 0.002 * np.arange(days)) + rng.normal(0, 3, days)
    return times, values


def test_season_length_follows_the_sampling_interval() -> None:
    assert season_length(np.arange(60) * DAY) == 7
    assert season_length(np.arange(24 * 30) * 3600.0) == 168
    assert season_length(np.arange(288 * 5) * 300.0) == 288  # five-minute data: a day
    assert season_length(np.arange(10) * DAY) == 0  # too short for any season


def test_weekly_seasonality_is_not_an_anomaly_but_a_spike_is() -> None:
    times, values = weekly_series()
    events, _ = detect(times, values)
    assert events == []  # weekends are quiet every week: expected, not news
    values[90] += 60  # a spike on a weekday
    values[100] -= 45  # and a Friday almost halves
    events, _ = detect(times, values)
    assert [(e.start, e.direction) for e in events] == [(90, "up"), (100, "down")]
    assert events[0].size > 40 and events[0].confidence > 0.999


def test_a_lasting_level_shift_is_reported_once_then_absorbed() -> None:
    times, values = weekly_series(days=160)
    values[110:] *= 1.6
    events, _ = detect(times, values)
    assert events and events[0].start in range(110, 113) and events[0].direction == "up"
    assert all(e.start < 135 for e in events)  # the new level becomes the baseline


def test_one_outlier_does_not_mask_the_next() -> None:
    times, values = weekly_series(days=140)
    values[95] += 500  # a huge glitch
    values[103] += 40  # a modest real spike a week later
    starts = [e.start for e in detect(times, values)[0]]
    assert 95 in starts and 103 in starts


def test_rate_anomalies_respect_thin_denominators() -> None:
    times = np.arange(120) * DAY
    rng = np.random.default_rng(3)
    counts = np.full(120, 400.0)
    counts[60:] = 4.0  # a channel that almost stopped: rates become noise
    values = rng.binomial(counts.astype(int), 0.3) / counts
    events, _ = detect(times, values, denominators=counts)
    assert all(e.start < 60 for e in events)


def test_the_rolling_zscore_yardstick_misses_what_seasonality_hides() -> None:
    times, values = weekly_series()
    values[100] -= 45  # a Friday almost halves: still above a weekend, so "normal" without seasonality
    assert [e.start for e in rolling_zscore(values, window=30, threshold=3.0)] == []
    assert [e.start for e in detect(times, values)[0]] == [100]
    _, residual = baseline(values, 7)
    assert np.nanmax(np.abs(np.delete(residual, 100)[40:])) < 15
