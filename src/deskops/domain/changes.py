"""Changes to a workspace: change sets, proposals, their diffs and reviews, the policy, the audit log.

Every change to a workspace's content or configuration is a ``Proposal``: a change set
(what to write), why, the evidence, who proposed it, the version of every item it
started from, and a state that moves only along ``TRANSITIONS``. Reviewers check it and
return ``Review``s of ``Finding``s; a person decides; applying it writes new versions.
Every step is an ``AuditEvent`` in a per-workspace hash chain.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from deskops.domain.models import Role
from deskops.domain.types import Omitted, Result
from deskops.errors import Conflict

ItemKind = Literal["article", "guidance", "procedure", "settings", "policy"]
"""What a change set can touch. ``settings`` and ``policy`` are one document per workspace."""
ITEM_KINDS: tuple[ItemKind, ...] = ("article", "guidance", "procedure", "settings", "policy")
SINGLETONS: tuple[Literal["settings", "policy"], ...] = ("settings", "policy")
"""Kinds with one document per workspace; their external id is the kind's name."""


def item_key(kind: str, external_id: str) -> str:
    """An item's name in base versions, findings and the audit log: ``article:kb-0042``, ``settings``."""
    return kind if kind in SINGLETONS else f"{kind}:{external_id}"


def split_key(key: str) -> tuple[str, str]:
    """``article:kb-0042`` -> (``article``, ``kb-0042``); ``settings`` -> (``settings``, ``settings``)."""
    kind, _, external_id = key.partition(":")
    return kind, external_id or kind


# ------------------------------------------------------------------------------------- change sets


class ArchiveItem(Result):
    """Take an item out of service: an article is archived, a rule or procedure disabled."""

    kind: Literal["article", "guidance", "procedure"]
    external_id: str = Field(min_length=1, max_length=200)


class ChangeSet(Result):
    """What a proposal writes, in the format ``deskops replay --candidate`` reads, plus ``archive``.

    Each article, rule or procedure names its ``external_id``: for an existing item the
    other fields given replace the current ones (the rest stay as they are); a new item
    gives them all. ``settings`` and ``policy`` are merged over the current documents.
    """

    articles: list[dict[str, Any]] = Field(default_factory=list)
    guidance: list[dict[str, Any]] = Field(default_factory=list)
    procedures: list[dict[str, Any]] = Field(default_factory=list)
    settings: dict[str, Any] = Field(default_factory=dict)
    policy: dict[str, Any] = Field(default_factory=dict)
    """Changes to the workspace's review policy (admins decide them)."""
    archive: list[ArchiveItem] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.articles or self.guidance or self.procedures or self.settings or self.policy or self.archive
        )


Action = Literal["create", "update", "archive"]


class ItemChange(Result):
    """One item of a change set, resolved against the workspace: its content before and after."""

    kind: ItemKind
    external_id: str
    action: Action
    base_version: int | None
    """The version it starts from (None: a new item)."""
    before: dict[str, Any] | None
    """Content fields as they are (None: a new item)."""
    after: dict[str, Any]
    """Content fields as the proposal would write them."""

    @property
    def key(self) -> str:
        return item_key(self.kind, self.external_id)


# -------------------------------------------------------------------------------------------- diffs


class FieldChange(Result):
    """A field that changes: its JSON-pointer path, and its value before and after."""

    path: str
    """e.g. ``/title``, ``/condition/keywords/0``, ``/confidence_threshold``."""
    before: Any = None
    after: Any = None


class WordChange(Result):
    """A run of words inserted, deleted or kept inside a changed block."""

    op: Literal["equal", "insert", "delete"]
    text: str


class BlockChange(Result):
    """A markdown block (paragraph, list item, heading) of an article body, compared block by block."""

    op: Literal["equal", "insert", "delete", "replace"]
    index_before: int | None
    """Position of the block in the body before (None: inserted)."""
    index_after: int | None
    before: str | None
    after: str | None
    words: list[WordChange] = Field(default_factory=list)
    """Word-level changes of a replaced block."""


class ItemDiff(Result):
    """What changes in one item."""

    kind: ItemKind
    external_id: str
    action: Action
    title: str
    """The item's title (or its name) after the change."""
    fields: list[FieldChange]
    """Field-level changes (the body of an article is in ``blocks``)."""
    blocks: list[BlockChange] = Field(default_factory=list)
    """Block- then word-level changes of an article's body."""
    words_added: int
    words_removed: int

    @property
    def key(self) -> str:
        return item_key(self.kind, self.external_id)

    @property
    def changed_words(self) -> int:
        return self.words_added + self.words_removed


