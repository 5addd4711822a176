"""Types shared by the domain's results: the base model, literals, date ranges and latencies."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

Granularity = Literal["hour", "day", "week", "month"]
GRANULARITIES: tuple[Granularity, ...] = ("hour", "day", "week", "month")
ChartKind = Literal["line", "bar", "table"]
CHART_KINDS: tuple[ChartKind, ...] = ("line", "bar", "table")
MetricKind = Literal["count", "rate", "mean", "quantile", "per_customer"]
Direction = Literal["up", "down"]
JSONValue = str | int | float | bool | None | list["JSONValue"] | dict[str, "JSONValue"]
JSONObject = dict[str, JSONValue]
"""A JSON document as Python values: what ``Result.to_json`` returns and the CLI prints."""


def omitted_when_none(value: Any) -> bool:
    """``exclude_if`` predicate: a key that only appears when it has a value."""
    return value is None


def Omitted(**kwargs: Any) -> Any:
    """A field left out of the JSON when it is None (results whose shape varies by case)."""
    return Field(None, exclude_if=omitted_when_none, **kwargs)


class Result(BaseModel):
    """Base of every typed result: strict, serialised by alias (``from``), field order kept."""

    # Field docstrings become the JSON schema's descriptions: what a model calling a tool reads.
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, serialize_by_alias=True, use_attribute_docstrings=True
    )

    def to_json(self) -> JSONObject:
        """The JSON document the CLI prints and the API returns."""
        document: JSONObject = self.model_dump(mode="json")
        return document


class DateRange(Result):
    """Days of a report, in the workspace's calendar, both inclusive."""

    start: date = Field(alias="from")
    """First day."""
    end: date = Field(alias="to")
    """Last day (inclusive)."""


def rounded(value: float | None, digits: int = 4) -> float | None:
    """A published figure: rounded, and None for a missing or undefined value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)


class Latency(Result):
    """Median and 95th percentile of a set of timings."""

    p50_ms: float | None
    """Median, in milliseconds."""
    p95_ms: float | None
    """95th percentile, in milliseconds."""

    @classmethod
    def of(cls, samples_ms: Sequence[float], *, digits: int = 1) -> Latency:
        """Percentiles of ``samples_ms`` (None when there are none)."""
        if not len(samples_ms):
            return cls(p50_ms=None, p95_ms=None)
        values = np.asarray(samples_ms, dtype=float)
        return cls(
            p50_ms=round(float(np.percentile(values, 50)), digits),
            p95_ms=round(float(np.percentile(values, 95)), digits),
        )
