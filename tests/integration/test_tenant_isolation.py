"""No code path reads across workspaces: behavioural checks plus an audit of every SQL statement."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from deskops.bootstrap import Services
from deskops.domain.changes import (
    Actor,
    ActorKind,
    ChangeSet,
    Evidence,
    Finding,
    Proposal,
    ProposalState,
    Review,
    ReviewPolicy,
)
from deskops.domain.models import (
    Article,
    AuthorKind,
    CohortDefinition,
    Conversation,
    Customer,
    Decision,
    DecisionTrace,
    Event,
    FrontlineSettings,
    GuidanceRule,
    Message,
    Procedure,
    ProcedureStep,
    Role,
)
from deskops.domain.runs import OperatorRun, RunOutcome, RunToolCall
from deskops.store import tables
from deskops.store.repositories import NotFound, WorkspaceScope

T0 = datetime(2026, 5, 4, 12, tzinfo=UTC)
TENANT_TABLE_NAMES = {t.name for t in tables.TENANT_TABLES}
ALPHA_ID, BETA_ID = 70_001, 90_002


def fill(scope: WorkspaceScope, marker: str) -> None:
    """The same external ids in every workspace, with content that says whose it is."""
    scope.customers.upsert_many([Customer(external_id="cus-1", plan=marker, attributes={"owner": marker})])
    scope.conversations.upsert_many(
        [
            Conversation(
                external_id="conv-1",
                customer_external_id="cus-1",
                created_at=T0,
                channel="chat",
                topic=marker,
                messages=[
                    Message(author_kind=AuthorKind.customer, text=f"hello from {marker}", created_at=T0)
                ],
            )
        ]
    )
    scope.articles.save(
        Article(external_id="kb-1", title=f"{marker} article", body=marker, created_at=T0, updated_at=T0)
    )
    scope.guidance.save(GuidanceRule(external_id="gr-1", title=marker, body=marker, updated_at=T0))
    scope.procedures.save(
        Procedure(external_id="p-1", title=marker, steps=[ProcedureStep(instruction=marker)], updated_at=T0)
    )
    scope.agent_settings.save(FrontlineSettings(handover_team=marker), at=T0)
    scope.events.add_many([Event(name=f"{marker}_event", occurred_at=T0, customer_external_id="cus-1")])
    scope.members.add(email=f"lead@{marker}.example", name=marker, role=Role.admin)


@pytest.fixture
def two_workspaces(services: Services) -> Iterator[tuple[Services, WorkspaceScope, WorkspaceScope]]:
    with services.uow() as uow:
        # Ids no other bound value can collide with, so the SQL audit below can tell them apart.
        for workspace_id, name in ((ALPHA_ID, "alpha"), (BETA_ID, "beta")):
            uow.connection.execute(
                sa.insert(tables.workspaces).values(
                    id=workspace_id, name=name, time_zone="UTC", created_at=T0
                )
            )
        a, b = uow.workspace("alpha"), uow.workspace("beta")
        fill(a, "alpha")
        fill(b, "beta")
        uow.commit()
        yield services, a, b


def test_each_workspace_sees_only_its_own_records(
    two_workspaces: tuple[Services, WorkspaceScope, WorkspaceScope],
) -> None:
    _, a, b = two_workspaces
    for scope, marker in ((a, "alpha"), (b, "beta")):
        assert scope.customers.get("cus-1").plan == marker
        assert [c.attributes["owner"] for c in scope.customers.list()] == [marker]
        conversation = scope.conversations.get("conv-1")
        assert conversation.topic == marker and conversation.messages[0].text == f"hello from {marker}"
        assert scope.conversations.count() == 1 and scope.conversations.count_messages() == 1
        assert [a.title for a in scope.articles.list()] == [f"{marker} article"]
        assert len(scope.articles.history("kb-1")) == 1
        assert scope.guidance.get("gr-1").title == marker and scope.procedures.get("p-1").title == marker
        assert scope.agent_settings.current().settings.handover_team == marker  # type: ignore[union-attr]
        assert [e.name for e in scope.events.list()] == [f"{marker}_event"]
        assert [m.email for m in scope.members.list()] == [f"lead@{marker}.example"]
        assert scope.stats.table_counts()["conversations"] == 1
        assert [(e.name, e.count) for e in scope.events.name_counts()] == [(f"{marker}_event", 1)]


def test_per_agent_rows_and_trace_counts_stay_in_their_workspace(
    two_workspaces: tuple[Services, WorkspaceScope, WorkspaceScope],
) -> None:
    _, a, b = two_workspaces
    for scope, marker in ((a, "alpha"), (b, "beta")):
        scope.conversations.upsert_many(
            [
                Conversation(
                    external_id="conv-2",
                    created_at=T0,
                    channel="email",
                    outcome="human_resolved",
                    csat=5 if marker == "alpha" else 1,
                    messages=[
                        Message(author_kind=AuthorKind.customer, text="help", created_at=T0),
                        Message(
                            author_kind=AuthorKind.human_agent,
                            author_name=f"{marker}-agent",
                            text="done",
                            created_at=T0,
                        ),
                    ],
                )
            ]
        )
    a.traces.add(
        DecisionTrace(
            created_at=T0,
            query="q",
            confidence=0.9,
            threshold=0.5,
            decision=Decision.answer,
            reason="r",
            reply="x",
            model="offline",
            latency_ms=1.0,
        )
    )
    window = {"start": T0 - timedelta(1), "end": T0 + timedelta(1)}
    rows = b.conversations.human_agent_rows(**window)
    assert [(r.agent, r.external_id, r.csat) for r in rows] == [("beta-agent", "conv-2", 1)]
    assert a.traces.decision_counts(**window) == {"answer": 1} and b.traces.decision_counts(**window) == {}
    assert b.traces.span() == (None, None) and a.traces.span()[0] is not None


def test_ids_of_one_workspace_do_not_reach_another(
    two_workspaces: tuple[Services, WorkspaceScope, WorkspaceScope],
) -> None:
    _, a, b = two_workspaces
    alpha_member = a.members.list()[0]
    # Same numeric id exists in beta, but it is beta's own member, never alpha's.
    assert b.members.get(alpha_member.id).email == "lead@beta.example"
    with pytest.raises(NotFound):
        b.members.get(alpha_member.id + 1)
    with pytest.raises(NotFound):
        b.conversations.get("only-in-alpha") if a.conversations.upsert_many(
            [Conversation(external_id="only-in-alpha", created_at=T0, channel="email")]
        ) else None


def test_deleting_a_workspace_leaves_the_other_untouched(
    two_workspaces: tuple[Services, WorkspaceScope, WorkspaceScope],
) -> None:
    services, _, _ = two_workspaces
    with services.uow() as uow:
        uow.workspaces.delete("alpha")
        uow.commit()
        beta = uow.workspace("beta")
        assert beta.conversations.count() == 1 and beta.customers.count() == 1
        for table in tables.TENANT_TABLES:
            rows = uow.connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            owners = uow.connection.execute(sa.select(table.c.workspace_id).distinct()).scalars().all()
            assert rows == 0 or owners == [beta.workspace.id], table.name


PROPOSAL = Proposal(
    id=1,
    thread_id=1,
    revision=1,
    state=ProposalState.open,
    title="Fix",
    description="d",
    rationale="",
    evidence=Evidence(),
    author=Actor(kind=ActorKind.member, name="x", role=Role.editor),
    change_set=ChangeSet(articles=[{"external_id": "kb-1", "body": "new"}]),
    base_versions={"article:kb-1": 1},
    verdict=None,
    created_at=T0,
    updated_at=T0,
)

RUN = OperatorRun(
    started_at=T0,
    duration_ms=12.5,
    actor="member:x",
    role="viewer",
    session="s",
    question="how did we do?",
    skill=None,
    outcome=RunOutcome.failed,
    error="boom",
    tools=[RunToolCall(tool="read_conversation", ms=1.0, ok=False, error="boom")],
    model="deskops-offline-planner",
    requests=1,
    trace_id="0" * 32,
)

# Every public repository method, called the way a caller would. A new method fails
# test_every_repository_method_is_audited until it is added here.
Battery = dict[str, Callable[[WorkspaceScope], Any]]
BATTERY: dict[str, Battery] = {
    "customers": {
        "upsert_many": lambda s: s.customers.upsert_many([Customer(external_id="cus-2")]),
        "ensure": lambda s: s.customers.ensure(["cus-1", "cus-3"]),
        "get": lambda s: s.customers.get("cus-1"),
        "list": lambda s: s.customers.list(),
        "count": lambda s: s.customers.count(),
        "analytics_rows": lambda s: s.customers.analytics_rows(),
    },
    "traces": {
        "add": lambda s: s.traces.add(
            DecisionTrace(
                conversation_external_id="conv-1",
                message_index=0,
                created_at=T0,
                query="q",
                confidence=0.5,
                threshold=0.5,
                decision=Decision.handover,
                reason="r",
                reply="",
                model="offline",
                latency_ms=1.0,
            )
        ),
        "get": lambda s: s.traces.get(1),
        "for_conversation": lambda s: s.traces.for_conversation("conv-1"),
        "list": lambda s: s.traces.list(decision=Decision.handover, start=T0, end=T0 + timedelta(1)),
        "count": lambda s: s.traces.count(),
        "decision_counts": lambda s: s.traces.decision_counts(start=T0, end=T0 + timedelta(1)),
        "span": lambda s: s.traces.span(),
    },
    "revisions": {
        "current": lambda s: s.revisions.current(),
        "bump": lambda s: s.revisions.bump(rewrite=True),
    },
    "conversations": {
        "upsert_many": lambda s: s.conversations.upsert_many(
            [
                Conversation(
                    external_id="conv-1",
                    customer_external_id="cus-1",
                    created_at=T0,
                    channel="chat",
                    topic="changed",
                )
            ]
        ),
        "get": lambda s: s.conversations.get("conv-1"),
        "list_external_ids": lambda s: s.conversations.list_external_ids(start=T0, end=T0 + timedelta(1)),
        "count": lambda s: s.conversations.count(),
        "count_messages": lambda s: s.conversations.count_messages(),
        "max_id": lambda s: s.conversations.max_id(),
        "openings": lambda s: s.conversations.openings(
            start=T0 - timedelta(1),
            end=T0 + timedelta(1),
            limit=5,
            segment={"plan": "beta", "channel": "chat"},
        ),
        "citation_topics": lambda s: s.conversations.citation_topics(recent=100),
        "resolved_citations": lambda s: s.conversations.resolved_citations(recent=100, per_article=5),
        "ai_citations": lambda s: s.conversations.ai_citations(["conv-1"]),
        "citations": lambda s: s.conversations.citations(start=T0 - timedelta(1), end=T0 + timedelta(1)),
        "customer_texts": lambda s: s.conversations.customer_texts(after_id=0, limit=10),
        "customer_texts_of": lambda s: s.conversations.customer_texts_of(["conv-1"]),
        "changes_since": lambda s: s.conversations.changes_since(0),
        "erase": lambda s: s.conversations.erase(["conv-1"]),
        "analytics_rows": lambda s: s.conversations.analytics_rows(after_id=0),
        "human_agent_rows": lambda s: s.conversations.human_agent_rows(
            start=T0 - timedelta(1), end=T0 + timedelta(1)
        ),
    },
    "articles": {
        "save": lambda s: s.articles.save(
            Article(external_id="kb-1", title="t", body="new", created_at=T0, updated_at=T0 + timedelta(1))
        ),
        "upsert_many": lambda s: s.articles.upsert_many(
            [Article(external_id="kb-2", title="t", body="b", created_at=T0, updated_at=T0)]
        ),
        "get": lambda s: s.articles.get("kb-1"),
        "list": lambda s: s.articles.list(state="published"),
        "history": lambda s: s.articles.history("kb-1"),
        "count": lambda s: s.articles.count(),
        "current_versions": lambda s: s.articles.current_versions(),
        "find": lambda s: s.articles.find("kb-1"),
        "versions": lambda s: s.articles.versions("kb-1"),
        "get_many": lambda s: s.articles.get_many(["kb-1", "kb-2"]),
    },
    "guidance": {
        "save": lambda s: s.guidance.save(
            GuidanceRule(external_id="gr-1", title="t", body="x", updated_at=T0)
        ),
        "upsert_many": lambda s: s.guidance.upsert_many(
            [GuidanceRule(external_id="gr-2", title="t", body="x", updated_at=T0)]
        ),
        "get": lambda s: s.guidance.get("gr-1"),
        "list": lambda s: s.guidance.list(enabled=True),
        "history": lambda s: s.guidance.history("gr-1"),
        "find": lambda s: s.guidance.find("gr-1"),
        "versions": lambda s: s.guidance.versions("gr-1"),
        "count": lambda s: s.guidance.count(),
    },
    "procedures": {
        "save": lambda s: s.procedures.save(Procedure(external_id="p-1", title="t", steps=[], updated_at=T0)),
        "upsert_many": lambda s: s.procedures.upsert_many(
            [Procedure(external_id="p-2", title="t", steps=[], updated_at=T0)]
        ),
        "get": lambda s: s.procedures.get("p-1"),
        "list": lambda s: s.procedures.list(),
        "history": lambda s: s.procedures.history("p-1"),
        "find": lambda s: s.procedures.find("p-1"),
        "versions": lambda s: s.procedures.versions("p-1"),
        "count": lambda s: s.procedures.count(),
    },
    "agent_settings": {
        "current": lambda s: s.agent_settings.current(),
        "save": lambda s: s.agent_settings.save(FrontlineSettings(handover_team="changed")),
        "history": lambda s: s.agent_settings.history(),
        "find": lambda s: s.agent_settings.find(),
        "versions": lambda s: s.agent_settings.versions(),
    },
    "events": {
        "add_many": lambda s: s.events.add_many(
            [Event(name="x", occurred_at=T0, customer_external_id="cus-1")]
        ),
        "list": lambda s: s.events.list(name="x", start=T0, end=T0 + timedelta(1)),
        "count": lambda s: s.events.count(),
        "name_counts": lambda s: s.events.name_counts(),
    },
    "members": {
        "add": lambda s: s.members.add(email="new@x.example", name="n", role=Role.viewer),
        "find": lambda s: s.members.find("new@x.example"),
        "get": lambda s: s.members.get(1),
        "list": lambda s: s.members.list(),
        "set_role": lambda s: s.members.set_role(1, Role.editor),
        "issue_token": lambda s: s.members.issue_token(1),
        "revoke_tokens": lambda s: s.members.revoke_tokens(1),
    },
    "cohorts": {
        "save": lambda s: s.cohorts.save("frequent", CohortDefinition(plan="beta", min_conversations=2)),
        "find": lambda s: s.cohorts.find("frequent"),
        "get": lambda s: s.cohorts.get("frequent"),
        "list": lambda s: s.cohorts.list(),
        "matching_customers": lambda s: s.cohorts.matching_customers(
            CohortDefinition(attributes={"owner": "beta"})
        ),
        "conversation_counts": lambda s: s.cohorts.conversation_counts(
            start=T0 - timedelta(1), end=T0 + timedelta(1)
        ),
        "delete": lambda s: s.cohorts.delete("frequent"),
    },
    "proposals": {
        "next_id": lambda s: s.proposals.next_id(),
        "add": lambda s: s.proposals.add(PROPOSAL),
        "get": lambda s: s.proposals.get(1),
        "list": lambda s: s.proposals.list(state=ProposalState.open),
        "thread": lambda s: s.proposals.thread(1),
        "move": lambda s: s.proposals.move(1, expect=ProposalState.open, to=ProposalState.approved),
        "set_verdict": lambda s: s.proposals.set_verdict(1, "warn"),
        "count": lambda s: s.proposals.count(),
    },
    "reviews": {
        "save": lambda s: s.reviews.save(
            1,
            [
                Review(
                    reviewer="size",
                    verdict="warn",
                    duration_ms=1.0,
                    findings=[
                        Finding(reviewer="size", code="size.x", verdict="warn", item=None, message="m")
                    ],
                )
            ],
        ),
        "for_proposal": lambda s: s.reviews.for_proposal(1),
        "finding": lambda s: s.reviews.finding(1),
        "mark": lambda s: s.reviews.mark(1, actor="member:x", helpful=False),
        "code_feedback": lambda s: s.reviews.code_feedback("size.x"),
        "stats": lambda s: s.reviews.stats([]),
    },
    "policy": {
        "current": lambda s: s.policy.current(),
        "find": lambda s: s.policy.find(),
        "save": lambda s: s.policy.save(ReviewPolicy(max_items=3), by="member:x"),
        "versions": lambda s: s.policy.versions(),
    },
    "audit": {
        "head": lambda s: s.audit.head(),
        "append": lambda s: s.audit.append(
            kind="proposal.created", actor="member:x", at=T0, items=["article:kb-1"]
        ),
        "rows": lambda s: list(s.audit.rows()),
        "hash_at": lambda s: s.audit.hash_at(1),
        "list": lambda s: s.audit.list(kind="proposal.", actor="member:x", item="article:kb-1", since=T0),
        "count": lambda s: s.audit.count(),
    },
    "runs": {
        "add": lambda s: s.runs.add(RUN),
        "get": lambda s: s.runs.get(1),
        "list": lambda s: s.runs.list(limit=5, since=T0),
        "count": lambda s: s.runs.count(),
        "stats": lambda s: s.runs.stats(since=T0),
    },
    "stats": {
        "table_counts": lambda s: s.stats.table_counts(),
        "topic_counts": lambda s: s.stats.topic_counts(start=T0 - timedelta(1), end=T0 + timedelta(1)),
        "plans": lambda s: s.stats.plans(),
        "conversation_range": lambda s: s.stats.conversation_range(),
        "counts_by": lambda s: s.stats.counts_by("topic", limit=5),
        "ai_resolution_by_topic": lambda s: s.stats.ai_resolution_by_topic(["alpha", "beta"]),
        "article_states": lambda s: s.stats.article_states(),
    },
}


def test_every_repository_method_is_audited(
    two_workspaces: tuple[Services, WorkspaceScope, WorkspaceScope],
) -> None:
    _, a, _ = two_workspaces
    for name, battery in BATTERY.items():
        repository = getattr(a, name)
        public = {
            m for m, _ in inspect.getmembers(type(repository), inspect.isfunction) if not m.startswith("_")
        }
        assert public == set(battery), f"{name}: audit these methods too: {sorted(public - set(battery))}"


def test_every_statement_is_bound_to_the_scope_workspace(
    two_workspaces: tuple[Services, WorkspaceScope, WorkspaceScope],
) -> None:
    services, a, b = two_workspaces
    statements: list[tuple[str, Any]] = []

    def capture(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        statements.append((statement, parameters))

    sa.event.listen(services.engine, "before_cursor_execute", capture)
    try:
        for battery in BATTERY.values():
            for call in battery.values():
                call(b)
    finally:
        sa.event.remove(services.engine, "before_cursor_execute", capture)

    checked = 0
    for statement, parameters in statements:
        touched = {name for name in TENANT_TABLE_NAMES if re.search(rf"\b{name}\b", statement)}
        if not touched or statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
            continue
        checked += 1
        assert "workspace_id" in statement, statement
        values = _flatten(parameters)
        assert BETA_ID in values or str(BETA_ID) in statement, (statement, parameters)
        assert ALPHA_ID not in values and str(ALPHA_ID) not in statement, (statement, parameters)
    assert checked > 50

    # And after all those writes through beta, alpha is exactly as it was.
    assert a.conversations.get("conv-1").topic == "alpha"
    assert a.articles.count() == 1 and a.guidance.count() == 1 and a.events.count() == 1
    assert a.agent_settings.current().settings.handover_team == "alpha"  # type: ignore[union-attr]


def _flatten(parameters: Any) -> list[Any]:
    if isinstance(parameters, dict):
        return list(parameters.values())
    if isinstance(parameters, list | tuple):
        out: list[Any] = []
        for item in parameters:
            out.extend(_flatten(item) if isinstance(item, dict | list | tuple) else [item])
        return out
    return [parameters]
