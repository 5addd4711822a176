"""Changes through the action layer: propose edits, new items, archives, rules, procedures, settings; decide.

Nothing here writes content. Each ``propose_*`` tool builds a change set from typed fields,
checks it against the workspace (the article exists, the text to replace is in it, the
segment values and topics are ones the data has) and hands it to ``create_proposal``: it
is reviewed by every reviewer and stays open until a member with the role decides.
Deciding (``accept_proposal``, ``reject_proposal``) needs the member's approval in chat:
the agent stops and asks (PydanticAI's deferred tools), and a skill cannot call them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from deskops.changes.apply import apply_proposal
from deskops.changes.changeset import decided_by, resolve
from deskops.changes.proposals import reject_proposal as reject
from deskops.domain.changes import Evidence, Proposal, ProposalReport, ProposalState
from deskops.domain.models import SEGMENT_KEYS, FrontlineSettings, ProcedureStep, RuleCondition, RuleKind
from deskops.domain.types import Result
from deskops.errors import Conflict, InvalidInput
from deskops.operator.blocks import Block, ProposalBlock
from deskops.operator.deps import OperatorDeps
from deskops.operator.tools.changes import store_proposal
from deskops.operator.tools.reporting import Report, segment_error, table

MAX_BODY = 50_000


class ProposalMade(Report):
    """A proposal as stored and reviewed: what it changes, what the reviewers said, who may accept it."""

    report: ProposalReport
    decided_by: str
    """The weakest role that may accept it (admin for settings and policy)."""

    def blocks(self) -> list[Block]:
        return [ProposalBlock(report=self.report)]


class Why(Result):
    description: str = Field(min_length=1, max_length=2000)
    """What changes and why, for the reviewers and the member who decides."""
    evidence: Evidence = Field(default_factory=Evidence)
    """Conversations, metrics and search hits the change rests on."""


def _propose(deps: OperatorDeps, title: str, why: Why, change_set: dict[str, Any]) -> ProposalMade:
    made = store_proposal(deps, title[:200], why.description, why.evidence, change_set)
    with deps.services.uow() as uow:
        role = decided_by(
            resolve(
                made.proposal.change_set, uow.workspace(deps.workspace), bases=made.proposal.base_versions
            )
        )
    p = made.proposal
    findings = [f for r in made.reviews for f in r.findings if f.verdict != "pass"]
    summary = [
        f"Proposal {p.id} ({p.title!r}) is {p.state.value}; its reviewers' verdict: {made.verdict}."
        + (" It was auto-approved by the workspace's policy." if p.auto_approved else "")
    ]
    summary += [f"{f.reviewer}: {f.message}" for f in findings[:3]]
    if p.state is ProposalState.open:
        summary.append(f"Nothing is written until a member with the {role.value} role accepts it.")
    return ProposalMade(summary=summary, report=made, decided_by=role.value)


def _current_text(deps: OperatorDeps, external_id: str) -> tuple[str, str]:
    with deps.services.uow() as uow:
        article = uow.workspace(deps.workspace).articles.get(external_id)
    return article.title, article.body


# --------------------------------------------------------------------------------------------- articles


class Replacement(Result):
    old: str = Field(min_length=1, max_length=5000)
    """Text in the article now (every occurrence is replaced)."""
    new: str = Field(max_length=5000)


class ArticleEdit(Why):
    external_id: str = Field(min_length=1, max_length=200)
    """The article to change (see ``search_help_center``)."""
    replacements: list[Replacement] = Field(default_factory=list, max_length=20)
    """Targeted edits: the usual way to correct a fact."""
    body: str | None = Field(default=None, max_length=MAX_BODY)
    """A whole new body (markdown), instead of replacements."""
    title: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_way(self) -> ArticleEdit:
        if self.body is not None and self.replacements:
            raise ValueError("give replacements or a whole body, not both")
        if self.body is None and not self.replacements and self.title is None:
            raise ValueError("nothing to change: give replacements, a body or a title")
        return self


def propose_article_edit(deps: OperatorDeps, query: ArticleEdit) -> ProposalMade:
    """Propose an edit to a help-center article (replacements or a new body); reviewed, not applied."""
    original, body = _current_text(deps, query.external_id)
    title = original
    for r in query.replacements:
        if r.old not in body and r.old not in title:
            raise InvalidInput(f"{query.external_id} does not contain {r.old[:80]!r}: nothing to replace")
        body = body.replace(r.old, r.new)
        title = title.replace(r.old, r.new) if r.old in title else title
    item: dict[str, Any] = {"external_id": query.external_id}
    if query.body is not None:
        item["body"] = query.body
    elif query.replacements:
        item["body"] = body
    if query.title is not None or title != original:
        item["title"] = query.title or title
    return _propose(deps, f"Edit {query.external_id}: {title}", query, {"articles": [item]})


class NewArticle(Why):
    title: str = Field(min_length=3, max_length=200)
    body: str = Field(min_length=1, max_length=MAX_BODY)
    """Markdown."""
    product_area: str | None = Field(default=None, max_length=100)
    state: Literal["draft", "published"] = "draft"
    """draft: reviewed and stored, not shown to customers until published."""
    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    """Default: the next free ``kb-NNNN``."""


def next_article_id(ids: list[str]) -> str:
    """The next ``kb-NNNN`` after the highest one in use."""
    numbers = [int(m.group(1)) for i in ids if (m := re.fullmatch(r"kb-(\d+)", i))]
    return f"kb-{max(numbers, default=0) + 1:04d}"


def propose_new_article(deps: OperatorDeps, query: NewArticle) -> ProposalMade:
    """Propose a new help-center article (a draft unless asked to publish); it is reviewed, not applied."""
    with deps.services.uow() as uow:
        ids = list(uow.workspace(deps.workspace).articles.current_versions())
    external_id = query.external_id or next_article_id(ids)
    if external_id in ids:
        raise Conflict(f"article {external_id} exists: propose an edit to it instead")
    item = {"external_id": external_id, "title": query.title, "body": query.body, "state": query.state}
    if query.product_area:
        item["product_area"] = query.product_area
    return _propose(deps, f"New article {external_id}: {query.title}", query, {"articles": [item]})


class ArchiveRequest(Why):
    kind: Literal["article", "guidance", "procedure"]
    external_id: str = Field(min_length=1, max_length=200)


def propose_archive(deps: OperatorDeps, query: ArchiveRequest) -> ProposalMade:
    """Propose taking an item out of service: archive an article, disable a rule or a procedure."""
    verb = "Archive" if query.kind == "article" else "Disable"
    return _propose(
        deps,
        f"{verb} {query.kind} {query.external_id}",
        query,
        {"archive": [{"kind": query.kind, "external_id": query.external_id}]},
    )


# ------------------------------------------------------------------------------------ rules, procedures


def _segment_values(deps: OperatorDeps) -> dict[str, list[str]]:
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        snapshot = deps.services.columns.snapshot(scope)
        values = {
            k: sorted(str(v) for v in snapshot.dictionaries[k].values)
            for k in SEGMENT_KEYS
            if k in snapshot.dictionaries
        }
        values["topic"] = sorted(t for t, _ in scope.stats.counts_by("topic") if t is not None)
    return values


def _check_values(deps: OperatorDeps, wanted: dict[str, str | None]) -> None:
    known = _segment_values(deps)
    for key, value in wanted.items():
        if value is not None and key in known and value not in known[key]:
            raise InvalidInput(segment_error(key, value, known[key]))


class RuleChange(Why):
    external_id: str = Field(min_length=1, max_length=200)
    """An existing rule to change, or the id of a new one."""
    title: str | None = Field(default=None, min_length=1, max_length=200)
    body: str | None = Field(default=None, min_length=1, max_length=5000)
    """The instruction as the front-line agent reads it."""
    kind: RuleKind | None = None
    condition: RuleCondition | None = None
    """When it applies; segment values and topics must be ones the workspace's data has."""
    enabled: bool | None = None


