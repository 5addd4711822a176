"""The front-line agent on a simulated workspace with the real search index and embedding model.

What needs the real model lives here: answers from real retrieval, topic inference from
similar past conversations, a message matched to what a rule or procedure is about,
replays, and traces in a real SQLite file. The policy itself (settings, rules, procedures,
guardrails, a model's grounding) is unit-tested in tests/unit/test_frontline_policy.py.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deskops.bootstrap import Services, build
from deskops.changes.changeset import load_candidate
from deskops.domain.models import Decision
from deskops.frontline.agent import CLARIFY_PREFIX, FrontlineAgent, Inquiry
from deskops.frontline.replay import replay
from deskops.simulate.workspace import SimulationConfig, simulate_workspace

CARD = "4111 1111 1111 1111"
EMAIL = "maria.gomez@example.com"


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory, real_embedder: Any) -> Iterator[Services]:
    folder = tmp_path_factory.mktemp("frontline")
    built = build(
        database_url=f"sqlite:///{folder / 'f.db'}",
        data_dir=folder,
        search_conversations=400,
        embedder=real_embedder,
    )
    config = SimulationConfig(seed=5, conversations=900, days=45).with_former_incidents()
    with built.uow() as uow:
        simulate_workspace(uow=uow, config=config, truth_path=folder / "t.json")
    built.search.rebuild("demo")
    yield built
    built.close()


def _ask(services: Services, message: str, **kwargs: Any) -> Any:
    return services.frontline.reply("demo", Inquiry(message=message, **kwargs), store=False)


def test_answers_from_the_help_center_with_a_citation(services: Services) -> None:
    reply = _ask(services, "How long does it take for a payout to arrive in my bank account?", topic="none")
    assert reply.decision == Decision.answer, reply.reason
    assert reply.citations and reply.citations[0].startswith("article:")
    assert reply.text.endswith(f"Source: {reply.trace.passages[0].title}")
    assert "2 business days" in reply.text
    assert len(reply.text) < 900  # an answer, not the article
    trace = reply.trace
    assert trace.decision == Decision.answer and trace.confidence >= trace.threshold and trace.latency_ms > 0
    assert trace.passages[0].id == reply.citations[0] and trace.model == "offline"


def test_traces_are_stored_per_message_and_queryable(services: Services) -> None:
    for index, message in enumerate(
        ["How do I export invoices to QuickBooks?", "thanks, and my lawyer will call"]
    ):
        services.frontline.reply(
            "demo", Inquiry(message=message, conversation_external_id="conv-trace", message_index=index)
        )
    with services.uow() as uow:
        traces = uow.workspace("demo").traces.for_conversation("conv-trace")
        handovers = uow.workspace("demo").traces.list(decision=Decision.handover)
    assert [t.message_index for t in traces] == [0, 1]
    assert traces[1].decision == Decision.handover and "lawyer" in traces[1].reason
    assert any(t.conversation_external_id == "conv-trace" for t in handovers)


@pytest.mark.parametrize(
    ("message", "customer", "reason"),
    [
        (
            "This is unacceptable, my lawyer will hear about it",
            {},
            "handover rule 'Legal threats go to a person'",
        ),
        ("Should I invest my balance in crypto?", {}, "out of scope 'Stay in scope'"),
        ("Someone stole my card, it's gone", {}, "handover rule 'Lost or stolen cards'"),
        (
            "Why was I charged twice on my invoice this month?",
            {"plan": "Enterprise"},
            "handover rule 'Enterprise billing questions go to the Enterprise team'",
        ),
    ],
)
def test_guidance_rules_hand_over(
    services: Services, message: str, customer: dict[str, str], reason: str
) -> None:
    reply = _ask(services, message, customer=customer)
    assert reply.decision == Decision.handover and reply.reason.startswith(reason), reply.reason
    assert any(r.matched and reason.split("'")[1] == r.title for r in reply.trace.rules)


def test_a_procedure_collects_data_across_turns(services: Services) -> None:
    opening = "I'd like a refund for my subscription charge"
    first = _ask(services, opening)
    assert first.decision == Decision.procedure_step, first.reason
    assert first.text == "To look into this, could you tell me the invoice number and charge date?"
    assert first.trace.procedure and first.trace.procedure.missing == ["invoice_number", "charge_date"]
    history = [("customer", opening), ("ai_agent", first.text)]
    second = _ask(services, "Sure, it's INV-20931", history=history)
    assert second.decision == Decision.procedure_step and second.trace.procedure.missing == ["charge_date"]
    history += [("customer", "Sure, it's INV-20931"), ("ai_agent", second.text)]
    third = _ask(services, "charged on 2026-05-04", history=history)
    assert third.decision == Decision.handover and "step 2" in third.reason
    assert third.trace.procedure.collected == ["charge_date", "invoice_number"]


def test_a_vague_message_gets_one_clarifying_question(services: Services) -> None:
    first = _ask(services, "billing")
    assert first.decision == Decision.clarify and first.text.startswith(CLARIFY_PREFIX)
    second = _ask(services, "billing", history=[("customer", "hm"), ("ai_agent", first.text)])
    assert second.decision != Decision.clarify


def test_low_confidence_hands_over(services: Services) -> None:
    reply = _ask(services, "What will the weather be like in Lisbon next Tuesday afternoon?")
    assert reply.decision == Decision.handover and "under the threshold" in reply.reason


def _content(services: Services, **changes: Any) -> Any:
    from deskops.frontline.agent import Content

    with services.uow() as uow:
        content = Content.current(uow.workspace("demo"))
        articles = {a.external_id: a for a in uow.workspace("demo").articles.list(state="published")}
    from deskops.frontline.compose import Article

    content.article = lambda eid: (
        Article(eid, articles[eid].title, articles[eid].body) if eid in articles else None
    )
    for name, value in changes.items():
        setattr(content, name, value)
    return content


# ------------------------------------------------------------------------------------ guardrails


def test_personal_data_never_reaches_traces(services: Services) -> None:
    message = f"My card {CARD} was declined, write to {EMAIL} or call +1 (415) 555-2671"
    services.frontline.reply(
        "demo", Inquiry(message=message, conversation_external_id="conv-pii", message_index=0)
    )
    with services.uow() as uow:
        (trace,) = uow.workspace("demo").traces.for_conversation("conv-pii")
    assert trace.signals.redacted == {"emails": 1, "cards": 1, "phones": 1}
    database = Path(str(services.engine.url.database))
    with sqlite3.connect(database) as db:
        stored = " ".join(row[0] for row in db.execute("select trace from decision_traces"))
    for secret in (CARD, EMAIL, "555-2671"):
        assert secret not in stored


def _agent(services: Services) -> FrontlineAgent:
    return services.frontline


# ---------------------------------------------------------------------------------- replay, candidates


def _missing_topic(services: Services) -> Any:
    """A topic whose article the simulated help center lacks, and the article that would cover it."""
    from deskops.simulate.catalog import TOPICS
    from deskops.simulate.content import article_body

    folder = Path(str(services.engine.url.database)).parent
    truth = json.loads((folder / "t.json").read_text())
    with services.uow() as uow:
        counts = dict(uow.workspace("demo").stats.counts_by("topic", limit=100))
    key = max(truth["content_issues"]["missing"], key=lambda k: counts.get(k, 0))
    topic = next(t for t in TOPICS if t.key == key)
    return topic, {
        "external_id": "kb-fix",
        "title": topic.title,
        "body": article_body(topic),
        "product_area": topic.area,
    }


def _period(services: Services) -> tuple[Any, Any]:
    with services.uow() as uow:
        first, last = uow.workspace("demo").stats.conversation_range()
    return first.date(), last.date()


def _replay(services: Services, candidate: Any, **kwargs: Any) -> Any:
    start, end = _period(services)
    with services.uow() as uow:
        return replay(
            agent=services.frontline,
            search=services.search,
            scope=uow.workspace("demo"),
            start=start,
            end=end,
            candidate=candidate,
            **kwargs,
        )


def test_replay_shows_an_article_fix_raising_resolution_on_its_topic(
    services: Services, tmp_path: Path
) -> None:
    topic, article = _missing_topic(services)
    path = tmp_path / "candidate.json"
    path.write_text(json.dumps({"articles": [article]}))
    with services.uow() as uow:
        candidate = load_candidate(path, uow.workspace("demo"))
        before = (uow.workspace("demo").articles.count(), uow.workspace("demo").traces.count())
    report = _replay(services, candidate, limit=40, topic=topic.key)
    (row,) = report.topics
    assert report.topic == topic.key and row.topic == topic.key and row.conversations >= 5
    resolution = row.predicted_resolution
    assert resolution.current is not None and resolution.candidate is not None
    assert resolution.current <= 0.2 and resolution.candidate >= resolution.current + 0.3, row
    assert report.experiment.runs == row.conversations and report.experiment.mismatched > 0
    with services.uow() as uow:  # a replay writes nothing
        assert (uow.workspace("demo").articles.count(), uow.workspace("demo").traces.count()) == before


def test_replay_of_a_candidate_rule(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "rule.json"
    rule = {
        "external_id": "gr-all-payouts",
        "title": "Payout questions go to Payments",
        "body": "Hand over every payout question.",
        "kind": "handover",
        "condition": {"keywords": ["payout", "payouts"]},
    }
    path.write_text(json.dumps({"guidance": [rule]}))
    with services.uow() as uow:
        candidate = load_candidate(path, uow.workspace("demo"))
    (row,) = _replay(services, candidate, limit=30, topic="payout_timing").topics
    assert (row.handover_rate.candidate or 0) > (row.handover_rate.current or 0)
    assert (row.predicted_resolution.candidate or 0) <= (row.predicted_resolution.current or 0)


def test_topic_votes_never_see_the_conversation_itself_or_later_ones(services: Services) -> None:
    """In a replay the conversation being replayed is in the index, with its topic: it must not vote."""
    from datetime import UTC, datetime

    seen: list[dict[str, str]] = []
    search = services.search
    nearest: list[str] = []

    def retrieve(workspace: str, query: str, k: int, filters: dict[str, str]) -> Any:
        response = search.search(workspace, query, k=k, filters=filters)
        if filters.get("kind") == "conversation":
            seen.append(dict(filters))
            nearest.append(response.hits[0].id)
            response.hits = response.hits[:1]  # only the nearest conversation can vote
        return response

    agent = _agent(services).using(retrieve)
    at = datetime(2026, 10, 20, 12, tzinfo=UTC)
    first = agent.decide("demo", Inquiry(message="I lost my card", at=at), _content(services))
    assert seen[-1]["until"] == "2026-10-19"  # nothing from the day of the message or later
    assert first.trace.topic is not None and first.trace.topic.neighbours == 1
    own = nearest[-1].removeprefix("conversation:")
    again = agent.decide(
        "demo", Inquiry(message="I lost my card", conversation_external_id=own, at=at), _content(services)
    )
    assert again.trace.topic is not None and again.trace.topic.neighbours == 0  # itself never votes
