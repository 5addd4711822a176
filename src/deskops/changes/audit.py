"""The tamper-evident audit log: a hash chain per workspace.

Each event's hash is ``sha256(previous hash ‖ sequence ‖ canonical JSON of the event)``,
the first one's previous hash 64 zeros. Verification recomputes the chain from the
start and names the first event that does not check out:

- an edited event no longer hashes to its stored hash;
- a deleted event leaves a gap in the sequence;
- an inserted or reordered event breaks the link to the hash before it;
- an event whose indexed columns (kind, actor) disagree with its JSON was edited too;
- a proposal whose stored change set differs from the digest its ``proposal.created``
  event recorded was edited after the fact.

What the chain alone cannot catch: someone with database access who deletes the newest
events, or rewrites the whole chain consistently. A checkpoint (the head's sequence and
hash) kept outside the database catches both: ``verify(..., against=checkpoint)``. With
``DESKOPS_AUDIT_KEY`` set the checkpoint is signed (HMAC-SHA256), so it cannot be forged
without the key either.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime

from deskops.domain.changes import (
    GENESIS,
    AuditHead,
    AuditVerification,
    chain_hash,
    digest,
)
from deskops.errors import InvalidInput
from deskops.store.repositories import WorkspaceScope


def verify(
    scope: WorkspaceScope, *, against: AuditHead | None = None, key: str | None = None
) -> AuditVerification:
    """Recompute the workspace's chain; with ``against``, also check it still holds that checkpoint."""
    workspace = scope.workspace.name
    previous, expected, events = GENESIS, 1, 0
    problem: tuple[int, str] | None = None
    recorded: dict[int, tuple[int, str]] = {}
    for seq, text, stored, kind, actor in scope.audit.rows():
        if seq != expected:
            problem = (
                expected,
                f"event {expected} is missing (deleted): the log jumps from {expected - 1} to {seq}",
            )
            break
        if chain_hash(previous, seq, text) != stored:
            problem = (
                seq,
                f"event {seq} does not match its hash: it was edited, or inserted or reordered before it",
            )
            break
        body = json.loads(text)
        if body.get("seq") != seq or body.get("kind") != kind or body.get("actor") != actor:
            problem = (
                seq,
                f"event {seq}'s columns (kind, actor) were edited: they disagree with the event hashed",
            )
            break
        if kind in ("proposal.created", "proposal.refined") and body.get("proposal_id") is not None:
            change_set = (body.get("data") or {}).get("change_set_sha256")
            if change_set:
                recorded[body["proposal_id"]] = (seq, change_set)
        previous, expected, events = stored, expected + 1, events + 1
    if problem is None and recorded:
        for proposal in scope.proposals.list(limit=None):
            seen = recorded.get(proposal.id)
            if seen and digest(proposal.change_set.model_dump(mode="json", exclude_defaults=True)) != seen[1]:
                problem = (
                    seen[0],
                    f"proposal {proposal.id}'s change set was edited after event {seen[0]} recorded it",
                )
                break
    head = AuditHead(workspace=workspace, seq=events, hash=previous, at=datetime.now(UTC)) if events else None
    if problem is None and against is not None:
        problem = _against(scope, against, events, key)
    return AuditVerification(
        workspace=workspace,
        events=events,
        ok=problem is None,
        first_bad_seq=problem[0] if problem else None,
        problem=problem[1] if problem else None,
        head=head,
    )


def _against(scope: WorkspaceScope, head: AuditHead, events: int, key: str | None) -> tuple[int, str] | None:
    if head.workspace != scope.workspace.name:
        raise InvalidInput(f"the checkpoint is of workspace {head.workspace!r}, not {scope.workspace.name!r}")
    if head.signature is not None:
        if key is None:
            raise InvalidInput(
                "the checkpoint is signed: set DESKOPS_AUDIT_KEY to the key it was signed with"
            )
        if not hmac.compare_digest(head.signature, sign(head, key)):
            return (
                head.seq,
                "the checkpoint's signature does not match: it was altered, or signed with another key",
            )
    if events < head.seq:
        return (
            events + 1,
            f"the log ends at event {events}, but the checkpoint saw {head.seq}: events were deleted",
        )
    if scope.audit.hash_at(head.seq) != head.hash:
        return (head.seq, f"event {head.seq} differs from the checkpoint: the log was rewritten")
    return None


def sign(head: AuditHead, key: str) -> str:
    """HMAC-SHA256 of ``workspace|seq|hash`` (hex)."""
    message = f"{head.workspace}|{head.seq}|{head.hash}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def checkpoint(scope: WorkspaceScope, *, key: str | None = None) -> AuditHead:
    """The chain's head (sequence and hash) to keep outside the database; signed when ``key`` is given."""
    seq, hashed = scope.audit.head()
    head = AuditHead(workspace=scope.workspace.name, seq=seq, hash=hashed, at=datetime.now(UTC))
    if key:
        head.signature = sign(head, key)
    return head


def read_checkpoint(text: str, *, source: str) -> AuditHead:
    try:
        return AuditHead.model_validate_json(text)
    except ValueError:
        raise InvalidInput(
            f"{source} is not a checkpoint (run `deskops audit checkpoint --json` to make one)"
        ) from None


def export_lines(scope: WorkspaceScope) -> Iterator[str]:
    """Every event as one JSON line (the hashed event plus its hash), in sequence order."""
    for _, event, stored, _, _ in scope.audit.rows():
        yield json.dumps({**json.loads(event), "hash": stored}, ensure_ascii=False)
