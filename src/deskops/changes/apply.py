"""Applying and reverting proposals: new versions written in one transaction, never history rewritten.

Both take the workspace write lock first, so two accepts of one proposal (two processes,
or a double click) run one after the other: the second finds it applied and returns what
the first wrote. Every touched item must still be at the version the proposal started
from; otherwise nothing is written and the proposal becomes ``stale``, naming the item.
"""

from __future__ import annotations

from datetime import UTC, datetime

from deskops.changes import changeset
from deskops.changes.changeset import decided_by, resolve, write
from deskops.changes.records import record
from deskops.domain.changes import (
    Actor,
    Applied,
    ItemChange,
    Proposal,
    ProposalState,
    check_transition,
    split_key,
)
from deskops.domain.models import Role
from deskops.errors import Conflict, Forbidden, InvalidInput
from deskops.store.repositories import WorkspaceScope
from deskops.store.uow import UnitOfWork


def require_role(actor: Actor, needed: Role, doing: str) -> None:
    if not actor.role.allows(needed):
        raise Forbidden(f"{actor.label} is {actor.role.value}: {doing} needs {needed.value}")


def apply_proposal(
    *, uow: UnitOfWork, workspace: str, proposal_id: int, actor: Actor, override: str | None = None
) -> Applied:
    """Accept and apply a proposal; raises NotFound, Forbidden or Conflict (stale, wrong state, blocked)."""
    with uow:
        scope = uow.workspace(workspace)
        scope.lock_for_writes()
        applied = apply_locked(scope, proposal_id=proposal_id, actor=actor, override=override)
        uow.commit()
    if applied.stale:
        raise Conflict(applied.stale)
    return applied.result


class _Outcome:
    def __init__(self, result: Applied, stale: str | None = None) -> None:
        self.result, self.stale = result, stale


def apply_locked(
    scope: WorkspaceScope, *, proposal_id: int, actor: Actor, override: str | None = None, auto: bool = False
) -> _Outcome:
    """The body of ``apply_proposal`` for a caller that holds the workspace write lock in its own transaction.

    A stale proposal is recorded as such (the caller commits that) and reported in ``stale``.
    """
    proposal = scope.proposals.get(proposal_id)
    if proposal.state is ProposalState.applied:
        return _Outcome(Applied(proposal=proposal, versions=proposal.applied_versions, already=True))
    check_transition(proposal.id, proposal.state, ProposalState.approved)
    changes = resolve(proposal.change_set, scope, bases=proposal.base_versions)
    require_role(actor, decided_by(changes), f"accepting a change to {_kinds(changes)}")
    if proposal.verdict == "block" and not auto:
        if not override or not override.strip():
            raise Conflict(
                f"proposal {proposal.id} is blocked by its reviewers (see `deskops proposals show "
                f"{proposal.id}`): "
                "refine it, or an admin can accept it with --override REASON"
            )
        require_role(actor, Role.admin, "overriding a blocked proposal")
    now = datetime.now(UTC)
    moved = _moved(scope, proposal)
    if moved:
        if not scope.proposals.move(proposal.id, expect=proposal.state, to=ProposalState.stale):
            raise Conflict(f"proposal {proposal.id} changed while it was being accepted: try again")
        record(scope, "proposal.stale", actor, proposal, at=now, data={"moved": moved})
        return _Outcome(
            Applied(proposal=scope.proposals.get(proposal.id), versions={}),
            stale=f"proposal {proposal.id} is stale: {'; '.join(moved)}. Nothing was written; "
            "refresh it with "
            f"`deskops proposals refine {proposal.id} --rebase` (its change set against the current "
            "content).",
        )
    label = "system:auto-approve" if auto else actor.label
    reason = override.strip() if override else ("auto-approved by the review policy" if auto else None)
    if not scope.proposals.move(
        proposal.id,
        expect=proposal.state,
        to=ProposalState.approved,
        decided_by=label,
        decision_reason=reason,
    ):
        raise Conflict(f"proposal {proposal.id} changed while it was being accepted: try again")
    record(
        scope,
        "proposal.auto_approved" if auto else "proposal.approved",
        actor,
        proposal,
        at=now,
        data={"verdict": proposal.verdict, **({"override": reason} if override else {})},
    )
    versions = {
        change.key: write(
            scope, change.kind, change.external_id, change.after, by=label, proposal_id=proposal.id, at=now
        )
        for change in changes
    }
    if not scope.proposals.move(
        proposal.id, expect=ProposalState.approved, to=ProposalState.applied, applied_versions=versions
    ):
        raise Conflict(f"proposal {proposal.id} changed while it was being applied: try again")
    record(scope, "proposal.applied", actor, proposal, at=now, data={"versions": versions})
    if any(c.kind == "policy" for c in changes):
        record(scope, "policy.changed", actor, proposal, at=now, data={"version": versions["policy"]})
    return _Outcome(Applied(proposal=scope.proposals.get(proposal.id), versions=versions))


