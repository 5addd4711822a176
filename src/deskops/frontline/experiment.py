"""Experiments in the GitHub Scientist pattern: try a candidate beside the control, serve the control.

``Experiment.run(value)`` calls the control and the candidate on the same input (in a
random order, so neither always runs warm), returns the control's result whatever
happens to the candidate, and records whether the two matched, how long each took, and
any error the candidate raised. An error in the control propagates: the control is what
is being served. ``summary()`` gives the counts, timings and the first mismatches.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from deskops.domain.replay import ExperimentSummary, Mismatch
from deskops.domain.types import Latency

In = TypeVar("In")
Out = TypeVar("Out")

KEEP_MISMATCHES = 20


@dataclass
class Observation(Generic[Out]):
    control: Out
    candidate: Out | None
    control_ms: float
    candidate_ms: float
    matched: bool
    error: str | None = None


@dataclass
class Experiment(Generic[In, Out]):
    name: str
    control: Callable[[In], Out]
    candidate: Callable[[In], Out]
    compare: Callable[[Out, Out], bool] = lambda a, b: a == b
    describe: Callable[[In, Out, Out], Mismatch] = lambda value, a, b: Mismatch(
        conversation=None, current={}, candidate={}
    )
    """What to keep about a mismatch (for the summary)."""
    seed: int = 0
    observations: list[Observation[Out]] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def run(self, value: In) -> Out:
        """The control's result; the candidate runs beside it and is only observed."""
        control_first = self._rng.random() < 0.5
        candidate: Out | None = None
        error = None
        if not control_first:
            candidate, candidate_ms, error = self._try(value)
        began = time.perf_counter()
        control = self.control(value)
        control_ms = (time.perf_counter() - began) * 1000
        if control_first:
            candidate, candidate_ms, error = self._try(value)
        matched = error is None and self.compare(control, candidate)  # type: ignore[arg-type]
        self.observations.append(Observation(control, candidate, control_ms, candidate_ms, matched, error))
        if error is not None:
            self.errors.append(error)
        elif not matched and len(self.mismatches) < KEEP_MISMATCHES:
            self.mismatches.append(self.describe(value, control, candidate))  # type: ignore[arg-type]
        return control

    def _try(self, value: In) -> tuple[Out | None, float, str | None]:
        began = time.perf_counter()
        try:
            result = self.candidate(value)
        except Exception as exc:  # the candidate must never break what is served
            return None, (time.perf_counter() - began) * 1000, f"{type(exc).__name__}: {exc}"
        return result, (time.perf_counter() - began) * 1000, None

    def summary(self) -> ExperimentSummary:
        n = len(self.observations)
        matched = sum(o.matched for o in self.observations)
        return ExperimentSummary(
            experiment=self.name,
            runs=n,
            matched=matched,
            mismatched=n - matched - len(self.errors),
            candidate_errors=len(self.errors),
            match_rate=round(matched / n, 4) if n else None,
            control=Latency.of([o.control_ms for o in self.observations], digits=2),
            candidate=Latency.of([o.candidate_ms for o in self.observations if o.error is None], digits=2),
            first_mismatches=self.mismatches,
            first_errors=self.errors[:KEEP_MISMATCHES],
        )
