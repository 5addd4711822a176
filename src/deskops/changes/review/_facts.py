"""Facts stated in support content: figures with their units, versions, links, plan names.

A ``Fact`` is one such value in one sentence, with the words around it (its *subject*,
stemmed). Two facts are about the same thing when they share a unit and enough of their
subjects (weighted by how rare each word is in the workspace); they then agree or
disagree by value. This is how the consistency reviewer finds the other items a change
contradicts, without a model.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from deskops.search.terms import tokenize

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "sixty": 60,
    "ninety": 90, "once": 1, "twice": 2,
}  # fmt: skip
_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|" + "|".join(NUMBER_WORDS) + r")"
_RANGE = rf"(?P<low>{_NUM})(?:\s*(?:-|–|—|to)\s*(?P<high>{_NUM}))?"
SECONDS = {
    "second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600, "hr": 3600, "day": 86400,
    "week": 604800, "month": 2_592_000, "year": 31_536_000,
}  # fmt: skip
DURATION = re.compile(
    rf"(?<![\w$€£.]){_RANGE}[\s-]*(?P<business>business|working)?[\s-]*"
    rf"(?P<unit>second|sec|minute|min|hour|hr|day|week|month|year)s?\b",
    re.IGNORECASE,
)
MONEY = re.compile(
    rf"(?P<symbol>\$|€|£|USD\s?|EUR\s?|GBP\s?)(?P<low>{_NUM})(?:\s*(?:-|–|to)\s*(?:\$|€|£)?(?P<high>{_NUM}))?"
    rf"|(?<![\w.])(?P<low2>{_NUM})\s?(?P<code>USD|EUR|GBP|dollars?|euros?|pounds?)\b",
)
NEXT_DAY = re.compile(
    r"\b(?:the )?(?P<which>next|same|following)[\s-]+(?P<business>business |working )?day\b", re.IGNORECASE
)
"""Durations written without a number: "the next business day" (1), "the same day" (0)."""
PERCENT = re.compile(rf"(?<![\w.]){_RANGE}\s?(?:%|percent\b)", re.IGNORECASE)
RATE = re.compile(
    r"^\s*(?:per|a|an|each|every)\s+(second|minute|hour|day|week|month|year|payout|transfer|invoice)\b",
    re.IGNORECASE,
)
VERSION = re.compile(r"\b(?:v|version\s+)(?P<v>\d+(?:\.\d+)*)\b", re.IGNORECASE)
URL = re.compile(
    r"\bhttps?://[^\s)>\]\"']+|\b(?:[a-z0-9-]+\.)+(?:com|io|net|org|app|co|dev|help)(?:/[^\s)>\]\"']*)?",
    re.IGNORECASE,
)
EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
COUNT = re.compile(
    rf"(?<![\w$€£.#/:-]){_RANGE}(?:\s+|-)(?P<noun>[A-Za-z][A-Za-z-]+)(?:\s+(?P<noun2>[a-z][a-z-]+s)\b)?"
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_CURRENCY = {"$": "USD", "€": "EUR", "£": "GBP", "dollar": "USD", "dollars": "USD", "euro": "EUR",
             "euros": "EUR",
             "pound": "GBP", "pounds": "GBP"}  # fmt: skip
NOT_COUNT_NOUNS = frozenset(
    [
        "and",
        "or",
        "of",
        "to",
        "the",
        "a",
        "an",
        "in",
        "on",
        "at",
        "for",
        "by",
        "with",
        "from",
        "is",
        "are",
        "was",
        "were",
        "be",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "per",
        "percent",
        "am",
        "pm",
        "times",
        "x",
    ]
)
GENERIC_TERMS = frozenset(
    tokenize(
        "you your we our can will must may the lumio account per up each which after only once also get go"
    )
)
"""Words too common in support content to say what a sentence is about."""


@dataclass(frozen=True)
class Fact:
    kind: str
    """duration, money, percent, count, version, url, email, plan"""
    unit: str
    """What the value is measured in: seconds, business_day, USD, %, a counted noun, url ..."""
    value: tuple[float, ...] | tuple[str, ...]
    """Normalised: (low, high) for figures and ranges; the text for versions, links and plans."""
    text: str
    """As written, e.g. "60 minutes"."""
    sentence: str
    terms: frozenset[str]
    """The sentence's subject: its stemmed words minus the fact's own and the most generic ones."""

    @property
    def shown(self) -> str:
        return self.text


@dataclass(frozen=True)
class Statement:
    """A fact where it stands: an item, a field (and body block), and whether customers see it."""

    item: str
    title: str
    path: str
    block: int | None
    live: bool
    fact: Fact


def _number(text: str) -> float:
    lowered = text.lower()
    if lowered in NUMBER_WORDS:
        return float(NUMBER_WORDS[lowered])
    return float(text.replace(",", ""))


def _pair(low: str, high: str | None) -> tuple[float, ...]:
    a = _number(low)
    return (a, _number(high)) if high else (a, a)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def _singular(noun: str) -> str:
    noun = noun.lower()
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("xes", "x"), ("s", "")):
        if noun.endswith(suffix) and len(noun) > len(suffix) + 2 and not noun.endswith("ss"):
            return noun[: -len(suffix)] + keep
    return noun


def facts_in(sentence: str, *, plans: Iterable[str] = ()) -> list[Fact]:
    """Every fact stated in one sentence."""
    found: list[tuple[str, str, tuple[float, ...] | tuple[str, ...], str, tuple[int, int]]] = []
    taken: list[tuple[int, int]] = []

    def free(span: tuple[int, int]) -> bool:
        return all(span[1] <= a or span[0] >= b for a, b in taken)

    def add(kind: str, unit: str, value: tuple[float, ...] | tuple[str, ...], span: tuple[int, int]) -> None:
        rate = RATE.match(sentence[span[1] :])
        if rate and kind in ("count", "money", "percent"):
            unit = f"{unit}/{rate.group(1).lower()}"
            span = (span[0], span[1] + rate.end())
        found.append((kind, unit, value, sentence[span[0] : span[1]].strip(), span))
        taken.append(span)

    for match in EMAIL.finditer(sentence):
        add("email", "email", (match.group(0).lower(),), match.span())
    for match in URL.finditer(sentence):
        if free(match.span()):
            link = match.group(0).rstrip(".,;:!?").lower().removeprefix("https://").removeprefix("http://")
            add(
                "url",
                "url",
                (link.rstrip("/"),),
                (match.start(), match.start() + len(match.group(0).rstrip(".,;:!?"))),
            )
    for match in MONEY.finditer(sentence):
        if not free(match.span()):
            continue
        if match.group("symbol"):
            currency = _CURRENCY.get(match.group("symbol").strip(), match.group("symbol").strip().upper())
            value = _pair(match.group("low"), match.group("high"))
        else:
            code = match.group("code").lower()
            currency = _CURRENCY.get(code, code.upper())
            value = _pair(match.group("low2"), None)
        add("money", currency, value, match.span())
    for match in PERCENT.finditer(sentence):
        if free(match.span()):
            add("percent", "%", _pair(match.group("low"), match.group("high")), match.span())
    for match in DURATION.finditer(sentence):
        if not free(match.span()):
            continue
        unit = match.group("unit").lower()
        low, high = _pair(match.group("low"), match.group("high"))
        if match.group("business"):
            add("duration", "business_day", (low, high), match.span())
        else:
            scale = SECONDS[unit]
            add("duration", "seconds", (low * scale, high * scale), match.span())
    for match in NEXT_DAY.finditer(sentence):
        if free(match.span()):
            days = 0.0 if match.group("which").lower() == "same" else 1.0
            if match.group("business"):
                add("duration", "business_day", (days, days), match.span())
            else:
                add("duration", "seconds", (days * 86400, days * 86400), match.span())
    for match in VERSION.finditer(sentence):
        if free(match.span()):
            add("version", "version", (match.group("v"),), match.span())
    for match in COUNT.finditer(sentence):
        noun = match.group("noun")
        if not free(match.span()) or noun.lower() in NOT_COUNT_NOUNS:
            continue
        second = match.group("noun2")
        if second and second.lower() not in NOT_COUNT_NOUNS:
            noun = second
        first = match.group("low")
        if re.fullmatch(r"(19|20)\d\d", first):  # a year, not a count
            continue
        add("count", _singular(noun), _pair(first, match.group("high")), match.span())
    names = [p for p in plans if p]
    if names:
        mentioned = sorted({p for p in names if re.search(rf"\b{re.escape(p)}\b", sentence)})
        if mentioned and re.search(r"\bplans?\b", sentence, re.IGNORECASE):
            first = min(m.start() for p in mentioned for m in re.finditer(rf"\b{re.escape(p)}\b", sentence))
            add("plan", "plan", tuple(mentioned), (first, first + len(mentioned[0])))

    figures = {t for _, _, _, text, _ in found for t in tokenize(text)}
    terms = frozenset(t for t in tokenize(sentence) if not t.isdigit()) - GENERIC_TERMS - figures
    return [Fact(kind, unit, value, text, sentence, terms) for kind, unit, value, text, _ in found]


@dataclass
class FactBook:
    """Every fact of a workspace's content, and how rare each subject word is there."""

    statements: list[Statement] = field(default_factory=list)
    document_frequency: Counter[str] = field(default_factory=Counter)
    sentences_seen: int = 0

    def add_text(
        self,
        *,
        item: str,
        title: str,
        path: str,
        text: str,
        live: bool,
        plans: Iterable[str],
        block: int | None = None,
    ) -> None:
        statements, frequency, seen = _text_facts(item, title, path, text, live, tuple(plans), block)
        self.statements.extend(statements)
        self.document_frequency.update(frequency)
        self.sentences_seen += seen

    def idf(self, term: str) -> float:
        return math.log(1 + (self.sentences_seen + 1) / (self.document_frequency.get(term, 0) + 1))

    def similarity(self, a: Fact, b: Fact) -> float:
        """How much two facts' subjects overlap: weighted shared words over the smaller subject."""
        shared = a.terms & b.terms
        if not shared:
            return 0.0
        weight = sum(self.idf(t) for t in shared)
        smaller = min(sum(self.idf(t) for t in a.terms), sum(self.idf(t) for t in b.terms))
        return weight / smaller if smaller else 0.0

    def about(self, fact: Fact, *, exclude: set[str] | None = None) -> Iterator[tuple[Statement, float]]:
        """Statements of ``fact``'s kind and unit (outside ``exclude`` items), with their similarity."""
        for statement in self.statements:
            if exclude and statement.item in exclude:
                continue
            other = statement.fact
            if other.kind == fact.kind and other.unit == fact.unit:
                yield statement, self.similarity(fact, other)


