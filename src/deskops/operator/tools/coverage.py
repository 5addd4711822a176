"""Does the help center cover what customers ask? One topic's coverage, the gaps, one article's record.

Coverage is judged the way the front-line agent experiences it: which published articles
its answers on the topic cite, whether searching the help center with the topic's real
opening messages finds a confident match, and how often the AI agent resolves the topic.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from deskops.analytics import metrics as engine
from deskops.analytics.articles import article_figures
from deskops.analytics.metrics import MIN_SAMPLE, Period, two_proportion_z_test
from deskops.changes.changeset import history
from deskops.domain.analytics import ArticleUse, SignificanceTest
from deskops.domain.types import Result, rounded
from deskops.errors import InvalidInput
from deskops.frontline.redact import redact
from deskops.operator.blocks import Block
from deskops.operator.deps import OperatorDeps
from deskops.operator.tools.analytics import PeriodQuery
from deskops.operator.tools.content import ArticleQuery
from deskops.operator.tools.reporting import Report, Window, checked_period, evidence, known_topic, pct, table
from deskops.store.repositories import WorkspaceScope

SERVES = 0.2
"""An article serves a topic when at least this share of its citations come from the topic's conversations."""
SAMPLED_OPENINGS = 4
CONFIDENT = 0.5
"""Search confidence from which the help center is taken to answer an opening message."""
UNCITED_CONFIDENT = 0.6
"""For a topic no article serves, search confidence from which the help center is taken to touch on it."""
MAX_SCORECARD_DAYS = 182
Verdict = Literal["covered", "weak", "draft only", "gap"]


class TopicCoverage(Result):
    topic: str
    verdict: Verdict
    conversations: int
    ai_resolution: float | None
    ai_involved: int
    escalation: float | None
    articles: list[str]
    """Articles whose citations come mostly from this topic (``kb-0013 (published)``)."""
    search_confidence: float | None
    """Mean confidence of the help-center search for the topic's sampled opening messages."""
    best_matches: list[str]
    """The best search hit of each sampled opening."""
    rules: list[str]
    """Guidance rules whose condition names the topic."""
    procedures: list[str]
    """Procedures the topic triggers."""
    openings: list[str]
    """Sampled opening messages (redacted)."""


def _coverage(
    deps: OperatorDeps,
    scope: WorkspaceScope,
    topic: str,
    start: date,
    end: date,
    serving: dict[str, list[str]],
    drafts: set[str],
) -> TopicCoverage:
    window, only = Window(deps, scope, start, end), {"topic": topic}
    volume = window.compare("conversation_volume", only)
    resolution = window.compare("ai_resolution_rate", only)
    escalation = window.compare("escalation_rate", only)
    bounds = Period(start, end).bounds(ZoneInfo(scope.workspace.time_zone))
    openings = [
        redact(o.text).text[:300]
        for o in scope.conversations.openings(
            start=bounds[0], end=bounds[1], limit=SAMPLED_OPENINGS, topic=topic
        )
    ]
    rules = [r.external_id for r in scope.guidance.list() if r.enabled and r.condition.topic == topic]
    procedures = [p.external_id for p in scope.procedures.list() if p.enabled and topic in p.trigger_topics]
    articles = serving.get(topic, [])
    confidences, best = [], []
    for text in openings:
        found = deps.services.search.search(
            deps.workspace, text, k=1, filters={"kind": "article", "state": "published"}
        )
        confidences.append(found.confidence)
        if found.hits:
            best.append(f"{found.hits[0].id} ({found.confidence:.2f})")
    confidence = rounded(sum(confidences) / len(confidences), 3) if confidences else None
    rate = resolution.current.value
    if articles:
        verdict: Verdict = (
            "covered" if (confidence or 0) >= CONFIDENT and (rate is None or rate >= 0.5) else "weak"
        )
    elif topic in drafts:
        verdict = "draft only"
    else:  # search may still find something the agent's answers never cite
        verdict = "gap" if (confidence or 0) < UNCITED_CONFIDENT else "weak"
    return TopicCoverage(
        topic=topic,
        verdict=verdict,
        conversations=volume.current.denominator,
        ai_resolution=rate,
        ai_involved=resolution.current.denominator,
        escalation=escalation.current.value,
        articles=articles,
        search_confidence=confidence,
        best_matches=best,
        rules=rules,
        procedures=procedures,
        openings=openings,
    )


