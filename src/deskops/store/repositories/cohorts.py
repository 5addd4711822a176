"""Saved cohorts of a workspace, and the customer lists they are evaluated from."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from deskops.domain.models import Cohort, CohortDefinition
from deskops.errors import InvalidInput, first_problem
from deskops.store import tables as t
from deskops.store.repositories._base import NotFound, WorkspaceRepository


class CohortRepository(WorkspaceRepository):
    def save(self, name: str, definition: CohortDefinition) -> Cohort:
        """Create the cohort, or replace its definition if the name exists; InvalidInput for a bad name."""
        now = datetime.now(UTC)
        try:
            cohort = Cohort(name=name, definition=definition, created_at=now, updated_at=now)
        except ValidationError as exc:
            raise InvalidInput(f"invalid cohort name {name!r}: {first_problem(exc)}") from None
        self._lock_for_writes(t.cohorts)  # two saves of one name: the second replaces the first
        existing = self.find(name)
        if existing is None:
            self._conn.execute(
                sa.insert(t.cohorts).values(
                    workspace_id=self.workspace_id,
                    id=self._next_id(t.cohorts),
                    name=name,
                    definition=definition.model_dump(mode="json"),
                    created_at=now,
                    updated_at=now,
                )
            )
            return cohort
        self._conn.execute(
            sa.update(t.cohorts)
            .where(self._where(t.cohorts), t.cohorts.c.name == name)
            .values(definition=definition.model_dump(mode="json"), updated_at=now)
        )
        return existing.model_copy(update={"definition": definition, "updated_at": now})

    def find(self, name: str) -> Cohort | None:
        row = self._conn.execute(
            sa.select(t.cohorts).where(self._where(t.cohorts), t.cohorts.c.name == name)
        ).first()
        return _cohort(row) if row else None

    def get(self, name: str) -> Cohort:
        cohort = self.find(name)
        if cohort is None:
            known = ", ".join(c.name for c in self.list()) or "none yet"
            raise NotFound(f"unknown cohort {name!r} (known: {known})")
        return cohort

    def list(self) -> list[Cohort]:
        rows = self._conn.execute(
            sa.select(t.cohorts).where(self._where(t.cohorts)).order_by(t.cohorts.c.name)
        )
        return [_cohort(row) for row in rows]

    def delete(self, name: str) -> None:
        self.get(name)
        self._conn.execute(sa.delete(t.cohorts).where(self._where(t.cohorts), t.cohorts.c.name == name))

    def matching_customers(self, definition: CohortDefinition) -> set[int]:
        """Ids of the customers whose attributes match the definition (behaviour not considered)."""
        cu = t.customers
        query = sa.select(cu.c.id, cu.c.attributes).where(self._where(cu))
        for column in ("plan", "region", "company_size"):
            value = getattr(definition, column)
            if value is not None:
                query = query.where(cu.c[column] == value)
        wanted = definition.attributes
        return {
            id_
            for id_, attributes in self._conn.execute(query)
            if all((attributes or {}).get(k) == v for k, v in wanted.items())
        }

    def conversation_counts(self, *, start: datetime, end: datetime) -> dict[int, int]:
        """Conversations per customer created in [start, end)."""
        c = t.conversations
        rows = self._conn.execute(
            sa.select(c.c.customer_id, sa.func.count())
            .where(
                self._where(c), c.c.created_at >= start, c.c.created_at < end, c.c.customer_id.is_not(None)
            )
            .group_by(c.c.customer_id)
        )
        return {int(customer): int(n) for customer, n in rows}


def _cohort(row: Any) -> Cohort:
    return Cohort(
        name=row.name,
        definition=CohortDefinition.model_validate(row.definition),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
