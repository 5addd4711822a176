"""Commands that build, import and manage workspaces, members and the schema."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from deskops.cli._apps import (
    app,
    conversation_app,
    db_app,
    member_app,
    workspace_app,
)
from deskops.cli._common import (
    Db,
    Json,
    Workspace,
    _emit,
    _progress,
    _services,
    _within,
    err,
    fail,
    out,
    reported,
)
from deskops.domain.models import Role
from deskops.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from deskops.bootstrap import Services


@app.command()
def simulate(
    db: Db = None,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed and sizes give the same workspace.")
    ] = 7,
    conversations: Annotated[int, typer.Option(help="Number of conversations.")] = 50_000,
    days: Annotated[int, typer.Option(help="Length of the simulated period in days (14-3650).")] = 180,
    end: Annotated[str, typer.Option(help="First day after the period (YYYY-MM-DD).")] = "2026-11-01",
    truth: Annotated[
        Path | None,
        typer.Option(
            help="Where the ground truth (incidents, labelled search queries) is written "
            "(default: DATA_DIR/truth/WORKSPACE.json). It never goes into the database.",
            show_default=False,
        ),
    ] = None,
    workspace: Annotated[
        str, typer.Option("--workspace", "-w", help="Name of the workspace to build.")
    ] = "demo",
    time_zone: Annotated[str, typer.Option(help="The workspace's IANA time zone.")] = "America/New_York",
    replace: Annotated[bool, typer.Option(help="Delete and rebuild the workspace if it exists.")] = False,
    frontline: Annotated[
        bool,
        typer.Option(help="AI outcomes from running the front-line agent on the customers' messages."),
    ] = False,
    incidents: Annotated[
        Path | None,
        typer.Option(
            help="A JSON list of the incidents to inject instead of the seed's draw, e.g. "
            '[{"kind": "channel_outage", "channel": "email", "start": "2026-07-01", "days": 2}]; '
            "kinds: stale_article (topic), launch_surge (topic), channel_outage (channel), "
            "guidance_misconfiguration (plan), csat_drop (region); [] for none. See docs/simulator.md.",
            show_default=False,
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """Build a realistic simulated workspace with injected incidents (deterministic by seed).

    Without --incidents the seed draws five incidents (a stale article, a launch, a
    channel outage, a misconfigured guidance rule, a region's slow replies): their
    targets and windows. What they are goes only to the --truth file.
    """
    from deskops.simulate.incidents import load_incidents
    from deskops.simulate.workspace import SimulationConfig, simulate_workspace

    with reported(as_json=as_json):  # every option is checked before anything is opened or written
        try:
            end_day = date.fromisoformat(end)
        except ValueError:
            raise InvalidInput(f"--end must be a date like 2026-11-01, got {end!r}") from None
        _within("--conversations", conversations, 1, 10_000_000)
        config = SimulationConfig(
            seed=seed,
            conversations=conversations,
            days=days,
            end=end_day,
            time_zone=time_zone,
            workspace=workspace,
            incidents=load_incidents(incidents) if incidents is not None else None,
        )
    with _services(db, as_json=as_json) as services:
        oracle = None
        if frontline:
            from deskops.harness.frontline_outcomes import rates

            def oracle(plan: Any, start: Any, end: Any) -> Any:
                # Inside the simulation's progress bar: a second live bar is not allowed.
                err.print("running the front-line agent on every topic's opening messages ...")
                return rates(plan, start, end, services=services)

        with services.uow() as uow, _progress("simulating", conversations) as progress:
            report = simulate_workspace(
                uow=uow,
                config=config,
                truth_path=truth or services.truth_path(workspace),
                replace=replace,
                progress=progress,
                frontline=oracle,
            )
        if replace:  # the old workspace's index and snapshot hold text that is gone
            services.forget_workspace(workspace, truth=False)
        _refresh_rollups(services, workspace)
    _emit(
        report.as_dict(),
        as_json=as_json,
        render=lambda d: out.print(
            f"Built workspace [bold]{d['workspace']}[/bold]: {d['conversations']:,} conversations, "
            f"{d['messages']:,} messages, {d['customers']:,} customers, {d['articles']} articles "
            f"in {d['seconds']} s. Ground truth: {d['truth_path']}"
        ),
    )


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="File to import (.jsonl, .ndjson, .json or .csv).")],
    workspace: Workspace,
    kind: Annotated[str, typer.Option(help="conversations, articles or customers.")],
    source: Annotated[
        str, typer.Option(help="generic (documented format) or zendesk (tickets export).")
    ] = "generic",
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Import conversations, articles or customers; all-or-nothing, idempotent by external id."""
    from deskops.importers import KINDS, Kind, import_file

    if kind not in KINDS:
        fail(f"--kind must be conversations, articles or customers, not {kind!r}", as_json=as_json)
    with _services(db, as_json=as_json) as services:
        importer = services.registry.importer(source)
        with services.uow() as uow, _progress(f"importing {kind}", None) as progress:
            report = import_file(
                uow=uow,
                workspace=workspace,
                path=path,
                kind=cast(Kind, kind),  # checked above
                importer=importer,
                progress=progress,
            )
        if kind != "articles":
            _refresh_rollups(services, workspace)
    document = report.model_dump(mode="json")
    _emit(
        document,
        as_json=as_json,
        render=lambda d: out.print(
            f"Imported {d['records']:,} {d['kind']} from {d['path']}: {d['counts']['inserted']:,} new, "
            f"{d['counts']['updated']:,} updated, {d['counts']['unchanged']:,} unchanged."
        ),
    )


@app.command()
def summary(db: Db = None, workspace: Workspace = "demo", as_json: Json = False) -> None:
    """Size, period, outcome mix and top topics of a workspace."""
    from deskops.analytics.summary import workspace_summary

    with _services(db, as_json=as_json) as services, services.uow() as uow:
        summary_ = workspace_summary(uow.workspace(workspace))
    _emit(summary_, as_json=as_json, render=_render_summary)


@app.command()
def demo(
    db: Db = None,
    conversations: Annotated[
        int, typer.Option(help="Size of the demo workspace when it has to be built.")
    ] = 50_000,
) -> None:
    """Build the demo workspace if it is missing, then print its summary (what `make run` does)."""
    from deskops.analytics.summary import workspace_summary
    from deskops.simulate.workspace import SimulationConfig, simulate_workspace

    with _services(db, as_json=False) as services:
        name = services.settings.demo_workspace
        with services.uow() as uow:
            exists = uow.workspaces.find(name) is not None
        if not exists:
            err.print(f"Building the demo workspace ({conversations:,} conversations)...")
            truth = services.truth_path(name)
            with services.uow() as uow, _progress("simulating", conversations) as progress:
                simulate_workspace(
                    uow=uow,
                    config=SimulationConfig(conversations=conversations, workspace=name),
                    truth_path=truth,
                    progress=progress,
                )
        with services.uow() as uow:
            _render_summary(workspace_summary(uow.workspace(name)).to_json())


def _render_summary(d: dict[str, Any]) -> None:
    from rich.table import Table

    counts = d["counts"]
    out.print(f"\n[bold]Workspace {d['workspace']}[/bold] ({d['time_zone']})")
    out.print(
        f"  {counts['conversations']:,} conversations, {counts['messages']:,} messages, "
        f"{counts['customers']:,} customers, {counts['events']:,} events"
    )
    states = ", ".join(f"{n} {state}" for state, n in sorted(d["articles_by_state"].items()))
    out.print(
        f"  {counts['articles']} articles ({states}), {counts['guidance_rules']} guidance rules, "
        f"{counts['procedures']} procedures"
    )
    period = d["period"]
    if period["first_conversation"] is None:
        out.print("  no conversations yet\n")
    else:
        out.print(f"  from {period['first_conversation']} to {period['last_conversation']}\n")
    outcomes = Table(title="Outcomes", title_justify="left")
    outcomes.add_column("outcome")
    outcomes.add_column("conversations", justify="right")
    outcomes.add_column("share", justify="right")
    for outcome, figures in d["outcomes"].items():
        outcomes.add_row(outcome, f"{figures['count']:,}", f"{figures['share']:.1%}")
    out.print(outcomes)
    topics = Table(title="Top topics", title_justify="left")
    for column in ("topic", "conversations", "share", "AI resolution"):
        topics.add_column(column, justify="left" if column == "topic" else "right")
    for row in d["top_topics"]:
        rate = row["ai_resolution_rate"]
        topics.add_row(
            row["topic"] or "(none)",
            f"{row['conversations']:,}",
            f"{row['share']:.1%}",
            "-" if rate is None else f"{rate:.1%}",
        )
    out.print(topics)


@workspace_app.command("create")
def workspace_create(
    name: Annotated[str, typer.Argument(help="Lowercase name: letters, digits, '-' and '_'.")],
    time_zone: Annotated[str, typer.Option(help="IANA time zone, e.g. Europe/Berlin.")] = "UTC",
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Create an empty workspace."""
    with _services(db, as_json=as_json) as services, services.uow() as uow:
        created = uow.workspaces.create(name, time_zone=time_zone)
        uow.commit()
    _emit(
        created.model_dump(mode="json"),
        as_json=as_json,
        render=lambda d: out.print(f"Created workspace {d['name']} ({d['time_zone']})."),
    )


@workspace_app.command("list")
def workspace_list(db: Db = None, as_json: Json = False) -> None:
    """List workspaces."""
    with _services(db, as_json=as_json) as services, services.uow() as uow:
        found = [w.model_dump(mode="json") for w in uow.workspaces.list()]
    _emit(
        {"workspaces": found},
        as_json=as_json,
        render=lambda d: out.print("\n".join(f"{w['name']}\t{w['time_zone']}" for w in d["workspaces"])),
    )


@workspace_app.command("delete")
def workspace_delete(
    name: str,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: everything in the workspace is deleted.")
    ] = False,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Delete a workspace and everything in it."""
    if not yes:
        fail("this deletes every record of the workspace; pass --yes to confirm", as_json=as_json)
    with _services(db, as_json=as_json) as services:
        services.delete_workspace(name)
    _emit(
        {"deleted": name}, as_json=as_json, render=lambda d: out.print(f"Deleted workspace {d['deleted']}.")
    )


@conversation_app.command("erase")
def conversation_erase(
    external_ids: Annotated[list[str], typer.Argument(help="External ids of the conversations to erase.")],
    workspace: Workspace,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: the conversations cannot be restored.")
    ] = False,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Erase conversations for good (a customer's erasure request); search and analytics follow."""
    if not yes:
        fail(
            "this erases the conversations and their messages for good; pass --yes to confirm",
            as_json=as_json,
        )
    with _services(db, as_json=as_json) as services, services.uow() as uow:
        scope = uow.workspace(workspace)
        scope.lock_for_writes()
        erased = scope.conversations.erase(external_ids)
        uow.commit()
        missing = sorted(set(external_ids) - set(erased))
        if erased:
            if services.search.indexed(workspace):
                services.search.sync(workspace)  # the index drops their text now, not at the next search
            # The snapshot on disk drops them now too, whether or not anyone has searched yet.
            _refresh_rollups(services, workspace)
    _emit(
        {"workspace": workspace, "erased": erased, "not_found": missing},
        as_json=as_json,
        render=lambda d: out.print(
            f"Erased {len(d['erased'])} conversation(s) of {d['workspace']}."
            + (f" Not found: {', '.join(d['not_found'])}." if d["not_found"] else "")
        ),
    )


@member_app.command("add")
def member_add(
    email: str,
    workspace: Workspace,
    name: Annotated[str | None, typer.Option(help="Display name (default: the email's local part).")] = None,
    role: Annotated[Role, typer.Option(help="viewer, editor or admin.")] = Role.viewer,
    token: Annotated[bool, typer.Option(help="Also issue an API token (shown once, stored hashed).")] = False,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Add a member to a workspace, optionally with an API token."""
    with _services(db, as_json=as_json) as services, services.uow() as uow:
        scope = uow.workspace(workspace)
        member = scope.members.add(email=email, name=name or email.split("@")[0], role=role)
        issued = scope.members.issue_token(member.id) if token else None
        uow.commit()
    document = {**member.model_dump(mode="json"), "token": issued}
    _emit(
        document,
        as_json=as_json,
        render=lambda d: out.print(
            f"Added {d['email']} as {d['role']}."
            + (f"\nAPI token (shown once): {d['token']}" if d["token"] else "")
        ),
    )


@member_app.command("token")
def member_token(
    email: str,
    workspace: Workspace,
    label: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Issue a new API token for a member (shown once, stored hashed)."""
    with _services(db, as_json=as_json) as services, services.uow() as uow:
        scope = uow.workspace(workspace)
        member = scope.members.find(email)
        if member is None:
            raise NotFound(f"{email} is not a member of {workspace}")
        issued = scope.members.issue_token(member.id, label=label)
        uow.commit()
    _emit(
        {"email": member.email, "token": issued},
        as_json=as_json,
        render=lambda d: out.print(f"API token for {d['email']} (shown once): {d['token']}"),
    )


@member_app.command("list")
def member_list(workspace: Workspace, db: Db = None, as_json: Json = False) -> None:
    """List the members of a workspace and their roles."""
    with _services(db, as_json=as_json) as services, services.uow() as uow:
        members = [m.model_dump(mode="json") for m in uow.workspace(workspace).members.list()]
    _emit(
        {"members": members},
        as_json=as_json,
        render=lambda d: out.print("\n".join(f"{m['email']}\t{m['role']}" for m in d["members"])),
    )


@db_app.command("upgrade")
def db_upgrade(db: Db = None, as_json: Json = False) -> None:
    """Create or migrate the schema to the newest revision."""
    from deskops.store.engine import head_revision

    with _services(db, as_json=as_json) as services:
        services.engine  # noqa: B018 - building the engine runs the migrations
    _emit(
        {"revision": head_revision()},
        as_json=as_json,
        render=lambda d: out.print(f"Schema is at revision {d['revision']}."),
    )


@db_app.command("rollups")
def db_rollups(workspace: Workspace = "demo", db: Db = None, as_json: Json = False) -> None:
    """Rebuild a workspace's analytics column snapshot (a cache of the database; writes keep it current)."""
    with _services(db, as_json=as_json) as services, services.uow() as uow:
        scope = uow.workspace(workspace)
        with _progress("building analytics columns", None):
            snapshot = services.columns.refresh(scope, rebuild=True).snapshot
        document = {
            "workspace": workspace,
            "conversations": len(snapshot),
            "columns": len(snapshot.columns),
            "revision": snapshot.revision.revision,
        }
    _emit(
        document,
        as_json=as_json,
        render=lambda d: out.print(
            f"Rebuilt the analytics columns of {d['workspace']}: {d['conversations']:,} conversations, "
            f"{d['columns']} columns."
        ),
    )


def _refresh_rollups(services: Services, workspace: str) -> None:
    """Bring the analytics columns up to date after a write, so the first query is fast."""
    with services.uow() as uow, _progress("updating analytics columns", None):
        services.columns.snapshot(uow.workspace(workspace))
