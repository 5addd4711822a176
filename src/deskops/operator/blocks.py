"""What an Operator answer is made of: text, charts, tables, evidence, proposals, hypotheses.

Every number a block shows comes from a tool result of the same turn (``grounding.py``
checks the text), and no block carries unredacted personal data.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from deskops.domain.analytics import ChartSpec
from deskops.domain.changes import ProposalReport
from deskops.domain.types import Result


class TextBlock(Result):
    type: Literal["text"] = "text"
    text: str


class ChartBlock(Result):
    type: Literal["chart"] = "chart"
    title: str
    chart: ChartSpec
    """A plotly figure: what the web app renders; the CLI shows the table beside it."""


class TableBlock(Result):
    type: Literal["table"] = "table"
    title: str
    columns: list[str]
    rows: list[list[Any]]
    """At most ``MAX_ROWS``: a table is evidence, not a dump."""


class Snippet(Result):
    """A piece of a conversation or an article that an answer rests on, with its id."""

    source: str
    """``conversation:ID`` or ``article:ID``."""
    text: str
    """Redacted."""


class EvidenceBlock(Result):
    type: Literal["evidence"] = "evidence"
    title: str
    snippets: list[Snippet]


class ProposalBlock(Result):
    type: Literal["proposal"] = "proposal"
    report: ProposalReport


class Hypothesis(Result):
    """A possible explanation, the evidence for and against it, and whether it was kept."""

    statement: str
    evidence_for: list[str] = Field(default_factory=list)
    evidence_against: list[str] = Field(default_factory=list)
    kept: bool
    confidence: float
    """0-1: how sure the skill is, given what it tested."""


class HypothesesBlock(Result):
    type: Literal["hypotheses"] = "hypotheses"
    hypotheses: list[Hypothesis]


class ApprovalBlock(Result):
    """A call that decides something (accept, reject), waiting for the member to approve it."""

    type: Literal["approval"] = "approval"
    call_id: str
    """What ``Operator.decide`` approves or denies."""
    tool: str
    arguments: dict[str, Any]
    question: str
    """What would happen, in words."""


Block = Annotated[
    TextBlock | ChartBlock | TableBlock | EvidenceBlock | ProposalBlock | HypothesesBlock | ApprovalBlock,
    Field(discriminator="type"),
]
MAX_ROWS = 50


class Answer(Result):
    """One Operator turn, as ``deskops ask --json`` prints it."""

    answer: str
    """The reply in words; every number in it appears in a tool result of this turn."""
    blocks: list[Block]
    skill: str | None
    """The skill that answered (None: a single tool, a clarifying question or out of scope)."""
    tools: list[str]
    """Every tool called this turn, in order."""
    proposals: list[int]
    """Proposals made this turn."""
    trace_id: str
    session: str
    model: str = "offline"
    """What answered: ``offline`` (the planner) or the language model, ``provider:model``."""
    fallback: str | None = None
    """Why the configured language model gave no usable answer, so the offline planner answered (None:
    it was not needed); the answer's text says so too."""