@lru_cache(maxsize=50_000)
def _text_facts(
    item: str, title: str, path: str, text: str, live: bool, plans: tuple[str, ...], block: int | None
) -> tuple[tuple[Statement, ...], Counter[str], int]:
    """The facts of one piece of text, and its words' sentence counts. Memoised: reviews of one
    workspace share almost all of their text, and only what a change touches is new."""
    title_terms = frozenset(tokenize(title)) - GENERIC_TERMS
    frequency: Counter[str] = Counter()
    statements = []
    said = sentences(text)
    for sentence in said:
        frequency.update(set(tokenize(sentence)) | title_terms)
        for fact in facts_in(sentence, plans=plans):
            fact = Fact(fact.kind, fact.unit, fact.value, fact.text, fact.sentence, fact.terms | title_terms)
            statements.append(Statement(item, title, path, block, live, fact))
    return tuple(statements), frequency, len(said)


def same_value(a: Fact, b: Fact) -> bool:
    if a.kind == "plan":
        return set(a.value) == set(b.value)
    return a.value == b.value


def overlaps(a: Fact, b: Fact) -> bool:
    """True when two figures agree at least in part (ranges that overlap, plan lists that share a plan)."""
    if a.kind == "plan":
        return bool(set(a.value) & set(b.value))
    if a.kind in ("url", "email", "version"):
        return a.value == b.value
    lo_a, hi_a = (float(v) for v in a.value)
    lo_b, hi_b = (float(v) for v in b.value)
    return not (hi_a < lo_b or hi_b < lo_a)
