"""A breakdown numbers each combination of its attributes' values with one int64: it must never wrap."""

from __future__ import annotations

import numpy as np
import pytest

from deskops.analytics import metrics as engine
from deskops.analytics.catalog import metric
from deskops.analytics.columns import Dictionary
from deskops.analytics.frame import Frame

ATTRIBUTES = ["topic", "product_area", "team", "language"]


def _frame(values_each: int) -> Frame:
    """Two conversations, and ``values_each`` distinct values of every attribute in the workspace."""
    columns = {"created": np.array([0, 1], dtype=np.int64)}
    dictionaries = {}
    for name in ATTRIBUTES:
        columns[name] = np.array([0, values_each - 1], dtype=np.int32)
        dictionaries[name] = Dictionary(values=[f"{name} {i}" for i in range(values_each)])
    return Frame(columns, dictionaries)


def test_combinations_beyond_int64_are_refused_not_wrapped() -> None:
    volume, sample = metric("conversation_volume"), np.ones(2, dtype=bool)
    # 60,001 groups per attribute (with "(none)"): 1.3e19 combinations, more than 2**63.
    with pytest.raises(engine.MetricQueryError, match="more than can be counted"):
        engine._top_groups(volume, _frame(60_000), ATTRIBUTES, 12, sample)
    # 6.25e18 combinations: the largest codes come close to 2**63 and still say what they are.
    names, groups, _ = engine._top_groups(volume, _frame(50_000), ATTRIBUTES, 12, sample)
    assert sorted(names) == [
        " × ".join(f"{name} 0" for name in ATTRIBUTES),
        " × ".join(f"{name} 49999" for name in ATTRIBUTES),
    ]
    assert sorted(groups.tolist()) == [0, 1]
