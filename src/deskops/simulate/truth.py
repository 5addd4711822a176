"""The ground-truth file of a simulated workspace, as typed models.

``deskops simulate --truth PATH`` writes a ``GroundTruth`` to PATH and nowhere else:
the database holds only the incidents' natural traces. Graders (the anomaly eval, the
time-travel eval) read it back with ``load_truth``. Each ``IncidentTruth`` names what an
investigator should find: the metric that moved, the segment it moved in, the window,
and the root-cause item (an article and its changed fact, a guidance rule, a channel, a
region, a launched topic).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from deskops.errors import InvalidInput, NotFound, first_problem

DAY = timedelta(days=1)
IncidentKind = Literal[
    "stale_article", "launch_surge", "channel_outage", "guidance_misconfiguration", "csat_drop"
]
Dimension = Literal["topic", "product_area", "channel", "plan", "region"]
"""Conversation and customer attributes a segment is defined on (``analytics.catalog.ATTRIBUTES``)."""


class _Truth(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Segment(_Truth):
    """Where an incident shows: one attribute's value, possibly within a wider filter."""

    dimension: Dimension
    """The attribute a breakdown should single out, e.g. ``region``."""
    value: str
    """Its value in the incident, e.g. ``EU``."""
    within: dict[str, str] = {}
    """Further attributes that are part of the segment, e.g. ``{"product_area": "billing"}`` for a
    billing rule: a claimed segment is right when it names all of them."""

    def filters(self) -> dict[str, str]:
        """The segment as metric filters (``deskops metrics`` / ``analytics.metrics.series``)."""
        return {**self.within, self.dimension: self.value}


class ArticleCause(_Truth):
    """A stale article: the product changed and the article still states the old fact."""

    item_kind: Literal["article"] = "article"
    item: str
    """The article's external id (e.g. ``kb-0012``): the item a fix must edit."""
    title: str
    topic: str
    """The catalog topic the article covers."""
    old_fact: str
    """What the article still says."""
    new_fact: str
    """What has been true since the window started."""
    summary: str


class GuidanceRuleCause(_Truth):
    """A guidance rule edited to hand over the wrong plan's conversations."""

    item_kind: Literal["guidance_rule"] = "guidance_rule"
    item: str
    """The rule's external id (e.g. ``gr-enterprise-billing``)."""
    bad_version: int
    """The rule version that targets the wrong plan."""
    fixed_version: int | None
    """The version that put it right at the end of the window (None: still wrong at the end)."""
    intended_plan: str
    targeted_plan: str
    summary: str


class ChannelCause(_Truth):
    """A channel that stopped delivering conversations."""

    item_kind: Literal["channel"] = "channel"
    item: str
    """The channel, e.g. ``whatsapp``."""
    kept: float
    """The share of the channel's conversations that still arrived."""
    summary: str


class RegionCause(_Truth):
    """People answering one region's customers were slower (a staffing gap)."""

    item_kind: Literal["region"] = "region"
    item: str
    """The region, e.g. ``EU``."""
    slowdown: float
    """How many times longer a customer waited for a person's first reply."""
    summary: str


class LaunchCause(_Truth):
    """A feature launch that brought a wave of questions about it."""

    item_kind: Literal["topic"] = "topic"
    item: str
    """The launched feature's catalog topic, e.g. ``shopify_integration``."""
    product_area: str
    article: str | None
    """The article covering the topic, if the help center has one."""
    summary: str


RootCause = Annotated[
    ArticleCause | GuidanceRuleCause | ChannelCause | RegionCause | LaunchCause,
    Field(discriminator="item_kind"),
]
CAUSE_OF_KIND: dict[str, str] = {
    "stale_article": "article",
    "guidance_misconfiguration": "guidance_rule",
    "channel_outage": "channel",
    "csat_drop": "region",
    "launch_surge": "topic",
}
"""Which root-cause item each incident kind names."""


