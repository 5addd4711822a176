"""The time-travel grader: each rung of the 100 / 65 / 35 / 0 scale, on answers built as the Operator
builds them (the eval is only worth its grader)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from deskops.harness.eval_timetravel import grade, quiet_windows
from deskops.operator.blocks import Answer, HypothesesBlock, Hypothesis, TextBlock
from deskops.simulate.truth import GroundTruth, IncidentTruth

RULE = IncidentTruth.model_validate(
    {
        "id": "guidance-starter-billing",
        "kind": "guidance_misconfiguration",
        "start": "2026-08-03T04:00:00+00:00",
        "end": "2026-08-12T04:00:00+00:00",
        "first_day": "2026-08-03",
        "last_day": "2026-08-11",
        "segment": {"dimension": "plan", "value": "Starter", "within": {"product_area": "billing"}},
        "metric": "escalation_rate",
        "direction": "up",
        "root_cause": {
            "item_kind": "guidance_rule",
            "item": "gr-enterprise-billing",
            "bad_version": 2,
            "fixed_version": 3,
            "intended_plan": "Enterprise",
            "targeted_plan": "Starter",
            "summary": "...",
        },
    }
)
OUTAGE = IncidentTruth.model_validate(
    {
        "id": "outage",
        "kind": "channel_outage",
        "start": "2026-06-10T04:00:00+00:00",
        "end": "2026-06-11T16:00:00+00:00",
        "first_day": "2026-06-10",
        "last_day": "2026-06-11",
        "segment": {"dimension": "channel", "value": "whatsapp"},
        "metric": "conversation_volume",
        "direction": "down",
        "root_cause": {"item_kind": "channel", "item": "whatsapp", "kept": 0.05, "summary": "..."},
    }
)


def _answer(*kept: str, rejected: tuple[str, ...] = ()) -> Answer:
    hypotheses = [Hypothesis(statement=s, kept=True, confidence=0.8) for s in kept]
    hypotheses += [Hypothesis(statement=s, kept=False, confidence=0.1) for s in rejected]
    blocks: list[Any] = [TextBlock(text="..."), HypothesesBlock(hypotheses=hypotheses)]
    return Answer(
        answer="...", blocks=blocks, skill="investigate", tools=[], proposals=[], trace_id="t", session="s"
    )


@pytest.mark.parametrize(
    ("incident", "answer", "score"),
    [
        (
            RULE,
            _answer(
                "The change is concentrated in plan=Starter, product_area=billing.",
                "Guidance rule gr-enterprise-billing ('...') was edited on 2026-08-03 (version 2) ...",
            ),
            100,  # set back since (fixed_version): no proposal is due
        ),
        (
            RULE,
            _answer(
                "The change is concentrated in plan=Starter, product_area=billing.",
                "Guidance rule gr-other ('...') was edited on 2026-08-03 ...",
            ),
            65,  # right kind of cause, wrong rule
        ),
        (
            RULE,
            _answer(
                "The change is concentrated in plan=Starter, product_area=billing.", rejected=("A rule...",)
            ),
            35,  # right segment, no diagnosis
        ),
        (
            RULE,
            _answer("The change is concentrated in plan=Starter.", "Guidance rule gr-enterprise-billing"),
            0,
        ),
        (RULE, _answer(), 0),  # "no significant change"
        (
            OUTAGE,
            _answer(
                "The change is concentrated in channel=whatsapp.",
                "The whatsapp channel stopped delivering conversations (an outage).",
            ),
            100,
        ),
        (
            OUTAGE,
            _answer("The change is concentrated in channel=email.", "The email channel ... (an outage)."),
            0,
        ),
    ],
)
def test_each_rung_of_the_scale(incident: IncidentTruth, answer: Answer, score: int) -> None:
    assert grade(incident, answer)["score"] == score


def test_a_fix_that_is_due_but_missing_is_one_hop_short() -> None:
    cause = RULE.root_cause.model_copy(update={"fixed_version": None})  # never set back
    still_wrong = RULE.model_copy(update={"root_cause": cause})
    answer = _answer(
        "The change is concentrated in plan=Starter, product_area=billing.",
        "Guidance rule gr-enterprise-billing ('...') was edited on 2026-08-03 (version 2) ...",
    )
    graded = grade(still_wrong, answer)
    assert graded["fix_due"] and not graded["fix_right"] and graded["score"] == 65


def test_quiet_windows_keep_clear_of_incidents_and_their_baselines() -> None:
    truth = GroundTruth.model_validate(
        {
            "workspace": "demo",
            "seed": 1,
            "period": {
                "start": "2026-05-05T04:00:00+00:00",
                "end": "2026-11-01T04:00:00+00:00",
                "time_zone": "America/New_York",
            },
            "incidents": [RULE, OUTAGE],
            "quiet_periods": [{"start": "2026-08-14T04:00:00+00:00", "end": "2026-08-20T04:00:00+00:00"}],
            "content_issues": {},
            "search_queries": [],
        }
    )
    windows = quiet_windows(truth)
    assert windows
    for start, end in windows:
        before = start - (end - start) - timedelta(days=1)
        for incident in (RULE, OUTAGE):
            assert end < incident.first_day or before > incident.last_day
    # the truth's own quiet period sits right after the rule incident: its baseline overlaps it
    assert all(w[0].isoformat() != "2026-08-14" for w in windows)
