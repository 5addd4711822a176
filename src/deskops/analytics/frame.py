"""Conversations of a period as NumPy columns, and the time buckets of a workspace's calendar."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from deskops.analytics import columns
from deskops.analytics.catalog import Condition
from deskops.analytics.columns import Dictionary
from deskops.domain.types import GRANULARITIES, Granularity
from deskops.errors import InvalidInput

COLUMNS = (
    "created",
    "customer_id",
    "channel",
    "topic",
    "product_area",
    "language",
    "team",
    "ai_involved",
    "outcome",
    "escalated",
    "csat",
    "reopen_count",
    "first_response_seconds",
    "handling_seconds",
    "plan",
    "region",
    "company_size",
)
"""What metrics read. ``created`` is UTC microseconds; text columns are codes into ``dictionaries``."""
MISSING_LABEL = "(none)"


@dataclass
class Frame:
    """One array per column, one element per conversation.

    Frames made by ``load`` are in creation order, and ``take`` and ``slice`` keep it.
    """

    columns: dict[str, np.ndarray]
    dictionaries: dict[str, Dictionary] = field(default_factory=dict)
    """The values behind the coded (text) columns."""

    def __len__(self) -> int:
        return len(self.columns["created"])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    _masks: dict[tuple[Condition, ...], np.ndarray] = field(default_factory=dict, repr=False)

    def mask(self, conditions: tuple[Condition, ...] | list[Condition]) -> np.ndarray:
        """Rows meeting every condition (remembered: a metric asks for the same ones repeatedly)."""
        key = tuple(conditions)
        keep = self._masks.get(key)
        if keep is None:
            keep = np.ones(len(self), dtype=bool)
            for column, operator, value in conditions:
                keep &= self._compare(column, operator, value)
            keep.flags.writeable = False
            self._masks[key] = keep
        return keep

    def _compare(self, column: str, operator: str, value: object) -> np.ndarray:
        values = self.columns[column]
        dictionary = self.dictionaries.get(column)
        if dictionary is None:
            return _compare(values, operator, value)
        if operator not in ("==", "!="):
            raise ValueError(f"{column} holds text: only == and != apply")
        if value is None:
            matches = values < 0
        else:
            code = dictionary.find(value)
            matches = values == code if code is not None else np.zeros(len(values), dtype=bool)
        return matches if operator == "==" else ~matches

    def codes(self, column: str) -> tuple[np.ndarray, list[str]]:
        """Each row's group number for ``column`` and the group labels (missing is a group too)."""
        values = self.columns[column]
        dictionary = self.dictionaries.get(column)
        if dictionary is not None:
            return values + 1, [MISSING_LABEL, *map(str, dictionary.values)]
        if values.dtype == bool:
            return values.view(np.int8), ["False", "True"]
        raise ValueError(f"{column} is not a column to group by")

    def take(self, keep: np.ndarray) -> Frame:
        return Frame({name: values[keep] for name, values in self.columns.items()}, self.dictionaries)

    def select(self, names: set[str]) -> Frame:
        """Only the named columns (cheaper to reorder)."""
        return Frame({n: v for n, v in self.columns.items() if n in names}, self.dictionaries)

    def slice(self, start: int, stop: int) -> Frame:
        """Rows start..stop-1 as views (no copy)."""
        return Frame({name: values[start:stop] for name, values in self.columns.items()}, self.dictionaries)


def _compare(values: np.ndarray, operator: str, value: object) -> np.ndarray:
    if value is None:
        missing = np.isnan(values.astype(float))
        return missing if operator == "==" else ~missing
    if operator == "==":
        return np.asarray(values == value, dtype=bool)
    if operator == "!=":
        return np.asarray(values != value, dtype=bool)
    numbers = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        if operator == ">":
            return numbers > float(value)  # type: ignore[arg-type]
        if operator == ">=":
            return numbers >= float(value)  # type: ignore[arg-type]
    raise ValueError(f"unsupported operator {operator!r}")


def microseconds(moment: datetime) -> int:
    """UTC microseconds since the epoch, the unit of ``created``."""
    return round(moment.timestamp() * 1_000_000)


def load(snap: columns.Snapshot, start: datetime, end: datetime) -> Frame:
    """Conversations created in [start, end) (aware datetimes), as views into a workspace's snapshot
    (frames meant to be compared must share one: the same codes)."""
    i, j = snap.span(microseconds(start), microseconds(end))
    return Frame(
        {name: snap.columns[name][i:j] for name in COLUMNS},
        {name: snap.dictionaries[name] for name in COLUMNS if name in snap.dictionaries},
    )


def bucket_count(start: date, end: date, granularity: Granularity) -> int:
    """How many buckets ``bucket_starts`` would make (within one, across daylight-saving changes)."""
    if granularity not in GRANULARITIES:
        raise InvalidInput(f"unknown granularity {granularity!r}: use one of {', '.join(GRANULARITIES)}")
    days = (end - start).days + 1
    if granularity == "hour":
        return days * 24
    if granularity == "day":
        return days
    if granularity == "week":
        return days // 7 + 2
    return (end.year - start.year) * 12 + end.month - start.month + 1


def bucket_starts(start: date, end: date, granularity: Granularity, tz: ZoneInfo) -> list[datetime]:
    """Local bucket boundaries covering the days start..end (inclusive), plus the closing boundary.

    Days, weeks (ISO, Monday first) and months follow the workspace's calendar, so a
    day is 23 or 25 hours long across daylight-saving changes.
    """
    if granularity not in GRANULARITIES:
        raise InvalidInput(f"unknown granularity {granularity!r}: use one of {', '.join(GRANULARITIES)}")
    last = end + timedelta(days=1)
    if granularity == "hour":
        first = datetime.combine(start, datetime.min.time(), tz).astimezone(UTC)
        stop = datetime.combine(last, datetime.min.time(), tz).astimezone(UTC)
        hours = int((stop - first).total_seconds() // 3600)
        return [first + timedelta(hours=h) for h in range(hours + 1)]
    if granularity == "day":
        days = [start + timedelta(days=d) for d in range((last - start).days + 1)]
    elif granularity == "week":
        monday = start - timedelta(days=start.weekday())
        days = [monday + timedelta(weeks=w) for w in range((last - monday).days // 7 + 2)]
        days = [d for d in days if d < last] + [next(d for d in days if d >= last)]
    else:
        days, cursor = [], date(start.year, start.month, 1)
        while True:
            days.append(cursor)
            if cursor >= last:
                break
            cursor = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
    return [datetime.combine(d, datetime.min.time(), tz).astimezone(UTC) for d in days]
