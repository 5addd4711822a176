"""Replaying a period's customer messages against current or candidate content.

The opening customer message of each conversation of the period (evenly sampled up to
``limit``) goes through the agent twice, as an ``Experiment``: with the workspace's
current content (the control) and with a candidate — article edits, new or changed
guidance rules and procedures, settings. The report gives, per topic, how each would
decide and the **predicted AI resolution**: answered with an article that is about the
conversation's topic. An article is about a topic when recent conversations of that
topic cited it (at least a fifth of its citations), or — for articles without that
history, such as a new one — when its title is the closest of all published titles to the
topic's name. This is a prediction from the agent's decisions, not an observed outcome.

A ``Candidate`` holds whole items (the change layer builds one from a change set: see
``changes/changeset.py`` and docs/changes.md): they replace the workspace's items with the
same external ids or are added; only the settings it sets change. Nothing is written.
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np

from deskops.analytics.metrics import Period
from deskops.domain.models import (
    ArticleVersion,
    ContentState,
    Decision,
    FrontlineSettings,
    GuidanceRule,
    Procedure,
)
from deskops.domain.replay import CandidateSummary, Delta, Mismatch, ReplayReport, TopicOutcome
from deskops.domain.types import DateRange
from deskops.errors import InvalidInput
from deskops.frontline import compose
from deskops.frontline.agent import Content, FrontlineAgent, Inquiry, Reply
from deskops.frontline.experiment import Experiment
from deskops.search.service import SearchService
from deskops.store.repositories import WorkspaceScope
from deskops.store.repositories.conversations import Opening

TOPIC_CITATION_SHARE = 0.2
MAX_CONVERSATIONS = 10_000
"""Conversations one replay may take (each is decided twice)."""


@dataclass
class Candidate:
    """Content changes to try: article edits, new or changed rules and procedures, settings."""

    articles: list[ArticleVersion] = field(default_factory=list)
    guidance: list[GuidanceRule] = field(default_factory=list)
    procedures: list[Procedure] = field(default_factory=list)
    settings: FrontlineSettings = field(default_factory=FrontlineSettings)
    """Only the settings it sets (``model_fields_set``) change; the rest stay as they are."""
    source: str = ""

    def describe(self) -> CandidateSummary:
        return CandidateSummary(
            source=self.source,
            articles=[a.external_id for a in self.articles],
            guidance=[r.external_id for r in self.guidance],
            procedures=[p.external_id for p in self.procedures],
            settings=sorted(self.settings.model_fields_set),
        )


def apply(content: Content, candidate: Candidate) -> Content:
    """The content as it would be with the candidate saved."""
    rules = {r.external_id: r for r in content.rules} | {r.external_id: r for r in candidate.guidance}
    procedures = {p.external_id: p for p in content.procedures} | {
        p.external_id: p for p in candidate.procedures
    }
    edited = {a.external_id: a for a in candidate.articles}
    base = content.article

    def article(external_id: str) -> compose.Article | None:
        found = edited.get(external_id)
        if found is None:
            return base(external_id)
        if found.state != ContentState.published:
            return None
        return compose.Article(external_id, found.title, found.body)

    changed = candidate.settings.model_dump(include=candidate.settings.model_fields_set)
    return replace(
        content,
        rules=[r for r in rules.values() if r.enabled],
        procedures=[p for p in procedures.values() if p.enabled],
        settings=FrontlineSettings.model_validate(content.settings.model_dump() | changed),
        article=article,
    )


# ------------------------------------------------------------------------------------------- replay


@dataclass
class TopicJudge:
    """Is an answer's article about the conversation's topic?"""

    article_topics: dict[str, dict[str, int]]
    closest_article: dict[str, str]
    """Topic -> the published article whose title is closest to the topic's name."""

    def on_topic(self, article_id: str, topic: str | None) -> bool:
        if topic is None:
            return False
        cited = self.article_topics.get(article_id)
        if cited and cited.get(topic, 0) >= TOPIC_CITATION_SHARE * sum(cited.values()):
            return True
        return self.closest_article.get(topic) == article_id


def _judge(
    encode: Callable[[list[str]], np.ndarray],
    titles: dict[str, str],
    topics: list[str],
    article_topics: dict[str, dict[str, int]],
) -> TopicJudge:
    ids = sorted(titles)
    if not ids or not topics:
        return TopicJudge(article_topics, {})
    title_vectors = encode([titles[i] for i in ids])
    topic_vectors = encode([t.replace("_", " ") for t in topics])
    best = np.argmax(topic_vectors @ title_vectors.T, axis=1)
    return TopicJudge(article_topics, {topic: ids[b] for topic, b in zip(topics, best, strict=True)})


