"""Metric series as plotly figures."""

from __future__ import annotations

import pytest

from deskops.analytics.charts import ChangePoint, series_figure
from deskops.domain.analytics import AnomalyEvent, ChartSpec, MetricInfo, MetricSeries
from deskops.errors import InvalidInput


def series() -> MetricSeries:
    points = [
        {
            "start": f"2026-09-0{d}T00:00:00-04:00",
            "value": v,
            "numerator": None,
            "denominator": n,
            "thin": n < 30,
        }
        for d, v, n in ((1, 0.5, 100), (2, 0.25, 12), (3, None, 0))
    ]
    total = {"value": 0.4, "numerator": 40.0, "denominator": 112, "thin": False}
    return MetricSeries(
        metric=MetricInfo(
            name="ai_resolution_rate",
            label="AI resolution rate",
            unit="%",
            kind="rate",
            good="up",
            description="",
            breakdowns=["plan"],
        ),
        workspace="demo",
        time_zone="America/New_York",
        period={"from": "2026-09-01", "to": "2026-09-03"},
        granularity="day",
        by="plan",
        filters={},
        total=total,
        groups=[
            {"group": "Pro", "total": total, "points": points},
            {"group": "Free", "total": total, "points": points},
        ],
        notices=[],
    )


def test_line_chart_has_units_groups_denominators_and_annotations() -> None:
    anomaly = AnomalyEvent(
        group="Pro",
        start="2026-09-02T00:00:00-04:00",
        end="2026-09-02T00:00:00-04:00",
        direction="down",
        observed=25.0,
        expected=50.0,
        size=-25.0,
        relative=-0.5,
        score=-5.1,
        confidence=0.99,
    )
    figure = series_figure(
        series(),
        kind="line",
        anomalies=[anomaly],
        change_points=[ChangePoint(at="2026-09-02T00:00:00-04:00", label="rule edited")],
    )
    assert isinstance(figure, ChartSpec)
    layout = figure.layout
    assert layout["title"]["text"] == "AI resolution rate by plan, 2026-09-01 to 2026-09-03"
    assert layout["yaxis"]["title"]["text"] == "AI resolution rate (%)"
    assert layout["xaxis"]["title"]["text"] == "day (America/New_York)"
    assert [t["name"] for t in figure.data] == ["Pro", "Free"]
    assert list(figure.data[0]["y"]) == [50.0, 25.0, None]
    assert list(figure.data[0]["text"]) == ["n = 100", "n = 12 (thin sample)", "n = 0 (thin sample)"]
    texts = [a["text"] for a in layout["annotations"]]
    assert "anomaly (down)" in texts and "rule edited" in texts
    assert layout["shapes"][0]["line"]["dash"] == "dash"


def test_bar_and_table_and_bad_kind() -> None:
    assert series_figure(series(), kind="bar").data[0]["type"] == "bar"
    table = series_figure(series(), kind="table")
    assert table.data[0]["type"] == "table"
    cells = table.data[0]["cells"]["values"]
    assert list(cells[0]) == ["Pro"] * 3 + ["Free"] * 3 and list(cells[2])[:2] == [50.0, 25.0]
    with pytest.raises(InvalidInput, match="unknown chart kind 'pie'"):
        series_figure(series(), kind="pie")  # type: ignore[arg-type]
