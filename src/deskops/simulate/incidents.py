"""Incidents the simulator injects: which, where and when, from the seed or from a file.

Which incidents happen, with which targets and when, is an ``IncidentChoices``: drawn
from the seed (``draw_incidents``) or read from a file (``load_incidents``,
``deskops simulate --incidents FILE``). ``place`` puts the choices in the simulated
period and refuses a window outside it or two incidents that would blur each other;
``inject`` turns them into what the generators take; ``truth_records`` describes them
for the truth file (``simulate.truth``).

The truth goes only to the file the caller names; the database holds nothing but
the incident's natural traces (conversations, an edited guidance rule, a stale
article), which is what an investigator would have in a real workspace.
"""

from __future__ import annotations

import difflib
import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from deskops.errors import InvalidInput, first_problem
from deskops.simulate.catalog import LAUNCHABLE, TOPICS
from deskops.simulate.content import ContentPlan, MisdirectedRule, StaleChange
from deskops.simulate.customers import PLANS, REGION_SHARE, REGIONS
from deskops.simulate.outcomes import SlowRegion
from deskops.simulate.truth import (
    ArticleCause,
    ChannelCause,
    GuidanceRuleCause,
    IncidentTruth,
    LaunchCause,
    RegionCause,
    Segment,
)
from deskops.simulate.volume import AREA_KEYS, AREA_SHARE, CHANNELS, Outage, Surge

DAY = timedelta(days=1)
TOPIC_KEYS = {t.key: t for t in TOPICS}
CHANGED_TOPICS = tuple(t.key for t in TOPICS if t.change is not None)
"""Topics with a product change (an old and a new fact): the ones an article can go stale on."""
CHANNEL_NAMES: tuple[str, ...] = tuple(CHANNELS.tolist())
REGION_NAMES: tuple[str, ...] = tuple(REGIONS.tolist())
INTENDED_PLAN = "Enterprise"
"""The plan the billing hand-over rule is meant for; the incident points it at another."""
MISDIRECTED_PLANS = tuple(p for p in PLANS.tolist() if p != INTENDED_PLAN)


@dataclass(frozen=True)
class IncidentPlan:
    """The simulated period in the workspace's time zone: where incidents can fall."""

    start: datetime
    """Local midnight starting the first day, in UTC."""
    end: datetime
    """Local midnight after the last day, in UTC."""
    time_zone: ZoneInfo

    @property
    def first_day(self) -> date:
        return self.local_day(self.start)

    @property
    def last_day(self) -> date:
        return self.local_day(self.end - timedelta(seconds=1))

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def on(self, day: date) -> datetime:
        """Local midnight starting ``day``, in UTC."""
        return datetime.combine(day, datetime.min.time(), self.time_zone).astimezone(UTC)

    def local_day(self, at: datetime) -> date:
        """The local day ``at`` falls on."""
        return at.astimezone(self.time_zone).date()

    def day_at(self, fraction: float) -> date:
        """The local day ``fraction`` of the way through the period."""
        return self.first_day + timedelta(days=round(self.days * fraction))

    def after(self, day: date, days: float) -> datetime:
        """``days`` (may be fractional) after local midnight starting ``day``; whole days in local time."""
        whole = math.floor(days)
        return self.on(day + timedelta(days=whole)) + (days - whole) * DAY

    def usual_days(self, kind: str) -> float:
        """A kind's usual length, shrunk for periods under 90 days but never under a day."""
        return max(1.0, USUAL_DAYS[kind] * min(1.0, self.days / 90))


# ------------------------------------------------------------------------------- the choices


def _one_of(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value in allowed:
        return value
    close = difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}?" if close else f"use one of {', '.join(allowed)}"
    raise ValueError(f"{value!r} is not {what}; {hint}")


class _Choice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: float | date
    """When it begins: a local date in the period (2026-07-01) or a fraction of the period (0.5: half-way)."""

    @field_validator("start", mode="before")
    @classmethod
    def _fraction_or_date(cls, value: Any) -> float | date:
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1:
            return float(value)
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError(
            f"must be a date like 2026-07-01 or a fraction of the period (0 to under 1), not {value!r}"
        )


class _Bounded(_Choice):
    days: Annotated[float, Field(gt=0, le=3650)] | None = None
    """How long it lasts; by default the kind's usual length, shrunk for periods under 90 days."""


