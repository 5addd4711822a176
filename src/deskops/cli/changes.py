"""Commands of the action layer: proposals, content history, reviewer feedback, the audit log.

The person at the command line has direct access to the database, so they act as the
local operator (an admin) unless ``--as EMAIL`` names a workspace member, whose role
then limits what they may do.
"""

from __future__ import annotations

import getpass
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from deskops.cli._apps import audit_app, content_app, proposals_app, review_app
from deskops.cli._common import Db, Json, Workspace, _emit, _parse_day, _services, _within, err, out
from deskops.errors import InvalidInput, first_problem

As = Annotated[
    str | None,
    typer.Option(
        "--as", help="Act as this workspace member (their role applies); default: the local operator."
    ),
]
NoReplay = Annotated[
    bool,
    typer.Option("--no-replay", help="Skip the impact reviewer's replay of recent conversations (faster)."),
]
ProposalId = Annotated[int, typer.Argument(help="The proposal's id.", min=1, max=2**31 - 1)]
KINDS = ("article", "guidance", "procedure", "settings", "policy")


def _actor(scope: Any, email: str | None) -> Any:
    from deskops.domain.changes import Actor, ActorKind
    from deskops.domain.models import Role

    if email is None:
        return Actor(kind=ActorKind.local, name=getpass.getuser(), role=Role.admin)
    member = scope.members.find(email)
    if member is None:
        raise InvalidInput(f"--as {email}: no such member in this workspace (see `deskops member list`)")
    return Actor(kind=ActorKind.member, name=member.email, role=member.role)


def _who(services: Any, workspace: str, email: str | None) -> Any:
    with services.uow() as uow:
        return _actor(uow.workspace(workspace), email)


def _read_json_model(path: Path, model: Any, what: str) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    except ValidationError as exc:
        raise InvalidInput(f"{path} is not a valid {what}: {first_problem(exc)}") from None


# ------------------------------------------------------------------------------------------ proposals