def propose_guidance_rule(deps: OperatorDeps, query: RuleChange) -> ProposalMade:
    """Propose a new guidance rule or a change to one (kind, condition, wording); reviewed, not applied."""
    if query.condition is not None:
        wanted: dict[str, str | None] = dict(query.condition.segment())
        wanted["topic"] = query.condition.topic
        _check_values(deps, wanted)
    item: dict[str, Any] = {"external_id": query.external_id}
    for name in ("title", "body", "enabled"):
        if (value := getattr(query, name)) is not None:
            item[name] = value
    if query.kind is not None:
        item["kind"] = query.kind.value
    if query.condition is not None:
        item["condition"] = query.condition.model_dump(mode="json", exclude_none=True)
    if len(item) == 1:
        raise InvalidInput("nothing to change: give a title, body, kind, condition or enabled")
    return _propose(deps, f"Guidance rule {query.external_id}", query, {"guidance": [item]})


class ProcedureChange(Why):
    external_id: str = Field(min_length=1, max_length=200)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    trigger_topics: list[str] | None = Field(default=None, max_length=20)
    """Topics that start it; each must be a topic the workspace's conversations have."""
    steps: list[ProcedureStep] | None = Field(default=None, min_length=1, max_length=30)
    required_data: list[str] | None = Field(default=None, max_length=20)
    enabled: bool | None = None


