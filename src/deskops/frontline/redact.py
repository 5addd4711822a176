"""Personal data out of customer text before it reaches a model, a trace or a log.

Found: email addresses, card numbers (13-19 digits passing the Luhn check), IBANs
(passing the ISO 7064 mod-97 check), phone numbers, and street addresses of the common
"number + name + street type" form. Each is replaced by a typed placeholder such as
``[CARD]``; what was found is reported by kind, never by value.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){11,30}\b")
DIGIT_RUN = re.compile(r"\b\d(?:[ -]?\d){12,}\b")
"""A run of 13 or more digits (spaces or dashes between them): a card number may be inside it."""
PHONE = re.compile(
    r"(?<![\w/])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){2,4}(?![\w/])"
)
STREET_TYPES = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    "square|sq|terrace|calle|rue|strasse|straße|weg|platz"
)
# Street names are capitalised words (case matters there); the street type may be any case.
ADDRESS = re.compile(rf"\b\d{{1,5}}[A-Za-z]?\s+(?:[A-Z][\w'.-]*\s+){{1,4}}(?i:{STREET_TYPES})\b\.?")
ADDRESS_NUMBER_AFTER = re.compile(r"\b[A-ZÄÖÜ][\wäöüß-]*(?:strasse|straße|weg|platz|gasse)\s+\d{1,5}[a-z]?\b")


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum used by payment card numbers."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """ISO 13616 check digits: move the first four characters to the end, letters to numbers, mod 97."""
    text = candidate.replace(" ", "").upper()
    if not 15 <= len(text) <= 34 or not text.isalnum():
        return False
    rearranged = text[4:] + text[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


@dataclass
class Redaction:
    text: str
    found: dict[str, int] = field(default_factory=dict)
    """How many of each kind were replaced (emails, cards, ibans, phones, addresses)."""

    @property
    def changed(self) -> bool:
        return bool(self.found)


def _card_spans(text: str) -> list[tuple[int, int]]:
    """Spans of Luhn-valid 13-19 digit card numbers inside long runs of digit groups.

    A card number is a sequence of whole groups ("4111 1111 1111 1111", or one group of 16),
    so one followed by an expiry date or a CVV ("4111 1111 1111 1111 12 27") is still found,
    and no arbitrary slice of a longer number is taken for one.
    """
    spans = []
    for run in DIGIT_RUN.finditer(text):
        groups = [(run.start() + g.start(), run.start() + g.end()) for g in re.finditer(r"\d+", run.group(0))]
        first = 0
        while first < len(groups):
            for last in range(len(groups), first, -1):
                digits = "".join(text[a:b] for a, b in groups[first:last])
                if 13 <= len(digits) <= 19 and luhn_valid(digits):
                    spans.append((groups[first][0], groups[last - 1][1]))
                    first = last
                    break
            else:
                first += 1
    return spans


def _iban_spans(text: str) -> list[tuple[int, int]]:
    """Spans of IBANs passing the mod-97 check; a match running into the next words is shortened."""
    spans = []
    for match in IBAN.finditer(text):
        candidate = match.group(0)
        for end in range(len(candidate), 14, -1):
            if candidate[end - 1] != " " and iban_valid(candidate[:end]):
                spans.append((match.start(), match.start() + end))
                break
    return spans


def _replace_spans(text: str, spans: list[tuple[int, int]], placeholder: str) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + placeholder + text[end:]
    return text


def redact(text: str) -> Redaction:
    """``text`` with personal data replaced by placeholders, and what was replaced."""
    found: Counter[str] = Counter()
    text = _sub(EMAIL, text, "[EMAIL]", found, "emails")
    ibans = _iban_spans(text)
    found["ibans"] += len(ibans)
    text = _replace_spans(text, ibans, "[IBAN]")
    cards = _card_spans(text)
    found["cards"] += len(cards)
    text = _replace_spans(text, cards, "[CARD]")
    text = _sub(ADDRESS, text, "[ADDRESS]", found, "addresses")
    text = _sub(ADDRESS_NUMBER_AFTER, text, "[ADDRESS]", found, "addresses")
    text = _sub(PHONE, text, "[PHONE]", found, "phones", _looks_like_phone)
    found = +found  # drop the kinds never found
    return Redaction(text, dict(found))


def _looks_like_phone(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    if not 7 <= len(digits) <= 15:
        return False
    # Dates (2026-05-04), amounts (1 250.00) and times are not phone numbers.
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()) or re.fullmatch(
        r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}", value
    ):
        return False
    return value.strip().startswith(("+", "(")) or len(digits) >= 9 or bool(re.search(r"[ .-]", value))


def _sub(
    pattern: re.Pattern[str],
    text: str,
    placeholder: str,
    found: Counter[str],
    kind: str,
    check: Callable[[str], bool] | None = None,
) -> str:
    def substitute(match: re.Match[str]) -> str:
        if check is not None and not check(match.group(0)):
            return match.group(0)
        found[kind] += 1
        return placeholder

    return pattern.sub(substitute, text)
