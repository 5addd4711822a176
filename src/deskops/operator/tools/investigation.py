"""Tools an investigation needs beyond the figures: a segment's conversations, a rule's history, the
articles a topic is answered from."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field

from deskops.changes.changeset import history
from deskops.domain.types import Result
from deskops.frontline.redact import redact
from deskops.operator.deps import OperatorDeps

OPENING_LIMIT = 300


class SampleQuery(Result):
    start: date
    end: date
    segment: dict[str, str] = Field(default_factory=dict)
    """e.g. {"topic": "payout_timing"}, {"plan": "Starter", "channel": "chat"}."""
    k: int = Field(default=8, ge=1, le=30)


class SampledConversation(Result):
    external_id: str
    created_at: datetime
    topic: str | None
    channel: str
    outcome: str | None
    opening: str
    """The customer's first message, redacted, cut to ``OPENING_LIMIT`` characters."""


class ConversationSample(Result):
    segment: dict[str, str]
    conversations: list[SampledConversation]
    """Evenly spread over the period."""


class RuleQuery(Result):
    external_id: str


class RuleVersionLine(Result):
    version: int
    at: datetime
    changed_by: str | None
    why: str | None
    kind: str
    enabled: bool
    condition: dict[str, object]


class RuleHistory(Result):
    external_id: str
    title: str
    versions: list[RuleVersionLine]


class TopicQuery(Result):
    topic: str


class TopicArticle(Result):
    external_id: str
    title: str
    state: str
    updated_at: datetime
    version: int
    citations: int
    """AI replies on this topic (among recent conversations) that cited it."""


class TopicArticles(Result):
    topic: str
    articles: list[TopicArticle]
    """Most cited first."""


def sample_conversations(deps: OperatorDeps, query: SampleQuery) -> ConversationSample:
    """A few conversations of a segment and period: their opening message (redacted) and outcome."""
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        zone = ZoneInfo(scope.workspace.time_zone)
        start = datetime.combine(query.start, time(), zone)
        end = datetime.combine(query.end + timedelta(days=1), time(), zone)
        openings = scope.conversations.openings(start=start, end=end, limit=query.k, segment=query.segment)
    return ConversationSample(
        segment=query.segment,
        conversations=[
            SampledConversation(
                external_id=o.external_id,
                created_at=o.created_at,
                topic=o.topic,
                channel=o.channel,
                outcome=o.outcome,
                opening=redact(o.text).text[:OPENING_LIMIT],
            )
            for o in openings
        ],
    )


def rule_history(deps: OperatorDeps, query: RuleQuery) -> RuleHistory:
    """Every version of a guidance rule: when, by whom, why, and its condition then."""
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        rule = scope.guidance.get(query.external_id)
        versions = history(scope, "guidance", query.external_id)
    return RuleHistory(
        external_id=rule.external_id,
        title=rule.title,
        versions=[
            RuleVersionLine(
                version=v.version,
                at=v.at,
                changed_by=v.changed_by,
                why=v.why,
                kind=str(v.content.get("kind")),
                enabled=bool(v.content.get("enabled", True)),
                condition=dict(v.content.get("condition") or {}),
            )
            for v in versions
        ],
    )


def articles_for_topic(deps: OperatorDeps, query: TopicQuery) -> TopicArticles:
    """The articles the AI agent answers a topic from (by citations), with how fresh each is."""
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        cited = scope.conversations.citation_topics()
        counts = {a: topics[query.topic] for a, topics in cited.items() if topics.get(query.topic)}
        articles = scope.articles.get_many(sorted(counts))
    rows = [
        TopicArticle(
            external_id=a.external_id,
            title=a.title,
            state=a.state.value,
            updated_at=a.updated_at,
            version=a.version,
            citations=counts[a.external_id],
        )
        for a in articles
    ]
    rows.sort(key=lambda r: -r.citations)
    return TopicArticles(topic=query.topic, articles=rows)


DISPUTE_MARKERS = (
    "not right",
    "not true",
    "not correct",
    "incorrect",
    "that's wrong",
    "that is wrong",
    "this is wrong",
    "outdated",
    "out of date",
    "no longer",
    "anymore",
    "still says",
    "that's not what",
    "has changed",
)
"""Words with which a customer says an answer is untrue (lower case)."""
QUOTED = re.compile(r"[\"“”]([^\"“”]{12,300})[\"“”]")
"""Text between double quotes (an apostrophe is too often just an apostrophe)."""
FEEDBACK_SAMPLE = 40