def propose_procedure(deps: OperatorDeps, query: ProcedureChange) -> ProposalMade:
    """Propose a new procedure or a change to one (triggers, steps, data it needs); reviewed, not applied."""
    for topic in query.trigger_topics or []:
        _check_values(deps, {"topic": topic})
    item: dict[str, Any] = {"external_id": query.external_id}
    for name in ("title", "trigger_topics", "required_data", "enabled"):
        if (value := getattr(query, name)) is not None:
            item[name] = value
    if query.steps is not None:
        item["steps"] = [s.model_dump(mode="json") for s in query.steps]
    if len(item) == 1:
        raise InvalidInput("nothing to change: give a title, triggers, steps, required data or enabled")
    return _propose(deps, f"Procedure {query.external_id}", query, {"procedures": [item]})


class SettingsChange(Why):
    enabled: bool | None = None
    channels: list[str] | None = None
    confidence_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    handover_team: str | None = Field(default=None, min_length=1, max_length=100)
    max_turns: int | None = Field(default=None, ge=1, le=100)
    languages: list[str] | None = None


def propose_settings(deps: OperatorDeps, query: SettingsChange) -> ProposalMade:
    """Propose a change to the AI agent's settings (threshold, channels, turn limit ...); an admin decides."""
    # The confidence model is refitted from history (`deskops frontline calibrate`), not typed in.
    editable = [k for k in FrontlineSettings.model_fields if k in SettingsChange.model_fields]
    patch = {k: v for k in editable if (v := getattr(query, k)) is not None}
    if not patch:
        raise InvalidInput(f"nothing to change: give one of {', '.join(editable)}")
    return _propose(deps, "AI agent settings: " + ", ".join(sorted(patch)), query, {"settings": patch})


# -------------------------------------------------------------------------------------------- reviewing


class QueueQuery(Result):
    state: ProposalState = ProposalState.open
    limit: int = Field(default=20, ge=1, le=100)


class QueueLine(Result):
    id: int
    title: str
    state: ProposalState
    verdict: str | None
    reviews: dict[str, str]
    """Reviewer -> verdict."""
    blocking: list[str]
    """What the reviewers that block say (first findings)."""
    items: list[str]
    decided_by: str
    """The weakest role that may accept it."""
    you_can_decide: bool
    age_days: int


