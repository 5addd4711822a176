"""The simulator: realistic shape, causal content quality, measurable incidents, determinism."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from deskops.bootstrap import build
from deskops.errors import Conflict
from deskops.simulate import catalog
from deskops.simulate.incidents import load_incidents
from deskops.simulate.transcripts import TranscriptWriter
from deskops.simulate.truth import GroundTruth
from deskops.simulate.workspace import SimulationConfig, simulate_workspace
from incident_effects import measure

CONFIG = SimulationConfig(seed=11, conversations=20_000, days=90, end=date(2026, 10, 1))


def _simulate(url: str, truth: Path, config: SimulationConfig = CONFIG) -> dict[str, Any]:
    services = build(database_url=url)
    try:
        with services.uow() as uow:
            return simulate_workspace(uow=uow, config=config, truth_path=truth).as_dict()
    finally:
        services.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[sqlite3.Connection, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("sim")
    _simulate(f"sqlite:///{folder / 'sim.db'}", folder / "truth.json")
    connection = sqlite3.connect(folder / "sim.db")
    yield connection, json.loads((folder / "truth.json").read_text())
    connection.close()


def scalar(db: sqlite3.Connection, sql: str, *params: object) -> Any:
    return db.execute(sql, params).fetchone()[0]


def test_workspace_has_the_shape_of_a_real_operation(
    built: tuple[sqlite3.Connection, dict[str, Any]],
) -> None:
    db, _ = built
    assert scalar(db, "select count(*) from conversations") == 20_000
    assert scalar(db, "select count(*) from articles") >= 60
    assert scalar(db, "select count(distinct topic) from conversations") >= 40
    assert scalar(db, "select count(distinct product_area) from conversations") == 7
    assert {row[0] for row in db.execute("select distinct state from articles")} == {
        "draft",
        "published",
        "archived",
    }
    assert (
        scalar(db, "select count(*) from guidance_rules") >= 8
        and scalar(db, "select count(*) from procedures") >= 4
    )
    # Multi-turn threads with AI and human replies, several languages, typos in customer text.
    assert scalar(db, "select max(n) from (select count(*) n from messages group by conversation_id)") >= 6
    kinds = {row[0] for row in db.execute("select distinct author_kind from messages")}
    assert kinds == {"customer", "ai_agent", "human_agent", "system"}
    assert scalar(db, "select count(distinct language) from conversations") == 4
    openings = {
        t for (t,) in db.execute("select text from messages where seq = 0 and author_kind = 'customer'")
    }
    phrasings = {p for topic in catalog.TOPICS for p in topic.phrasings}
    assert (
        sum(any(p in text for p in phrasings) for text in list(openings)[:2000]) < 2000
    )  # typos and translations
    # Outcomes cover the whole set; timestamps are ordered.
    outcomes = {row[0] for row in db.execute("select distinct outcome from conversations")}
    assert outcomes == {"ai_resolved", "human_resolved", "escalated_unresolved", "abandoned", None}
    assert (
        scalar(
            db,
            "select count(*) from conversations where first_response_at < created_at "
            "or closed_at < created_at or escalated_at < created_at",
        )
        == 0
    )
    assert scalar(db, "select count(*) from conversations where csat not between 1 and 5") == 0


def test_customer_attributes_are_uneven_like_real_data(
    built: tuple[sqlite3.Connection, dict[str, Any]],
) -> None:
    db, _ = built
    customers = scalar(db, "select count(*) from customers")
    assert (
        scalar(
            db,
            "select count(*) from customers where json_extract(attributes, '$.legacy_segment') is not null",
        )
        == 0
    )  # present but always empty
    industry = scalar(
        db, "select count(*) from customers where json_extract(attributes, '$.industry') is not null"
    )
    assert 0.6 < industry / customers < 0.8  # sparse
    referral = scalar(db, "select count(distinct json_extract(attributes, '$.referral_code')) from customers")
    assert referral > 0.3 * customers  # high cardinality
    managers = scalar(
        db,
        "select count(*) from customers where json_extract(attributes, '$.account_manager') "
        "is not null and plan != 'Enterprise'",
    )
    assert managers == 0


def test_volume_has_seasonality_and_growth(built: tuple[sqlite3.Connection, dict[str, Any]]) -> None:
    db, _ = built
    by_weekday = dict(
        db.execute(
            "select strftime('%w', datetime(created_at, '-4 hours')) d, count(*) "
            "from conversations group by d"
        )
    )
    weekday = sum(by_weekday[d] for d in "12345") / 5
    weekend = (by_weekday["0"] + by_weekday["6"]) / 2
    assert weekend < 0.6 * weekday
    by_hour = dict(
        db.execute(
            "select cast(strftime('%H', datetime(created_at, '-4 hours')) as int) h, count(*) "
            "from conversations group by h"
        )
    )
    assert by_hour[10] > 5 * by_hour[3]
    first = scalar(
        db,
        "select count(*) from conversations where created_at < (select datetime(min(created_at), "
        "'+21 days') from conversations)",
    )
    last = scalar(
        db,
        "select count(*) from conversations where created_at >= (select datetime(max(created_at), "
        "'-21 days') from conversations)",
    )
    assert last > 1.1 * first


def test_content_quality_drives_ai_resolution(built: tuple[sqlite3.Connection, dict[str, Any]]) -> None:
    db, truth = built
    missing = truth["content_issues"]["missing"]
    rate = "select avg(outcome = 'ai_resolved') from conversations where ai_involved and topic in ({})"
    missing_rate = scalar(db, rate.format(",".join("?" * len(missing))), *missing)
    problems = {t for kind in truth["content_issues"].values() for t in kind}
    healthy = [t.key for t in catalog.TOPICS if t.key not in problems and t.needs_human < 0.2][:10]
    healthy_rate = scalar(db, rate.format(",".join("?" * len(healthy))), *healthy)
    assert missing_rate < 0.12 < 0.5 < healthy_rate


def test_each_incident_moves_its_metric_in_its_segment(
    built: tuple[sqlite3.Connection, dict[str, Any]],
) -> None:
    """Whatever the seed drew, the truth file's segments and windows are where the data moved."""
    db, document = built
    truth = GroundTruth.model_validate(document)
    assert sorted(i.kind for i in truth.incidents) == sorted(MARGINS)
    for incident in truth.incidents:
        effect = measure(db, truth, incident)
        assert effect.p < 1e-3, effect
        margin = MARGINS[incident.kind]
        if incident.metric == "conversation_volume":  # conversations in the window over the weeks before
            ratio = effect.during / effect.before
            assert ratio > margin if incident.direction == "up" else ratio < margin, effect
        else:
            change = (
                effect.during - effect.before if incident.direction == "up" else effect.before - effect.during
            )
            assert change > margin, effect


