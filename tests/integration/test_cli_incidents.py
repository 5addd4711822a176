"""`deskops simulate --incidents FILE`: a chosen set goes in; a bad file is one line and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deskops.cli import app
from deskops.simulate.truth import load_truth

PERIOD = ["--days", "30", "--end", "2026-10-01", "--conversations", "600"]


def simulate(folder: Path, incidents: Any, *extra: str) -> tuple[int, dict[str, Any], str]:
    path = folder / "incidents.json"
    path.write_text(incidents if isinstance(incidents, str) else json.dumps(incidents))
    db, truth = f"sqlite:///{folder / 'sim.db'}", folder / "truth.json"
    command = [
        "simulate",
        "--db",
        db,
        "--truth",
        str(truth),
        "--incidents",
        str(path),
        *PERIOD,
        *extra,
        "--json",
    ]
    result = CliRunner().invoke(app, command)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, json.loads(result.stdout), result.stderr


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the default data folder (.deskops) would land here


def test_the_chosen_incidents_and_only_they_are_in_the_truth(tmp_path: Path) -> None:
    chosen = [
        {"kind": "channel_outage", "channel": "email", "start": "2026-09-10", "days": 2},
        {"kind": "guidance_misconfiguration", "plan": "Growth", "start": "2026-09-20"},
    ]
    code, report, _ = simulate(tmp_path, chosen)
    assert code == 0, report
    truth = load_truth(tmp_path / "truth.json")
    outage, rule = truth.incidents
    assert (
        outage.id,
        outage.segment.filters(),
        outage.first_day.isoformat(),
        outage.last_day.isoformat(),
    ) == (
        "outage-email",
        {"channel": "email"},
        "2026-09-10",
        "2026-09-11",
    )
    assert rule.root_cause.item == "gr-enterprise-billing" and rule.segment.value == "Growth"
    assert (rule.last_day - rule.first_day).days + 1 == 3  # 9 days shrunk for a 30-day period
    # None at all: a quiet workspace, every day of it a control.
    code, _, _ = simulate(tmp_path, [], "--replace")
    assert code == 0 and load_truth(tmp_path / "truth.json").incidents == []


@pytest.mark.parametrize(
    ("incidents", "says"),
    [
        ([{"kind": "meteor_strike", "start": 0.5}], "field kind is 'meteor_strike', an unknown kind"),
        (
            [{"kind": "stale_article", "topic": "payouts", "start": 0.8}],
            "not a catalog topic with a product change",
        ),
        (
            [{"kind": "launch_surge", "topic": "holograms", "start": 0.3}],
            "'holograms' is not a catalog topic",
        ),
        ([{"kind": "channel_outage", "channel": "pigeon", "start": 0.3}], "'pigeon' is not a channel"),
        ([{"kind": "guidance_misconfiguration", "plan": "Gold", "start": 0.3}], "'Gold' is not a plan"),
        ([{"kind": "csat_drop", "region": "Atlantis", "start": 0.3}], "'Atlantis' is not a region"),
        ([{"kind": "csat_drop", "region": "EU", "start": "2026-11-02"}], "outside the simulated period"),
        ([{"kind": "csat_drop", "region": "EU", "start": "2026-09-28", "days": 7}], "past the end"),
        (
            [
                {"kind": "channel_outage", "channel": "chat", "start": "2026-09-10"},
                {"kind": "launch_surge", "topic": "virtual_cards", "start": "2026-09-08"},
            ],
            "both move conversation_volume in overlapping segments",
        ),
        ("[{]", "is not JSON"),
    ],
)
def test_a_bad_incidents_file_is_refused_in_one_line_and_nothing_is_written(
    tmp_path: Path, incidents: Any, says: str
) -> None:
    code, document, stderr = simulate(tmp_path, incidents)
    assert code == 1 and says in document["error"], document
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["incidents.json"]  # no database, no truth, no cache


def test_the_help_documents_the_file() -> None:
    result = CliRunner().invoke(app, ["simulate", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for word in ("--incidents", "stale_article", "csat_drop", "channel_outage", "docs/simulator.md"):
        assert word in result.stdout, word
