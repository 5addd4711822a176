"""Writers to one workspace take turns: transaction-scoped locks on PostgreSQL and SQLite."""

from __future__ import annotations

import time
import zlib

import sqlalchemy as sa

from deskops.errors import Conflict
from deskops.store import tables as t
from deskops.store.engine import BUSY_TIMEOUT_MS

WRITE_LOCK_WAIT_S = 600.0
"""How long a write waits for another one to the same workspace before giving up."""
LOCK_SPACE = 0x64736B
"""First key of deskops's PostgreSQL advisory lock on a whole workspace (the second is its id)."""


def table_lock_space(table: sa.Table) -> int:
    """First key of the advisory lock on writing one table of a workspace: the CRC-32 of its name
    as a signed 32-bit integer (PostgreSQL's key type), the same in every process and version."""
    return int.from_bytes(zlib.crc32(f"deskops.{table.name}".encode()).to_bytes(4, "big"), "big", signed=True)


def lock_for_writes(
    connection: sa.Connection,
    *,
    workspace_id: int,
    space: int,
    busy: str,
    wait_s: float = WRITE_LOCK_WAIT_S,
) -> None:
    """Wait until no other transaction holds the lock ``space`` on this workspace, and hold it until
    this transaction ends. Taking it again in the same transaction returns at once.

    PostgreSQL takes a transaction-scoped advisory lock (``space``, workspace id); SQLite has one
    write lock for the whole database and takes that. Still waiting after ``wait_s`` seconds is a
    ``Conflict`` whose message starts with ``busy``.
    """
    began = time.monotonic()
    while True:
        try:
            if connection.dialect.name == "postgresql":
                # The server waits (and gives up) for us: a failed statement ends the transaction.
                connection.execute(
                    sa.text("SELECT set_config('lock_timeout', :ms, true)"), {"ms": f"{int(wait_s * 1000)}ms"}
                )
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:space, :workspace)"),
                    {"space": space, "workspace": workspace_id},
                )
            else:  # a write statement takes SQLite's one write lock, waiting (busy_timeout) for it
                left = max(0.05, wait_s - (time.monotonic() - began))
                wait_ms = int(min(left * 1000, BUSY_TIMEOUT_MS))
                connection.exec_driver_sql(f"PRAGMA busy_timeout={wait_ms}")
                try:
                    connection.execute(
                        sa.update(t.workspaces)
                        .where(t.workspaces.c.id == workspace_id)
                        .values(name=t.workspaces.c.name)
                    )
                finally:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            return
        except sa.exc.OperationalError as exc:
            locked = "locked" in str(exc.orig) or "lock timeout" in str(exc.orig)
            gave_up = connection.dialect.name == "postgresql" or time.monotonic() - began >= wait_s
            if not locked or gave_up:
                if locked:
                    raise Conflict(
                        f"{busy}; still busy after {wait_s:.0f} s: try again when it is done"
                    ) from None
                raise
