"""Conversations and their messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from deskops.domain.models import Conversation, Message
from deskops.errors import InvalidInput
from deskops.store import tables as t
from deskops.store.repositories._base import (
    BATCH,
    NotFound,
    UpsertByExternalId,
    UpsertCounts,
    _row_dict,
    batched,
)
from deskops.store.repositories.customers import CustomerRepository
from deskops.store.repositories.revisions import RevisionRepository

_MESSAGE_FIELDS = ("author_kind", "author_name", "text", "created_at", "cited_article_ids")


@dataclass(frozen=True)
class CustomerText:
    """What the customer wrote in one conversation, for indexing."""

    id: int
    external_id: str
    created_at: datetime
    topic: str | None
    product_area: str | None
    language: str | None
    text: str
    """The customer's messages joined by newlines."""


@dataclass(frozen=True)
class ConversationChange:
    """A conversation rewritten or erased after it was first written."""

    external_id: str
    revision: int
    """The data revision of the change."""
    erased: bool


@dataclass(frozen=True)
class Opening:
    """A conversation's first customer message, with what the front-line agent may know around it."""

    external_id: str
    created_at: datetime
    topic: str | None
    channel: str
    ai_involved: bool
    outcome: str | None
    plan: str | None
    region: str | None
    text: str
    reopen_count: int = 0


SEGMENT_CONVERSATION_COLUMNS = ("channel", "topic", "product_area", "language", "team", "outcome")
SEGMENT_CUSTOMER_COLUMNS = ("plan", "region", "company_size")


@dataclass(frozen=True)
class HandledBy:
    """A conversation a named human agent replied in, and how it ended."""

    agent: str
    external_id: str
    outcome: str | None
    csat: int | None
    handling_seconds: float | None
    reopen_count: int
    team: str | None