def _moved(scope: WorkspaceScope, proposal: Proposal) -> list[str]:
    """The touched items that are no longer at the version the proposal started from."""
    moved = []
    for key, base in proposal.base_versions.items():
        kind, external_id = split_key(key)
        now = changeset.current_version(scope, kind, external_id)  # type: ignore[arg-type]
        if now != base:
            started = f"version {base}" if base is not None else "not existing"
            moved.append(f"{key} is at version {now} (the proposal started from it {started})")
    return moved


def _kinds(changes: list[ItemChange]) -> str:
    return ", ".join(sorted({c.kind for c in changes}))


def revert_proposal(
    *, uow: UnitOfWork, workspace: str, proposal_id: int, actor: Actor, reason: str | None = None
) -> Applied:
    """Write every item of an applied proposal back as it was before, as new versions; raises Conflict when an
    item changed since (reverting would discard that change)."""
    with uow:
        scope = uow.workspace(workspace)
        scope.lock_for_writes()
        proposal = scope.proposals.get(proposal_id)
        if proposal.state is ProposalState.reverted:
            return Applied(proposal=proposal, versions={}, already=True)
        check_transition(proposal.id, proposal.state, ProposalState.reverted)
        changes = resolve(proposal.change_set, scope, bases=proposal.base_versions)
        require_role(actor, decided_by(changes), f"reverting a change to {_kinds(changes)}")
        since = []
        for change in changes:
            now = changeset.current_version(scope, change.kind, change.external_id)
            if now != proposal.applied_versions.get(change.key):
                since.append(f"{change.key} is at version {now}, written after this proposal")
        if since:
            raise Conflict(
                f"proposal {proposal.id} cannot be reverted: {'; '.join(since)}. Reverting would "
                "discard that; "
                "restore the version you want with `deskops content restore KIND ID --version N`."
            )
        at = datetime.now(UTC)
        versions = {}
        for change in changes:
            content = change.before if change.before is not None else _retired(change)
            versions[change.key] = write(
                scope,
                change.kind,
                change.external_id,
                content,
                by=actor.label,
                proposal_id=proposal.id,
                at=at,
            )
        if not scope.proposals.move(
            proposal.id, expect=ProposalState.applied, to=ProposalState.reverted, decision_reason=reason
        ):
            raise Conflict(f"proposal {proposal.id} changed while it was being reverted: try again")
        record(
            scope, "proposal.reverted", actor, proposal, at=at, data={"versions": versions, "reason": reason}
        )
        if any(c.kind == "policy" for c in changes):
            record(scope, "policy.changed", actor, proposal, at=at, data={"version": versions["policy"]})
        uow.commit()
        return Applied(proposal=scope.proposals.get(proposal.id), versions=versions)


def _retired(change: ItemChange) -> dict[str, object]:
    """What reverting the creation of an item writes: the item taken out of service (history keeps it)."""
    if change.kind == "article":
        return {**change.after, "state": "archived"}
    if change.kind in ("guidance", "procedure"):
        return {**change.after, "enabled": False}
    if change.kind in ("settings", "policy"):
        return {}
    raise InvalidInput(f"cannot revert the creation of {change.key}")
