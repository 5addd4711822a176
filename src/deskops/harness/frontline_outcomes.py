"""Running the front-line agent inside the simulator (`deskops simulate --frontline`).

For every state the simulated help center goes through during the period, the agent
(offline, with the simulated guidance rules, procedures and settings) answers each
topic's opening messages — the catalog phrasings the simulated conversations open with,
and their Spanish, German and French versions. The share it answers with an article
about the topic becomes that topic's AI answer rate (``simulate.outcomes.FrontlineRates``);
the simulator then resolves a conversation only if the agent would answer it and the
article is right at the time. So editing the simulated content — a missing article, a
stale one, a guidance rule — changes simulated outcomes through the agent.

Nothing touches a database: each state of the help center is indexed in memory by the
search service, which embeds each distinct text once.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from deskops.domain.models import (
    ArticleVersion,
    ContentState,
    Decision,
    FrontlineSettings,
    GuidanceRule,
    Procedure,
)
from deskops.frontline import compose
from deskops.frontline.agent import Content, FrontlineAgent, Inquiry
from deskops.frontline.questions import QuestionBank
from deskops.simulate.catalog import TOPICS
from deskops.simulate.content import ContentPlan
from deskops.simulate.outcomes import FrontlineRates

if TYPE_CHECKING:
    from deskops.bootstrap import Services

WORKSPACE = "simulated"
Versioned = TypeVar("Versioned", GuidanceRule, Procedure)


def _state(plan: ContentPlan, at: datetime) -> dict[str, ArticleVersion]:
    """Every article as it stands at ``at`` (its latest version written by then)."""
    versions: dict[str, ArticleVersion] = {}
    for written, article in plan.articles:
        if written <= at:
            number = versions[article.external_id].version + 1 if article.external_id in versions else 1
            versions[article.external_id] = ArticleVersion(**article.model_dump(), version=number)
    return versions


def _latest(items: list[Versioned], at: datetime) -> list[Versioned]:
    """The latest version of each rule or procedure written by ``at``."""
    found: dict[str, Versioned] = {}
    for item in items:
        if item.updated_at <= at:
            found[item.external_id] = item
    return [i for i in found.values() if i.enabled]


def rates(
    plan: ContentPlan,
    start: datetime,
    end: datetime,
    *,
    services: Services,
    per_topic: int | None = None,
    topics: set[str] | None = None,
) -> FrontlineRates:
    """The agent's answer rate per topic and help-center state (``per_topic`` caps the opening
    messages tried per topic and language group; ``topics`` limits the topics tried: all by
    default, and a simulation needs all).

    The agent and its search come from ``services`` (offline: no model is called), searching
    each state of the help center in memory; embeddings are remembered by the search service,
    so repeated runs embed nothing twice."""
    # The help center changes when an article version is written; rules and settings are
    # taken as they stand at the start (the guidance incident is modelled by the simulator).
    moments = sorted({start} | {at for at, _ in plan.articles if start < at < end})
    epochs: list[datetime] = []
    states: list[dict[str, ArticleVersion]] = []
    for moment in moments:
        state = _state(plan, moment)
        published = {k: (v.title, v.body) for k, v in state.items() if v.state == ContentState.published}
        if states and published == {
            k: (v.title, v.body) for k, v in states[-1].items() if v.state == ContentState.published
        }:
            continue
        epochs.append(moment)
        states.append(state)
    rules: list[GuidanceRule] = _latest(plan.rules, start)
    procedures: list[Procedure] = _latest(plan.procedures, start)
    settings = next((s for at, s in reversed(plan.settings) if at <= start), plan.settings[0][1])
    offline = services.frontline.offline()
    tried = [t for t in TOPICS if topics is None or t.key in topics]
    openings = {t.key: list(t.phrasings)[:per_topic] for t in tried}
    translated = {t.key: list(t.translations.values())[:per_topic] for t in tried}

    answered: dict[str, list[float]] = {t.key: [] for t in tried}
    answered_translated: dict[str, list[float]] = {t.key: [] for t in tried}
    decisions: dict[str, Counter[str]] = {t.key: Counter() for t in tried}
    for number, state in enumerate(states):
        agent, content = _agent(offline, services, state, rules, procedures, settings)
        right = _right_articles(plan, state)
        for t in tried:
            for texts, target in ((openings[t.key], answered), (translated[t.key], answered_translated)):
                hits = 0
                for text in texts:
                    reply = agent.decide(WORKSPACE, Inquiry(message=text), content)
                    if number == 0 and target is answered:
                        decisions[t.key][reply.decision.value] += 1
                    if reply.decision == Decision.answer and reply.citations[0] in right[t.key]:
                        hits += 1
                target[t.key].append(hits / len(texts) if texts else 0.0)
    return FrontlineRates(
        epochs=epochs,
        answered=answered,
        answered_translated=answered_translated,
        summary={
            "help_center_states": [e.isoformat() for e in epochs],
            "topics": {
                t.key: {
                    "answered_in_english": [round(x, 3) for x in answered[t.key]],
                    "answered_translated": [round(x, 3) for x in answered_translated[t.key]],
                    "decisions_at_start": dict(decisions[t.key]),
                }
                for t in tried
            },
        },
    )


def _right_articles(plan: ContentPlan, state: dict[str, ArticleVersion]) -> dict[str, set[str]]:
    """For each topic, the published articles that cover it: its own, and its FAQ duplicate unless
    that one contradicts it."""
    contradicting = set(plan.issues.get("contradicting_duplicates", []))
    out: dict[str, set[str]] = {}
    for t in TOPICS:
        ids = set()
        own = plan.coverage[t.key].article_id
        if own and own in state and state[own].state == ContentState.published:
            ids.add(f"article:{own}")
        if t.key not in contradicting:
            faq = f"FAQ: {t.title.lower()}"
            ids |= {
                f"article:{k}"
                for k, v in state.items()
                if v.title == faq and v.state == ContentState.published
            }
        out[t.key] = ids
    return out


def _agent(
    offline: FrontlineAgent,
    services: Services,
    state: dict[str, ArticleVersion],
    rules: list[GuidanceRule],
    procedures: list[Procedure],
    settings: FrontlineSettings,
) -> tuple[FrontlineAgent, Content]:
    """The agent searching this state of the help center, and the content it runs on."""
    index = services.search.over_articles(list(state.values()))
    published = {k: v for k, v in state.items() if v.state == ContentState.published}
    known = offline.known_questions
    content = Content(
        rules=rules,
        procedures=procedures,
        settings=settings,
        article=lambda eid: (
            compose.Article(eid, published[eid].title, published[eid].body) if eid in published else None
        ),
        # What each article says it answers (no past conversations: nothing has been simulated yet).
        questions=QuestionBank(
            {k: v for k, v in known.for_articles(None, list(published.values())).items() if v is not None}
        )
        if known is not None
        else QuestionBank(),
    )
    # No past conversations in a simulation's help center: topic votes come back empty.
    return offline.using(index.retrieve), content