class Diff(Result):
    """Everything a proposal changes, item by item."""

    items: list[ItemDiff]
    changed_words: int


# ----------------------------------------------------------------------------------------- reviews

Verdict = Literal["pass", "warn", "block"]
VERDICT_ORDER: dict[str, int] = {"pass": 0, "warn": 1, "block": 2}


def worst(verdicts: Sequence[str]) -> Verdict:
    """The most severe of some verdicts (``pass`` when there are none)."""
    found = max(verdicts, key=lambda v: VERDICT_ORDER[v], default="pass")
    return "block" if found == "block" else "warn" if found == "warn" else "pass"


class Span(Result):
    """Where in the diff a finding points: a field of an item, and the text there."""

    path: str
    """JSON pointer into the item (``/body`` with a block index, ``/condition/keywords``)."""
    block: int | None = Omitted()
    """Index of the body block (articles)."""
    text: str
    """The words the finding is about."""


class Finding(Result):
    """One thing a reviewer noticed, in words a knowledge manager understands, with its evidence."""

    id: int | None = None
    """Set once stored: what feedback (helpful / not helpful) refers to."""
    reviewer: str = ""
    """Set by the review board from the reviewer that returned it."""
    code: str
    """The kind of finding, e.g. ``consistency.contradiction`` (what feedback learns from)."""
    verdict: Verdict
    item: str | None
    """The item of the diff it is about (``article:kb-0042``), or None for the whole proposal."""
    span: Span | None = None
    message: str
    evidence: list[str] = Field(default_factory=list)
    """What it rests on: other items, conversations, figures."""
    related: list[str] = Field(default_factory=list)
    """Other items of the workspace it names (a contradicted article, a referencing rule)."""
    downgraded: bool = False
    """True when the workspace's policy turned this finding from block into warn."""


class Review(Result):
    """One reviewer's verdict on one revision of a proposal."""

    reviewer: str
    verdict: Verdict
    findings: list[Finding]
    duration_ms: float
    summary: str = ""
    """One line: what was checked."""


# -------------------------------------------------------------------------------------- proposals


class ProposalState(enum.StrEnum):
    open = "open"
    approved = "approved"
    applied = "applied"
    reverted = "reverted"
    rejected = "rejected"
    superseded = "superseded"
    stale = "stale"


TRANSITIONS: dict[ProposalState, frozenset[ProposalState]] = {
    ProposalState.open: frozenset(
        {ProposalState.approved, ProposalState.rejected, ProposalState.superseded, ProposalState.stale}
    ),
    ProposalState.approved: frozenset({ProposalState.applied, ProposalState.stale, ProposalState.rejected}),
    ProposalState.applied: frozenset({ProposalState.reverted}),
    ProposalState.stale: frozenset({ProposalState.superseded, ProposalState.rejected}),
    ProposalState.reverted: frozenset(),
    ProposalState.rejected: frozenset(),
    ProposalState.superseded: frozenset(),
}
"""The only moves a proposal can make; anything else is refused."""


def check_transition(proposal_id: int, current: ProposalState, wanted: ProposalState) -> None:
    """Refuse an illegal move with a message that says what the proposal is and what it can become."""
    if wanted not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "nothing: it is final"
        raise Conflict(
            f"proposal {proposal_id} is {current.value}: it cannot become {wanted.value} (only {allowed})"
        )


class ActorKind(enum.StrEnum):
    member = "member"
    skill = "skill"
    system = "system"
    local = "local"
    """Someone at the command line with direct access to the database."""


class Actor(Result):
    """Who proposes, decides or writes: a member, a skill (with its run), the system, a local operator."""

    kind: ActorKind
    name: str
    """Email of a member, the skill's name, the system part (``feedback``), the local user's name."""
    role: Role
    run_id: str | None = Omitted()
    """A skill's run."""

    @property
    def label(self) -> str:
        return f"{self.kind.value}:{self.name}" + (f"#{self.run_id}" if self.run_id else "")


class MetricEvidence(Result):
    metric: str
    value: float | None
    query: dict[str, Any] = Field(default_factory=dict)
    """How to reproduce it: the metric query's parameters."""


class Evidence(Result):
    """What a proposal rests on."""

    conversations: list[str] = Field(default_factory=list)
    """External ids of conversations that show the problem."""
    metrics: list[MetricEvidence] = Field(default_factory=list)
    search_hits: list[str] = Field(default_factory=list)
    """Ids of search hits (``article:kb-1``, ``conversation:c-9``)."""
    notes: list[str] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.conversations or self.metrics or self.search_hits or self.notes)


