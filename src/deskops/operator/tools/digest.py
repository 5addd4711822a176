"""Conversations read in bulk: a topic summarised with representative quotes, and why the AI handed over.

Quotes are customer text: redacted, cut short, labelled with their conversation id, and
handed over as data. Nothing in them is read as an instruction; the planner never looks
at them when it chooses what to do.
"""

from __future__ import annotations

import re
from collections import Counter
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import Field

from deskops.analytics.metrics import Period
from deskops.domain.models import Decision
from deskops.domain.types import Result
from deskops.frontline.redact import redact
from deskops.operator.blocks import Block
from deskops.operator.deps import OperatorDeps
from deskops.operator.tools.analytics import PeriodQuery
from deskops.operator.tools.reporting import Report, Window, checked_period, evidence, known_topic, pct, table

SAMPLE = 200
"""Opening messages read to choose the quotes from (evenly spread over the period)."""
QUOTE_LIMIT = 240
MAX_TRACES = 5000
"""Hand-over traces read at most; beyond it the reasons are a sample (the result says so)."""
DIVERSITY = 0.6
"""Weight of centrality against novelty when picking quotes (maximal marginal relevance)."""


class Quote(Result):
    conversation: str
    text: str
    """The opening message, redacted and cut to 240 characters."""
    outcome: str | None
    channel: str


class TopicSummaryQuery(PeriodQuery):
    topic: str = Field(min_length=1, max_length=200)
    quotes: int = Field(default=5, ge=1, le=12)
    """Representative opening messages to quote."""


class TopicSummary(Report):
    topic: str
    conversations: int
    outcomes: dict[str, int]
    """Conversations by outcome (``open`` when not closed)."""
    channels: dict[str, int]
    ai_resolution: float | None
    cited_articles: list[str]
    """Articles the AI agent's answers on this topic cite most."""
    quotes: list[Quote]
    """Typical openings first, then the most different ones: what customers actually ask."""
    sampled: int

    def blocks(self) -> list[Block]:
        return [
            table(
                f"{self.topic}: outcomes",
                ["outcome", "conversations"],
                [[k, v] for k, v in self.outcomes.items()],
            ),
            evidence(
                f"What customers say about {self.topic} (redacted)",
                [(f"conversation:{q.conversation}", q.text) for q in self.quotes],
            ),
        ]


def summarise_topic(deps: OperatorDeps, query: TopicSummaryQuery) -> TopicSummary:
    """A topic's conversations in short: volume, outcomes, channels, cited articles, representative quotes."""
    start, end = checked_period(deps, query.start, query.end)
    topic = known_topic(deps, query.topic)
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        window, only = Window(deps, scope, start, end), {"topic": topic}
        by_outcome = window.breakdown("conversation_volume", "outcome", only)
        by_channel = window.breakdown("conversation_volume", "channel", only)
        resolution = window.compare("ai_resolution_rate", only)
        bounds = Period(start, end).bounds(ZoneInfo(scope.workspace.time_zone))
        openings = scope.conversations.openings(start=bounds[0], end=bounds[1], limit=SAMPLE, topic=topic)
        cited = Counter(
            {a: n.get(topic, 0) for a, n in scope.conversations.citation_topics().items() if n.get(topic)}
        )
    outcomes = {
        ("open" if s.segment == "(none)" else s.segment): s.value.denominator for s in by_outcome.segments
    }
    channels = {s.segment: s.value.denominator for s in by_channel.segments}
    quotes: list[Quote] = []
    if openings:
        texts = [redact(o.text).text for o in openings]
        chosen = _representative(deps.services.search.encode_many(texts), query.quotes)
        quotes = [
            Quote(
                conversation=openings[i].external_id,
                text=texts[i][:QUOTE_LIMIT],
                outcome=openings[i].outcome,
                channel=openings[i].channel,
            )
            for i in chosen
        ]
    total = by_outcome.total.denominator
    summary = [
        f"{topic}: {total:,} conversations from {start} to {end}; the AI agent resolved "
        f"{pct(resolution.current.value)} of the {resolution.current.denominator:,} it took part in."
    ]
    if total:
        top = max(outcomes, key=lambda k: outcomes[k])
        summary.append(
            f"Most ended {top} ({outcomes[top]:,}); most came by {max(channels, key=lambda k: channels[k])}."
        )
        summary.append(
            f"Typical opening: {quotes[0].text[:160]!r} ({quotes[0].conversation})." if quotes else ""
        )
    if cited:
        summary.append(f"Answers on it cite {', '.join(a for a, _ in cited.most_common(3))}.")
    return TopicSummary(
        summary=[s for s in summary if s],
        topic=topic,
        conversations=total,
        outcomes=outcomes,
        channels=channels,
        ai_resolution=resolution.current.value,
        cited_articles=[a for a, _ in cited.most_common(5)],
        quotes=quotes,
        sampled=len(openings),
    )