class ReviewQueue(Report):
    proposals: list[QueueLine]

    def blocks(self) -> list[Block]:
        rows = [
            [
                p.id,
                p.verdict,
                p.decided_by,
                p.you_can_decide,
                p.age_days,
                "; ".join(p.blocking)[:200],
                p.title,
            ]
            for p in self.proposals
        ]
        return [
            table(
                "Proposals",
                ["id", "verdict", "decided by", "you can decide", "days", "blocking", "title"],
                rows,
            )
        ]


def review_queue(deps: OperatorDeps, query: QueueQuery) -> ReviewQueue:
    """Proposals waiting for a decision: every reviewer's verdict, what blocks them, who can decide."""
    lines = []
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        for p in scope.proposals.list(state=query.state, limit=query.limit):
            reviews = scope.reviews.for_proposal(p.id)
            role = decided_by(resolve(p.change_set, scope, bases=p.base_versions))
            lines.append(
                QueueLine(
                    id=p.id,
                    title=p.title,
                    state=p.state,
                    verdict=p.verdict,
                    reviews={r.reviewer: r.verdict for r in reviews},
                    blocking=[f.message[:200] for r in reviews for f in r.findings if f.verdict == "block"][
                        :3
                    ],
                    items=p.items,
                    decided_by=role.value,
                    you_can_decide=deps.actor.role.allows(role),
                    age_days=(datetime.now(UTC) - p.created_at).days,
                )
            )
    blocked = [line for line in lines if line.verdict == "block"]
    summary = [f"{len(lines)} {query.state.value} proposals; {len(blocked)} blocked by their reviewers."]
    for line in blocked[:3]:
        why = line.blocking[0] if line.blocking else "see its reviews"
        summary.append(f"Proposal {line.id} ({line.title!r}) is blocked: {why}.")
    ready = [line for line in lines if line.verdict != "block" and line.you_can_decide]
    if ready and query.state is ProposalState.open:
        summary.append(
            f"You can accept {', '.join(str(line.id) for line in ready[:8])} (acceptance asks for your "
            "approval)."
        )
    return ReviewQueue(summary=summary, proposals=lines)


class DecisionQuery(Result):
    proposal_id: int = Field(ge=1)


class AcceptRequest(DecisionQuery):
    override: str | None = Field(default=None, min_length=1, max_length=1000)
    """Admins only: accept a proposal its reviewers block, saying why."""


class DecisionMade(Report):
    proposal: Proposal
    versions: dict[str, int]
    """``kind:external_id`` -> the version written (accepts)."""


def accept_proposal(deps: OperatorDeps, query: AcceptRequest) -> DecisionMade:
    """Accept and apply a proposal (asks the member's approval first; the role is checked per item)."""
    applied = apply_proposal(
        uow=deps.services.uow(),
        workspace=deps.workspace,
        proposal_id=query.proposal_id,
        actor=deps.actor,
        override=query.override,
    )
    p = applied.proposal
    written = ", ".join(f"{k} v{v}" for k, v in applied.versions.items())
    summary = [
        f"Proposal {p.id} ({p.title!r}) was already applied."
        if applied.already
        else f"Proposal {p.id} ({p.title!r}) is {p.state.value}: wrote {written}."
    ]
    return DecisionMade(summary=summary, proposal=p, versions=applied.versions)


class RejectRequest(DecisionQuery):
    reason: str = Field(min_length=3, max_length=2000)
    """Why: it is what the author learns from."""


def reject_proposal(deps: OperatorDeps, query: RejectRequest) -> DecisionMade:
    """Reject a proposal with a reason (asks the member's approval first)."""
    p = reject(
        uow=deps.services.uow(),
        workspace=deps.workspace,
        proposal_id=query.proposal_id,
        actor=deps.actor,
        reason=query.reason,
    )
    return DecisionMade(
        summary=[f"Proposal {p.id} ({p.title!r}) is rejected: {query.reason}"], proposal=p, versions={}
    )
