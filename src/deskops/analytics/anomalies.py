"""Anomalies in heartbeat series: a robust seasonal baseline and a robust scale.

For each point the expected value is the median of the same seasonal phase in the
previous four seasons (same weekday for daily data, same hour of the week for hourly
data, same time of day for finer data). The scale is the median absolute
deviation of recent residuals (and, for rates with denominators, at least the
binomial standard error), so one outlier neither hides the next nor inflates the
baseline. A point whose robust z-score passes the threshold is anomalous; neighbouring
anomalous points form one event with a direction, a size and a confidence.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from scipy import stats

from deskops.domain.analytics import AnomalyEvent, AnomalyReport, MetricSeries
from deskops.domain.types import Direction

SEASONS = 4
THRESHOLD = 4.0
PROBATION = 0.15
"""Share of the series (at most) used only to learn, never flagged — as NAB does."""


@dataclass(frozen=True)
class Anomaly:
    start: int
    """Index of the first anomalous point."""
    end: int
    """Index of the last anomalous point."""
    direction: Direction
    observed: float
    expected: float
    size: float
    """observed - expected at the strongest point."""
    relative: float | None
    score: float
    """Robust z-score at the strongest point."""
    confidence: float
    """Probability, under the baseline's noise, that a deviation this large is not chance."""


def season_length(times: np.ndarray) -> int:
    """Points per season, from the sampling interval: a week for daily or hourly data, else a day."""
    if len(times) < 3:
        return 0
    step = float(np.median(np.diff(times)))
    if step <= 0:
        return 0
    per_day = 86400 / step
    per_week = 7 * per_day
    for season in (per_week, per_day):
        if season >= 2 and len(times) >= 3 * season and abs(season - round(season)) < 1e-6:
            return round(season)
    return 0


def baseline(values: np.ndarray, season: int) -> tuple[np.ndarray, np.ndarray]:
    """Expected values (median of the same phase in the last four seasons) and residuals.

    Without a season (short series) the expectation is the median of the last 30 points.
    A lasting change of level enters the median after two seasons, so it is reported as
    one event rather than forever.
    """
    n = len(values)
    if season:
        lags = np.full((SEASONS, n), np.nan)
        for k in range(1, SEASONS + 1):
            if k * season < n:
                lags[k - 1, k * season :] = values[: n - k * season]
        expected = _nanmedian_rows(lags)
    else:
        expected = _trailing(values, 30, np.median)
    return expected, values - expected


def rate_baseline(
    values: np.ndarray, denominators: np.ndarray, season: int, window: int, prior: float = 20.0
) -> np.ndarray:
    """Expected rate: hits over conversations of the same phase in the last four seasons, pooled.

    Pooling counts (rather than taking the median of daily rates) keeps thin days from
    dragging the baseline to 0 or 1; ``prior`` conversations' worth of the recent pooled
    rate steady it further when even the pooled sample is small.
    """
    n = np.nan_to_num(denominators)
    hits = np.nan_to_num(values) * n
    recent_hits = _trailing(hits, window, np.sum)
    recent_n = _trailing(n, window, np.sum)
    with np.errstate(all="ignore"):
        recent = np.where(recent_n > 0, recent_hits / recent_n, np.nan)
    lag_hits, lag_n = np.zeros(len(values)), np.zeros(len(values))
    if season:
        for k in range(1, SEASONS + 1):
            if k * season < len(values):
                lag_hits[k * season :] += hits[: len(values) - k * season]
                lag_n[k * season :] += n[: len(values) - k * season]
    with np.errstate(all="ignore"):
        return (lag_hits + prior * recent) / (lag_n + prior)


