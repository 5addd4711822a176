"""The simulator: realistic shape, causal content quality, measurable incidents, determinism."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from deskops.bootstrap import build
from deskops.errors import Conflict
from deskops.simulate import catalog
from deskops.simulate.transcripts import TranscriptWriter
from deskops.simulate.workspace import SimulationConfig, simulate_workspace

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


def ts(value: str) -> str:
    """Truth timestamps (ISO with offset) in the store's UTC text form."""
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S.%f")


def incident(truth: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(i for i in truth["incidents"] if i["kind"] == kind)


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
    db, truth = built

    def escalation(where: str, *params: object) -> float:
        return float(
            scalar(
                db,
                f"select avg(escalated_at is not null) from conversations where ai_involved and {where}",
                *params,
            )
        )

    stale = incident(truth, "stale_article")
    topic, start = stale["segment"]["topic"], ts(stale["start"])
    before = escalation(
        "topic = ? and created_at < ? and created_at >= datetime(?, '-30 days')", topic, start, start
    )
    after = escalation("topic = ? and created_at >= ?", topic, start)
    assert after > before + 0.15

    rule = incident(truth, "guidance_misconfiguration")
    window = (ts(rule["start"]), ts(rule["end"]))
    inside = escalation(
        "product_area = 'billing' and customer_id in (select id from customers where plan = "
        "'Starter') and created_at >= ? and created_at < ?",
        *window,
    )
    outside = escalation(
        "product_area = 'billing' and customer_id in (select id from customers where plan = "
        "'Starter') and (created_at < ? or created_at >= ?)",
        *window,
    )
    assert inside > outside + 0.3

    launch = incident(truth, "launch_surge")
    start = ts(launch["start"])
    per_day_after = scalar(
        db,
        "select count(*) / 3.0 from conversations where product_area = 'integrations' "
        "and created_at >= ? and created_at < datetime(?, '+3 days')",
        start,
        start,
    )
    per_day_before = scalar(
        db,
        "select count(*) / 14.0 from conversations where product_area = 'integrations' "
        "and created_at < ? and created_at >= datetime(?, '-14 days')",
        start,
        start,
    )
    assert per_day_after > 1.8 * per_day_before

    outage = incident(truth, "channel_outage")
    window = (ts(outage["start"]), ts(outage["end"]))
    during = scalar(
        db,
        "select count(*) from conversations where channel = 'whatsapp' and created_at >= ? "
        "and created_at < ?",
        *window,
    )
    week_before = scalar(
        db,
        "select count(*) from conversations where channel = 'whatsapp' and created_at >= "
        "datetime(?, '-7 days') and created_at < datetime(?, '-7 days')",
        *window,
    )
    assert during < 0.3 * week_before

    csat = incident(truth, "csat_drop")
    window = (ts(csat["start"]), ts(csat["end"]))
    eu = "customer_id in (select id from customers where region = 'EU') and outcome = 'human_resolved'"
    inside = scalar(
        db, f"select avg(csat) from conversations where {eu} and created_at >= ? and created_at < ?", *window
    )
    outside = scalar(
        db, f"select avg(csat) from conversations where {eu} and (created_at < ? or created_at >= ?)", *window
    )
    assert inside < outside - 0.3


def test_ground_truth_stays_out_of_the_database(built: tuple[sqlite3.Connection, dict[str, Any]]) -> None:
    db, truth = built
    dump = "\n".join(db.iterdump())
    for item in truth["incidents"]:
        assert item["id"] not in dump and item["root_cause"] not in dump
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

    def fingerprint(name: str, config: SimulationConfig) -> str:
        _simulate(f"sqlite:///{tmp_path / name}", tmp_path / f"{name}.json", config)
        with sqlite3.connect(tmp_path / name) as db:
            rows = [
                *db.execute("select * from conversations order by id"),
                *db.execute("select * from messages order by conversation_id, seq"),
                *db.execute("select * from customers order by id"),
                *db.execute("select external_id, title, body, version from articles order by id"),
            ]
        return hashlib.sha256(repr(rows).encode()).hexdigest()

    first = fingerprint("a.db", small)
    assert fingerprint("b.db", small) == first
    assert fingerprint("c.db", SimulationConfig(seed=4, conversations=1500, days=30)) != first
    assert (tmp_path / "a.db.json").read_text() == (tmp_path / "b.db.json").read_text()


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
