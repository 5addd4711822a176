"""How far a workspace's analytics data has moved: a counter bumped by every relevant write."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from deskops.store import tables as t
from deskops.store.repositories._base import WorkspaceRepository


@dataclass(frozen=True)
class DataRevision:
    revision: int = 0
    """Moves on every write to conversations or customers."""
    rewrite_revision: int = 0
    """Moves only when rows that already existed changed (an update, not an append)."""


class RevisionRepository(WorkspaceRepository):
    def current(self) -> DataRevision:
        row = self._conn.execute(
            sa.select(t.data_revisions.c.revision, t.data_revisions.c.rewrite_revision).where(
                self._where(t.data_revisions)
            )
        ).first()
        return DataRevision(*row) if row else DataRevision()

    def bump(self, *, rewrite: bool) -> DataRevision:
        """Record a write: an append of new rows, or (``rewrite``) a change to existing ones."""
        # Two writers reading the same revision would both write the next one, and a snapshot
        # taken after the first would never see the second's rows.
        self._lock_for_writes(t.data_revisions)
        now = self.current()
        new = DataRevision(now.revision + 1, now.revision + 1 if rewrite else now.rewrite_revision)
        values = {"revision": new.revision, "rewrite_revision": new.rewrite_revision}
        if now == DataRevision():
            exists = self._conn.execute(
                sa.select(sa.func.count()).select_from(t.data_revisions).where(self._where(t.data_revisions))
            ).scalar_one()
            if not exists:
                self._conn.execute(
                    sa.insert(t.data_revisions).values(workspace_id=self.workspace_id, **values)
                )
                return new
        self._conn.execute(sa.update(t.data_revisions).where(self._where(t.data_revisions)).values(**values))
        return new