def replay(
    *,
    agent: FrontlineAgent,
    search: SearchService,
    scope: WorkspaceScope,
    start: date,
    end: date,
    candidate: Candidate | None = None,
    limit: int = 1000,
    topic: str | None = None,
    topics: list[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReplayReport:
    """Outcome deltas per topic between current content and ``candidate`` over [start, end].

    The agent searches through ``search``; a candidate's article edits are searched in an
    in-memory index of the help center with them applied. Nothing is written.
    """
    workspace = scope.workspace.name
    if not 1 <= limit <= MAX_CONVERSATIONS:
        raise InvalidInput(f"--limit must be between 1 and {MAX_CONVERSATIONS:,}, not {limit}")
    if topic is not None:
        known = [t for t, _ in scope.stats.counts_by("topic") if t is not None]
        if topic not in known:
            close = difflib.get_close_matches(topic, known, n=3, cutoff=0.5)
            hint = f": did you mean {', '.join(close)}?" if close else ""
            raise InvalidInput(f"no conversation of {workspace} has the topic {topic!r}{hint}")
    tz = ZoneInfo(scope.workspace.time_zone)
    first, stop = Period(start, end).bounds(tz)
    rows = scope.conversations.openings(start=first, end=stop, limit=limit, topic=topic, topics=topics)
    control_content = agent.content(scope)
    candidate_content = apply(control_content, candidate) if candidate else control_content
    if candidate and candidate.articles and agent.known_questions is not None:
        # What the edited articles are known to answer: their new titles and FAQs, their past conversations.
        candidate_content.questions = agent.known_questions.with_articles(
            workspace, control_content.questions, candidate.articles
        )
    candidate_agent = (
        agent.using(search.with_articles(workspace, candidate.articles))
        if candidate and candidate.articles
        else agent
    )
    published = {a.external_id: a.title for a in scope.articles.list(state="published")}
    control_titles = dict(published)
    candidate_titles = dict(published)
    for article in candidate.articles if candidate else []:
        candidate_titles.pop(article.external_id, None)
        if article.state == ContentState.published:
            candidate_titles[article.external_id] = article.title
    topics = sorted({r.topic for r in rows if r.topic})
    judges = {
        "current": _judge(search.encode_many, control_titles, topics, control_content.article_topics),
        "candidate": _judge(search.encode_many, candidate_titles, topics, control_content.article_topics),
    }

    experiment: Experiment[Inquiry, Reply] = Experiment(
        "replay",
        control=lambda inquiry: agent.decide(workspace, inquiry, control_content),
        candidate=lambda inquiry: candidate_agent.decide(workspace, inquiry, candidate_content),
        compare=lambda a, b: (a.decision, a.citations) == (b.decision, b.citations),
        describe=lambda inquiry, a, b: Mismatch(
            conversation=inquiry.conversation_external_id,
            current={"decision": a.decision.value, "citations": a.citations, "reason": a.reason},
            candidate={"decision": b.decision.value, "citations": b.citations, "reason": b.reason},
        ),
    )
    per_topic: dict[str, dict[str, Counter[str]]] = defaultdict(
        lambda: {"current": Counter(), "candidate": Counter()}
    )
    with search.pinned(workspace):  # the workspace does not change while it is replayed
        for n, row in enumerate(rows, 1):
            _replay_one(experiment, row, per_topic, judges)
            if progress:
                progress(n, len(rows))

    topics_out = [_topic_row(label, sides) for label, sides in per_topic.items()]
    topics_out.sort(key=lambda r: (-abs(r.predicted_resolution.change or 0.0), r.topic))
    totals = {"current": Counter[str](), "candidate": Counter[str]()}
    for sides in per_topic.values():
        for side in totals:
            totals[side].update(sides[side])
    return ReplayReport(
        workspace=workspace,
        period=DateRange(start=start, end=end),
        topic=topic,
        conversations=len(rows),
        candidate=candidate.describe() if candidate else None,
        measure="predicted AI resolution: answered with an article about the conversation's topic",
        overall=_topic_row("(all)", totals),
        topics=topics_out,
        experiment=experiment.summary(),
    )


def _replay_one(
    experiment: Experiment[Inquiry, Reply],
    row: Opening,
    per_topic: dict[str, dict[str, Counter[str]]],
    judges: dict[str, TopicJudge],
) -> None:
    """Decide one opening message both ways and count the outcomes under its topic."""
    inquiry = Inquiry(
        message=row.text,
        customer={"plan": row.plan, "region": row.region},
        channel=row.channel,
        conversation_external_id=row.external_id,
        message_index=0,
        at=row.created_at,
    )
    experiment.run(inquiry)
    observation = experiment.observations[-1]
    label = row.topic or "(none)"
    for side, reply in (("current", observation.control), ("candidate", observation.candidate)):
        counts = per_topic[label][side]
        counts["conversations"] += 1
        if reply is None:
            counts["errors"] += 1
            continue
        counts[reply.decision.value] += 1
        if reply.decision == Decision.answer and judges[side].on_topic(
            reply.citations[0].removeprefix("article:"), row.topic
        ):
            counts["resolved"] += 1
    if row.ai_involved:
        per_topic[label]["current"]["observed_ai"] += 1
        per_topic[label]["current"]["observed_ai_resolved"] += row.outcome == "ai_resolved"


def _rate(counts: Counter[str], key: str) -> float | None:
    n = counts["conversations"]
    return round(counts[key] / n, 4) if n else None


def _topic_row(topic: str, sides: dict[str, Counter[str]]) -> TopicOutcome:
    now, then = sides["current"], sides["candidate"]

    def delta(key: str) -> Delta:
        a, b = _rate(now, key), _rate(then, key)
        return Delta(
            current=a, candidate=b, change=round(b - a, 4) if a is not None and b is not None else None
        )

    observed = now["observed_ai"]
    return TopicOutcome(
        topic=topic,
        conversations=now["conversations"],
        predicted_resolution=delta("resolved"),
        answer_rate=delta("answer"),
        handover_rate=delta("handover"),
        decisions={
            side: {d.value: counts[d.value] for d in Decision if counts[d.value]}
            for side, counts in sides.items()
        },
        observed_ai_resolution=round(now["observed_ai_resolved"] / observed, 4) if observed else None,
    )
