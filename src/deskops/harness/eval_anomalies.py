"""`deskops eval anomalies`: the detector beside a rolling z-score, on NAB and on simulated incidents."""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from deskops.analytics import anomalies
from deskops.harness.datasets import DatasetMissing, shared_data_dir

Detector = Callable[..., list[anomalies.Anomaly]]
HEARTBEAT = ("conversation_volume", "ai_resolution_rate", "escalation_rate", "csat_average")


def detectors(threshold: float = anomalies.THRESHOLD) -> dict[str, Detector]:
    return {
        "seasonal_robust": lambda t, v, **kind: anomalies.detect(t, v, threshold=threshold, **kind)[0],
        "rolling_zscore": lambda t, v, **kind: anomalies.rolling_zscore(v),
    }


# --------------------------------------------------------------------------------------------- NAB


def load_nab(root: Path | None = None) -> list[tuple[str, np.ndarray, np.ndarray, list[tuple[float, float]]]]:
    """(name, epoch seconds, values, anomaly windows) for every NAB series."""
    folder = (root or shared_data_dir()) / "nab"
    labels_path = folder / "labels" / "combined_windows.json"
    if not labels_path.exists():
        raise DatasetMissing(folder, "labels/combined_windows.json and data/<category>/*.csv")
    labels = json.loads(labels_path.read_text())
    series = []
    for name in sorted(labels):
        times, values = [], []
        with open(folder / "data" / name, newline="") as handle:
            for row in csv.DictReader(handle):
                times.append(_epoch(row["timestamp"]))
                values.append(float(row["value"]))
        windows = [(_epoch(a), _epoch(b)) for a, b in labels[name]]
        series.append((name, np.array(times), np.array(values), windows))
    return series


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.strip()).replace(tzinfo=UTC).timestamp()


def evaluate_nab(detector: Detector, data: list[Any]) -> dict[str, Any]:
    """Window-based scoring: a window is found when an event overlaps it; other events are false alarms."""
    windows_total = windows_found = events_total = events_true = 0
    quiet_alarms = quiet_points = 0
    for _, times, values, windows in data:
        events = detector(times, values)
        spans = [(times[e.start], times[e.end]) for e in events]
        hits = [any(s <= b and e >= a for a, b in windows) for s, e in spans]
        events_total += len(events)
        events_true += sum(hits)
        windows_total += len(windows)
        windows_found += sum(any(s <= b and e >= a for s, e in spans) for a, b in windows)
        if not windows:
            quiet_alarms += len(events)
            quiet_points += len(values)
    precision = events_true / events_total if events_total else 0.0
    recall = windows_found / windows_total if windows_total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "series": len(data),
        "windows": windows_total,
        "windows_found": windows_found,
        "alarms": events_total,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "false_alarms_on_series_without_anomalies": quiet_alarms,
        "false_alarms_per_1000_points_there": round(1000 * quiet_alarms / quiet_points, 3)
        if quiet_points
        else None,
    }


# --------------------------------------------------------------------------------------- simulator


