"""Incidents the simulator injects, and the ground-truth file that records them.

Which incidents happen, with which parameters and when, is an ``IncidentChoices``:
drawn from the seed (``draw_incidents``) or read from a file (``load_incidents``,
``deskops simulate --incidents FILE``). ``inject`` turns the choices into what the
generators take for one period; ``truth_records`` describes them for the truth file.

The truth goes only to the file the caller names; the database holds nothing but
the incident's natural traces (conversations, an edited guidance rule, a stale
article), which is what an investigator would have in a real workspace.
"""

from __future__ import annotations

import difflib
import json
import math
import random
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from deskops.errors import InvalidInput, first_problem
from deskops.simulate.catalog import LAUNCHABLE, TOPICS, Topic
from deskops.simulate.content import ContentPlan, MisdirectedRule, StaleChange
from deskops.simulate.outcomes import SlowRegion
from deskops.simulate.volume import Outage, Surge

DAY = timedelta(days=1)
TOPIC_KEYS = {t.key: t for t in TOPICS}
CHANGED_TOPICS = tuple(t.key for t in TOPICS if t.change is not None)
Channel = Literal["chat", "email", "whatsapp"]
"""The channels the AI agent serves (``outcomes.AI_CHANNELS``): the ones an outage can hit."""
MisdirectedPlan = Literal["Free", "Starter", "Growth"]
Region = Literal["NA", "EU", "UK", "APAC", "LATAM"]


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
    """The simulated period, and where incidents fall in it."""

    start: datetime
    end: datetime
    time_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))

    def at(self, fraction: float) -> datetime:
        """The day boundary closest to ``fraction`` of the way through the period."""
        days = (self.end - self.start).days
        return self.start + round(days * fraction) * DAY

    def on(self, day: date) -> datetime:
        """Local midnight starting ``day``, in UTC."""
        return datetime.combine(day, datetime.min.time(), self.time_zone).astimezone(UTC)

    def on_day(self, at: datetime) -> date:
        """The local day ``at`` falls on."""
        return at.astimezone(self.time_zone).date()

    def length(self, days: float) -> timedelta:
        """An incident length, shrunk for short simulations but never under a day."""
        period_days = (self.end - self.start).days
        return max(DAY, timedelta(days=days * min(1.0, period_days / 90)))


# ------------------------------------------------------------------------------- the choices


class _Choice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: float | date
    """When it begins: a fraction of the period (0.5 is half-way) or a local date in the period."""

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
            f"must be a fraction of the period (0 to under 1) or a date like 2026-07-01, not {value!r}"
        )


class _Bounded(_Choice):
    days: Annotated[float, Field(gt=0, le=3650)] | None = None
    """How long it lasts; by default the kind's usual length, shrunk for periods under 90 days."""


class StaleArticle(_Choice):
    """A product change the topic's article is never updated for: escalations up on the topic."""

    kind: Literal["stale_article"] = "stale_article"
    topic: str
    """A catalog topic with a product change (its old and new fact)."""

    @field_validator("topic")
    @classmethod
    def _has_a_change(cls, value: str) -> str:
        if value not in CHANGED_TOPICS:
            raise ValueError(
                f"{value!r} is not a topic with a product change; one of {', '.join(CHANGED_TOPICS)}"
            )
        return value

    @property
    def change(self) -> tuple[str, str]:
        """The old and the new fact."""
        change = TOPIC_KEYS[self.topic].change
        assert change is not None
        return change


class LaunchSurge(_Bounded):
    """A feature launch: conversations in its product area up to 3x, mostly about the feature."""

    kind: Literal["launch_surge"] = "launch_surge"
    topic: str
    """The launched feature's catalog topic; the surge is in its product area."""

    @field_validator("topic")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in TOPIC_KEYS:
            close = difflib.get_close_matches(value, list(TOPIC_KEYS), n=1)
            hint = f"; did you mean {close[0]}?" if close else f" (e.g. {', '.join(LAUNCHABLE[:3])})"
            raise ValueError(f"{value!r} is not a catalog topic{hint}")
        return value

    @property
    def area(self) -> str:
        return TOPIC_KEYS[self.topic].area


