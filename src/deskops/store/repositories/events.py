"""Customer events (product usage, billing, lifecycle)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from deskops.domain.models import Event
from deskops.store import tables as t
from deskops.store.repositories._base import WorkspaceRepository
from deskops.store.repositories.customers import CustomerRepository


class EventRepository(WorkspaceRepository):
    def add_many(self, events: Sequence[Event]) -> int:
        customer_ids = CustomerRepository(self._conn, self.workspace_id).ensure(
            e.customer_external_id for e in events if e.customer_external_id
        )
        next_id = self._next_id(t.events)
        rows = [
            {
                "workspace_id": self.workspace_id,
                "id": next_id + i,
                "name": e.name,
                "occurred_at": e.occurred_at,
                "customer_id": customer_ids.get(e.customer_external_id or ""),
                "properties": e.properties,
            }
            for i, e in enumerate(events)
        ]
        if rows:
            self._conn.execute(sa.insert(t.events), rows)
        return len(rows)

    def list(
        self,
        *,
        name: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
    ) -> list[Event]:
        e, cu = t.events, t.customers
        query = (
            sa.select(e, cu.c.external_id.label("customer_external_id"))
            .join_from(
                e,
                cu,
                sa.and_(cu.c.workspace_id == e.c.workspace_id, cu.c.id == e.c.customer_id),
                isouter=True,
            )
            .where(self._where(e))
        )
        if name is not None:
            query = query.where(e.c.name == name)
        if start is not None:
            query = query.where(e.c.occurred_at >= start)
        if end is not None:
            query = query.where(e.c.occurred_at < end)
        rows = self._conn.execute(query.order_by(e.c.occurred_at, e.c.id).limit(limit))
        return [
            Event(
                name=r.name,
                occurred_at=r.occurred_at,
                customer_external_id=r.customer_external_id,
                properties=r.properties,
            )
            for r in rows
        ]

    def name_counts(self) -> builtins.list[EventName]:
        """Each event name with how many there are and when the first and last happened, most first."""
        e = t.events
        n = sa.func.count().label("n")
        rows = self._conn.execute(
            sa.select(e.c.name, n, sa.func.min(e.c.occurred_at), sa.func.max(e.c.occurred_at))
            .where(self._where(e))
            .group_by(e.c.name)
            .order_by(n.desc(), e.c.name)
        )
        return [EventName(name, int(count), first, last) for name, count, first, last in rows]

    def count(self) -> int:
        return self._count(t.events)


@dataclass(frozen=True)
class EventName:
    """One kind of event a workspace records."""

    name: str
    count: int
    first: datetime
    last: datetime
