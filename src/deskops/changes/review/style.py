"""Style: articles read the way the workspace's style guide says (length, headings, reading level,
voice, locale). Only what the change makes worse is reported, and only as a warning."""

from __future__ import annotations

import re

from deskops.changes.diff import words
from deskops.changes.review._facts import sentences
from deskops.changes.review.context import Findings, ReviewContext, Reviewer, added_sentences
from deskops.domain.changes import ItemChange, Span

_VOWELS = re.compile(r"[aeiouy]+")
_HEADING = re.compile(r"^#{1,6}\s", re.MULTILINE)
_WORD = re.compile(r"[A-Za-z]+")
SPELLING = {
    "en-US": {"colour": "color", "favour": "favor", "organise": "organize", "cancelled": "canceled",
              "centre": "center", "licence": "license", "behaviour": "behavior", "authorise": "authorize",
              "recognise": "recognize", "cheque": "check", "catalogue": "catalog", "analyse": "analyze"},
    "en-GB": {"color": "colour", "favor": "favour", "organize": "organise", "canceled": "cancelled",
              "center": "centre", "behavior": "behaviour", "authorize": "authorise", "recognize": "recognise",
              "catalog": "catalogue", "analyze": "analyse"},
}  # fmt: skip
"""Words spelled the other way, by locale (the common ones; a full spell checker is out of scope)."""


def syllables(word: str) -> int:
    word = word.lower()
    count = len(_VOWELS.findall(word))
    if word.endswith("e") and not word.endswith(("le", "ee")) and count > 1:
        count -= 1
    return max(1, count)


def grade(text: str) -> float:
    """Flesch-Kincaid grade level of a text (0 for an empty one)."""
    said = [s for s in sentences(re.sub(r"^#+\s.*$", "", text, flags=re.MULTILINE)) if _WORD.search(s)]
    tokens = _WORD.findall(" ".join(said))
    if not said or not tokens:
        return 0.0
    return 0.39 * len(tokens) / len(said) + 11.8 * sum(syllables(w) for w in tokens) / len(tokens) - 15.59


def check(context: ReviewContext) -> Findings:
    found = Findings()
    guide = context.policy.style
    for change in context.changes:
        if change.kind != "article" or change.action == "archive":
            continue
        _article(found, guide, change)
    return found


def _article(found: Findings, guide: object, change: ItemChange) -> None:
    from deskops.domain.changes import StyleGuide

    assert isinstance(guide, StyleGuide)
    body = str(change.after.get("body") or "")
    old = str((change.before or {}).get("body") or "")
    count, old_count = words(body), words(old) if change.before else 0
    where = {"item": change.key}
    if count > guide.max_words and count > old_count:
        found.warn(
            "style.too_long",
            f"Article {change.external_id} would have {count} words (the guide's limit is "
            f"{guide.max_words}): split it.",
            **where,
        )
    published = change.after.get("state") == "published"
    if published and count < guide.min_words and (change.before is None or count < old_count):
        found.warn(
            "style.too_thin",
            f"Article {change.external_id} would have {count} words: too little to answer from (the "
            f"guide asks for {guide.min_words}).",
            **where,
        )
    if (
        count > guide.headings_over_words
        and not _HEADING.search(body)
        and (change.before is None or _HEADING.search(old) or old_count <= guide.headings_over_words)
    ):
        found.warn(
            "style.no_headings",
            f"Article {change.external_id} would run {count} words without a heading: add section headings.",
            **where,
        )
    level, old_level = grade(body), grade(old) if change.before else 0.0
    if level > guide.max_grade and level > old_level + 0.5:
        found.warn(
            "style.reading_level",
            f"Article {change.external_id} would read at grade {level:.1f} (the guide asks for "
            f"{guide.max_grade:g} or below): "
            "shorter sentences and plainer words.",
            **where,
        )
    added = added_sentences(change)
    long = [(p, s) for p, s in added if len(s.split()) > guide.max_sentence_words]
    if long:
        path, sentence = long[0]
        found.warn(
            "style.long_sentence",
            f"A new sentence of {len(sentence.split())} words (the guide's limit is "
            f"{guide.max_sentence_words}).",
            span=Span(path=path, text=sentence[:300]),
            **where,
        )
    new_text = " ".join(s for _, s in added).lower()
    avoided = sorted({w for w in guide.avoid if re.search(rf"(?<!\w){re.escape(w.lower())}(?!\w)", new_text)})
    if avoided:
        found.warn(
            "style.voice",
            f"The change uses {', '.join(repr(w) for w in avoided)}, which the style guide avoids.",
            **where,
        )
    if guide.locale:
        wrong = sorted({w for w in _WORD.findall(new_text) if w in SPELLING[guide.locale]})
        if wrong:
            fixes = ", ".join(f"{w} -> {SPELLING[guide.locale][w]}" for w in wrong)
            found.warn("style.locale", f"Spelling for {guide.locale}: {fixes}.", **where)


REVIEWER = Reviewer("style", "length, headings, reading level, voice and locale per the style guide", check)
