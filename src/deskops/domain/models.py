"""Pydantic models for everything a support workspace holds."""

from __future__ import annotations

import enum
import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from deskops.domain.types import Omitted
from deskops.errors import InvalidInput

_WORKSPACE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2101, 1, 1, tzinfo=UTC)


def _plausible(moment: datetime) -> datetime:
    """Refuse a moment no support record can have (year 1, 9999): every reader would trip on it."""
    if not EARLIEST <= moment < LATEST:
        raise InvalidInput(f"{moment.isoformat()} is out of range: use a time from 1970 to 2100")
    return moment


def _plausible_day(day: date) -> date:
    if not EARLIEST.date() <= day < LATEST.date():
        raise InvalidInput(f"{day.isoformat()} is out of range: use a day from 1970 to 2100")
    return day


Moment = Annotated[AwareDatetime, AfterValidator(_plausible)]
"""An aware datetime between 1970 and 2100: what every record of a workspace carries."""
Day = Annotated[date, AfterValidator(_plausible_day)]


class Role(enum.StrEnum):
    """What a workspace member may do; each role includes the ones before it."""

    viewer = "viewer"
    editor = "editor"
    admin = "admin"

    def allows(self, needed: Role) -> bool:
        """True when this role is at least as strong as ``needed``."""
        order = [Role.viewer, Role.editor, Role.admin]
        return order.index(self) >= order.index(needed)


class Outcome(enum.StrEnum):
    ai_resolved = "ai_resolved"
    human_resolved = "human_resolved"
    escalated_unresolved = "escalated_unresolved"
    abandoned = "abandoned"


class AuthorKind(enum.StrEnum):
    customer = "customer"
    ai_agent = "ai_agent"
    human_agent = "human_agent"
    system = "system"


class ContentState(enum.StrEnum):
    draft = "draft"
    published = "published"
    archived = "archived"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False)


class Workspace(_Model):
    id: int
    name: str
    time_zone: str = "UTC"
    created_at: Moment

    @field_validator("name")
    @classmethod
    def _name_is_slug(cls, value: str) -> str:
        return validate_workspace_name(value)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return validate_time_zone(value)


def validate_workspace_name(value: str) -> str:
    """Workspace names are lowercase slugs: they appear in URLs and file names."""
    if not _WORKSPACE_NAME.match(value):
        raise InvalidInput(
            f"invalid workspace name {value!r}: use 1-63 lowercase letters, digits, '-' or '_'"
        )
    return value


def validate_time_zone(value: str) -> str:
    """Reject time zones the IANA database does not know."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown time zone {value!r} (use an IANA name like 'Europe/Berlin')") from exc
    return value


class Member(_Model):
    id: int
    email: str
    name: str
    role: Role
    created_at: Moment


class Customer(_Model):
    external_id: str = Field(min_length=1, max_length=200)
    """The customer's id in the source system; unique per workspace."""
    name: str | None = None
    email: str | None = None
    plan: str | None = None
    region: str | None = None
    company_size: str | None = None
    signup_date: Day | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    """Custom attributes, as the workspace defines them (may be sparse or empty)."""


class Message(_Model):
    author_kind: AuthorKind
    text: str
    created_at: Moment
    author_name: str | None = None
    cited_article_ids: list[str] = Field(default_factory=list)
    """External ids of the help-center articles this message cites."""


class Conversation(_Model):
    external_id: str = Field(min_length=1, max_length=200)
    customer_external_id: str | None = None
    created_at: Moment
    first_response_at: Moment | None = None
    closed_at: Moment | None = None
    channel: str
    topic: str | None = None
    product_area: str | None = None
    language: str | None = None
    ai_involved: bool = False
    outcome: Outcome | None = None
    """None while the conversation is still open."""
    escalated_at: Moment | None = None
    first_response_seconds: float | None = Field(default=None, ge=0)
    handling_seconds: float | None = Field(default=None, ge=0)
    csat: int | None = Field(default=None, ge=1, le=5)
    reopen_count: int = Field(default=0, ge=0)
    team: str | None = None
    tags: list[str] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)
    messages: list[Message] = Field(default_factory=list)

    @model_validator(mode="after")
    def _timestamps_in_order(self) -> Conversation:
        for name in ("first_response_at", "closed_at", "escalated_at"):
            value = getattr(self, name)
            if value is not None and value < self.created_at:
                raise ValueError(f"{name} is before created_at")
        return self


