"""Repositories. Each one is bound to a single workspace when it is made."""

from __future__ import annotations

import sqlalchemy as sa

from deskops.domain.models import Workspace
from deskops.store.repositories._base import NotFound, UnknownWorkspace, UpsertCounts
from deskops.store.repositories.cohorts import CohortRepository
from deskops.store.repositories.content import (
    AgentSettingsRepository,
    ArticleRepository,
    GuidanceRepository,
    ProcedureRepository,
)
from deskops.store.repositories.conversations import ConversationRepository
from deskops.store.repositories.customers import CustomerRepository
from deskops.store.repositories.events import EventRepository
from deskops.store.repositories.members import MemberRepository
from deskops.store.repositories.revisions import DataRevision, RevisionRepository
from deskops.store.repositories.stats import StatsRepository
from deskops.store.repositories.traces import TraceRepository
from deskops.store.repositories.workspaces import WorkspaceDirectory

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
