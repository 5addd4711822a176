"""Members of a workspace, their roles and their API tokens."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa

from deskops.domain.models import Member, Role
from deskops.errors import Conflict, InvalidInput
from deskops.store import tables as t
from deskops.store.repositories._base import NotFound, WorkspaceRepository, _row_dict
from deskops.store.repositories.workspaces import hash_token

TOKEN_PREFIX = "dko_"


class MemberRepository(WorkspaceRepository):
    def add(self, *, email: str, name: str, role: Role) -> Member:
        email = email.strip().lower()
        if "@" not in email:
            raise InvalidInput(f"invalid email {email!r}")
        self._lock_for_writes(t.members)  # two adds of one email: the second finds the first
        if self.find(email) is not None:
            raise Conflict(f"{email} is already a member of this workspace")
        member = Member(
            id=self._next_id(t.members), email=email, name=name, role=role, created_at=datetime.now(UTC)
        )
        self._conn.execute(
            sa.insert(t.members).values(workspace_id=self.workspace_id, **member.model_dump(mode="python"))
        )
        return member

    def find(self, email: str) -> Member | None:
        row = self._conn.execute(
            sa.select(t.members).where(self._where(t.members), t.members.c.email == email.strip().lower())
        ).first()
        return Member(**_row_dict(row)) if row else None

    def get(self, member_id: int) -> Member:
        row = self._conn.execute(
            sa.select(t.members).where(self._where(t.members), t.members.c.id == member_id)
        ).first()
        if row is None:
            raise NotFound(f"no member {member_id} in this workspace")
        return Member(**_row_dict(row))

    def list(self) -> list[Member]:
        rows = self._conn.execute(sa.select(t.members).where(self._where(t.members)).order_by(t.members.c.id))
        return [Member(**_row_dict(row)) for row in rows]

    def set_role(self, member_id: int, role: Role) -> None:
        self.get(member_id)
        self._conn.execute(
            sa.update(t.members)
            .where(self._where(t.members), t.members.c.id == member_id)
            .values(role=role.value)
        )

    def issue_token(self, member_id: int, *, label: str = "cli") -> str:
        """Create an API token and return it; only its hash is stored."""
        self.get(member_id)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self._conn.execute(
            sa.insert(t.api_tokens).values(
                workspace_id=self.workspace_id,
                id=self._next_id(t.api_tokens),
                member_id=member_id,
                token_hash=hash_token(token),
                prefix=token[:10],
                label=label,
                created_at=datetime.now(UTC),
            )
        )
        return token

    def revoke_tokens(self, member_id: int) -> int:
        """Revoke every live token of a member; returns how many were revoked."""
        result = self._conn.execute(
            sa.update(t.api_tokens)
            .where(
                self._where(t.api_tokens),
                t.api_tokens.c.member_id == member_id,
                t.api_tokens.c.revoked_at.is_(None),
            )
            .values(revoked_at=datetime.now(UTC))
        )
        return int(result.rowcount or 0)
