"""Fast appends of many rows into one workspace's tables (the simulator's write path).

Rows are plain tuples without ``workspace_id``; timestamps are strings in the
``YYYY-MM-DD HH:MM:SS.ffffff`` UTC form SQLAlchemy itself writes, JSON values
are already-encoded strings. On SQLite this uses the driver's ``executemany``,
on PostgreSQL ``COPY``; both run inside the caller's transaction.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa


class BulkLoader:
    def __init__(self, connection: sa.Connection, workspace_id: int) -> None:
        self._conn = connection
        self.workspace_id = int(workspace_id)
        self._backend = connection.dialect.name
        self.seconds = 0.0
        """Time spent inside the database driver so far."""

    def append(self, table: sa.Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert ``rows`` (values for ``columns``, in order) into ``table`` for this workspace."""
        if not rows:
            return
        unknown = [c for c in columns if c not in table.c or c == "workspace_id"]
        if unknown:
            raise ValueError(f"{table.name} has no writable column(s) {unknown}")
        began = time.perf_counter()
        self._write(table, columns, rows)
        self.seconds += time.perf_counter() - began

    def _write(self, table: sa.Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        driver = self._conn.connection.driver_connection
        assert driver is not None
        column_list = ", ".join(["workspace_id", *columns])
        if self._backend == "sqlite":
            # workspace_id is an int we own, so it is safe to inline; it saves a tuple copy per row.
            marks = ", ".join(["?"] * len(columns))
            sql = f"INSERT INTO {table.name} ({column_list}) VALUES ({self.workspace_id}, {marks})"
            driver.cursor().executemany(sql, rows)
        elif self._backend == "postgresql":
            workspace_id = self.workspace_id
            with (
                driver.cursor() as cursor,
                cursor.copy(f"COPY {table.name} ({column_list}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row((workspace_id, *row))
        else:
            raise ValueError(f"bulk loading is not supported on {self._backend}")