def _serving(scope: WorkspaceScope) -> tuple[dict[str, list[str]], set[str]]:
    """Topic -> the articles that serve it (with their state); topics only a draft article is titled for."""
    states = {a.external_id: a.state.value for a in scope.articles.list()}
    serving: dict[str, list[str]] = {}
    for article, topics in scope.conversations.citation_topics().items():
        total = sum(topics.values())
        for topic, n in topics.items():
            if total and n >= SERVES * total and states.get(article) == "published":
                serving.setdefault(topic, []).append(article)
    drafts = {a.title.lower() for a in scope.articles.list(state="draft")}
    draft_topics = {
        t for t, _ in scope.stats.counts_by("topic") if t and any(t.replace("_", " ") in d for d in drafts)
    }
    return serving, draft_topics


class CoverageQuery(PeriodQuery):
    topic: str = Field(min_length=1, max_length=200)
    """A topic as conversations are labelled (e.g. ``payout_timing``)."""


class CoverageReport(Report):
    coverage: TopicCoverage

    def blocks(self) -> list[Block]:
        c = self.coverage
        rows: list[list[Any]] = [
            ["conversations", c.conversations],
            ["AI resolution", pct(c.ai_resolution)],
            ["escalation", pct(c.escalation)],
            ["articles serving it", ", ".join(c.articles) or "none"],
            ["search confidence", c.search_confidence],
            ["rules", ", ".join(c.rules) or "none"],
            ["procedures", ", ".join(c.procedures) or "none"],
        ]
        return [
            table(f"Coverage of {c.topic}: {c.verdict}", ["", ""], rows),
            evidence("What customers ask (redacted)", [(f"topic:{c.topic}", o) for o in c.openings]),
        ]


def topic_coverage(deps: OperatorDeps, query: CoverageQuery) -> CoverageReport:
    """How well a topic is covered: its articles, whether search finds them, AI resolution, configuration."""
    start, end = checked_period(deps, query.start, query.end)
    topic = known_topic(deps, query.topic)
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        serving, drafts = _serving(scope)
        c = _coverage(deps, scope, topic, start, end, serving, drafts)
    summary = [
        f"{topic}: {c.verdict}. {c.conversations:,} conversations from {start} to {end}; the AI agent "
        f"resolved {pct(c.ai_resolution)} of the {c.ai_involved:,} it took part in."
    ]
    if c.articles:
        summary.append(
            f"Answers on it cite {', '.join(c.articles)}; search confidence on real questions: "
            f"{c.search_confidence}."
        )
    else:
        summary.append(
            "No published article serves it"
            + (" (only a draft covers it)" if c.verdict == "draft only" else "")
            + f"; search confidence on real questions: {c.search_confidence}."
        )
    if c.procedures or c.rules:
        summary.append(f"Configuration for it: {', '.join(c.procedures + c.rules)}.")
    return CoverageReport(summary=summary, coverage=c)


class GapsQuery(PeriodQuery):
    min_conversations: int = Field(default=10, ge=1, le=100_000)
    """Topics with fewer conversations in the period are left out."""
    limit: int = Field(default=10, ge=1, le=50)


class GapsReport(Report):
    gaps: list[TopicCoverage]
    """Gaps and weak topics, most unresolved AI conversations first."""
    checked: int

    def blocks(self) -> list[Block]:
        rows = [
            [
                g.topic,
                g.verdict,
                g.conversations,
                pct(g.ai_resolution),
                g.search_confidence,
                ", ".join(g.articles) or "-",
            ]
            for g in self.gaps
        ]
        return [
            table(
                "Content gaps",
                ["topic", "verdict", "conversations", "AI resolution", "search", "articles"],
                rows,
            )
        ]


def content_gaps(deps: OperatorDeps, query: GapsQuery) -> GapsReport:
    """Topics customers ask about that the help center answers badly, largest unresolved volume first."""
    start, end = checked_period(deps, query.start, query.end)
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        bounds = Period(start, end).bounds(ZoneInfo(scope.workspace.time_zone))
        counts = scope.stats.topic_counts(start=bounds[0], end=bounds[1])
        serving, drafts = _serving(scope)
        topics = sorted(
            (t for t, n in counts.items() if n >= query.min_conversations), key=lambda t: -counts[t]
        )
        found = [_coverage(deps, scope, t, start, end, serving, drafts) for t in topics]
    gaps = [c for c in found if c.verdict != "covered"]
    gaps.sort(key=lambda c: -(c.ai_involved * (1 - (c.ai_resolution or 0.0))))
    summary = [
        f"{len(gaps)} of {len(found)} topics with {query.min_conversations}+ conversations are not well "
        "covered."
    ]
    for g in gaps[:4]:
        summary.append(
            f"{g.topic} ({g.verdict}): {g.conversations:,} conversations, AI resolution "
            f"{pct(g.ai_resolution)}, search confidence {g.search_confidence}."
        )
    return GapsReport(summary=summary, gaps=gaps[: query.limit], checked=len(found))


# ------------------------------------------------------------------------------------------ scorecard


