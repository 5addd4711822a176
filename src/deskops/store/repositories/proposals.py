"""Proposals, their reviews and findings, and members' feedback on the findings."""

from __future__ import annotations

import builtins
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from deskops.domain.changes import (
    Actor,
    ChangeSet,
    Evidence,
    FeedbackStats,
    Finding,
    Proposal,
    ProposalState,
    Review,
    Span,
)
from deskops.store import tables as t
from deskops.store.repositories._base import NotFound, WorkspaceRepository


class ProposalRepository(WorkspaceRepository):
    def next_id(self) -> int:
        """The id the next proposal gets (take the workspace write lock first)."""
        return self._next_id(t.proposals)

    def add(self, proposal: Proposal) -> None:
        self._conn.execute(sa.insert(t.proposals).values(workspace_id=self.workspace_id, **_row(proposal)))

    def get(self, proposal_id: int) -> Proposal:
        """The proposal ``proposal_id`` of this workspace; raises NotFound."""
        p = t.proposals
        row = self._conn.execute(sa.select(p).where(self._where(p), p.c.id == proposal_id)).first()
        if row is None:
            raise NotFound(f"no proposal {proposal_id} in this workspace")
        return _proposal(row)

    def list(self, *, state: ProposalState | None = None, limit: int | None = 100) -> builtins.list[Proposal]:
        """Newest first (all of them with ``limit=None``)."""
        p = t.proposals
        query = sa.select(p).where(self._where(p))
        if state is not None:
            query = query.where(p.c.state == state.value)
        query = query.order_by(p.c.id.desc())
        rows = self._conn.execute(query.limit(limit) if limit is not None else query)
        return [_proposal(row) for row in rows]

    def thread(self, thread_id: int) -> builtins.list[Proposal]:
        """Every revision of a thread, oldest first."""
        p = t.proposals
        rows = self._conn.execute(
            sa.select(p).where(self._where(p), p.c.thread_id == thread_id).order_by(p.c.revision)
        )
        return [_proposal(row) for row in rows]

    def move(self, proposal_id: int, *, expect: ProposalState, to: ProposalState, **values: Any) -> bool:
        """Compare-and-set: move the proposal from ``expect`` to ``to`` (and set ``values``).

        False when it was no longer in ``expect`` (someone else moved it first).
        """
        p = t.proposals
        if "applied_versions" in values and values["applied_versions"] is not None:
            values["applied_versions"] = dict(values["applied_versions"])
        result = self._conn.execute(
            sa.update(p)
            .where(self._where(p), p.c.id == proposal_id, p.c.state == expect.value)
            .values(state=to.value, updated_at=datetime.now(UTC), **values)
        )
        return result.rowcount == 1

    def set_verdict(self, proposal_id: int, verdict: str) -> None:
        p = t.proposals
        self._conn.execute(sa.update(p).where(self._where(p), p.c.id == proposal_id).values(verdict=verdict))

    def count(self) -> int:
        return self._count(t.proposals)


def _row(proposal: Proposal) -> dict[str, Any]:
    return {
        "id": proposal.id,
        "thread_id": proposal.thread_id,
        "revision": proposal.revision,
        "state": proposal.state.value,
        "title": proposal.title,
        "description": proposal.description,
        "rationale": proposal.rationale,
        "evidence": proposal.evidence.model_dump(mode="json"),
        "author": proposal.author.model_dump(mode="json"),
        "change_set": proposal.change_set.model_dump(mode="json", exclude_defaults=True),
        "base_versions": proposal.base_versions,
        "verdict": proposal.verdict,
        "auto_approved": proposal.auto_approved,
        "created_at": proposal.created_at,
        "updated_at": proposal.updated_at,
        "decided_by": proposal.decided_by,
        "decision_reason": proposal.decision_reason,
        "supersedes": proposal.supersedes,
        "superseded_by": proposal.superseded_by,
        "applied_versions": proposal.applied_versions or None,
    }


def _proposal(row: sa.Row[Any]) -> Proposal:
    return Proposal(
        id=row.id,
        thread_id=row.thread_id,
        revision=row.revision,
        state=ProposalState(row.state),
        title=row.title,
        description=row.description,
        rationale=row.rationale,
        evidence=Evidence.model_validate(row.evidence),
        author=Actor.model_validate(row.author),
        change_set=ChangeSet.model_validate(row.change_set),
        base_versions=dict(row.base_versions),
        verdict=row.verdict,
        auto_approved=row.auto_approved,
        created_at=row.created_at,
        updated_at=row.updated_at,
        decided_by=row.decided_by,
        decision_reason=row.decision_reason,
        supersedes=row.supersedes,
        superseded_by=row.superseded_by,
        applied_versions=dict(row.applied_versions or {}),
    )


