"""What calibrating the front-line agent's confidence returns: reliability figures and a refit's outcome."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from deskops.domain.models import ConfidenceModel
from deskops.domain.types import Omitted, Result


class ReliabilityBin(Result):
    """Questions whose predicted chance fell in [low, high): how often answering was right."""

    low: float
    high: float
    questions: int
    predicted: float
    """Mean predicted chance in the bin."""
    observed: float
    """Share that was right."""


class Reliability(Result):
    """How well predicted chances match what happened (lower is better for both scores)."""

    questions: int
    ece: float
    """Expected calibration error: the questions-weighted mean gap between predicted and observed, over
    ten equal-width bins."""
    brier: float
    """Mean squared difference between the predicted chance and the outcome (1 right, 0 wrong)."""
    bins: list[ReliabilityBin] = Field(default_factory=list)


class ProtectedTopicCheck(Result):
    """Hand-over on one topic a guidance rule protects, with the model in use and with the refit."""

    topic: str
    rule: str
    """The rule's external id."""
    conversations: int
    handed_over_now: int
    handed_over_refit: int


class CalibrationOutcome(Result):
    """What ``deskops frontline calibrate`` did with a workspace's history."""

    workspace: str
    decision: Literal["proposed", "refit", "kept"]
    """``proposed``: the refit awaits review as a proposal; ``refit``: computed, not proposed (dry run);
    ``kept``: the model in use stays, for ``reason``."""
    reason: str
    conversations: int
    """Past conversations read."""
    labelled: int
    """Candidate articles with a known right or wrong answer."""
    right: int
    wrong: int
    current: Reliability | None = Omitted()
    """The model in use, on the held-out fifth of the labelled history."""
    refit_reliability: Reliability | None = Omitted()
    """The refit, fitted on the other four fifths, on the same held-out fifth."""
    protected_topics: list[ProtectedTopicCheck] = Field(default_factory=list)
    model: ConfidenceModel | None = Omitted()
    """The refit (fitted on all the labelled history)."""
    proposal_id: int | None = Omitted()
