"""What happens in each conversation: the AI agent's outcome is caused by content quality.

The AI agent resolves a conversation with a probability that rises with how well
the published help center covers the topic at that moment, so a stale or missing
article shows up as escalations, and fixing it shows up as resolutions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from deskops.simulate.catalog import TOPICS
from deskops.simulate.content import QUALITY, ContentPlan, MisdirectedRule
from deskops.simulate.customers import Customers
from deskops.simulate.volume import AREA_KEYS, CHANNELS, Arrivals

AI_CHANNELS = ("chat", "email", "whatsapp")
OUTCOMES = np.array(["ai_resolved", "human_resolved", "escalated_unresolved", "abandoned", ""])
AI_RESOLVED, HUMAN_RESOLVED, UNRESOLVED, ABANDONED, OPEN = range(5)
# Median seconds until a person first answers, per channel (chat, email, whatsapp, phone).
HUMAN_WAIT_MEDIAN = np.array([150.0, 4 * 3600.0, 900.0, 90.0])


@dataclass(frozen=True)
class SlowRegion:
    """Human replies in one region get slower (a staffing gap): the CSAT incident."""

    region: str
    start: datetime
    end: datetime
    factor: float = 5.0


@dataclass
class FrontlineRates:
    """What the front-line agent does with each topic's opening messages, as the help center changes.

    ``answered[topic][epoch]`` is the share of the topic's opening messages (its catalog
    phrasings) that the agent answers with an article covering the topic, with the help
    center as it stands from ``epochs[epoch]``; ``answered_translated`` the same for the
    Spanish, German and French openings. Made by ``frontline.simulation.rates``.
    """

    epochs: list[datetime]
    answered: dict[str, list[float]]
    answered_translated: dict[str, list[float]]
    summary: dict[str, object]
    """Per-topic decision mix and success rates, for the truth file."""

    def rate(self, topic_key: str, created: np.ndarray, english: np.ndarray) -> np.ndarray:
        starts = np.array([e.timestamp() for e in self.epochs])
        epoch = np.maximum(np.searchsorted(starts, created, side="right") - 1, 0)
        en = np.asarray(self.answered[topic_key])[epoch]
        other = np.asarray(self.answered_translated[topic_key])[epoch]
        return np.where(english, en, other)


@dataclass
class Outcomes:
    customer: np.ndarray
    """Index into the Customers arrays."""
    ai_involved: np.ndarray
    outcome: np.ndarray
    """Index into OUTCOMES."""
    quality: np.ndarray
    coverage_label: np.ndarray
    forced_handover: np.ndarray
    legal_threat: np.ndarray
    human_wait: np.ndarray
    """Seconds a customer waits for a person once one is needed."""
    csat: np.ndarray
    """0 when the customer gave no rating."""
    reopen: np.ndarray


def pick_customers(rng: np.random.Generator, customers: Customers, created: np.ndarray) -> np.ndarray:
    """Who writes: only customers who had signed up, the more active ones more often."""
    eligible = np.maximum(np.searchsorted(customers.signup_epoch, created, side="right"), 1)
    cumulative = np.cumsum(customers.activity)
    draw = rng.random(len(created)) * cumulative[eligible - 1]
    return np.minimum(np.searchsorted(cumulative, draw, side="right"), eligible - 1)


def decide(
    rng: np.random.Generator,
    *,
    arrivals: Arrivals,
    customers: Customers,
    content: ContentPlan,
    misdirected: MisdirectedRule | None,
    slow_region: SlowRegion | None,
    end: datetime,
    frontline: FrontlineRates | None = None,
) -> Outcomes:
    """Each conversation's customer, AI involvement, outcome, waits, CSAT and reopens.

    Without ``frontline`` the AI agent resolves with a probability that rises with the
    quality of the topic's coverage. With it, the AI agent is the front-line agent: it
    resolves only when it answers the opening message with an article about the topic
    (the share measured by running it), and that article is right at the time (a stale,
    thin or contradicted one often is not); topics its rules hand over are handed over.
    """
    n = len(arrivals.created)
    created, topic, channel = arrivals.created, arrivals.topic, arrivals.channel
    customer = pick_customers(rng, customers, created)
    plan, region, language = (
        customers.plan[customer],
        customers.region[customer],
        customers.language[customer],
    )

    quality = np.zeros(n)
    label = np.empty(n, dtype=object)
    for index, t in enumerate(TOPICS):
        mask = topic == index
        if not mask.any():
            continue
        coverage = content.coverage[t.key]
        since = np.array([at.timestamp() for at, _ in coverage.changes])
        labels = np.array([lab for _, lab in coverage.changes], dtype=object)
        step = np.maximum(np.searchsorted(since, created[mask], side="right") - 1, 0)
        label[mask] = labels[step]
        quality[mask] = np.array([QUALITY[lab] for lab in labels])[step]

    needs_human = np.array([t.needs_human for t in TOPICS])[topic]
    topic_keys = np.array([t.key for t in TOPICS])[topic]
    area = arrivals.area
    billing = area == AREA_KEYS.index("billing")
    # The Enterprise billing rule; during the incident it points at the wrong plan.
    rule_plan = np.full(n, "Enterprise", dtype=customers.plan.dtype)
    if misdirected is not None:
        in_window = (created >= misdirected.start.timestamp()) & (created < misdirected.end.timestamp())
        rule_plan[in_window] = misdirected.plan
    legal_threat = rng.random(n) < 0.012
    forced = (billing & (plan == rule_plan)) | legal_threat
    if frontline is None:  # the agent's own rules hand these over when it runs
        forced |= np.isin(topic_keys, list(content.handover_topics))

    ai_channel = np.isin(CHANNELS[channel], AI_CHANNELS)
    ai_involved = ai_channel & (rng.random(n) < 0.95)
    if frontline is None:
        p_resolve = (0.06 + 0.84 * quality * (1 - needs_human)) * np.where(language == "en", 1.0, 0.85)
    else:
        answered = np.zeros(n)
        for index, t in enumerate(TOPICS):
            mask = topic == index
            if mask.any():
                answered[mask] = frontline.rate(t.key, created[mask], language[mask] == "en")
        # A missing or draft-only article cannot be cited; a cited one is as right as its coverage.
        right = np.where(np.isin(label, ["missing", "draft_only"]), 1.0, quality)
        p_resolve = answered * right * (1 - needs_human)
    p_resolve *= np.where(CHANNELS[channel] == "email", 0.9, 1.0)
    ai_resolved = ai_involved & ~forced & (rng.random(n) < p_resolve)

    u = rng.random(n)
    abandon_after_ai = np.where(CHANNELS[channel] == "email", 0.08, 0.18)
    outcome = np.full(n, HUMAN_RESOLVED)
    outcome[ai_resolved] = AI_RESOLVED
    tried = ai_involved & ~ai_resolved
    outcome[tried & (u < abandon_after_ai)] = ABANDONED
    outcome[tried & (u >= abandon_after_ai) & (u < abandon_after_ai + 0.09)] = UNRESOLVED
    human_only = ~ai_involved
    outcome[human_only & (u < 0.08)] = ABANDONED
    outcome[human_only & (u >= 0.08) & (u < 0.13)] = UNRESOLVED
    # Some of the newest conversations are still open when the simulation ends.
    recent = created > end.timestamp() - 86400
    outcome[recent & (rng.random(n) < 0.3) & (outcome != AI_RESOLVED)] = OPEN

    # Busy hours make people slower to answer.
    hour_index = (created - created.min()) // 3600
    per_hour = np.bincount(hour_index)
    load = per_hour[hour_index] / per_hour[per_hour > 0].mean()
    busy = 1.0 + 0.5 * np.clip(load - 1.0, 0.0, 3.0)
    slow = np.ones(n)
    if slow_region is not None:
        hit = (
            (region == slow_region.region)
            & (created >= slow_region.start.timestamp())
            & (created < slow_region.end.timestamp())
        )
        slow[hit] = slow_region.factor
    human_wait = HUMAN_WAIT_MEDIAN[channel] * rng.lognormal(0.0, 0.7, n) * busy * slow

    mean = np.select(
        [outcome == AI_RESOLVED, outcome == HUMAN_RESOLVED, outcome == UNRESOLVED],
        [
            4.55 - 0.6 * (quality < 0.5),
            4.45 - 0.55 * np.log2(np.maximum(1.0, human_wait / HUMAN_WAIT_MEDIAN[channel])),
            2.1,
        ],
        1.8,
    )
    rated = rng.random(n) < np.select(
        [outcome == AI_RESOLVED, outcome == HUMAN_RESOLVED, outcome == UNRESOLVED, outcome == ABANDONED],
        [0.33, 0.4, 0.45, 0.05],
        0.0,
    )
    csat = np.where(rated, np.clip(np.rint(mean + rng.normal(0, 0.75, n)), 1, 5), 0).astype(np.int64)
    reopen_rate = np.select(
        [(outcome == AI_RESOLVED) & (quality < 0.5), outcome == UNRESOLVED], [0.35, 0.5], 0.04
    )
    reopen = rng.poisson(reopen_rate)
    return Outcomes(
        customer=customer,
        ai_involved=ai_involved,
        outcome=outcome,
        quality=quality,
        coverage_label=label,
        forced_handover=forced,
        legal_threat=legal_threat,
        human_wait=human_wait,
        csat=csat,
        reopen=reopen,
    )