def evaluate_simulated(
    detector_names: tuple[str, ...] = ("seasonal_robust", "rolling_zscore"),
    *,
    seed: int = 7,
    conversations: int = 150_000,
    days: int = 150,
    threshold: float = anomalies.THRESHOLD,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Daily heartbeat series of a simulated workspace: incidents found, how soon, false alarms."""
    from deskops.analytics import metrics as engine
    from deskops.analytics.catalog import metric as lookup
    from deskops.bootstrap import build
    from deskops.simulate.truth import load_truth
    from deskops.simulate.workspace import SimulationConfig, simulate_workspace

    methods = detectors(threshold)
    with tempfile.TemporaryDirectory(prefix="deskops-anomalies-") as folder:
        services = build(database_url=f"sqlite:///{Path(folder) / 'a.db'}", data_dir=Path(folder))
        config = SimulationConfig(seed=seed, conversations=conversations, days=days)
        with services.uow() as uow:
            simulate_workspace(uow=uow, config=config, truth_path=Path(folder) / "truth.json")
        truth = load_truth(Path(folder) / "truth.json")
        tz = ZoneInfo(config.time_zone)
        first, last = config.end - timedelta(days=days), config.end - timedelta(days=1)
        report: dict[str, Any] = {
            "workspace": {"seed": seed, "conversations": conversations, "days": days},
            "methods": {},
        }
        with services.uow() as uow:
            scope = uow.workspace("demo")
            cache: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray, list[date]]] = {}

            def daily(
                metric: str, filters: dict[str, str]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[date]]:
                key = (metric, json.dumps(filters, sort_keys=True))
                if key not in cache:
                    result = engine.series(
                        scope,
                        columns=services.columns,
                        metric=lookup(metric),
                        start=first,
                        end=last,
                        filters=filters,
                        today=config.end,
                    )
                    points = result.groups[0].points
                    days_ = [datetime.fromisoformat(p.start).date() for p in points]
                    times = np.array(
                        [datetime.combine(d, datetime.min.time(), tz).timestamp() for d in days_]
                    )
                    values = np.array([np.nan if p.value is None else p.value for p in points], dtype=float)
                    counts = np.array([p.denominator for p in points], dtype=float)
                    cache[key] = (
                        times,
                        np.nan_to_num(values, nan=float(np.nanmedian(values))),
                        counts,
                        days_,
                    )
                return cache[key]

            for name in detector_names:
                detector = methods[name]
                found: list[dict[str, Any]] = []
                for incident in truth.incidents:
                    times, values, counts, days_ = daily(incident.metric, incident.filters())
                    onset, until = incident.first_day, incident.last_day + timedelta(days=2)
                    hits = [
                        e
                        for e in detector(times, values)
                        if e.direction == incident.direction and onset <= days_[e.start] <= until
                    ]
                    found.append(
                        {
                            "incident": incident.id,
                            "metric": incident.metric,
                            "segment": incident.filters(),
                            "found": bool(hits),
                            "days_after_onset": (days_[hits[0].start] - onset).days if hits else None,
                        }
                    )
                quiet = [
                    (q.start.astimezone(tz).date(), q.end.astimezone(tz).date()) for q in truth.quiet_periods
                ]
                alarms, quiet_days = 0, sum((b - a).days for a, b in quiet)
                for metric in HEARTBEAT:
                    times, values, counts, days_ = daily(metric, {})
                    for event in detector(times, values, **_kind(metric, counts)):
                        alarms += any(a <= days_[event.start] < b for a, b in quiet)
                report["methods"][name] = {
                    "incidents_found": sum(f["found"] for f in found),
                    "incidents": len(found),
                    "detail": found,
                    "false_alarms_in_quiet_periods": alarms,
                    "quiet_days_times_series": quiet_days * len(HEARTBEAT),
                }
                log(
                    f"simulated/{name}: {report['methods'][name]['incidents_found']}/{len(found)} found, "
                    f"{alarms} false alarms in quiet periods"
                )
        services.close()
    return report


def _kind(metric: str, counts: np.ndarray) -> dict[str, Any]:
    """How the detector should model a heartbeat metric's noise."""
    from deskops.analytics.catalog import metric as lookup

    kind = lookup(metric).kind
    if kind == "rate":
        return {"denominators": counts}
    return {"counts": kind == "count"}


def run(
    *,
    nab: bool = True,
    simulated: bool = True,
    threshold: float = anomalies.THRESHOLD,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    document: dict[str, Any] = {"evaluation": "anomalies", "threshold": threshold}
    if nab:
        data = load_nab()
        document["nab"] = {}
        for name, detector in detectors(threshold).items():
            document["nab"][name] = evaluate_nab(detector, data)
            log(f"nab/{name}: {document['nab'][name]}")
    if simulated:
        document["simulated"] = evaluate_simulated(threshold=threshold, log=log)
    return document
