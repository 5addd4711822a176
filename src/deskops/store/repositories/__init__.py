"""Repositories. Each one is bound to a single workspace when it is made."""

from __future__ import annotations

import sqlalchemy as sa

from deskops.domain.models import Workspace
from deskops.store.repositories._base import NotFound, UnknownWorkspace, UpsertCounts
from deskops.store.repositories._locks import LOCK_SPACE, WRITE_LOCK_WAIT_S, lock_for_writes
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
from deskops.store.repositories.runs import RunRepository
from deskops.store.repositories.stats import StatsRepository
from deskops.store.repositories.traces import TraceRepository
from deskops.store.repositories.workspaces import WorkspaceDirectory

__all__ = [
    "LOCK_SPACE",
    "WRITE_LOCK_WAIT_S",
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
        self.runs = RunRepository(*scope)
        """The Operator's run log."""

    def lock_for_writes(self, *, wait_s: float = WRITE_LOCK_WAIT_S) -> None:
        """Wait until no other transaction writes to this workspace, and keep others waiting until
        this one ends: writes that read before they write (ids, what exists) then never collide.

        PostgreSQL takes a transaction-scoped advisory lock on the workspace; SQLite takes the
        database's write lock. Still waiting after ``wait_s`` seconds is a ``Conflict``.
        """
        lock_for_writes(
            self.connection,
            workspace_id=self.workspace.id,
            space=LOCK_SPACE,
            busy=f"workspace {self.workspace.name!r} is being written by another process (an import?)",
            wait_s=wait_s,
        )
