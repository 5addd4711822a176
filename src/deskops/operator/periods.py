"""Periods in a question ("last week", "in October", "2026-10-01 to 2026-10-15") as days of the
workspace's calendar, relative to its clock: the day of its newest conversation."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from deskops.errors import InvalidInput

MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): n for n, name in enumerate(calendar.month_abbr) if name}
_ISO = r"(\d{4}-\d{2}-\d{2})"
_RANGE = re.compile(rf"(?:from\s+)?{_ISO}\s*(?:to|until|through|-|–|and)\s*{_ISO}", re.IGNORECASE)
_SINCE = re.compile(rf"since\s+{_ISO}", re.IGNORECASE)
_DAY = re.compile(rf"(?:on\s+)?{_ISO}", re.IGNORECASE)
_LAST_N = re.compile(r"\b(?:last|past|previous)\s+(\d{1,3})\s+(day|week|month)s?\b", re.IGNORECASE)
_MONTH = re.compile(
    r"\b(?:in\s+)?(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\b(?:\s+(\d{4}))?", re.I
)
_WORDS = {
    "today": "today",
    "yesterday": "yesterday",
    "this week": "this_week",
    "last week": "last_week",
    "past week": "last_7_days",
    "previous week": "last_week",
    "this month": "this_month",
    "last month": "last_month",
    "previous month": "last_month",
    "last quarter": "last_90_days",
    "this year": "this_year",
}


@dataclass(frozen=True)
class Found:
    start: date
    end: date
    said: str
    """The words that named it ("last week"); empty when the default was used."""

    def describe(self) -> str:
        if self.start == self.end:
            return self.start.isoformat()
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def find_period(question: str, today: date, *, default_days: int = 7) -> Found:
    """The period a question names, else the last ``default_days`` days up to ``today``."""
    text = question.lower()
    if match := _RANGE.search(question):
        first, last = sorted((_day(match.group(1)), _day(match.group(2))))
        return Found(first, last, match.group(0))
    if match := _SINCE.search(question):
        return Found(_day(match.group(1)), today, match.group(0))
    if match := _DAY.search(question):
        day = _day(match.group(1))
        return Found(day, day, match.group(0))
    if match := _LAST_N.search(question):
        n, unit = int(match.group(1)), match.group(2).lower()
        days = n * {"day": 1, "week": 7, "month": 30}[unit]
        return Found(today - timedelta(days=days - 1), today, match.group(0))
    for words, key in sorted(_WORDS.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"\b{words}\b", text):
            first, last = _named(key, today)
            return Found(first, last, words)
    if match := _MONTH.search(question):
        word = match.group(1).lower()
        if word not in ("may",) or match.group(2) or re.search(r"\bin\s+may\b", text):
            month = MONTHS[word]
            year = (
                int(match.group(2))
                if match.group(2)
                else (today.year if month <= today.month else today.year - 1)
            )
            last_day = calendar.monthrange(year, month)[1]
            return Found(date(year, month, 1), min(date(year, month, last_day), today), match.group(0))
    return Found(today - timedelta(days=default_days - 1), today, "")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text} is not a date of the calendar") from None


def _named(key: str, today: date) -> tuple[date, date]:
    monday = today - timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    if key == "today":
        return today, today
    if key == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    if key == "this_week":
        return monday, today
    if key == "last_week":
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if key == "last_7_days":
        return today - timedelta(days=6), today
    if key == "this_month":
        return first_of_month, today
    if key == "last_month":
        last = first_of_month - timedelta(days=1)
        return last.replace(day=1), last
    if key == "last_90_days":
        return today - timedelta(days=89), today
    return today.replace(month=1, day=1), today
