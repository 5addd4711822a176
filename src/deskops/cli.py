"""The `deskops` command line. Commands stay thin: parse, call a service, print.

Every reporting command takes ``--json`` and then prints exactly one JSON document
on stdout; progress bars and errors go to stderr.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, cast

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from deskops.bootstrap import Services, build
from deskops.domain.models import Role

app = typer.Typer(
    help="deskops: the operations agent for customer-support teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
workspace_app = typer.Typer(help="Create, list and delete workspaces.", no_args_is_help=True)
member_app = typer.Typer(help="Workspace members, roles and API tokens.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks that print their figures as JSON.", no_args_is_help=True)
eval_app = typer.Typer(help="Quality evaluations that print their figures as JSON.", no_args_is_help=True)
index_app = typer.Typer(help="The per-workspace search index.", no_args_is_help=True)
cohort_app = typer.Typer(help="Saved customer cohorts, usable as --filter cohort=NAME.", no_args_is_help=True)
app.add_typer(workspace_app, name="workspace")
app.add_typer(member_app, name="member")
app.add_typer(db_app, name="db")
app.add_typer(bench_app, name="bench")
app.add_typer(eval_app, name="eval")
app.add_typer(index_app, name="index")
app.add_typer(cohort_app, name="cohort")

err = Console(stderr=True)
out = Console()

Db = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: $DESKOPS_DATABASE_URL or sqlite:///.deskops/deskops.db).",
        show_default=False,
    ),
]
Workspace = Annotated[str, typer.Option("--workspace", "-w", help="Workspace name.")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


class CommandError(Exception):
    """An error the user can fix; printed without a traceback."""


def _fail(message: str, *, as_json: bool) -> NoReturn:
    if as_json:
        print(json.dumps({"error": message}))
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(1)


@contextmanager
def _services(db: str | None, *, as_json: bool) -> Iterator[Services]:
    """Build the services and turn expected failures into one clear line and exit code 1."""
    from deskops.importers import ImportFailed
    from deskops.store.repositories import NotFound, UnknownWorkspace

    services = build(database_url=db)
    try:
        yield services
    except ImportFailed as exc:
        if as_json:
            print(json.dumps({"error": "import failed", "errors": [e.as_dict() for e in exc.errors]}))
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    except (
        CommandError,
        UnknownWorkspace,
        NotFound,
        OSError,
        ValueError,
    ) as exc:  # SearchError is a ValueError
        _fail(str(exc).strip("'\""), as_json=as_json)
    finally:
        services.close()


def _emit(document: dict[str, Any], *, as_json: bool, render: Callable[[dict[str, Any]], None]) -> None:
    if as_json:
        print(json.dumps(document, default=str))
    else:
        render(document)


@contextmanager
def _progress(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (pulsing when ``total`` is unknown); yields a callback taking items done."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.update(task, completed=done)


# --------------------------------------------------------------------------- simulate


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
        Path,
        typer.Option(
            help="Where the ground truth (incidents, labelled search queries) "
            "is written. It never goes into the database."
        ),
    ] = Path(".deskops/truth/demo.json"),
    workspace: Annotated[
        str, typer.Option("--workspace", "-w", help="Name of the workspace to build.")
    ] = "demo",
    time_zone: Annotated[str, typer.Option(help="The workspace's IANA time zone.")] = "America/New_York",
    replace: Annotated[bool, typer.Option(help="Delete and rebuild the workspace if it exists.")] = False,
    as_json: Json = False,
) -> None:
    """Build a realistic simulated workspace with injected incidents (deterministic by seed)."""
    from deskops.simulate.workspace import SimulationConfig, simulate_workspace

    with _services(db, as_json=as_json) as services:
        try:
            end_day = date.fromisoformat(end)
        except ValueError:
            raise CommandError(f"--end must be a date like 2026-11-01, got {end!r}") from None
        config = SimulationConfig(
            seed=seed,
            conversations=conversations,
            days=days,
            end=end_day,
            time_zone=time_zone,
            workspace=workspace,
        )
        with services.uow() as uow, _progress("simulating", conversations) as progress:
            report = simulate_workspace(
                uow=uow, config=config, truth_path=truth, replace=replace, progress=progress
            )
    _emit(
        report.as_dict(),
        as_json=as_json,
        render=lambda d: out.print(
            f"Built workspace [bold]{d['workspace']}[/bold]: {d['conversations']:,} conversations, "
            f"{d['messages']:,} messages, {d['customers']:,} customers, {d['articles']} articles "
            f"in {d['seconds']} s. Ground truth: {d['truth_path']}"
        ),
    )


# --------------------------------------------------------------------------- import


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
    from deskops.importers import Kind, Source, import_file

    if kind not in ("conversations", "articles", "customers"):
        _fail(f"--kind must be conversations, articles or customers, not {kind!r}", as_json=as_json)
    if source not in ("generic", "zendesk"):
        _fail(f"--source must be generic or zendesk, not {source!r}", as_json=as_json)
    with (
        _services(db, as_json=as_json) as services,
        services.uow() as uow,
        _progress(f"importing {kind}", None) as progress,
    ):
        report = import_file(
            uow=uow,
            workspace=workspace,
            path=path,
            kind=cast(Kind, kind),  # both checked above
            source=cast(Source, source),
            progress=progress,
        )
    document = report.model_dump(mode="json")
    _emit(
        document,
        as_json=as_json,
        render=lambda d: out.print(
            f"Imported {d['records']:,} {d['kind']} from {d['path']}: {d['counts']['inserted']:,} new, "
            f"{d['counts']['updated']:,} updated, {d['counts']['unchanged']:,} unchanged."
        ),
    )


# --------------------------------------------------------------------------- summary


@app.command()
def summary(db: Db = None, workspace: Workspace = "demo", as_json: Json = False) -> None:
    """Size, period, outcome mix and top topics of a workspace."""
    from deskops.analytics.summary import workspace_summary

    with _services(db, as_json=as_json) as services, services.uow() as uow:
        document = workspace_summary(uow.workspace(workspace))
    _emit(document, as_json=as_json, render=_render_summary)


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
            truth = services.settings.data_dir / "truth" / f"{name}.json"
            with services.uow() as uow, _progress("simulating", conversations) as progress:
                simulate_workspace(
                    uow=uow,
                    config=SimulationConfig(conversations=conversations, workspace=name),
                    truth_path=truth,
                    progress=progress,
                )
        with services.uow() as uow:
            _render_summary(workspace_summary(uow.workspace(name)))


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


# --------------------------------------------------------------------------- metrics


def _parse_filters(items: list[str] | None, *, as_json: bool) -> dict[str, str]:
    filters: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            _fail(f"--filter takes KEY=VALUE, got {item!r}", as_json=as_json)
        filters[key.strip()] = value.strip()
    return filters


def _parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} must be a date like 2026-10-01, not {value!r}") from None


@app.command()
def metrics(
    metric: Annotated[str | None, typer.Option("--metric", "-m", help="Metric name (see --list).")] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD, workspace time zone).")
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last day, inclusive.")] = None,
    workspace: Workspace = "demo",
    by: Annotated[str | None, typer.Option("--by", help="Break down by this attribute.")] = None,
    granularity: Annotated[str, typer.Option(help="hour, day, week or month.")] = "day",
    filter_: Annotated[
        list[str] | None, typer.Option("--filter", help="ATTRIBUTE=VALUE, repeatable.")
    ] = None,
    top: Annotated[int, typer.Option(help="With --by: show this many groups, the rest as (other).")] = 12,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare", help="Compare with the previous period of the same length, with a significance test."
        ),
    ] = False,
    movers: Annotated[
        bool, typer.Option("--movers", help="Which segments explain the change since the previous period.")
    ] = False,
    list_: Annotated[bool, typer.Option("--list", help="List the metric catalog and exit.")] = False,
    anomalies: Annotated[bool, typer.Option("--anomalies", help="Detect anomalies in each series.")] = False,
    chart: Annotated[str | None, typer.Option(help="Add a plotly figure: line, bar or table.")] = None,
    chart_html: Annotated[
        Path | None, typer.Option(help="Also write the figure as a standalone HTML page.")
    ] = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Metric series with denominators, breakdowns, period comparisons and top movers."""
    from deskops.analytics import metrics as engine
    from deskops.analytics.catalog import ATTRIBUTES, METRICS

    if list_:
        catalog = [
            {
                "name": m.name,
                "label": m.label,
                "unit": m.unit,
                "kind": m.kind,
                "good": m.good,
                "description": m.description,
                "breakdowns": list(m.breakdowns),
            }
            for m in METRICS
        ]
        _emit(
            {"metrics": catalog, "attributes": list(ATTRIBUTES)},
            as_json=as_json,
            render=lambda d: out.print("\n".join(f"{m['name']:28} {m['description']}" for m in d["metrics"])),
        )
        return
    if metric is None or from_ is None or to is None:
        _fail("--metric, --from and --to are required (or --list)", as_json=as_json)
    filters = _parse_filters(filter_, as_json=as_json)
    with _services(db, as_json=as_json) as services, services.uow() as uow:
        start, end = _parse_day(from_, "--from"), _parse_day(to, "--to")
        assert start is not None and end is not None
        scope = uow.workspace(workspace)
        if movers:
            document = engine.top_movers(scope, metric_name=metric, start=start, end=end, filters=filters)
        elif compare:
            document = engine.compare(scope, metric_name=metric, start=start, end=end, filters=filters)
        else:
            document = engine.series(
                scope,
                metric_name=metric,
                start=start,
                end=end,
                granularity=granularity,
                by=by,
                filters=filters,
                top=top,
            )
            _add_anomalies_and_chart(
                document,
                anomalies=anomalies,
                chart=chart or ("line" if chart_html else None),
                chart_html=chart_html,
            )
    _emit(document, as_json=as_json, render=lambda d: out.print_json(json.dumps(d)))


