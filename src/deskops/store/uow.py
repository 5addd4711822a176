"""Unit of work: one transaction, and the repositories that run inside it."""

from __future__ import annotations

from types import TracebackType

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from deskops.domain.models import Workspace
from deskops.store.repositories import WorkspaceDirectory, WorkspaceScope


class UnitOfWork:
    """``with uow: scope = uow.workspace("demo"); ...; uow.commit()``.

    Leaving the block without ``commit()`` rolls everything back, so a failure
    half-way through an import or a simulation writes nothing.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: sa.Connection | None = None

    def __enter__(self) -> UnitOfWork:
        self._connection = self._engine.connect()
        self._connection.begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._connection is not None
        try:
            if self._connection.in_transaction():
                self._connection.rollback()
        finally:
            self._connection.close()
            self._connection = None

    @property
    def is_open(self) -> bool:
        """True inside the ``with`` block."""
        return self._connection is not None

    @property
    def connection(self) -> sa.Connection:
        if self._connection is None:
            raise RuntimeError("the unit of work is not open: use it in a `with` block")
        return self._connection

    @property
    def workspaces(self) -> WorkspaceDirectory:
        """Create, find and list workspaces (the only repository not scoped to one)."""
        return WorkspaceDirectory(self.connection)

    def workspace(self, workspace: Workspace | str) -> WorkspaceScope:
        """Repositories that can only see ``workspace``; raises UnknownWorkspace."""
        if isinstance(workspace, str):
            workspace = self.workspaces.get(workspace)
        return WorkspaceScope(self.connection, workspace)

    def commit(self) -> None:
        self.connection.commit()
        self.connection.begin()

    def rollback(self) -> None:
        self.connection.rollback()
        self.connection.begin()
