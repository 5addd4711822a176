"""The store on SQLite and PostgreSQL: schema, repositories, versioning, atomicity."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from deskops.bootstrap import Services
from deskops.domain.models import (
    Article,
    AuthorKind,
    ContentState,
    Conversation,
    Customer,
    Event,
    FrontlineSettings,
    GuidanceRule,
    Message,
    Outcome,
    Procedure,
    ProcedureStep,
    Role,
    RuleCondition,
)
from deskops.errors import Conflict
from deskops.store import tables
from deskops.store.engine import head_revision, schema_revision
from deskops.store.repositories import NotFound, UnknownWorkspace, UpsertCounts

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def conversation(external_id: str, *, text: str = "my card never arrived", **fields: object) -> Conversation:
    base: dict[str, object] = {
        "external_id": external_id,
        "customer_external_id": "cus-1",
        "created_at": T0,
        "first_response_at": T0 + timedelta(seconds=5),
        "closed_at": T0 + timedelta(minutes=7),
        "channel": "chat",
        "topic": "card_delivery",
        "ai_involved": True,
        "outcome": Outcome.ai_resolved,
        "first_response_seconds": 5.0,
        "handling_seconds": 420.0,
        "csat": 5,
        "tags": ["cards"],
        "attributes": {"app_version": "5.2.1"},
        "messages": [
            Message(author_kind=AuthorKind.customer, text=text, created_at=T0),
            Message(
                author_kind=AuthorKind.ai_agent,
                text="Here is how to track it.",
                created_at=T0 + timedelta(seconds=5),
                cited_article_ids=["kb-1"],
            ),
        ],
    }
    base.update(fields)
    return Conversation.model_validate(base)


def test_migrated_schema_matches_the_table_definitions(services: Services) -> None:
    with services.engine.connect() as connection:
        assert schema_revision(connection) == head_revision()
        assert compare_metadata(MigrationContext.configure(connection), tables.metadata) == []


def test_workspaces_are_created_found_and_deleted(services: Services) -> None:
    with services.uow() as uow:
        uow.workspaces.create("acme", time_zone="Europe/Berlin")
        uow.commit()
        assert uow.workspaces.get("acme").time_zone == "Europe/Berlin"
        with pytest.raises(Conflict, match="already exists"):
            uow.workspaces.create("acme")
        with pytest.raises(ValueError, match="unknown time zone"):
            uow.workspaces.create("other", time_zone="Mars/Olympus")
        with pytest.raises(ValueError, match="invalid workspace name"):
            uow.workspaces.create("Has Spaces")
        with pytest.raises(UnknownWorkspace, match=r"^unknown workspace 'nope'$"):  # no other names
            uow.workspace("nope")
        uow.workspaces.delete("acme")
        uow.commit()
        assert uow.workspaces.list() == []


def test_leaving_without_commit_writes_nothing(services: Services) -> None:
    with services.uow() as uow:
        uow.workspaces.create("acme")
        uow.commit()
    with services.uow() as uow:
        uow.workspace("acme").conversations.upsert_many([conversation("c-1")])
        # no commit
    with services.uow() as uow:
        assert uow.workspace("acme").conversations.count() == 0
        assert uow.workspace("acme").customers.count() == 0


def test_conversation_upsert_is_idempotent_and_detects_changes(services: Services) -> None:
    with services.uow() as uow:
        scope = uow.workspace(uow.workspaces.create("acme"))
        assert scope.conversations.upsert_many([conversation("c-1"), conversation("c-2")]) == UpsertCounts(
            2, 0, 0
        )
        assert scope.conversations.upsert_many([conversation("c-1"), conversation("c-2")]) == UpsertCounts(
            0, 0, 2
        )
        # A changed field and a changed message each count as one update.
        changed = [conversation("c-1", csat=2), conversation("c-2", text="card still missing")]
        assert scope.conversations.upsert_many(changed) == UpsertCounts(0, 2, 0)
        uow.commit()
        stored = scope.conversations.get("c-2")
        assert [m.text for m in stored.messages] == ["card still missing", "Here is how to track it."]
        assert stored.messages[1].cited_article_ids == ["kb-1"]
        assert stored.created_at == T0 and stored.created_at.tzinfo is not None
        assert scope.conversations.get("c-1").csat == 2
        assert scope.conversations.count_messages() == 4
        assert scope.customers.get("cus-1").plan is None  # created bare for the reference
        with pytest.raises(NotFound):
            scope.conversations.get("missing")


def test_customers_keep_custom_attributes(services: Services) -> None:
    with services.uow() as uow:
        scope = uow.workspace(uow.workspaces.create("acme"))
        customer = Customer(
            external_id="cus-9",
            plan="Growth",
            region="EU",
            company_size="11-50",
            signup_date=T0.date(),
            attributes={"industry": "retail", "mrr_usd": 49.0, "tags": ["a"]},
        )
        assert scope.customers.upsert_many([customer]) == UpsertCounts(1, 0, 0)
        assert scope.customers.upsert_many([customer]) == UpsertCounts(0, 0, 1)
        assert scope.customers.get("cus-9") == customer


def test_articles_rules_procedures_and_settings_keep_every_version(services: Services) -> None:
    with services.uow() as uow:
        scope = uow.workspace(uow.workspaces.create("acme"))
        article = Article(
            external_id="kb-1",
            title="Tracking your card",
            body="Cards arrive in 5 days.",
            product_area="cards",
            created_at=T0,
            updated_at=T0,
        )
        assert scope.articles.save(article) == (1, True)
        assert scope.articles.save(article) == (1, False)
        later = article.model_copy(
            update={"body": "Cards arrive in 3 days.", "updated_at": T0 + timedelta(days=9)}
        )
        assert scope.articles.save(later) == (2, True)
        archived = later.model_copy(
            update={"state": ContentState.archived, "updated_at": T0 + timedelta(days=20)}
        )
        scope.articles.save(archived)
        history = scope.articles.history("kb-1")
        assert [(v.version, v.body, v.state) for v in history] == [
            (1, "Cards arrive in 5 days.", ContentState.published),
            (2, "Cards arrive in 3 days.", ContentState.published),
            (3, "Cards arrive in 3 days.", ContentState.archived),
        ]
        assert scope.articles.get("kb-1").version == 3
        assert scope.articles.list(state="published") == []

        rule = GuidanceRule(
            external_id="gr-1",
            title="Legal",
            body="Hand over legal threats.",
            kind="handover",
            condition={"keywords": ["lawyer"]},
            updated_at=T0,
        )
        scope.guidance.save(rule)
        scope.guidance.save(
            rule.model_copy(
                update={"condition": RuleCondition(plan="Starter"), "updated_at": T0 + timedelta(1)}
            )
        )
        assert [r.condition.model_dump() for r in scope.guidance.history("gr-1")] == [
            {"keywords": ["lawyer"]},
            {"plan": "Starter"},
        ]

        procedure = Procedure(
            external_id="p-1",
            title="Refund",
            steps=[ProcedureStep(instruction="Ask for the invoice", requires=["invoice_number"])],
            required_data=["invoice_number"],
            updated_at=T0,
        )
        scope.procedures.save(procedure)
        assert scope.procedures.get("p-1").steps[0].requires == ["invoice_number"]

        first = scope.agent_settings.save(FrontlineSettings(confidence_threshold=0.6), at=T0)
        same = scope.agent_settings.save(FrontlineSettings(confidence_threshold=0.6), at=T0 + timedelta(1))
        second = scope.agent_settings.save(FrontlineSettings(confidence_threshold=0.5), at=T0 + timedelta(2))
        assert (first.version, same.version, second.version) == (1, 1, 2)
        assert scope.agent_settings.current() == second
        # Stored as written: a key left at its default is not stored, so defaults can change later.
        stored = (
            uow.connection.exec_driver_sql("select settings from agent_settings_versions").scalars().all()
        )
        assert [json.loads(s) if isinstance(s, str) else s for s in stored] == [
            {"confidence_threshold": 0.6},
            {"confidence_threshold": 0.5},
        ]


def test_events_link_to_customers(services: Services) -> None:
    with services.uow() as uow:
        scope = uow.workspace(uow.workspaces.create("acme"))
        scope.events.add_many(
            [
                Event(
                    name="payout_sent",
                    occurred_at=T0,
                    customer_external_id="cus-1",
                    properties={"amount_usd": 10.5},
                ),
                Event(name="login", occurred_at=T0 + timedelta(hours=1)),
            ]
        )
        assert scope.events.count() == 2
        payouts = scope.events.list(name="payout_sent")
        assert [(e.customer_external_id, e.properties) for e in payouts] == [("cus-1", {"amount_usd": 10.5})]


def test_api_tokens_are_stored_hashed_and_resolve_to_their_member(services: Services) -> None:
    with services.uow() as uow:
        scope = uow.workspace(uow.workspaces.create("acme"))
        member = scope.members.add(email="Ana@Example.com", name="Ana", role=Role.editor)
        token = scope.members.issue_token(member.id)
        uow.commit()
        stored = uow.connection.execute(sa.select(tables.api_tokens)).one()
        assert token not in str(tuple(stored)) and stored.token_hash != token
        workspace, resolved = uow.workspaces.resolve_token(token)  # type: ignore[misc]
        assert (workspace.name, resolved.email, resolved.role) == ("acme", "ana@example.com", Role.editor)
        assert uow.workspaces.resolve_token(token + "x") is None
        assert scope.members.revoke_tokens(member.id) == 1
        assert uow.workspaces.resolve_token(token) is None
        with pytest.raises(Conflict, match="already a member"):
            scope.members.add(email="ana@example.com", name="Ana", role=Role.viewer)
        assert Role.admin.allows(Role.editor) and not Role.viewer.allows(Role.editor)
