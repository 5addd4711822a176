"""The CLI contract: one JSON document on stdout with --json, clear errors, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def deskops(*args: str, cwd: Path, expect: int = 0) -> tuple[Any, str]:
    """Run the installed CLI; returns (parsed stdout JSON or text, stderr)."""
    result = subprocess.run(
        [sys.executable, "-m", "deskops.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=300,
    )
    assert result.returncode == expect, (result.stdout, result.stderr)
    stdout = result.stdout
    if "--json" in args:
        return json.loads(stdout), result.stderr  # exactly one document, nothing else
    return stdout, result.stderr


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("cli")
    db = f"sqlite:///{folder / 'cli.db'}"
    report, _ = deskops(
        "simulate",
        "--db",
        db,
        "--seed",
        "5",
        "--conversations",
        "3000",
        "--days",
        "30",
        "--truth",
        str(folder / "truth.json"),
        "--json",
        cwd=folder,
    )
    return folder, db, report


def test_simulate_reports_what_it_built(demo: tuple[Path, str, dict[str, Any]]) -> None:
    folder, _, report = demo
    assert report["workspace"] == "demo" and report["conversations"] == 3000
    assert report["messages"] > 3 * 3000 and report["articles"] == 66
    truth = json.loads((folder / "truth.json").read_text())
    assert len(truth["incidents"]) == 5


def test_summary_json_matches_the_database(demo: tuple[Path, str, dict[str, Any]]) -> None:
    folder, db, report = demo
    summary, _ = deskops("summary", "--db", db, "--workspace", "demo", "--json", cwd=folder)
    assert summary["counts"]["conversations"] == 3000
    assert summary["counts"]["messages"] == report["messages"]
    assert sum(v["count"] for v in summary["outcomes"].values()) == 3000
    assert abs(sum(v["share"] for v in summary["channels"].values()) - 1) < 0.001
    text, _ = deskops("summary", "--db", db, cwd=folder)
    assert "Workspace demo" in text and "Top topics" in text and "ai_resolved" in text


def test_errors_are_one_clear_line_and_exit_1(demo: tuple[Path, str, dict[str, Any]]) -> None:
    folder, db, _ = demo
    document, stderr = deskops("summary", "--db", db, "--workspace", "nope", "--json", cwd=folder, expect=1)
    assert document == {"error": "unknown workspace 'nope' (known: demo)"}
    assert "Traceback" not in stderr
    document, _ = deskops(
        "simulate",
        "--db",
        db,
        "--conversations",
        "100",
        "--days",
        "20",
        "--json",
        "--truth",
        str(folder / "t2.json"),
        cwd=folder,
        expect=1,
    )
    assert "already exists" in document["error"] and "--replace" in document["error"]
    document, _ = deskops("simulate", "--db", db, "--days", "3", "--json", cwd=folder, expect=1)
    assert "--days must be between 14 and 3650" in document["error"]
    document, _ = deskops("simulate", "--db", db, "--end", "soon", "--json", cwd=folder, expect=1)
    assert "--end must be a date" in document["error"]
    document, _ = deskops("workspace", "create", "Bad Name", "--db", db, "--json", cwd=folder, expect=1)
    assert "invalid workspace name" in document["error"]


def test_members_and_tokens(demo: tuple[Path, str, dict[str, Any]]) -> None:
    folder, db, _ = demo
    created, _ = deskops(
        "workspace", "create", "acme", "--time-zone", "Europe/Berlin", "--db", db, "--json", cwd=folder
    )
    assert created["time_zone"] == "Europe/Berlin"
    member, _ = deskops(
        "member",
        "add",
        "lead@acme.example",
        "--workspace",
        "acme",
        "--role",
        "admin",
        "--token",
        "--db",
        db,
        "--json",
        cwd=folder,
    )
    assert member["role"] == "admin" and member["token"].startswith("dko_")
    listed, _ = deskops("member", "list", "--workspace", "acme", "--db", db, "--json", cwd=folder)
    assert [m["email"] for m in listed["members"]] == ["lead@acme.example"]
    deskops("workspace", "delete", "acme", "--db", db, "--json", cwd=folder, expect=1)  # needs --yes
    deskops("workspace", "delete", "acme", "--yes", "--db", db, "--json", cwd=folder)
    listed, _ = deskops("workspace", "list", "--db", db, "--json", cwd=folder)
    assert [w["name"] for w in listed["workspaces"]] == ["demo"]


def test_demo_builds_once_then_only_summarises(tmp_path: Path) -> None:
    env_db = f"sqlite:///{tmp_path / 'demo.db'}"
    first, stderr = deskops("demo", "--db", env_db, "--conversations", "1000", cwd=tmp_path)
    assert "Building the demo workspace" in stderr and "1,000 conversations" in first
    assert (tmp_path / ".deskops" / "truth" / "demo.json").exists()
    second, stderr = deskops("demo", "--db", env_db, "--conversations", "1000", cwd=tmp_path)
    assert "Building" not in stderr and "1,000 conversations" in second


def test_import_reports_counts_and_bad_records_with_line_and_field(tmp_path: Path) -> None:
    data = Path(__file__).resolve().parents[1] / "data" / "import"
    db = f"sqlite:///{tmp_path / 'import.db'}"
    deskops("workspace", "create", "acme", "--db", db, "--json", cwd=tmp_path)
    args = ("import", str(data / "conversations.jsonl"), "--workspace", "acme", "--kind", "conversations")
    first, _ = deskops(*args, "--db", db, "--json", cwd=tmp_path)
    assert first["counts"]["inserted"] == first["records"] > 0
    again, _ = deskops(*args, "--db", db, "--json", cwd=tmp_path)
    assert again["counts"] == {"inserted": 0, "updated": 0, "unchanged": first["records"]}

    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"external_id": "x-1", "created_at": "2024-05-03T14:20:00Z", "channel": "chat"}\n'
        '{"external_id": "x-2", "created_at": "yesterday", "channel": "chat", "csat": 9}\n'
    )
    failed, stderr = deskops(
        "import",
        str(bad),
        "--workspace",
        "acme",
        "--kind",
        "conversations",
        "--db",
        db,
        "--json",
        cwd=tmp_path,
        expect=1,
    )
    assert failed["error"] == "import failed"
    assert {(e["line"], e["field"]) for e in failed["errors"]} == {(2, "created_at"), (2, "csat")}
    assert "line 2, created_at" in stderr and "Traceback" not in stderr
    summary, _ = deskops("summary", "--workspace", "acme", "--db", db, "--json", cwd=tmp_path)
    assert summary["counts"]["conversations"] == first["records"]  # nothing from the bad file


def test_bench_simulate_reports_throughput_and_memory(tmp_path: Path) -> None:
    document, _ = deskops("bench", "simulate", "--sizes", "600", "--days", "14", "--json", cwd=tmp_path)
    (run,) = document["runs"]
    assert run["conversations"] == 600 and run["messages"] > 1800
    assert run["conversations_per_second"] > 0 and 0 < run["peak_rss_mb"] < 4096
    assert 0 < run["seconds_writing"] <= run["seconds_simulate"] <= run["seconds_total"]


def test_search_and_index_rebuild_commands(demo: tuple[Path, str, dict[str, Any]]) -> None:
    folder, db, _ = demo
    found, _ = deskops(
        "search",
        "how long do payouts take",
        "--workspace",
        "demo",
        "--k",
        "3",
        "--filter",
        "kind=article",
        "--db",
        db,
        "--json",
        cwd=folder,
    )
    assert found["query"] == "how long do payouts take" and len(found["hits"]) == 3
    top = found["hits"][0]
    assert top["id"].startswith("article:kb-") and "payout" in top["title"].lower()
    assert {"matched_terms", "bm25_rank", "dense", "dense_rank"} <= set(top["why"])
    assert isinstance(found["confidence"], float) and found["abstain"] is False
    text, _ = deskops("search", "how long do payouts take", "--db", db, cwd=folder)
    assert "confidence" in text and "matched" in text
    error, _ = deskops(
        "search", "payouts", "--filter", "colour=red", "--db", db, "--json", cwd=folder, expect=1
    )
    assert error["error"].startswith("unknown filter 'colour'")
    error, _ = deskops("search", "payouts", "--filter", "kind", "--db", db, "--json", cwd=folder, expect=1)
    assert "KEY=VALUE" in error["error"]
    rebuilt, _ = deskops("index", "rebuild", "--workspace", "demo", "--db", db, "--json", cwd=folder)
    assert rebuilt["segments"] == 1 and rebuilt["chunks"] > 100


def test_bench_search_reports_latency_and_yardsticks(tmp_path: Path) -> None:
    document, _ = deskops("bench", "search", "--sizes", "400", "--queries", "20", "--json", cwd=tmp_path)
    (run,) = document["runs"]
    assert 350 <= run["chunks"] <= 450 and run["queries"] == 20
    for key in (
        "query",
        "query_encoding",
        "index_search",
        "yardstick_bm25s_alone",
        "yardstick_dense_brute_force",
    ):
        assert 0 < run[key]["p50_ms"] <= run[key]["p95_ms"], key
    assert run["build_chunks_per_second"] > 0 and run["rss_mb"]["with_index"] > 0


def test_metrics_command(demo: tuple[Path, str, dict[str, Any]]) -> None:
    folder, db, _ = demo
    base = ("metrics", "--db", db, "--workspace", "demo", "--from", "2026-10-02", "--to", "2026-10-31")
    series, _ = deskops(
        *base,
        "--metric",
        "ai_resolution_rate",
        "--granularity",
        "week",
        "--by",
        "channel",
        "--anomalies",
        "--chart",
        "bar",
        "--chart-html",
        str(folder / "chart.html"),
        "--json",
        cwd=folder,
    )
    assert series["metric"]["name"] == "ai_resolution_rate" and series["granularity"] == "week"
    assert {g["group"] for g in series["groups"]} <= {"chat", "email", "whatsapp", "phone"}
    assert all(
        {"value", "numerator", "denominator", "thin"} <= set(p) for g in series["groups"] for p in g["points"]
    )
    assert series["chart"]["data"][0]["type"] == "bar" and isinstance(series["anomalies"], list)
    assert "plotly" in (folder / "chart.html").read_text()[:200_000].lower()
    compared, _ = deskops(*base, "--metric", "escalation_rate", "--compare", "--json", cwd=folder)
    # The workspace starts on 2026-10-02: the previous period is empty, so nothing is tested.
    assert compared["previous"]["to"] == "2026-10-01" and compared["previous"]["denominator"] == 0
    assert compared["verdict"] == "not enough data" and compared["test"]["p_value"] is None
    movers, _ = deskops(*base, "--metric", "conversation_volume", "--movers", "--json", cwd=folder)
    assert movers["movers"] and "contribution" in movers["movers"][0]
    text, _ = deskops(*base, "--metric", "ai_resolution_rate", "--granularity", "week", cwd=folder)
    assert "AI resolution rate (%)" in text and "total:" in text
    text, _ = deskops(*base, "--metric", "escalation_rate", "--compare", cwd=folder)
    assert "not enough data" in text
    text, _ = deskops(*base, "--metric", "conversation_volume", "--movers", cwd=folder)
    assert "Top movers" in text and "outcome" not in text  # what happened is not a cause
    listed, _ = deskops("metrics", "--list", "--json", cwd=folder)
    assert len(listed["metrics"]) >= 15 and "plan" in listed["attributes"]
    error, _ = deskops(*base, "--metric", "speed", "--json", cwd=folder, expect=1)
    assert error["error"].startswith("unknown metric 'speed': use one of conversation_volume")
    error, _ = deskops(*base, "--metric", "csat_average", "--by", "colour", "--json", cwd=folder, expect=1)
    assert "unknown attribute 'colour'" in error["error"]
    attributes, _ = deskops(
        "attributes", "--db", db, "--from", "2026-10-02", "--to", "2026-10-31", "--json", cwd=folder
    )
    rows = {a["attribute"]: a for a in attributes["attributes"]}
    assert rows["customer.legacy_segment"]["effectively_empty"] and rows["team"]["mirrors_outcome"]


def test_cohort_commands(demo: tuple[Path, str, dict[str, Any]]) -> None:
    folder, db, _ = demo
    saved, _ = deskops(
        "cohort",
        "save",
        "repeat enterprise",
        "--filter",
        "plan=Enterprise",
        "--min-conversations",
        "2",
        "--within-days",
        "30",
        "--db",
        db,
        "--json",
        cwd=folder,
    )
    assert saved["definition"]["plan"] == "Enterprise" and saved["definition"]["min_conversations"] == 2
    shown, _ = deskops(
        "cohort", "show", "repeat enterprise", "--as-of", "2026-11-01", "--db", db, "--json", cwd=folder
    )
    assert shown["customers"] > 0
    listed, _ = deskops("cohort", "list", "--db", db, "--json", cwd=folder)
    assert [c["name"] for c in listed["cohorts"]] == ["repeat enterprise"]
    series, _ = deskops(
        "metrics",
        "--metric",
        "conversation_volume",
        "--from",
        "2026-10-02",
        "--to",
        "2026-10-31",
        "--filter",
        "cohort=repeat enterprise",
        "--db",
        db,
        "--json",
        cwd=folder,
    )
    everyone, _ = deskops(
        "metrics",
        "--metric",
        "conversation_volume",
        "--from",
        "2026-10-02",
        "--to",
        "2026-10-31",
        "--db",
        db,
        "--json",
        cwd=folder,
    )
    assert 0 < series["total"]["value"] < everyone["total"]["value"]
    error, _ = deskops("cohort", "show", "nobody", "--db", db, "--json", cwd=folder, expect=1)
    assert error["error"].startswith("unknown cohort 'nobody'")
    deskops("cohort", "delete", "repeat enterprise", "--db", db, "--json", cwd=folder)


def test_bench_analytics_runs_the_mix_beside_duckdb(tmp_path: Path) -> None:
    document, _ = deskops(
        "bench",
        "analytics",
        "--conversations",
        "3000",
        "--days",
        "200",
        "--repeat",
        "2",
        "--json",
        cwd=tmp_path,
    )
    assert set(document["queries"]) == {
        "weekly_ai_resolution_by_topic_6_months",
        "escalation_rate_by_plan_and_region_90_days",
        "period_comparison_with_top_movers",
        "attribute_report_30_days",
    }
    for figures in document["queries"].values():
        assert 0 < figures["deskops"]["p50_ms"] <= figures["deskops"]["p95_ms"]
        assert 0 < figures["duckdb"]["p50_ms"] <= figures["duckdb"]["p95_ms"]
        assert isinstance(figures["meets_target"], bool)