class ChannelOutage(_Bounded):
    """A channel the AI agent serves stops delivering conversations."""

    kind: Literal["channel_outage"] = "channel_outage"
    channel: Channel


class GuidanceMisconfiguration(_Bounded):
    """The Enterprise billing hand-over rule edited to target another plan: its billing escalations up."""

    kind: Literal["guidance_misconfiguration"] = "guidance_misconfiguration"
    plan: MisdirectedPlan
    """The plan the rule is pointed at by mistake."""


class CsatDrop(_Bounded):
    """Human first replies in a region 5x slower (a staffing gap): CSAT down there."""

    kind: Literal["csat_drop"] = "csat_drop"
    region: Region


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
    "csat_drop": 10.0,
}
"""How long each bounded kind lasts in a period of 90 days or more (the stale article lasts to the end)."""
Kind = TypeVar("Kind", bound=_Choice)


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

    def of(self, kind: type[Kind]) -> Kind | None:
        """The chosen incident of this kind, if any."""
        return next((c for c in self.incidents if isinstance(c, kind)), None)


def parse_incidents(document: Any, *, source: str = "incidents") -> IncidentChoices:
    """Validate a JSON list of incident specs; InvalidInput names the entry and the field."""
    if not isinstance(document, list):
        raise InvalidInput(
            f'{source} must be a JSON list of incidents, e.g. [{{"kind": "channel_outage", '
            f'"channel": "email", "start": 0.3}}]'
        )
    kinds = ", ".join(KINDS)
    for number, entry in enumerate(document, 1):
        if not isinstance(entry, dict):
            raise InvalidInput(f"{source}: entry {number} must be an object with a kind ({kinds})")
        kind = entry.get("kind")
        if kind not in KINDS:
            found = "is missing" if kind is None else f"is {kind!r}"
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

SLOTS = (0.18, 0.33, 0.48, 0.63)
"""Where the four bounded incidents start, in a shuffled order, as fractions of the period."""
JITTER = 0.02
STALE_START = (0.76, 0.86)
"""The stale article starts last: it lasts to the end, so anywhere earlier it would leave no quiet time."""


def draw_incidents(seed: int, days: int) -> IncidentChoices:
    """The five incidents of the workspace ``seed`` makes over ``days`` days.

    They come from their own random stream: drawing them shifts none of the draws that
    make the rest of the workspace, which differs only where an incident reaches. The four
    bounded ones take the slots in a random order, each jittered, and one never starts
    before the previous one is over.
    """
    r = random.Random(f"deskops-incidents:{seed}")
    stale = r.choice(CHANGED_TOPICS)
    launch = r.choice(LAUNCHABLE)
    bounded: list[dict[str, Any]] = [
        {"kind": "launch_surge", "topic": launch},
        {"kind": "channel_outage", "channel": r.choice(get_args(Channel))},
        {"kind": "guidance_misconfiguration", "plan": r.choice(get_args(MisdirectedPlan))},
        {"kind": "csat_drop", "region": r.choice(get_args(Region))},
    ]
    r.shuffle(bounded)
    free_from = 1  # the first day an incident may start on
    for slot, choice in zip(SLOTS, bounded, strict=True):
        day = max(free_from, round(days * (slot + r.uniform(-JITTER, JITTER))))
        choice["start"] = day / days
        length = USUAL_DAYS[choice["kind"]] * min(1.0, days / 90)
        free_from = day + math.ceil(max(1.0, length))
    stale_day = min(days - 1, max(free_from, round(days * r.uniform(*STALE_START))))
    return IncidentChoices.model_validate(
        {"incidents": [*bounded, {"kind": "stale_article", "topic": stale, "start": stale_day / days}]}
    )


# ------------------------------------------------------------------------------- injecting


@dataclass(frozen=True)
class Injection:
    """The chosen incidents as the generators take them, placed in the period (None: does not happen)."""

    stale: StaleChange | None = None
    surge: Surge | None = None
    outage: Outage | None = None
    misdirected: MisdirectedRule | None = None
    slow: SlowRegion | None = None


