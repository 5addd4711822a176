"""The per-workspace audit log: append-only rows of a hash chain.

The chain itself (what is hashed, how it is verified) is ``changes/audit.py``'s business;
this holds the SQL: append one event after the head, read events in order.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from deskops.domain.changes import GENESIS, AuditEvent, canonical_json, chain_hash
from deskops.store import tables as t
from deskops.store.repositories._base import WorkspaceRepository

READ_BATCH = 20_000


class AuditRepository(WorkspaceRepository):
    def head(self) -> tuple[int, str]:
        """(sequence number, hash) of the newest event; (0, GENESIS) for an empty log."""
        a = t.audit_events
        row = self._conn.execute(
            sa.select(a.c.seq, a.c.hash).where(self._where(a)).order_by(a.c.seq.desc()).limit(1)
        ).first()
        return (int(row.seq), row.hash) if row else (0, GENESIS)

    def append(
        self,
        *,
        kind: str,
        actor: str,
        at: datetime,
        items: builtins.list[str] | None = None,
        proposal_id: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> AuditEvent:
        """Append an event after the head, in the caller's transaction. The table's write lock is
        taken first, so two writers never read the same head; the sequence stays gap-free."""
        self._lock_for_writes(t.audit_events)
        seq, previous = self.head()
        seq += 1
        items = sorted(set(items or []))
        body = {
            "seq": seq,
            "kind": kind,
            "actor": actor,
            "items": items,
            "proposal_id": proposal_id,
            "at": at.isoformat(),
            "data": data or {},
        }
        event = canonical_json(body)
        hashed = chain_hash(previous, seq, event)
        self._conn.execute(
            sa.insert(t.audit_events).values(
                workspace_id=self.workspace_id,
                seq=seq,
                kind=kind,
                actor=actor,
                proposal_id=proposal_id,
                items=f" {' '.join(items)} " if items else "",
                created_at=at,
                event=event,
                hash=hashed,
            )
        )
        return AuditEvent(
            seq=seq,
            kind=kind,
            actor=actor,
            items=items,
            proposal_id=proposal_id,
            at=at,
            data=data or {},
            hash=hashed,
        )

    def rows(self, *, batch: int = READ_BATCH) -> Iterator[tuple[int, str, str, str, str]]:
        """(seq, event JSON, hash, kind, actor) of every event in sequence order, read in batches."""
        a = t.audit_events
        after = -1
        while True:
            rows = self._conn.execute(
                sa.select(a.c.seq, a.c.event, a.c.hash, a.c.kind, a.c.actor)
                .where(self._where(a), a.c.seq > after)
                .order_by(a.c.seq)
                .limit(batch)
            ).all()
            if not rows:
                return
            for row in rows:
                yield int(row[0]), row[1], row[2], row[3], row[4]
            after = int(rows[-1][0])

    def hash_at(self, seq: int) -> str | None:
        a = t.audit_events
        return self._conn.execute(
            sa.select(a.c.hash).where(self._where(a), a.c.seq == seq)
        ).scalar_one_or_none()

    def list(
        self,
        *,
        kind: str | None = None,
        actor: str | None = None,
        item: str | None = None,
        proposal_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = 100,
    ) -> builtins.list[AuditEvent]:
        """Events matching every filter given, in sequence order (the newest ``limit`` of them).

        ``kind`` matches a whole kind or a prefix ending in a dot (``proposal.``).
        """
        a = t.audit_events
        query = sa.select(a.c.event, a.c.hash).where(self._where(a))
        if kind:
            query = query.where(a.c.kind.startswith(kind) if kind.endswith(".") else a.c.kind == kind)
        if actor:
            query = query.where(a.c.actor == actor)
        if item:
            query = query.where(a.c["items"].contains(f" {item} ", autoescape=True))
        if proposal_id is not None:
            query = query.where(a.c.proposal_id == proposal_id)
        if since:
            query = query.where(a.c.created_at >= since)
        if until:
            query = query.where(a.c.created_at < until)
        query = query.order_by(a.c.seq.desc())
        if limit is not None:
            query = query.limit(limit)
        events = [_event(row.event, row.hash) for row in self._conn.execute(query)]
        return events[::-1]

    def count(self) -> int:
        return self._count(t.audit_events)


def _event(text: str, hashed: str) -> AuditEvent:
    body = json.loads(text)
    return AuditEvent.model_validate({**body, "hash": hashed})
