"""The Operator's run log: one record per turn, and the figures ``deskops runs stats`` reports."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import Field

from deskops.domain.types import Result


class RunOutcome(enum.StrEnum):
    answered = "answered"
    """A skill or a tool answered (a "no significant change" included)."""
    clarified = "clarified"
    """The question needed something it did not say (which conversation, which article): one question back."""
    abstained = "abstained"
    """Out of scope: the Operator said what it can do instead."""
    failed = "failed"
    """An error ended the turn (a tool refused or failed, a limit was reached, the model failed)."""


class RunToolCall(Result):
    """One tool call of a run: which tool, how long, and how it ended (never its arguments)."""

    tool: str
    ms: float
    ok: bool
    error: str | None = None
    """Redacted."""


class OperatorRun(Result):
    """One Operator turn as the run log keeps it."""

    id: int = 0
    """Per workspace, from 1 (0 until stored)."""
    started_at: datetime
    duration_ms: float
    """From the question to the answer (routing, the agent loop, the answer's checks)."""
    actor: str
    """Who asked (``member:EMAIL``, ``local:NAME``)."""
    role: str
    session: str
    question: str
    """Redacted (emails, card numbers, secrets... replaced by placeholders)."""
    skill: str | None
    outcome: RunOutcome
    error: str | None = None
    """Why a failed run failed (redacted)."""
    tools: list[RunToolCall] = Field(default_factory=list)
    """Every tool call, in order, the tools a skill called included."""
    proposals: list[int] = Field(default_factory=list)
    model: str
    """The model that planned the turn (``deskops-offline-planner`` offline)."""
    requests: int | None
    """Model requests of the turn (None when it failed before the agent returned)."""
    input_tokens: int | None = None
    """Tokens a model reported (None offline: the planner spends none)."""
    output_tokens: int | None = None
    cost_usd: float | None = None
    """What the model's requests cost, when its price is known."""
    trace_id: str
    """The OpenTelemetry trace of the turn (32 hex digits), as ``deskops ask`` printed it."""


class Percentiles(Result):
    p50: float | None
    p95: float | None


class ToolFigures(Result):
    """One tool over the runs of a period."""

    tool: str
    calls: int
    failures: int
    failure_rate: float
    ms: Percentiles


class RunStats(Result):
    """The Operator's figures over a period: latency, outcomes, tools, tokens, cost."""

    workspace: str
    since: datetime | None
    runs: int
    latency_ms: Percentiles
    """Of whole turns."""
    outcomes: dict[str, int]
    """Runs per outcome (answered, clarified, abstained, failed), every outcome listed."""
    success_rate: float | None
    """Answered / runs (None without runs); the three below likewise."""
    clarification_rate: float | None
    abstention_rate: float | None
    failure_rate: float | None
    skills: dict[str, int]
    """Runs per skill that answered."""
    tools: list[ToolFigures]
    """Per tool, most called first."""
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    """Sum over the runs whose cost is known (None when none is)."""
    runs_with_cost: int
