"""Metric results as plotly figures."""

from __future__ import annotations

from typing import Any

import pytest

from deskops.analytics.charts import series_figure


def result() -> dict[str, Any]:
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
    return {
        "metric": {
            "name": "ai_resolution_rate",
            "label": "AI resolution rate",
            "unit": "%",
            "kind": "rate",
            "good": "up",
            "description": "",
        },
        "period": {"from": "2026-09-01", "to": "2026-09-03"},
        "granularity": "day",
        "time_zone": "America/New_York",
        "by": "plan",
        "groups": [{"group": "Pro", "points": points}, {"group": "Free", "points": points}],
    }


def test_line_chart_has_units_groups_denominators_and_annotations() -> None:
    figure = series_figure(
        result(),
        kind="line",
        anomalies=[{"start": "2026-09-02T00:00:00-04:00", "observed": 25.0, "direction": "down"}],
        change_points=[{"at": "2026-09-02T00:00:00-04:00", "label": "rule edited"}],
    )
    layout = figure["layout"]
    assert layout["title"]["text"] == "AI resolution rate by plan, 2026-09-01 to 2026-09-03"
    assert layout["yaxis"]["title"]["text"] == "AI resolution rate (%)"
    assert layout["xaxis"]["title"]["text"] == "day (America/New_York)"
    assert [t["name"] for t in figure["data"]] == ["Pro", "Free"]
    assert list(figure["data"][0]["y"]) == [50.0, 25.0, None]
    assert list(figure["data"][0]["text"]) == ["n = 100", "n = 12 (thin sample)", "n = 0 (thin sample)"]
    texts = [a["text"] for a in layout["annotations"]]
    assert "anomaly (down)" in texts and "rule edited" in texts
    assert layout["shapes"][0]["line"]["dash"] == "dash"


def test_bar_and_table_and_bad_kind() -> None:
    assert figure_type(series_figure(result(), kind="bar")) == "bar"
    table = series_figure(result(), kind="table")
    assert figure_type(table) == "table"
    cells = table["data"][0]["cells"]["values"]
    assert list(cells[0]) == ["Pro"] * 3 + ["Free"] * 3 and list(cells[2])[:2] == [50.0, 25.0]
    with pytest.raises(ValueError, match="unknown chart kind 'pie'"):
        series_figure(result(), kind="pie")


def figure_type(figure: dict[str, Any]) -> str:
    return str(figure["data"][0]["type"])