class Article(_Model):
    external_id: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1)
    body: str
    """Markdown."""
    product_area: str | None = None
    locale: str = "en"
    state: ContentState = ContentState.published
    author: str | None = None
    created_at: Moment
    updated_at: Moment


class ArticleVersion(Article):
    version: int = Field(ge=1)


class RuleKind(enum.StrEnum):
    """What a guidance rule does."""

    handover = "handover"
    """Hand the conversation to a person when the condition holds."""
    forbidden = "forbidden"
    """Subjects the agent must not answer (``keywords``); it hands over."""
    tone = "tone"
    """A wording instruction (given to a model; language rules honoured offline by handing over)."""
    general = "general"
    """Any other wording instruction."""


SEGMENT_KEYS = ("plan", "region", "company_size", "channel", "product_area", "language")
"""Condition keys that name a segment of customers or conversations (all must match)."""


class RuleCondition(_Model):
    """When a handover or forbidden rule applies; every key given must hold. Unknown keys are refused."""

    # Keys left out are stored and shown as absent ({"keywords": [...]}), not as nulls.
    keywords: list[str] | None = Omitted()
    """Any of these words or phrases in the customer's messages."""
    topic: str | None = Omitted()
    """The conversation's topic (inferred), or a message about what the rule names."""
    failed_answers: int | None = Omitted(ge=1)
    """The customer said this many AI answers did not help."""
    plan: str | None = Omitted()
    region: str | None = Omitted()
    company_size: str | None = Omitted()
    channel: str | None = Omitted()
    product_area: str | None = Omitted()
    language: str | None = Omitted()

    @field_validator("keywords", mode="before")
    @classmethod
    def _one_keyword_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def segment(self) -> dict[str, str]:
        """The segment keys this condition sets."""
        return {k: v for k in SEGMENT_KEYS if (v := getattr(self, k)) is not None}


class GuidanceRule(_Model):
    external_id: str = Field(min_length=1, max_length=200)
    title: str
    body: str
    """The instruction as written for the front-line agent."""
    kind: RuleKind = RuleKind.general
    condition: RuleCondition = Field(default_factory=RuleCondition)
    """When the rule applies, e.g. {"plan": "Enterprise", "product_area": "billing"}."""
    enabled: bool = True
    updated_at: Moment
    version: int = 1


class ProcedureStep(_Model):
    instruction: str
    requires: list[str] = Field(default_factory=list)


class Procedure(_Model):
    external_id: str
    title: str
    trigger_topics: list[str] = Field(default_factory=list)
    steps: list[ProcedureStep]
    required_data: list[str] = Field(default_factory=list)
    enabled: bool = True
    updated_at: Moment
    version: int = 1


CONFIDENCE_FEATURES = (
    "fused",
    "margin",
    "dense",
    "keyword",
    "agree",
    "matched_share",
    "question",
    "question_support",
    "question_lead",
    "known",
    "search_first",
    "length",
    "short",
    "topic",
)
"""What the front-line agent's confidence model may weigh, for one candidate article (the
definitions are in ``frontline/confidence.py`` and docs/frontline.md)."""


class CalibrationSource(_Model):
    """Data a confidence model was fitted on: its provenance, checked by a test."""

    dataset: Literal["banking77", "simulated", "workspace"]
    split: str | None = None
    """For Banking77 always ``train``: the test split is only ever used to evaluate."""
    seed: int | None = None
    """The development episode (which intents are in scope, which questions are asked)."""
    history: int | None = None
    """Past resolved conversations per article in that episode's help center."""
    questions: int = Field(ge=0)
    """Labelled questions it gave."""


