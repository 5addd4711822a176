"""Metrics, attributes, articles and cohorts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from deskops.cli._apps import (
    app,
    cohort_app,
)
from deskops.cli._common import (
    Db,
    Json,
    Workspace,
    _emit,
    _parse_day,
    _parse_filters,
    _parse_period,
    _services,
    err,
    fail,
    out,
)
from deskops.domain.analytics import MetricSeries
from deskops.domain.types import CHART_KINDS, GRANULARITIES, ChartKind, Granularity
from deskops.errors import InvalidInput


@app.command()
def metrics(
    metric: Annotated[str | None, typer.Option("--metric", "-m", help="Metric name (see --list).")] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD, workspace time zone).")
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last day, inclusive.")] = None,
    workspace: Workspace = "demo",
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Break down by this attribute, or by combinations of up to 4 (plan,region); "
            "with --movers: rank only these attributes' segments.",
        ),
    ] = None,
    granularity: Annotated[str | None, typer.Option(help="hour, day, week or month (default day).")] = None,
    filter_: Annotated[
        list[str] | None, typer.Option("--filter", help="ATTRIBUTE=VALUE, repeatable.")
    ] = None,
    top: Annotated[
        int | None,
        typer.Option(
            help="With --by: show this many groups (default 12), the rest as (other); with --movers: "
            "this many movers (default 10). 1 to 100."
        ),
    ] = None,
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
    from deskops.analytics.catalog import ATTRIBUTES

    if list_:
        with _services(db, as_json=as_json) as services:
            catalog = [m.describe().to_json() for m in services.registry.metrics.values()]
        _emit(
            {"metrics": catalog, "attributes": list(ATTRIBUTES)},
            as_json=as_json,
            render=lambda d: out.print("\n".join(f"{m['name']:28} {m['description']}" for m in d["metrics"])),
        )
        return
    if metric is None or from_ is None or to is None:
        fail("--metric, --from and --to are required (or --list)", as_json=as_json)
    _refuse_options_that_do_not_apply(
        compare=compare,
        movers=movers,
        given={
            "--by": by is not None,
            "--top": top is not None,
            "--granularity": granularity is not None,
            "--anomalies": anomalies,
            "--chart": chart is not None,
            "--chart-html": chart_html is not None,
        },
        as_json=as_json,
    )
    _check_top(top, as_json=as_json)
    filters = _parse_filters(filter_, as_json=as_json)
    with _services(db, as_json=as_json) as services, services.uow() as uow:
        start, end = _parse_period(from_, to)
        scope = uow.workspace(workspace)
        chosen = services.registry.metric(metric)
        document: dict[str, Any]
        if movers:
            document = engine.top_movers(
                scope,
                columns=services.columns,
                metric=chosen,
                start=start,
                end=end,
                filters=filters,
                attributes=tuple(engine.breakdown_attributes(by, chosen)) or None,
                limit=MOVERS_SHOWN if top is None else top,
            ).to_json()
        elif compare:
            document = engine.compare(
                scope, columns=services.columns, metric=chosen, start=start, end=end, filters=filters
            ).to_json()
        else:
            series = engine.series(
                scope,
                columns=services.columns,
                metric=chosen,
                start=start,
                end=end,
                granularity=_granularity(granularity or "day"),
                by=by,
                filters=filters,
                top=engine.MAX_GROUPS if top is None else top,
            )
            document = _with_anomalies_and_chart(
                series,
                anomalies=anomalies,
                chart=chart or ("line" if chart_html else None),
                chart_html=chart_html,
            )
    _emit(document, as_json=as_json, render=_render_metrics)


MOVERS_SHOWN = 10
"""Movers ``deskops metrics --movers`` lists unless ``--top`` says otherwise."""

# Options of `deskops metrics` that only one kind of answer uses: elsewhere they are refused, not
# silently ignored.
_SERIES_ONLY = ("--granularity", "--anomalies", "--chart", "--chart-html")
_NOT_WITH = {"--compare": ("--by", "--top", *_SERIES_ONLY), "--movers": _SERIES_ONLY}


def _refuse_options_that_do_not_apply(
    *, compare: bool, movers: bool, given: dict[str, bool], as_json: bool
) -> None:
    if compare and movers:
        fail("--compare and --movers are two questions: ask one at a time", as_json=as_json)
    mode = "--compare" if compare else "--movers" if movers else None
    if mode is not None:
        ignored = [option for option in _NOT_WITH[mode] if given[option]]
        if ignored:
            fail(f"{', '.join(ignored)} cannot be used with {mode}", as_json=as_json)
    elif given["--top"] and not given["--by"]:
        fail("--top needs --by (the groups to show) or --movers (the movers to list)", as_json=as_json)


def _check_top(top: int | None, *, as_json: bool) -> None:
    """``--top`` is 1 to MAX_TOP for movers as for a breakdown's groups. The bound is the
    command's: the Python API may list every mover."""
    from deskops.analytics.metrics import MAX_TOP

    if top is not None and not 1 <= top <= MAX_TOP:
        fail(f"--top must be between 1 and {MAX_TOP}, not {top}", as_json=as_json)


def _granularity(value: str) -> Granularity:
    if value not in GRANULARITIES:
        raise InvalidInput(f"unknown granularity {value!r}: use one of {', '.join(GRANULARITIES)}")
    return cast(Granularity, value)


