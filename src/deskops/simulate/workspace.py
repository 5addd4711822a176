"""Build a whole simulated workspace: plan, generate, write in one transaction, record the truth."""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from deskops.domain.models import validate_time_zone, validate_workspace_name
from deskops.errors import Conflict, InvalidInput
from deskops.simulate import catalog
from deskops.simulate.content import ContentPlan, build_content
from deskops.simulate.customers import make_customers
from deskops.simulate.events import event_rows
from deskops.simulate.incidents import (
    IncidentChoices,
    IncidentPlan,
    Placed,
    draw_incidents,
    former_incidents,
    inject,
    place,
    truth_records,
)
from deskops.simulate.outcomes import FrontlineRates, decide
from deskops.simulate.transcripts import CONVERSATION_COLUMNS, MESSAGE_COLUMNS, TranscriptWriter, add_typos
from deskops.simulate.truth import GroundTruth, LabelledQuery, Period, quiet_periods, stage_truth
from deskops.simulate.volume import arrivals
from deskops.store import tables
from deskops.store.bulk import BulkLoader
from deskops.store.uow import UnitOfWork

DEFAULT_END = date(2026, 11, 1)
CHUNK = 20_000
CUSTOMER_COLUMNS = (
    "id",
    "external_id",
    "name",
    "email",
    "plan",
    "region",
    "company_size",
    "signup_date",
    "attributes",
)


@dataclass(frozen=True)
class SimulationConfig:
    seed: int = 7
    conversations: int = 50_000
    days: int = 180
    end: date = DEFAULT_END
    """The simulated period ends at local midnight starting this day (exclusive)."""
    time_zone: str = "America/New_York"
    workspace: str = "demo"
    incidents: IncidentChoices | None = None
    """The incidents to inject (``--incidents FILE``); None draws five from the seed (``draw_incidents``)."""

    def __post_init__(self) -> None:
        if self.conversations < 1:
            raise InvalidInput("--conversations must be at least 1")
        if not 14 <= self.days <= 3650:
            raise InvalidInput("--days must be between 14 and 3650 (incidents need room)")
        validate_time_zone(self.time_zone)
        validate_workspace_name(self.workspace)
        self.placed()  # chosen incidents outside the period or colliding fail here, before any write

    def period(self) -> IncidentPlan:
        """The simulated period: local midnights in the workspace's time zone, as UTC."""
        tz = ZoneInfo(self.time_zone)
        end = datetime.combine(self.end, datetime.min.time(), tz).astimezone(UTC)
        start = datetime.combine(self.end - timedelta(days=self.days), datetime.min.time(), tz).astimezone(
            UTC
        )
        return IncidentPlan(start, end, tz)

    def choices(self) -> IncidentChoices:
        """The incidents this workspace gets: the chosen ones, else the seed's draw."""
        return self.incidents if self.incidents is not None else draw_incidents(self.seed, self.period())

    def with_former_incidents(self) -> SimulationConfig:
        """This configuration with the five fixed incidents of before the seed drew them
        (``former_incidents``): for rebuilding a workspace an earlier measurement was made on."""
        return replace(self, incidents=former_incidents(self.period()))

    def placed(self) -> list[Placed]:
        """The incidents with their windows; InvalidInput when one does not fit the period."""
        return place(self.choices(), self.period())


