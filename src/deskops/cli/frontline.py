"""The front-line answer agent: answer one message, read decision traces."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ConfigDict, ValidationError

from deskops.cli._apps import app, frontline_app
from deskops.cli._common import (
    Db,
    Json,
    Workspace,
    _emit,
    _parse_period,
    _progress,
    _services,
    _stage_progress,
    _within,
    err,
    out,
)
from deskops.domain.models import AuthorKind
from deskops.errors import InvalidInput

MAX_TRACES = 1000
MAX_HISTORY_BYTES = 1_000_000
MAX_HISTORY_MESSAGES = 500


@app.command()
def answer(
    message: Annotated[str, typer.Argument(help="The customer's message.")],
    workspace: Workspace = "demo",
    history: Annotated[
        Path | None,
        typer.Option(
            help='Earlier messages: a JSON list of {"author": "customer|ai_agent|...", "text": "..."}.'
        ),
    ] = None,
    conversation: Annotated[
        str | None, typer.Option(help="Conversation external id to file the trace under.")
    ] = None,
    plan: Annotated[str | None, typer.Option(help="The customer's plan (for segment rules).")] = None,
    region: Annotated[str | None, typer.Option(help="The customer's region (for segment rules).")] = None,
    channel: Annotated[str | None, typer.Option(help="The channel the message came in on.")] = None,
    store: Annotated[bool, typer.Option(help="Save the decision trace.")] = True,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Run the front-line agent on one customer message: answer, clarify, procedure step or handover."""
    from deskops.frontline.agent import Inquiry

    with _services(db, as_json=as_json) as services:
        turns = _history(history)
        inquiry = Inquiry(
            message=message,
            history=turns,
            customer={k: v for k, v in (("plan", plan), ("region", region)) if v},
            channel=channel,
            conversation_external_id=conversation,
            message_index=len(turns) if conversation else None,
        )
        with _stage_progress() as progress:  # start-up (index, model) is not the reply's latency
            services.search.prepare(workspace, progress=progress)
        reply = services.frontline.reply(workspace, inquiry, store=store)
    _emit(reply, as_json=as_json, render=_render_answer)