class StaleArticle(_Choice):
    """A product change the topic's article is never updated for: escalations up on the topic, to the end."""

    kind: Literal["stale_article"] = "stale_article"
    topic: str
    """A catalog topic with a product change (its old and new fact)."""

    @field_validator("topic")
    @classmethod
    def _has_a_change(cls, value: str) -> str:
        if value in TOPIC_KEYS and value not in CHANGED_TOPICS:
            raise ValueError(
                f"{value!r} has no product change to go stale on; use one of {', '.join(CHANGED_TOPICS)}"
            )
        return _one_of(value, CHANGED_TOPICS, "a catalog topic with a product change")


class LaunchSurge(_Bounded):
    """A feature launch: conversations in its product area up to 3x, mostly about the feature."""

    kind: Literal["launch_surge"] = "launch_surge"
    topic: str
    """The launched feature's catalog topic; the surge is in its product area."""

    @field_validator("topic")
    @classmethod
    def _known(cls, value: str) -> str:
        return _one_of(value, tuple(TOPIC_KEYS), "a catalog topic")

    @property
    def area(self) -> str:
        return TOPIC_KEYS[self.topic].area


class ChannelOutage(_Bounded):
    """A channel stops delivering conversations (95% of them are lost)."""

    kind: Literal["channel_outage"] = "channel_outage"
    channel: str

    @field_validator("channel")
    @classmethod
    def _known(cls, value: str) -> str:
        return _one_of(value, CHANNEL_NAMES, "a channel")


class GuidanceMisconfiguration(_Bounded):
    """The Enterprise billing hand-over rule edited to target another plan: its billing escalations up."""

    kind: Literal["guidance_misconfiguration"] = "guidance_misconfiguration"
    plan: str
    """The plan the rule is pointed at by mistake."""

    @field_validator("plan")
    @classmethod
    def _another_plan(cls, value: str) -> str:
        if value == INTENDED_PLAN:
            raise ValueError(f"{INTENDED_PLAN} is the plan the rule is meant for; pick another plan")
        return _one_of(value, MISDIRECTED_PLANS, "a plan")


class CsatDrop(_Bounded):
    """Human first replies in a region 5x slower (a staffing gap): CSAT down there."""

    kind: Literal["csat_drop"] = "csat_drop"
    region: str

    @field_validator("region")
    @classmethod
    def _known(cls, value: str) -> str:
        return _one_of(value, REGION_NAMES, "a region")


IncidentChoice = Annotated[
    StaleArticle | LaunchSurge | ChannelOutage | GuidanceMisconfiguration | CsatDrop,
    Field(discriminator="kind"),
]
KINDS: dict[str, type[_Choice]] = {
    "stale_article": StaleArticle,
    "launch_surge": LaunchSurge,
    "channel_outage": ChannelOutage,
    "guidance_misconfiguration": GuidanceMisconfiguration,
    "csat_drop": CsatDrop,
}
USUAL_DAYS = {
    "launch_surge": 10.0,
    "channel_outage": 1.5,
    "guidance_misconfiguration": 9.0,
    "csat_drop": 14.0,
}
"""How long each bounded kind lasts in a period of 90 days or more (the stale article lasts to the end)."""


class IncidentChoices(BaseModel):
    """Which incidents a simulated workspace gets: at most one of each kind (none: a quiet workspace)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    incidents: tuple[IncidentChoice, ...] = ()

    @model_validator(mode="after")
    def _one_of_each_kind(self) -> IncidentChoices:
        seen: set[str] = set()
        for number, choice in enumerate(self.incidents, 1):
            if choice.kind in seen:
                raise ValueError(f"entry {number} is a second {choice.kind}; at most one of each kind")
            seen.add(choice.kind)
        return self

    def to_json(self) -> str:
        """The choices in the ``--incidents`` file format (a JSON list), e.g. to replay a seed's draw."""
        return (
            json.dumps([c.model_dump(mode="json", exclude_none=True) for c in self.incidents], indent=2)
            + "\n"
        )


def parse_incidents(document: Any, *, source: str = "incidents") -> IncidentChoices:
    """Validate a JSON list of incident specs; InvalidInput names the entry and the field."""
    if not isinstance(document, list):
        raise InvalidInput(
            f'{source} must be a JSON list of incidents, e.g. [{{"kind": "channel_outage", '
            f'"channel": "email", "start": "2026-07-01"}}]'
        )
    kinds = ", ".join(KINDS)
    for number, entry in enumerate(document, 1):
        if not isinstance(entry, dict):
            raise InvalidInput(f"{source}: entry {number} must be an object with a kind ({kinds})")
        kind = entry.get("kind")
        if kind not in KINDS:
            found = "is missing" if kind is None else f"is {kind!r}, an unknown kind"
            raise InvalidInput(f"{source}: entry {number}, field kind {found}; use one of {kinds}")
        try:
            KINDS[kind].model_validate(entry)
        except ValidationError as exc:
            raise InvalidInput(f"{source}: entry {number} ({kind}), field {first_problem(exc)}") from None
    try:
        return IncidentChoices.model_validate({"incidents": document})
    except ValidationError as exc:
        message = str(exc.errors(include_url=False)[0]["msg"]).removeprefix("Value error, ")
        raise InvalidInput(f"{source}: {message}") from None