class ConfidenceModel(_Model):
    """A calibrated confidence: P(answering from this article is right) =
    logistic(intercept + sum of weight x feature).

    The shipped default is fitted on development data only; a workspace refit on its own history
    (``deskops frontline calibrate``) is stored in the agent's settings, versioned with them.
    """

    kind: Literal["default", "workspace"] = "workspace"
    features: list[str] = Field(min_length=1)
    """Names from ``CONFIDENCE_FEATURES``, in the order of ``weights`` and ``means``."""
    weights: list[float]
    intercept: float
    means: list[float]
    """Each feature's mean on the data it was fitted on: a trace reads what moved a decision against them."""
    fitted_on: str = Field(min_length=1, max_length=500)
    """What it was fitted on, in words."""
    sources: list[CalibrationSource] = Field(default_factory=list)
    examples: int = Field(ge=1)
    """Labelled candidate articles it was fitted on."""
    fitted_at: Day | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ConfidenceModel:
        unknown = sorted(set(self.features) - set(CONFIDENCE_FEATURES))
        if unknown:
            raise ValueError(f"unknown feature(s) {', '.join(unknown)}; use {', '.join(CONFIDENCE_FEATURES)}")
        if len(set(self.features)) != len(self.features):
            raise ValueError("a feature is named twice")
        if not len(self.weights) == len(self.means) == len(self.features):
            raise ValueError("features, weights and means must have the same length")
        if not all(abs(v) < 1e6 for v in [*self.weights, *self.means, self.intercept]):
            raise ValueError("weights, means and intercept must be finite numbers")
        return self

    def describe(self) -> str:
        """One line: which model, when and on what it was fitted."""
        when = f" {self.fitted_at.isoformat()}" if self.fitted_at else ""
        return f"{self.kind} (fitted{when} on {self.examples:,} {self.fitted_on})"


class FrontlineSettings(_Model):
    """The front-line AI agent's settings document. Unknown keys are refused: a typo must not pass."""

    enabled: bool = True
    """False: the agent hands every conversation over."""
    channels: list[str] | None = None
    """Channels the agent answers on (None: all)."""
    confidence_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    """Answer only when the chance that answering is right is at least this (None: the agent's default)."""
    confidence_model: ConfidenceModel | None = None
    """The calibrated confidence model (None: the default shipped with deskops)."""
    handover_team: str | None = None
    """Who hand-overs go to, named in the reasons."""
    max_turns: int | None = Field(default=None, ge=1)
    """Hand over once the AI has replied this many times in a conversation."""
    languages: list[str] | None = None
    """Languages the workspace serves (ISO 639-1)."""


class AgentSettings(_Model):
    settings: FrontlineSettings
    updated_at: Moment
    version: int = 1


class Event(_Model):
    name: str = Field(min_length=1)
    occurred_at: Moment
    customer_external_id: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)


class CohortDefinition(_Model):
    """Customers grouped by who they are and what they did."""

    plan: str | None = None
    region: str | None = None
    company_size: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    """Custom customer attributes that must equal these values."""
    min_conversations: int | None = Field(default=None, ge=1)
    """Behaviour: at least this many conversations ..."""
    within_days: int = Field(default=30, ge=1, le=3650)
    """... in the days before the end of the period being analysed."""


class Cohort(_Model):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]*$")
    definition: CohortDefinition
    created_at: Moment
    updated_at: Moment


class Decision(enum.StrEnum):
    """The one thing the front-line agent does with a customer message."""

    answer = "answer"
    clarify = "clarify"
    procedure_step = "procedure_step"
    handover = "handover"


class PassageTrace(_Model):
    """A retrieved passage as the decision saw it."""

    id: str
    title: str
    section: str | None
    score: float
    bm25_rank: int | None
    dense_rank: int | None


class RuleTrace(_Model):
    """One enabled guidance rule, checked against the conversation."""

    id: str
    version: int
    kind: RuleKind
    title: str
    matched: bool
    effect: str
    """What it did, or why it did not apply."""


