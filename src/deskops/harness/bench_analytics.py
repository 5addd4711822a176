"""`deskops bench analytics`: the issue's standard query mix, deskops beside DuckDB on the same data.

A simulated workspace is written to SQLite; its tables are exported once and loaded
into an in-memory DuckDB. Each query of the mix runs ``repeat`` times in each engine
in the same run; the report gives p50/p95 per engine, their ratio and whether the
target (p95 <= 150 ms and no slower than DuckDB) is met.
"""

from __future__ import annotations

import csv
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskops.domain.types import Latency
from deskops.errors import Unavailable

if TYPE_CHECKING:
    from deskops.bootstrap import Services
    from deskops.store.repositories import WorkspaceScope

TARGET_MS = 150
LOCAL = "timezone('America/New_York', timezone('UTC', created_at))"


def _timed(call: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    samples, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = call()
        samples.append(time.perf_counter() - began)
    return samples, result


def _summary(samples_s: list[float]) -> Latency:
    return Latency.of([s * 1000 for s in samples_s])


def yardstick() -> Any:
    """The DuckDB module, or a clear error: it is an optional extra, not a dependency of deskops."""
    try:
        import duckdb
    except ImportError:
        raise Unavailable(
            "deskops bench analytics compares with DuckDB, an optional extra: pip install 'deskops[bench]'"
        ) from None
    return duckdb


def run_analytics_bench(
    *, conversations: int, days: int, repeat: int, log: Callable[[str], None]
) -> dict[str, Any]:
    duckdb = yardstick()

    from deskops.analytics import metrics as engine
    from deskops.analytics.attributes import attribute_report
    from deskops.analytics.catalog import metric
    from deskops.bootstrap import build
    from deskops.simulate.workspace import SimulationConfig, simulate_workspace

    with tempfile.TemporaryDirectory(prefix="deskops-analytics-bench-") as folder:
        db_path = Path(folder) / "bench.db"
        config = SimulationConfig(conversations=conversations, days=days)
        log(f"simulating {conversations:,} conversations over {days} days ...")
        services = build(database_url=f"sqlite:///{db_path}", data_dir=Path(folder))
        with services.uow() as uow:
            simulate_workspace(uow=uow, config=config, truth_path=Path(folder) / "truth.json")

        log("loading the same tables into DuckDB ...")
        duck = duckdb.connect()
        with sqlite3.connect(db_path) as db:
            for table in ("conversations", "customers"):
                cursor = db.execute(f"select * from {table}")
                path = Path(folder) / f"{table}.csv"
                with open(path, "w", newline="") as handle:
                    writer = csv.writer(handle)
                    writer.writerow([d[0] for d in cursor.description])
                    writer.writerows(cursor)
                duck.execute(f"create table {table} as select * from read_csv_auto('{path}', header=true)")
        duck.execute(
            f"create table c as select c.*, {LOCAL} as local_time, cast({LOCAL} as date) as local_day, "
            "cu.plan, cu.region, cu.company_size, cu.attributes as customer_attributes "
            "from conversations c left join customers cu on cu.id = c.customer_id"
        )

        last = config.end - timedelta(days=1)
        six_months, quarter, month = (
            last - timedelta(days=181),
            last - timedelta(days=89),
            last - timedelta(days=29),
        )
        previous_month = (month - timedelta(days=30), month - timedelta(days=1))
        report: dict[str, Any] = {
            "benchmark": "analytics",
            "conversations": conversations,
            "days": days,
            "repeat": repeat,
            "target": f"p95 <= {TARGET_MS} ms and no slower than DuckDB",
            "machine": {"cpus": os.cpu_count()},
            "queries": {},
        }
        with services.uow() as uow:
            scope = uow.workspace("demo")
            report["rollup"] = _rollup_costs(services, scope, log)
            mix: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
                "weekly_ai_resolution_by_topic_6_months": (
                    lambda: engine.series(
                        scope,
                        columns=services.columns,
                        metric=metric("ai_resolution_rate"),
                        start=six_months,
                        end=last,
                        granularity="week",
                        by="topic",
                        top=100,
                        today=config.end,
                    ),
                    lambda: duck.execute(
                        "select topic, date_trunc('week', local_time) w, "
                        "avg((outcome = 'ai_resolved')::int), count(*) from c where ai_involved "
                        f"and local_day between '{six_months}' and '{last}' group by 1, 2"
                    ).fetchall(),
                ),
                "escalation_rate_by_plan_and_region_90_days": (
                    lambda: engine.series(
                        scope,
                        columns=services.columns,
                        metric=metric("escalation_rate"),
                        start=quarter,
                        end=last,
                        granularity="month",
                        by="plan,region",
                        top=100,
                        today=config.end,
                    ),
                    lambda: duck.execute(
                        "select plan, region, avg((escalated_at is not null)::int), count(*) from c "
                        f"where ai_involved and local_day between '{quarter}' and '{last}' group by 1, 2"
                    ).fetchall(),
                ),
                "period_comparison_with_top_movers": (
                    lambda: (
                        engine.compare(
                            scope,
                            columns=services.columns,
                            metric=metric("escalation_rate"),
                            start=month,
                            end=last,
                            today=config.end,
                        ),
                        engine.top_movers(
                            scope,
                            columns=services.columns,
                            metric=metric("escalation_rate"),
                            start=month,
                            end=last,
                            today=config.end,
                        ),
                    ),
                    lambda: _duck_movers(duck, (month, last), previous_month),
                ),
                "attribute_report_30_days": (
                    lambda: attribute_report(
                        scope, columns=services.columns, start=month, end=last, today=config.end
                    ),
                    lambda: _duck_attributes(duck, month, last),
                ),
            }
            for name, (ours, theirs) in mix.items():
                log(f"  {name} ...")
                ours_samples, _ = _timed(ours, repeat)
                duck_samples, _ = _timed(theirs, repeat)
                o, d = _summary(ours_samples), _summary(duck_samples)
                ours_p95, duck_p95 = o.p95_ms or 0.0, d.p95_ms or 0.0
                report["queries"][name] = {
                    "deskops": o.to_json(),
                    "duckdb": d.to_json(),
                    "ratio_p95": round(ours_p95 / max(duck_p95, 0.1), 1),
                    "meets_target": ours_p95 <= TARGET_MS and ours_p95 <= duck_p95,
                }
                log(f"    {report['queries'][name]}")
        services.close()
    return report


