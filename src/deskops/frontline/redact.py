"""Personal data and secrets out of customer text before it reaches a model, a trace or a log.

Found by pattern: email addresses, card numbers (13-19 digits in groups split by spaces, dashes or
full stops, passing the Luhn check, and any run of 15-19 digits whether it passes or not: a mistyped
card number is still one), the expiry date and security code right after a card number, IBANs
(passing the ISO 7064 mod-97 check), US social security numbers, API keys and tokens of the common
providers and the token in an Authorization header, UK and Canadian postcodes, phone numbers (not an
order, invoice or ticket number, nor an amount of money), and street addresses of the common
"number + name + street type" form (not a numbered step: "Step 3 Click Place order").

Found by what the customer calls them: the value after "one-time code", "verification code", "OTP",
"2FA code", "PIN", "password", "passcode", "pass:", "CVV"/"CVC"/"security code", "expiry", "SSN",
"API key", "token", "secret", "account number", "routing number", "sort code",
"postcode"/"postal code"/"ZIP" and the like, however it is introduced ("my PIN is 4821", "password:
hunter2", "my password's hunter22", "the code they texted me: 482-913", "4821 is my PIN"). A
password, key or token runs to the next space, symbols and all. A status is not a value ("my
password is wrong", "my PIN is blocked"), nor is an HTTP status or an exit code ("I get code 500"),
nor a date that is not a card's expiry ("my subscription expires 2026-12-01").

Each is replaced by a typed placeholder such as ``[CARD]`` or ``[PIN]``; what was found is reported
by kind, never by value. Over-redacting a number is the safe side.

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
DIGIT_RUN = re.compile(r"\b\d(?:[ .-]?\d){12,}\b")
"""A run of 13 or more digits (spaces, dashes or full stops between them): a card number may be inside it."""
CARD_DIGITS = (13, 19)
"""How many digits a card number has, at least and at most."""
PHONE = re.compile(
    r"(?<![\w/])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){2,4}(?![\w/])"
)
_CURRENCY_CODES = (
    "USD|EUR|GBP|JPY|CNY|INR|VND|IDR|KRW|BRL|MXN|CHF|CAD|AUD|NZD|SEK|NOK|DKK|PLN|CZK|HUF|ZAR|SGD|HKD|AED"
)
NOT_A_PHONE_BEFORE = re.compile(
    r"(?:\b(?:order|invoice|ticket|reference|ref|booking|tracking|transaction|receipt|shipment|parcel|"
    r"(?:case|claim|policy|customer|member(?:ship)?|contract)\s*(?:number|no\.?|id|\#))"
    r"(?:\s+(?:number|no\.?|id))?(?:\s+(?:is|was))?\s*[:\#=]?\s*\#?"
    rf"|[$€£¥₹₫]\s*|\b(?-i:{_CURRENCY_CODES})\s*)$",
    re.IGNORECASE,
)
"""What comes before a reference number or an amount of money, which have the shape of a phone number."""
NOT_A_PHONE_AFTER = re.compile(
    rf"\s{{0,3}}(?:[$€£¥₹₫]|(?:{_CURRENCY_CODES})\b|(?i:dollars?|euros?|pounds?|dong|yen|rupees?|pesos?)\b)"
)
STREET_TYPES = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    "square|sq|terrace|calle|rue|strasse|straße|weg|platz"
)
# Street names are capitalised words (case matters there); the street type may be any case. A word telling
# the customer what to do ("2 Click Place order") starts an instruction, not a street name.
ADDRESS = re.compile(
    r"\b\d{1,5}[A-Za-z]?\s{1,3}(?!(?:Click|Tap|Press|Select|Choose|Open|Go|Enter|Type|Hit|Scroll)\b)"
    rf"(?:[A-Z][\w'.-]{{0,30}}\s{{1,3}}){{1,4}}(?i:{STREET_TYPES})\b\.?"
)
ADDRESS_NUMBER_AFTER = re.compile(
    r"\b[A-ZÄÖÜ][\wäöüß-]{0,40}(?:strasse|straße|weg|platz|gasse)\s+\d{1,5}[a-z]?\b"
)
NOT_AN_ADDRESS_BEFORE = re.compile(
    r"\b(?:step|page|item|line|option|section|chapter|part|stage|phase|point|question|tab|screen|slide|"
    r"row|column|figure|lesson|module|task|level|version|number|no\.?)\s*\#?\s*$",
    re.IGNORECASE,
)
"""What comes before a numbered step or item, which is not a house number ("Step 3 Click Place order")."""


# -- secrets named by the customer -----------------------------------------------------------------

CARD_EXPIRY = re.compile(r"(?:0?[1-9]|1[0-2])\s?[/.-]?\s?(?:20)?\d{2}(?![\w/.-])")
"""A month and a year, as a card's expiry is written (12/27, 1227, 09/2028), not a full date."""