class ProcedureTrace(_Model):
    """The procedure in progress: which step, the data collected (names only) and missing."""

    why: str
    """Why the procedure applies: its topic, or a message about its subject."""
    id: str
    version: int
    title: str
    step: int
    """1-based step being run."""
    instruction: str | None
    collected: list[str]
    missing: list[str]
    action: Literal["ask", "handover"]


class TopicTrace(_Model):
    """The inferred topic and how sure the vote was; keys that do not apply are left out."""

    topic: str | None
    """The topic used (None: not sure enough)."""
    best: str | None = Omitted()
    """The topic with the most votes, even under the share needed."""
    share: float | None = Omitted()
    """Its share of the votes."""
    source: str
    """given, or what voted (similar conversations, the best article's citations)."""
    neighbours: int | None = Omitted()
    """Similar past conversations that voted."""


class CandidateTrace(_Model):
    """One retrieved article the agent judged: its chance of being the right answer, and why."""

    article: str
    """``article:<id>``."""
    search_rank: int = Field(ge=1)
    probability: float
    features: dict[str, float]


class ConfidenceTrace(_Model):
    """How the agent judged its chance of answering right: the model, the article an answer would come
    from (the likeliest candidate), and which features moved its probability most."""

    article: str
    """``article:<id>`` the judgement is about (the one an answer would come from)."""
    model: str
    """``default`` or ``workspace`` (a refit on its own history), with when and on how much it was fitted."""
    drivers: list[str]
    """The features that moved the probability most from the model's average candidate, strongest
    first, e.g. ``question 0.91 (+2.10)``: value, then its contribution to the log-odds."""
    candidates: list[CandidateTrace]
    """Every retrieved article, in search order, with its probability and features."""


class TraceSignals(_Model):
    """What was noticed in the customer's text: kinds, never values."""

    injection: list[str] = Field(default_factory=list)
    """Prompt-injection patterns found (they change nothing)."""
    redacted: dict[str, int] = Field(default_factory=dict)
    """Personal data and secrets replaced, by kind."""


TRACE_TEXT_LIMIT = 2000
"""Characters kept of a trace's query, reply and reason (longer text is cut, marked with …)."""
TRACE_LIST_LIMIT = 50
"""Passages and rules kept in one trace (a workspace with more rules keeps the first 50 checked)."""


class DecisionTrace(_Model):
    """Why the front-line agent replied as it did: what "debug this conversation" reads.

    Customer text in a trace is redacted (see ``frontline.redact``); it never holds
    personal data or secrets. Its size is capped, whatever the customer sends.
    """

    @model_validator(mode="before")
    @classmethod
    def _capped(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for name in ("query", "reply", "reason"):
                text = data.get(name)
                if isinstance(text, str) and len(text) > TRACE_TEXT_LIMIT:
                    data[name] = text[: TRACE_TEXT_LIMIT - 1] + "…"
            for name in ("passages", "rules"):
                items = data.get(name)
                if isinstance(items, list) and len(items) > TRACE_LIST_LIMIT:
                    data[name] = items[:TRACE_LIST_LIMIT]
        return data

    conversation_external_id: str | None = None
    message_index: int | None = Field(default=None, ge=0)
    """Position of the customer message in the conversation, when known."""
    created_at: Moment
    query: str
    """The query as searched (redacted)."""
    passages: list[PassageTrace] = Field(default_factory=list)
    """Each retrieved passage with its score and fusion ranks."""
    rules: list[RuleTrace] = Field(default_factory=list)
    """Every enabled guidance rule considered: whether it matched and its effect."""
    procedure: ProcedureTrace | None = None
    topic: TopicTrace | None = None
    signals: TraceSignals = Field(default_factory=TraceSignals)
    confidence: float
    """The chance that answering is right (calibrated; 0 when nothing was retrieved)."""
    threshold: float
    """Answer at this chance or above."""
    calibration: ConfidenceTrace | None = Omitted()
    """How the confidence was reached (left out when the agent decided before retrieving)."""
    decision: Decision
    reason: str
    reply: str
    citations: list[str] = Field(default_factory=list)
    model: str
    """``offline`` or the provider:model that wrote the answer."""
    latency_ms: float
