"""Incidents the simulator injects, and the ground-truth file that records them.

The truth goes only to the file the caller names; the database holds nothing but
the incident's natural traces (conversations, an edited guidance rule, a stale
article), which is what an investigator would have in a real workspace.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Incident:
    id: str
    kind: str
    """stale_article, launch_surge, guidance_misconfiguration, channel_outage or csat_drop."""
    start: datetime
    end: datetime
    segment: dict[str, str]
    """Where the effect shows, e.g. {"topic": "payout_timing"} or {"region": "EU"}."""
    metric: str
    """The heartbeat metric that moves."""
    direction: str
    """up or down."""
    root_cause: str
    evidence: dict[str, Any] = field(default_factory=dict)
    """Ids of workspace records an investigator should end up at."""

    def active(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class IncidentPlan:
    """When each incident happens, as fractions of the simulated period."""

    start: datetime
    end: datetime

    def at(self, fraction: float) -> datetime:
        """The day boundary closest to ``fraction`` of the way through the period."""
        days = (self.end - self.start).days
        return self.start + round(days * fraction) * DAY

    def length(self, days: float) -> timedelta:
        """An incident length, shrunk for short simulations but never under a day."""
        period_days = (self.end - self.start).days
        return max(DAY, timedelta(days=days * min(1.0, period_days / 90)))


def quiet_periods(start: datetime, end: datetime, incidents: list[Incident]) -> list[dict[str, str]]:
    """Stretches of at least three days with no incident within two days: controls for detectors."""
    margin, busy = 2 * DAY, sorted((i.start - 2 * DAY, i.end + 2 * DAY) for i in incidents)
    periods, cursor = [], start + margin
    for busy_start, busy_end in [*busy, (end - margin, end)]:
        busy_start = min(busy_start, end - margin)
        if busy_start - cursor >= 3 * DAY:
            periods.append({"start": cursor.isoformat(), "end": busy_start.isoformat()})
        cursor = max(cursor, busy_end)
    return periods


def stage_truth(path: Path, document: dict[str, Any]) -> Path:
    """Write the ground truth beside ``path``; ``Path.replace`` it into place once the data is committed.

    Staging first means an unwritable path fails before anything is stored, and a
    crash never leaves a truth file for a workspace that does not exist.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(path.name + ".partial")
    staged.write_text(json.dumps(document, indent=2, default=_json_default) + "\n")
    return staged


def incident_document(incident: Incident) -> dict[str, Any]:
    document = asdict(incident)
    document["start"], document["end"] = incident.start.isoformat(), incident.end.isoformat()
    return document


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")
