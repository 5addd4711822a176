"""Changes: list and read proposals, and propose a change (it goes through review; nothing is written).

A proposal made in chat is like one made anywhere: reviewed by every reviewer, and applied
only when a member with the role accepts it (``deskops proposals accept``).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from deskops.changes.changeset import parse_change_set
from deskops.changes.proposals import create_proposal, report
from deskops.domain.changes import Evidence, Proposal, ProposalDraft, ProposalReport, ProposalState
from deskops.domain.types import Result
from deskops.operator.deps import OperatorDeps


class ProposalsQuery(Result):
    state: ProposalState | None = None
    limit: int = Field(default=20, ge=1, le=100)


class ProposalList(Result):
    proposals: list[Proposal]


class ProposalQuery(Result):
    proposal_id: int = Field(ge=1)


class ChangeRequest(Result):
    title: str = Field(min_length=3, max_length=200)
    description: str = Field(min_length=1, max_length=10_000)
    """What changes and why."""
    change_set: dict[str, Any]
    """articles, guidance, procedures, settings, archive (see docs/changes.md)."""
    evidence: Evidence = Field(default_factory=Evidence)


def list_proposals(deps: OperatorDeps, query: ProposalsQuery) -> ProposalList:
    """Proposals of the workspace, newest first (optionally only those in one state)."""
    with deps.services.uow() as uow:
        return ProposalList(
            proposals=uow.workspace(deps.workspace).proposals.list(state=query.state, limit=query.limit)
        )


def show_proposal(deps: OperatorDeps, query: ProposalQuery) -> ProposalReport:
    """One proposal: its diff, every reviewer's verdict and findings, and its revisions."""
    with deps.services.uow() as uow:
        return report(uow.workspace(deps.workspace), query.proposal_id)


def propose_change(deps: OperatorDeps, query: ChangeRequest) -> ProposalReport:
    """Propose a change to articles, rules, procedures or settings: it is reviewed, never applied here."""
    return store_proposal(deps, query.title, query.description, query.evidence, query.change_set)


def store_proposal(
    deps: OperatorDeps, title: str, description: str, evidence: Evidence, change_set: dict[str, Any]
) -> ProposalReport:
    """Store a proposal made in this turn (reviewed by every reviewer, nothing applied); the turn lists it."""
    draft = ProposalDraft(
        title=title, description=description, evidence=evidence, change_set=parse_change_set(change_set)
    )
    made = create_proposal(
        uow=deps.services.uow(),
        workspace=deps.workspace,
        draft=draft,
        actor=deps.actor,
        reviewing=deps.services.reviewing,
        replay=False,
    )
    if deps.runner is not None:
        deps.runner.proposals.append(made.proposal.id)
    return made