def load_incidents(path: Path) -> IncidentChoices:
    """The incidents a JSON file lists (``deskops simulate --incidents FILE``)."""
    source = f"--incidents {path}"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read {source}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{source} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{source} is not JSON: {exc.msg} (line {exc.lineno})") from None
    return parse_incidents(document, source=source)


# ------------------------------------------------------------------------------- drawing

LEAD = 0.15
"""No incident in the first 15% of the period: every incident has weeks of normal data before it."""
GAP = 0.02
"""Clear days between two incidents, as a share of the period (dropped when a short period has no room)."""
QUIET_GAP = 7
"""Clear days a gap needs to hold a quiet period (three days, two days away from each incident)."""
STALE_START = (0.70, 0.82)
"""The stale article starts last: it lasts to the end, so anywhere earlier it would leave no quiet time."""


def draw_incidents(seed: int, plan: IncidentPlan) -> IncidentChoices:
    """The five incidents of the workspace ``seed`` makes over ``plan``'s period.

    They come from their own random stream, so drawing them shifts none of the draws that
    make the rest of the workspace. The targets are drawn from the catalog; the four
    bounded incidents come in a random order with random gaps, one never starting before
    the previous one is over; the stale article starts last.
    """
    r = random.Random(f"deskops-incidents:{seed}")
    # The stale topic and the slow region are drawn in proportion to their usual share of the
    # conversations, so an incident seldom lands where a small workspace has too little data.
    (stale,) = r.choices(CHANGED_TOPICS, weights=[_topic_share(key) for key in CHANGED_TOPICS])
    launch = r.choice(LAUNCHABLE)
    bounded: list[dict[str, Any]] = [
        {"kind": "launch_surge", "topic": launch},
        {"kind": "channel_outage", "channel": r.choice(CHANNEL_NAMES)},
        {"kind": "guidance_misconfiguration", "plan": r.choice(MISDIRECTED_PLANS)},
        {"kind": "csat_drop", "region": r.choices(REGION_NAMES, weights=REGION_SHARE)[0]},
    ]
    r.shuffle(bounded)
    days = plan.days
    lengths = [plan.usual_days(choice["kind"]) for choice in bounded]
    spans = [math.ceil(length) for length in lengths]  # whole days each one touches
    first = max(1, round(days * LEAD))
    stale_day = min(days - 1, round(days * r.uniform(*STALE_START)))
    gap = max(1, round(days * GAP))
    slack = stale_day - first - sum(spans) - len(spans) * gap
    if slack < 0:  # a short period: incidents follow each other without a clear day between
        gap, slack = 0, max(0, stale_day - first - sum(spans))
    # Spare days go to the five gaps (before each incident and before the stale article) at
    # random; one gap after the first incident gets enough for a quiet stretch when they allow it.
    quiet = min(slack, max(0, QUIET_GAP - gap))
    cuts = sorted(r.randint(0, slack - quiet) for _ in bounded)
    gaps = [b - a for a, b in zip([0, *cuts], [*cuts, slack - quiet], strict=True)]
    gaps[r.randrange(1, len(gaps))] += quiet
    day = first + gaps[0]
    for index, choice in enumerate(bounded):
        choice["start"] = plan.first_day + timedelta(days=day)
        choice["days"] = lengths[index]
        day += spans[index] + gap + gaps[index + 1]
    stale_choice = {"kind": "stale_article", "topic": stale, "start": plan.first_day + timedelta(days=day)}
    return IncidentChoices.model_validate({"incidents": [*bounded, stale_choice]})


