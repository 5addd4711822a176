"""One way to put a step of the action layer into the audit log (in the caller's transaction)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from deskops.domain.changes import Actor, AuditEvent, Proposal
from deskops.store.repositories import WorkspaceScope


def record(
    scope: WorkspaceScope,
    kind: str,
    actor: Actor,
    proposal: Proposal | None,
    *,
    at: datetime,
    data: dict[str, Any] | None = None,
    items: list[str] | None = None,
) -> AuditEvent:
    """Append ``kind`` to the workspace's audit chain, about ``proposal`` (and its items) when given."""
    return scope.audit.append(
        kind=kind,
        actor=actor.label,
        at=at,
        items=items if items is not None else (proposal.items if proposal else []),
        proposal_id=proposal.id if proposal else None,
        data=data or {},
    )
