"""Blast radius and impact: who a change reaches, and what it would do to them.

Reach comes from the data: conversations a week whose AI replies cited a changed
article, and conversations a week of the topics a changed item serves. Impact is a
replay (``frontline/replay.py``) of the last days of those topics through the front-line
agent with and without the change: predicted AI resolution and hand-over per topic. A
predicted drop over the policy's ``warn_drop`` warns, over ``block_drop`` blocks; topics
with too few replayed conversations are reported, never judged.
"""

from __future__ import annotations

from deskops.changes.review.context import REACH_DAYS, Findings, ReviewContext, Reviewer
from deskops.search.terms import tokenize

MAX_TOPICS = 8
"""Topics replayed at most (the busiest of those a change reaches)."""


def affected_topics(context: ReviewContext) -> list[str]:
    """The topics the changed items serve, busiest first."""
    topics: set[str] = set()
    for change in context.changes:
        served = context.topics_of(change.key)
        if not served and change.kind == "article":
            served = _topics_by_title(context, str(change.after.get("title") or ""))
        if change.kind == "settings":
            served = list(context.topic_counts)
        if change.kind == "guidance" and not served:
            served = _topics_by_keywords(context, change.after)
        topics.update(served)
    return sorted(topics, key=lambda t: (-context.topic_counts.get(t, 0), t))


def _topics_by_title(context: ReviewContext, title: str) -> list[str]:
    words = set(tokenize(title))
    scored = [(len(words & set(tokenize(t.replace("_", " ")))), t) for t in context.topic_counts]
    best = max((s for s, _ in scored), default=0)
    return [t for s, t in scored if best and s == best][:3]


def _topics_by_keywords(context: ReviewContext, content: dict[str, object]) -> list[str]:
    condition = content.get("condition") or {}
    keywords = condition.get("keywords") if isinstance(condition, dict) else None
    words = set(tokenize(" ".join(str(k) for k in keywords or [])))
    return [t for t in context.topic_counts if words & set(tokenize(t.replace("_", " ")))][:MAX_TOPICS]


def check(context: ReviewContext) -> Findings:
    found = Findings()
    weeks = REACH_DAYS / 7
    topics = affected_topics(context)
    reach = []
    for change in context.changes:
        if change.kind == "article" and change.external_id in context.citing:
            reach.append(f"{context.citing[change.external_id] / weeks:.0f} a week cite {change.key}")
    reach += [f"{context.topic_counts.get(t, 0) / weeks:.0f} a week about {t}" for t in topics[:MAX_TOPICS]]
    if reach:
        found.note(
            "impact.reach",
            "Conversations this change reaches (last four weeks of data): " + "; ".join(reach) + ".",
            evidence=reach,
        )
    else:
        found.note("impact.reach", "No recent conversation cites or is about the changed items.")
    if context.replay is None or not topics:
        return found
    impact = context.policy.impact
    report = context.replay(
        context.workspace, context.changes, topics[:MAX_TOPICS], impact.replay_days, impact.replay_limit
    )
    overall = report.overall.predicted_resolution
    evidence = [
        f"{row.topic}: {row.conversations} conversations, predicted AI resolution "
        f"{row.predicted_resolution.current} -> {row.predicted_resolution.candidate}, hand-over "
        f"{row.handover_rate.current} -> {row.handover_rate.candidate}"
        for row in report.topics
    ]
    for row in report.topics:
        moved = row.predicted_resolution.change
        if moved is None or row.conversations < impact.min_conversations:
            continue
        drop = -moved
        if drop >= impact.block_drop:
            verdict = "block"
        elif drop >= impact.warn_drop:
            verdict = "warn"
        else:
            continue
        found.add(
            verdict,  # type: ignore[arg-type]
            "impact.regression",
            f"Replaying {row.conversations} recent {row.topic} conversations, predicted AI resolution "
            "falls from "
            f"{row.predicted_resolution.current:.0%} to {row.predicted_resolution.candidate:.0%} "
            f"(hand-over {row.handover_rate.current:.0%} -> {row.handover_rate.candidate:.0%}).",
            evidence=evidence,
        )
    found.note(
        "impact.replay",
        f"Replayed {report.conversations} conversations of {len(report.topics)} topic(s) from the last "
        f"{impact.replay_days} days: predicted AI resolution {overall.current} -> {overall.candidate}.",
        evidence=evidence,
    )
    return found


REVIEWER = Reviewer(
    "impact",
    "how many conversations the change reaches, and a replay with and without it",
    check,
    replays=True,
)
