"""The Operator's run log from the command line: ``deskops runs list|show|stats``."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from deskops.cli._apps import runs_app
from deskops.cli._common import Db, Json, Workspace, _emit, _parse_day, _services, _within, out

MAX_LIST = 1000


@runs_app.command("list")
def list_runs(
    workspace: Workspace = "demo",
    limit: Annotated[int, typer.Option(help="At most this many, newest first (1-1,000).")] = 20,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """The Operator's runs, newest first: when, who, the question (redacted), how it ended, how long."""
    with _services(db, as_json=as_json) as services:
        _within("--limit", limit, 1, MAX_LIST)
        with services.uow() as uow:
            runs = uow.workspace(workspace).runs.list(limit=limit)
        document = {"workspace": workspace, "runs": [run.model_dump(mode="json") for run in runs]}
    _emit(document, as_json=as_json, render=_render_list)


@runs_app.command("show")
def show_run(
    run_id: Annotated[int, typer.Argument(metavar="ID", help="The run's number (from `deskops runs list`).")],
    workspace: Workspace = "demo",
    db: Db = None,
    as_json: Json = False,
) -> None:
    """One run: the question (redacted), the skill, each tool call with its duration, tokens, cost, errors."""
    with _services(db, as_json=as_json) as services, services.uow() as uow:
        run = uow.workspace(workspace).runs.get(run_id)
    _emit(run, as_json=as_json, render=_render_run)


@runs_app.command("stats")
def run_stats(
    workspace: Workspace = "demo",
    since: Annotated[
        str | None, typer.Option(help="Only runs from this day on (YYYY-MM-DD, the workspace's time zone).")
    ] = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """p50/p95 latency, success, clarification, abstention and failure rates, per-tool failure rates,
    tokens and cost of the Operator's runs."""
    with _services(db, as_json=as_json) as services:
        day = _parse_day(since, "--since")
        with services.uow() as uow:
            scope = uow.workspace(workspace)
            start = (
                datetime.combine(day, time(), ZoneInfo(scope.workspace.time_zone))
                if day is not None
                else None
            )
            stats = scope.runs.stats(since=start)
    _emit(stats, as_json=as_json, render=_render_stats)


def _render_list(d: dict[str, Any]) -> None:
    if not d["runs"]:
        out.print("No Operator runs yet (`deskops ask` makes one).")
    for run in d["runs"]:
        out.print(
            f"{run['id']:>5}  {run['started_at'][:19]}  [bold]{run['outcome']:<9}[/bold]  "
            f"{run['duration_ms']:>8.0f} ms  {run['skill'] or '-'}",
            highlight=False,
        )
        out.print(f"       {run['actor']}: {run['question'][:100]}", highlight=False)


def _render_run(d: dict[str, Any]) -> None:
    out.print(
        f"[bold]run {d['id']}[/bold]  {d['started_at'][:19]}  {d['outcome']}  {d['duration_ms']:.0f} ms"
    )
    out.print(f"question: {d['question']}", highlight=False)
    out.print(f"asked by {d['actor']} ({d['role']}), session {d['session']}, trace {d['trace_id']}")
    out.print(f"skill: {d['skill'] or '-'}  model: {d['model']}  requests: {d['requests'] or '-'}")
    if d["input_tokens"] is not None:
        out.print(f"tokens: {d['input_tokens']:,} in, {d['output_tokens']:,} out")
    if d["cost_usd"] is not None:
        out.print(f"cost: ${d['cost_usd']:.6f}")
    for call in d["tools"]:
        status = "ok" if call["ok"] else f"[red]failed[/red]: {call['error']}"
        out.print(f"  {call['tool']:<24} {call['ms']:>9.1f} ms  {status}", highlight=False)
    if d["proposals"]:
        out.print(f"proposals: {', '.join(str(p) for p in d['proposals'])}")
    if d["error"]:
        out.print(f"[red]error:[/red] {d['error']}", highlight=False)


def _render_stats(d: dict[str, Any]) -> None:
    from rich.table import Table

    since = f" since {d['since'][:10]}" if d["since"] else ""
    out.print(f"[bold]{d['runs']:,} Operator runs in {d['workspace']}{since}[/bold]")
    if not d["runs"]:
        return
    latency = d["latency_ms"]
    out.print(f"latency: p50 {latency['p50']:.0f} ms, p95 {latency['p95']:.0f} ms")
    rates = ("success", "clarification", "abstention", "failure")
    out.print("  ".join(f"{name} {d[name + '_rate']:.1%}" for name in rates))
    table = Table(title="tools", title_justify="left")
    for column in ("tool", "calls", "failures", "failure rate", "p50 ms", "p95 ms"):
        table.add_column(column)
    for tool in d["tools"]:
        table.add_row(
            tool["tool"], str(tool["calls"]), str(tool["failures"]), f"{tool['failure_rate']:.1%}",
            f"{tool['ms']['p50']:.1f}", f"{tool['ms']['p95']:.1f}",
        )  # fmt: skip
    out.print(table)
    if d["input_tokens"] or d["output_tokens"]:
        out.print(f"tokens: {d['input_tokens']:,} in, {d['output_tokens']:,} out")
    if d["cost_usd"] is not None:
        out.print(f"cost: ${d['cost_usd']:.4f} over {d['runs_with_cost']} runs with a known price")
