"""The full time-travel evaluation on one development workspace (slow: `make bench` runs it)."""

from __future__ import annotations

from typing import Any

import pytest

from deskops.harness.eval_timetravel import TARGETS, run


@pytest.mark.slow
def test_timetravel_meets_its_targets_on_a_dev_seed(real_embedder: Any) -> None:
    report = run(split="dev", seeds=1, conversations=40_000, days=180, embedder=real_embedder, log=print)
    assert report["incidents"] >= 5 and report["quiet_questions"] >= 3
    assert report["mean_score"] >= TARGETS["mean_score"], report["misses"]
    assert report["false_alarm_rate"] <= TARGETS["false_alarm_rate_at_most"]
