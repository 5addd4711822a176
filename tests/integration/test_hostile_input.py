"""Bad and hostile input: every user error is one line (and a JSON document with --json), never a
traceback or a raw validation dump; every size a user controls is bounded; data that no support
record can have is refused at the door, and the readers cope anyway."""

from __future__ import annotations

import functools
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deskops import bootstrap
from deskops.cli import _common, app
from hashing_embedder import HashingEmbedder

PERIOD = ["--from", "2026-10-02", "--to", "2026-10-31"]


@pytest.fixture(autouse=True)
def test_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_common, "build", functools.partial(bootstrap.build, embedder=HashingEmbedder()))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("hostile")
    url = f"sqlite:///{folder / 'h.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setattr(_common, "build", functools.partial(bootstrap.build, embedder=HashingEmbedder()))
        result = CliRunner().invoke(
            app, ["simulate", "--db", url, "--conversations", "1500", "--days", "30", "--seed", "3", "--json"]
        )
    assert result.exit_code == 0, result.output
    return url


def run(*args: str) -> tuple[int, Any, str]:
    result = CliRunner().invoke(app, [*args, "--json"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback: the test fails with it
    document = json.loads(result.stdout) if result.stdout.strip() else None
    return result.exit_code, document, result.stderr


def refused(*args: str, says: str) -> None:
    code, document, stderr = run(*args)
    assert code == 1, (args, document)
    assert says in document["error"], (args, document)
    assert stderr.count("\n") == 1 and "Traceback" not in stderr and "pydantic" not in stderr, stderr


# ------------------------------------------------------------------------------- sizes and limits


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["--granularity", "hour", "--from", "2020-01-01", "--to", "2026-10-31"],
            "use a coarser --granularity",
        ),
        (
            ["--granularity", "day", "--from", "1970-01-01", "--to", "2026-10-31"],
            "use a coarser --granularity",
        ),
        (["--from", "0001-01-01", "--to", "2026-10-31"], "before 1970-01-01"),
        (
            [
                "--granularity",
                "hour",
                "--by",
                "topic",
                "--top",
                "100",
                "--from",
                "2026-01-05",
                "--to",
                "2026-10-31",
            ],
            "use a smaller --top",
        ),
        (["--by", "topic", "--top", "-1", *PERIOD], "--top must be between 1 and 100, not -1"),
        (["--by", "topic", "--top", "0", *PERIOD], "--top must be between 1 and 100, not 0"),
        (["--by", "topic", "--top", "101", *PERIOD], "--top must be between 1 and 100"),
    ],
)
def test_a_query_too_big_to_answer_is_refused_with_what_to_change(
    db: str, args: list[str], says: str
) -> None:
    refused("metrics", "--db", db, "--metric", "conversation_volume", *args, says=says)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--movers", "--top", "1000000"], "--top must be between 1 and 100, not 1000000"),
        (["--movers", "--top", "0"], "--top must be between 1 and 100, not 0"),
        (["--movers", "--by", "topic,topic"], "--by names topic more than once"),
        (["--compare", "--top", "3"], "--top cannot be used with --compare"),
        (["--compare", "--by", "plan", "--granularity", "week"], "--by, --granularity cannot be used with"),
        (["--compare", "--anomalies"], "--anomalies cannot be used with --compare"),
        (["--movers", "--chart", "bar"], "--chart cannot be used with --movers"),
        (["--movers", "--compare"], "--compare and --movers are two questions"),
        (["--top", "5"], "--top needs --by (the groups to show) or --movers"),
    ],
)
def test_an_option_that_would_be_ignored_is_refused(db: str, args: list[str], says: str) -> None:
    refused("metrics", "--db", db, "--metric", "conversation_volume", *PERIOD, *args, says=says)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["traces", "--limit", "-1"], "--limit must be between 1 and 1,000, not -1"),
        (["traces", "--limit", "0"], "--limit must be between 1 and 1,000, not 0"),
        (["traces", "--limit", "5000"], "--limit must be between 1 and 1,000"),
        (["replay", *PERIOD, "--limit", "-5"], "--limit must be between 1 and 10,000, not -5"),
        (["replay", *PERIOD, "--limit", "0"], "--limit must be between 1 and 10,000, not 0"),
        (["search", "card", "--k", "0"], "k must be between 1 and 100"),
        (["search", "card", "--k", "-3"], "k must be between 1 and 100"),
        (["cohort", "save", "c", "--min-conversations", "-1"], "min_conversations"),
        (["cohort", "save", "c", "--within-days", "0"], "within_days"),
        (["simulate", "--conversations", "-5", "--days", "14"], "--conversations must be between 1"),
    ],
)
def test_negative_zero_and_huge_limits_are_refused(db: str, args: list[str], says: str) -> None:
    refused(*args, "--db", db, says=says)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["bench", "analytics", "--repeat", "0"], "--repeat must be between 1 and 1,000, not 0"),
        (["bench", "analytics", "--conversations", "0"], "--conversations must be between 1"),
        (["bench", "simulate", "--sizes", "-1"], "--sizes must be integers between 1"),
        (["bench", "search", "--sizes", "0"], "--sizes must be integers between 1"),
        (["bench", "search", "--queries", "0"], "--queries must be between 1"),
        (["bench", "frontline", "--articles", "0"], "--articles must be between 1"),
        (["eval", "frontline", "--max-queries", "-3"], "--max-queries must be between 1"),
        (
            ["eval", "search", "--max-queries", "0", "--dataset", "simulated"],
            "--max-queries must be at least 1",
        ),
        (["eval", "anomalies", "--threshold", "-2"], "--threshold must be"),
    ],
)
def test_benchmarks_and_evaluations_refuse_sizes_before_doing_any_work(args: list[str], says: str) -> None:
    refused(*args, says=says)


