"""Zendesk Support tickets with their comments, mapped to conversations.

Reads the API shape (``{"tickets": [...], "users": [...]}``, each ticket optionally
carrying ``"comments"``), a JSON array of tickets, or NDJSON from the incremental
export (one ticket, or one page of tickets, per line). docs/importing.md has the
field mapping as a table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from deskops.domain.models import AuthorKind, Conversation, Message, Outcome
from deskops.importers._checks import parse_timestamp, validate
from deskops.importers._errors import FILE, ImportFailed, Position, RecordError
from deskops.importers._source import RawRecords, json_lines, json_values, loads, no_records
from deskops.importers.generic import Format

AI_RESOLVED_TAG = "ai_resolved"
"""Ticket tag: the AI agent resolved the ticket (outcome ai_resolved once solved)."""
AI_ESCALATED_TAG = "ai_escalated"
"""Ticket tag: the AI agent handed the ticket to a person."""
AI_INVOLVED_TAG = "ai_involved"
"""Ticket tag: the AI agent took part, without saying how it ended."""
AI_TAGS = frozenset({AI_RESOLVED_TAG, AI_ESCALATED_TAG, AI_INVOLVED_TAG})
AI_AGENT_USER_TAG = "ai_agent"
"""User tag (side-loaded ``users``) marking the account the AI agent posts comments as."""

_OPEN = frozenset({"new", "open", "pending", "hold"})
_SOLVED = frozenset({"solved", "closed"})
# Time-based incremental exports list deleted tickets with this status.
_DELETED = "deleted"

# via.channel is the "ticket created by" name, a via type name or a numeric via id.
_CHANNELS: dict[str | int, str] = {
    "web": "web", "web_form": "web", 0: "web",
    "email": "email", "mail": "email", 4: "email",
    "api": "api", "web_service": "api", 5: "api",
    "chat": "chat", "native_messaging": "chat", 29: "chat",
    "voice": "voice", "voicemail": "voice", "phone_call_inbound": "voice", "phone_call_outbound": "voice",
    33: "voice", 34: "voice", 35: "voice",
}  # fmt: skip
_CSAT = {"good": 5, "bad": 1}


def parse_tickets(text: str, *, fmt: Format) -> list[Conversation]:
    """Conversations from a Zendesk ticket export; duplicates keep the newest ``updated_at``."""
    if fmt == "csv":
        raise ImportFailed([FILE.error("", "Zendesk exports are JSON: use a .json or .jsonl/.ndjson file")])
    if not text.strip():
        raise no_records(text)
    units, errors = _units(text, fmt)
    tickets, users, metric_sets = _unpack(units, errors)
    # Time-based incremental exports can list a ticket more than once: the newest copy wins,
    # and a deleted newest copy (None here) leaves the ticket out.
    newest: dict[str, tuple[datetime | None, Conversation | None]] = {}
    for position, prefix, ticket in tickets:
        reader = _TicketReader(position, prefix, users, metric_sets)
        ticket_id, conversation, updated_at = reader.conversation(ticket)
        errors += reader.errors
        if ticket_id is None or reader.errors:
            continue
        kept = newest.get(ticket_id)
        if kept is None or _not_older(updated_at, kept[0]):
            newest[ticket_id] = (updated_at, conversation)
    if errors:
        raise ImportFailed(sorted(errors, key=lambda e: (e.line or 0, e.record or 0)))
    conversations = [conversation for _, conversation in newest.values() if conversation is not None]
    if not conversations:
        raise no_records(text)
    return conversations


def _not_older(candidate: datetime | None, kept: datetime | None) -> bool:
    return kept is None or (candidate is not None and candidate >= kept)


Ticket = tuple[Position, str, Any]


def _units(text: str, fmt: Format) -> tuple[RawRecords, list[RecordError]]:
    """Pages (``{"tickets": [...]}``) or tickets; a whole-file page is split into records here."""
    if fmt == "json":
        try:
            document = loads(text)
        except (ValueError, RecursionError):
            pass  # NDJSON after all, or broken: json_values says which, and where
        else:
            if isinstance(document, dict) and isinstance(document.get("tickets"), list):
                # The side-loads stay on a page without tickets; the tickets become records.
                units: RawRecords = [(FILE, {**document, "tickets": []})]
                units += [(Position(record=i), t) for i, t in enumerate(document["tickets"], start=1)]
                return units, []
        return json_values(text)
    return json_lines(text)


def _unpack(
    units: RawRecords, errors: list[RecordError]
) -> tuple[list[Ticket], dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Tickets with their position and field prefix, plus the side-loaded users and metric sets."""
    tickets: list[Ticket] = []
    users: dict[str, dict[str, Any]] = {}
    metric_sets: dict[str, dict[str, Any]] = {}
    for position, unit in units:
        if not isinstance(unit, dict):
            errors.append(position.error("", "expected a ticket object"))
            continue
        if "tickets" not in unit:
            tickets.append((position, "", unit))
            continue
        if not isinstance(unit["tickets"], list):
            errors.append(position.error("tickets", "expected an array of tickets"))
            continue
        tickets += [(position, f"tickets[{i}]", ticket) for i, ticket in enumerate(unit["tickets"])]
        for user in _objects(unit.get("users")):
            users[_key(user.get("id"))] = user
        for metric_set in _objects(unit.get("metric_sets")):
            metric_sets[_key(metric_set.get("ticket_id"))] = metric_set
    return tickets, users, metric_sets


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _key(value: Any) -> str:
    return str(value) if value is not None else ""


