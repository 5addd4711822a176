"""The Scientist pattern: the control is always served; the candidate is only observed."""

from __future__ import annotations

import pytest

from deskops.domain.replay import Mismatch
from deskops.frontline.experiment import Experiment


def test_the_control_is_served_and_mismatches_recorded() -> None:
    calls: list[str] = []

    def control(x: int) -> int:
        calls.append("control")
        return x * 2

    def candidate(x: int) -> int:
        calls.append("candidate")
        return x * 2 if x < 3 else x * 3

    def describe(x: int, a: int, b: int) -> Mismatch:
        return Mismatch(conversation=str(x), current={"decision": str(a)}, candidate={"decision": str(b)})

    experiment = Experiment("double", control, candidate, describe=describe)
    assert [experiment.run(x) for x in range(5)] == [0, 2, 4, 6, 8]
    summary = experiment.summary()
    assert (summary.runs, summary.matched, summary.mismatched, summary.candidate_errors) == (5, 3, 2, 0)
    assert [(m.conversation, m.current, m.candidate) for m in summary.first_mismatches] == [
        ("3", {"decision": "6"}, {"decision": "9"}),
        ("4", {"decision": "8"}, {"decision": "12"}),
    ]
    assert summary.match_rate == 0.6
    assert summary.control.p50_ms is not None and summary.control.p50_ms <= summary.control.p95_ms  # type: ignore[operator]
    # Both orders happen (so neither side always runs warm), and each input ran each side once.
    pairs = [tuple(calls[i : i + 2]) for i in range(0, len(calls), 2)]
    assert set(pairs) == {("control", "candidate"), ("candidate", "control")}


def test_a_failing_candidate_never_breaks_what_is_served() -> None:
    def candidate(x: int) -> int:
        raise RuntimeError(f"broken on {x}")

    experiment = Experiment("safe", lambda x: x, candidate)
    assert experiment.run(7) == 7
    summary = experiment.summary()
    assert summary.candidate_errors == 1 and summary.first_errors == ["RuntimeError: broken on 7"]
    assert summary.matched == 0 and summary.mismatched == 0 and summary.candidate.p50_ms is None


def test_a_failing_control_propagates() -> None:
    def control(x: int) -> int:
        raise ValueError("control broke")

    with pytest.raises(ValueError, match="control broke"):
        Experiment("loud", control, lambda x: x).run(1)