@dataclass
class SimulationReport:
    workspace: str
    conversations: int
    messages: int
    customers: int
    articles: int
    events: int
    start: str
    end: str
    seconds: float
    write_seconds: float
    """Of ``seconds``, the time spent in the database driver."""
    truth_path: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def simulate_workspace(
    *,
    uow: UnitOfWork,
    config: SimulationConfig,
    truth_path: Path,
    replace: bool = False,
    progress: Callable[[int], None] | None = None,
    frontline: Callable[[ContentPlan, datetime, datetime], FrontlineRates] | None = None,
) -> SimulationReport:
    """Generate and store the workspace, then write the ground truth to ``truth_path``.

    Everything is written in one transaction: if anything fails, the database is as it was.
    ``progress`` is called with the number of conversations written so far. With
    ``frontline`` (``frontline.simulation.rates``), AI outcomes come from running the
    front-line agent on the topics' opening messages against the help center as it stands.
    """
    began = time.perf_counter()
    period = config.period()
    injected = inject(config.placed())
    try:
        truth_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"cannot write the ground truth to {truth_path}: {exc.strerror}") from None
    if truth_path.is_dir() or not os.access(truth_path.parent, os.W_OK):
        raise InvalidInput(f"cannot write the ground truth to {truth_path}")
    tz, start, end = period.time_zone, period.start, period.end
    rng = np.random.default_rng(config.seed)
    py_rng = random.Random(config.seed)

    content = build_content(
        rng=py_rng, start=start, end=end, stale=injected.stale, misdirected=injected.misdirected
    )
    customers = make_customers(rng, count=max(20, config.conversations // 5), start=start, end=end)
    arrived = arrivals(
        rng,
        count=config.conversations,
        start=start,
        days=config.days,
        tz=tz,
        surge=injected.surge,
        outage=injected.outage,
    )
    rates = frontline(content, start, end) if frontline is not None else None
    outcomes = decide(
        rng,
        arrivals=arrived,
        customers=customers,
        content=content,
        misdirected=injected.misdirected,
        slow_region=injected.slow,
        end=end,
        frontline=rates,
    )

    directory = uow.workspaces
    if directory.find(config.workspace) is not None:
        if not replace:
            raise Conflict(f"workspace {config.workspace!r} already exists (pass --replace to rebuild it)")
        directory.delete(config.workspace)
    workspace = directory.create(config.workspace, time_zone=config.time_zone)
    scope = uow.workspace(workspace)
    for _, article in content.articles:
        scope.articles.save(article)
    for rule in content.rules:
        scope.guidance.save(rule)
    for procedure in content.procedures:
        scope.procedures.save(procedure)
    for at, settings in content.settings:
        scope.agent_settings.save(settings, at=at)

    loader = BulkLoader(uow.connection, workspace.id)
    customer_rows = [(*row[:-1], json.dumps(row[-1])) for row in customers.rows(rng)]
    loader.append(tables.customers, CUSTOMER_COLUMNS, customer_rows)
    writer = TranscriptWriter(
        seed=config.seed, arrivals=arrived, outcomes=outcomes, customers=customers, content=content
    )
    messages = 0
    for lo in range(0, config.conversations, CHUNK):
        hi = min(lo + CHUNK, config.conversations)
        conversation_rows, message_rows = writer.rows(lo, hi)
        loader.append(tables.conversations, CONVERSATION_COLUMNS, conversation_rows)
        loader.append(tables.messages, MESSAGE_COLUMNS, message_rows)
        messages += len(message_rows)
        if progress:
            progress(hi)
    events = event_rows(
        rng,
        customers=customers,
        start=start,
        end=end,
        count=config.conversations // 3,
        surge=injected.surge,
        payouts_changed=content.product_changes.get("payout_timing", start),
    )
    loader.append(tables.events, ("id", "name", "occurred_at", "customer_id", "properties"), events)
    scope.revisions.bump(rewrite=True)  # the bulk path bypasses the repositories that bump it

    incidents = truth_records(injected, content, period)
    truth = GroundTruth(
        workspace=config.workspace,
        seed=config.seed,
        period=Period(start=start, end=end, time_zone=config.time_zone),
        incidents=incidents,
        quiet_periods=quiet_periods(start, end, incidents),
        content_issues=content.issues,
        search_queries=search_queries(py_rng, content),
        frontline=dict(rates.summary) if rates is not None else None,
    )
    staged = stage_truth(truth_path, truth)
    try:
        uow.commit()
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    staged.replace(truth_path)
    return SimulationReport(
        workspace=config.workspace,
        conversations=config.conversations,
        messages=messages,
        customers=len(customers),
        articles=len({a.external_id for _, a in content.articles}),
        events=len(events),
        start=start.isoformat(),
        end=end.isoformat(),
        seconds=round(time.perf_counter() - began, 2),
        write_seconds=round(loader.seconds, 2),
        truth_path=str(truth_path),
    )


def search_queries(r: random.Random, content: ContentPlan) -> list[LabelledQuery]:
    """Customer phrasings labelled with the published articles that answer them (none: abstain)."""
    queries = []
    for topic in catalog.TOPICS:
        cover = content.coverage[topic.key]
        relevant = [cover.article_id] if cover.article_id else []
        relevant += sorted(
            {a.external_id for _, a in content.articles if a.title == f"FAQ: {topic.title.lower()}"}
        )
        for phrasing in topic.phrasings:
            queries.append(LabelledQuery(query=phrasing, topic=topic.key, relevant=relevant, typo=False))
            misspelt = add_typos(r, phrasing) if r.random() < 0.25 else phrasing
            if misspelt != phrasing:
                queries.append(LabelledQuery(query=misspelt, topic=topic.key, relevant=relevant, typo=True))
    return queries