def _add_anomalies_and_chart(
    document: dict[str, Any], *, anomalies: bool, chart: str | None, chart_html: Path | None
) -> None:
    from deskops.analytics.anomalies import series_anomalies
    from deskops.analytics.charts import series_figure

    found = series_anomalies(document) if anomalies else None
    if found is not None:
        document["anomalies"] = found
    if chart is None:
        return
    figure = series_figure(document, kind=chart, anomalies=found)
    document["chart"] = figure
    if chart_html is not None:
        import plotly.io

        chart_html.parent.mkdir(parents=True, exist_ok=True)
        chart_html.write_text(plotly.io.to_html(figure, include_plotlyjs=True, full_html=True))


@app.command()
def attributes(
    from_: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD, workspace time zone).")],
    to: Annotated[str, typer.Option("--to", help="Last day, inclusive.")],
    workspace: Workspace = "demo",
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Which attributes are populated and carry signal (coverage, cardinality, link to escalation)."""
    from deskops.analytics.attributes import attribute_report

    with _services(db, as_json=as_json) as services, services.uow() as uow:
        start, end = _parse_day(from_, "--from"), _parse_day(to, "--to")
        assert start is not None and end is not None
        document = attribute_report(uow.workspace(workspace), start=start, end=end)
    _emit(document, as_json=as_json, render=_render_attributes)


def _render_attributes(d: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(
        title=f"Attributes of {d['workspace']}, {d['period']['from']} to {d['period']['to']} "
        f"({d['conversations']:,} conversations)",
        title_justify="left",
    )
    for column in ("attribute", "type", "coverage", "values", "Cramér's V", "signal"):
        table.add_column(column, justify="left" if column in ("attribute", "type", "signal") else "right")
    for row in d["attributes"]:
        v = row["association"]["cramers_v"]
        signal = row["signal"] + (" (mirrors outcome)" if row["mirrors_outcome"] else "")
        table.add_row(
            row["attribute"],
            row["type"],
            f"{row['coverage']:.0%}",
            f"{row['cardinality']:,}",
            "-" if v is None else f"{v:.3f}",
            signal,
        )
    out.print(table)


@app.command()
def articles(
    from_: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD, workspace time zone).")],
    to: Annotated[str, typer.Option("--to", help="Last day, inclusive.")],
    workspace: Workspace = "demo",
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Per article: how often the AI agent cited it and how often those conversations were resolved."""
    from deskops.analytics.articles import article_figures

    with _services(db, as_json=as_json) as services, services.uow() as uow:
        start, end = _parse_day(from_, "--from"), _parse_day(to, "--to")
        assert start is not None and end is not None
        document = article_figures(uow.workspace(workspace), start=start, end=end)
    _emit(document, as_json=as_json, render=_render_articles)


