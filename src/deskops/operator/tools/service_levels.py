"""How fast and how well people and the AI agent serve: response and handling times, teams, human agents."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np
from pydantic import Field

from deskops.analytics import segments
from deskops.analytics.metrics import MIN_SAMPLE, Period, two_proportion_z_test
from deskops.domain.analytics import Breakdown, Comparison, SignificanceTest
from deskops.domain.types import Result, rounded
from deskops.errors import InvalidInput
from deskops.operator.blocks import Block
from deskops.operator.deps import OperatorDeps
from deskops.operator.tools.analytics import PeriodQuery
from deskops.operator.tools.reporting import (
    Report,
    Window,
    checked_filters,
    checked_period,
    minutes,
    pct,
    table,
)

TIME_METRICS = ("first_response_p50", "first_response_p90", "handling_time_p50", "handling_time_p90")
TEAM_METRICS = (
    "conversation_volume",
    "human_resolution_rate",
    "unresolved_rate",
    "reopen_rate",
    "csat_satisfied_rate",
    "handling_time_p50",
)


class TimesQuery(PeriodQuery):
    by: str = "channel"
    """The attribute to compare segments on (channel, team, topic, plan, region ...)."""
    filters: dict[str, str] = Field(default_factory=dict)


class TimesReport(Report):
    comparisons: list[Comparison]
    """Each time metric against the previous period (Mann-Whitney U)."""
    first_response_by: Breakdown | None
    handling_by: Breakdown | None
    answered_share: float | None
    """Share of the period's conversations with a first response recorded."""

    def blocks(self) -> list[Block]:
        rows = [
            [c.metric.label, minutes(c.current.value), minutes(c.previous.value), c.test.p_value, c.verdict]
            for c in self.comparisons
        ]
        out: list[Block] = [
            table("Response and handling times", ["metric", "now", "before", "p", "verdict"], rows)
        ]
        for b in (self.first_response_by, self.handling_by):
            if b is not None:
                out.append(
                    table(
                        f"{b.metric.label} by {b.by}",
                        ["segment", "median", "n", "rest", "p", "verdict"],
                        [
                            [
                                s.segment,
                                minutes(s.value.value),
                                s.value.denominator,
                                minutes(s.rest.value),
                                s.test.p_value,
                                s.verdict,
                            ]
                            for s in b.segments
                        ],
                    )
                )
        return out


def response_times(deps: OperatorDeps, query: TimesQuery) -> TimesReport:
    """First response and handling times (median, p90) against the last period, and the slowest segments."""
    start, end = checked_period(deps, query.start, query.end)
    filters = checked_filters(deps, query.filters)
    with deps.services.uow() as uow:
        window = Window(deps, uow.workspace(deps.workspace), start, end)
        comparisons = [window.compare(name, filters) for name in TIME_METRICS]
        volume = window.compare("conversation_volume", filters)
        first = window.breakdown("first_response_p50", query.by, filters)
        handling = window.breakdown("handling_time_p50", query.by, filters)
    answered = (
        comparisons[0].current.denominator / volume.current.denominator
        if volume.current.denominator
        else None
    )
    summary = []
    for c in (comparisons[0], comparisons[2]):
        if c.current.value is None:
            summary.append(f"No {c.metric.label.lower()} is recorded from {start} to {end}.")
            continue
        summary.append(
            f"{c.metric.label}: {minutes(c.current.value)} (n={c.current.denominator:,}) against "
            f"{minutes(c.previous.value)} the period before: {c.verdict}"
            + (f" (p={c.test.p_value})." if c.test.p_value is not None else ".")
        )
    for b in (first, handling):
        slow = [s for s in b.segments if s.verdict == "worse"]
        if slow:
            s = max(slow, key=lambda s: s.value.value or 0.0)
            summary.append(
                f"Slowest {query.by} for {b.metric.label.lower()}: {s.segment}, {minutes(s.value.value)} "
                f"against {minutes(s.rest.value)} elsewhere (p={s.test.p_value})."
            )
    if answered is not None and answered < 0.95:
        summary.append(
            f"{pct(1 - answered)} of conversations have no first response recorded (abandoned before any "
            "reply)."
        )
    return TimesReport(
        summary=summary,
        comparisons=comparisons,
        first_response_by=first,
        handling_by=handling,
        answered_share=rounded(answered),
    )