def inject(choices: IncidentChoices, plan: IncidentPlan) -> Injection:
    """Place each chosen incident in the period; InvalidInput when one falls outside it."""
    windows: dict[str, tuple[datetime, datetime]] = {}
    for number, choice in enumerate(choices.incidents, 1):
        where = f"incidents: entry {number} ({choice.kind}), field start"
        start = plan.on(choice.start) if isinstance(choice.start, date) else plan.at(choice.start)
        if not plan.start <= start <= plan.end - DAY:
            first, last = (plan.on_day(plan.start), plan.on_day(plan.end - DAY))
            raise InvalidInput(
                f"{where}: {choice.start} is not a day of the simulated period ({first} to {last})"
            )
        end = plan.end
        if isinstance(choice, _Bounded):
            length = timedelta(days=choice.days) if choice.days else plan.length(USUAL_DAYS[choice.kind])
            end = min(plan.end, start + length)
        windows[choice.kind] = (start, end)

    stale, launch = choices.of(StaleArticle), choices.of(LaunchSurge)
    outage, rule, csat = choices.of(ChannelOutage), choices.of(GuidanceMisconfiguration), choices.of(CsatDrop)
    return Injection(
        stale=StaleChange(TOPIC_KEYS[stale.topic], windows[stale.kind][0]) if stale else None,
        surge=Surge(launch.area, launch.topic, *windows[launch.kind], peak=3.0) if launch else None,
        outage=Outage(outage.channel, *windows[outage.kind]) if outage else None,
        misdirected=MisdirectedRule(rule.plan, *windows[rule.kind]) if rule else None,
        slow=SlowRegion(csat.region, *windows[csat.kind]) if csat else None,
    )


def truth_records(injection: Injection, content: ContentPlan, *, end: datetime) -> list[Incident]:
    """What each injected incident is, where it shows and what caused it, in order of onset."""
    found: list[Incident] = []
    if (outage := injection.outage) is not None:
        found.append(
            Incident(
                f"outage-{outage.channel}",
                "channel_outage",
                outage.start,
                outage.end,
                {"channel": outage.channel},
                "conversation_volume",
                "down",
                f"The {outage.channel} channel stopped delivering messages.",
                {"channel": outage.channel},
            )
        )
    if (surge := injection.surge) is not None:
        found.append(
            Incident(
                f"launch-{surge.topic}",
                "launch_surge",
                surge.start,
                surge.end,
                {"product_area": surge.area},
                "conversation_volume",
                "up",
                f"Launch of the {surge.topic.replace('_', ' ')} feature brought a wave of questions.",
                {"topic": surge.topic, "article": content.coverage[surge.topic].article_id},
            )
        )
    if (rule := injection.misdirected) is not None:
        found.append(
            Incident(
                f"guidance-{rule.plan.lower()}-billing",
                "guidance_misconfiguration",
                rule.start,
                rule.end,
                {"plan": rule.plan, "product_area": "billing"},
                "escalation_rate",
                "up",
                "The Enterprise billing hand-over rule was edited to target the "
                f"{rule.plan} plan by mistake.",
                {
                    "guidance_rule": content.misconfigured_rule,
                    "bad_version": 2,
                    "fixed_version": 3 if rule.end < end else None,
                    "intended_plan": "Enterprise",
                    "targeted_plan": rule.plan,
                },
            )
        )
    if (slow := injection.slow) is not None:
        found.append(
            Incident(
                f"csat-{slow.region.lower()}",
                "csat_drop",
                slow.start,
                slow.end,
                {"region": slow.region},
                "csat_average",
                "down",
                f"Human first replies in {slow.region} were {slow.factor:g}x slower (staffing gap).",
                {"metric": "human_first_reply_wait", "region": slow.region},
            )
        )
    if (stale := injection.stale) is not None:
        old, new = _change(stale.topic)
        found.append(
            Incident(
                f"stale-{stale.topic.key}",
                "stale_article",
                stale.start,
                end,
                {"topic": stale.topic.key},
                "escalation_rate",
                "up",
                f"Product change ('{new}') left the article stating '{old}'.",
                {"article": content.coverage[stale.topic.key].article_id, "old_fact": old, "new_fact": new},
            )
        )
    return sorted(found, key=lambda incident: incident.start)


def _change(topic: Topic) -> tuple[str, str]:
    assert topic.change is not None
    return topic.change


# ------------------------------------------------------------------------------- the truth file


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