def _render_articles(d: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(
        title=f"Articles of {d['workspace']}, {d['period']['from']} to {d['period']['to']}",
        title_justify="left",
    )
    for column in ("article", "title", "state", "times cited", "resolved when cited"):
        table.add_column(column, justify="right" if column.startswith(("times", "resolved")) else "left")
    for row in d["articles"]:
        rate = row["resolution_rate_when_cited"]
        table.add_row(
            row["article"],
            row["title"] or "-",
            row["state"],
            f"{row['times_cited']:,}",
            "-" if rate is None else f"{rate:.0%}",
        )
    out.print(table)


@cohort_app.command("save")
def cohort_save(
    name: Annotated[str, typer.Argument(help="Cohort name (letters, digits, space, '_', '.', '-').")],
    workspace: Workspace = "demo",
    filter_: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            help="plan=, region=, company_size= or any custom customer attribute, KEY=VALUE, repeatable.",
        ),
    ] = None,
    min_conversations: Annotated[
        int | None, typer.Option(help="Behaviour: at least this many conversations ...")
    ] = None,
    within_days: Annotated[
        int, typer.Option(help="... in this many days before the analysed period ends.")
    ] = 30,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Create or replace a cohort defined by customer attributes and behaviour."""
    from deskops.domain.models import CohortDefinition

    filters = _parse_filters(filter_, as_json=as_json)
    built_in = {k: filters.pop(k) for k in ("plan", "region", "company_size") if k in filters}
    with _services(db, as_json=as_json) as services, services.uow() as uow:
        definition = CohortDefinition(
            **built_in, attributes=filters, min_conversations=min_conversations, within_days=within_days
        )
        cohort = uow.workspace(workspace).cohorts.save(name, definition)
        uow.commit()
    _emit(
        cohort.model_dump(mode="json"),
        as_json=as_json,
        render=lambda d: out.print(f"Saved cohort {d['name']}: {json.dumps(d['definition'])}"),
    )


@cohort_app.command("list")
def cohort_list(workspace: Workspace = "demo", db: Db = None, as_json: Json = False) -> None:
    """List the saved cohorts."""
    with _services(db, as_json=as_json) as services, services.uow() as uow:
        found = [c.model_dump(mode="json") for c in uow.workspace(workspace).cohorts.list()]
    _emit(
        {"cohorts": found},
        as_json=as_json,
        render=lambda d: out.print(
            "\n".join(f"{c['name']}\t{json.dumps(c['definition'])}" for c in d["cohorts"])
        ),
    )


@cohort_app.command("show")
def cohort_show(
    name: str,
    workspace: Workspace = "demo",
    as_of: Annotated[
        str | None, typer.Option(help="Evaluate membership at the start of this day (default: now).")
    ] = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """A cohort's definition and how many customers are in it."""
    from zoneinfo import ZoneInfo

    from deskops.analytics.cohorts import members

    with _services(db, as_json=as_json) as services, services.uow() as uow:
        scope = uow.workspace(workspace)
        cohort = scope.cohorts.get(name)
        day = _parse_day(as_of, "--as-of")
        moment = (
            datetime.combine(day, datetime.min.time(), ZoneInfo(scope.workspace.time_zone))
            if day
            else datetime.now(UTC)
        )
        document = {
            **cohort.model_dump(mode="json"),
            "as_of": moment.isoformat(),
            "customers": len(members(scope, cohort.definition, as_of=moment)),
        }
    _emit(
        document,
        as_json=as_json,
        render=lambda d: out.print(f"{d['name']}: {d['customers']:,} customers as of {d['as_of']}"),
    )


