"""The CLI's JSON contracts: a fixed list of commands whose ``--json`` output must not change.

``python tests/contracts/commands.py OUT_DIR`` runs them in subprocesses of the code
importable by that Python (through ``fake_cli.py``: the CLI with the test embedder) and
writes one golden file per command; ``tests/integration/test_json_contracts.py`` runs the
same list in-process with the same embedder and compares.
Values that differ from run to run (timings, timestamps, tokens, paths) are masked,
keeping their keys and position, so key order and every other value are compared exactly.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

VOLATILE = {
    "seconds",
    "write_seconds",
    "truth_path",
    "latency_ms",
    "created_at",
    "updated_at",
    "token",
    "as_of",
    "p50_ms",
    "p95_ms",
    "trace_id",
    "path",
}
"""Keys whose values change between runs of the same command."""

INCIDENTS = Path(__file__).resolve().parent / "incidents.json"
"""The five incidents every simulated workspace had before they were drawn by seed, at the same
places (the CSAT drop then lasted 10 days shrunk to a 30-day period): the goldens were captured then."""
SIMULATE = ["--seed", "5", "--conversations", "800", "--days", "30", "--incidents", str(INCIDENTS)]
PERIOD = ["--from", "2026-10-02", "--to", "2026-10-31"]


def commands(folder: Path) -> list[tuple[str, list[str]]]:
    """(name, arguments) in the order they must run; ``folder`` holds the database and files."""
    db = ["--db", f"sqlite:///{folder / 'contracts.db'}"]
    imports = Path(__file__).resolve().parents[1] / "data" / "import"
    candidate = folder / "candidate.json"
    return [
        ("simulate", ["simulate", *db, *SIMULATE, "--truth", str(folder / "truth.json")]),
        ("summary", ["summary", *db]),
        ("metrics_list", ["metrics", "--list"]),
        ("metrics_day", ["metrics", *db, "--metric", "ai_resolution_rate", *PERIOD]),
        (
            "metrics_week_by_channel_anomalies_chart",
            [
                "metrics",
                *db,
                "--metric",
                "escalation_rate",
                *PERIOD,
                "--granularity",
                "week",
                "--by",
                "channel",
                "--anomalies",
                "--chart",
                "bar",
            ],
        ),
        (
            "metrics_by_two_with_filter",
            [
                "metrics",
                *db,
                "--metric",
                "csat_average",
                *PERIOD,
                "--granularity",
                "month",
                "--by",
                "plan,region",
                "--filter",
                "channel=chat",
                "--top",
                "4",
            ],
        ),
        (
            "metrics_quantile_by_topic",
            [
                "metrics",
                *db,
                "--metric",
                "first_response_p90",
                *PERIOD,
                "--granularity",
                "week",
                "--by",
                "topic",
                "--top",
                "3",
            ],
        ),
        (
            "metrics_compare",
            [
                "metrics",
                *db,
                "--metric",
                "escalation_rate",
                "--from",
                "2026-10-17",
                "--to",
                "2026-10-31",
                "--compare",
            ],
        ),
        (
            "metrics_compare_mean",
            [
                "metrics",
                *db,
                "--metric",
                "csat_average",
                "--from",
                "2026-10-17",
                "--to",
                "2026-10-31",
                "--compare",
            ],
        ),
        (
            "metrics_compare_count",
            [
                "metrics",
                *db,
                "--metric",
                "conversation_volume",
                "--from",
                "2026-10-17",
                "--to",
                "2026-10-31",
                "--compare",
            ],
        ),
        ("metrics_compare_empty", ["metrics", *db, "--metric", "escalation_rate", *PERIOD, "--compare"]),
        (
            "metrics_movers",
            [
                "metrics",
                *db,
                "--metric",
                "ai_resolution_rate",
                "--from",
                "2026-10-17",
                "--to",
                "2026-10-31",
                "--movers",
            ],
        ),
        (
            "metrics_movers_count",
            [
                "metrics",
                *db,
                "--metric",
                "conversation_volume",
                "--from",
                "2026-10-17",
                "--to",
                "2026-10-31",
                "--movers",
            ],
        ),
        ("attributes", ["attributes", *db, *PERIOD]),
        ("articles", ["articles", *db, *PERIOD]),
        (
            "cohort_save",
            ["cohort", "save", "repeat growth", *db, "--filter", "plan=Growth", "--min-conversations", "2"],
        ),
        ("cohort_list", ["cohort", "list", *db]),
        ("cohort_show", ["cohort", "show", "repeat growth", *db, "--as-of", "2026-11-01"]),
        (
            "metrics_cohort",
            ["metrics", *db, "--metric", "conversation_volume", *PERIOD, "--filter", "cohort=repeat growth"],
        ),
        ("cohort_delete", ["cohort", "delete", "repeat growth", *db]),
        ("search", ["search", "how long do payouts take", *db, "--k", "3"]),
        (
            "search_filtered",
            [
                "search",
                "refund my subscription",
                *db,
                "--k",
                "2",
                "--filter",
                "kind=conversation",
                "--method",
                "bm25",
            ],
        ),
        ("index_rebuild", ["index", "rebuild", *db]),
        (
            "answer",
            ["answer", "How long does it take for a payout to arrive in my bank account?", *db, "--no-store"],
        ),
        (
            "answer_procedure",
            [
                "answer",
                "I'd like a refund for my subscription charge",
                *db,
                "--conversation",
                "c-1",
                "--plan",
                "Starter",
            ],
        ),
        ("traces", ["traces", *db, "--limit", "5"]),
        ("replay", ["replay", *db, *PERIOD, "--limit", "40", "--candidate", str(candidate)]),
        ("workspace_create", ["workspace", "create", "acme", *db, "--time-zone", "Europe/Berlin"]),
        ("workspace_list", ["workspace", "list", *db]),
        (
            "import",
            [
                "import",
                str(imports / "conversations.jsonl"),
                "--workspace",
                "acme",
                "--kind",
                "conversations",
                *db,
            ],
        ),
        (
            "member_add",
            ["member", "add", "lead@acme.example", "--workspace", "acme", "--role", "admin", "--token", *db],
        ),
        ("member_token", ["member", "token", "lead@acme.example", "--workspace", "acme", *db]),
        ("member_list", ["member", "list", "--workspace", "acme", *db]),
        ("workspace_delete", ["workspace", "delete", "acme", "--yes", *db]),
        ("db_upgrade", ["db", "upgrade", *db]),
        ("db_rollups", ["db", "rollups", *db]),
        ("error_unknown_metric", ["metrics", *db, "--metric", "speed", *PERIOD]),
        ("error_bad_filter", ["search", "payouts", *db, "--filter", "colour=red"]),
    ]


CANDIDATE = {
    "settings": {"confidence_threshold": 0.5},
    "guidance": [
        {
            "external_id": "gr-contracts",
            "title": "Payout questions go to a person",
            "body": "Hand payout questions over.",
            "kind": "handover",
            "condition": {"keywords": ["payout"]},
        }
    ],
}


def prepare(folder: Path) -> None:
    (folder / "candidate.json").write_text(json.dumps(CANDIDATE))


def mask(value: Any, folder: str) -> Any:
    """The document with volatile values replaced by a marker and the work folder by ``<folder>``."""
    if isinstance(value, dict):
        return {k: ("<volatile>" if k in VOLATILE else mask(v, folder)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, folder) for v in value]
    if isinstance(value, str):
        return value.replace(folder, "<folder>")
    return value


def canonical(stdout: str, folder: Path) -> str:
    """One JSON document, masked, re-serialised with the key order it came in."""
    return json.dumps(mask(json.loads(stdout), str(folder)), indent=1, ensure_ascii=False) + "\n"


def main() -> None:
    out = Path(sys.argv[1])
    cli = [sys.executable, str(Path(__file__).with_name("fake_cli.py"))]
    out.mkdir(parents=True, exist_ok=True)
    work = out / "work"
    work.mkdir(exist_ok=True)
    prepare(work)
    for name, args in commands(work):
        result = subprocess.run([*cli, *args, "--json"], capture_output=True, text=True, cwd=work)
        (out / f"{name}.json").write_text(canonical(result.stdout, work))
        print(name, result.returncode, file=sys.stderr)


if __name__ == "__main__":
    main()