class ProposalDraft(Result):
    """What someone asks to change, before it is stored and reviewed."""

    title: str = Field(min_length=3, max_length=200)
    description: str = Field(min_length=1, max_length=10_000)
    """What changes and why."""
    rationale: str = Field(default="", max_length=10_000)
    evidence: Evidence = Field(default_factory=Evidence)
    change_set: ChangeSet

    @field_validator("title", "description")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class Proposal(Result):
    """A reviewable change to a workspace, one revision of a thread."""

    id: int
    thread_id: int
    """Id of the thread's first revision: refinements share it."""
    revision: int
    """1 for the first version of a change, +1 per refinement."""
    state: ProposalState
    title: str
    description: str
    rationale: str
    evidence: Evidence
    author: Actor
    change_set: ChangeSet
    base_versions: dict[str, int | None]
    """``kind:external_id`` -> the version it started from (None: the item is new)."""
    verdict: Verdict | None
    """The overall verdict of its reviews (None until reviewed)."""
    auto_approved: bool = False
    created_at: datetime
    updated_at: datetime
    decided_by: str | None = None
    decision_reason: str | None = None
    supersedes: int | None = None
    superseded_by: int | None = None
    applied_versions: dict[str, int] = Field(default_factory=dict)
    """``kind:external_id`` -> the version applying it wrote (what a revert checks and undoes)."""

    def require(self, *states: ProposalState) -> None:
        """Raise Conflict unless the proposal is in one of ``states``."""
        if self.state not in states:
            wanted = " or ".join(s.value for s in states)
            raise Conflict(f"proposal {self.id} is {self.state.value}, not {wanted}")

    @property
    def items(self) -> list[str]:
        return list(self.base_versions)


class ProposalReport(Result):
    """A proposal with everything a reviewer of it needs: the diff, every review, the thread."""

    proposal: Proposal
    diff: Diff
    reviews: list[Review]
    verdict: Verdict | None
    thread: list[Proposal]
    """Every revision of the thread, oldest first."""


# ------------------------------------------------------------------------------------------ policy

SENSITIVE_TOPICS: dict[str, list[str]] = {
    "legal": ["lawyer", "legal", "lawsuit", "sue", "regulator", "ombudsman", "court", "press"],
    "security": ["fraud", "hacked", "compromised", "unauthorized", "unauthorised", "stolen", "phishing"],
    "account access": [
        "locked out",
        "account access",
        "two-factor",
        "2fa",
        "account closure",
        "close account",
    ],
    "payment disputes": ["chargeback", "dispute", "disputed"],
}
"""Subjects a person must handle, by name: the words that say a rule or procedure is about one."""


class StyleGuide(Result):
    """How the workspace's articles read (checked by the style reviewer; its findings only warn)."""

    max_words: int = Field(default=1500, ge=50)
    """An article longer than this should be split."""
    min_words: int = Field(default=25, ge=0)
    """A published article shorter than this is too thin to answer from."""
    headings_over_words: int = Field(default=300, ge=50)
    """An article longer than this needs headings."""
    max_grade: float = Field(default=10.0, ge=1.0, le=20.0)
    """Highest Flesch-Kincaid grade level of an article's text."""
    max_sentence_words: int = Field(default=35, ge=10)
    avoid: list[str] = Field(
        default_factory=lambda: ["utilize", "please note that", "simply", "obviously", "kindly", "etc."]
    )
    """Words and phrases the voice avoids."""
    locale: Literal["en-US", "en-GB"] | None = None
    """Spelling to check (``colour`` vs ``color``); None: not checked."""


class AutoApprove(Result):
    """Proposals that are accepted without a person, each labelled as such. Off by default."""

    enabled: bool = False
    max_items: int = Field(default=1, ge=1)
    max_changed_words: int = Field(default=30, ge=1)
    kinds: list[Literal["article", "guidance", "procedure"]] = Field(
        default_factory=lambda: ["article"]  # type: ignore[arg-type]
    )
    """Settings and policy changes are never auto-approved."""


class ImpactPolicy(Result):
    """How the impact reviewer replays a change, and which predicted drops warn or block."""

    replay_days: int = Field(default=30, ge=1, le=365)
    replay_limit: int = Field(default=80, ge=10, le=10_000)
    """Conversations replayed at most (evenly spread over the affected topics' period)."""
    warn_drop: float = Field(default=0.03, ge=0.0, le=1.0)
    """A topic's predicted AI resolution falling by this much warns ..."""
    block_drop: float = Field(default=0.10, ge=0.0, le=1.0)
    """... and by this much blocks."""
    min_conversations: int = Field(default=10, ge=1)
    """Topics with fewer replayed conversations are reported, never judged."""


