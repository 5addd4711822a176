"""What a replay returns: the front-line agent's decisions with current and candidate content, per topic."""

from __future__ import annotations

from pydantic import Field

from deskops.domain.types import DateRange, Latency, Result


class CandidateSummary(Result):
    """What a candidate changes (ids of the items, names of the settings)."""

    source: str
    """Where the candidate came from (a file path, a proposal)."""
    articles: list[str]
    guidance: list[str]
    procedures: list[str]
    settings: list[str]
    """Settings the candidate sets."""


class Delta(Result):
    """A rate with current content, with the candidate, and the change."""

    current: float | None
    candidate: float | None
    change: float | None


class TopicOutcome(Result):
    """How the agent would decide on one topic's conversations, current against candidate."""

    topic: str
    conversations: int
    predicted_resolution: Delta
    """Answered with an article about the conversation's topic."""
    answer_rate: Delta
    handover_rate: Delta
    decisions: dict[str, dict[str, int]]
    """current/candidate -> decision -> count (decisions that occurred)."""
    observed_ai_resolution: float | None
    """What actually happened in these conversations (AI-involved ones)."""


class Mismatch(Result):
    """A conversation where the candidate decided differently."""

    conversation: str | None
    current: dict[str, str | list[str]]
    """decision, citations, reason."""
    candidate: dict[str, str | list[str]]


class ExperimentSummary(Result):
    """The Scientist-style experiment behind a replay: how often the two agreed, how fast each ran."""

    experiment: str
    runs: int
    matched: int
    mismatched: int
    candidate_errors: int
    match_rate: float | None
    control: Latency
    candidate: Latency
    first_mismatches: list[Mismatch] = Field(default_factory=list)
    first_errors: list[str] = Field(default_factory=list)


class ReplayReport(Result):
    """A period's opening messages replayed against current and candidate content."""

    workspace: str
    period: DateRange
    topic: str | None
    """Only this topic's conversations, when asked."""
    conversations: int
    candidate: CandidateSummary | None
    measure: str
    overall: TopicOutcome
    topics: list[TopicOutcome]
    """Largest change of predicted resolution first."""
    experiment: ExperimentSummary
