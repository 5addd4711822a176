"""Any metric result as a plotly figure: line, bar or table, with units and annotations.

Figures are returned as plotly's JSON-ready dict, which the web UI renders with
plotly.js and the CLI writes to a file; nothing here draws on screen.
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from deskops.domain.analytics import AnomalyEvent, ChartSpec, MetricSeries
from deskops.domain.types import CHART_KINDS, ChartKind
from deskops.errors import InvalidInput


@dataclass(frozen=True)
class ChangePoint:
    """A moment to mark on a chart (a release, a content change)."""

    at: str
    """ISO 8601 time."""
    label: str


def series_figure(
    series: MetricSeries,
    *,
    kind: ChartKind = "line",
    anomalies: list[AnomalyEvent] | None = None,
    change_points: list[ChangePoint] | None = None,
) -> ChartSpec:
    """A figure of a metric series, one trace per group.

    ``anomalies`` are marked on the line, and ``change_points`` drawn as labelled vertical lines.
    """
    if kind not in CHART_KINDS:
        raise InvalidInput(f"unknown chart kind {kind!r}: use one of {', '.join(CHART_KINDS)}")
    metric = series.metric
    percent = metric.unit == "%"
    period = series.period
    title = (
        f"{metric.label}" + (f" by {series.by}" if series.by else "") + f", {period.start} to {period.end}"
    )
    if kind == "table":
        return _table(series, title, percent)
    figure = go.Figure()
    for group in series.groups:
        points = group.points
        x = [p.start for p in points]
        y = [None if p.value is None else p.value * (100 if percent else 1) for p in points]
        hover = [f"n = {p.denominator:,}" + (" (thin sample)" if p.thin else "") for p in points]
        trace = (
            go.Scatter(x=x, y=y, mode="lines+markers", name=group.group, text=hover)
            if kind == "line"
            else go.Bar(x=x, y=y, name=group.group, text=hover)
        )
        figure.add_trace(trace)
    for anomaly in anomalies or []:
        figure.add_annotation(
            x=anomaly.start,
            y=anomaly.observed,
            text=f"anomaly ({anomaly.direction})",
            showarrow=True,
            arrowhead=2,
            arrowcolor="#d62728",
            font={"color": "#d62728"},
        )
    for point in change_points or []:
        figure.add_vline(x=point.at, line_dash="dash", line_color="#7f7f7f")
        figure.add_annotation(
            x=point.at, y=1, yref="paper", text=point.label, showarrow=False, yanchor="bottom"
        )
    figure.update_layout(
        title=title,
        xaxis_title=f"{series.granularity} ({series.time_zone})",
        yaxis_title=f"{metric.label} ({'%' if percent else metric.unit})",
        barmode="group",
        legend_title=series.by or "",
    )
    return ChartSpec.model_validate(figure.to_plotly_json())


def _table(series: MetricSeries, title: str, percent: bool) -> ChartSpec:
    rows = [(g.group, p.start, p.value, p.denominator) for g in series.groups for p in g.points]
    value = [None if v is None else round(v * (100 if percent else 1), 2) for _, _, v, _ in rows]
    figure = go.Figure(
        go.Table(
            header={
                "values": [
                    "group",
                    "period start",
                    series.metric.label + (" (%)" if percent else ""),
                    "n",
                ]
            },
            cells={"values": [[r[0] for r in rows], [r[1] for r in rows], value, [r[3] for r in rows]]},
        )
    )
    figure.update_layout(title=title)
    return ChartSpec.model_validate(figure.to_plotly_json())
