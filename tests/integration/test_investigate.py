"""The investigate skill on a simulated workspace: each injected incident is found (the segment and
the item behind it) from its metric and window alone, the truth file read only here to grade; quiet
windows get "no significant change"; a viewer is told what an editor could propose, an editor gets
the proposal through the action layer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from deskops.bootstrap import Services, build
from deskops.domain.changes import Actor, ActorKind
from deskops.domain.models import Role
from deskops.simulate.incidents import former_incidents
from deskops.simulate.truth import GroundTruth, IncidentTruth, QuietPeriod, load_truth
from deskops.simulate.workspace import SimulationConfig, simulate_workspace

NEW_YORK = ZoneInfo("America/New_York")
TUNED_ON = former_incidents(SimulationConfig(days=180).period())
"""The five incidents every workspace had when the skill was written (before the seed drew them).
How it does on drawn ones is what ``deskops eval timetravel`` measures (docs/operator.md)."""
VIEWER = Actor(kind=ActorKind.member, name="lead@lumio.test", role=Role.viewer)
EDITOR = Actor(kind=ActorKind.member, name="editor@lumio.test", role=Role.editor)
WORDS = {
    "conversation_volume": "conversation volume",
    "escalation_rate": "escalations",
    "csat_average": "CSAT",
}


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: Any
) -> Iterator[tuple[Services, GroundTruth]]:
    folder = tmp_path_factory.mktemp("investigate")
    built = build(database_url=f"sqlite:///{folder / 'i.db'}", data_dir=folder, embedder=real_embedder)
    with built.uow() as uow:
        simulate_workspace(
            uow=uow,
            config=SimulationConfig(seed=7, conversations=40_000, days=180, incidents=TUNED_ON),
            truth_path=folder / "t.json",
        )
        uow.commit()
    yield built, load_truth(folder / "t.json")
    built.close()


def _days(window: IncidentTruth | QuietPeriod) -> tuple[date, date]:
    if isinstance(window, IncidentTruth):
        return window.first_day, window.last_day
    local = [at.astimezone(NEW_YORK).date() for at in (window.start, window.end)]
    return local[0], local[1] - timedelta(days=1)


def _ask(services: Services, question: str, actor: Actor = VIEWER) -> Any:
    return services.operator.ask(workspace="demo", question=question, actor=actor)


def _kept(answer: Any) -> list[str]:
    return [h.statement for b in answer.blocks if b.type == "hypotheses" for h in b.hypotheses if h.kept]


def test_every_incident_kind_is_traced_to_its_segment_and_cause(world: tuple[Services, GroundTruth]) -> None:
    services, truth = world
    for incident in truth.incidents:
        start, end = _days(incident)
        moved = "rise" if incident.direction == "up" else "fall"
        question = f"why did {WORDS[incident.metric]} {moved} from {start} to {end}?"
        answer = _ask(services, question)
        assert answer.skill == "investigate", (question, answer.skill)
        kept = " ".join(_kept(answer))
        segment_named = [f"{k}={v}" in answer.answer for k, v in incident.segment.filters().items()]
        if incident.kind == "launch_surge":  # the topic inside the product area is the sharper segment
            segment_named = [f"topic={incident.root_cause.item}" in answer.answer]
        assert any(segment_named), (incident.id, answer.answer)
        cause = {
            "channel_outage": "outage",
            "launch_surge": "wave of new questions",
            "guidance_misconfiguration": incident.root_cause.item,
            "csat_drop": "slower",
            "stale_article": incident.root_cause.item,
        }[incident.kind]
        assert cause in kept, (incident.id, answer.answer)
        assert answer.proposals == []  # a viewer is never made to propose


def test_a_stale_article_gets_a_proposal_for_an_editor_a_viewer_is_told(
    world: tuple[Services, GroundTruth],
) -> None:
    services, truth = world
    stale = truth.incident("stale_article")
    start, end = _days(stale)
    question = f"why did escalations rise from {start} to {end}?"
    viewer = _ask(services, question)
    assert "An editor can propose the fix" in viewer.answer and viewer.proposals == []
    editor = _ask(services, question, EDITOR)
    (proposal_id,) = editor.proposals
    (block,) = [b for b in editor.blocks if b.type == "proposal"]
    report = block.report
    assert report.proposal.id == proposal_id and report.proposal.state.value == "open"
    (item,) = report.diff.items
    assert item.external_id == stale.root_cause.item
    assert item.words_removed > 0 and item.words_added == 0  # the untrue sentence goes, nothing invented
    (note,) = report.proposal.evidence.notes
    sentence = note.removeprefix("disputed sentence: ")
    with services.uow() as uow:  # proposed, never applied: the article still says it
        assert sentence in uow.workspace("demo").articles.get(item.external_id).body
    assert any(sentence in (b.before or "") for b in item.blocks)


def test_quiet_windows_have_no_cause(world: tuple[Services, GroundTruth]) -> None:
    services, truth = world
    incidents = [_days(i) for i in truth.incidents]
    asked = 0
    for window in truth.quiet_periods:
        start, end = _days(window)
        before = start - (end - start) - timedelta(days=1)
        if any(a <= end and before <= b for a, b in incidents):  # its baseline holds an incident
            continue
        for metric in WORDS.values():
            answer = _ask(services, f"why did {metric} change from {start} to {end}?")
            assert answer.skill == "investigate"
            assert _kept(answer)[1:] == [], (window, metric, answer.answer)
            asked += 1
    assert asked >= 3
