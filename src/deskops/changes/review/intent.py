"""Intent: the diff does what the description says, and nothing unrelated.

Offline, from two signals between the description (title, description, rationale) and
each item's changed spans: the words they share (stemmed, the most generic support
words left out) and, when the embedding model is there, their cosine similarity. An item
the description does not speak to is an unrelated change; when it speaks to none, the
description does not describe this diff.
"""

from __future__ import annotations

import numpy as np

from deskops.changes.review.context import Findings, ReviewContext, Reviewer
from deskops.domain.changes import ItemDiff
from deskops.search.terms import tokenize

SIMILAR = 0.4
"""Cosine similarity (all-MiniLM-L6-v2) above which an item's change reads as what the description says."""
SHARED_WEIGHT = 6.0
"""Or: the words they share, each weighted by its rarity in the workspace (IDF), add up to this much (two or
three distinctive words; "step" or "paid" alone are not enough). Both chosen on the development split of
the review evaluation (harness/eval_review.py): there, described changes scored at least 0.46 and 13,
descriptions of something else at most 0.32 and 2.5."""
COMMON = frozenset(
    tokenize(
        "customer customers account lumio day days use using help article page question questions answer "
        "update updated change changes changed new add added fix fixes make please support team time"
    )
)
"""Words nearly every description and article has: sharing them says nothing."""


def changed_text(item: ItemDiff) -> str:
    """What an item's diff is about, as words: its title, changed fields, and the body blocks it changes
    (a whole replaced block: a changed figure is about its sentence)."""
    parts = [item.title]
    for field in item.fields:
        parts.append(field.path.replace("/", " ").replace("_", " "))
        for value in (field.before, field.after):
            if isinstance(value, str):
                parts.append(value)
            elif isinstance(value, list):
                parts += [v for v in value if isinstance(v, str)]
    for block in item.blocks:
        if block.op == "insert":
            parts.append(block.after or "")
        elif block.op == "delete":
            parts.append(block.before or "")
        elif block.op == "replace":
            parts += [block.after or "", *(w.text for w in block.words if w.op == "delete")]
    return " ".join(p for p in parts if p)


def check(context: ReviewContext) -> Findings:
    found = Findings()
    draft = context.draft
    description = f"{draft.title}. {draft.description} {draft.rationale}".strip()
    described = set(tokenize(description)) - COMMON
    items = context.diff.items
    texts = [changed_text(item) for item in items]
    similarity = [0.0] * len(items)
    if context.encode is not None and items:
        vectors = context.encode([description, *texts])
        similarity = [float(v) for v in vectors[1:] @ vectors[0] / _norms(vectors)]
    book = context.facts_after
    unrelated = []
    for item, text, cosine in zip(items, texts, similarity, strict=True):
        shared = described & (set(tokenize(text)) - COMMON)
        weight = sum(book.idf(term) for term in shared)
        named = item.external_id.lower() in description.lower()
        if named or weight >= SHARED_WEIGHT or cosine >= SIMILAR:
            continue
        unrelated.append((item, shared, cosine))
    if not unrelated:
        return found
    if len(unrelated) == len(items):
        found.block(
            "intent.mismatch",
            "The description does not describe this diff: it talks about "
            f"{_gist(draft.title)!r}, but the change is to "
            f"{', '.join(_name(i) for i, _, _ in unrelated[:4])}. "
            "Describe what the change does (or attach the change set you meant).",
            related=[i.key for i, _, _ in unrelated],
            evidence=[
                f"{i.key}: similarity {c:.2f}, shared words {sorted(s) or 'none'}" for i, s, c in unrelated
            ],
        )
        return found
    for item, shared, cosine in unrelated:
        found.warn(
            "intent.unrelated_item",
            f"{_name(item)} changes, but the description does not mention it: if it is a separate change, "
            "split it into its own proposal (`deskops proposals split ID`); otherwise say why it "
            "belongs here.",
            item=item.key,
            evidence=[f"similarity {cosine:.2f}, shared words {sorted(shared) or 'none'}"],
        )
    return found


def _norms(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors[1:], axis=1) * np.linalg.norm(vectors[0])
    return np.where(norms == 0, 1.0, norms)


def _name(item: ItemDiff) -> str:
    return f"{item.kind} {item.external_id} ({item.title[:60]})"


def _gist(text: str) -> str:
    return text if len(text) <= 80 else text[:79] + "…"


REVIEWER = Reviewer("intent", "the diff does what the description says, and nothing unrelated", check)