@dataclass(frozen=True)
class SecretKind:
    """A kind of secret a customer may name, and the placeholder that replaces its value."""

    words: str
    """What customers call it (a regular expression)."""
    placeholder: str
    kind: str
    """What it is counted as in ``Redaction.found``."""
    shape: re.Pattern[str] | None = None
    """What its value must start with, when not anything."""


SECRET_KINDS: tuple[SecretKind, ...] = (
    SecretKind(
        r"(?:one[- ]?time|verification|security|login|sign[- ]?in|sms|2fa|mfa|auth(?:entication)?|access|"
        r"confirmation|recovery|backup|reset)\s+(?:code|pin|number)|otp|one[- ]?time\s+password|"
        # A bare "code" is a secret unless it is plainly something else (an error, an HTTP status, an exit
        # status or a promo code).
        r"(?<!error )(?<!status )(?<!exit )(?<!return )(?<!http )(?<!response )(?<!promo )(?<!discount )"
        r"(?<!coupon )(?<!voucher )(?<!referral )(?<!gift )(?<!country )(?<!area )(?<!product )(?<!tax )"
        r"(?<!currency )(?<!source )(?<!invite )code",
        "[CODE]",
        "codes",
    ),
    SecretKind(
        r"cvv2?|cvc2?|csc|cid|card\s+(?:verification|security)\s+(?:code|value|number)", "[CVV]", "cvvs"
    ),
    SecretKind(r"pin(?:\s+(?:code|number))?", "[PIN]", "pins"),
    # A bare "pass" only before a colon or an equals sign: "pass: hunter2", not "pass the check".
    SecretKind(r"pass(?:word|wd|code|phrase)|pass(?=\s*[:=])|pwd|pw", "[PASSWORD]", "passwords"),
    SecretKind(
        r"exp(?:iry|iration)?(?:\s+date)?|expires|valid\s+(?:thru|through|until)",
        "[EXPIRY]",
        "card_details",
        shape=CARD_EXPIRY,
    ),
    SecretKind(
        r"ssn|social\s+security(?:\s+number)?|tax\s+id|national\s+id(?:\s+number)?",
        "[ID_NUMBER]",
        "id_numbers",
    ),
    SecretKind(r"api[- ]?key|access[- ]?key|secret(?:\s+(?:access\s+)?key)?|token", "[SECRET]", "secrets"),
    SecretKind(
        r"(?:bank\s+)?account\s+(?:number|no\.?)|routing\s+(?:number|no\.?)|sort\s+code|bsb",
        "[ACCOUNT_NUMBER]",
        "account_numbers",
    ),
    SecretKind(r"post\s*code|postal\s+code|zip(?:\s*code)?|plz", "[POSTCODE]", "postcodes"),
)
"""What a customer calls a secret, most specific first."""

_STATUSES = (
    "wrong invalid incorrect blocked locked expired expiring rejected declined revoked disabled suspended "
    "compromised stolen lost leaked forgotten missing broken reset changed required needed valid accepted "
    "working failing failed empty blank too case-sensitive unknown pending sent received asking showing "
    "coming arriving fine ok okay"
)
_SENTENCE_WORDS = (
    "not never no none still also just always now being getting there here a an the this that these "
    "those it its what which who how where when why and or but for to in on at of from by with about "
    "after before my your our their his her i you we they he she supposed meant been"
)
NOT_A_VALUE = frozenset(f"{_STATUSES} {_SENTENCE_WORDS}".split())
"""Words after "is" or ":" that say something about a secret, or start a sentence, rather than give it."""

