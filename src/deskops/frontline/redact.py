"""Personal data and secrets out of customer text before it reaches a model, a trace or a log.

Found by pattern: email addresses, card numbers (13-19 digits passing the Luhn check, and
any run of 15-19 digits whether it passes or not: a mistyped card number is still one),
the expiry date and security code right after a card number, IBANs (passing the ISO
7064 mod-97 check), US social security numbers, API keys and tokens of the common
providers, UK and Canadian postcodes, phone numbers, and street addresses of the common
"number + name + street type" form.

Found by what the customer calls them: the value after "one-time code", "verification
code", "OTP", "2FA code", "PIN", "password", "passcode", "CVV"/"CVC"/"security code",
"expiry", "SSN", "API key", "token", "secret", "account number", "routing number",
"sort code", "postcode"/"postal code"/"ZIP" and the like ("my PIN is 4821",
"password: hunter2", "the code was 482 913").

Each is replaced by a typed placeholder such as ``[CARD]`` or ``[PIN]``; what was found
is reported by kind, never by value. Over-redacting a number is the safe side.

No pattern rereads the rest of the text from each place it tries, and a long message is redacted
in pieces of at most ``MAX_SCAN`` characters (the words either side of each cut once more), so the
time redaction takes grows with the length of a message, never faster, whatever a customer sends.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate

MAX_SCAN = 4_000
"""The longest piece of a message the patterns read at once; a longer message is redacted piece by piece."""
SEAM = 300
"""Characters either side of a cut between pieces redacted once more: enough for a keyword and its value."""

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}\b")
IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){11,30}\b")
DIGIT_RUN = re.compile(r"\b\d(?:[ -]?\d){12,}\b")
"""A run of 13 or more digits (spaces or dashes between them): a card number may be inside it."""
CARD_DIGITS = (13, 19)
"""How many digits a card number has, at least and at most."""
PHONE = re.compile(
    r"(?<![\w/])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){2,4}(?![\w/])"
)
STREET_TYPES = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    "square|sq|terrace|calle|rue|strasse|straße|weg|platz"
)
# Street names are capitalised words (case matters there); the street type may be any case.
ADDRESS = re.compile(
    rf"\b\d{{1,5}}[A-Za-z]?\s{{1,3}}(?:[A-Z][\w'.-]{{0,30}}\s{{1,3}}){{1,4}}(?i:{STREET_TYPES})\b\.?"
)
ADDRESS_NUMBER_AFTER = re.compile(
    r"\b[A-ZÄÖÜ][\wäöüß-]{0,40}(?:strasse|straße|weg|platz|gasse)\s+\d{1,5}[a-z]?\b"
)


# -- secrets named by the customer -----------------------------------------------------------------

SECRET_KINDS: tuple[tuple[str, str, str], ...] = (
    (
        r"(?:one[- ]?time|verification|security|login|sign[- ]?in|sms|2fa|mfa|auth(?:entication)?|access|"
        r"confirmation|recovery|backup|reset)\s+(?:code|pin|number)|otp|one[- ]?time\s+password|"
        # A bare "code" is a secret unless it is plainly something else (an error or a promo code).
        r"(?<!error )(?<!status )(?<!promo )(?<!discount )(?<!coupon )(?<!voucher )(?<!referral )(?<!gift )"
        r"(?<!country )(?<!area )(?<!product )(?<!tax )(?<!currency )(?<!source )(?<!invite )code",
        "[CODE]",
        "codes",
    ),
    (r"cvv2?|cvc2?|csc|cid|card\s+(?:verification|security)\s+(?:code|value|number)", "[CVV]", "cvvs"),
    (r"pin(?:\s+(?:code|number))?", "[PIN]", "pins"),
    (r"pass(?:word|wd|code|phrase)|pwd|pw", "[PASSWORD]", "passwords"),
    (r"exp(?:iry|iration)?(?:\s+date)?|expires|valid\s+(?:thru|through|until)", "[EXPIRY]", "card_details"),
    (
        r"ssn|social\s+security(?:\s+number)?|tax\s+id|national\s+id(?:\s+number)?",
        "[ID_NUMBER]",
        "id_numbers",
    ),
    (r"api[- ]?key|access[- ]?key|secret(?:\s+key)?|token|bearer", "[SECRET]", "secrets"),
    (
        r"(?:bank\s+)?account\s+(?:number|no\.?)|routing\s+(?:number|no\.?)|sort\s+code|bsb",
        "[ACCOUNT_NUMBER]",
        "account_numbers",
    ),
    (r"post\s*code|postal\s+code|zip(?:\s*code)?|plz", "[POSTCODE]", "postcodes"),
)
"""(keyword pattern, placeholder, kind): what a customer calls a secret, most specific first."""

_KEYWORDS = "|".join(f"(?:{words})" for words, _, _ in SECRET_KINDS)
_SAYS = r"(?:\s+(?:is|was|are|=|:|-)|\s*[:=#])"
"""How a customer introduces a value: "is", "was", ":" or "="."""
_PLACEHOLDER = r"(?!\[[A-Z_]+\])"
KEYWORD_SECRET = re.compile(
    rf"(?P<lead>\b(?P<keyword>{_KEYWORDS})\b(?:\s+(?:number|no\.?|#))?"
    # A value with a digit may follow the keyword directly ("OTP 482913", "PIN 4821"), in groups split
    # by spaces or dashes (482 913, A7X-4421); a value without one only after "is", ":" or "="
    # ("password: hunter", not "password reset"), or in quotes.
    rf"(?:{_SAYS}?\s*{_PLACEHOLDER}(?=[\w/-]{{0,100}}\d)|{_SAYS}\s*{_PLACEHOLDER}(?=[\"'\w]|[^\s,;.!?]{{4}})))"
    r"(?P<value>\"[^\"\n]{1,100}\"|'[^'\n]{1,100}'|"
    r"(?=[\w/-]{0,100}\d)\w{1,100}(?:[ /-](?=\w{0,8}\d)\w{1,8}){0,3}\b|[^\s,;.!?]{4,100})",
    re.IGNORECASE,
)

TOKENS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"\b(?:sk|pk|rk)-(?:live|test|proj)?[-_]?[A-Za-z0-9]{16,}\b"), "[SECRET]", "secrets"),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "[SECRET]", "secrets"),
    # Not from inside a longer run of the same characters: each start would read to its end.
    (
        re.compile(r"(?<![\w-])(?:ghp|gho|ghu|ghs|github_pat|glpat|xox[abpr])[-_][A-Za-z0-9_-]{16,}\b"),
        "[SECRET]",
        "secrets",
    ),
    (
        re.compile(r"(?<![\w-])eyJ[A-Za-z0-9_-]{10,}+\.[A-Za-z0-9_-]{10,}+\.[A-Za-z0-9_-]{10,}"),
        "[SECRET]",
        "secrets",
    ),
    (re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b"), "[ID_NUMBER]", "id_numbers"),
)
"""Secrets recognisable by their shape: provider API keys, JSON web tokens, US social security numbers."""

POSTCODE = re.compile(
    r"\b(?:[A-Z]{1,2}\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2}|[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\s?\d[ABCEGHJ-NPRSTV-Z]\d)\b"
)
"""UK and Canadian postcodes (upper case, as written on an address)."""
CARD_DETAILS = re.compile(r"\[CARD\](?P<gap1>[ ,]+)(?:0[1-9]|1[0-2])\s*[/ ]\s*(?:\d{4}|\d{2})\b")
"""An expiry date right after a card number ("[CARD] 12/27")."""
CARD_CODE = re.compile(r"\[CARD\](?P<gap>[ ,]+)\d{3,4}\b")
"""A security code right after a card number ("[CARD] 123")."""


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


class _LuhnSums:
    """Running sums over a string of digits, so that the Luhn check of any slice of it takes constant time."""

    def __init__(self, digits: str) -> None:
        # The digits as they are and doubled (the Luhn step), apart for even and odd positions.
        self.plain: tuple[list[int], list[int]] = ([0], [0])
        self.doubled: tuple[list[int], list[int]] = ([0], [0])
        for k, ch in enumerate(digits):
            d = int(ch)
            for sums in (*self.plain, *self.doubled):
                sums.append(sums[-1])
            self.plain[k % 2][-1] += d
            self.doubled[k % 2][-1] += 2 * d - 9 if d > 4 else 2 * d

    def valid(self, i: int, j: int) -> bool:
        """``luhn_valid(digits[i:j])``: the last digit and every second one before it count as they are."""
        p = (j - 1) % 2
        plain, doubled = self.plain[p], self.doubled[1 - p]
        return (plain[j] - plain[i] + doubled[j] - doubled[i]) % 10 == 0


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
    """Spans of card numbers inside long runs of digit groups.

    A card number is a sequence of whole groups ("4111 1111 1111 1111", or one group of 16),
    so one followed by an expiry date or a CVV ("4111 1111 1111 1111 12 27") is still found,
    and no arbitrary slice of a longer number is taken for one. 13-19 digits passing the
    Luhn check are a card; so are 15-19 digits that fail it (a mistyped card number), as
    long as the run holds nothing longer.
    """
    spans = []
    for run in DIGIT_RUN.finditer(text):
        groups = [(run.start() + g.start(), run.start() + g.end()) for g in re.finditer(r"\d+", run.group(0))]
        cards = _cards_in_run(text, groups)
        spans += cards
        if not cards and 15 <= sum(b - a for a, b in groups) <= CARD_DIGITS[1]:
            spans.append((run.start(), run.end()))
    return spans


def _cards_in_run(text: str, groups: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Luhn-valid card numbers among a run's digit groups, first those grouped as cards are (3+ digits)."""
    luhn = _LuhnSums("".join(text[a:b] for a, b in groups))
    before = list(accumulate((b - a for a, b in groups), initial=0))  # digits before each group
    taken = [False] * len(groups)
    spans: list[tuple[int, int]] = []
    for min_group in (3, 1):
        # The first group from each one on that a card cannot take in (taken, or too short in this pass).
        stop = [len(groups)] * (len(groups) + 1)
        for g in reversed(range(len(groups))):
            stop[g] = g if taken[g] or before[g + 1] - before[g] < min_group else stop[g + 1]
        first = 0
        while first < len(groups):
            end = _card_end(luhn, before, first, stop[first])
            if end is None:
                first += 1
                continue
            spans.append((groups[first][0], groups[end - 1][1]))
            taken[first:end] = [True] * (end - first)
            first = end
    return spans


