"""Running the front-line agent inside the simulator (`deskops simulate --frontline`).

For every state the simulated help center goes through during the period, the agent
(offline, with the simulated guidance rules, procedures and settings) answers each
topic's opening messages — the catalog phrasings the simulated conversations open with,
and their Spanish, German and French versions. The share it answers with an article
about the topic becomes that topic's AI answer rate (``simulate.outcomes.FrontlineRates``);
the simulator then resolves a conversation only if the agent would answer it and the
article is right at the time. So editing the simulated content — a missing article, a
stale one, a guidance rule — changes simulated outcomes through the agent.

Nothing touches a database: the help center is indexed in memory, embeddings computed
once per distinct text.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import numpy as np

from deskops.domain.models import ArticleVersion, ContentState, Decision, GuidanceRule, Procedure
from deskops.frontline import compose
from deskops.frontline.agent import Content, FrontlineAgent, Inquiry
from deskops.search.chunks import article_chunks
from deskops.search.dense import Embedder
from deskops.search.index import HybridIndex, SearchConfig
from deskops.search.service import SearchResponse, check_filters, clean_query, respond
from deskops.simulate._catalog import TOPICS
from deskops.simulate.content import ContentPlan
from deskops.simulate.outcomes import FrontlineRates

WORKSPACE = "simulated"


class _Vectors:
    """Embeddings by text, each computed once (in batches when asked for many)."""

    def __init__(self, embedder: Embedder, known: dict[str, np.ndarray] | None = None) -> None:
        self.embedder = embedder
        self.known = known if known is not None else {}

    def many(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.known]
        for start in range(0, len(missing), 256):
            part = missing[start : start + 256]
            self.known.update(zip(part, self.embedder.encode(part), strict=True))
        return np.stack([self.known[t] for t in texts]) if texts else np.zeros((0, self.embedder.dimension))

    def one(self, text: str) -> np.ndarray:
        return self.many([text])[0]


def _state(plan: ContentPlan, at: datetime) -> dict[str, ArticleVersion]:
    """Every article as it stands at ``at`` (its latest version written by then)."""
    versions: dict[str, ArticleVersion] = {}
    for written, article in plan.articles:
        if written <= at:
            number = versions[article.external_id].version + 1 if article.external_id in versions else 1
            versions[article.external_id] = ArticleVersion(**article.model_dump(), version=number)
    return versions


def _latest(items: list[Any], at: datetime) -> list[Any]:
    """The latest version of each rule or procedure written by ``at``."""
    found: dict[str, Any] = {}
    for item in items:
        if item.updated_at <= at:
            found[item.external_id] = item
    return [i for i in found.values() if i.enabled]


def rates(
    plan: ContentPlan,
    start: datetime,
    end: datetime,
    *,
    embedder: Embedder,
    config: SearchConfig | None = None,
    per_topic: int | None = None,
    topics: set[str] | None = None,
    embeddings: dict[str, np.ndarray] | None = None,
) -> FrontlineRates:
    """The agent's answer rate per topic and help-center state (``per_topic`` caps the opening
    messages tried per topic and language group; ``topics`` limits the topics tried: all by
    default, and a simulation needs all). ``embeddings`` (text -> vector) is reused and filled
    when given, so repeated runs embed nothing twice."""
    config = config or SearchConfig()
    vectors = _Vectors(embedder, embeddings)
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
    tried = [t for t in TOPICS if topics is None or t.key in topics]
    openings = {t.key: list(t.phrasings)[:per_topic] for t in tried}
    translated = {t.key: list(t.translations.values())[:per_topic] for t in tried}

    answered: dict[str, list[float]] = {t.key: [] for t in tried}
    answered_translated: dict[str, list[float]] = {t.key: [] for t in tried}
    decisions: dict[str, Counter[str]] = {t.key: Counter() for t in tried}
    for number, state in enumerate(states):
        agent, content = _agent(state, rules, procedures, settings, vectors, config)
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
    state: dict[str, ArticleVersion],
    rules: list[GuidanceRule],
    procedures: list[Procedure],
    settings: dict[str, Any],
    vectors: _Vectors,
    config: SearchConfig,
) -> tuple[FrontlineAgent, Content]:
    chunks = [c for a in state.values() for c in article_chunks(a)]
    index = HybridIndex(vectors.embedder.dimension)
    if chunks:
        index.add("simulated", chunks, vectors.many([c.text for c in chunks]).astype(np.float32))

    def retrieve(workspace: str, query: str, k: int, filters: dict[str, str]) -> SearchResponse:
        cleaned, notices = clean_query(query)
        if filters.get("kind") != "article":  # no past conversations yet: nothing to vote on topics
            return SearchResponse(
                query=cleaned, method="hybrid_rerank", filters=filters, hits=[], confidence=0.0, abstain=True
            )
        return respond(
            index, cleaned, vectors.one(cleaned), notices, k=k, filters=check_filters(filters), config=config
        )

    published = {k: v for k, v in state.items() if v.state == ContentState.published}
    content = Content(
        rules=rules,
        procedures=procedures,
        settings=settings,
        article=lambda eid: (
            compose.Article(eid, published[eid].title, published[eid].body) if eid in published else None
        ),
    )
    agent = FrontlineAgent(uow_factory=None, retrieve=retrieve, embed=vectors.one)
    return agent, content