def test_history_and_candidate_files_are_bounded(db: str, tmp_path: Path) -> None:
    big = tmp_path / "history.json"
    big.write_text(json.dumps([{"author": "customer", "text": "x"}] * 501))
    refused("answer", "hi", "--history", str(big), "--db", db, says="holds 501 messages; at most 500")
    huge = tmp_path / "huge.json"
    huge.write_text("[" + '{"author": "customer", "text": "' + "y" * 1_100_000 + '"}]')
    refused("answer", "hi", "--history", str(huge), "--db", db, says="is larger than 1000 KB")
    binary = tmp_path / "candidate.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    refused("replay", *PERIOD, "--candidate", str(binary), "--db", db, says="is not UTF-8 text")


# ---------------------------------------------------------------------------------- bad --db, paths


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("notaurl", "is not a database URL"),
        ("/etc/passwd", "is not a database URL"),
        ("sqlite:////etc/passwd", "cannot open the database sqlite:////etc/passwd: file is not a database"),
        ("postgresql://me:hunter2@127.0.0.1:1/x", "cannot open the database postgresql+psycopg://me:***@"),
        ("mysql://u@h/db", "unsupported database"),
        ("sqlite:////proc/deskops/x.db", "cannot create the database folder /proc/deskops"),
    ],
)
def test_a_database_that_cannot_be_used_is_one_line(url: str, says: str) -> None:
    code, document, stderr = run("summary", "--db", url)
    assert code == 1 and says in document["error"], document
    assert "hunter2" not in document["error"] and "Traceback" not in stderr


def test_unwritable_paths_are_one_line(db: str, tmp_path: Path) -> None:
    refused(
        "simulate", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--conversations", "50", "--days", "14",
        "--truth", "/proc/deskops/t.json", says="cannot write the ground truth to /proc/deskops/t.json",
    )  # fmt: skip
    refused(
        "metrics", "--db", db, "--metric", "conversation_volume", *PERIOD,
        "--chart-html", "/proc/deskops/c.html", says="cannot write --chart-html /proc/deskops/c.html",
    )  # fmt: skip
    refused("answer", "hi", "--history", "/nonexistent/h.json", "--db", db, says="cannot read --history")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["cohort", "save", "bad name!"], "invalid cohort name 'bad name!'"),
        (
            ["simulate", "--conversations", "50", "--days", "14", "--time-zone", "Mars/Base"],
            "unknown time zone",
        ),
        (["simulate", "--conversations", "50", "--days", "14", "-w", "Bad Name"], "invalid workspace name"),
        (["workspace", "create", "x" * 70], "invalid workspace name"),
        (["member", "add", "not-an-email", "-w", "demo"], "invalid email"),
    ],
)
def test_invalid_values_are_one_line_not_a_validation_dump(db: str, args: list[str], says: str) -> None:
    refused(*args, "--db", db, says=says)


def test_a_usage_error_is_a_json_document_too() -> None:
    code, document, _ = run("member", "add", "a@b.c", "-w", "demo", "--role", "god")
    assert code == 2 and "'god' is not one of" in document["error"]
    code, document, _ = run("metrics", "--nope")
    assert code == 2 and document == {
        "error": "No such option: --nope (Possible options: --compare, --to, --top)"
    }


def test_an_error_message_keeps_its_quotes(db: str) -> None:
    _, document, _ = run("summary", "--db", db, "-w", "nope")
    assert document == {"error": "unknown workspace 'nope'"}  # no other workspace's name, no lost quote


# ----------------------------------------------------------------------------- values not in the data


def test_a_filter_value_not_in_the_data_is_said_with_the_close_ones(db: str) -> None:
    code, document, _ = run(
        "metrics", "--db", db, "--metric", "conversation_volume", *PERIOD, "--filter", "plan=Growht"
    )
    assert code == 0 and document["total"]["denominator"] == 0
    assert "no conversation has plan=Growht (did you mean Growth?)" in document["notices"]
    code, document, _ = run(
        "metrics", "--db", db, "--metric", "csat_average", *PERIOD, "--filter", "channel=fax"
    )
    assert any(n.startswith("no conversation has channel=fax (values: ") for n in document["notices"])
    code, document, _ = run(
        "metrics", "--db", db, "--metric", "csat_average", *PERIOD, "--filter", "plan=Growth"
    )
    assert not document["notices"]