def _card_end(luhn: _LuhnSums, before: list[int], first: int, stop: int) -> int | None:
    """Where the longest card number from group ``first`` (to ``stop`` at most) ends: 19 digits at most."""
    shortest, longest = CARD_DIGITS
    start = before[first]
    end = bisect_right(before, start + longest, first + 1, stop + 1) - 1
    while end > first and before[end] - start >= shortest:
        if luhn.valid(start, before[end]):
            return end
        end -= 1
    return None


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
    pieces, at = [], 0
    for start, end in sorted(spans):
        pieces += [text[at:start], placeholder]
        at = end
    return "".join(pieces) + text[at:]


def redact(text: str) -> Redaction:
    """``text`` with personal data and secrets replaced by placeholders, and what was replaced."""
    found: Counter[str] = Counter()
    pieces = _pieces(text)
    redacted = _redact_piece(next(pieces), found)
    done: list[str] = []
    for piece in pieces:
        after = _redact_piece(piece, found)
        # A secret the cut falls inside is found when the words either side of the cut are redacted again.
        tail = _next_word_start(redacted, len(redacted) - SEAM)
        head = _last_word_end(after, SEAM)
        done.append(redacted[:tail])
        redacted = _redact_piece(redacted[tail:] + after[:head], found) + after[head:]
    done.append(redacted)
    found = +found  # drop the kinds never found
    return Redaction("".join(done), dict(found))


