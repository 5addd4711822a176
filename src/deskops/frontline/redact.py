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
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")
CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
PHONE = re.compile(
    r"(?<![\w/])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){2,4}(?![\w/])"
)
STREET_TYPES = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    "square|sq|terrace|calle|rue|strasse|straße|weg|platz"
)
ADDRESS = re.compile(
    rf"\b\d{{1,5}}[A-Za-z]?\s+(?:[A-Z][\w'.-]*\s+){{1,4}}(?:{STREET_TYPES})\b\.?",
    re.IGNORECASE,
)
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


def redact(text: str) -> Redaction:
    """``text`` with personal data replaced by placeholders, and what was replaced."""
    found: Counter[str] = Counter()
    for pattern, kind, placeholder, check in _RULES:

        def substitute(
            match: re.Match[str],
            kind: str = kind,
            placeholder: str = placeholder,
            check: Callable[[str], bool] | None = check,
        ) -> str:
            value = match.group(0)
            if check is not None and not check(value):
                return value
            found[kind] += 1
            return placeholder

        text = pattern.sub(substitute, text)
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


_RULES: list[tuple[re.Pattern[str], str, str, Callable[[str], bool] | None]] = [
    # Order matters: an IBAN or a card number must not be half-eaten as a phone number.
    (EMAIL, "emails", "[EMAIL]", None),
    (IBAN, "ibans", "[IBAN]", iban_valid),
    (CARD, "cards", "[CARD]", lambda v: luhn_valid(re.sub(r"\D", "", v))),
    (ADDRESS, "addresses", "[ADDRESS]", None),
    (ADDRESS_NUMBER_AFTER, "addresses", "[ADDRESS]", None),
    (PHONE, "phones", "[PHONE]", _looks_like_phone),
]
