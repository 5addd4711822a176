"""Pydantic models for everything a support workspace holds."""

from __future__ import annotations

import enum
import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

_WORKSPACE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


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
    created_at: AwareDatetime

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
        raise ValueError(f"invalid workspace name {value!r}: use 1-63 lowercase letters, digits, '-' or '_'")
    return value


def validate_time_zone(value: str) -> str:
    """Reject time zones the IANA database does not know."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r} (use an IANA name like 'Europe/Berlin')") from exc
    return value


class Member(_Model):
    id: int
    email: str
    name: str
    role: Role
    created_at: AwareDatetime


class Customer(_Model):
    external_id: str = Field(min_length=1, max_length=200)
    """The customer's id in the source system; unique per workspace."""
    name: str | None = None
    email: str | None = None
    plan: str | None = None
    region: str | None = None
    company_size: str | None = None
    signup_date: date | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    """Custom attributes, as the workspace defines them (may be sparse or empty)."""


class Message(_Model):
    author_kind: AuthorKind
    text: str
    created_at: AwareDatetime
    author_name: str | None = None
    cited_article_ids: list[str] = Field(default_factory=list)
    """External ids of the help-center articles this message cites."""


class Conversation(_Model):
    external_id: str = Field(min_length=1, max_length=200)
    customer_external_id: str | None = None
    created_at: AwareDatetime
    first_response_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    channel: str
    topic: str | None = None
    product_area: str | None = None
    language: str | None = None
    ai_involved: bool = False
    outcome: Outcome | None = None
    """None while the conversation is still open."""
    escalated_at: AwareDatetime | None = None
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
    created_at: AwareDatetime
    updated_at: AwareDatetime


class ArticleVersion(Article):
    version: int = Field(ge=1)


class GuidanceRule(_Model):
    external_id: str
    title: str
    body: str
    """The instruction as written for the front-line agent."""
    kind: str = "general"
    """tone, scope, handover or forbidden."""
    condition: dict[str, Any] = Field(default_factory=dict)
    """Segment the rule applies to, e.g. {"plan": "enterprise", "product_area": "billing"}."""
    enabled: bool = True
    updated_at: AwareDatetime
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
    updated_at: AwareDatetime
    version: int = 1


class AgentSettings(_Model):
    settings: dict[str, Any]
    updated_at: AwareDatetime
    version: int = 1


class Event(_Model):
    name: str = Field(min_length=1)
    occurred_at: AwareDatetime
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
    created_at: AwareDatetime
    updated_at: AwareDatetime


class Decision(enum.StrEnum):
    """The one thing the front-line agent does with a customer message."""

    answer = "answer"
    clarify = "clarify"
    procedure_step = "procedure_step"
    handover = "handover"


class DecisionTrace(_Model):
    """Why the front-line agent replied as it did: what "debug this conversation" reads.

    Customer text in a trace is redacted (see ``frontline.redact``); it never holds
    personal data.
    """

    conversation_external_id: str | None = None
    message_index: int | None = Field(default=None, ge=0)
    """Position of the customer message in the conversation, when known."""
    created_at: AwareDatetime
    query: str
    """The query as searched (redacted)."""
    passages: list[dict[str, Any]] = Field(default_factory=list)
    """id, title, section, score and fusion ranks of each retrieved passage."""
    rules: list[dict[str, Any]] = Field(default_factory=list)
    """Every enabled guidance rule considered: id, version, kind, whether it matched and its effect."""
    procedure: dict[str, Any] | None = None
    """The procedure in progress: id, version, step, data collected (names only) and missing."""
    topic: dict[str, Any] | None = None
    """The inferred topic and how sure (vote share among similar past conversations)."""
    signals: dict[str, Any] = Field(default_factory=dict)
    """Prompt-injection signals and redactions found in the customer's text (kinds, not values)."""
    confidence: float
    threshold: float
    decision: Decision
    reason: str
    reply: str
    citations: list[str] = Field(default_factory=list)
    model: str
    """``offline`` or the provider:model that wrote the answer."""
    latency_ms: float