MARGINS = {
    "stale_article": 0.15,
    "guidance_misconfiguration": 0.3,
    "launch_surge": 1.5,
    "channel_outage": 0.3,
    "csat_drop": 0.6,
}
"""By how much each kind moves its metric: escalation rate and CSAT by this much, volume by this ratio."""


def test_ground_truth_stays_out_of_the_database(built: tuple[sqlite3.Connection, dict[str, Any]]) -> None:
    db, truth = built
    dump = "\n".join(db.iterdump())
    for item in truth["incidents"]:
        assert item["id"] not in dump and item["root_cause"]["summary"] not in dump
        if item["kind"] == "stale_article":  # the help center never learned the new fact
            assert item["root_cause"]["new_fact"] not in dump and item["root_cause"]["old_fact"] in dump
    assert "quiet_periods" not in dump and "content_issues" not in dump
    assert len(truth["quiet_periods"]) >= 2 and len(truth["incidents"]) == 5


def test_labelled_search_queries_point_at_published_articles(
    built: tuple[sqlite3.Connection, dict[str, Any]],
) -> None:
    db, truth = built
    published = {row[0] for row in db.execute("select external_id from articles where state = 'published'")}
    queries = truth["search_queries"]
    assert len(queries) >= 10 * len(catalog.TOPICS)
    assert all(set(q["relevant"]) <= published for q in queries)
    missing = set(truth["content_issues"]["missing"])
    assert all(q["relevant"] == [] for q in queries if q["topic"] in missing)
    assert any(q["typo"] for q in queries)