def _chart_kind(value: str) -> ChartKind:
    if value not in CHART_KINDS:
        raise InvalidInput(f"unknown chart kind {value!r}: use one of {', '.join(CHART_KINDS)}")
    return cast(ChartKind, value)


def _render_metrics(d: dict[str, Any]) -> None:
    from rich.table import Table

    for notice in d.get("notices", []):
        err.print(f"[yellow]note:[/yellow] {notice}", highlight=False)
    metric = d["metric"]
    shown = _formatter(metric["unit"])
    if "movers" in d:
        before, after = d["previous"], d["current"]
        out.print(
            f"{metric['label']}: {shown(before['value'])} -> {shown(after['value'])} "
            f"({before['from']}..{before['to']} vs {after['from']}..{after['to']})"
        )
        table = Table(title="Top movers", title_justify="left")
        for column in ("attribute", "segment", "contribution", "share of change", "before", "after"):
            table.add_column(column, justify="left" if column in ("attribute", "segment") else "right")
        for row in d["movers"]:
            share = row["share_of_change"]
            table.add_row(
                row["attribute"],
                row["segment"],
                f"{row['contribution']:+.4f}",
                "-" if share is None else f"{share:.0%}",
                shown(row["previous"]["value"]),
                shown(row["current"]["value"]),
            )
        out.print(table)
        return
    if "verdict" in d:
        test = d["test"]
        out.print(
            f"{metric['label']}: {shown(d['previous']['value'])} (n={d['previous']['denominator']:,}) -> "
            f"{shown(d['current']['value'])} (n={d['current']['denominator']:,}): [bold]{d['verdict']}[/bold]"
        )
        detail = test.get("reason") or f"{test['name']}, p = {test['p_value']}"
        out.print(f"  {detail}", highlight=False)
        return
    table = Table(
        title=f"{metric['label']} ({metric['unit']}), {d['period']['from']} to {d['period']['to']}, "
        f"by {d['granularity']}",
        title_justify="left",
    )
    for column in ("group", "period start", "value", "n"):
        table.add_column(column, justify="left" if column in ("group", "period start") else "right")
    for group in d["groups"]:
        for point in group["points"]:
            table.add_row(
                group["group"],
                point["start"][:16],
                shown(point["value"]),
                f"{point['denominator']:,}" + (" (thin)" if point["thin"] else ""),
            )
    out.print(table)
    total = d["total"]
    out.print(f"total: {shown(total['value'])} (n={total['denominator']:,})")
    for anomaly in d.get("anomalies", []):
        out.print(
            f"anomaly: {anomaly['group']} {anomaly['start'][:16]} {anomaly['direction']} "
            f"(observed {shown(anomaly['observed'])}, expected {shown(anomaly['expected'])})",
            highlight=False,
        )


def _formatter(unit: str) -> Callable[[float | None], str]:
    def shown(value: float | None) -> str:
        if value is None:
            return "-"
        return f"{value:.1%}" if unit == "%" else f"{value:,.2f}"

    return shown


def _with_anomalies_and_chart(
    series: MetricSeries, *, anomalies: bool, chart: str | None, chart_html: Path | None
) -> dict[str, Any]:
    """The series document, plus ``anomalies`` (events) and ``chart`` (a plotly figure) when asked."""
    from deskops.analytics.anomalies import series_anomalies
    from deskops.analytics.charts import series_figure

    document = series.to_json()
    found = series_anomalies(series).events if anomalies else None
    if found is not None:
        document["anomalies"] = [event.to_json() for event in found]
    if chart is None:
        return document
    figure = series_figure(series, kind=_chart_kind(chart), anomalies=found)
    document["chart"] = figure.to_json()
    if chart_html is not None:
        import plotly.io

        try:
            chart_html.parent.mkdir(parents=True, exist_ok=True)
            chart_html.write_text(plotly.io.to_html(figure.to_json(), include_plotlyjs=True, full_html=True))
        except OSError as exc:
            raise InvalidInput(f"cannot write --chart-html {chart_html}: {exc.strerror}") from None
    return document


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
        start, end = _parse_period(from_, to)
        report = attribute_report(uow.workspace(workspace), columns=services.columns, start=start, end=end)
    _emit(report, as_json=as_json, render=_render_attributes)


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
        start, end = _parse_period(from_, to)
        figures = article_figures(uow.workspace(workspace), start=start, end=end)
    _emit(figures, as_json=as_json, render=_render_articles)


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
    replace: Annotated[
        bool, typer.Option("--replace", help="Change the definition of an existing cohort.")
    ] = False,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Save a cohort defined by customer attributes and behaviour (--replace to change one)."""
    from deskops.analytics.cohorts import define

    filters = _parse_filters(filter_, as_json=as_json)
    with _services(db, as_json=as_json) as services, services.uow() as uow:
        cohort, notices = define(
            uow.workspace(workspace),
            services.columns,
            name=name,
            filters=filters,
            min_conversations=min_conversations,
            within_days=within_days,
            replace=replace,
        )
        uow.commit()
    for notice in notices:
        err.print(f"[yellow]note:[/yellow] {notice}", highlight=False, soft_wrap=True)
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
