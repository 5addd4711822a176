"""Any metric result as a plotly figure: line, bar or table, with units and annotations.

Figures are returned as plotly's JSON-ready dict, which the web UI renders with
plotly.js and the CLI writes to a file; nothing here draws on screen.
"""

from __future__ import annotations

from typing import Any, Literal

import plotly.graph_objects as go

ChartKind = Literal["line", "bar", "table"]
KINDS: tuple[str, ...] = ("line", "bar", "table")


def series_figure(
    result: dict[str, Any],
    *,
    kind: str = "line",
    anomalies: list[dict[str, Any]] | None = None,
    change_points: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A figure of ``analytics.metrics.series`` output, one trace per group.

    ``anomalies`` are marked on the line ({"group", "start", "direction", "size"}), and
    ``change_points`` drawn as labelled vertical lines ({"at", "label"}).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown chart kind {kind!r}: use one of {', '.join(KINDS)}")
    metric = result["metric"]
    percent = metric["unit"] == "%"
    title = (
        f"{metric['label']}"
        + (f" by {result['by']}" if result.get("by") else "")
        + f", {result['period']['from']} to {result['period']['to']}"
    )
    if kind == "table":
        return _table(result, title, percent)
    figure = go.Figure()
    for group in result["groups"]:
        points = group["points"]
        x = [p["start"] for p in points]
        y = [None if p["value"] is None else p["value"] * (100 if percent else 1) for p in points]
        hover = [f"n = {p['denominator']:,}" + (" (thin sample)" if p["thin"] else "") for p in points]
        trace = (
            go.Scatter(x=x, y=y, mode="lines+markers", name=group["group"], text=hover)
            if kind == "line"
            else go.Bar(x=x, y=y, name=group["group"], text=hover)
        )
        figure.add_trace(trace)
    for anomaly in anomalies or []:
        figure.add_annotation(
            x=anomaly["start"],
            y=anomaly.get("observed"),
            text=f"anomaly ({anomaly['direction']})",
            showarrow=True,
            arrowhead=2,
            arrowcolor="#d62728",
            font={"color": "#d62728"},
        )
    for point in change_points or []:
        figure.add_vline(x=point["at"], line_dash="dash", line_color="#7f7f7f")
        figure.add_annotation(
            x=point["at"], y=1, yref="paper", text=point["label"], showarrow=False, yanchor="bottom"
        )
    figure.update_layout(
        title=title,
        xaxis_title=f"{result['granularity']} ({result['time_zone']})",
        yaxis_title=f"{metric['label']} ({'%' if percent else metric['unit']})",
        barmode="group",
        legend_title=result.get("by") or "",
    )
    return figure.to_plotly_json()


def _table(result: dict[str, Any], title: str, percent: bool) -> dict[str, Any]:
    rows = [
        (g["group"], p["start"], p["value"], p["denominator"]) for g in result["groups"] for p in g["points"]
    ]
    value = [None if v is None else round(v * (100 if percent else 1), 2) for _, _, v, _ in rows]
    figure = go.Figure(
        go.Table(
            header={
                "values": [
                    "group",
                    "period start",
                    result["metric"]["label"] + (" (%)" if percent else ""),
                    "n",
                ]
            },
            cells={"values": [[r[0] for r in rows], [r[1] for r in rows], value, [r[3] for r in rows]]},
        )
    )
    figure.update_layout(title=title)
    return figure.to_plotly_json()