def _rollup_costs(services: Services, scope: WorkspaceScope, log: Callable[[str], None]) -> dict[str, Any]:
    """What keeping the column snapshot costs: a full build, a load from disk, an append of 1,000."""
    from datetime import UTC, datetime

    from deskops.analytics import columns
    from deskops.domain.models import Conversation

    store = services.columns
    log("building the column snapshot ...")
    began = time.perf_counter()
    snapshot = store.refresh(scope, rebuild=True).snapshot
    built = time.perf_counter() - began
    began = time.perf_counter()
    columns.ColumnStore(store.root).snapshot(scope)
    loaded = time.perf_counter() - began
    # A write of 1,000 new conversations, then the first query's refresh: read and merge only those.
    newest = datetime.fromtimestamp(int(snapshot.columns["created"][-1]) / 1e6, UTC)
    scope.conversations.upsert_many(
        [
            Conversation(
                external_id=f"bench-append-{i}",
                created_at=newest,
                channel="chat",
                topic="bench",
                ai_involved=True,
                attributes={"priority": "high"},
            )
            for i in range(1_000)
        ]
    )
    began = time.perf_counter()
    refreshed = store.refresh(scope)
    appended = time.perf_counter() - began
    assert refreshed.action == "appended"
    return {
        "rows": len(snapshot),
        "build_s": round(built, 2),
        "load_from_disk_s": round(loaded, 3),
        "append_1000_conversations_s": round(appended, 3),
    }


def _duck_movers(duck: Any, current: tuple[date, date], previous: tuple[date, date]) -> list[Any]:
    rows = []
    for attribute in (
        "channel",
        "topic",
        "product_area",
        "language",
        "plan",
        "region",
        "company_size",
        "ai_involved",
    ):
        rows += duck.execute(
            f"select '{attribute}', {attribute}, local_day >= '{current[0]}' as now, "
            "avg((escalated_at is not null)::int), count(*) from c "
            f"where ai_involved and local_day between '{previous[0]}' and '{current[1]}' group by 1, 2, 3"
        ).fetchall()
    return rows


def _duck_attributes(duck: Any, start: date, end: date) -> list[Any]:
    rows = []
    period = f"local_day between '{start}' and '{end}'"
    expressions = [
        f"{a}::varchar"
        for a in ("channel", "topic", "product_area", "language", "team", "plan", "region", "company_size")
    ]
    expressions += [f"json_extract_string(attributes, '$.{k}')" for k in ("app_version", "priority")]
    expressions += [
        f"json_extract_string(customer_attributes, '$.{k}')"
        for k in (
            "country",
            "mrr_usd",
            "legacy_segment",
            "industry",
            "account_manager",
            "referral_code",
            "beta_features",
        )
    ]
    for expression in expressions:
        rows += duck.execute(
            f"select count({expression}), count(distinct {expression}) from c where {period}"
        ).fetchall()
        rows += duck.execute(
            f"select {expression}, (escalated_at is not null) e, count(*) from c "
            f"where {period} and ai_involved group by 1, 2"
        ).fetchall()
    return rows
