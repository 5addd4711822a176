"""Randomised incidents: each one shows in the data where and when its truth says, for several seeds.

Every incident of the truth file is checked the way an investigator would: its metric,
in its segment, over its window, against the same hours one to three window-lengths
(whole weeks) earlier, with a one-sided test: Fisher's exact test on the segment's share
of all conversations (volume: growth and seasonality cancel), on escalated versus not
(rates), Mann-Whitney on the ratings (CSAT). The same check on the seed's workspace
built without incidents finds nothing, so the check can fail.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from deskops.bootstrap import build
from deskops.simulate.incidents import IncidentChoices
from deskops.simulate.truth import GroundTruth, load_truth
from deskops.simulate.workspace import SimulationConfig, simulate_workspace
from incident_effects import measure

SEEDS = (1, 2, 3)
CONVERSATIONS, DAYS, END = 30_000, 90, date(2026, 10, 1)
ALPHA = 1e-3
"""The one-sided p-value an incident's move must beat, and its quiet counterpart must not."""
KINDS = ("stale_article", "launch_surge", "channel_outage", "guidance_misconfiguration", "csat_drop")

Built = tuple[sqlite3.Connection, GroundTruth]


def simulate(folder: Path, config: SimulationConfig) -> Built:
    services = build(database_url=f"sqlite:///{folder / 'sim.db'}", data_dir=folder)
    try:
        with services.uow() as uow:
            simulate_workspace(uow=uow, config=config, truth_path=folder / "truth.json")
    finally:
        services.close()
    return sqlite3.connect(folder / "sim.db"), load_truth(folder / "truth.json")


def config(seed: int, incidents: IncidentChoices | None = None) -> SimulationConfig:
    return SimulationConfig(seed=seed, conversations=CONVERSATIONS, days=DAYS, end=END, incidents=incidents)


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, Built]]:
    built = {seed: simulate(tmp_path_factory.mktemp(f"seed{seed}"), config(seed)) for seed in SEEDS}
    yield built
    for db, _ in built.values():
        db.close()


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    """The first seed's workspace with no incidents at all (``--incidents`` naming none)."""
    db, truth = simulate(tmp_path_factory.mktemp("quiet"), config(SEEDS[0], IncidentChoices()))
    assert truth.incidents == []
    yield db
    db.close()


@pytest.mark.parametrize("kind", KINDS)
def test_each_incident_kind_moves_its_metric_in_its_segment_for_every_seed(
    workspaces: dict[int, Built], quiet: sqlite3.Connection, kind: str
) -> None:
    for seed, (db, truth) in workspaces.items():
        incident = truth.incident(kind)
        effect = measure(db, truth, incident)
        assert effect.p < ALPHA, (seed, effect)
        if seed == SEEDS[0]:  # the same window and segment without the incident: nothing to find
            control = measure(quiet, truth, incident)
            assert control.p > ALPHA, (seed, "quiet", control)
            assert abs(control.during - control.before) < abs(effect.during - effect.before) / 2, control


def test_seeds_draw_the_same_kinds_at_different_targets_and_times(workspaces: dict[int, Built]) -> None:
    truths = [truth for _, truth in workspaces.values()]
    for truth in truths:
        assert sorted(i.kind for i in truth.incidents) == sorted(KINDS)
        assert all(truth.period.start <= i.start < i.end <= truth.period.end for i in truth.incidents)
    for kind in KINDS:
        placed = [(t.incident(kind).root_cause.item, t.incident(kind).start) for t in truths]
        assert len(set(placed)) == len(truths), (kind, placed)  # no two seeds with the same incident
    orders = {tuple(i.kind for i in t.incidents) for t in truths}
    assert len(orders) > 1  # and not always in the same order