@cohort_app.command("delete")
def cohort_delete(name: str, workspace: Workspace = "demo", db: Db = None, as_json: Json = False) -> None:
    """Delete a saved cohort."""
    with _services(db, as_json=as_json) as services, services.uow() as uow:
        uow.workspace(workspace).cohorts.delete(name)
        uow.commit()
    _emit({"deleted": name}, as_json=as_json, render=lambda d: out.print(f"Deleted cohort {d['deleted']}."))


# --------------------------------------------------------------------------- search


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in plain words.")],
    workspace: Workspace = "demo",
    k: Annotated[int, typer.Option("--k", help="How many documents to return (1-100).")] = 10,
    filter_: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            help="KEY=VALUE, repeatable; keys: kind, state, product_area, locale, topic, since, until.",
        ),
    ] = None,
    method: Annotated[str, typer.Option(help="hybrid_rerank, hybrid, rrf, bm25 or dense.")] = "hybrid_rerank",
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Hybrid search over a workspace's articles and conversations, with why each hit matched."""
    filters = _parse_filters(filter_, as_json=as_json)
    with _services(db, as_json=as_json) as services, _stage_progress() as progress:
        response = services.search.search(
            workspace, query, k=k, filters=filters, method=method, progress=progress
        )
    _emit(response.model_dump(mode="json"), as_json=as_json, render=_render_search)