class ReviewPolicy(Result):
    """A workspace's review policy: a versioned document, changed only through a proposal (admins decide)."""

    max_items: int = Field(default=5, ge=1, le=100)
    """A proposal touching more items is blocked and offered a split."""
    max_changed_words: int = Field(default=300, ge=10, le=100_000)
    min_confidence_threshold: float = Field(default=0.4, ge=0.0, le=1.0)
    """The AI agent's confidence threshold may not go below this."""
    allowed_domains: list[str] | None = None
    """Domains content may link to (subdomains too); None: those published content already links to."""
    sensitive_topics: dict[str, list[str]] = Field(default_factory=lambda: dict(SENSITIVE_TOPICS))
    style: StyleGuide = Field(default_factory=StyleGuide)
    auto_approve: AutoApprove = Field(default_factory=AutoApprove)
    impact: ImpactPolicy = Field(default_factory=ImpactPolicy)
    downgraded: list[str] = Field(default_factory=list)
    """Finding codes that warn instead of block in this workspace (feedback adds to it)."""
    feedback_downgrade_after: int = Field(default=3, ge=1)
    """A finding code marked not helpful this many times (and more often than helpful) is downgraded."""
    reviewer_timeout_s: float = Field(default=20.0, gt=0, le=600)
    """A reviewer still running after this long is reported as a warning."""


class PolicyVersion(Result):
    version: int
    """0: the built-in defaults (never changed in this workspace)."""
    policy: ReviewPolicy
    updated_at: datetime | None


# ---------------------------------------------------------------------------------------- history


class ItemVersion(Result):
    """One version of an item, with who wrote it and through which proposal."""

    kind: ItemKind
    external_id: str
    version: int
    at: datetime
    changed_by: str | None
    """Who wrote it (None: an import or the simulator)."""
    proposal_id: int | None
    why: str | None = None
    """The title of the proposal that wrote it."""
    content: dict[str, Any]


class Applied(Result):
    """What accepting or reverting a proposal wrote."""

    proposal: Proposal
    versions: dict[str, int]
    """``kind:external_id`` -> the version written."""
    already: bool = False
    """True when it had already been done (accepting twice applies once)."""


class FeedbackStats(Result):
    """How members rated one reviewer's findings in a workspace."""

    reviewer: str
    findings: int
    blocks: int
    warns: int
    helpful: int
    not_helpful: int
    codes: dict[str, dict[str, int]]
    """Per finding code: findings, helpful, not_helpful."""
    downgraded: list[str]


# ------------------------------------------------------------------------------------------- audit


GENESIS = "0" * 64
"""The "previous hash" of a chain's first event."""


def canonical_json(document: Any) -> str:
    """The one text a document hashes as: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_hash(previous: str, seq: int, event: str) -> str:
    """sha256(previous hash ‖ sequence ‖ canonical JSON of the event), hex."""
    return hashlib.sha256(f"{previous}|{seq}|{event}".encode()).hexdigest()


def digest(document: Any) -> str:
    """sha256 of a document's canonical JSON: how an event pins what it is about (a change set)."""
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()


class AuditEvent(Result):
    """One entry of a workspace's tamper-evident log."""

    seq: int
    """Gap-free, from 1."""
    kind: str
    """proposal.created, proposal.reviewed, proposal.accepted, proposal.applied, ..."""
    actor: str
    items: list[str] = Field(default_factory=list)
    """Items it concerns (``article:kb-0042``)."""
    proposal_id: int | None = None
    at: datetime
    data: dict[str, Any] = Field(default_factory=dict)
    hash: str
    """sha256(previous hash ‖ seq ‖ canonical JSON of the event), hex."""


class AuditVerification(Result):
    """The result of recomputing a workspace's chain."""

    workspace: str
    events: int
    ok: bool
    first_bad_seq: int | None
    """The first event that does not check out (None when all do)."""
    problem: str | None
    head: AuditHead | None


class AuditHead(Result):
    """The head of a chain, to keep outside the database: later verification detects truncation."""

    workspace: str
    seq: int
    hash: str
    at: datetime
    signature: str | None = None
    """HMAC-SHA256 of workspace|seq|hash with ``DESKOPS_AUDIT_KEY``, when set."""


AuditVerification.model_rebuild()