def _history(path: Path | None) -> list[tuple[AuthorKind, str]]:
    if path is None:
        return []
    try:
        if path.stat().st_size > MAX_HISTORY_BYTES:
            raise InvalidInput(f"--history {path} is larger than {MAX_HISTORY_BYTES // 1000} KB")
        items = json.loads(path.read_text())
    except OSError as exc:
        raise InvalidInput(f"cannot read --history {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"--history {path} is not JSON: {exc}") from None
    if not isinstance(items, list):
        raise InvalidInput(f"--history {path} must hold a JSON list of messages")
    if len(items) > MAX_HISTORY_MESSAGES:
        raise InvalidInput(f"--history {path} holds {len(items)} messages; at most {MAX_HISTORY_MESSAGES}")
    turns = []
    for n, item in enumerate(items, 1):
        try:
            turn = HistoryTurn.model_validate(item)
        except ValidationError:
            authors = ", ".join(a.value for a in AuthorKind)
            raise InvalidInput(
                f"--history {path}: message {n} needs an author ({authors}) and a text"
            ) from None
        turns.append((turn.author, turn.text))
    return turns


class HistoryTurn(BaseModel):
    """One earlier message in a ``--history`` file."""

    model_config = ConfigDict(extra="ignore")

    author: AuthorKind
    text: str


def _render_answer(d: dict[str, Any]) -> None:
    out.print(f"[bold]{d['decision']}[/bold]  ({d['reason']})", highlight=False)
    out.print(d["reply"], highlight=False)
    trace = d["trace"]
    err.print(
        f"chance of a right answer {trace['confidence']:.2f} (threshold {trace['threshold']:.2f}), "
        f"{trace['latency_ms']:.0f} ms, {trace['model']}"
        + (f", trace {d['trace_id']}" if d["trace_id"] else ""),
        highlight=False,
    )
    if trace.get("calibration"):
        calibration = trace["calibration"]
        err.print(
            f"judged {calibration['article']} with the {calibration['model']}; "
            f"drivers: {', '.join(calibration['drivers'])}",
            highlight=False,
        )


@app.command()
def traces(
    workspace: Workspace = "demo",
    conversation: Annotated[
        str | None, typer.Option(help="Only this conversation, in message order.")
    ] = None,
    decision: Annotated[
        str | None, typer.Option(help="Only answer, clarify, procedure_step or handover.")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many (newest first).")] = 20,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """The front-line agent's decision traces: what it searched, found, applied and decided, and why."""
    from deskops.domain.models import Decision

    with _services(db, as_json=as_json) as services, services.uow() as uow:
        scope = uow.workspace(workspace)
        _within("--limit", limit, 1, MAX_TRACES)
        if decision is not None and decision not in Decision.__members__:
            raise InvalidInput(
                f"--decision must be one of {', '.join(Decision.__members__)}, not {decision!r}"
            )
        if conversation is not None:
            found = scope.traces.for_conversation(conversation)
        else:
            found = scope.traces.list(decision=Decision(decision) if decision else None, limit=limit)
        document = {"workspace": workspace, "traces": [t.model_dump(mode="json") for t in found]}
    _emit(document, as_json=as_json, render=_render_traces)


def _render_traces(d: dict[str, Any]) -> None:
    if not d["traces"]:
        out.print("No decision traces.")
    for t in d["traces"]:
        where = (
            f"{t['conversation_external_id']}#{t['message_index']}" if t["conversation_external_id"] else "-"
        )
        out.print(
            f"{t['created_at'][:19]}  {where}  [bold]{t['decision']}[/bold]  conf {t['confidence']:.2f}  "
            f"{t['latency_ms']:.0f} ms",
            highlight=False,
        )
        out.print(f"    query: {t['query'][:100]}", highlight=False)
        out.print(f"    why: {t['reason']}", highlight=False)


@app.command()
def replay(
    from_: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD, workspace time zone).")],
    to: Annotated[str, typer.Option("--to", help="Last day, inclusive.")],
    workspace: Workspace = "demo",
    candidate: Annotated[
        Path | None,
        typer.Option(
            help="A change set: JSON of article, guidance, procedure or settings changes (docs/changes.md)."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="Replay at most this many conversations, evenly spread.")] = 1000,
    topic: Annotated[str | None, typer.Option(help="Only conversations of this topic.")] = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Replay a period's customer messages against current and candidate content: deltas per topic."""
    from deskops.analytics.metrics import check_period
    from deskops.changes.changeset import load_candidate
    from deskops.frontline.replay import replay as run_replay

    with _services(db, as_json=as_json) as services:
        start, end = _parse_period(from_, to)
        period, notices = check_period(start, end)
        for notice in notices:
            err.print(f"[yellow]note:[/yellow] {notice}", highlight=False)
        with services.uow() as uow, _progress("replaying", None) as progress:
            scope = uow.workspace(workspace)
            changes = load_candidate(candidate, scope) if candidate else None
            report = run_replay(
                agent=services.frontline,
                search=services.search,
                scope=scope,
                start=period.start,
                end=period.end,
                candidate=changes,
                limit=limit,
                topic=topic,
                progress=lambda done, total: progress(done),
            )
    _emit(report, as_json=as_json, render=_render_replay)


def _render_replay(d: dict[str, Any]) -> None:
    o = d["overall"]
    out.print(
        f"{d['conversations']:,} conversations of {d['workspace']} "
        f"{d['period']['from']}..{d['period']['to']}: predicted AI resolution "
        f"{o['predicted_resolution']['current']} -> {o['predicted_resolution']['candidate']}",
        highlight=False,
    )
    out.print("topic                            n   current  candidate  change", highlight=False)
    for row in d["topics"][:20]:
        r = row["predicted_resolution"]
        out.print(
            f"{row['topic'][:30]:30s} {row['conversations']:4d}   {r['current'] or 0:7.3f}  "
            f"{r['candidate'] or 0:9.3f}  {r['change'] or 0:+.3f}",
            highlight=False,
        )


@frontline_app.command("calibrate")
def calibrate(
    workspace: Workspace = "demo",
    days: Annotated[
        int, typer.Option(help="Read the closed conversations of this many days, up to the newest one.")
    ] = 90,
    limit: Annotated[int, typer.Option(help="Ask at most this many of them again, evenly spread.")] = 2000,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report the refit without proposing it.")
    ] = False,
    as_: Annotated[
        str | None,
        typer.Option(
            "--as", help="Propose as this workspace member (their role applies); default: the local operator."
        ),
    ] = None,
    no_replay: Annotated[
        bool,
        typer.Option(
            "--no-replay", help="Skip the impact reviewer's replay of recent conversations (faster)."
        ),
    ] = False,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Refit the AI agent's confidence model on this workspace's history; propose it as a settings change."""
    from datetime import timedelta

    from deskops.changes.proposals import create_proposal
    from deskops.cli.changes import _actor
    from deskops.domain.changes import ChangeSet, Evidence, ProposalDraft
    from deskops.frontline.calibrate import MAX_CONVERSATIONS, refit

    with _services(db, as_json=as_json) as services:
        _within("--days", days, 1, 3650)
        _within("--limit", limit, 1, MAX_CONVERSATIONS)
        with _stage_progress() as stages:
            services.search.prepare(workspace, progress=stages)
        with services.uow() as uow, _progress("asking past conversations again", None) as progress:
            scope = uow.workspace(workspace)
            actor = _actor(scope, as_)
            _, newest = scope.stats.conversation_range()
            if newest is None:
                raise InvalidInput(f"{workspace} has no conversations to calibrate on")
            outcome = refit(
                agent=services.frontline,
                search=services.search,
                scope=scope,
                start=newest - timedelta(days=days),
                end=newest + timedelta(seconds=1),
                limit=limit,
                today=newest.date(),
                progress=lambda done, total: progress(done),
            )
        if outcome.decision == "refit" and outcome.model is not None and not dry_run:
            draft = ProposalDraft(
                title="Recalibrate the AI agent's confidence on this workspace's history",
                description=(
                    "Replace the AI agent's confidence model with one refit on this workspace's own "
                    f"conversations: {outcome.reason}."
                ),
                rationale=(
                    "The threshold keeps its meaning (answer when the chance of a right answer is at least "
                    "it); the refit estimates that chance from this workspace's answered, handed-over and "
                    "reopened conversations. Guidance rules are still checked first."
                ),
                evidence=Evidence(notes=[outcome.reason]),
                change_set=ChangeSet(settings={"confidence_model": outcome.model.model_dump(mode="json")}),
            )
            report = create_proposal(
                uow=services.uow(),
                workspace=workspace,
                draft=draft,
                actor=actor,
                reviewing=services.reviewing,
                replay=not no_replay,
            )
            outcome.decision = "proposed"
            outcome.proposal_id = report.proposal.id
    _emit(outcome, as_json=as_json, render=_render_calibration)


def _render_calibration(d: dict[str, Any]) -> None:
    out.print(f"[bold]{d['decision']}[/bold]: {d['reason']}", highlight=False)
    for check in d["protected_topics"]:
        out.print(
            f"  protected topic {check['topic']} (rule {check['rule']}): hands over "
            f"{check['handed_over_now']} of {check['conversations']} now, {check['handed_over_refit']} refit",
            highlight=False,
        )
    if d.get("proposal_id"):
        out.print(f"proposal {d['proposal_id']}: review it with `deskops proposals show {d['proposal_id']}`")
