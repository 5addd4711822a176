"""Incident choices: drawn by seed, read from a file, placed in the period, refused when they cannot be."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from deskops.errors import InvalidInput, NotFound
from deskops.simulate import catalog, customers, volume
from deskops.simulate.incidents import (
    CHANGED_TOPICS,
    CHANNEL_NAMES,
    KINDS,
    MISDIRECTED_PLANS,
    REGION_NAMES,
    IncidentPlan,
    draw_incidents,
    former_incidents,
    load_incidents,
    parse_incidents,
    place,
)
from deskops.simulate.truth import (
    ChannelCause,
    GroundTruth,
    IncidentTruth,
    Period,
    Segment,
    load_truth,
    quiet_periods,
)
from deskops.simulate.workspace import SimulationConfig

NEW_YORK = ZoneInfo("America/New_York")


def period(days: int = 90, end: date = date(2026, 10, 1), tz: ZoneInfo = NEW_YORK) -> IncidentPlan:
    return SimulationConfig(days=days, end=end, time_zone=str(tz)).period()


def test_the_choices_name_only_what_the_catalog_has() -> None:
    assert set(CHANNEL_NAMES) == set(volume.CHANNELS.tolist())
    assert set(REGION_NAMES) == set(customers.REGIONS.tolist())
    assert set(MISDIRECTED_PLANS) == set(customers.PLANS.tolist()) - {"Enterprise"}
    assert set(CHANGED_TOPICS) == {t.key for t in catalog.TOPICS if t.change is not None}
    assert set(catalog.LAUNCHABLE) <= {t.key for t in catalog.TOPICS}


@pytest.mark.parametrize("days", [14, 30, 90, 180, 365, 3650])
def test_every_seed_draws_all_five_kinds_inside_the_period_without_collisions(days: int) -> None:
    plan = period(days)
    for seed in range(40):
        placed = place(draw_incidents(seed, plan), plan)  # raises on a collision or a window outside
        assert sorted(p.choice.kind for p in placed) == sorted(KINDS)
        assert all(plan.start <= p.start < p.end <= plan.end for p in placed)
        bounded = sorted((p.start, p.end) for p in placed if p.choice.kind != "stale_article")
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(bounded))
        stale = next(p for p in placed if p.choice.kind == "stale_article")
        assert stale.start >= bounded[-1][1] and stale.end == plan.end
        if days >= 90:  # weeks of normal data before the first incident
            assert bounded[0][0] - plan.start >= timedelta(days=round(days * 0.15) - 1)


def test_seeds_vary_the_targets_and_the_windows_but_a_seed_always_draws_the_same() -> None:
    plan = period(180)
    draws = [draw_incidents(seed, plan) for seed in range(30)]
    assert draws[7] == draw_incidents(7, plan)
    assert len({d.to_json() for d in draws}) == 30
    for kind, target in [
        ("stale_article", "topic"),
        ("launch_surge", "topic"),
        ("channel_outage", "channel"),
        ("guidance_misconfiguration", "plan"),
        ("csat_drop", "region"),
    ]:
        chosen = [next(c for c in d.incidents if c.kind == kind) for d in draws]
        assert len({getattr(c, target) for c in chosen}) >= 3, kind
        assert len({c.start for c in chosen}) >= 10, kind
    assert len({tuple(c.kind for c in sorted(d.incidents, key=lambda c: str(c.start))) for d in draws}) >= 10
    every = {c.topic for d in draws for c in d.incidents if c.kind == "launch_surge"}  # type: ignore[union-attr]
    assert every <= set(catalog.LAUNCHABLE) and len({catalog.TOPICS[0].area, *every}) > 3


def test_the_contracts_replay_the_former_incidents() -> None:
    contracts = Path(__file__).resolve().parents[1] / "contracts" / "incidents.json"
    assert load_incidents(contracts) == former_incidents(period(30, end=date(2026, 11, 1)))


def test_a_draw_written_as_a_file_reads_back_the_same(tmp_path: Path) -> None:
    drawn = draw_incidents(3, period())
    path = tmp_path / "incidents.json"
    path.write_text(drawn.to_json())
    assert load_incidents(path) == drawn
    assert json.loads(path.read_text())[0]["start"].count("-") == 2  # dates, readable


def test_periods_count_local_days_across_a_clock_change() -> None:
    plan = period(30, end=date(2026, 11, 15))  # New York leaves summer time on 1 November
    assert plan.days == 30 and plan.first_day == date(2026, 10, 16) and plan.last_day == date(2026, 11, 14)
    ten_days = plan.after(date(2026, 10, 28), 10)
    assert ten_days.astimezone(NEW_YORK) == datetime(
        2026, 11, 7, tzinfo=NEW_YORK
    )  # local midnight, not 23:00
    assert plan.after(date(2026, 10, 28), 1.5) == plan.on(date(2026, 10, 29)) + timedelta(hours=12)
    assert plan.usual_days("channel_outage") == 1.0 and period(180).usual_days("launch_surge") == 10.0


def _place(entries: list[dict[str, Any]], plan: IncidentPlan | None = None) -> list[Any]:
    return place(parse_incidents(entries), plan or period())


def test_chosen_incidents_are_placed_where_the_file_says() -> None:
    plan = period()
    placed = _place(
        [
            {"kind": "channel_outage", "channel": "email", "start": "2026-08-10", "days": 2},
            {"kind": "stale_article", "topic": "atm_withdrawal", "start": 0.5},
            {"kind": "csat_drop", "region": "LATAM", "start": "2026-07-05"},
        ],
        plan,
    )
    outage, stale, csat = placed
    assert (outage.start, outage.end) == (plan.on(date(2026, 8, 10)), plan.on(date(2026, 8, 12)))
    assert stale.start == plan.on(date(2026, 8, 17)) and stale.end == plan.end
    assert csat.end - csat.start == timedelta(days=14)  # the usual length in a 90-day period
    assert _place([]) == []  # no incidents: a quiet workspace


@pytest.mark.parametrize(
    ("entries", "says"),
    [
        ({"kind": "channel_outage"}, "must be a JSON list of incidents"),
        (["outage"], "entry 1 must be an object with a kind"),
        ([{"channel": "email", "start": 0.2}], "entry 1, field kind is missing; use one of stale_article"),
        ([{"kind": "server_fire", "start": 0.2}], "field kind is 'server_fire', an unknown kind"),
        ([{"kind": "stale_article", "topic": "payout_timng", "start": 0.8}], "did you mean payout_timing?"),
        ([{"kind": "stale_article", "topic": "card_delivery", "start": 0.8}], "has no product change"),
        ([{"kind": "launch_surge", "topic": "teleportation", "start": 0.3}], "is not a catalog topic"),
        (
            [{"kind": "channel_outage", "channel": "fax", "start": 0.3}],
            "'fax' is not a channel; use one of chat",
        ),
        (
            [{"kind": "guidance_misconfiguration", "plan": "Enterprise", "start": 0.3}],
            "the plan the rule is meant",
        ),
        (
            [{"kind": "guidance_misconfiguration", "plan": "Platinum", "start": 0.3}],
            "'Platinum' is not a plan",
        ),
        ([{"kind": "csat_drop", "region": "Mars", "start": 0.3}], "'Mars' is not a region"),
        ([{"kind": "csat_drop", "region": "EU", "start": "next week"}], "field start: must be a date"),
        ([{"kind": "csat_drop", "region": "EU", "start": 1.5}], "or a fraction of the period"),
        ([{"kind": "csat_drop", "region": "EU"}], "field start: Field required"),
        (
            [{"kind": "csat_drop", "region": "EU", "start": 0.3, "days": 0}],
            "field days: Input should be greater",
        ),
        (
            [{"kind": "csat_drop", "region": "EU", "start": 0.3, "colour": "red"}],
            "field colour: Extra inputs",
        ),
        (
            [{"kind": "stale_article", "topic": "api_keys", "start": 0.8, "days": 3}],
            "field days: Extra inputs",
        ),
        (
            [
                {"kind": "csat_drop", "region": "EU", "start": 0.3},
                {"kind": "csat_drop", "region": "UK", "start": 0.6},
            ],
            "entry 2 is a second csat_drop; at most one of each kind",
        ),
    ],
)
def test_a_bad_incidents_file_is_one_clear_line(entries: Any, says: str, tmp_path: Path) -> None:
    path = tmp_path / "incidents.json"
    path.write_text(json.dumps(entries))
    with pytest.raises(InvalidInput) as raised:
        load_incidents(path)
    assert says in str(raised.value) and "\n" not in str(raised.value), str(raised.value)
    assert str(raised.value).startswith(f"--incidents {path}")


@pytest.mark.parametrize(
    ("entries", "says"),
    [
        (
            [{"kind": "channel_outage", "channel": "chat", "start": "2026-06-01"}],
            "starts on 2026-06-01, outside",
        ),
        (
            [{"kind": "channel_outage", "channel": "chat", "start": "2026-10-01"}],
            "outside the simulated period",
        ),
        (
            [{"kind": "launch_surge", "topic": "virtual_cards", "start": "2026-09-25"}],
            "runs from 2026-09-25 to 2026-10-04, past the end",
        ),
        (
            [{"kind": "guidance_misconfiguration", "plan": "Free", "start": "2026-09-20", "days": 20}],
            "start it earlier or give it fewer days",
        ),
        (  # a launch and an outage at once: both move volume, every channel carries every area
            [
                {"kind": "launch_surge", "topic": "xero_connection", "start": "2026-08-01"},
                {"kind": "channel_outage", "channel": "whatsapp", "start": "2026-08-05"},
            ],
            "entry 1 (launch_surge) and entry 2 (channel_outage) both move conversation_volume",
        ),
        (  # a stale billing article while the billing rule hands over the wrong plan
            [
                {"kind": "guidance_misconfiguration", "plan": "Starter", "start": "2026-09-01"},
                {"kind": "stale_article", "topic": "change_plan", "start": "2026-09-05"},
            ],
            "both move escalation_rate in overlapping segments from 2026-09-05",
        ),
    ],
)
def test_incidents_that_do_not_fit_the_period_or_collide_are_refused(entries: Any, says: str) -> None:
    with pytest.raises(InvalidInput, match=says.replace("(", r"\(").replace(")", r"\)")):
        _place(entries)


def test_incidents_in_separate_segments_or_metrics_may_overlap() -> None:
    placed = _place(
        [
            {"kind": "guidance_misconfiguration", "plan": "Starter", "start": "2026-09-01"},
            {
                "kind": "stale_article",
                "topic": "payout_timing",
                "start": "2026-09-05",
            },  # payments, not billing
            {"kind": "csat_drop", "region": "EU", "start": "2026-09-02"},
            {"kind": "channel_outage", "channel": "chat", "start": "2026-09-03"},
        ]
    )
    assert len(placed) == 4
    # Back to back is not overlapping.
    assert (
        len(
            _place(
                [
                    {"kind": "launch_surge", "topic": "xero_connection", "start": "2026-08-01", "days": 4},
                    {"kind": "channel_outage", "channel": "whatsapp", "start": "2026-08-05"},
                ]
            )
        )
        == 2
    )


def test_the_config_refuses_a_bad_window_before_anything_is_built() -> None:
    chosen = parse_incidents([{"kind": "csat_drop", "region": "EU", "start": "2020-01-01"}])
    with pytest.raises(InvalidInput, match="outside the simulated period"):
        SimulationConfig(days=30, incidents=chosen)


@pytest.mark.parametrize("problem", ["missing", "binary", "not json"])
def test_an_unreadable_incidents_file_is_one_clear_line(problem: str, tmp_path: Path) -> None:
    path = tmp_path / "incidents.json"
    if problem == "binary":
        path.write_bytes(b"\xff\xfe\x00garbage")
    elif problem == "not json":
        path.write_text("[{kind: outage}]")
    with pytest.raises(
        InvalidInput, match=r"^(cannot read )?--incidents .*(No such file|not UTF-8|not JSON)"
    ):
        load_incidents(path)


START = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def _outage(start: datetime, end: datetime) -> IncidentTruth:
    return IncidentTruth(
        id="outage-chat",
        kind="channel_outage",
        metric="conversation_volume",
        direction="down",
        segment=Segment(dimension="channel", value="chat"),
        start=start,
        end=end,
        first_day=start.date(),
        last_day=(end - timedelta(seconds=1)).date(),
        root_cause=ChannelCause(
            item="chat", kept=0.05, summary="The chat channel stopped delivering messages."
        ),
    )


def test_quiet_periods_keep_two_days_from_every_incident() -> None:
    periods = quiet_periods(START, START + 40 * DAY, [_outage(START + 20 * DAY, START + 22 * DAY)])
    assert [(p.start, p.end) for p in periods] == [
        (START + 2 * DAY, START + 18 * DAY),
        (START + 24 * DAY, START + 38 * DAY),
    ]
    assert quiet_periods(START, START + 6 * DAY, [_outage(START + 2 * DAY, START + 3 * DAY)]) == []


def test_a_truth_entry_names_the_cause_its_kind_has() -> None:
    entry = _outage(START, START + DAY).model_dump()
    entry["kind"] = "stale_article"
    with pytest.raises(ValueError, match="a stale_article is caused by a article, not channel"):
        IncidentTruth.model_validate(entry)
    assert Segment(dimension="plan", value="Free", within={"product_area": "billing"}).filters() == {
        "product_area": "billing",
        "plan": "Free",
    }


def test_the_truth_file_reads_back_and_a_foreign_file_is_refused(tmp_path: Path) -> None:
    truth = GroundTruth(
        workspace="demo",
        seed=1,
        period=Period(start=START, end=START + 30 * DAY, time_zone="UTC"),
        incidents=[_outage(START + 10 * DAY, START + 11 * DAY)],
        quiet_periods=[],
        content_issues={"missing": ["x"]},
        search_queries=[],
    )
    path = tmp_path / "truth.json"
    path.write_text(truth.to_json())
    assert load_truth(path) == truth and '"frontline"' not in path.read_text()
    assert truth.incident("channel_outage").root_cause.item == "chat"
    with pytest.raises(NotFound, match="no csat_drop incident"):
        truth.incident("csat_drop")
    path.write_text(json.dumps({"workspace": "demo", "incidents": "none"}))
    with pytest.raises(InvalidInput, match="is not a ground-truth file of this version"):
        load_truth(path)