class WeekOfUse(Result):
    week: str
    """Monday of the week."""
    cited: int
    resolution_when_cited: float | None


class ScorecardQuery(ArticleQuery, PeriodQuery):
    pass


class Scorecard(Report):
    article: str
    title: str
    state: str
    topics: dict[str, int]
    """Topics of the conversations whose answers cite it, with counts (recent conversations)."""
    weeks: list[WeekOfUse]
    cited: int
    resolution_when_cited: float | None
    previous_resolution_when_cited: float | None
    test: SignificanceTest
    topic_resolution: float | None
    """AI resolution of its main topic over the period, for comparison."""
    last_update: str
    last_edit_effect: str | None
    """Resolution when cited before and after the last edit, when it falls in the period."""

    def blocks(self) -> list[Block]:
        rows = [[w.week, w.cited, pct(w.resolution_when_cited)] for w in self.weeks]
        return [table(f"{self.article}: use per week", ["week", "cited", "resolved when cited"], rows)]


def article_scorecard(deps: OperatorDeps, query: ScorecardQuery) -> Scorecard:
    """One article's record: weekly use, resolution when cited (tested), topics, its last edit's effect."""
    start, end = checked_period(deps, query.start, query.end)
    if (end - start).days + 1 > MAX_SCORECARD_DAYS:
        raise InvalidInput(
            f"a scorecard covers at most {MAX_SCORECARD_DAYS} days, not {(end - start).days + 1}"
        )
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        article = scope.articles.get(query.external_id)
        versions = history(scope, "article", query.external_id)

        def use(a: date, b: date) -> ArticleUse | None:
            figures = article_figures(scope, start=a, end=b, today=deps.today)
            return next((u for u in figures.articles if u.article == query.external_id), None)

        length = (end - start).days + 1
        now = use(start, end)
        before = use(start - timedelta(days=length), start - timedelta(days=1))
        weeks = []
        cursor = start - timedelta(days=start.weekday())
        while cursor <= end:
            week = use(max(cursor, start), min(cursor + timedelta(days=6), end))
            weeks.append(
                WeekOfUse(
                    week=cursor.isoformat(),
                    cited=week.times_cited if week else 0,
                    resolution_when_cited=week.resolution_rate_when_cited if week else None,
                )
            )
            cursor += timedelta(days=7)
        topics = scope.conversations.citation_topics().get(query.external_id, {})
        main = max(topics, key=lambda t: topics[t]) if topics else None
        topic_rate = None
        if main is not None:
            topic_rate = engine.compare(
                scope,
                columns=deps.services.columns,
                metric=deps.services.registry.metric("ai_resolution_rate"),
                start=start,
                end=end,
                filters={"topic": main},
                today=deps.today,
            ).current.value
        last = versions[-1]
        effect = None
        edited = last.at.astimezone(ZoneInfo(scope.workspace.time_zone)).date()
        if len(versions) > 1 and start < edited <= end:
            a, b = use(start, edited - timedelta(days=1)), use(edited, end)
            effect = (
                f"resolution when cited {pct(a.resolution_rate_when_cited if a else None)} before the edit "
                f"of {edited}, {pct(b.resolution_rate_when_cited if b else None)} after"
            )
    cited = now.times_cited if now else 0
    test = SignificanceTest(name=None, p_value=None, significant=False, reason="too few citations")
    if now and before and now.times_cited >= MIN_SAMPLE and before.times_cited >= MIN_SAMPLE:
        test = two_proportion_z_test(
            now.resolved_when_cited, now.times_cited, before.resolved_when_cited, before.times_cited
        )
    rate = now.resolution_rate_when_cited if now else None
    summary = [
        f"{query.external_id} ({article.title!r}, {article.state.value}) was cited in {cited:,} "
        f"conversations from {start} to {end}; answers citing it resolved {pct(rate)}"
        + (f", against {pct(before.resolution_rate_when_cited)} the period before" if before else "")
        + (f" (p={test.p_value})." if test.p_value is not None else ".")
    ]
    if main is not None and rate is not None and topic_rate is not None:
        summary.append(f"Its main topic, {main}, has an AI resolution of {pct(topic_rate)} over the period.")
    if effect:
        summary.append(f"Last edit: {effect}.")
    if cited == 0:
        summary.append("No answer cited it in the period.")
    return Scorecard(
        summary=summary,
        article=query.external_id,
        title=article.title,
        state=article.state.value,
        topics=dict(sorted(topics.items(), key=lambda kv: -kv[1])[:8]),
        weeks=weeks,
        cited=cited,
        resolution_when_cited=rate,
        previous_resolution_when_cited=before.resolution_rate_when_cited if before else None,
        test=test,
        topic_resolution=rounded(topic_rate),
        last_update=edited.isoformat(),
        last_edit_effect=effect,
    )
