"""What every workspace-scoped repository shares."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

from deskops.errors import InvalidInput, NotFound
from deskops.store.repositories._locks import lock_for_writes, table_lock_space

T = TypeVar("T")

# SQLite allows 32766 bound parameters per statement; stay well below for IN lists.
BATCH = 900


class UnknownWorkspace(NotFound):
    """Raised when a workspace name or id does not exist."""


class WorkspaceRepository:
    """Base class: holds the connection and the one workspace it may touch."""

    def __init__(self, connection: sa.Connection, workspace_id: int) -> None:
        self._conn = connection
        self.workspace_id = workspace_id

    def _where(self, table: sa.Table) -> sa.ColumnElement[bool]:
        return table.c.workspace_id == self.workspace_id

    def _lock_for_writes(self, table: sa.Table) -> None:
        """Take turns with every other transaction writing ``table`` in this workspace, until this
        one ends. A writer that reads before it writes (the next id, whether a record exists, the
        current version) takes it before reading, so what it read is still true when it writes.

        One lock per table on PostgreSQL, so a reply's trace does not wait for an import of
        conversations; SQLite has one write lock for the whole database.
        """
        lock_for_writes(
            self._conn,
            workspace_id=self.workspace_id,
            space=table_lock_space(table),
            busy=f"{table.name} of this workspace are being written by another process",
        )

    def _next_id(self, table: sa.Table) -> int:
        """The next id of ``table`` in this workspace: above every id it holds (and, where ids are
        cursors, every id it ever held: ``_highest_deleted_id``).

        Takes the table's write lock first (see ``_lock_for_writes``), so two transactions never
        pick the same id.
        """
        self._lock_for_writes(table)
        current = self._conn.execute(
            sa.select(sa.func.max(table.c.id)).where(self._where(table))
        ).scalar_one()
        return max(int(current or 0), self._highest_deleted_id(table)) + 1

    def _highest_deleted_id(self, table: sa.Table) -> int:
        """The highest id ever deleted from ``table`` in this workspace, for the tables whose ids
        readers use as cursors ("everything after id N"): an id handed out again would sit behind
        a cursor that has already passed it. 0 where rows are never deleted."""
        return 0

    def _count(self, table: sa.Table) -> int:
        return int(
            self._conn.execute(
                sa.select(sa.func.count()).select_from(table).where(self._where(table))
            ).scalar_one()
        )

    def _ids_by_external_id(self, table: sa.Table, external_ids: Iterable[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in batched(sorted(set(external_ids)), BATCH):
            rows = self._conn.execute(
                sa.select(table.c.external_id, table.c.id).where(
                    self._where(table), table.c.external_id.in_(chunk)
                )
            )
            found.update({external_id: id_ for external_id, id_ in rows})
        return found


def batched(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _row_dict(row: sa.Row[Any], *, drop: tuple[str, ...] = ("workspace_id",)) -> dict[str, Any]:
    return {key: value for key, value in row._mapping.items() if key not in drop}


class UpsertCounts:
    """How an upsert changed the store: inserted, updated, unchanged records."""

    __slots__ = ("inserted", "unchanged", "updated")

    def __init__(self, inserted: int = 0, updated: int = 0, unchanged: int = 0) -> None:
        self.inserted, self.updated, self.unchanged = inserted, updated, unchanged

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.inserted + other.inserted, self.updated + other.updated, self.unchanged + other.unchanged
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UpsertCounts) and self.as_dict() == other.as_dict()

    def __repr__(self) -> str:
        return f"UpsertCounts({self.inserted}, {self.updated}, {self.unchanged})"

    def as_dict(self) -> dict[str, int]:
        return {"inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged}


class UpsertByExternalId(WorkspaceRepository):
    """Insert-or-update by ``external_id``, writing only rows whose values changed."""

    def _existing(self, table: sa.Table, external_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for chunk in batched(sorted(set(external_ids)), BATCH):
            for row in self._conn.execute(
                sa.select(table).where(self._where(table), table.c.external_id.in_(chunk))
            ):
                found[row.external_id] = _row_dict(row)
        return found

    def _upsert_rows(
        self, table: sa.Table, rows: Sequence[dict[str, Any]]
    ) -> tuple[UpsertCounts, dict[str, int], set[str]]:
        """Returns the counts, the id of every row, and the external ids that changed."""
        by_external_id = {row["external_id"]: row for row in rows}
        if len(by_external_id) != len(rows):
            raise InvalidInput("duplicate external_id in one batch")
        self._lock_for_writes(table)  # what exists is read next: no one may insert it meanwhile
        existing = self._existing(table, list(by_external_id))
        next_id = self._next_id(table)
        inserts, updates, ids, changed = [], [], {}, set()
        counts = UpsertCounts()
        for external_id, row in by_external_id.items():
            old = existing.get(external_id)
            if old is None:
                ids[external_id] = next_id
                inserts.append({"workspace_id": self.workspace_id, "id": next_id, **row})
                next_id += 1
                counts.inserted += 1
                changed.add(external_id)
                continue
            ids[external_id] = old["id"]
            if any(old[key] != value for key, value in row.items()):
                updates.append({"_id": old["id"], **row})
                counts.updated += 1
                changed.add(external_id)
            else:
                counts.unchanged += 1
        if inserts:
            self._conn.execute(sa.insert(table), inserts)
        if updates:
            values: dict[str, Any] = {key: sa.bindparam(key) for key in updates[0] if key != "_id"}
            self._conn.execute(
                sa.update(table)
                .where(table.c.workspace_id == self.workspace_id, table.c.id == sa.bindparam("_id"))
                .values(values),
                updates,
            )
        return counts, ids, changed