class ReviewRepository(WorkspaceRepository):
    """Each reviewer's verdict on a proposal revision, its findings, and the feedback on them."""

    def save(self, proposal_id: int, reviews: builtins.list[Review]) -> builtins.list[Review]:
        """Store the reviews of a proposal; returns them with their findings' ids set."""
        now = datetime.now(UTC)
        next_finding = self._next_id(t.findings)
        stored = []
        for review in reviews:
            self._conn.execute(
                sa.insert(t.reviews).values(
                    workspace_id=self.workspace_id,
                    proposal_id=proposal_id,
                    reviewer=review.reviewer,
                    verdict=review.verdict,
                    summary=review.summary,
                    duration_ms=review.duration_ms,
                    created_at=now,
                )
            )
            findings = []
            for finding in review.findings:
                finding = finding.model_copy(update={"id": next_finding})
                next_finding += 1
                self._conn.execute(
                    sa.insert(t.findings).values(
                        workspace_id=self.workspace_id,
                        id=finding.id,
                        proposal_id=proposal_id,
                        reviewer=finding.reviewer,
                        code=finding.code,
                        verdict=finding.verdict,
                        item=finding.item,
                        span=finding.span.model_dump(mode="json") if finding.span else None,
                        message=finding.message,
                        evidence=finding.evidence,
                        related=finding.related,
                        downgraded=finding.downgraded,
                    )
                )
                findings.append(finding)
            stored.append(review.model_copy(update={"findings": findings}))
        return stored

    def for_proposal(self, proposal_id: int) -> builtins.list[Review]:
        r, f = t.reviews, t.findings
        findings: dict[str, builtins.list[Finding]] = defaultdict(list)
        for row in self._conn.execute(
            sa.select(f).where(self._where(f), f.c.proposal_id == proposal_id).order_by(f.c.id)
        ):
            findings[row.reviewer].append(_finding(row))
        rows = self._conn.execute(
            sa.select(r).where(self._where(r), r.c.proposal_id == proposal_id).order_by(r.c.reviewer)
        )
        return [
            Review(
                reviewer=row.reviewer,
                verdict=row.verdict,
                summary=row.summary,
                duration_ms=row.duration_ms,
                findings=findings[row.reviewer],
            )
            for row in rows
        ]

    def finding(self, finding_id: int) -> tuple[int, Finding]:
        """(the proposal it was found on, the finding); raises NotFound."""
        f = t.findings
        row = self._conn.execute(sa.select(f).where(self._where(f), f.c.id == finding_id)).first()
        if row is None:
            raise NotFound(f"no finding {finding_id} in this workspace")
        return row.proposal_id, _finding(row)

    def mark(self, finding_id: int, *, actor: str, helpful: bool) -> None:
        """Record a member's mark on a finding (a second mark by the same member replaces the first)."""
        fb = t.finding_feedback
        self._conn.execute(
            sa.delete(fb).where(self._where(fb), fb.c.finding_id == finding_id, fb.c.actor == actor)
        )
        self._conn.execute(
            sa.insert(fb).values(
                workspace_id=self.workspace_id,
                finding_id=finding_id,
                actor=actor,
                helpful=helpful,
                created_at=datetime.now(UTC),
            )
        )

    def code_feedback(self, code: str) -> tuple[int, int, builtins.list[int]]:
        """(helpful marks, not-helpful marks, ids of findings marked not helpful) for a finding code."""
        f, fb = t.findings, t.finding_feedback
        rows = self._conn.execute(
            sa.select(fb.c.finding_id, fb.c.helpful)
            .join_from(fb, f, sa.and_(f.c.workspace_id == fb.c.workspace_id, f.c.id == fb.c.finding_id))
            .where(self._where(fb), f.c.code == code)
            .order_by(fb.c.finding_id)
        ).all()
        helpful = sum(1 for _, h in rows if h)
        unhelpful = sorted({finding for finding, h in rows if not h})
        return helpful, len(rows) - helpful, unhelpful

    def stats(self, downgraded: builtins.list[str]) -> builtins.list[FeedbackStats]:
        """Per reviewer: its findings by verdict and code, and how members marked them."""
        f, fb = t.findings, t.finding_feedback
        marks = (
            sa.select(
                fb.c.finding_id,
                sa.func.sum(sa.case((fb.c.helpful, 1), else_=0)).label("helpful"),
                sa.func.sum(sa.case((fb.c.helpful, 0), else_=1)).label("not_helpful"),
            )
            .where(self._where(fb))
            .group_by(fb.c.finding_id)
            .subquery()
        )
        rows = self._conn.execute(
            sa.select(f.c.reviewer, f.c.code, f.c.verdict, marks.c.helpful, marks.c.not_helpful)
            .join_from(f, marks, marks.c.finding_id == f.c.id, isouter=True)
            .where(self._where(f))
        )
        by_reviewer: dict[str, dict[str, Any]] = {}
        for reviewer, code, verdict, helpful, not_helpful in rows:
            entry = by_reviewer.setdefault(
                reviewer, {"findings": 0, "block": 0, "warn": 0, "helpful": 0, "not_helpful": 0, "codes": {}}
            )
            entry["findings"] += 1
            entry[verdict] = entry.get(verdict, 0) + 1
            entry["helpful"] += int(helpful or 0)
            entry["not_helpful"] += int(not_helpful or 0)
            per_code = entry["codes"].setdefault(code, {"findings": 0, "helpful": 0, "not_helpful": 0})
            per_code["findings"] += 1
            per_code["helpful"] += int(helpful or 0)
            per_code["not_helpful"] += int(not_helpful or 0)
        return [
            FeedbackStats(
                reviewer=reviewer,
                findings=e["findings"],
                blocks=e["block"],
                warns=e["warn"],
                helpful=e["helpful"],
                not_helpful=e["not_helpful"],
                codes=dict(sorted(e["codes"].items())),
                downgraded=sorted(c for c in downgraded if c in e["codes"]),
            )
            for reviewer, e in sorted(by_reviewer.items())
        ]


def _finding(row: sa.Row[Any]) -> Finding:
    return Finding(
        id=row.id,
        reviewer=row.reviewer,
        code=row.code,
        verdict=row.verdict,
        item=row.item,
        span=Span.model_validate(row.span) if row.span else None,
        message=row.message,
        evidence=list(row.evidence),
        related=list(row.related),
        downgraded=row.downgraded,
    )