class IncidentTruth(_Truth):
    """One injected incident: what moved, where, when, and why."""

    id: str
    """Stable within the file, e.g. ``outage-whatsapp``."""
    kind: IncidentKind
    metric: str
    """The catalog metric that moves (``deskops metrics --metric``)."""
    direction: Literal["up", "down"]
    segment: Segment
    start: datetime
    """When it began (UTC, inclusive)."""
    end: datetime
    """When it ended (UTC, exclusive); the end of the period for a stale article nobody fixed."""
    first_day: date
    """The first local day (the workspace's time zone) of the window; incidents start at local midnight."""
    last_day: date
    """The last whole local day of the window (inclusive): a 1.5-day outage from 2 June has
    ``last_day`` 2 June, since the half day after it would blur a daily figure."""
    measured_on: dict[str, str] = {}
    """Filters, beyond the segment, on the conversations where the move is undiluted, e.g.
    ``{"outcome": "human_resolved"}`` for a CSAT drop caused by slow people (AI-resolved ratings
    do not move). Not part of the segment: nobody is expected to name it."""
    root_cause: RootCause

    @model_validator(mode="after")
    def _cause_fits_the_kind(self) -> IncidentTruth:
        if self.root_cause.item_kind != CAUSE_OF_KIND[self.kind]:
            raise ValueError(
                f"a {self.kind} is caused by a {CAUSE_OF_KIND[self.kind]}, not {self.root_cause.item_kind}"
            )
        if self.end <= self.start:
            raise ValueError("an incident ends after it starts")
        return self

    def active(self, at: datetime) -> bool:
        return self.start <= at < self.end

    def filters(self) -> dict[str, str]:
        """Metric filters for the conversations the move shows in: the segment and ``measured_on``."""
        return {**self.measured_on, **self.segment.filters()}


class Period(_Truth):
    start: datetime
    end: datetime
    time_zone: str


class QuietPeriod(_Truth):
    """A stretch with no incident within two days: a control for false alarms."""

    start: datetime
    end: datetime


class LabelledQuery(_Truth):
    """A customer phrasing and the published articles that answer it (none: search should abstain)."""

    query: str
    topic: str
    relevant: list[str]
    typo: bool


class GroundTruth(_Truth):
    """Everything the simulator knows and the workspace's database does not say."""

    workspace: str
    seed: int
    period: Period
    incidents: list[IncidentTruth]
    """In order of onset."""
    quiet_periods: list[QuietPeriod]
    content_issues: dict[str, list[str]]
    """Known content problems by kind: missing, draft_only, thin, stale, contradicting_duplicates."""
    search_queries: list[LabelledQuery]
    frontline: dict[str, Any] | None = None
    """With ``--frontline``: the front-line agent's per-topic decision mix and success rates."""

    def incident(self, kind: str) -> IncidentTruth:
        """The incident of ``kind``; NotFound when the workspace has none."""
        found = next((i for i in self.incidents if i.kind == kind), None)
        if found is None:
            raise NotFound(f"no {kind} incident in the workspace {self.workspace!r}")
        return found

    def to_json(self) -> str:
        """The file's text: stable key order, two-space indent, no ``frontline`` key when absent."""
        exclude = {"frontline"} if self.frontline is None else None
        return self.model_dump_json(indent=2, exclude=exclude) + "\n"


def quiet_periods(start: datetime, end: datetime, incidents: list[IncidentTruth]) -> list[QuietPeriod]:
    """Stretches of at least three days with no incident within two days: controls for detectors."""
    margin, busy = 2 * DAY, sorted((i.start - 2 * DAY, i.end + 2 * DAY) for i in incidents)
    periods, cursor = [], start + margin
    for busy_start, busy_end in [*busy, (end - margin, end)]:
        busy_start = min(busy_start, end - margin)
        if busy_start - cursor >= 3 * DAY:
            periods.append(QuietPeriod(start=cursor, end=busy_start))
        cursor = max(cursor, busy_end)
    return periods


def stage_truth(path: Path, truth: GroundTruth) -> Path:
    """Write the ground truth beside ``path``; ``Path.replace`` it into place once the data is committed.

    Staging first means an unwritable path fails before anything is stored, and a
    crash never leaves a truth file for a workspace that does not exist.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(path.name + ".partial")
    staged.write_text(truth.to_json(), encoding="utf-8")
    return staged


def load_truth(path: Path) -> GroundTruth:
    """Read a truth file written by ``deskops simulate``; InvalidInput when it is not one."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read the ground truth {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidInput(f"{path} is not a JSON ground-truth file") from None
    try:
        return GroundTruth.model_validate(document)
    except ValidationError as exc:
        raise InvalidInput(
            f"{path} is not a ground-truth file of this version: {first_problem(exc)}"
        ) from None
