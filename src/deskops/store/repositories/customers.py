"""Customers of a workspace and their attributes."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from deskops.domain.models import Customer
from deskops.store import tables as t
from deskops.store.repositories._base import NotFound, UpsertByExternalId, UpsertCounts, _row_dict
from deskops.store.repositories.revisions import RevisionRepository


class CustomerRepository(UpsertByExternalId):
    def upsert_many(self, customers: Sequence[Customer]) -> UpsertCounts:
        counts, _, _ = self._upsert_rows(t.customers, [c.model_dump(mode="python") for c in customers])
        if counts.updated:  # new customers have no conversations yet: nothing analytics read changed
            RevisionRepository(self._conn, self.workspace_id).bump(rewrite=True)
        return counts

    def ensure(self, external_ids: Iterable[str]) -> dict[str, int]:
        """Ids of the given customers, creating bare records for the ones not seen before."""
        # Before reading: a customer inserted meanwhile by another writer would be overwritten bare.
        self._lock_for_writes(t.customers)
        wanted = set(external_ids)
        ids = self._ids_by_external_id(t.customers, wanted)
        missing = sorted(wanted - ids.keys())
        if missing:
            _, new_ids, _ = self._upsert_rows(
                t.customers, [Customer(external_id=e).model_dump(mode="python") for e in missing]
            )
            ids.update(new_ids)
        return ids

    def get(self, external_id: str) -> Customer:
        row = self._conn.execute(
            sa.select(t.customers).where(self._where(t.customers), t.customers.c.external_id == external_id)
        ).first()
        if row is None:
            raise NotFound(f"no customer {external_id!r} in this workspace")
        return Customer(**_row_dict(row, drop=("workspace_id", "id")))

    def list(self, *, limit: int = 100, offset: int = 0) -> list[Customer]:
        rows = self._conn.execute(
            sa.select(t.customers)
            .where(self._where(t.customers))
            .order_by(t.customers.c.id)
            .limit(limit)
            .offset(offset)
        )
        return [Customer(**_row_dict(row, drop=("workspace_id", "id"))) for row in rows]

    def count(self) -> int:
        return self._count(t.customers)

    def analytics_rows(self) -> dict[str, builtins.list[Any]]:
        """id, plan, region, company_size and attributes of every customer (attributes as in
        ``ConversationRepository.analytics_rows``: JSON text on SQLite)."""
        cu = t.customers
        sqlite = self._conn.dialect.name == "sqlite"
        columns = {
            "id": cu.c.id,
            "plan": cu.c.plan,
            "region": cu.c.region,
            "company_size": cu.c.company_size,
            "attributes": sa.type_coerce(cu.c.attributes, sa.String) if sqlite else cu.c.attributes,
        }
        rows = self._conn.execute(
            sa.select(*[expression.label(name) for name, expression in columns.items()])
            .where(self._where(cu))
            .order_by(cu.c.id)
        ).all()
        return {name: [row[i] for row in rows] for i, name in enumerate(columns)}