_KEYWORDS = "|".join(f"(?P<k{i}>{kind.words})" for i, kind in enumerate(SECRET_KINDS))
_NAMES = r"(?:code|pin|pass\w*|pwd|pw|otp|cvv|cvc|token|key|secret|number|zip|postcode|expiry|ssn)\b"
"""Words that name a secret themselves, so are never just the words between another name and its value."""
_END = ".,;:!?)\\]}\"'’"
"""Punctuation that ends a sentence or a clause rather than a value when a space or the end follows it."""
_WORD = rf"(?:[^\s{_END}]|[{_END}]++(?=[^\s{_END}]))++"
"""Everything up to the next space, symbols included, but punctuation at its end ("hunter2!" -> hunter2)."""
_DIGIT_GROUPS = r"(?: (?=[A-Za-z0-9]{0,7}\d)[A-Za-z0-9]{1,8}\b){0,7}"
_PLACEHOLDER = r"(?!\[[A-Z_]+\])"
KEYWORD_SECRET = re.compile(
    rf"(?P<lead>\b(?:{_KEYWORDS})\b(?:\s+(?:number|no\.?|\#))?"
    # How the customer introduces the value: "is", "was:", ":", "=" or " - " may introduce any value;
    # "'s" ("my pin's 4821"), words before ":" or "is" ("the code they texted me: 482-913") or nothing
    # at all ("OTP 482913") only a value with a digit in it (so not "my password's length", "PIN reset",
    # "Password reset not working: tried twice"). Taken whole (an atomic group), so that a placeholder
    # after "is:" is not followed by a value made of the ":".
    r"(?>\s+(?:is|was|are|were)\b\s*[:=-]?\s*|\s*[:=\#]\s*|\s+-\s*"
    rf"|(?P<weak>\s*['’]s\s+|(?:\s+(?!{_NAMES})[a-z]{{1,20}}){{1,4}}?(?:\s*[:=]\s*|\s+(?:is|was)\s+)|\s+))"
    rf"{_PLACEHOLDER})"
    # A quoted value, or a word and, if it has a digit, the digit groups after it ("482 913", "DE89 3704").
    rf"(?P<value>\"[^\"\n]{{1,100}}\"|'[^'\n]{{1,100}}'|(?=\S*\d){_WORD}{_DIGIT_GROUPS}|{_WORD})",
    re.IGNORECASE,
)
VALUE_BEFORE_KEYWORD = re.compile(
    rf"(?<!\S)(?P<value>(?=\S*\d){_WORD})"
    rf"(?P<rest>\s+(?:is|was)\s+(?:my|the|our|your)\s+(?:(?:new|old|current|temporary)\s+)?(?:{_KEYWORDS})\b)",
    re.IGNORECASE,
)
"""A value with a digit before what the customer calls it: "4821 is my PIN", "hunter2 was the password"."""

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
AUTHORIZATION = re.compile(
    r"(?P<lead>\b(?:(?P<header>(?:proxy-)?authorization)\s*[:=]\s*(?:(?:bearer|basic|digest|token|negotiate)\s+)?+"
    rf"|bearer\s+)){_PLACEHOLDER}(?P<value>{_WORD})",
    re.IGNORECASE,
)
"""The credentials in an Authorization header ("Authorization: Bearer abc.def.ghi"), or after "Bearer"."""

POSTCODE = re.compile(
    r"\b(?:[A-Z]{1,2}\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2}|[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\s?\d[ABCEGHJ-NPRSTV-Z]\d)\b",
    re.IGNORECASE,
)
"""UK and Canadian postcodes."""
ORDINAL_OR_UNIT = re.compile(r"\d(?:st|nd|rd|th|am|pm|gb|mb|kb|tb|hz|px|ms|hp|kg|lb|km|mm)$", re.IGNORECASE)
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
    text = _sub(
        AUTHORIZATION, text, r"\g<lead>[SECRET]", found, "secrets", _is_credential, group_template=True
    )
    text = _sub(POSTCODE, text, "[POSTCODE]", found, "postcodes", _looks_like_postcode)
    text = _keyword_secrets(text, found)
    ibans = _iban_spans(text)
    found["ibans"] += len(ibans)
    text = _replace_spans(text, ibans, "[IBAN]")
    cards = _card_spans(text)
    found["cards"] += len(cards)
    text = _replace_spans(text, cards, "[CARD]")
    text = _sub(CARD_DETAILS, text, r"[CARD]\g<gap1>[EXPIRY]", found, "card_details", group_template=True)
    text = _sub(CARD_CODE, text, r"[CARD]\g<gap>[CVV]", found, "card_details", group_template=True)
    text = _sub(ADDRESS, text, "[ADDRESS]", found, "addresses", _looks_like_address)
    text = _sub(ADDRESS_NUMBER_AFTER, text, "[ADDRESS]", found, "addresses")
    return _sub(PHONE, text, "[PHONE]", found, "phones", _looks_like_phone)