def _render_search(d: dict[str, Any]) -> None:
    for notice in d["notices"]:
        err.print(f"[yellow]note:[/yellow] {notice}", highlight=False)
    verdict = "no good match: consider not answering" if d["abstain"] else "good match"
    out.print(f"confidence {d['confidence']:.2f} ({verdict})")
    for rank, hit in enumerate(d["hits"], start=1):
        why = hit["why"]
        out.print(
            f"{rank:2d}. [bold]{hit['title']}[/bold]  {hit['id']}  score {hit['score']:.3f}", highlight=False
        )
        out.print(
            f"    matched {', '.join(why['matched_terms']) or '-'}; bm25 rank {why['bm25_rank'] or '-'}, "
            f"dense {why['dense'] if why['dense'] is not None else '-'} rank {why['dense_rank'] or '-'}",
            highlight=False,
        )


@contextmanager
def _stage_progress() -> Iterator[Callable[[str, int, int | None], None]]:
    """A progress bar for index updates, shown only when there is work to show."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"index: {stage}", total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


@index_app.command("rebuild")
def index_rebuild(workspace: Workspace = "demo", db: Db = None, as_json: Json = False) -> None:
    """Rebuild a workspace's search index from scratch (unchanged text is not re-embedded)."""
    with _services(db, as_json=as_json) as services, _stage_progress() as progress:
        document = {"workspace": workspace, **services.search.rebuild(workspace, progress=progress)}
    _emit(
        document,
        as_json=as_json,
        render=lambda d: out.print(
            f"Indexed {d['chunks']:,} passages of {d['workspace']} in {d['segments']} segment(s)."
        ),
    )


