"""Which attributes are populated and carry signal in this workspace.

For every attribute — the built-in ones and every custom key found in conversation
and customer attributes — coverage, cardinality, type, whether it is effectively
empty, and how strongly it is associated with escalation (Cramér's V and mutual
information between the attribute and "the AI handed over"), so the agent never
reasons from fields that are empty or carry no signal here.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
from scipy import stats

from deskops.analytics import frame as frames
from deskops.analytics.columns import ABSENT, ColumnStore, Dictionary
from deskops.analytics.metrics import check_period
from deskops.domain.analytics import Association, AttributeProfile, AttributeReport, ValueShare
from deskops.store.repositories import WorkspaceScope

BUILT_IN = ("channel", "topic", "product_area", "language", "team", "plan", "region", "company_size")
MAX_LEVELS = 20
"""Values beyond the 20 most common are pooled before measuring association."""
EMPTY_COVERAGE = 0.01
HIGH_CARDINALITY = 50
MIRRORS = 0.95
Signal = Literal["empty", "none", "weak", "moderate", "strong"]


def attribute_report(
    scope: WorkspaceScope, *, columns: ColumnStore, start: date, end: date, today: date | None = None
) -> AttributeReport:
    """One row per attribute, strongest association with escalation first."""
    period, notices = check_period(start, end, today=today)
    start_utc, end_utc = period.bounds(ZoneInfo(scope.workspace.time_zone))
    snap = columns.snapshot(scope)
    i, j = snap.span(frames.microseconds(start_utc), frames.microseconds(end_utc))
    ai, escalated = snap.columns["ai_involved"][i:j], snap.columns["escalated"][i:j]
    names = [
        *BUILT_IN,
        *(n for n in snap.custom_attributes if (snap.columns[n][i:j] != ABSENT).any()),
    ]
    rows = [
        _describe(name, snap.columns[name][i:j], snap.dictionaries[name], ai, escalated) for name in names
    ]
    rows.sort(key=lambda r: (r.effectively_empty, -(r.association.cramers_v or 0.0), r.attribute))
    return AttributeReport(
        workspace=scope.workspace.name,
        period=period.range(),
        conversations=j - i,
        outcome="escalated (among AI-involved conversations)",
        attributes=rows,
        notices=notices,
    )


def _source(name: str) -> Literal["conversation", "customer"]:
    if "." in name:
        return "customer" if name.startswith("customer.") else "conversation"
    return "customer" if name in ("plan", "region", "company_size") else "conversation"


def _describe(
    name: str, codes: np.ndarray, dictionary: Dictionary, ai: np.ndarray, escalated: np.ndarray
) -> AttributeProfile:
    """Coverage, type, cardinality, top values and association of one coded column.

    Values are counted by their text (lists joined by commas); ties among equally
    common values go to the one seen first.
    """
    n = len(codes)
    present = codes >= 0
    blank = dictionary.find("") if not dictionary.custom else None
    if blank is not None:
        present &= codes != blank  # "" says nothing, like a missing value
    key_of_code, keys = dictionary.keys()
    if not keys:
        present &= False
    key_codes = np.where(present, key_of_code[np.maximum(codes, 0)] if keys else -1, -1)
    counts = np.bincount(key_codes[present], minlength=len(keys))
    used = np.flatnonzero(counts)
    coverage = float(present.sum()) / n if n else 0.0
    if dictionary.custom:
        code_counts = np.bincount(codes[present], minlength=len(dictionary.values))
        kinds = {dictionary.kinds[c] for c in np.flatnonzero(code_counts)}
    else:
        kinds = {"text"} if len(used) else set()
    kind = kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "empty")
    distinct = len(used)
    # A value present on some conversations still says something (present vs missing);
    # one value everywhere, or almost nothing populated, says nothing.
    empty = coverage < EMPTY_COVERAGE or distinct == 0 or (distinct == 1 and coverage > 1 - EMPTY_COVERAGE)
    top = used[np.lexsort((used, -counts[used]))][:5]
    association = Association(cramers_v=None, mutual_information_bits=None, p_value=None)
    if not empty and ai.any():
        levels = _levels(codes, present, key_codes, counts, dictionary, kind)
        association = _association(levels[ai], escalated[ai])
    return AttributeProfile(
        attribute=name,
        source=_source(name),
        type=kind,
        coverage=round(coverage, 4),
        cardinality=distinct,
        high_cardinality=distinct > HIGH_CARDINALITY,
        effectively_empty=empty,
        top_values=[ValueShare(value=keys[k], share=round(int(counts[k]) / n, 4)) for k in top],
        association=association,
        signal=_signal(association.cramers_v, empty),
        # Filled in because of the outcome (e.g. the team that took over): not an explanation of it.
        mirrors_outcome=bool((association.cramers_v or 0.0) >= MIRRORS),
    )


def _levels(
    codes: np.ndarray,
    present: np.ndarray,
    key_codes: np.ndarray,
    counts: np.ndarray,
    dictionary: Dictionary,
    kind: str,
) -> np.ndarray:
    """Each conversation's level: numbers in quintiles, rare values pooled, missing as a level (0)."""
    if kind == "numeric":
        numbers = np.asarray(dictionary.numbers, dtype=float)[np.maximum(codes, 0)]
        known = numbers[present]
        edges = np.unique(np.quantile(known, [0.2, 0.4, 0.6, 0.8])) if len(known) else np.array([])
        return np.where(present, np.searchsorted(edges, numbers) + 1, 0)
    # The MAX_LEVELS most common values (missing competes too) keep their level; the rest pool.
    missing = int((~present).sum())
    candidates = np.append(counts, missing)  # the last slot is "(missing)"
    order = np.lexsort((np.arange(len(candidates)), -candidates))
    common = np.zeros(len(candidates), dtype=bool)
    common[order[:MAX_LEVELS]] = candidates[order[:MAX_LEVELS]] > 0
    levels = np.where(present, key_codes + 2, 0)  # 0 missing, 1 "(other)", then one per value
    pooled = present & ~common[np.maximum(key_codes, 0)]
    levels[pooled] = 1
    if not common[-1]:
        levels[~present] = 1
    return levels


def _association(levels: np.ndarray, outcome: np.ndarray) -> Association:
    """Cramér's V, mutual information and the chi-squared p-value of levels (small ints) × outcome."""
    none = Association(cramers_v=0.0, mutual_information_bits=0.0, p_value=None)
    if not len(levels):
        return none
    table = np.bincount(levels * 2 + outcome, minlength=2 * (int(levels.max()) + 1)).reshape(-1, 2)
    table = table[table.sum(axis=1) > 0].astype(float)
    table = table[:, table.sum(axis=0) > 0]
    if min(table.shape) < 2:
        return none
    chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
    total = table.sum()
    v = math.sqrt(chi2 / (total * (min(table.shape) - 1)))
    joint = table / total
    expected = joint.sum(axis=1, keepdims=True) @ joint.sum(axis=0, keepdims=True)
    nonzero = joint > 0
    mutual = float((joint[nonzero] * np.log2(joint[nonzero] / expected[nonzero])).sum())
    return Association(
        cramers_v=round(v, 4), mutual_information_bits=round(mutual, 5), p_value=round(float(p), 6)
    )


def _signal(v: float | None, empty: bool) -> Signal:
    if empty:
        return "empty"
    if v is None or v < 0.05:
        return "none"
    return "strong" if v >= 0.3 else "moderate" if v >= 0.1 else "weak"