def _looks_like_phone(match: re.Match[str]) -> bool:
    value = match.group(0)
    digits = re.sub(r"\D", "", value)
    if not 7 <= len(digits) <= 15:
        return False
    # Dates (2026-05-04), amounts (1 250.00) and times are not phone numbers.
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()) or re.fullmatch(
        r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}", value
    ):
        return False
    # Nor are order, invoice and ticket numbers, or amounts of money, which say what they are around them.
    before = match.string[max(0, match.start() - 40) : match.start()]
    if NOT_A_PHONE_BEFORE.search(before) or NOT_A_PHONE_AFTER.match(match.string, match.end()):
        return False
    return value.strip().startswith(("+", "(")) or len(digits) >= 9 or bool(re.search(r"[ .-]", value))


def _looks_like_address(match: re.Match[str]) -> bool:
    return not NOT_AN_ADDRESS_BEFORE.search(match.string, max(0, match.start() - 20), match.start())


def _looks_like_postcode(match: re.Match[str]) -> bool:
    code = match.group(0)
    # A postcode is written in capitals; in lower case it needs its space, and "ps5 2nd", "v2 3pm" or
    # "i5 8gb" is not one.
    return code.isupper() or (" " in code and not ORDINAL_OR_UNIT.search(code))


def _is_credential(match: re.Match[str]) -> bool:
    value = match.group("value")
    if match.group("header"):
        return value.lower() not in NOT_A_VALUE
    # After a bare "bearer" only what looks like a token: "Bearer abc.def.ghi", not "bearer bonds".
    return bool(re.search(r"[\d._~+/=-]", value))


def _sub(
    pattern: re.Pattern[str],
    text: str,
    placeholder: str,
    found: Counter[str],
    kind: str,
    check: Callable[[re.Match[str]], bool] | None = None,
    *,
    group_template: bool = False,
) -> str:
    def substitute(match: re.Match[str]) -> str:
        if check is not None and not check(match):
            return match.group(0)
        found[kind] += 1
        return match.expand(placeholder) if group_template else placeholder

    return pattern.sub(substitute, text)


def _keyword_secrets(text: str, found: Counter[str]) -> str:
    """Values the customer names as secrets: "my PIN is 4821", "password: hunter2", "4821 is my PIN"."""
    pieces, done, at = [], 0, 0
    while match := KEYWORD_SECRET.search(text, at):
        kind, word = _named(match)
        weak = match.group("weak") is not None
        if _is_value(match.group("value"), kind, match.group(word), needs_digit=weak):
            pieces += [text[done : match.start("value")], kind.placeholder]
            found[kind.kind] += 1
            done = at = match.end()
        else:
            # Not a value, but it may name a secret itself: "PIN reset: code 482913".
            at = match.end(word)
    text = "".join(pieces) + text[done:]

    def before_keyword(match: re.Match[str]) -> str:
        kind, word = _named(match)
        if not _is_value(match.group("value"), kind, match.group(word), needs_digit=True):
            return match.group(0)
        found[kind.kind] += 1
        return kind.placeholder + match.group("rest")

    return VALUE_BEFORE_KEYWORD.sub(before_keyword, text)


def _named(match: re.Match[str]) -> tuple[SecretKind, str]:
    """The kind of secret a match names, and the group holding the word the customer used for it."""
    i = next(i for i in range(len(SECRET_KINDS)) if match.group(f"k{i}") is not None)
    return SECRET_KINDS[i], f"k{i}"


def _is_value(value: str, kind: SecretKind, keyword: str, *, needs_digit: bool) -> bool:
    """Whether ``value``, named by ``keyword``, is the secret itself rather than something said about it."""
    if value[0] in "\"'":
        return True
    if not any(ch.isalnum() for ch in value):
        return False  # a dash or a slash, not a value
    if kind.shape is not None and not kind.shape.match(value):
        return False
    if not any(ch.isdigit() for ch in value):
        return not needs_digit and value.lower() not in NOT_A_VALUE
    digits = re.sub(r"[\s/.-]", "", value)
    if digits.isdigit() and len(digits) < 3:
        return False  # "pin 2 of the card reader", "return code 2"
    # "I get code 500": an HTTP status, not a one-time code.
    return not (keyword.lower() == "code" and re.fullmatch(r"[1-5]\d\d", value))