_CUTS = (re.compile(r"\n"), re.compile(r"(?<!\d)\s(?!\d)"))
"""Where a long message is best cut: after a line break, else at a space with no digit next to it."""


def _pieces(text: str) -> Iterator[str]:
    """``text`` in pieces of at most ``MAX_SCAN`` characters, cut at a space unless a word is longer."""
    start = 0
    while len(text) - start > MAX_SCAN:
        cut = _cut(text, start)
        yield text[start:cut]
        start = cut
    yield text[start:]


def _cut(text: str, start: int) -> int:
    """Where the piece from ``start`` ends: in its second half after a line break or a space away from digits
    if there is one, else after its last space."""
    end = start + MAX_SCAN
    for place in _CUTS:
        if places := list(place.finditer(text, end - MAX_SCAN // 2, end)):
            return places[-1].end()
    return _last_word_end(text, end, start + 1)


_SPACE = re.compile(r"\s")


def _next_word_start(text: str, at: int) -> int:
    """Where the first word starting at or after ``at`` starts (``at`` itself if no word does)."""
    if at <= 0:
        return 0
    space = _SPACE.search(text, at)
    return space.end() if space else at


def _last_word_end(text: str, at: int, start: int = 0) -> int:
    """Just after the last space between ``start`` and ``at`` (``at`` itself if there is none)."""
    if at >= len(text):
        return len(text)
    space = max(text.rfind(c, start, at) for c in " \n\t")
    return space + 1 if space >= 0 else at


def _redact_piece(text: str, found: Counter[str]) -> str:
    text = _sub(EMAIL, text, "[EMAIL]", found, "emails")
    for pattern, placeholder, kind in TOKENS:
        text = _sub(pattern, text, placeholder, found, kind)
    text = _sub(POSTCODE, text, "[POSTCODE]", found, "postcodes")
    text = _keyword_secrets(text, found)
    ibans = _iban_spans(text)
    found["ibans"] += len(ibans)
    text = _replace_spans(text, ibans, "[IBAN]")
    cards = _card_spans(text)
    found["cards"] += len(cards)
    text = _replace_spans(text, cards, "[CARD]")
    text = _sub(CARD_DETAILS, text, r"[CARD]\g<gap1>[EXPIRY]", found, "card_details", group_template=True)
    text = _sub(CARD_CODE, text, r"[CARD]\g<gap>[CVV]", found, "card_details", group_template=True)
    text = _sub(ADDRESS, text, "[ADDRESS]", found, "addresses")
    text = _sub(ADDRESS_NUMBER_AFTER, text, "[ADDRESS]", found, "addresses")
    return _sub(PHONE, text, "[PHONE]", found, "phones", _looks_like_phone)


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
    *,
    group_template: bool = False,
) -> str:
    def substitute(match: re.Match[str]) -> str:
        if check is not None and not check(match.group(0)):
            return match.group(0)
        found[kind] += 1
        return match.expand(placeholder) if group_template else placeholder

    return pattern.sub(substitute, text)


def _keyword_secrets(text: str, found: Counter[str]) -> str:
    """Values the customer names as secrets: "my PIN is 4821", "password: hunter2"."""

    def substitute(match: re.Match[str]) -> str:
        keyword = match.group("keyword").lower()
        placeholder, kind = next(
            (p, k) for words, p, k in SECRET_KINDS if re.fullmatch(words, keyword, re.IGNORECASE)
        )
        found[kind] += 1
        return match.group("lead") + placeholder

    return KEYWORD_SECRET.sub(substitute, text)
