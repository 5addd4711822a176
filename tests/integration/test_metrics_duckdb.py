"""Every figure of the metrics engine equals DuckDB's on the same data (a simulated workspace)."""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterator
from datetime import date
from typing import Any

import duckdb
import pytest

from deskops.analytics import metrics as engine
from deskops.analytics.catalog import metric
from deskops.analytics.columns import ColumnStore
from deskops.bootstrap import build
from deskops.simulate.workspace import SimulationConfig, simulate_workspace

START, END, TODAY = date(2026, 8, 3), date(2026, 9, 27), date(2026, 10, 1)
LOCAL = "timezone('America/New_York', timezone('UTC', created_at))"


def run(function: Any, scope: Any, metric_name: str, **kwargs: Any) -> Any:
    """An engine call by metric name, on a fresh in-memory column store, as its JSON document."""
    return function(scope, columns=ColumnStore(None), metric=metric(metric_name), **kwargs).to_json()


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, duckdb.DuckDBPyConnection]]:
    folder = tmp_path_factory.mktemp("duck")
    services = build(database_url=f"sqlite:///{folder / 'm.db'}")
    with services.uow() as uow:
        simulate_workspace(
            uow=uow,
            config=SimulationConfig(seed=3, conversations=4000, days=90, end=date(2026, 10, 1)),
            truth_path=folder / "t.json",
        )
    duck = duckdb.connect()
    with sqlite3.connect(folder / "m.db") as db:
        for table in ("conversations", "customers"):
            cursor = db.execute(f"select * from {table}")
            path = folder / f"{table}.csv"
            with open(path, "w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow([d[0] for d in cursor.description])
                writer.writerows(cursor)
            duck.execute(f"create table {table} as select * from read_csv_auto('{path}', header=true)")
    duck.execute(f"""create view c as select c.*, {LOCAL} as local_time, cu.plan, cu.region
                     from conversations c left join customers cu on cu.id = c.customer_id
                     where cast({LOCAL} as date) between '{START}' and '{END}'""")
    with services.uow() as uow:
        yield uow.workspace("demo"), duck
    services.close()


def test_weekly_ai_resolution_rate_by_topic(both: tuple[Any, duckdb.DuckDBPyConnection]) -> None:
    scope, duck = both
    ours = run(
        engine.series,
        scope,
        metric_name="ai_resolution_rate",
        start=START,
        end=END,
        granularity="week",
        by="topic",
        top=100,
        today=TODAY,
    )
    mine = {
        (g["group"], p["start"][:10]): (p["numerator"], p["denominator"])
        for g in ours["groups"]
        for p in g["points"]
        if p["denominator"]
    }
    theirs = {
        (topic, str(week)): (float(hits), n)
        for topic, week, hits, n in duck.execute(
            "select topic, cast(date_trunc('week', local_time) as date), "
            "sum(case when outcome = 'ai_resolved' then 1 else 0 end), count(*) "
            "from c where ai_involved group by 1, 2"
        ).fetchall()
    }
    assert len(mine) > 300 and mine == theirs


def test_escalation_rate_by_plan_and_region(both: tuple[Any, duckdb.DuckDBPyConnection]) -> None:
    scope, duck = both
    for attribute in ("plan", "region"):
        ours = run(
            engine.series,
            scope,
            metric_name="escalation_rate",
            start=START,
            end=END,
            granularity="month",
            by=attribute,
            today=TODAY,
        )
        mine = {g["group"]: (g["total"]["value"], g["total"]["denominator"]) for g in ours["groups"]}
        theirs = {
            key: (round(rate, 4), n)
            for key, rate, n in duck.execute(
                f"select {attribute}, avg(case when escalated_at is not null then 1.0 else 0 end), count(*) "
                "from c where ai_involved group by 1"
            ).fetchall()
        }
        assert mine == theirs


def test_means_quantiles_and_per_customer(both: tuple[Any, duckdb.DuckDBPyConnection]) -> None:
    scope, duck = both

    def total(name: str) -> Any:
        return run(engine.series, scope, metric_name=name, start=START, end=END, today=TODAY)["total"][
            "value"
        ]

    expected = duck.execute(
        "select avg(csat), quantile_cont(first_response_seconds, 0.9), quantile_cont(handling_seconds, 0.5), "
        "count(*) / count(distinct customer_id), avg(case when reopen_count > 0 then 1.0 else 0 end) "
        "filter (where outcome is not null) from c"
    ).fetchone()
    assert expected is not None
    ours = [
        total("csat_average"),
        total("first_response_p90"),
        total("handling_time_p50"),
        total("conversations_per_customer"),
        total("reopen_rate"),
    ]
    assert ours == pytest.approx([round(v, 4) for v in expected], abs=1e-4)


def test_escalation_rate_by_plan_times_region(both: tuple[Any, duckdb.DuckDBPyConnection]) -> None:
    scope, duck = both
    ours = run(
        engine.series,
        scope,
        metric_name="escalation_rate",
        start=START,
        end=END,
        granularity="month",
        by="plan,region",
        top=100,
        today=TODAY,
    )
    mine = {g["group"]: (g["total"]["value"], g["total"]["denominator"]) for g in ours["groups"]}
    theirs = {
        f"{plan} × {region}": (round(rate, 4), n)
        for plan, region, rate, n in duck.execute(
            "select plan, region, avg(case when escalated_at is not null then 1.0 else 0 end), count(*) "
            "from c where ai_involved group by 1, 2"
        ).fetchall()
    }
    assert len(mine) == 20 and mine == theirs


def _local_day_between(start: date, end: date) -> str:
    return f"cast({LOCAL} as date) between '{start}' and '{end}'"


def test_top_movers_segments(both: tuple[Any, duckdb.DuckDBPyConnection]) -> None:
    scope, duck = both
    current, previous = (date(2026, 9, 14), END), (date(2026, 8, 31), date(2026, 9, 13))
    ours = run(
        engine.top_movers,
        scope,
        metric_name="escalation_rate",
        start=current[0],
        end=current[1],
        attributes=("topic", "plan", "channel"),
        limit=1000,
        today=TODAY,
    )
    mine = {
        (row["attribute"], row["segment"], period): (row[period]["numerator"], row[period]["denominator"])
        for row in ours["movers"]
        for period in ("current", "previous")
    }
    theirs = {}
    for attribute in ("topic", "plan", "channel"):
        for period, (start, end) in (("current", current), ("previous", previous)):
            for segment, hits, n in duck.execute(
                f"select coalesce({attribute}, '(none)'), "
                "sum(case when c.escalated_at is not null then 1 else 0 end), count(*) "
                "from conversations c left join customers cu on cu.id = c.customer_id "
                f"where c.ai_involved and {_local_day_between(start, end)} group by 1"
            ).fetchall():
                theirs[(attribute, segment, period)] = (float(hits), n)
    # A segment seen in one period only is reported with an empty sample in the other.
    assert {k: v for k, v in mine.items() if v[1]} == theirs and len(theirs) > 60


def test_attribute_report_coverage_cardinality_and_association(
    both: tuple[Any, duckdb.DuckDBPyConnection],
) -> None:
    from scipy import stats

    from deskops.analytics.attributes import attribute_report

    scope, duck = both
    report = attribute_report(scope, columns=ColumnStore(None), start=START, end=END, today=TODAY).to_json()
    rows = {r["attribute"]: r for r in report["attributes"]}
    base = (
        "from conversations c left join customers cu on cu.id = c.customer_id "
        f"where {_local_day_between(START, END)}"
    )
    (n,) = duck.execute(f"select count(*) {base}").fetchone()  # type: ignore[misc]
    assert report["conversations"] == n
    expressions = {
        "topic": "c.topic",
        "plan": "cu.plan",
        "region": "cu.region",
        "conversation.priority": "json_extract_string(c.attributes, '$.priority')",
        "customer.country": "json_extract_string(cu.attributes, '$.country')",
        "customer.industry": "json_extract_string(cu.attributes, '$.industry')",
    }
    for name, expression in expressions.items():
        present, distinct = duck.execute(
            f"select count(nullif({expression}, '')), count(distinct nullif({expression}, '')) {base}"
        ).fetchone()  # type: ignore[misc]
        assert (rows[name]["coverage"], rows[name]["cardinality"]) == (round(present / n, 4), distinct), name
    # Cramér's V of plan against escalation, from DuckDB's contingency table.
    table = duck.execute(
        f"select coalesce(cu.plan, '(missing)'), sum(case when c.escalated_at is null then 1 else 0 end), "
        f"sum(case when c.escalated_at is not null then 1 else 0 end) {base} and c.ai_involved group by 1"
    ).fetchall()
    counts = [[a, b] for _, a, b in table]
    chi2, *_ = stats.chi2_contingency(counts, correction=False)
    total = sum(a + b for a, b in counts)
    expected_v = round((chi2 / (total * (min(len(counts), 2) - 1))) ** 0.5, 4)
    assert rows["plan"]["association"]["cramers_v"] == expected_v
