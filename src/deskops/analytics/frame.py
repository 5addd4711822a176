"""Conversations of a period as NumPy columns, and the time buckets of a workspace's calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np

from deskops.analytics.catalog import Condition
from deskops.store.repositories import WorkspaceScope

Granularity = Literal["hour", "day", "week", "month"]
GRANULARITIES: tuple[str, ...] = ("hour", "day", "week", "month")


@dataclass
class Frame:
    """One array per column, one element per conversation."""

    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.columns["created"])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def mask(self, conditions: tuple[Condition, ...] | list[Condition]) -> np.ndarray:
        keep = np.ones(len(self), dtype=bool)
        for column, operator, value in conditions:
            keep &= _compare(self.columns[column], operator, value)
        return keep

    def take(self, keep: np.ndarray) -> Frame:
        return Frame({name: values[keep] for name, values in self.columns.items()})

    def slice(self, start: int, stop: int) -> Frame:
        """Rows start..stop-1 as views (no copy)."""
        return Frame({name: values[start:stop] for name, values in self.columns.items()})


def _compare(values: np.ndarray, operator: str, value: object) -> np.ndarray:
    if value is None:
        missing = _is_missing(values)
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


def _is_missing(values: np.ndarray) -> np.ndarray:
    if values.dtype == object:
        return np.array([v is None for v in values.tolist()], dtype=bool)
    return np.isnan(values.astype(float))


def load(scope: WorkspaceScope, start: datetime, end: datetime) -> Frame:
    """Conversations created in [start, end) (aware datetimes)."""
    raw = scope.conversations.metric_rows(start=start, end=end)
    numeric = {
        "created": np.int64,
        "customer_id": float,
        "csat": float,
        "reopen_count": np.int64,
        "first_response_seconds": float,
        "handling_seconds": float,
    }
    columns: dict[str, np.ndarray] = {}
    for name, values in raw.items():
        if name in numeric:
            columns[name] = np.array([np.nan if v is None else v for v in values], dtype=numeric[name])
        elif name in ("ai_involved", "escalated"):
            columns[name] = np.array([bool(v) for v in values], dtype=bool)
        else:
            columns[name] = np.array(values, dtype=object)
    return Frame(columns)


def bucket_starts(start: date, end: date, granularity: str, tz: ZoneInfo) -> list[datetime]:
    """Local bucket boundaries covering the days start..end (inclusive), plus the closing boundary.

    Days, weeks (ISO, Monday first) and months follow the workspace's calendar, so a
    day is 23 or 25 hours long across daylight-saving changes.
    """
    if granularity not in GRANULARITIES:
        raise ValueError(f"unknown granularity {granularity!r}: use one of {', '.join(GRANULARITIES)}")
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
