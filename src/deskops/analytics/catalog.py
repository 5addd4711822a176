"""The metric catalog: every metric deskops can compute, declared as data.

A metric is computed over conversations. ``where`` selects the conversations that
form the denominator (the sample), ``hit`` the ones counted in the numerator of a
rate; ``value`` names the column averaged or summarised. Conditions are
(column, operator, value) triples over the columns of ``analytics.frame.Frame``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from deskops.domain.analytics import MetricInfo
from deskops.domain.types import MetricKind
from deskops.errors import InvalidInput
from deskops.hookspecs import hookimpl

Condition = tuple[str, str, object]

ATTRIBUTES = (
    "channel",
    "topic",
    "product_area",
    "language",
    "team",
    "plan",
    "region",
    "company_size",
    "ai_involved",
    "outcome",
)
"""What a metric can be broken down by or filtered on."""


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    unit: str
    kind: MetricKind
    good: Literal["up", "down"] | None
    """Which direction is an improvement (None: neither, e.g. volume)."""
    description: str
    where: tuple[Condition, ...] = ()
    hit: tuple[Condition, ...] = ()
    value: str | None = None
    quantile: float | None = None
    breakdowns: tuple[str, ...] = ATTRIBUTES

    def describe(self) -> MetricInfo:
        """What a reader of a result needs to know about the metric."""
        return MetricInfo(
            name=self.name,
            label=self.label,
            unit=self.unit,
            kind=self.kind,
            good=self.good,
            description=self.description,
            breakdowns=list(self.breakdowns),
        )


CLOSED: Condition = ("outcome", "!=", None)
AI: Condition = ("ai_involved", "==", True)

METRICS: tuple[Metric, ...] = (
    Metric(
        "conversation_volume",
        "Conversations",
        "conversations",
        "count",
        None,
        "Conversations created in the period.",
    ),
    Metric(
        "ai_involvement_rate",
        "AI involvement",
        "%",
        "rate",
        "up",
        "Share of conversations the AI agent took part in.",
        hit=(AI,),
    ),
    Metric(
        "ai_resolution_rate",
        "AI resolution rate",
        "%",
        "rate",
        "up",
        "Share of AI-involved conversations the AI agent resolved without a person.",
        where=(AI,),
        hit=(("outcome", "==", "ai_resolved"),),
    ),
    Metric(
        "escalation_rate",
        "Escalation rate",
        "%",
        "rate",
        "down",
        "Share of AI-involved conversations handed over to a person.",
        where=(AI,),
        hit=(("escalated", "==", True),),
    ),
    Metric(
        "human_resolution_rate",
        "Human resolution rate",
        "%",
        "rate",
        None,
        "Share of closed conversations resolved by a person.",
        where=(CLOSED,),
        hit=(("outcome", "==", "human_resolved"),),
    ),
    Metric(
        "abandonment_rate",
        "Abandonment rate",
        "%",
        "rate",
        "down",
        "Share of closed conversations the customer abandoned.",
        where=(CLOSED,),
        hit=(("outcome", "==", "abandoned"),),
    ),
    Metric(
        "unresolved_rate",
        "Unresolved after escalation",
        "%",
        "rate",
        "down",
        "Share of closed conversations that ended escalated but unresolved.",
        where=(CLOSED,),
        hit=(("outcome", "==", "escalated_unresolved"),),
    ),
    Metric(
        "reopen_rate",
        "Reopen rate",
        "%",
        "rate",
        "down",
        "Share of closed conversations reopened at least once.",
        where=(CLOSED,),
        hit=(("reopen_count", ">", 0),),
    ),
    Metric(
        "csat_average",
        "CSAT average",
        "score (1-5)",
        "mean",
        "up",
        "Mean satisfaction score of rated conversations.",
        value="csat",
    ),
    Metric(
        "csat_satisfied_rate",
        "CSAT % satisfied",
        "%",
        "rate",
        "up",
        "Share of rated conversations scored 4 or 5.",
        where=(("csat", "!=", None),),
        hit=(("csat", ">=", 4),),
    ),
    Metric(
        "first_response_p50",
        "First response time (median)",
        "seconds",
        "quantile",
        "down",
        "Median seconds to the first reply (AI or human).",
        value="first_response_seconds",
        quantile=0.5,
    ),
    Metric(
        "first_response_p90",
        "First response time (p90)",
        "seconds",
        "quantile",
        "down",
        "90th percentile of seconds to the first reply.",
        value="first_response_seconds",
        quantile=0.9,
    ),
    Metric(
        "handling_time_p50",
        "Handling time (median)",
        "seconds",
        "quantile",
        "down",
        "Median seconds from creation to close.",
        value="handling_seconds",
        quantile=0.5,
    ),
    Metric(
        "handling_time_p90",
        "Handling time (p90)",
        "seconds",
        "quantile",
        "down",
        "90th percentile of seconds from creation to close.",
        value="handling_seconds",
        quantile=0.9,
    ),
    Metric(
        "conversations_per_customer",
        "Conversations per customer",
        "conversations",
        "per_customer",
        "down",
        "Conversations divided by the distinct customers who had them.",
        breakdowns=tuple(a for a in ATTRIBUTES if a not in ("outcome",)),
    ),
)

BY_NAME = {metric.name: metric for metric in METRICS}


class UnknownMetric(InvalidInput):
    """A metric name the catalog does not have."""


def metric(name: str) -> Metric:
    """A built-in metric by name (callers with services use ``services.registry.metric``)."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise UnknownMetric(f"unknown metric {name!r}: use one of {', '.join(BY_NAME)}") from None


@hookimpl
def register_metrics(register: Callable[[Metric], None]) -> None:
    """The built-in catalog registers through the plugin surface like any plugin."""
    for built_in in METRICS:
        register(built_in)
