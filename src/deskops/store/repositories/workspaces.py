"""Workspaces themselves, and resolving an API token to the workspace it belongs to."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import sqlalchemy as sa

from deskops.domain.models import Member, Workspace, validate_time_zone, validate_workspace_name
from deskops.errors import Conflict
from deskops.store import tables as t
from deskops.store.repositories._base import UnknownWorkspace, _row_dict


def hash_token(token: str) -> str:
    """API tokens are stored as SHA-256 digests; the raw token is shown once and never kept."""
    return hashlib.sha256(token.encode()).hexdigest()


class WorkspaceDirectory:
    """The one repository that is not scoped to a workspace: it manages them."""

    def __init__(self, connection: sa.Connection) -> None:
        self._conn = connection

    def create(self, name: str, *, time_zone: str = "UTC") -> Workspace:
        validate_workspace_name(name)
        validate_time_zone(time_zone)
        if self.find(name) is not None:
            raise Conflict(f"workspace {name!r} already exists")
        created_at = datetime.now(UTC)
        new_id = self._conn.execute(
            sa.insert(t.workspaces)
            .values(name=name, time_zone=time_zone, created_at=created_at)
            .returning(t.workspaces.c.id)
        ).scalar_one()
        return Workspace(id=new_id, name=name, time_zone=time_zone, created_at=created_at)

    def find(self, name: str) -> Workspace | None:
        row = self._conn.execute(sa.select(t.workspaces).where(t.workspaces.c.name == name)).first()
        return Workspace(**_row_dict(row, drop=())) if row else None

    def get(self, name: str) -> Workspace:
        workspace = self.find(name)
        if workspace is None:
            # Never list the others: a caller may not be allowed to know which workspaces exist.
            raise UnknownWorkspace(f"unknown workspace {name!r}")
        return workspace

    def list(self) -> list[Workspace]:
        rows = self._conn.execute(sa.select(t.workspaces).order_by(t.workspaces.c.name))
        return [Workspace(**_row_dict(row, drop=())) for row in rows]

    def delete(self, name: str) -> None:
        """Delete a workspace and everything in it."""
        workspace = self.get(name)
        # Children first: SQLite only cascades when foreign keys are on, and we do
        # not rely on the connection's pragmas for correctness.
        for table in reversed(t.TENANT_TABLES):
            self._conn.execute(sa.delete(table).where(table.c.workspace_id == workspace.id))
        self._conn.execute(sa.delete(t.workspaces).where(t.workspaces.c.id == workspace.id))

    def resolve_token(self, token: str) -> tuple[Workspace, Member] | None:
        """The workspace and member an API token belongs to, or None if unknown or revoked."""
        row = self._conn.execute(
            sa.select(t.api_tokens.c.workspace_id, t.api_tokens.c.member_id, t.api_tokens.c.id).where(
                t.api_tokens.c.token_hash == hash_token(token), t.api_tokens.c.revoked_at.is_(None)
            )
        ).first()
        if row is None:
            return None
        workspace_row = self._conn.execute(
            sa.select(t.workspaces).where(t.workspaces.c.id == row.workspace_id)
        ).one()
        member_row = self._conn.execute(
            sa.select(t.members).where(
                t.members.c.workspace_id == row.workspace_id, t.members.c.id == row.member_id
            )
        ).one()
        self._conn.execute(
            sa.update(t.api_tokens)
            .where(t.api_tokens.c.workspace_id == row.workspace_id, t.api_tokens.c.id == row.id)
            .values(last_used_at=datetime.now(UTC))
        )
        return Workspace(**_row_dict(workspace_row, drop=())), Member(**_row_dict(member_row))