def detect(
    times: np.ndarray,
    values: np.ndarray,
    *,
    denominators: np.ndarray | None = None,
    counts: bool = False,
    threshold: float = THRESHOLD,
    season: int | None = None,
) -> tuple[list[Anomaly], np.ndarray]:
    """Anomaly events and the robust z-score of every point (NaN while learning).

    ``denominators`` marks a rate series (binomial noise), ``counts`` a count series
    (Poisson noise). For both, the noise a point may show is at least what its sample
    size implies (times the overdispersion seen so far), and a sustained shift too small
    for any single day is caught by testing the sums of the last 3 and 7 points.
    """
    values = np.asarray(values, dtype=float)
    season = season_length(np.asarray(times, dtype=float)) if season is None else season
    finite = values[np.isfinite(values)]
    window = max(3 * season, 30)
    if denominators is not None:
        expected = rate_baseline(values, np.asarray(denominators, dtype=float), season, window)
        residual = values - expected
    else:
        expected, residual = baseline(values, season)
    robust = _trailing(residual, window, _mad)
    floor = 0.01 * float(np.median(np.abs(finite))) if len(finite) else 0.0
    scale = np.maximum(np.nan_to_num(robust, nan=np.inf), max(floor, 1e-9))
    model_variance = None
    if denominators is not None:
        n = np.maximum(np.asarray(denominators, dtype=float), 1.0)
        p = np.clip(np.nan_to_num(expected), 1e-3, 1 - 1e-3)
        model_variance = p * (1 - p) / n
        weights = n
    elif counts:
        model_variance = np.maximum(np.nan_to_num(expected), 1.0)
        weights = np.ones_like(values)
    z_sustained = np.full(len(values), np.nan)
    if model_variance is not None:
        model = np.sqrt(model_variance)
        dispersion = np.maximum(1.0, np.nan_to_num(_trailing(residual / model, window, _mad), nan=1.0))
        scale = np.maximum(scale, model * dispersion) if denominators is None else model * dispersion
        z_sustained = _sustained(residual, model_variance, weights, dispersion)
    z = residual / scale
    learning = max(window, int(PROBATION * len(values))) if len(values) > 2 * window else window
    z[: min(learning, len(z))] = np.nan
    z_sustained[: min(learning, len(z))] = np.nan
    flagged = (np.abs(np.nan_to_num(z)) > threshold) | (np.abs(np.nan_to_num(z_sustained)) > threshold)
    strongest = np.where(np.abs(np.nan_to_num(z_sustained)) > np.abs(np.nan_to_num(z)), z_sustained, z)
    return _events(flagged, strongest, values, expected, gap=max(1, season // 24)), z


def _sustained(
    residual: np.ndarray,
    variance: np.ndarray,
    weights: np.ndarray,
    dispersion: np.ndarray,
    spans: tuple[int, ...] = (3, 7),
) -> np.ndarray:
    """The strongest z-score of the summed residuals over the last 3 or 7 points (weighted by sample size)."""
    best = np.full(len(residual), np.nan)
    weighted = np.nan_to_num(residual) * weights
    weighted_variance = np.nan_to_num(variance) * weights**2 * dispersion**2
    for span in spans:
        kernel = np.ones(span)
        total = np.convolve(weighted, kernel)[: len(residual)]
        spread = np.sqrt(np.convolve(weighted_variance, kernel)[: len(residual)])
        with np.errstate(all="ignore"):
            z = np.where(spread > 0, total / spread, np.nan)
        z[: span - 1] = np.nan
        best = np.where(np.abs(np.nan_to_num(z)) > np.abs(np.nan_to_num(best)), z, best)
    return best


def rolling_zscore(values: np.ndarray, *, window: int = 30, threshold: float = 3.0) -> list[Anomaly]:
    """The yardstick: (value - trailing mean) / trailing standard deviation."""
    values = np.asarray(values, dtype=float)
    mean = _trailing(values, window, np.mean)
    spread = _trailing(values, window, np.std)
    with np.errstate(all="ignore"):
        z = (values - mean) / np.where(spread > 0, spread, np.nan)
    learning = max(window, int(PROBATION * len(values))) if len(values) > 2 * window else window
    z[: min(learning, len(z))] = np.nan
    flagged = np.abs(np.nan_to_num(z)) > threshold
    return _events(flagged, z, values, mean, gap=1)


def _events(
    flagged: np.ndarray, z: np.ndarray, values: np.ndarray, expected: np.ndarray, gap: int
) -> list[Anomaly]:
    events: list[Anomaly] = []
    indices = np.flatnonzero(flagged)
    if not len(indices):
        return events
    groups = np.split(indices, np.flatnonzero(np.diff(indices) > gap) + 1)
    for group in groups:
        peak = int(group[np.argmax(np.abs(z[group]))])
        size = float(values[peak] - expected[peak])
        score = float(z[peak])
        events.append(
            Anomaly(
                start=int(group[0]),
                end=int(group[-1]),
                direction="up" if score > 0 else "down",
                observed=float(values[peak]),
                expected=float(expected[peak]),
                size=size,
                relative=size / float(expected[peak]) if expected[peak] else None,
                score=score,
                confidence=float(1 - 2 * stats.norm.sf(abs(score))),
            )
        )
    return events


def _trailing(values: np.ndarray, window: int, reducer: object) -> np.ndarray:
    """reducer(values[i - window : i]) for every i (strictly before i); NaN until there is any history.

    Recomputed every few points on long series: the baseline moves slowly and this keeps
    a year of five-minute data to seconds.
    """
    n = len(values)
    out = np.full(n, np.nan)
    step = max(1, window // 10)
    for i in range(1, n, step):
        history = values[max(0, i - window) : i]
        history = history[np.isfinite(history)]
        if len(history):
            out[i : i + step] = reducer(history)  # type: ignore[operator]
    return out


def _mad(values: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(values - np.median(values)))) if len(values) >= 5 else float("nan")


def _nanmedian_rows(lags: np.ndarray) -> np.ndarray:
    """Median over the seasons that exist for each point (at least two), else NaN."""
    counts = np.isfinite(lags).sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "All-NaN slice": the early points, expected
        return np.nanmedian(np.where(counts >= 2, lags, np.nan), axis=0)


def series_anomalies(series: MetricSeries, *, threshold: float = THRESHOLD) -> AnomalyReport:
    """Anomaly events in each group of a metric series (groups with fewer than 10 values are skipped)."""
    kind = series.metric.kind
    events: list[AnomalyEvent] = []
    for group in series.groups:
        points = [p for p in group.points if p.value is not None]
        if len(points) < 10:
            continue
        times = np.array([datetime.fromisoformat(p.start).timestamp() for p in points])
        values = np.array([p.value for p in points], dtype=float)
        counts = np.array([p.denominator for p in points], dtype=float) if kind == "rate" else None
        found, _ = detect(times, values, denominators=counts, counts=kind == "count", threshold=threshold)
        events += [
            AnomalyEvent(
                group=group.group,
                start=points[event.start].start,
                end=points[event.end].start,
                direction=event.direction,
                observed=round(event.observed, 4),
                expected=round(event.expected, 4),
                size=round(event.size, 4),
                relative=None if event.relative is None else round(event.relative, 4),
                score=round(event.score, 4),
                confidence=round(event.confidence, 4),
            )
            for event in found
        ]
    return AnomalyReport(metric=series.metric.name, threshold=threshold, events=events)
