"""When conversations arrive and what they are about: growth, seasonality, incidents.

Everything here is vectorised with NumPy; one array element per conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from deskops.simulate.catalog import AREAS, TOPICS

CHANNELS = np.array(["chat", "email", "whatsapp", "phone"])
CHANNEL_SHARE = np.array([0.52, 0.30, 0.12, 0.06])
AREA_KEYS = list(AREAS)
AREA_SHARE = np.array([0.15, 0.18, 0.22, 0.17, 0.12, 0.08, 0.08])  # in AREAS order
# Local-time hourly profile: quiet nights, a morning peak, a smaller evening bump.
HOURLY = np.array(
    [
        0.6,
        0.4,
        0.3,
        0.3,
        0.4,
        0.8,
        1.6,
        3.0,
        4.6,
        5.6,
        5.9,
        5.8,
        5.3,
        5.5,
        5.6,
        5.3,
        4.8,
        4.0,
        3.3,
        3.0,
        2.8,
        2.4,
        1.7,
        1.0,
    ]
)
WEEKDAY = np.array([1.0, 1.02, 0.98, 0.95, 0.88, 0.46, 0.38])  # Monday first
GROWTH = 0.35  # volume grows by this share over the simulated period


@dataclass(frozen=True)
class Surge:
    """More conversations about one area (and mostly one topic) for a while: a launch."""

    area: str
    topic: str
    start: datetime
    end: datetime
    peak: float
    """Volume multiplier for the area on the first day; it decays towards 1.3."""

    def multiplier(self, day_start: np.ndarray) -> np.ndarray:
        start, end = self.start.timestamp(), self.end.timestamp()
        inside = (day_start >= start) & (day_start < end)
        age_days = (day_start - start) / 86400
        return np.where(inside, 1.3 + (self.peak - 1.3) * np.exp(-age_days / 3), 1.0)


@dataclass(frozen=True)
class Outage:
    """A channel that stops delivering conversations for a while."""

    channel: str
    start: datetime
    end: datetime
    kept: float = 0.05


@dataclass
class Arrivals:
    created: np.ndarray
    """Epoch seconds (UTC), sorted."""
    area: np.ndarray
    topic: np.ndarray
    """Index into TOPICS."""
    channel: np.ndarray
    """Index into CHANNELS."""


def topic_weights(rng: np.random.Generator) -> np.ndarray:
    """A fixed, Zipf-like popularity for the topics within each area."""
    weights = np.zeros(len(TOPICS))
    for area in AREA_KEYS:
        members = [i for i, t in enumerate(TOPICS) if t.area == area]
        ranks = rng.permutation(len(members)) + 1
        weights[members] = 1.0 / ranks**0.9
        weights[members] /= weights[members].sum()
    return weights


def arrivals(
    rng: np.random.Generator,
    *,
    count: int,
    start: datetime,
    days: int,
    tz: ZoneInfo,
    surge: Surge | None,
    outage: Outage | None,
) -> Arrivals:
    """Exactly ``count`` conversations spread over ``days`` local days starting at ``start``."""
    local_start = start.astimezone(tz).date()
    midnights = np.array(
        [
            datetime.combine(local_start + timedelta(days=d), datetime.min.time(), tz).timestamp()
            for d in range(days + 1)
        ]
    )
    day_start = midnights[:-1]
    dow = np.array([(local_start + timedelta(days=d)).weekday() for d in range(days)])
    area_mult = np.ones((days, len(AREA_KEYS)))
    if surge is not None:
        area_mult[:, AREA_KEYS.index(surge.area)] = surge.multiplier(day_start)
    area_mix = AREA_SHARE * area_mult
    day_weight = (1 + GROWTH * np.arange(days) / max(days - 1, 1)) * WEEKDAY[dow] * area_mix.sum(axis=1)

    # Draw a few more than needed, thin out what an outage swallows, then keep exactly `count`.
    candidates = int(count * 1.15) + 64
    day = rng.choice(days, candidates, p=day_weight / day_weight.sum())
    hour = rng.choice(24, candidates, p=HOURLY / HOURLY.sum())
    created = (midnights[day] + hour * 3600 + rng.integers(0, 3600, candidates)).astype(np.int64)
    created = np.minimum(created, midnights[day + 1].astype(np.int64) - 1)

    p_area = area_mix[day] / area_mix[day].sum(axis=1, keepdims=True)
    area = (rng.random(candidates)[:, None] > np.cumsum(p_area, axis=1)).sum(axis=1)
    area = np.minimum(area, len(AREA_KEYS) - 1)
    weights = topic_weights(rng)
    topic = np.empty(candidates, dtype=np.int64)
    for a, key in enumerate(AREA_KEYS):
        members = np.array([i for i, t in enumerate(TOPICS) if t.area == key])
        mask = area == a
        topic[mask] = rng.choice(members, int(mask.sum()), p=weights[members])
    # Drawn with or without the incidents, so leaving one out shifts no other draw.
    launch_draw = rng.random(candidates)
    if surge is not None:
        # The extra volume in the surging area is about the launched feature.
        launch = np.array([t.key for t in TOPICS]) == surge.topic
        mult = area_mult[day, AREA_KEYS.index(surge.area)]
        extra = (area == AREA_KEYS.index(surge.area)) & (launch_draw < 1 - 1 / mult)
        topic[extra] = int(np.flatnonzero(launch)[0])
    channel = rng.choice(len(CHANNELS), candidates, p=CHANNEL_SHARE)

    keep = np.ones(candidates, dtype=bool)
    outage_draw = rng.random(candidates)
    if outage is not None:
        hit = (
            (channel == list(CHANNELS).index(outage.channel))
            & (created >= outage.start.timestamp())
            & (created < outage.end.timestamp())
        )
        keep &= ~hit | (outage_draw < outage.kept)
    survivors = np.flatnonzero(keep)
    if len(survivors) < count:  # pragma: no cover - 15% headroom is far above any outage
        raise RuntimeError("not enough candidate conversations; widen the headroom")
    chosen = np.sort(rng.choice(survivors, count, replace=False))
    order = chosen[np.argsort(created[chosen], kind="stable")]
    return Arrivals(created=created[order], area=area[order], topic=topic[order], channel=channel[order])