class _TicketReader:
    """Maps one ticket, collecting errors under the ticket's Zendesk field names."""

    def __init__(
        self,
        position: Position,
        prefix: str,
        users: dict[str, dict[str, Any]],
        metric_sets: dict[str, dict[str, Any]],
    ) -> None:
        self.position, self.prefix = position, prefix
        self.users, self.metric_sets = users, metric_sets
        self.errors: list[RecordError] = []

    def error(self, field: str, message: str) -> None:
        path = f"{self.prefix}.{field}" if self.prefix and field else self.prefix or field
        self.errors.append(self.position.error(path, message))

    def conversation(self, ticket: Any) -> tuple[str | None, Conversation | None, datetime | None]:
        """Ticket id, the ticket as a conversation (None if invalid or deleted), ``updated_at``."""
        if not isinstance(ticket, dict):
            self.error("", "expected a ticket object")
            return None, None, None
        ticket_id = self.identifier(ticket, "id", required=True)
        created_at = self.timestamp(ticket, "created_at", required=True)
        updated_at = self.timestamp(ticket, "updated_at")
        status = ticket.get("status")
        if status == _DELETED:
            return ticket_id, None, updated_at
        if status is not None and status not in _OPEN | _SOLVED:
            self.error("status", f"unknown status {status!r}")
        requester_id = self.identifier(ticket, "requester_id")
        tags = ticket.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            self.error("tags", "expected an array of strings")
            tags = []
        metric_set = ticket.get("metric_set") or self.metric_sets.get(_key(ticket.get("id")))
        metric_set = metric_set if isinstance(metric_set, dict) else {}
        solved = status in _SOLVED
        # Everything that can be wrong is read before giving up, so one pass reports it all.
        messages = self.messages(ticket, requester_id, created_at)
        closed_at = (self.solved_at(metric_set) or updated_at) if solved else None
        channel = self.channel(ticket.get("via"))
        csat = self.csat(ticket.get("satisfaction_rating"))
        attributes = self.attributes(ticket)
        if self.errors or ticket_id is None or created_at is None:
            return ticket_id, None, updated_at

        replies = [m for m in messages if m.author_kind in (AuthorKind.ai_agent, AuthorKind.human_agent)]
        first_reply = next((m.created_at for m in replies if m.created_at >= created_at), None)
        ai_agent_seen = any(m.author_kind is AuthorKind.ai_agent for m in messages)
        requester = self.users.get(requester_id or "", {})
        fields: dict[str, Any] = {
            "external_id": ticket_id,
            "customer_external_id": requester_id,
            "created_at": created_at,
            "first_response_at": first_reply,
            "first_response_seconds": (first_reply - created_at).total_seconds() if first_reply else None,
            "closed_at": closed_at,
            "channel": channel,
            "language": requester.get("locale") if isinstance(requester.get("locale"), str) else None,
            "ai_involved": bool(AI_TAGS & set(tags)) or ai_agent_seen,
            "outcome": self.outcome(tags, solved),
            "escalated_at": self.escalated_at(tags, messages, created_at),
            "csat": csat,
            "reopen_count": metric_set.get("reopens") if isinstance(metric_set.get("reopens"), int) else 0,
            "team": _key(ticket.get("group_id")) or None,
            "tags": tags,
            "attributes": attributes,
            "messages": messages,
        }
        conversation, errors = validate(Conversation, fields, self.position, self.prefix)
        self.errors += errors
        return ticket_id, conversation, updated_at

    def identifier(self, obj: dict[str, Any], name: str, *, required: bool = False) -> str | None:
        value = obj.get(name)
        if value is None:
            if required:
                self.error(name, "required field is missing")
            return None
        if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
            self.error(name, f"expected an integer id, found {value!r}")
            return None
        return str(value)

    def timestamp(
        self, obj: dict[str, Any], name: str, *, required: bool = False, at: str = ""
    ) -> datetime | None:
        value = obj.get(name)
        if value is None:
            if required:
                self.error(at + name, "required field is missing")
            return None
        try:
            return parse_timestamp(value)
        except ValueError as exc:
            self.error(at + name, str(exc))
            return None

    def messages(
        self, ticket: dict[str, Any], requester_id: str | None, created_at: datetime | None
    ) -> list[Message]:
        comments = ticket.get("comments")
        if comments is None:
            # Without side-loaded comments the description is the requester's opening message.
            description = ticket.get("description")
            if isinstance(description, str) and description and created_at is not None:
                return [Message(author_kind=AuthorKind.customer, text=description, created_at=created_at)]
            return []
        if not isinstance(comments, list):
            self.error("comments", "expected an array of comments")
            return []
        messages = []
        for index, comment in enumerate(comments):
            at = f"comments[{index}]."
            if not isinstance(comment, dict):
                self.error(at.rstrip("."), "expected a comment object")
                continue
            if comment.get("public", True) is False:
                continue  # internal notes are not part of the conversation with the customer
            text = comment.get("plain_body", comment.get("body"))
            if not isinstance(text, str):
                self.error(at + "body", "expected the comment text in plain_body or body")
            created = self.timestamp(comment, "created_at", required=True, at=at)
            author_id = self.identifier(comment, "author_id")
            if isinstance(text, str) and created is not None:
                kind, name = self.author(author_id, requester_id)
                messages.append(Message(author_kind=kind, text=text, created_at=created, author_name=name))
        return sorted(messages, key=lambda m: m.created_at)

    def author(self, author_id: str | None, requester_id: str | None) -> tuple[AuthorKind, str | None]:
        user = self.users.get(author_id or "", {})
        name = user.get("name") if isinstance(user.get("name"), str) else None
        if author_id is None:
            return AuthorKind.system, name
        if author_id == requester_id:
            return AuthorKind.customer, name
        if AI_AGENT_USER_TAG in (user.get("tags") or []):
            return AuthorKind.ai_agent, name
        if user.get("role") == "end-user":
            return AuthorKind.customer, name
        return AuthorKind.human_agent, name

    def solved_at(self, metric_set: dict[str, Any]) -> datetime | None:
        if metric_set.get("solved_at") is None:
            return None
        return self.timestamp(metric_set, "solved_at", at="metric_set.")

    def channel(self, via: Any) -> str:
        raw = via.get("channel") if isinstance(via, dict) else None
        if raw is None:
            return "other"
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            self.error("via.channel", f"expected a channel name or via id, found {raw!r}")
            return "other"
        return _CHANNELS.get(raw, f"via_{raw}" if isinstance(raw, int) else raw)

    @staticmethod
    def outcome(tags: list[str], solved: bool) -> Outcome | None:
        if not solved:
            return None
        return Outcome.ai_resolved if AI_RESOLVED_TAG in tags else Outcome.human_resolved

    @staticmethod
    def escalated_at(tags: list[str], messages: list[Message], created_at: datetime) -> datetime | None:
        """First human reply after the AI agent spoke, on tickets tagged as escalated."""
        if AI_ESCALATED_TAG not in tags:
            return None
        ai_spoke = False
        for message in messages:
            ai_spoke = ai_spoke or message.author_kind is AuthorKind.ai_agent
            if (
                ai_spoke
                and message.author_kind is AuthorKind.human_agent
                and message.created_at >= created_at
            ):
                return message.created_at
        return None

    def csat(self, rating: Any) -> int | None:
        score = rating.get("score") if isinstance(rating, dict) else None
        if score is not None and not isinstance(score, str):
            self.error("satisfaction_rating.score", f"expected a string, found {score!r}")
            return None
        return _CSAT.get(score or "")

    def attributes(self, ticket: dict[str, Any]) -> dict[str, Any]:
        found = {
            name: ticket[name]
            for name in ("subject", "priority", "type", "status")
            if isinstance(ticket.get(name), str) and ticket[name]
        }
        custom_fields = ticket.get("custom_fields") or []
        if not isinstance(custom_fields, list):
            self.error("custom_fields", "expected an array of {id, value} objects")
            return found
        for index, field in enumerate(custom_fields):
            if not isinstance(field, dict) or field.get("id") is None:
                self.error(f"custom_fields[{index}]", "expected an object with id and value")
            elif field.get("value") not in (None, "", []):
                found[f"custom_field_{field['id']}"] = field["value"]
        return found