# ---------------------------------------------------------------------------------------------- teams


class TeamLine(Result):
    team: str
    conversations: int
    figures: dict[str, float | None]
    """Metric name -> value (rates as fractions, times in seconds)."""
    worse: list[str]
    """Metrics on which the team is significantly worse than the other teams."""


class TeamsReport(Report):
    teams: list[TeamLine]
    breakdowns: list[Breakdown]

    def blocks(self) -> list[Block]:
        rows = [
            [
                t.team,
                t.conversations,
                pct(t.figures.get("human_resolution_rate")),
                pct(t.figures.get("unresolved_rate")),
                pct(t.figures.get("reopen_rate")),
                pct(t.figures.get("csat_satisfied_rate")),
                minutes(t.figures.get("handling_time_p50")),
                ", ".join(t.worse),
            ]
            for t in self.teams
        ]
        columns = [
            "team",
            "conversations",
            "resolved",
            "unresolved",
            "reopened",
            "CSAT satisfied",
            "handling",
            "worse on",
        ]
        return [table("Teams", columns, rows)]


def team_figures(deps: OperatorDeps, query: PeriodQuery) -> TeamsReport:
    """Per support team: volume, resolution, unresolved and reopen rates, CSAT, handling time, tested."""
    start, end = checked_period(deps, query.start, query.end)
    registry = deps.services.registry
    found: list[Breakdown] = []
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        for name in TEAM_METRICS:
            try:
                found.append(
                    segments.breakdown(
                        scope,
                        columns=deps.services.columns,
                        metric=registry.metric(name),
                        start=start,
                        end=end,
                        by="team",
                        today=deps.today,
                    )
                )
            except InvalidInput as exc:
                if "is empty" not in str(exc):
                    raise
                return TeamsReport(
                    summary=[f"No team is recorded on this workspace's conversations from {start} to {end}."],
                    teams=[],
                    breakdowns=[],
                )
    teams: dict[str, TeamLine] = {}
    for b in found:
        for s in b.segments:
            if s.segment == "(none)":
                continue
            line = teams.setdefault(
                s.segment, TeamLine(team=s.segment, conversations=0, figures={}, worse=[])
            )
            if b.metric.name == "conversation_volume":
                line.conversations = s.value.denominator
            else:
                line.figures[b.metric.name] = s.value.value
                if s.verdict == "worse":
                    line.worse.append(b.metric.name)
    lines = sorted(teams.values(), key=lambda t: -t.conversations)
    volume = found[0]
    untouched = next((s.value.denominator for s in volume.segments if s.segment == "(none)"), 0)
    summary = [
        f"{len(lines)} teams handled {sum(t.conversations for t in lines):,} conversations from {start} to "
        f"{end}; {untouched:,} never reached a team (the AI agent resolved them or the customer left)."
    ]
    for t in lines:
        if t.worse:
            summary.append(f"{t.team} is significantly worse than the other teams on {', '.join(t.worse)}.")
    if not any(t.worse for t in lines):
        summary.append("No team is significantly worse than the others on any figure.")
    return TeamsReport(summary=summary, teams=lines, breakdowns=found)


# --------------------------------------------------------------------------------------------- agents


class AgentLine(Result):
    agent: str
    """The name a human agent replies under."""
    conversations: int
    teams: list[str]
    resolution_rate: float | None
    """Share of the agent's closed conversations resolved by a person."""
    unresolved_rate: float | None
    reopen_rate: float | None
    csat_average: float | None
    rated: int
    handling_p50: float | None
    """Median seconds from creation to close."""
    resolution_test: SignificanceTest
    """Resolution against every other agent's conversations."""
    thin: bool


