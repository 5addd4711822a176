"""Repositories. Each one is bound to a single workspace when it is made."""

from __future__ import annotations

import time

import sqlalchemy as sa

from deskops.domain.models import Workspace
from deskops.errors import Conflict
from deskops.store import tables as t
from deskops.store.engine import BUSY_TIMEOUT_MS
from deskops.store.repositories._base import NotFound, UnknownWorkspace, UpsertCounts
from deskops.store.repositories.audit import AuditRepository
from deskops.store.repositories.cohorts import CohortRepository
from deskops.store.repositories.content import (
    AgentSettingsRepository,
    ArticleRepository,
    GuidanceRepository,
    PolicyRepository,
    ProcedureRepository,
)
from deskops.store.repositories.conversations import ConversationRepository
from deskops.store.repositories.customers import CustomerRepository
from deskops.store.repositories.events import EventRepository
from deskops.store.repositories.members import MemberRepository
from deskops.store.repositories.proposals import ProposalRepository, ReviewRepository
from deskops.store.repositories.revisions import DataRevision, RevisionRepository
from deskops.store.repositories.stats import StatsRepository
from deskops.store.repositories.traces import TraceRepository
from deskops.store.repositories.workspaces import WorkspaceDirectory

WRITE_LOCK_WAIT_S = 600.0
"""How long a write waits for another one to the same workspace before giving up."""
LOCK_SPACE = 0x64736B
"""First key of deskops's PostgreSQL advisory locks (the second is the workspace id)."""

__all__ = [
    "DataRevision",
    "NotFound",
    "UnknownWorkspace",
    "UpsertCounts",
    "WorkspaceDirectory",
    "WorkspaceScope",
]


class WorkspaceScope:
    """Every repository of one workspace. There is no way to reach another from here."""

    def __init__(self, connection: sa.Connection, workspace: Workspace) -> None:
        self.workspace = workspace
        self.connection = connection
        scope = (connection, workspace.id)
        self.members = MemberRepository(*scope)
        self.customers = CustomerRepository(*scope)
        self.conversations = ConversationRepository(*scope)
        self.articles = ArticleRepository(*scope)
        self.guidance = GuidanceRepository(*scope)
        self.procedures = ProcedureRepository(*scope)
        self.agent_settings = AgentSettingsRepository(*scope)
        self.events = EventRepository(*scope)
        self.stats = StatsRepository(*scope)
        self.cohorts = CohortRepository(*scope)
        self.revisions = RevisionRepository(*scope)
        self.traces = TraceRepository(*scope)
        self.proposals = ProposalRepository(*scope)
        self.reviews = ReviewRepository(*scope)
        self.policy = PolicyRepository(*scope)
        self.audit = AuditRepository(*scope)

    def lock_for_writes(self, *, wait_s: float = WRITE_LOCK_WAIT_S) -> None:
        """Wait until no other transaction writes to this workspace, and keep others waiting until
        this one ends: writes that read before they write (ids, what exists) then never collide.

        PostgreSQL takes a transaction-scoped advisory lock on the workspace; SQLite takes the
        database's write lock. Still waiting after ``wait_s`` seconds is a ``Conflict``.
        """
        began = time.monotonic()
        while True:
            try:
                if self.connection.dialect.name == "postgresql":
                    # The server waits (and gives up) for us: a failed statement ends the transaction.
                    self.connection.execute(
                        sa.text("SELECT set_config('lock_timeout', :ms, true)"),
                        {"ms": f"{int(wait_s * 1000)}ms"},
                    )
                    self.connection.execute(
                        sa.text("SELECT pg_advisory_xact_lock(:space, :workspace)"),
                        {"space": LOCK_SPACE, "workspace": self.workspace.id},
                    )
                else:  # a write statement takes SQLite's one write lock, waiting (busy_timeout) for it
                    left = max(0.05, wait_s - (time.monotonic() - began))
                    wait_ms = int(min(left * 1000, BUSY_TIMEOUT_MS))
                    self.connection.exec_driver_sql(f"PRAGMA busy_timeout={wait_ms}")
                    try:
                        self.connection.execute(
                            sa.update(t.workspaces)
                            .where(t.workspaces.c.id == self.workspace.id)
                            .values(name=t.workspaces.c.name)
                        )
                    finally:
                        self.connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                return
            except sa.exc.OperationalError as exc:
                locked = "locked" in str(exc.orig) or "lock timeout" in str(exc.orig)
                gave_up = self.connection.dialect.name == "postgresql" or time.monotonic() - began >= wait_s
                if not locked or gave_up:
                    if locked:
                        raise Conflict(
                            f"workspace {self.workspace.name!r} is being written by another process "
                            f"(an import?); still busy after {wait_s:.0f} s: try again when it is done"
                        ) from None
                    raise