class ConversationRepository(UpsertByExternalId):
    def upsert_many(self, conversations: Sequence[Conversation]) -> UpsertCounts:
        """Insert new conversations, update changed ones (messages replaced), skip identical ones."""
        self._lock_for_writes(t.conversations)  # before reading which of them exist
        customer_ids = CustomerRepository(self._conn, self.workspace_id).ensure(
            c.customer_external_id for c in conversations if c.customer_external_id
        )
        rows = []
        for conversation in conversations:
            row = conversation.model_dump(mode="python", exclude={"messages", "customer_external_id"})
            row["outcome"] = conversation.outcome.value if conversation.outcome else None
            row["customer_id"] = customer_ids.get(conversation.customer_external_id or "")
            rows.append(row)
        existing = set(self._ids_by_external_id(t.conversations, [c.external_id for c in conversations]))
        counts, ids, changed = self._upsert_rows(t.conversations, rows)

        # A conversation whose row is unchanged may still have new or edited messages.
        unchanged = [c for c in conversations if c.external_id not in changed]
        stored = self._messages_by_conversation([ids[c.external_id] for c in unchanged])
        for conversation in unchanged:
            if stored.get(ids[conversation.external_id], []) != _message_tuples(conversation.messages):
                changed.add(conversation.external_id)
                counts.unchanged -= 1
                counts.updated += 1

        if counts.inserted or counts.updated:  # message-only edits count too (citations change)
            revision = RevisionRepository(self._conn, self.workspace_id).bump(rewrite=bool(counts.updated))
            # What was written before and changed now: a search index must read its text again.
            self._record_changes(sorted(changed & existing), revision.revision, erased=False)
        rewrite = [ids[c.external_id] for c in conversations if c.external_id in changed]
        for chunk in batched(rewrite, BATCH):
            self._conn.execute(
                sa.delete(t.messages).where(self._where(t.messages), t.messages.c.conversation_id.in_(chunk))
            )
        message_rows = [
            {
                "workspace_id": self.workspace_id,
                "conversation_id": ids[c.external_id],
                "seq": seq,
                **m.model_dump(mode="python"),
                "author_kind": m.author_kind.value,
            }
            for c in conversations
            if c.external_id in changed
            for seq, m in enumerate(c.messages)
        ]
        if message_rows:
            self._conn.execute(sa.insert(t.messages), message_rows)
        return counts

    def erase(self, external_ids: Sequence[str]) -> list[str]:
        """Delete conversations for good (a customer's erasure request): their messages and the
        front-line agent's decision traces filed under them go too, since those hold the customer's
        words (a trace is erased even when its conversation was never imported).

        Returns the external ids of which anything existed and is gone. The search index and the
        analytics snapshot drop them on their next use.
        """
        self._lock_for_writes(t.conversations)  # the highest erased id must not race an insert
        found = self._ids_by_external_id(t.conversations, external_ids)
        traced = self._erase_traces(external_ids)
        if not found:
            return sorted(traced)
        ids = sorted(found.values())
        for chunk in batched(ids, BATCH):
            self._conn.execute(
                sa.delete(t.messages).where(self._where(t.messages), t.messages.c.conversation_id.in_(chunk))
            )
            self._conn.execute(
                sa.delete(t.conversations).where(
                    self._where(t.conversations), t.conversations.c.id.in_(chunk)
                )
            )
        self._raise_highest_deleted_id(ids[-1])
        revision = RevisionRepository(self._conn, self.workspace_id).bump(rewrite=True)
        self._record_changes(sorted(found), revision.revision, erased=True)
        return sorted(set(found) | traced)

    def _erase_traces(self, external_ids: Sequence[str]) -> set[str]:
        """Delete the decision traces of these conversations; returns the external ids that had any."""
        tr = t.decision_traces
        traced: set[str] = set()
        for chunk in batched(sorted(set(external_ids)), BATCH):
            traced.update(
                self._conn.execute(
                    sa.select(tr.c.conversation_external_id)
                    .distinct()
                    .where(self._where(tr), tr.c.conversation_external_id.in_(chunk))
                ).scalars()
            )
            self._conn.execute(sa.delete(tr).where(self._where(tr), tr.c.conversation_external_id.in_(chunk)))
        return traced

    # Ids of erased conversations are never handed out again: the search index reads "every
    # conversation after id N", and a new conversation given an erased id at or below N would never
    # be indexed. Deleting the newest conversations lowers max(id), so the highest id ever erased is
    # kept, until the schema has a column for it, as one row of conversation_changes that no change
    # can be mistaken for: an empty external id (a conversation's has at least one character) and
    # minus that id as its revision (readers ask for revisions after a revision >= 0).
    _HIGHEST_ERASED = ""

    def _highest_deleted_id(self, table: sa.Table) -> int:
        if table is not t.conversations:
            return 0
        cc = t.conversation_changes
        lowest = self._conn.execute(
            sa.select(sa.func.min(cc.c.revision)).where(
                self._where(cc), cc.c.external_id == self._HIGHEST_ERASED
            )
        ).scalar_one()
        return -int(lowest) if lowest is not None else 0

    def _raise_highest_deleted_id(self, erased_id: int) -> None:
        """Remember ``erased_id`` if it is the highest conversation id erased so far."""
        highest = self._highest_deleted_id(t.conversations)
        if erased_id <= highest:
            return
        cc = t.conversation_changes
        self._conn.execute(sa.delete(cc).where(self._where(cc), cc.c.external_id == self._HIGHEST_ERASED))
        self._conn.execute(
            sa.insert(cc).values(
                workspace_id=self.workspace_id,
                revision=-erased_id,
                external_id=self._HIGHEST_ERASED,
                erased=True,
            )
        )

    def _record_changes(self, external_ids: Sequence[str], revision: int, *, erased: bool) -> None:
        if external_ids:
            self._conn.execute(
                sa.insert(t.conversation_changes),
                [
                    {
                        "workspace_id": self.workspace_id,
                        "revision": revision,
                        "external_id": e,
                        "erased": erased,
                    }
                    for e in external_ids
                ],
            )

    def changes_since(self, revision: int) -> list[ConversationChange]:
        """Conversations changed or erased after ``revision``: the latest change of each, oldest first."""
        cc = t.conversation_changes
        rows = self._conn.execute(
            sa.select(cc.c.external_id, cc.c.revision, cc.c.erased)
            .where(self._where(cc), cc.c.revision > revision, cc.c.external_id != self._HIGHEST_ERASED)
            .order_by(cc.c.revision)
        )
        latest = {
            external_id: ConversationChange(external_id, rev, erased) for external_id, rev, erased in rows
        }
        return sorted(latest.values(), key=lambda c: (c.revision, c.external_id))

    def customer_texts_of(self, external_ids: Sequence[str]) -> list[CustomerText]:
        """What customers wrote in the given conversations (those that exist), for indexing."""
        c, m = t.conversations, t.messages
        rows: list[Any] = []
        for chunk in batched(sorted(set(external_ids)), BATCH):
            rows += self._conn.execute(
                sa.select(c.c.id, c.c.external_id, c.c.created_at, c.c.topic, c.c.product_area, c.c.language)
                .where(self._where(c), c.c.external_id.in_(chunk))
                .order_by(c.c.id)
            ).all()
        texts: dict[int, list[str]] = {}
        for chunk in batched([r.id for r in rows], BATCH):
            for conversation_id, text in self._conn.execute(
                sa.select(m.c.conversation_id, m.c.text)
                .where(self._where(m), m.c.conversation_id.in_(chunk), m.c.author_kind == "customer")
                .order_by(m.c.conversation_id, m.c.seq)
            ):
                texts.setdefault(conversation_id, []).append(text)
        return [CustomerText(**row._mapping, text="\n".join(texts.get(row.id, []))) for row in rows]

    def _messages_by_conversation(self, conversation_ids: Sequence[int]) -> dict[int, list[tuple[Any, ...]]]:
        found: dict[int, list[tuple[Any, ...]]] = {}
        for chunk in batched(sorted(conversation_ids), BATCH):
            rows = self._conn.execute(
                sa.select(t.messages)
                .where(self._where(t.messages), t.messages.c.conversation_id.in_(chunk))
                .order_by(t.messages.c.conversation_id, t.messages.c.seq)
            )
            for row in rows:
                found.setdefault(row.conversation_id, []).append(
                    tuple(getattr(row, f) for f in _MESSAGE_FIELDS)
                )
        return found

    def get(self, external_id: str) -> Conversation:
        """One conversation with its messages."""
        c, cu = t.conversations, t.customers
        row = self._conn.execute(
            sa.select(c, cu.c.external_id.label("customer_external_id"))
            .join_from(
                c,
                cu,
                sa.and_(cu.c.workspace_id == c.c.workspace_id, cu.c.id == c.c.customer_id),
                isouter=True,
            )
            .where(self._where(c), c.c.external_id == external_id)
        ).first()
        if row is None:
            raise NotFound(f"no conversation {external_id!r} in this workspace")
        messages = self._conn.execute(
            sa.select(t.messages)
            .where(self._where(t.messages), t.messages.c.conversation_id == row.id)
            .order_by(t.messages.c.seq)
        )
        fields = _row_dict(row, drop=("workspace_id", "id", "customer_id"))
        fields["messages"] = [
            Message(**_row_dict(m, drop=("workspace_id", "conversation_id", "seq"))) for m in messages
        ]
        return Conversation(**fields)

    def list_external_ids(
        self, *, start: datetime | None = None, end: datetime | None = None, limit: int = 100
    ) -> list[str]:
        """External ids of conversations created in [start, end), oldest first."""
        c = t.conversations
        query = sa.select(c.c.external_id).where(self._where(c))
        if start is not None:
            query = query.where(c.c.created_at >= start)
        if end is not None:
            query = query.where(c.c.created_at < end)
        return list(self._conn.execute(query.order_by(c.c.created_at, c.c.id).limit(limit)).scalars())

    def count(self) -> int:
        return self._count(t.conversations)

    def analytics_rows(self, *, after_id: int = 0) -> dict[str, list[Any]]:
        """The columns analytics reads, for every conversation with an id above ``after_id``.

        ``created`` comes back as the stored UTC text on SQLite (parsed in bulk by the
        caller, far faster than one datetime per row) and as epoch seconds elsewhere;
        ``attributes`` is the JSON text on SQLite and already decoded elsewhere.
        """
        c = t.conversations
        sqlite = self._conn.dialect.name == "sqlite"
        columns = {
            "id": c.c.id,
            "created": (
                sa.type_coerce(c.c.created_at, sa.String)
                if sqlite
                else sa.cast(sa.extract("epoch", c.c.created_at), sa.Float)
            ),
            "customer_id": c.c.customer_id,
            "channel": c.c.channel,
            "topic": c.c.topic,
            "product_area": c.c.product_area,
            "language": c.c.language,
            "team": c.c.team,
            "ai_involved": c.c.ai_involved,
            "outcome": c.c.outcome,
            "escalated": c.c.escalated_at.is_not(None),
            "csat": c.c.csat,
            "reopen_count": c.c.reopen_count,
            "first_response_seconds": c.c.first_response_seconds,
            "handling_seconds": c.c.handling_seconds,
            "attributes": sa.type_coerce(c.c.attributes, sa.String) if sqlite else c.c.attributes,
        }
        rows = self._conn.execute(
            sa.select(*[expression.label(name) for name, expression in columns.items()])
            .where(self._where(c), c.c.id > after_id)
            .order_by(c.c.id)
        ).all()
        return {name: [row[i] for row in rows] for i, name in enumerate(columns)}

    def citations(self, *, start: datetime, end: datetime) -> list[tuple[str | None, list[str]]]:
        """(outcome, cited article ids) per conversation of [start, end) whose AI replies cited articles."""
        c, m = t.conversations, t.messages
        rows = self._conn.execute(
            sa.select(c.c.id, c.c.outcome, m.c.cited_article_ids)
            .join_from(m, c, sa.and_(c.c.workspace_id == m.c.workspace_id, c.c.id == m.c.conversation_id))
            .where(
                self._where(m), m.c.author_kind == "ai_agent", c.c.created_at >= start, c.c.created_at < end
            )
        )
        by_conversation: dict[int, tuple[str | None, set[str]]] = {}
        for conversation_id, outcome, cited in rows:
            if cited:
                by_conversation.setdefault(conversation_id, (outcome, set()))[1].update(cited)
        return [(outcome, sorted(ids)) for outcome, ids in by_conversation.values()]

    def citation_topics(self, *, recent: int = 20_000) -> dict[str, dict[str, int]]:
        """For each cited article, the topics of the conversations whose AI replies cited it.

        Only the ``recent`` newest conversations are read: enough to learn which topic an
        article serves, and cheap at any size.
        """
        c, m = t.conversations, t.messages
        newest = self.max_id()
        rows = self._conn.execute(
            sa.select(c.c.topic, m.c.cited_article_ids)
            .join_from(m, c, sa.and_(c.c.workspace_id == m.c.workspace_id, c.c.id == m.c.conversation_id))
            .where(
                self._where(m),
                m.c.author_kind == "ai_agent",
                m.c.conversation_id > newest - recent,
                c.c.topic.is_not(None),
            )
        )
        out: dict[str, dict[str, int]] = {}
        for topic, cited in rows:
            for article in cited or ():
                counts = out.setdefault(article, {})
                counts[topic] = counts.get(topic, 0) + 1
        return out

    def resolved_citations(self, *, recent: int = 20_000, per_article: int = 50) -> dict[str, list[str]]:
        """For each article, the conversations an AI reply citing it resolved (outcome ``ai_resolved``,
        never reopened): external ids, newest first, at most ``per_article``.

        Only the ``recent`` newest conversations are read (the search index holds as many).
        """
        c, m = t.conversations, t.messages
        newest = self.max_id()
        rows = self._conn.execute(
            sa.select(c.c.id, c.c.external_id, m.c.cited_article_ids)
            .join_from(m, c, sa.and_(c.c.workspace_id == m.c.workspace_id, c.c.id == m.c.conversation_id))
            .where(
                self._where(m),
                m.c.author_kind == "ai_agent",
                m.c.conversation_id > newest - recent,
                c.c.outcome == "ai_resolved",
                c.c.reopen_count == 0,
            )
            .order_by(c.c.id.desc())
        )
        out: dict[str, list[str]] = {}
        for _, external_id, cited in rows:
            for article in cited or ():
                found = out.setdefault(article, [])
                if len(found) < per_article and (not found or found[-1] != external_id):
                    found.append(external_id)
        return out

    def max_id(self) -> int:
        """The newest conversation's id (ids grow with every insert, and an erased one is never
        handed out again); 0 when there are none."""
        c = t.conversations
        return int(self._conn.execute(sa.select(sa.func.max(c.c.id)).where(self._where(c))).scalar_one() or 0)

    def customer_texts(self, *, after_id: int, limit: int) -> list[CustomerText]:
        """What customers wrote in the conversations after ``after_id`` (oldest first), for indexing."""
        c, m = t.conversations, t.messages
        rows = self._conn.execute(
            sa.select(c.c.id, c.c.external_id, c.c.created_at, c.c.topic, c.c.product_area, c.c.language)
            .where(self._where(c), c.c.id > after_id)
            .order_by(c.c.id)
            .limit(limit)
        ).all()
        if not rows:
            return []
        texts: dict[int, list[str]] = {}
        for conversation_id, text in self._conn.execute(
            sa.select(m.c.conversation_id, m.c.text)
            .where(
                self._where(m),
                m.c.conversation_id.between(rows[0].id, rows[-1].id),
                m.c.author_kind == "customer",
            )
            .order_by(m.c.conversation_id, m.c.seq)
        ):
            texts.setdefault(conversation_id, []).append(text)
        return [CustomerText(**row._mapping, text="\n".join(texts.get(row.id, []))) for row in rows]

    def openings(
        self,
        *,
        start: datetime,
        end: datetime,
        limit: int,
        topic: str | None = None,
        topics: Sequence[str] | None = None,
        segment: dict[str, str] | None = None,
    ) -> list[Opening]:
        """The first customer message of conversations created in [start, end), with what the agent
        may know (topic, channel, customer segment); evenly spread over the period when there are
        more than ``limit``; only ``topic``'s (or ``topics``') when given, and only those of
        ``segment`` (conversation columns such as channel or outcome, customer ones such as plan)."""
        wanted = [topic] if topic is not None else list(topics) if topics is not None else None
        c, m, cu = t.conversations, t.messages, t.customers
        query = (
            sa.select(c.c.id)
            .where(self._where(c), c.c.created_at >= start, c.c.created_at < end)
            .where(c.c.topic.in_(wanted) if wanted is not None else sa.true())
        )
        for name, value in (segment or {}).items():
            if name in SEGMENT_CONVERSATION_COLUMNS:
                query = query.where(c.c[name] == value)
            elif name in SEGMENT_CUSTOMER_COLUMNS:
                query = query.where(
                    c.c.customer_id.in_(sa.select(cu.c.id).where(self._where(cu), cu.c[name] == value))
                )
            else:
                raise InvalidInput(f"cannot select conversations by {name!r}")
        ids = [row.id for row in self._conn.execute(query.order_by(c.c.id))]
        if len(ids) > limit:
            step = len(ids) / limit
            ids = [ids[int(i * step)] for i in range(limit)]
        out: list[Opening] = []
        for chunk in batched(ids, BATCH):
            first = (
                sa.select(m.c.conversation_id, sa.func.min(m.c.seq).label("seq"))
                .where(self._where(m), m.c.conversation_id.in_(chunk), m.c.author_kind == "customer")
                .group_by(m.c.conversation_id)
                .subquery()
            )
            rows = self._conn.execute(
                sa.select(
                    c.c.external_id,
                    c.c.created_at,
                    c.c.topic,
                    c.c.channel,
                    c.c.ai_involved,
                    c.c.outcome,
                    cu.c.plan,
                    cu.c.region,
                    m.c.text,
                    c.c.reopen_count,
                )
                .join_from(c, first, first.c.conversation_id == c.c.id)
                .join(
                    m,
                    sa.and_(
                        m.c.workspace_id == c.c.workspace_id,
                        m.c.conversation_id == c.c.id,
                        m.c.seq == first.c.seq,
                    ),
                )
                .join(
                    cu,
                    sa.and_(cu.c.workspace_id == c.c.workspace_id, cu.c.id == c.c.customer_id),
                    isouter=True,
                )
                .where(self._where(c), c.c.id.in_(chunk))
                .order_by(c.c.id)
            )
            out += [Opening(**row._mapping) for row in rows]
        return out

    def human_agent_rows(self, *, start: datetime, end: datetime) -> list[HandledBy]:
        """Each (human agent, conversation) of conversations created in [start, end) that a named person
        replied in, with how the conversation ended: what per-agent figures are computed from."""
        c, m = t.conversations, t.messages
        rows = self._conn.execute(
            sa.select(
                m.c.author_name,
                c.c.external_id,
                c.c.outcome,
                c.c.csat,
                c.c.handling_seconds,
                c.c.reopen_count,
                c.c.team,
            )
            .distinct()
            .join_from(m, c, sa.and_(c.c.workspace_id == m.c.workspace_id, c.c.id == m.c.conversation_id))
            .where(
                self._where(c),
                c.c.created_at >= start,
                c.c.created_at < end,
                m.c.author_kind == "human_agent",
                m.c.author_name.is_not(None),
            )
            .order_by(m.c.author_name, c.c.external_id)
        )
        return [HandledBy(*row) for row in rows]

    def count_messages(self) -> int:
        return self._count(t.messages)

    def ai_citations(self, external_ids: Sequence[str]) -> dict[str, list[str]]:
        """The articles AI replies cited in each of these conversations (only those that cited any),
        in the order first cited."""
        c, m = t.conversations, t.messages
        out: dict[str, list[str]] = {}
        for chunk in batched(list(external_ids), BATCH):
            rows = self._conn.execute(
                sa.select(c.c.external_id, m.c.cited_article_ids)
                .join_from(m, c, sa.and_(c.c.workspace_id == m.c.workspace_id, c.c.id == m.c.conversation_id))
                .where(self._where(m), c.c.external_id.in_(chunk), m.c.author_kind == "ai_agent")
                .order_by(c.c.id, m.c.seq)
            )
            for external_id, cited in rows:
                if cited:
                    found = out.setdefault(external_id, [])
                    found += [a for a in cited if a not in found]
        return out


def _message_tuples(messages: Sequence[Message]) -> list[tuple[Any, ...]]:
    return [
        tuple(m.author_kind.value if f == "author_kind" else getattr(m, f) for f in _MESSAGE_FIELDS)
        for m in messages
    ]