class AgentsQuery(PeriodQuery):
    limit: int = Field(default=20, ge=1, le=100)


class AgentsReport(Report):
    agents: list[AgentLine]
    """Most conversations first."""
    total_agents: int

    def blocks(self) -> list[Block]:
        rows = [
            [
                a.agent,
                a.conversations,
                pct(a.resolution_rate),
                pct(a.unresolved_rate),
                pct(a.reopen_rate),
                a.csat_average,
                minutes(a.handling_p50),
                a.resolution_test.p_value,
            ]
            for a in self.agents
        ]
        columns = ["agent", "conversations", "resolved", "unresolved", "reopened", "CSAT", "handling", "p"]
        return [table("Human agents", columns, rows)]


def agent_figures(deps: OperatorDeps, query: AgentsQuery) -> AgentsReport:
    """Per human agent: conversations, resolution (tested against others), reopens, CSAT, handling time."""
    start, end = checked_period(deps, query.start, query.end)
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        bounds = Period(start, end).bounds(ZoneInfo(scope.workspace.time_zone))
        rows = scope.conversations.human_agent_rows(start=bounds[0], end=bounds[1])
    by_agent: dict[str, list] = {}
    for row in rows:
        by_agent.setdefault(row.agent, []).append(row)
    closed = {a: [r for r in rs if r.outcome is not None] for a, rs in by_agent.items()}
    resolved = {a: sum(r.outcome == "human_resolved" for r in rs) for a, rs in closed.items()}
    all_closed, all_resolved = sum(len(v) for v in closed.values()), sum(resolved.values())
    lines = []
    for agent, items in by_agent.items():
        n, x = len(closed[agent]), resolved[agent]
        rated = [r.csat for r in items if r.csat is not None]
        handling = [r.handling_seconds for r in items if r.handling_seconds is not None]
        others_n, others_x = all_closed - n, all_resolved - x
        test = (
            two_proportion_z_test(x, n, others_x, others_n)
            if n >= MIN_SAMPLE and others_n >= MIN_SAMPLE
            else SignificanceTest(
                name=None,
                p_value=None,
                significant=False,
                reason=f"fewer than {MIN_SAMPLE} closed conversations",
            )
        )
        lines.append(
            AgentLine(
                agent=agent,
                conversations=len(items),
                teams=sorted({r.team for r in items if r.team}),
                resolution_rate=rounded(x / n) if n else None,
                unresolved_rate=rounded(sum(r.outcome == "escalated_unresolved" for r in closed[agent]) / n)
                if n
                else None,
                reopen_rate=rounded(sum(r.reopen_count > 0 for r in closed[agent]) / n) if n else None,
                csat_average=rounded(float(np.mean(rated)), 2) if rated else None,
                rated=len(rated),
                handling_p50=rounded(float(np.median(handling)), 1) if handling else None,
                resolution_test=test,
                thin=len(items) < MIN_SAMPLE,
            )
        )
    lines.sort(key=lambda a: (-a.conversations, a.agent))
    if not lines:
        return AgentsReport(
            summary=[f"No named human agent replied in a conversation from {start} to {end}."],
            agents=[],
            total_agents=0,
        )
    overall = all_resolved / all_closed if all_closed else None
    summary = [
        f"{len(lines)} human agents replied in {len({r.external_id for r in rows}):,} conversations from "
        f"{start} to {end}; they resolved {pct(overall)} of the closed ones."
    ]
    for a in lines:
        if a.resolution_test.significant and (a.resolution_rate or 0) < (overall or 0):
            summary.append(
                f"{a.agent} resolves {pct(a.resolution_rate)} against {pct(overall)} overall "
                f"(p={a.resolution_test.p_value}, n={a.conversations})."
            )
    if len(summary) == 1:
        summary.append("No agent's resolution rate differs significantly from the others'.")
    return AgentsReport(summary=summary, agents=lines[: query.limit], total_agents=len(lines))
