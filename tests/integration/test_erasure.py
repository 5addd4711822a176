"""Erasing conversations: nothing of them stays in the database, and what comes after is unaffected.

An erased conversation's id is never handed out again (the search index reads "every
conversation after id N", so a new conversation given an erased id would never be indexed), and
the decision traces filed under it, which hold the customer's words, go with it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from deskops.bootstrap import Services
from deskops.domain.models import AuthorKind, Conversation, Message
from deskops.frontline.agent import Inquiry
from deskops.importers import import_file
from deskops.store import tables

T0 = datetime(2026, 10, 1, 9, tzinfo=UTC)
SECRET = "Zebulon Quixworth"


def _conversation(external_id: str, text: str, minutes: int = 0) -> Conversation:
    at = T0 + timedelta(minutes=minutes)
    return Conversation(
        external_id=external_id,
        created_at=at,
        channel="chat",
        topic="cards",
        messages=[Message(author_kind=AuthorKind.customer, text=text, created_at=at)],
    )


def _workspace(services: Services, count: int) -> None:
    with services.uow() as uow:
        scope = uow.workspace(uow.workspaces.create("acme"))
        scope.conversations.upsert_many(
            [_conversation(f"c-{i}", f"ordinary question number {i} about my card", i) for i in range(count)]
        )
        uow.commit()


def _import(services: Services, path: Path, external_id: str, text: str) -> None:
    """One conversation through the importer, as ``deskops import`` writes it."""
    at = (T0 + timedelta(hours=2)).isoformat()
    record = {
        "external_id": external_id,
        "created_at": at,
        "channel": "chat",
        "messages": [{"author_kind": "customer", "text": text, "created_at": at}],
    }
    path.write_text(json.dumps(record) + "\n")
    import_file(uow=services.uow(), workspace="acme", path=path, kind="conversations")


def _erase(services: Services, external_ids: list[str]) -> list[str]:
    with services.uow() as uow:
        erased = uow.workspace("acme").conversations.erase(external_ids)
        uow.commit()
    return erased


def _found(services: Services, query: str) -> list[str]:
    response = services.search.search("acme", query, k=5, filters={"kind": "conversation"})
    return [h.id for h in response.hits]


def test_a_conversation_imported_after_the_newest_was_erased_is_searchable(
    services: Services, tmp_path: Path
) -> None:
    _workspace(services, 5)
    assert len(_found(services, "card")) == 5  # the index now stands after the newest conversation
    assert _erase(services, ["c-4"]) == ["c-4"]
    assert "conversation:c-4" not in _found(services, "card")
    _import(services, tmp_path / "new.jsonl", "c-new", "blender warranty xylophone")
    assert _found(services, "blender warranty xylophone")[0] == "conversation:c-new"


def test_a_conversation_imported_after_all_were_erased_is_searchable(
    services: Services, tmp_path: Path
) -> None:
    _workspace(services, 3)
    assert len(_found(services, "card")) == 3
    assert _erase(services, ["c-0", "c-1", "c-2"]) == ["c-0", "c-1", "c-2"]
    assert _found(services, "card") == []
    _import(services, tmp_path / "new.jsonl", "c-9", "card lost abroad")
    assert _found(services, "card lost") == ["conversation:c-9"]


def test_erased_ids_are_never_handed_out_again(services: Services) -> None:
    _workspace(services, 3)
    with services.uow() as uow:
        scope = uow.workspace("acme")
        ids = {t.external_id: t.id for t in scope.conversations.customer_texts(after_id=0, limit=10)}
        before = scope.revisions.current().revision
    assert ids == {"c-0": 1, "c-1": 2, "c-2": 3}
    _erase(services, ["c-2"])
    _erase(services, ["c-1"])  # a lower id erased later leaves the highest where it was
    with services.uow() as uow:
        scope = uow.workspace("acme")
        scope.conversations.upsert_many([_conversation("c-2", "the same external id, a new record", 9)])
        uow.commit()
        (again,) = scope.conversations.customer_texts_of(["c-2"])
        assert again.id == 4 and scope.conversations.max_id() == 4
        # What keeps the highest erased id is no change a search index would act on.
        assert [(c.external_id, c.erased) for c in scope.conversations.changes_since(before)] == [
            ("c-2", True),
            ("c-1", True),
        ]


def test_nothing_of_an_erased_conversation_stays_in_any_table(services: Services) -> None:
    _workspace(services, 3)
    with services.uow() as uow:
        scope = uow.workspace("acme")
        scope.conversations.upsert_many(
            [
                Conversation(
                    external_id="c-secret",
                    created_at=T0,
                    channel="chat",
                    topic="cards",
                    tags=[f"vip {SECRET}"],
                    attributes={"note": f"asked by {SECRET}"},
                    messages=[
                        Message(
                            author_kind=AuthorKind.customer,
                            author_name=SECRET,
                            text=f"I am {SECRET} and my card was charged twice",
                            created_at=T0,
                        ),
                        Message(author_kind=AuthorKind.human_agent, text=f"Hello {SECRET}", created_at=T0),
                    ],
                )
            ]
        )
        uow.commit()
    # The front-line agent's traces of the conversation hold the customer's words too, and so does
    # the trace of a live conversation that was never imported.
    for external_id in ("c-secret", "c-live"):
        services.frontline.reply(
            "acme",
            Inquiry(
                message=f"I am {SECRET}, my card was charged twice",
                conversation_external_id=external_id,
                message_index=0,
            ),
        )
    assert _rows_holding(services, SECRET) >= {"conversations", "messages", "decision_traces"}

    erased = _erase(services, ["c-secret", "c-live", "c-never"])

    assert _rows_holding(services, SECRET) == set()
    assert erased == ["c-live", "c-secret"]
    with services.uow() as uow:
        scope = uow.workspace("acme")
        assert scope.traces.for_conversation("c-secret") == [] and scope.conversations.count() == 3


def _rows_holding(services: Services, text: str) -> set[str]:
    """The tenant tables with a text or JSON value that contains ``text``."""
    holding = set()
    with services.engine.connect() as connection:
        for table in tables.TENANT_TABLES:
            textual = [c for c in table.c if not isinstance(c.type, sa.Integer | sa.Float | sa.Boolean)]
            if not textual:
                continue
            for row in connection.execute(sa.select(*textual)):
                if any(text in _as_text(value) for value in row):
                    holding.add(table.name)
    return holding


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