def former_incidents(plan: IncidentPlan) -> IncidentChoices:
    """The five incidents every workspace had before the seed drew them, at the same places.

    For rebuilding a workspace an earlier measurement was made on (the CLI's JSON contracts,
    the reviewer eval's labelled proposals): with them the simulator writes what it wrote then.
    """
    return parse_incidents(
        [
            {"kind": "channel_outage", "channel": "whatsapp", "start": 0.2},
            {"kind": "launch_surge", "topic": "shopify_integration", "start": 0.35},
            {"kind": "guidance_misconfiguration", "plan": "Starter", "start": 0.5},
            # The CSAT drop lasted 10 days then (14 now), shrunk the same way for short periods.
            {"kind": "csat_drop", "region": "EU", "start": 0.65, "days": 10.0 * min(1.0, plan.days / 90)},
            {"kind": "stale_article", "topic": "payout_timing", "start": 0.8},
        ]
    )


def _topic_share(key: str) -> float:
    """A topic's expected share of the conversations: its area's share, split among the area's topics."""
    area = TOPIC_KEYS[key].area
    return float(AREA_SHARE[AREA_KEYS.index(area)]) / sum(t.area == area for t in TOPICS)


# ------------------------------------------------------------------------------- placing


@dataclass(frozen=True)
class Placed:
    """One chosen incident with its window in the period."""

    number: int
    """Its entry number in the choices (1-based), for error messages."""
    choice: StaleArticle | LaunchSurge | ChannelOutage | GuidanceMisconfiguration | CsatDrop
    start: datetime
    end: datetime

    def footprint(self) -> tuple[str, dict[str, str]]:
        """The metric it moves and the filters of the conversations it moves it in."""
        c = self.choice
        if isinstance(c, StaleArticle):
            return "escalation_rate", {"topic": c.topic, "product_area": TOPIC_KEYS[c.topic].area}
        if isinstance(c, LaunchSurge):
            return "conversation_volume", {"product_area": c.area}
        if isinstance(c, ChannelOutage):
            return "conversation_volume", {"channel": c.channel}
        if isinstance(c, GuidanceMisconfiguration):
            return "escalation_rate", {"plan": c.plan, "product_area": "billing"}
        return "csat_average", {"region": c.region}


def place(choices: IncidentChoices, plan: IncidentPlan) -> list[Placed]:
    """Each chosen incident's window; InvalidInput when one falls outside the period or two collide."""
    placed: list[Placed] = []
    period = f"the simulated period ({plan.first_day} to {plan.last_day})"
    for number, choice in enumerate(choices.incidents, 1):
        where = f"incidents: entry {number} ({choice.kind})"
        day = choice.start if isinstance(choice.start, date) else plan.day_at(choice.start)
        if not plan.first_day <= day <= plan.last_day:
            raise InvalidInput(f"{where}: it starts on {day}, outside {period}")
        start, end = plan.on(day), plan.end
        if isinstance(choice, _Bounded):
            end = plan.after(day, choice.days or plan.usual_days(choice.kind))
            if end > plan.end:
                raise InvalidInput(
                    f"{where}: it runs from {day} to {plan.local_day(end - timedelta(seconds=1))}, "
                    f"past the end of {period}; start it earlier or give it fewer days"
                )
        placed.append(Placed(number, choice, start, end))
    for i, one in enumerate(placed):
        for other in placed[i + 1 :]:
            _refuse_collision(one, other, plan)
    return placed


def _refuse_collision(one: Placed, other: Placed, plan: IncidentPlan) -> None:
    """Two incidents moving one metric in overlapping segments at overlapping times blur each other."""
    (metric, filters), (other_metric, other_filters) = one.footprint(), other.footprint()
    same_conversations = all(other_filters.get(key, value) == value for key, value in filters.items())
    if metric != other_metric or not same_conversations:
        return
    overlap_start, overlap_end = max(one.start, other.start), min(one.end, other.end)
    if overlap_start >= overlap_end:
        return
    raise InvalidInput(
        f"incidents: entry {one.number} ({one.choice.kind}) and entry {other.number} ({other.choice.kind}) "
        f"both move {metric} in overlapping segments from {plan.local_day(overlap_start)}; "
        "the truth could not say which one moved it, so move one of them"
    )


# ------------------------------------------------------------------------------- injecting


@dataclass(frozen=True)
class Injection:
    """The chosen incidents as the generators take them (None: does not happen)."""

    stale: StaleChange | None = None
    surge: Surge | None = None
    outage: Outage | None = None
    misdirected: MisdirectedRule | None = None
    slow: SlowRegion | None = None