def test_cohorts_refuse_unknown_keys_and_silent_overwrites(db: str) -> None:
    refused(
        "cohort",
        "save",
        "typo",
        "--filter",
        "plann=Growth",
        "--db",
        db,
        says="no customer attribute 'plann': did you mean plan?",
    )
    refused(
        "cohort", "save", "typo", "--filter", "industri=retail", "--db", db, says="did you mean industry?"
    )
    code, _, stderr = run("cohort", "save", "growth", "--filter", "plan=Growht", "--db", db)
    assert code == 0 and "no customer has plan=Growht (did you mean Growth?)" in stderr
    refused("cohort", "save", "growth", "--filter", "plan=Growth", "--db", db, says="pass --replace")
    code, replaced, _ = run("cohort", "save", "growth", "--filter", "plan=Growth", "--replace", "--db", db)
    assert code == 0 and replaced["definition"]["plan"] == "Growth"
    code, custom, _ = run("cohort", "save", "retail", "--filter", "industry=retail", "--db", db)
    assert code == 0 and custom["definition"]["attributes"] == {"industry": "retail"}


def test_replay_refuses_an_unknown_topic_with_the_close_ones(db: str) -> None:
    refused("replay", *PERIOD, "--topic", "payout_timeing", "--db", db, says="did you mean payout_timing")
    refused("replay", *PERIOD, "--topic", "weather", "--db", db, says="has the topic 'weather'")


def test_search_refuses_an_inverted_date_range(db: str) -> None:
    refused(
        "search", "card", "--filter", "since=2026-10-20", "--filter", "until=2026-10-01", "--db", db,
        says="the range is inverted: since 2026-10-20 is after until 2026-10-01",
    )  # fmt: skip


def test_an_empty_workspace_summary_says_so(db: str) -> None:
    run("workspace", "create", "empty", "--db", db)
    result = CliRunner().invoke(app, ["summary", "-w", "empty", "--db", db])
    assert result.exit_code == 0 and "no conversations yet" in result.stdout and "None" not in result.stdout


# --------------------------------------------------------------------------------- implausible time


@pytest.mark.parametrize(
    "stamp",
    ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1969-12-31T23:59:59Z", "2150-06-01T12:00:00+02:00"],
)
def test_implausible_timestamps_are_refused_at_import(db: str, tmp_path: Path, stamp: str) -> None:
    path = tmp_path / "c.jsonl"
    record = {"external_id": "odd", "created_at": stamp, "channel": "chat"}
    message = {"author_kind": "customer", "text": "hi", "created_at": stamp}
    path.write_text(json.dumps(record) + "\n" + json.dumps({**record, "external_id": "odd2",
                    "created_at": "2026-10-05T10:00:00Z", "messages": [message]}) + "\n")  # fmt: skip
    code, document, _ = run("import", str(path), "-w", "demo", "--kind", "conversations", "--db", db)
    assert code == 1 and {(e["line"], e["field"]) for e in document["errors"]} == {
        (1, "created_at"),
        (2, "messages[0].created_at"),
    }


def test_readers_cope_with_an_implausible_timestamp_already_stored(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    run("workspace", "create", "old", "--time-zone", "America/New_York", "--db", url)
    path = tmp_path / "c.jsonl"
    path.write_text(
        json.dumps({"external_id": "a", "created_at": "2026-10-05T10:00:00Z", "channel": "chat"}) + "\n"
    )
    run("import", str(path), "-w", "old", "--kind", "conversations", "--db", url)
    with sqlite3.connect(tmp_path / "old.db") as connection:  # written before the check existed
        connection.execute("update conversations set created_at = '0001-01-01 00:00:00.000000'")
    code, rebuilt, _ = run("db", "rollups", "-w", "old", "--db", url)
    assert code == 0 and rebuilt["conversations"] == 1
    code, summary, _ = run("summary", "-w", "old", "--db", url)
    assert code == 0 and summary["period"]["first_conversation"].startswith("0001-01-01")
    code, series, _ = run("metrics", "-w", "old", "--metric", "conversation_volume", *PERIOD, "--db", url)
    assert code == 0 and series["total"]["value"] == 0.0


# ---------------------------------------------------------------------------------- meaningful movers


def test_top_movers_never_offer_an_attribute_the_metric_fixes(db: str) -> None:
    from datetime import date

    from deskops.analytics.metrics import top_movers

    services = bootstrap.build(database_url=db, embedder=HashingEmbedder())
    period = {"start": date(2026, 10, 17), "end": date(2026, 10, 31), "limit": 500}
    with services.uow() as uow:
        scope = uow.workspace("demo")
        escalation = top_movers(
            scope, columns=services.columns, metric=services.registry.metric("escalation_rate"), **period
        )
        volume = top_movers(
            scope, columns=services.columns, metric=services.registry.metric("conversation_volume"), **period
        )
    services.close()
    # Every escalation counted is AI-involved: "ai_involved=True explains 100 % of the change" is no finding.
    assert escalation.movers and "ai_involved" not in {m.attribute for m in escalation.movers}
    assert {"ai_involved", "channel", "topic"} <= {m.attribute for m in volume.movers}
    assert "outcome" not in {m.attribute for m in volume.movers}  # what happened is not a cause
