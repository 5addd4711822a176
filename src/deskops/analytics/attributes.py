"""Which attributes are populated and carry signal in this workspace.

For every attribute — the built-in ones and every custom key found in conversation
and customer attributes — coverage, cardinality, type, whether it is effectively
empty, and how strongly it is associated with escalation (Cramér's V and mutual
information between the attribute and "the AI handed over"), so the agent never
reasons from fields that are empty or carry no signal here.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from scipy import stats

from deskops.analytics.metrics import check_period
from deskops.store.repositories import WorkspaceScope

BUILT_IN = ("channel", "topic", "product_area", "language", "team", "plan", "region", "company_size")
MAX_LEVELS = 20
"""Values beyond the 20 most common are pooled before measuring association."""
EMPTY_COVERAGE = 0.01
HIGH_CARDINALITY = 50
MIRRORS = 0.95


def attribute_report(
    scope: WorkspaceScope, *, start: date, end: date, today: date | None = None
) -> dict[str, Any]:
    """One row per attribute, strongest association with escalation first."""
    period, notices = check_period(start, end, today=today)
    start_utc, end_utc = period.bounds(ZoneInfo(scope.workspace.time_zone))
    raw = scope.conversations.metric_rows(start=start_utc, end=end_utc, custom_attributes=True)
    n = len(raw["created"])
    ai = np.array([bool(v) for v in raw["ai_involved"]], dtype=bool)
    escalated = np.array([bool(v) for v in raw["escalated"]], dtype=bool)
    columns: dict[str, tuple[str, list[Any]]] = {
        name: ("conversation" if name not in ("plan", "region", "company_size") else "customer", raw[name])
        for name in BUILT_IN
    }
    for source, key in (("conversation", "conversation_attributes"), ("customer", "customer_attributes")):
        documents = [d or {} for d in raw[key]]
        for name in sorted({k for d in documents for k in d}):
            columns[f"{source}.{name}"] = (source, [d.get(name) for d in documents])
    rows = [_describe(name, source, values, ai, escalated) for name, (source, values) in columns.items()]
    rows.sort(key=lambda r: (r["effectively_empty"], -(r["association"]["cramers_v"] or 0.0), r["attribute"]))
    return {
        "workspace": scope.workspace.name,
        "period": period.as_dict(),
        "conversations": n,
        "outcome": "escalated (among AI-involved conversations)",
        "attributes": rows,
        "notices": notices,
    }


def _describe(
    name: str, source: str, values: list[Any], ai: np.ndarray, escalated: np.ndarray
) -> dict[str, Any]:
    n = len(values)
    present = [v for v in values if v not in (None, "", [], {})]
    coverage = len(present) / n if n else 0.0
    kind = _kind(present)
    keys = [_key(v) for v in present]
    distinct = len(set(keys))
    counts = Counter(keys)
    # A value present on some conversations still says something (present vs missing);
    # one value everywhere, or almost nothing populated, says nothing.
    empty = coverage < EMPTY_COVERAGE or distinct == 0 or (distinct == 1 and coverage > 1 - EMPTY_COVERAGE)
    association: dict[str, Any] = {"cramers_v": None, "mutual_information_bits": None, "p_value": None}
    if not empty and ai.any():
        levels = _levels(values, kind)
        association = _association(levels[ai], escalated[ai])
    return {
        "attribute": name,
        "source": source,
        "type": kind,
        "coverage": round(coverage, 4),
        "cardinality": distinct,
        "high_cardinality": distinct > HIGH_CARDINALITY,
        "effectively_empty": empty,
        "top_values": [{"value": v, "share": round(c / n, 4)} for v, c in counts.most_common(5)],
        "association": association,
        "signal": _signal(association["cramers_v"], empty),
        # Filled in because of the outcome (e.g. the team that took over): not an explanation of it.
        "mirrors_outcome": bool((association["cramers_v"] or 0.0) >= MIRRORS),
    }


def _kind(values: list[Any]) -> str:
    kinds = {
        (
            "boolean"
            if isinstance(v, bool)
            else "numeric"
            if isinstance(v, int | float)
            else "list"
            if isinstance(v, list)
            else "text"
        )
        for v in values
    }
    return kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "empty")


def _key(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def _levels(values: list[Any], kind: str) -> np.ndarray:
    """Each conversation's level: numbers in quintiles, rare values pooled, missing as a level."""
    if kind == "numeric":
        numbers = np.array([np.nan if v is None else float(v) for v in values])
        known = numbers[~np.isnan(numbers)]
        edges = np.unique(np.quantile(known, [0.2, 0.4, 0.6, 0.8])) if len(known) else np.array([])
        return np.array(
            ["(missing)" if np.isnan(x) else f"q{int(np.searchsorted(edges, x))}" for x in numbers],
            dtype=object,
        )
    keys = ["(missing)" if v in (None, "", [], {}) else _key(v) for v in values]
    common = {k for k, _ in Counter(keys).most_common(MAX_LEVELS)}
    return np.array([k if k in common else "(other)" for k in keys], dtype=object)


def _association(levels: np.ndarray, outcome: np.ndarray) -> dict[str, Any]:
    names, index = np.unique(levels, return_inverse=True)
    table = np.zeros((len(names), 2))
    np.add.at(table, (index, outcome.astype(int)), 1)
    table = table[table.sum(axis=1) > 0]
    table = table[:, table.sum(axis=0) > 0]
    if min(table.shape) < 2:
        return {"cramers_v": 0.0, "mutual_information_bits": 0.0, "p_value": None}
    chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
    total = table.sum()
    v = math.sqrt(chi2 / (total * (min(table.shape) - 1)))
    joint = table / total
    expected = joint.sum(axis=1, keepdims=True) @ joint.sum(axis=0, keepdims=True)
    nonzero = joint > 0
    mutual = float((joint[nonzero] * np.log2(joint[nonzero] / expected[nonzero])).sum())
    return {
        "cramers_v": round(v, 4),
        "mutual_information_bits": round(mutual, 5),
        "p_value": round(float(p), 6),
    }


def _signal(v: float | None, empty: bool) -> str:
    if empty:
        return "empty"
    if v is None or v < 0.05:
        return "none"
    return "strong" if v >= 0.3 else "moderate" if v >= 0.1 else "weak"