class FeedbackQuery(Result):
    start: date
    end: date
    segment: dict[str, str] = Field(default_factory=dict)
    """e.g. {"topic": "payout_timing"}; only conversations the AI agent took part in are read."""


class DisputedClaim(Result):
    quote: str
    """What customers quoted back (redacted)."""
    times: int
    sentence: str | None
    """The sentence of the article closest to the quote (None: no sentence shares its words)."""


class ArticleFeedback(Result):
    external_id: str
    title: str
    cited: int
    """AI replies citing it among the conversations read."""
    disputed: int
    """Of those, replies the customer answered by saying it is untrue or out of date."""
    claims: list[DisputedClaim]
    """The most quoted first (at most 3)."""
    conversations: list[str]
    """Conversations with a dispute (at most 5)."""


class CitationFeedback(Result):
    segment: dict[str, str]
    read: int
    """Conversations read (an even sample of the segment's escalated ones, at most 40)."""
    articles: list[ArticleFeedback]
    """Most disputed first."""


def citation_feedback(deps: OperatorDeps, query: FeedbackQuery) -> CitationFeedback:
    """How customers answered AI replies citing an article: disputes ("that's outdated"), what they quoted."""
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        zone = ZoneInfo(scope.workspace.time_zone)
        start = datetime.combine(query.start, time(), zone)
        end = datetime.combine(query.end + timedelta(days=1), time(), zone)
        handed = {**query.segment, "outcome": "escalated_unresolved"}
        sample = scope.conversations.openings(
            start=start, end=end, limit=FEEDBACK_SAMPLE // 2, segment=handed
        )
        resolved = {**query.segment, "outcome": "human_resolved"}
        sample += scope.conversations.openings(
            start=start, end=end, limit=FEEDBACK_SAMPLE // 2, segment=resolved
        )
        conversations = [scope.conversations.get(o.external_id) for o in sample]
        cited: dict[str, int] = {}
        disputes: dict[str, list[tuple[str, str | None]]] = {}
        for conversation in conversations:
            lines = [(m.author_kind.value, m.text, m.cited_article_ids) for m in conversation.messages]
            for line in lines:
                for cited_id in line[2] if line[0] == "ai_agent" else ():
                    cited[cited_id] = cited.get(cited_id, 0) + 1
            for cited_id, quote in disputed_answers(lines):
                disputes.setdefault(cited_id, []).append((conversation.external_id, quote))
        articles = {a.external_id: a for a in scope.articles.get_many(sorted(cited))}
    rows = []
    for article_id, found in disputes.items():
        article = articles.get(article_id)
        if article is None:
            continue
        quotes: dict[str, int] = {}
        for _, quote in found:
            if quote:
                quotes[quote] = quotes.get(quote, 0) + 1
        claims = [
            DisputedClaim(quote=redact(q).text, times=n, sentence=closest_sentence(article.body, q))
            for q, n in sorted(quotes.items(), key=lambda item: -item[1])[:3]
        ]
        rows.append(
            ArticleFeedback(
                external_id=article_id,
                title=article.title,
                cited=cited.get(article_id, 0),
                disputed=len(found),
                claims=claims,
                conversations=sorted({c for c, _ in found})[:5],
            )
        )
    rows.sort(key=lambda r: -r.disputed)
    return CitationFeedback(segment=query.segment, read=len(conversations), articles=rows)


def disputed_answers(messages: Iterable[tuple[str, str, Sequence[str]]]) -> list[tuple[str, str | None]]:
    """(article, what the customer quoted) for each AI reply citing an article that the customer's
    next message says is untrue or out of date; ``messages`` are (author kind, text, cited ids)."""
    found: list[tuple[str, str | None]] = []
    last: list[str] = []
    for author, text, cited_ids in messages:
        if author == "ai_agent":
            last = list(cited_ids)
            continue
        if author != "customer" or not last:
            continue
        if any(marker in text.lower() for marker in DISPUTE_MARKERS):
            quoted = QUOTED.search(text)
            found += [(cited_id, quoted.group(1).strip() if quoted else None) for cited_id in last]
        last = []
    return found


def closest_sentence(body: str, quote: str) -> str | None:
    """The article sentence sharing the most words with ``quote`` (at least half of the quote's)."""
    words = set(re.findall(r"\w+", quote.lower()))
    best, best_overlap = None, 0.0
    for sentence in re.split(r"(?<=[.!?])\s+", body):
        overlap = len(words & set(re.findall(r"\w+", sentence.lower()))) / max(1, len(words))
        if overlap > best_overlap:
            best, best_overlap = sentence.strip(), overlap
    return best if best_overlap >= 0.5 else None