@proposals_app.command("create")
def proposals_create(
    file: Annotated[Path, typer.Option("--file", help="The change set (JSON; see docs/changes.md).")],
    title: Annotated[str, typer.Option("--title", help="One line: what changes.")],
    description: Annotated[str, typer.Option("--description", help="What changes and why.")],
    rationale: Annotated[str, typer.Option(help="Longer reasoning, if any.")] = "",
    evidence: Annotated[
        Path | None, typer.Option(help="JSON of evidence: conversations, metrics, search_hits, notes.")
    ] = None,
    workspace: Workspace = "demo",
    as_: As = None,
    no_replay: NoReplay = False,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Propose a change: it is reviewed now, and nothing is written until it is accepted."""
    from pydantic import ValidationError

    from deskops.changes.changeset import read_change_set
    from deskops.changes.proposals import create_proposal
    from deskops.domain.changes import Evidence, ProposalDraft

    with _services(db, as_json=as_json) as services:
        change_set = read_change_set(file)
        found = _read_json_model(evidence, Evidence, "evidence file") if evidence else Evidence()
        try:
            draft = ProposalDraft(
                title=title,
                description=description,
                rationale=rationale,
                evidence=found,
                change_set=change_set,
            )
        except ValidationError as exc:
            raise InvalidInput(f"--{first_problem(exc)}") from None
        actor = _who(services, workspace, as_)
        report = create_proposal(
            uow=services.uow(),
            workspace=workspace,
            draft=draft,
            actor=actor,
            reviewing=services.reviewing,
            replay=not no_replay,
        )
    _emit(report, as_json=as_json, render=_render_report)


@proposals_app.command("list")
def proposals_list(
    state: Annotated[str | None, typer.Option(help="Only proposals in this state.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    workspace: Workspace = "demo",
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Proposals of a workspace, newest first."""
    from deskops.domain.changes import ProposalState

    with _services(db, as_json=as_json) as services:
        wanted = None
        if state is not None:
            try:
                wanted = ProposalState(state)
            except ValueError:
                raise InvalidInput(
                    f"--state must be one of {', '.join(s.value for s in ProposalState)}, not {state!r}"
                ) from None
        _within("--limit", limit, 1, 10_000)
        with services.uow() as uow:
            found = uow.workspace(workspace).proposals.list(state=wanted, limit=limit)
    _emit({"proposals": [p.model_dump(mode="json") for p in found]}, as_json=as_json, render=_render_list)


@proposals_app.command("show")
def proposals_show(
    proposal_id: ProposalId,
    diff: Annotated[
        bool, typer.Option("--diff", help="Also show the diff (coloured, and unified in --json).")
    ] = False,
    workspace: Workspace = "demo",
    db: Db = None,
    as_json: Json = False,
) -> None:
    """A proposal: its diff, every reviewer's verdict and findings, the overall verdict, its revisions."""
    from deskops.changes.diff import render_unified
    from deskops.changes.proposals import changes_of, report

    with _services(db, as_json=as_json) as services, services.uow() as uow:
        scope = uow.workspace(workspace)
        found = report(scope, proposal_id)
        unified = render_unified(changes_of(scope, found.proposal)) if diff else None
    document = found.model_dump(mode="json")
    if unified is not None:
        document["unified_diff"] = unified
    _emit(document, as_json=as_json, render=lambda d: _render_report(d, show_diff=diff))


@proposals_app.command("accept")
def proposals_accept(
    proposal_id: ProposalId,
    override: Annotated[
        str | None, typer.Option(help="Accept a proposal its reviewers block (admins only), saying why.")
    ] = None,
    workspace: Workspace = "demo",
    as_: As = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Accept a proposal: its change set is written as new versions at once (twice applies once)."""
    from deskops.changes.apply import apply_proposal

    with _services(db, as_json=as_json) as services:
        actor = _who(services, workspace, as_)
        applied = apply_proposal(
            uow=services.uow(), workspace=workspace, proposal_id=proposal_id, actor=actor, override=override
        )
    _emit(applied, as_json=as_json, render=_render_applied)


@proposals_app.command("reject")
def proposals_reject(
    proposal_id: ProposalId,
    reason: Annotated[str, typer.Option(help="Why (required): what the author learns from.")],
    workspace: Workspace = "demo",
    as_: As = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Reject a proposal, with a reason."""
    from deskops.changes.proposals import reject_proposal

    with _services(db, as_json=as_json) as services:
        actor = _who(services, workspace, as_)
        proposal = reject_proposal(
            uow=services.uow(), workspace=workspace, proposal_id=proposal_id, actor=actor, reason=reason
        )
    _emit(
        proposal,
        as_json=as_json,
        render=lambda d: out.print(f"proposal {d['id']} rejected: {d['decision_reason']}", highlight=False),
    )


@proposals_app.command("refine")
def proposals_refine(
    proposal_id: ProposalId,
    file: Annotated[Path | None, typer.Option("--file", help="An edited change set (JSON).")] = None,
    instruction: Annotated[
        str | None,
        typer.Option(
            help='An edit: replace "OLD" with "NEW"; drop KIND:ID; set FIELD of ID to VALUE (or free text '
            "with a model configured)."
        ),
    ] = None,
    rebase: Annotated[
        bool,
        typer.Option(
            "--rebase", help="The same change set against the current content (for a stale proposal)."
        ),
    ] = False,
    title: Annotated[str | None, typer.Option(help="A new title (default: the old one).")] = None,
    description: Annotated[str | None, typer.Option(help="A new description (default: the old one).")] = None,
    workspace: Workspace = "demo",
    as_: As = None,
    no_replay: NoReplay = False,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """A new revision of a proposal, reviewed afresh; it supersedes the old one and keeps the thread."""
    from deskops.changes.changeset import read_change_set
    from deskops.changes.proposals import refine_proposal

    with _services(db, as_json=as_json) as services:
        given = sum(x for x in (file is not None, instruction is not None, rebase))
        if given != 1:
            raise InvalidInput("refine takes exactly one of --file, --instruction or --rebase")
        change_set = read_change_set(file) if file else None
        actor = _who(services, workspace, as_)
        model = services.llm if instruction is not None else None
        report = refine_proposal(
            uow=services.uow(),
            workspace=workspace,
            proposal_id=proposal_id,
            actor=actor,
            reviewing=services.reviewing,
            change_set=change_set,
            instruction=instruction,
            rebase=rebase,
            model=model,
            title=title,
            description=description,
            replay=not no_replay,
        )
    _emit(report, as_json=as_json, render=_render_report)


@proposals_app.command("revert")
def proposals_revert(
    proposal_id: ProposalId,
    reason: Annotated[str | None, typer.Option(help="Why it is reverted.")] = None,
    workspace: Workspace = "demo",
    as_: As = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Revert an applied proposal: what it changed is written back as new versions (history is kept)."""
    from deskops.changes.apply import revert_proposal

    with _services(db, as_json=as_json) as services:
        actor = _who(services, workspace, as_)
        applied = revert_proposal(
            uow=services.uow(), workspace=workspace, proposal_id=proposal_id, actor=actor, reason=reason
        )
    _emit(applied, as_json=as_json, render=_render_applied)


@proposals_app.command("split")
def proposals_split(
    proposal_id: ProposalId,
    workspace: Workspace = "demo",
    as_: As = None,
    no_replay: NoReplay = False,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Split a proposal into one proposal per item (each reviewed); the original is superseded."""
    from deskops.changes.proposals import split_proposal

    with _services(db, as_json=as_json) as services:
        actor = _who(services, workspace, as_)
        reports = split_proposal(
            uow=services.uow(),
            workspace=workspace,
            proposal_id=proposal_id,
            actor=actor,
            reviewing=services.reviewing,
            replay=not no_replay,
        )
    document = {"proposals": [r.model_dump(mode="json") for r in reports]}

    def render(d: dict[str, Any]) -> None:
        for made in d["proposals"]:
            _render_report(made)

    _emit(document, as_json=as_json, render=render)


# -------------------------------------------------------------------------------------------- content


def _kind(kind: str) -> Any:
    if kind not in KINDS:
        raise InvalidInput(f"KIND must be one of {', '.join(KINDS)}, not {kind!r}")
    return kind


@content_app.command("history")
def content_history(
    kind: Annotated[str, typer.Argument(help="article, guidance, procedure, settings or policy.")],
    external_id: Annotated[str, typer.Argument(help="The item's id (settings and policy: the kind again).")],
    workspace: Workspace = "demo",
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Every version of an item: when, who wrote it, through which proposal and why."""
    from deskops.changes.changeset import history

    with _services(db, as_json=as_json) as services, services.uow() as uow:
        versions = history(uow.workspace(workspace), _kind(kind), external_id)
    document = {
        "kind": kind,
        "external_id": external_id,
        "versions": [v.model_dump(mode="json") for v in versions],
    }
    _emit(document, as_json=as_json, render=_render_history)


@content_app.command("restore")
def content_restore(
    kind: Annotated[str, typer.Argument(help="article, guidance, procedure, settings or policy.")],
    external_id: Annotated[str, typer.Argument(help="The item's id (settings and policy: the kind again).")],
    version: Annotated[int, typer.Option(help="The version to bring back.", min=1)],
    workspace: Workspace = "demo",
    as_: As = None,
    no_replay: NoReplay = False,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Propose restoring an earlier version (it is reviewed and accepted like any change)."""
    from deskops.changes.proposals import create_proposal, restore_draft

    with _services(db, as_json=as_json) as services:
        with services.uow() as uow:
            scope = uow.workspace(workspace)
            draft = restore_draft(scope, kind=_kind(kind), external_id=external_id, version=version)
            actor = _actor(scope, as_)
        report = create_proposal(
            uow=services.uow(),
            workspace=workspace,
            draft=draft,
            actor=actor,
            reviewing=services.reviewing,
            replay=not no_replay,
        )
    _emit(report, as_json=as_json, render=_render_report)


# --------------------------------------------------------------------------------------------- review


@review_app.command("stats")
def review_stats(workspace: Workspace = "demo", db: Db = None, as_json: Json = False) -> None:
    """Per reviewer: findings, blocks and warnings, and how members rated them."""
    from deskops.changes.proposals import review_stats as stats

    with _services(db, as_json=as_json) as services, services.uow() as uow:
        found = stats(uow.workspace(workspace))
    _emit({"reviewers": [s.model_dump(mode="json") for s in found]}, as_json=as_json, render=_render_stats)


@review_app.command("feedback")
def review_feedback(
    finding_id: Annotated[int, typer.Argument(help="The finding's id (see `proposals show`).", min=1)],
    helpful: Annotated[
        bool | None,
        typer.Option("--helpful/--not-helpful", help="Was the finding helpful?", show_default=False),
    ] = None,
    workspace: Workspace = "demo",
    as_: As = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Mark a finding helpful or not; a code marked not helpful repeatedly warns instead of blocking."""
    from deskops.changes.proposals import mark_finding

    with _services(db, as_json=as_json) as services:
        if helpful is None:
            raise InvalidInput("say --helpful or --not-helpful")
        actor = _who(services, workspace, as_)
        finding, downgrade = mark_finding(
            uow=services.uow(),
            workspace=workspace,
            finding_id=finding_id,
            actor=actor,
            helpful=helpful,
            reviewing=services.reviewing,
        )
    document = {
        "finding": finding.model_dump(mode="json"),
        "helpful": helpful,
        "downgraded_by_proposal": downgrade,
    }

    def render(d: dict[str, Any]) -> None:
        out.print(f"finding {finding_id} marked {'helpful' if helpful else 'not helpful'}", highlight=False)
        if downgrade:
            out.print(
                f"{d['finding']['code']} findings now warn instead of block (policy proposal {downgrade})",
                highlight=False,
            )

    _emit(document, as_json=as_json, render=render)


# ---------------------------------------------------------------------------------------------- audit


@audit_app.command("list")
def audit_list(
    kind: Annotated[
        str | None, typer.Option(help="An event kind, or a prefix ending in a dot (proposal.).")
    ] = None,
    actor: Annotated[
        str | None, typer.Option(help="Who, as recorded (member:EMAIL, local:NAME, system:...).")
    ] = None,
    item: Annotated[str | None, typer.Option(help="An item, as KIND:ID (article:kb-0042).")] = None,
    proposal: Annotated[int | None, typer.Option(help="Events of this proposal.")] = None,
    since: Annotated[str | None, typer.Option(help="From this day (YYYY-MM-DD, UTC).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this day (YYYY-MM-DD, UTC).")] = None,
    limit: Annotated[int, typer.Option(help="The newest this many.")] = 100,
    workspace: Workspace = "demo",
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Audit events, filtered by kind, actor, item, proposal and time."""
    from datetime import UTC, time

    with _services(db, as_json=as_json) as services:
        start, end = _parse_day(since, "--since"), _parse_day(until, "--until")
        _within("--limit", limit, 1, 100_000)
        with services.uow() as uow:
            events = uow.workspace(workspace).audit.list(
                kind=kind,
                actor=actor,
                item=item,
                proposal_id=proposal,
                since=datetime.combine(start, time(), UTC) if start else None,
                until=datetime.combine(end, time(), UTC) if end else None,
                limit=limit,
            )
    _emit({"events": [e.model_dump(mode="json") for e in events]}, as_json=as_json, render=_render_events)


@audit_app.command("verify")
def audit_verify(
    against: Annotated[
        Path | None,
        typer.Option(help="A checkpoint kept outside the database: also detects deleted recent events."),
    ] = None,
    workspace: Workspace = "demo",
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Recompute the hash chain; exits 1 naming the first bad event when it does not check out."""
    from deskops.changes.audit import read_checkpoint, verify

    with _services(db, as_json=as_json) as services:
        key = services.settings.audit_key.get_secret_value() if services.settings.audit_key else None
        head = None
        if against is not None:
            try:
                text = against.read_text()
            except OSError as exc:
                raise InvalidInput(f"cannot read {against}: {exc.strerror}") from None
            head = read_checkpoint(text, source=str(against))
        with services.uow() as uow:
            result = verify(uow.workspace(workspace), against=head, key=key)

    def render(d: dict[str, Any]) -> None:
        if d["ok"]:
            out.print(
                f"audit log of {d['workspace']}: {d['events']:,} events, the chain checks out",
                highlight=False,
            )
        else:
            err.print(
                f"[red]audit log broken at event {d['first_bad_seq']}:[/red] {d['problem']}", highlight=False
            )

    _emit(result, as_json=as_json, render=render)
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    output: Annotated[Path | None, typer.Option(help="Also write the checkpoint to this file.")] = None,
    workspace: Workspace = "demo",
    db: Db = None,
    as_json: Json = False,
) -> None:
    """The chain's head (sequence and hash; signed with DESKOPS_AUDIT_KEY when set) to keep elsewhere."""
    from deskops.changes.audit import checkpoint

    with _services(db, as_json=as_json) as services:
        key = services.settings.audit_key.get_secret_value() if services.settings.audit_key else None
        with services.uow() as uow:
            head = checkpoint(uow.workspace(workspace), key=key)
        if output is not None:
            from deskops.files import replace_atomically

            replace_atomically(output, head.model_dump_json(indent=1) + "\n")
    _emit(
        head,
        as_json=as_json,
        render=lambda d: print(json.dumps(d, indent=1)),
    )


@audit_app.command("export")
def audit_export(
    output: Annotated[Path | None, typer.Option(help="Write the JSON lines here instead of stdout.")] = None,
    workspace: Workspace = "demo",
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Every event as JSON lines (the hashed event and its hash), for auditors."""
    from deskops.changes.audit import export_lines

    with _services(db, as_json=as_json) as services, services.uow() as uow:
        scope = uow.workspace(workspace)
        if output is None:
            if as_json:
                raise InvalidInput("audit export writes JSON lines; with --json, give --output FILE")
            for line in export_lines(scope):
                print(line)
            return
        from deskops.files import write_lines_atomically

        count = write_lines_atomically(output, export_lines(scope))
    _emit(
        {"workspace": workspace, "events": count, "path": str(output)},
        as_json=as_json,
        render=lambda d: out.print(f"{d['events']:,} events written to {d['path']}", highlight=False),
    )


# ------------------------------------------------------------------------------------------ rendering

VERDICT_STYLE = {"pass": "green", "warn": "yellow", "block": "red"}


def _render_report(d: dict[str, Any], *, show_diff: bool = True) -> None:
    from deskops.changes.diff import render_text
    from deskops.domain.changes import Diff

    p = d["proposal"]
    verdict = d["verdict"] or "unreviewed"
    out.print(
        f"[bold]proposal {p['id']}[/bold] (revision {p['revision']} of thread {p['thread_id']})  "
        f"{p['state']}  "
        f"verdict [{VERDICT_STYLE.get(verdict, 'white')}]{verdict}[/]"
        + ("  [cyan]auto-approved[/cyan]" if p["auto_approved"] else ""),
        highlight=False,
    )
    out.print(f"  {p['title']}", highlight=False)
    out.print(f"  by {_label(p['author'])}: {p['description']}", highlight=False)
    if show_diff:
        out.print(render_text(Diff.model_validate(d["diff"])))
    for review in d["reviews"]:
        style = VERDICT_STYLE[review["verdict"]]
        out.print(
            f"  [{style}]{review['verdict']:5s}[/] {review['reviewer']}: {review['summary']}", highlight=False
        )
        for f in review["findings"]:
            fstyle = VERDICT_STYLE[f["verdict"]]
            out.print(
                f"      [{fstyle}]{f['verdict']}[/] #{f['id']} {f['message']}"
                + (" (downgraded by feedback)" if f.get("downgraded") else ""),
                highlight=False,
                soft_wrap=True,
            )
    if len(d["thread"]) > 1:
        revisions = ", ".join(f"#{t['id']} r{t['revision']} {t['state']}" for t in d["thread"])
        out.print(f"  thread: {revisions}", highlight=False)


def _label(actor: dict[str, Any]) -> str:
    return f"{actor['kind']}:{actor['name']}"


def _render_list(d: dict[str, Any]) -> None:
    if not d["proposals"]:
        out.print("no proposals", highlight=False)
    for p in d["proposals"]:
        verdict = p["verdict"] or "-"
        out.print(
            f"{p['id']:5d}  {p['state']:10s} [{VERDICT_STYLE.get(verdict, 'white')}]{verdict:5s}[/]  "
            f"{p['title'][:70]}  ({', '.join(p['base_versions'])[:60]})",
            highlight=False,
        )


def _render_applied(d: dict[str, Any]) -> None:
    p = d["proposal"]
    if d["already"]:
        out.print(f"proposal {p['id']} was already {p['state']}: nothing written", highlight=False)
        return
    written = ", ".join(f"{key} v{version}" for key, version in d["versions"].items())
    out.print(f"proposal {p['id']} {p['state']}: wrote {written}", highlight=False)


def _render_history(d: dict[str, Any]) -> None:
    for v in d["versions"]:
        why = f"proposal {v['proposal_id']}: {v['why']}" if v["proposal_id"] else "import or simulation"
        out.print(
            f"v{v['version']:<4d} {v['at'][:19]}  {v['changed_by'] or '-':30s} {why}",
            highlight=False,
        )


def _render_stats(d: dict[str, Any]) -> None:
    if not d["reviewers"]:
        out.print("no findings yet", highlight=False)
    for r in d["reviewers"]:
        out.print(
            f"{r['reviewer']:12s} {r['findings']:5d} findings ({r['blocks']} block, {r['warns']} warn)  "
            f"helpful {r['helpful']}  not helpful {r['not_helpful']}"
            + (f"  downgraded: {', '.join(r['downgraded'])}" if r["downgraded"] else ""),
            highlight=False,
        )


def _render_events(d: dict[str, Any]) -> None:
    for e in d["events"]:
        items = ", ".join(e["items"])
        out.print(
            f"{e['seq']:6d}  {e['at'][:19]}  {e['kind']:22s} {e['actor'][:30]:30s} "
            + (f"proposal {e['proposal_id']} " if e["proposal_id"] else "")
            + items,
            highlight=False,
        )
