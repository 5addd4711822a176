"""Mapping Zendesk ticket exports to conversations (no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskops.domain.models import AuthorKind, Conversation, Outcome
from deskops.importers import ZENDESK, ImportFailed, parse_file
from deskops.importers.generic import Format
from deskops.importers.zendesk import _CHANNELS, AI_AGENT_USER_TAG, AI_TAGS, parse_tickets

DATA = Path(__file__).resolve().parents[1] / "data" / "import"


def _ticket(**overrides: Any) -> dict[str, Any]:
    ticket: dict[str, Any] = {
        "id": 1,
        "status": "open",
        "requester_id": 10,
        "tags": [],
        "via": {"channel": "web"},
        "created_at": "2024-04-01T08:00:00Z",
        "updated_at": "2024-04-01T09:00:00Z",
        "comments": [
            {"id": 1, "author_id": 10, "body": "help", "public": True, "created_at": "2024-04-01T08:00:00Z"},
            {"id": 2, "author_id": 99, "body": "on it", "public": True, "created_at": "2024-04-01T08:30:00Z"},
        ],
    }
    ticket.update(overrides)
    return ticket


def _ndjson(*tickets: dict[str, Any]) -> str:
    return "\n".join(json.dumps(t) for t in tickets) + "\n"


def _one(**overrides: Any) -> Conversation:
    [conversation] = parse_tickets(_ndjson(_ticket(**overrides)), fmt="jsonl")
    return conversation


@pytest.fixture(scope="module")
def api_export() -> dict[str, Conversation]:
    tickets = parse_file(path=DATA / "zendesk_tickets.json", kind="conversations", importer=ZENDESK)
    return {c.external_id: c for c in tickets}


def test_api_export_maps_every_ticket(api_export: dict[str, Conversation]) -> None:
    assert sorted(api_export) == ["35436", "35437", "35438", "35439", "35440"]
    refund = api_export["35436"]
    assert refund.customer_external_id == "20978392"
    assert refund.channel == "email"
    assert refund.outcome is Outcome.human_resolved
    assert refund.closed_at == datetime(2024, 3, 4, 15, 40, 2, tzinfo=UTC)  # updated_at of a solved ticket
    assert refund.csat == 5
    assert refund.team == "98738"
    assert refund.language == "es"  # the side-loaded requester's locale
    assert refund.ai_involved is False
    assert refund.attributes == {
        "subject": "Refund for duplicate charge",
        "priority": "normal",
        "type": "question",
        "status": "solved",
        "custom_field_27642": "billing",
    }


def test_internal_notes_are_left_out_and_first_public_agent_reply_is_first_response(
    api_export: dict[str, Conversation],
) -> None:
    refund = api_export["35436"]
    assert [(m.author_kind, m.author_name) for m in refund.messages] == [
        (AuthorKind.customer, "Maria Lopez"),
        (AuthorKind.human_agent, "Priya Natarajan"),
        (AuthorKind.customer, "Maria Lopez"),
    ]
    assert all("finance" not in m.text for m in refund.messages)
    assert refund.first_response_at == datetime(2024, 3, 4, 10, 5, 30, tzinfo=UTC)
    assert refund.first_response_seconds == 3165.0


def test_ai_escalation_uses_tags_and_the_ai_agent_user(api_export: dict[str, Conversation]) -> None:
    login = api_export["35437"]
    assert login.ai_involved is True
    assert login.outcome is None  # still open
    assert [m.author_kind for m in login.messages] == [
        AuthorKind.customer,
        AuthorKind.ai_agent,
        AuthorKind.customer,
        AuthorKind.human_agent,
    ]
    assert login.first_response_seconds == 20.0
    assert login.escalated_at == datetime(2024, 3, 5, 11, 15, tzinfo=UTC)
    assert login.csat is None  # "offered" is not a rating


def test_ai_resolved_closed_ticket_prefers_metric_set_solved_at(api_export: dict[str, Conversation]) -> None:
    invoices = api_export["35438"]
    assert invoices.outcome is Outcome.ai_resolved
    assert invoices.closed_at == datetime(2024, 3, 6, 7, 35, tzinfo=UTC)
    assert invoices.team is None
    assert invoices.created_at == datetime(2024, 3, 6, 7, 30, tzinfo=UTC)


def test_bad_rating_list_custom_fields_and_description_fallback(api_export: dict[str, Conversation]) -> None:
    webhooks = api_export["35439"]
    assert webhooks.csat == 1
    assert webhooks.channel == "api"
    assert webhooks.attributes["custom_field_27650"] == ["sev1", "customer_impact"]
    callback = api_export["35440"]
    assert callback.channel == "voice"
    assert callback.outcome is None and callback.closed_at is None
    assert [(m.author_kind, m.text) for m in callback.messages] == [
        (AuthorKind.customer, "Voicemail: please call me back about my contract renewal.")
    ]


def test_incremental_ndjson_keeps_the_newest_copy_and_skips_deleted() -> None:
    tickets = parse_file(path=DATA / "zendesk_incremental.ndjson", kind="conversations", importer=ZENDESK)
    [damaged] = tickets
    assert damaged.external_id == "501"
    assert damaged.outcome is Outcome.human_resolved
    assert len(damaged.messages) == 4
    assert damaged.csat == 5
    assert damaged.attributes["custom_field_360001"] == "replacement"


def test_a_newer_deleted_copy_removes_the_ticket() -> None:
    text = _ndjson(
        _ticket(id=1),
        _ticket(id=2),
        _ticket(id=1, status="deleted", updated_at="2024-04-03T00:00:00Z"),
    )
    assert [c.external_id for c in parse_tickets(text, fmt="jsonl")] == ["2"]
    older_first = _ndjson(_ticket(id=1, status="solved", updated_at="2024-04-05T00:00:00Z"), _ticket(id=1))
    assert parse_tickets(older_first, fmt="jsonl")[0].outcome is Outcome.human_resolved


def test_pages_per_line_and_via_ids() -> None:
    page = {"tickets": [_ticket(id=7, via={"channel": 34}), _ticket(id=8, via={"channel": "twitter"})]}
    by_id = {c.external_id: c for c in parse_tickets(json.dumps(page) + "\n", fmt="jsonl")}
    assert by_id["7"].channel == "voice"
    assert by_id["8"].channel == "twitter"
    assert _one(via={"channel": 77}).channel == "via_77"
    assert _one(via=None).channel == "other"


def test_without_side_loaded_users_everyone_but_the_requester_is_a_human_agent() -> None:
    conversation = _one(tags=["ai_involved"])
    assert [m.author_kind for m in conversation.messages] == [AuthorKind.customer, AuthorKind.human_agent]
    assert conversation.ai_involved is True
    assert conversation.escalated_at is None


def test_errors_name_the_zendesk_field_and_position() -> None:
    comments = _ticket()["comments"]
    comments[1]["created_at"] = "2024-04-01 08:30"
    page = {
        "tickets": [
            _ticket(id=1),
            _ticket(id=2, created_at=None),
            _ticket(id=3, comments=comments, status="archived"),
            _ticket(id=4, satisfaction_rating={"score": 5}, tags="vip"),
        ]
    }
    with pytest.raises(ImportFailed) as raised:
        parse_tickets(json.dumps(page, indent=2), fmt="json")
    found = {(e.record, e.line, e.field) for e in raised.value.errors}
    assert found == {
        (2, None, "created_at"),
        (3, None, "comments[1].created_at"),
        (3, None, "status"),
        (4, None, "satisfaction_rating.score"),
        (4, None, "tags"),
    }
    with pytest.raises(ImportFailed) as raised:
        parse_tickets(json.dumps(page) + "\n", fmt="jsonl")
    assert {(e.line, e.field) for e in raised.value.errors} >= {(1, "tickets[1].created_at")}


def test_a_reply_before_the_ticket_was_created_is_reported() -> None:
    with pytest.raises(ImportFailed) as raised:
        parse_tickets(_ndjson(_ticket(status="solved", updated_at="2024-03-01T00:00:00Z")), fmt="jsonl")
    [error] = raised.value.errors
    assert (error.line, error.message) == (1, "closed_at is before created_at")


def test_mapped_field_errors_inside_a_page_line_keep_the_ticket_index() -> None:
    page = {"tickets": [_ticket(id=1), _ticket(id=2, via={"channel": "x" * 40}), "oops"]}
    with pytest.raises(ImportFailed) as raised:
        parse_tickets(json.dumps(page), fmt="jsonl")
    assert [(e.line, e.field, e.message) for e in raised.value.errors] == [
        (1, "tickets[1].channel", "longer than 32 characters (40)"),
        (1, "tickets[2]", "expected a ticket object"),
    ]


def test_csv_and_empty_files_are_refused() -> None:
    with pytest.raises(ImportFailed, match="Zendesk exports are JSON"):
        parse_tickets("id\n1\n", fmt="csv")
    with pytest.raises(ImportFailed, match="file is empty"):
        parse_tickets("\n", fmt="json")


_statuses = st.sampled_from(["new", "open", "pending", "hold", "solved", "closed"])
_scores = st.sampled_from(["good", "bad", "offered", "unoffered", None])
_tags = st.lists(st.sampled_from(sorted(AI_TAGS | {"billing", "vip"})), unique=True, max_size=4)


@given(status=_statuses, score=_scores, tags=_tags, minutes=st.integers(0, 10_000))
def test_mapping_follows_the_documented_table(
    status: str, score: str | None, tags: list[str], minutes: int
) -> None:
    created = datetime(2024, 4, 1, 8, tzinfo=UTC)
    updated = created + timedelta(minutes=minutes)
    conversation = _one(
        status=status,
        tags=tags,
        satisfaction_rating={"score": score} if score else None,
        updated_at=updated.isoformat(),
    )
    solved = status in {"solved", "closed"}
    expected_outcome = (
        (Outcome.ai_resolved if "ai_resolved" in tags else Outcome.human_resolved) if solved else None
    )
    assert conversation.outcome is expected_outcome
    assert conversation.closed_at == (updated if solved else None)
    assert conversation.csat == {"good": 5, "bad": 1}.get(score or "")
    assert conversation.ai_involved is bool(AI_TAGS & set(tags))
    assert conversation.first_response_seconds == 1800.0


@given(
    st.lists(
        st.text(max_size=80) | st.builds(json.dumps, st.dictionaries(st.text(max_size=5), st.integers())),
        max_size=5,
    )
)
def test_garbage_never_escapes_as_anything_but_import_failed(lines: list[str]) -> None:
    text = "\n".join(lines)
    formats: tuple[Format, ...] = ("jsonl", "json")
    for fmt in formats:
        try:
            parse_tickets(text, fmt=fmt)
        except ImportFailed as failed:
            assert all(e.message for e in failed.errors)
            assert all(
                e.line is not None
                or e.record is not None
                or e.message in {"file is empty", "no records in file"}
                for e in failed.errors
            )


def test_the_mapping_table_names_every_channel_and_marker() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "importing.md").read_text(encoding="utf-8")
    mapping = docs.split("## Zendesk tickets", 1)[1]
    for via in _CHANNELS:
        assert (f"`{via}`" if isinstance(via, str) else str(via)) in mapping, via
    for tag in [*AI_TAGS, AI_AGENT_USER_TAG]:
        assert f"`{tag}`" in mapping, tag