@eval_app.command("search")
def eval_search(
    dataset: Annotated[str, typer.Option(help="stackfaq, simulated, banking77 or all.")] = "all",
    max_queries: Annotated[int | None, typer.Option(help="Evaluate on at most this many queries.")] = None,
    fit_abstention: Annotated[
        bool, typer.Option(help="Also fit the abstention weights on this data.")
    ] = False,
    as_json: Json = False,
) -> None:
    """nDCG@10, recall@1/5/10 and MRR of BM25, dense and the hybrids on labelled query sets."""
    from deskops.evals.datasets import DatasetMissing
    from deskops.evals.search import DATASETS, load, run

    names = list(DATASETS) if dataset == "all" else [dataset]
    if any(n not in DATASETS for n in names):
        _fail(f"--dataset must be one of {', '.join(DATASETS)} or all, not {dataset!r}", as_json=as_json)
    services = build()
    reports = []
    try:
        for name in names:
            try:
                data = load(name, max_queries=max_queries)
            except DatasetMissing as exc:
                _fail(str(exc), as_json=as_json)
            reports.append(
                run(
                    data,
                    embedder=services.search.embedder,
                    config=services.search.config,
                    fit_abstention=fit_abstention,
                    log=lambda line: err.print(line, highlight=False),
                )
            )
    finally:
        services.close()
    _emit(
        {"evaluation": "search", "datasets": reports},
        as_json=as_json,
        render=lambda d: out.print_json(json.dumps(d)),
    )


@eval_app.command("anomalies")
def eval_anomalies(
    nab: Annotated[bool, typer.Option(help="Score on the NAB benchmark series.")] = True,
    simulated: Annotated[
        bool, typer.Option(help="Score on a simulated workspace's injected incidents.")
    ] = True,
    threshold: Annotated[float, typer.Option(help="Robust z-score above which a point is anomalous.")] = 4.0,
    as_json: Json = False,
) -> None:
    """Anomaly detection against a rolling z-score: NAB window precision/recall/F1 and simulated incidents."""
    from deskops.evals.anomalies import run as run_anomalies
    from deskops.evals.datasets import DatasetMissing

    try:
        document = run_anomalies(
            nab=nab,
            simulated=simulated,
            threshold=threshold,
            log=lambda line: err.print(line, highlight=False),
        )
    except DatasetMissing as exc:
        _fail(str(exc), as_json=as_json)
    _emit(document, as_json=as_json, render=lambda d: out.print_json(json.dumps(d)))


# --------------------------------------------------------------------------- workspaces and members


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
        _fail("this deletes every record of the workspace; pass --yes to confirm", as_json=as_json)
    with _services(db, as_json=as_json) as services, services.uow() as uow:
        uow.workspaces.delete(name)
        uow.commit()
    _emit(
        {"deleted": name}, as_json=as_json, render=lambda d: out.print(f"Deleted workspace {d['deleted']}.")
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
            raise CommandError(f"{email} is not a member of {workspace}")
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


# --------------------------------------------------------------------------- benchmarks


@bench_app.command("simulate")
def bench_simulate(
    sizes: Annotated[str, typer.Option(help="Comma-separated conversation counts.")] = "100000,1000000",
    days: Annotated[int, typer.Option(help="Simulated period in days.")] = 365,
    as_json: Json = False,
) -> None:
    """Simulate into fresh SQLite files: conversations/s, messages/s and peak memory per size."""
    from deskops.simulate.bench import run_simulate_bench

    try:
        counts = [int(s.replace("_", "")) for s in sizes.split(",") if s.strip()]
    except ValueError:
        _fail(f"--sizes must be comma-separated integers, got {sizes!r}", as_json=as_json)
    document = run_simulate_bench(counts, days=days, log=lambda line: err.print(line, highlight=False))
    _emit(document, as_json=as_json, render=lambda d: out.print_json(json.dumps(d)))


@bench_app.command("search")
def bench_search(
    sizes: Annotated[str, typer.Option(help="Comma-separated index sizes in passages.")] = "10000,100000",
    queries: Annotated[int, typer.Option(help="Queries timed per size.")] = 200,
    as_json: Json = False,
) -> None:
    """Index build throughput, query latency p50/p95 (with query encoding) and memory per index size."""
    from deskops.search.bench import run_search_bench

    try:
        counts = [int(s.replace("_", "")) for s in sizes.split(",") if s.strip()]
    except ValueError:
        _fail(f"--sizes must be comma-separated integers, got {sizes!r}", as_json=as_json)
    document = run_search_bench(counts, queries=queries, log=lambda line: err.print(line, highlight=False))
    _emit(document, as_json=as_json, render=lambda d: out.print_json(json.dumps(d)))


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