def test_same_seed_same_workspace_and_another_seed_differs(tmp_path: Path) -> None:
    small = SimulationConfig(seed=3, conversations=1500, days=30)

    def fingerprint(name: str, config: SimulationConfig) -> tuple[str, dict[str, int]]:
        _simulate(f"sqlite:///{tmp_path / name}", tmp_path / f"{name}.json", config)
        with sqlite3.connect(tmp_path / name) as db:
            rows = [
                *db.execute("select * from conversations order by id"),
                *db.execute("select * from messages order by conversation_id, seq"),
                *db.execute("select * from customers order by id"),
                *db.execute("select * from events order by id"),
                *db.execute("select external_id, title, body, version from articles order by id"),
                *db.execute("select * from guidance_rule_versions order by rule_id, version"),
            ]
            figures = dict(
                db.execute(
                    "select 'conversations', count(*) from conversations union all "
                    "select 'escalated', count(escalated_at) from conversations union all "
                    "select 'rated', count(csat) from conversations union all "
                    "select coalesce(outcome, 'open'), count(*) from conversations group by outcome"
                )
            )
        return hashlib.sha256(repr(rows).encode()).hexdigest(), figures

    first = fingerprint("a.db", small)
    assert fingerprint("b.db", small) == first
    truth = (tmp_path / "a.db.json").read_bytes()
    assert (tmp_path / "b.db.json").read_bytes() == truth  # byte for byte
    # The seed's own draw, handed over as an --incidents file, builds the very same workspace.
    drawn = tmp_path / "drawn.json"
    drawn.write_text(small.choices().to_json())
    assert fingerprint("d.db", replace(small, incidents=load_incidents(drawn))) == first
    assert (tmp_path / "d.db.json").read_bytes() == truth
    other = fingerprint("c.db", replace(small, seed=4))
    assert other[0] != first[0] and other[1] != first[1]
    incidents = [json.loads((tmp_path / f"{n}.db.json").read_text())["incidents"] for n in "ac"]
    assert [i["kind"] for i in incidents[0]] != [i["kind"] for i in incidents[1]] or incidents[
        0
    ] != incidents[1]


def test_a_failed_simulation_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url, truth = f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "truth.json"
    calls = {"n": 0}
    original = TranscriptWriter.rows

    def failing(self: TranscriptWriter, lo: int, hi: int) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk on fire")
        return original(self, lo, hi)

    monkeypatch.setattr(TranscriptWriter, "rows", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        _simulate(url, truth, SimulationConfig(conversations=45_000, days=30))
    with sqlite3.connect(tmp_path / "x.db") as db:
        assert scalar(db, "select count(*) from workspaces") == 0
        assert scalar(db, "select count(*) from conversations") == 0
    assert not truth.exists() and not truth.with_name("truth.json.partial").exists()


def test_existing_workspace_is_kept_unless_replaced(tmp_path: Path) -> None:
    url, truth = f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "truth.json"
    small = SimulationConfig(conversations=300, days=14)
    _simulate(url, truth, small)
    with pytest.raises(Conflict, match="--replace"):
        _simulate(url, truth, small)


@pytest.mark.postgres
def test_simulation_on_postgresql_reads_back_through_the_repositories(pg_url: str, tmp_path: Path) -> None:
    report = _simulate(pg_url, tmp_path / "truth.json", SimulationConfig(conversations=2000, days=30))
    services = build(database_url=pg_url)
    try:
        with services.uow() as uow:
            scope = uow.workspace("demo")
            assert scope.conversations.count() == 2000
            assert scope.conversations.count_messages() == report["messages"]
            conversation = scope.conversations.get("sim-0000001")
            assert conversation.messages[0].author_kind.value == "customer"
            assert conversation.created_at.tzinfo is not None
            assert scope.customers.count() == report["customers"]
    finally:
        services.close()