def inject(placed: list[Placed]) -> Injection:
    """What the content, volume and outcome generators take for the placed incidents."""
    parts: dict[str, Any] = {}
    for p in placed:
        c = p.choice
        if isinstance(c, StaleArticle):
            parts["stale"] = StaleChange(TOPIC_KEYS[c.topic], p.start)
        elif isinstance(c, LaunchSurge):
            parts["surge"] = Surge(c.area, c.topic, p.start, p.end, peak=3.0)
        elif isinstance(c, ChannelOutage):
            parts["outage"] = Outage(c.channel, p.start, p.end)
        elif isinstance(c, GuidanceMisconfiguration):
            parts["misdirected"] = MisdirectedRule(c.plan, p.start, p.end)
        else:
            parts["slow"] = SlowRegion(c.region, p.start, p.end)
    return Injection(**parts)


def truth_records(injection: Injection, content: ContentPlan, plan: IncidentPlan) -> list[IncidentTruth]:
    """What each injected incident is, where it shows and what caused it, in order of onset."""
    found: list[IncidentTruth] = []

    def record(
        id_: str,
        kind: str,
        start: datetime,
        end: datetime,
        metric: str,
        direction: str,
        segment: Segment,
        cause: ArticleCause | GuidanceRuleCause | ChannelCause | RegionCause | LaunchCause,
        measured_on: dict[str, str] | None = None,
    ) -> None:
        found.append(
            IncidentTruth.model_validate(
                {
                    "id": id_,
                    "kind": kind,
                    "metric": metric,
                    "direction": direction,
                    "segment": segment,
                    "start": start,
                    "end": end,
                    "first_day": plan.local_day(start),
                    # The last whole local day: a part-day at the end would blur a daily figure.
                    "last_day": max(plan.local_day(start), plan.local_day(end) - timedelta(days=1)),
                    "measured_on": measured_on or {},
                    "root_cause": cause,
                }
            )
        )

    if (outage := injection.outage) is not None:
        record(
            f"outage-{outage.channel}",
            "channel_outage",
            outage.start,
            outage.end,
            "conversation_volume",
            "down",
            Segment(dimension="channel", value=outage.channel),
            ChannelCause(
                item=outage.channel,
                kept=outage.kept,
                summary=f"The {outage.channel} channel stopped delivering messages.",
            ),
        )
    if (surge := injection.surge) is not None:
        record(
            f"launch-{surge.topic}",
            "launch_surge",
            surge.start,
            surge.end,
            "conversation_volume",
            "up",
            Segment(dimension="product_area", value=surge.area),
            LaunchCause(
                item=surge.topic,
                product_area=surge.area,
                article=content.coverage[surge.topic].article_id,
                summary=f"The launch of {surge.topic.replace('_', ' ')} brought a wave of questions.",
            ),
        )
    if (rule := injection.misdirected) is not None:
        assert content.misconfigured_rule is not None
        record(
            f"guidance-{rule.plan.lower()}-billing",
            "guidance_misconfiguration",
            rule.start,
            rule.end,
            "escalation_rate",
            "up",
            Segment(dimension="plan", value=rule.plan, within={"product_area": "billing"}),
            GuidanceRuleCause(
                item=content.misconfigured_rule,
                bad_version=2,
                fixed_version=3 if rule.end < plan.end else None,
                intended_plan=INTENDED_PLAN,
                targeted_plan=rule.plan,
                summary=f"The {INTENDED_PLAN} billing hand-over rule was edited to target the "
                f"{rule.plan} plan by mistake.",
            ),
        )
    if (slow := injection.slow) is not None:
        record(
            f"csat-{slow.region.lower()}",
            "csat_drop",
            slow.start,
            slow.end,
            "csat_average",
            "down",
            Segment(dimension="region", value=slow.region),
            RegionCause(
                item=slow.region,
                slowdown=slow.factor,
                summary=f"Human first replies in {slow.region} were {slow.factor:g}x slower "
                "(a staffing gap).",
            ),
            # Only people were slow: the ratings of conversations a person resolved carry the drop.
            measured_on={"outcome": "human_resolved"},
        )
    if (stale := injection.stale) is not None:
        topic, cover = stale.topic, content.coverage[stale.topic.key]
        assert topic.change is not None and cover.article_id is not None
        old, new = topic.change
        record(
            f"stale-{topic.key}",
            "stale_article",
            stale.start,
            plan.end,
            "escalation_rate",
            "up",
            Segment(dimension="topic", value=topic.key),
            ArticleCause(
                item=cover.article_id,
                title=topic.title,
                topic=topic.key,
                old_fact=old,
                new_fact=new,
                summary=f'Article {cover.article_id} missed a product change: it still says "{old}" '
                f'but now "{new}"',
            ),
        )
    return sorted(found, key=lambda incident: (incident.start, incident.id))
