"""Description: the proposal says what changes and why, and backs a claimed problem with evidence."""

from __future__ import annotations

import re

from deskops.changes.review.context import Findings, ReviewContext, Reviewer

MIN_WORDS = 6
WHY = re.compile(
    r"\b(because|since|so that|so (?:the|it|customers|they|we|people|agents)|in order to|to "
    r"(fix|correct|update|match|reflect|avoid|reduce|stop|"
    r"prevent|remove|add|cover|answer|help|clarify|restore|align|make)|after|now|no longer|anymore|outdated|"
    r"out of date|wrong|incorrect|stale|missing|changed|new (policy|price|pricing|limit|fee|process)|as of|"
    r"customers|requested|asked|per|following|due to|reverts?|restores?)\b",
    re.IGNORECASE,
)
PROBLEM = re.compile(
    r"\b(wrong|incorrect|outdated|out of date|stale|broken|complain\w*|confus\w*|spike\w*|escalat\w*|drop\w*|"
    r"fail\w*|errors?|contradict\w*|mislead\w*|frustrat\w*|abandon\w*|churn\w*|declin\w*|worse)\b",
    re.IGNORECASE,
)
CITED = re.compile(r"\b\d+(?:[.,]\d+)?\s?%|\b\d{2,}\b|\bconversations?\s+[\w-]*\d", re.IGNORECASE)
"""A figure or a conversation id written into the description counts as citing evidence."""


def check(context: ReviewContext) -> Findings:
    found = Findings()
    draft = context.draft
    text = f"{draft.description} {draft.rationale}".strip()
    words = len(text.split())
    if words < MIN_WORDS:
        found.warn(
            "description.too_short",
            f"The description has {words} word{'s' if words != 1 else ''}: say what changes and why, so a "
            "reviewer (and the history) can tell what it was for.",
        )
    elif not WHY.search(text):
        found.warn(
            "description.no_reason",
            "The description says what changes but not why: add the reason (what was wrong, what changed, "
            "what customers asked).",
        )
    claim = PROBLEM.search(text)
    if claim and draft.evidence.empty and not CITED.search(text):
        found.warn(
            "description.unsupported_claim",
            f"The description says something is {claim.group(0).lower()!r} but cites no evidence: add the "
            "conversations, metric figures or search hits that show it (--evidence FILE).",
            span=None,
        )
    if context.unknown_evidence:
        found.warn(
            "description.unknown_evidence",
            "The evidence cites conversations this workspace does not have: "
            f"{', '.join(context.unknown_evidence[:5])}.",
            evidence=context.unknown_evidence[:20],
        )
    return found


REVIEWER = Reviewer(
    "description", "the description says what changes and why, with evidence for a problem", check
)
