"""The offline router: which skill or tool a question is for, and the slots it names.

Routes are found by nearest neighbours over example questions with the local embedding
model; slots (period, segment, ids, metric) are read against the workspace's own
vocabulary. A question too far from every example is out of scope, said plainly; a
route that needs a slot the question lacks gets one clarifying question.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from deskops.operator.periods import Found, find_period

OUT_OF_SCOPE = 0.42
"""Cosine similarity to the nearest example under which a question is out of scope."""


@dataclass(frozen=True)
class Route:
    name: str
    """A skill's or a tool's name."""
    kind: str
    """skill or tool"""
    examples: tuple[str, ...]
    needs: tuple[str, ...] = ()
    """Slots it cannot run without (``conversation``, ``article``, ``proposal``, ``text``, ``metric``)."""
    period: bool = False
    """A skill that takes the question's period (``start`` and ``end``)."""


TOOL_ROUTES = (
    Route("workspace_summary", "tool", ("summarise the workspace", "what is in this workspace",
                                         "give me an overview of the data", "how many conversations do "
                                         "we have")),
    Route("list_guidance", "tool", ("list the guidance rules", "what rules does the AI agent follow",
                                     "show the hand-over rules")),
    Route("list_procedures", "tool", ("list the procedures", "what procedures does the bot run",
                                       "show the refund procedure steps")),
    Route("agent_settings", "tool", ("what are the AI agent's settings", "what is the confidence threshold",
                                      "which channels does the bot answer on")),
    Route("list_proposals", "tool", ("show open proposals", "what changes are waiting for review",
                                      "list pending proposals")),
    Route("show_proposal", "tool", ("show proposal 12", "what did the reviewers say about proposal 3"),
          needs=("proposal",)),
    Route("accept_proposal", "tool", ("accept proposal 12", "approve proposal 3", "apply proposal 7",
                                       "go ahead and accept proposal 5"), needs=("proposal",)),
    Route("read_conversation", "tool", ("show me conversation sim-0004812", "read conversation 4812",
                                         "what happened in conversation c-19"), needs=("conversation",)),
    Route("read_article", "tool", ("show article kb-0042", "read the article kb-0007 and its history"),
          needs=("article",)),
    Route("search_help_center", "tool", ("find articles about refunds", "search the help center for payouts",
                                          "which article covers two-factor authentication"), needs=("text",)),
    Route("list_metrics", "tool", ("which metrics can you report", "list the metrics")),
)  # fmt: skip


@dataclass
class Routed:
    route: Route | None
    """None: out of scope."""
    score: float
    period: Found
    slots: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


class Router:
    """Routes questions for one workspace's vocabulary."""

    def __init__(self, routes: list[Route], encode: Callable[[list[str]], np.ndarray]) -> None:
        self.routes = routes
        self.encode = encode
        self._examples = [(route, example) for route in routes for example in route.examples]
        self._vectors: np.ndarray | None = None

    def route(self, question: str, *, today: date, known_ids: Callable[[str, str], bool]) -> Routed:
        if self._vectors is None:
            self._vectors = _normalised(self.encode([e for _, e in self._examples]))
        vector = _normalised(self.encode([question]))[0]
        scores = self._vectors @ vector
        best = int(np.argmax(scores))
        score = float(scores[best])
        period = find_period(question, today)
        if score < OUT_OF_SCOPE:
            return Routed(None, score, period)
        route = self._examples[best][0]
        slots = _slots(question, known_ids)
        missing = [need for need in route.needs if need not in slots]
        return Routed(route, score, period, slots, missing)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


_PROPOSAL = re.compile(r"\bproposal\s+#?(\d+)\b", re.IGNORECASE)
_ARTICLE = re.compile(r"\b(?:article\s+)?(kb-[\w-]+)\b", re.IGNORECASE)
_CONVERSATION = re.compile(r"\bconversation\s+#?([\w.-]+)", re.IGNORECASE)
METRIC_WORDS = (
    (r"escalat|hand[- ]?overs?|handed over", "escalation_rate"),
    (r"csat|satisf|happy|unhappy", "csat_average"),
    (r"resolution|resolved|deflect", "ai_resolution_rate"),
    (r"first response|response time|reply time|wait", "first_response_p50"),
    (r"handling time", "handling_time_p50"),
    (r"abandon", "abandonment_rate"),
    (r"reopen", "reopen_rate"),
    (r"volume|conversations|tickets|contacts|traffic", "conversation_volume"),
)
"""Words people use for a metric, first match wins (the catalog's own names match too)."""
_ABOUT = re.compile(r"\b(?:about|for|covers?|on)\s+(.+?)[?.!]*$", re.IGNORECASE)


SLOTS = ("metric", "conversation", "article", "proposal", "text")
"""The slots a skill's ask may name as fields."""


def _slots(question: str, known_ids: Callable[[str, str], bool]) -> dict[str, str]:
    slots: dict[str, str] = {}
    if match := _PROPOSAL.search(question):
        slots["proposal"] = match.group(1)
    if (match := _ARTICLE.search(question)) and known_ids("article", match.group(1)):
        slots["article"] = match.group(1)
    if match := _CONVERSATION.search(question):
        candidate = match.group(1).rstrip("?.!,")
        for option in (candidate, f"sim-{int(candidate):07d}" if candidate.isdigit() else candidate):
            if known_ids("conversation", option):
                slots["conversation"] = option
                break
    if match := _ABOUT.search(question):
        slots["text"] = match.group(1).strip()
    lowered = question.lower()
    named = re.search(r"\b([a-z_]+_(?:rate|average|p50|p90|volume))\b", lowered)
    if named:
        slots["metric"] = named.group(1)
    else:
        for pattern, metric in METRIC_WORDS:
            if re.search(pattern, lowered):
                slots["metric"] = metric
                break
    return slots
