"""Consistency: trace what a change implies through the rest of the workspace.

For every figure, duration, price, plan name, version or link the change alters (a fact
in a removed sentence replaced by another value in an added one) or newly states, find
every other statement of the workspace — articles, guidance rules, procedures, and the
rest of the changed item itself — about the same thing (same unit, enough shared subject
words, weighted by rarity) that would disagree once the change is applied: one that still
states the old value, or one that states a third value. Customers see a contradiction in
live content, so that blocks; one in a draft or archived item warns.

It also names what depends on a changed item: rules and procedures that handle the
same topics (a note), and live items that still point at an article being archived (a
warning).
"""

from __future__ import annotations

from collections import defaultdict

from deskops.changes.review._facts import Fact, FactBook, Statement, facts_in, overlaps, same_value
from deskops.changes.review.context import (
    ContentItem,
    Findings,
    ReviewContext,
    Reviewer,
    added_sentences,
    removed_sentences,
)
from deskops.domain.changes import ItemChange, Span
from deskops.search.terms import tokenize

PAIRED = 0.25
"""Similarity above which a removed fact and an added one of the same unit are the same fact, changed."""
OLD_VALUE = 0.3
"""Similarity above which another statement of the *old* value is about the same thing (it now disagrees)."""
OTHER_VALUE = 0.55
"""Similarity above which another statement of a *different* value contradicts (stricter: values often differ
legitimately between related things). Both chosen on the development split of the review evaluation."""


def check(context: ReviewContext) -> Findings:
    found = Findings()
    book = context.facts_after
    for change in context.changes:
        if change.kind in ("settings", "policy"):
            continue
        _contradictions(found, context, book, change)
        _references(found, context, change)
    return found


def _facts(
    context: ReviewContext, change: ItemChange, sentences: list[tuple[str, str]], title: str
) -> list[tuple[str, Fact]]:
    title_terms = frozenset(tokenize(title))
    out = []
    for path, sentence in sentences:
        for fact in facts_in(sentence, plans=context.plans):
            out.append(
                (
                    path,
                    Fact(
                        fact.kind, fact.unit, fact.value, fact.text, fact.sentence, fact.terms | title_terms
                    ),
                )
            )
    return out


def _contradictions(found: Findings, context: ReviewContext, book: FactBook, change: ItemChange) -> None:
    title = str(change.after.get("title") or (change.before or {}).get("title") or "")
    added = _facts(context, change, added_sentences(change), title)
    removed = _facts(context, change, removed_sentences(change), title)
    new_sentences = {sentence for _, sentence in added_sentences(change)}
    # (the statement that disagrees) -> why; one finding per other item
    clashes: dict[str, list[tuple[Statement, str, str, Fact]]] = defaultdict(list)
    for path, new in added:
        if any(same_value(new, old) and book.similarity(new, old) >= PAIRED for _, old in removed):
            continue  # the fact moved, it did not change
        olds = [
            (book.similarity(new, old), old)
            for _, old in removed
            if old.kind == new.kind and old.unit == new.unit and not same_value(old, new)
        ]
        olds = [(s, o) for s, o in olds if s >= PAIRED]
        old = max(olds, key=lambda pair: pair[0])[1] if olds else None
        for statement, similarity in book.about(new):
            if statement.item == change.key and statement.fact.sentence in new_sentences:
                continue
            if agrees(statement.fact.sentence, new, context.plans):
                continue  # the sentence states the new value too: its other figures are about other things
            other = statement.fact
            if old is not None and same_value(other, old) and similarity >= OLD_VALUE:
                why = f"still says {other.text!r}, which this change makes {new.text!r}"
            elif not overlaps(other, new) and similarity >= OTHER_VALUE:
                why = f"says {other.text!r}, where this change says {new.text!r}"
            else:
                continue
            clashes[statement.item].append((statement, why, path, new))
    for item_key, found_there in clashes.items():
        statement, why, path, new = found_there[0]
        where = "This item itself" if item_key == change.key else f"{_label(context, item_key)}"
        live = any(s.live for s, _, _, _ in found_there)
        message = (
            f"{where} {why}: {statement.fact.sentence[:200]!r}. "
            + ("Customers would get both answers: " if live else "It is not live, but ")
            + (
                "change it in this proposal too."
                if item_key != change.key
                else "update the rest of the item too."
            )
        )
        found.add(
            "block" if live else "warn",
            "consistency.contradiction",
            message,
            item=change.key,
            span=Span(path=path, text=new.sentence[:300]),
            evidence=[f"{s.item}{s.path}: {s.fact.sentence[:200]}" for s, _, _, _ in found_there[:5]],
            related=[item_key],
        )


def agrees(sentence: str, new: Fact, plans: list[str]) -> bool:
    """True when ``sentence`` states ``new``'s value in ``new``'s unit."""
    return any(
        f.kind == new.kind and f.unit == new.unit and same_value(f, new)
        for f in facts_in(sentence, plans=plans)
    )


def _label(context: ReviewContext, key: str) -> str:
    item = context.after.get(key) or context.before.get(key)
    if item is None:
        return key
    live = (
        ""
        if item.live
        else (
            " (draft)" if item.kind == "article" and item.content.get("state") == "draft" else " (not live)"
        )
    )
    return f"{item.kind.capitalize()} {item.external_id} ({item.title[:60]!r}){live}"


def _references(found: Findings, context: ReviewContext, change: ItemChange) -> None:
    topics = set(context.topics_of(change.key))
    if change.action == "archive" and change.kind == "article":
        pointing = [
            item.key
            for item in context.after.values()
            if item.live
            and item.key != change.key
            and _mentions(item, change.external_id, str(change.after.get("title") or ""))
        ]
        if pointing:
            found.warn(
                "consistency.dangling_reference",
                f"Article {change.external_id} would be archived, but {', '.join(pointing[:5])} still "
                "point to it.",
                item=change.key,
                related=pointing,
            )
    if not topics:
        return
    related = sorted(
        item.key
        for item in context.after.values()
        if item.key != change.key
        and item.live
        and item.kind in ("guidance", "procedure")
        and topics & set(context.topics_of(item.key))
    )
    if related:
        found.note(
            "consistency.related_items",
            f"{', '.join(related[:6])} handle{'s' if len(related) == 1 else ''} the same topic "
            f"({', '.join(sorted(topics)[:3])}): check "
            f"{'it still agrees' if len(related) == 1 else 'they still agree'} "
            "with this change.",
            item=change.key,
            related=related,
        )


def _mentions(item: ContentItem, external_id: str, title: str) -> bool:
    text = " ".join(t for _, t in item.texts()).lower()
    return external_id.lower() in text or (len(title) > 12 and title.lower() in text)


REVIEWER = Reviewer(
    "consistency", "what the change contradicts or depends on elsewhere in the workspace", check
)