def _representative(vectors: np.ndarray, k: int) -> list[int]:
    """Indexes of ``k`` texts: the most central first, then each the best mix of central and new."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit.T
    centrality = similarity.mean(axis=1)
    chosen = [int(np.argmax(centrality))]
    while len(chosen) < min(k, len(unit)):
        closest = similarity[:, chosen].max(axis=1)
        score = DIVERSITY * centrality - (1 - DIVERSITY) * closest
        score[chosen] = -np.inf
        chosen.append(int(np.argmax(score)))
    return chosen


# ------------------------------------------------------------------------------------------ hand-overs

_REASONS = (
    (re.compile(r"^handover rule '(?P<name>.+?)'"), "handover rule"),
    (re.compile(r"^out of scope '(?P<name>.+?)'"), "out of scope"),
    (re.compile(r"^procedure '(?P<name>.+?)' step (?P<step>\d+)"), "procedure step needs a person"),
    (re.compile(r"^confidence [\d.]+ is under the threshold"), "not confident enough"),
    (re.compile(r"^the customer writes in (?P<name>\w+)"), "language"),
    (re.compile(r"AI replies already"), "turn limit"),
    (re.compile(r"^the AI agent does not answer on (?P<name>\w+)"), "channel not served"),
    (re.compile(r"turned off"), "AI agent turned off"),
    (re.compile(r"card number, PIN, password or code"), "output guard"),
    (re.compile(r"no longer published"), "article unpublished"),
    (re.compile(r"model failed|answer rejected"), "model failure"),
)


def reason_of(text: str) -> str:
    """A hand-over's reason as a category, with the rule, procedure or language it names."""
    for pattern, label in _REASONS:
        match = pattern.search(text)
        if match:
            name = match.groupdict().get("name")
            step = match.groupdict().get("step")
            return f"{label}: {name}" + (f" (step {step})" if step else "") if name else label
    return "other"


class ReasonLine(Result):
    reason: str
    handovers: int
    share: float
    """Of the hand-overs read."""
    topics: list[str]
    """The topics these hand-overs were most about."""
    examples: list[str]
    """Conversation ids."""


class HandoverQuery(PeriodQuery):
    limit: int = Field(default=12, ge=1, le=50)


class HandoverReport(Report):
    decisions: dict[str, int]
    """Every decision of the AI agent in the period (answer, clarify, procedure_step, handover)."""
    handover_share: float | None
    reasons: list[ReasonLine]
    read: int
    """Hand-over traces read (at most 5,000)."""

    def blocks(self) -> list[Block]:
        rows = [
            [r.reason, r.handovers, pct(r.share), ", ".join(r.topics), ", ".join(r.examples)]
            for r in self.reasons
        ]
        return [
            table(
                "Why the AI agent handed over", ["reason", "hand-overs", "share", "topics", "examples"], rows
            )
        ]


def handover_reasons(deps: OperatorDeps, query: HandoverQuery) -> HandoverReport:
    """Why the AI agent handed conversations over: reasons grouped (rule, procedure, confidence), by topic."""
    start, end = checked_period(deps, query.start, query.end)
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        bounds = Period(start, end).bounds(ZoneInfo(scope.workspace.time_zone))
        decisions = scope.traces.decision_counts(start=bounds[0], end=bounds[1])
        traces = scope.traces.list(
            decision=Decision.handover, start=bounds[0], end=bounds[1], limit=MAX_TRACES
        )
    total = sum(decisions.values())
    if not total:
        return HandoverReport(
            summary=[
                f"The AI agent left no decision trace from {start} to {end}: hand-over reasons are only "
                "known for conversations it answered through deskops (see escalation_rate for imported "
                "ones)."
            ],
            decisions={},
            handover_share=None,
            reasons=[],
            read=0,
        )
    grouped: dict[str, list[tuple[str | None, str | None]]] = {}
    for trace in traces:
        topic = trace.topic.topic if trace.topic else None
        grouped.setdefault(reason_of(trace.reason), []).append((trace.conversation_external_id, topic))
    lines = []
    for reason, items in grouped.items():
        topics = Counter(t for _, t in items if t)
        lines.append(
            ReasonLine(
                reason=reason,
                handovers=len(items),
                share=round(len(items) / len(traces), 4),
                topics=[t for t, _ in topics.most_common(3)],
                examples=[c for c, _ in items if c][:3],
            )
        )
    lines.sort(key=lambda r: (-r.handovers, r.reason))
    handovers = decisions.get("handover", 0)
    summary = [
        f"The AI agent handed over {handovers:,} of its {total:,} decisions from {start} to {end} "
        f"({pct(handovers / total)})."
    ]
    for line in lines[:3]:
        summary.append(
            f"{line.reason}: {line.handovers:,} ({pct(line.share)})"
            + (f", mostly {', '.join(line.topics)}" if line.topics else "")
            + "."
        )
    if len(traces) < handovers:
        summary.append(f"Reasons are from the {len(traces):,} most recent hand-overs.")
    return HandoverReport(
        summary=summary,
        decisions=decisions,
        handover_share=round(handovers / total, 4),
        reasons=lines[: query.limit],
        read=len(traces),
    )
