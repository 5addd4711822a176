"""The front-line agent's configuration up close: a rule, a procedure, audits, replays, settings history.

Audits follow how the agent decides (``frontline/lint.py``) and weigh each finding by the
conversations it reaches in the last four weeks of data, so a conflict on a busy topic
comes before a typo on a rule nobody triggers.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field

from deskops.analytics import frame as frames
from deskops.analytics import metrics as engine
from deskops.analytics.catalog import Condition
from deskops.analytics.metrics import Period
from deskops.changes.changeset import as_candidate, history, parse_change_set, resolve
from deskops.changes.diff import field_changes
from deskops.domain.changes import FieldChange
from deskops.domain.models import SEGMENT_KEYS, GuidanceRule, Procedure, RuleKind
from deskops.domain.replay import ReplayReport
from deskops.domain.types import Result
from deskops.errors import InvalidInput
from deskops.frontline.lint import (
    ConfigFinding,
    StepReach,
    Vocabulary,
    lint_procedures,
    lint_rules,
    step_reach,
)
from deskops.frontline.replay import replay
from deskops.operator.blocks import Block
from deskops.operator.deps import OperatorDeps
from deskops.operator.tools.analytics import Nothing, PeriodQuery
from deskops.operator.tools.reporting import Report, checked_period, known_topic, pct, table
from deskops.store.repositories import WorkspaceScope

REACH_DAYS = 28
TRACES_READ = 2000
MAX_REPLAY = 300
"""Conversations a replay asked in chat may take (each is decided twice)."""


def _vocabulary(deps: OperatorDeps, scope: WorkspaceScope) -> Vocabulary:
    snapshot = deps.services.columns.snapshot(scope)
    segments = {
        name: {str(v) for v in snapshot.dictionaries[name].values}
        for name in SEGMENT_KEYS
        if name in snapshot.dictionaries
    }
    topics = {t for t, _ in scope.stats.counts_by("topic") if t is not None}
    return Vocabulary(segments=segments, topics=topics)


def _recent(deps: OperatorDeps, scope: WorkspaceScope) -> frames.Frame:
    """The last four weeks of conversations, as analytics columns."""
    period = Period(deps.today - timedelta(days=REACH_DAYS - 1), deps.today)
    return frames.load(
        deps.services.columns.snapshot(scope), *period.bounds(ZoneInfo(scope.workspace.time_zone))
    )


def reach(rule: GuidanceRule, recent: frames.Frame) -> int | None:
    """Conversations of the last four weeks a rule's segment and topic conditions hold for (None: keyword or
    failed-answer conditions, which only the conversations' words can tell)."""
    condition = rule.condition
    if condition.keywords is not None or condition.failed_answers is not None:
        return None
    wanted: list[Condition] = [(k, "==", v) for k, v in condition.segment().items() if k in recent.columns]
    if condition.topic is not None:
        wanted.append(("topic", "==", condition.topic))
    if not wanted:
        return None
    return int(recent.mask(wanted).sum())


def _matches(scope: WorkspaceScope, deps: OperatorDeps, rule_id: str) -> tuple[int, int, list[str]]:
    """(traces read, traces where the rule matched, example conversations) over the last four weeks."""
    period = Period(deps.today - timedelta(days=REACH_DAYS - 1), deps.today)
    start, end = period.bounds(ZoneInfo(scope.workspace.time_zone))
    traces = scope.traces.list(start=start, end=end, limit=TRACES_READ)
    hits = [t for t in traces if any(r.id == rule_id and r.matched for r in t.rules)]
    return (
        len(traces),
        len(hits),
        [t.conversation_external_id for t in hits if t.conversation_external_id][:5],
    )


def _findings_table(findings: list[ConfigFinding], title: str) -> Block:
    return table(
        title,
        ["severity", "code", "items", "finding"],
        [[f.severity, f.code, ", ".join(f.items), f.message] for f in findings],
    )


# -------------------------------------------------------------------------------------------- one rule


class RuleQuery(Result):
    external_id: str = Field(min_length=1, max_length=200)
    """A guidance rule's id, e.g. ``gr-legal``."""


class RuleReading(Report):
    rule: GuidanceRule
    condition: str
    """The condition in words."""
    reach: int | None
    """Conversations of the last four weeks its segment and topic conditions hold for."""
    traces_read: int
    matched: int
    """Decision traces of the last four weeks in which it matched."""
    examples: list[str]
    versions: int
    last_change: str | None
    findings: list[ConfigFinding]

    def blocks(self) -> list[Block]:
        return (
            [_findings_table(self.findings, f"Findings about {self.rule.external_id}")]
            if self.findings
            else []
        )


def explain_condition(rule: GuidanceRule) -> str:
    """A rule's condition as a sentence."""
    c = rule.condition
    parts = []
    if c.keywords:
        parts.append("the customer writes " + " or ".join(repr(k) for k in c.keywords))
    if c.topic:
        parts.append(f"the topic is {c.topic} (or the message reads like {rule.title!r})")
    if c.failed_answers:
        parts.append(f"{c.failed_answers} AI answers did not help")
    parts += [f"{k} is {v}" for k, v in c.segment().items()]
    if rule.kind in (RuleKind.tone, RuleKind.general):
        return "always (a wording instruction)"
    return " and ".join(parts) if parts else "never (no condition)"


def read_guidance_rule(deps: OperatorDeps, query: RuleQuery) -> RuleReading:
    """One guidance rule: its condition in words, the conversations it reaches, its matches, its problems."""
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        rule = scope.guidance.get(query.external_id)
        versions = history(scope, "guidance", query.external_id)
        findings = lint_rules(scope.guidance.list(), scope.procedures.list(), _vocabulary(deps, scope))
        reached = reach(rule, _recent(deps, scope))
        read, matched, examples = _matches(scope, deps, rule.external_id)
    key = f"guidance:{rule.external_id}"
    mine = [f for f in findings if key in f.items]
    last = versions[-1]
    condition = explain_condition(rule)
    summary = [
        f"{rule.external_id} ({rule.title!r}) is a {rule.kind.value} rule, "
        f"{'enabled' if rule.enabled else 'disabled'}; it applies when {condition}."
    ]
    if reached is not None:
        summary.append(f"Its condition held for {reached:,} conversations in the last {REACH_DAYS} days.")
    if read:
        summary.append(f"It matched in {matched:,} of the AI agent's last {read:,} decisions.")
    summary += [f.message for f in mine[:3]]
    return RuleReading(
        summary=summary,
        rule=rule,
        condition=condition,
        reach=reached,
        traces_read=read,
        matched=matched,
        examples=examples,
        versions=len(versions),
        last_change=f"version {last.version}, {last.at.date()}, by {last.changed_by or 'an import'}"
        + (f" ({last.why})" if last.why else ""),
        findings=mine,
    )


# ---------------------------------------------------------------------------------------- one procedure


class ProcedureQuery(Result):
    external_id: str = Field(min_length=1, max_length=200)
    """A procedure's id, e.g. ``proc-refund``."""


class ProcedureReading(Report):
    procedure: Procedure
    steps: list[StepReach]
    topic_conversations: dict[str, int]
    """Conversations of each trigger topic in the last four weeks."""
    findings: list[ConfigFinding]

    def blocks(self) -> list[Block]:
        rows = [[s.step, s.instruction, ", ".join(s.requires), s.run_by_ai, s.why] for s in self.steps]
        out: list[Block] = [
            table(
                f"{self.procedure.external_id}: steps",
                ["step", "instruction", "needs", "run by AI", "why"],
                rows,
            )
        ]
        if self.findings:
            out.append(_findings_table(self.findings, f"Findings about {self.procedure.external_id}"))
        return out


def read_procedure(deps: OperatorDeps, query: ProcedureQuery) -> ProcedureReading:
    """One procedure: its steps and which the AI agent actually runs, its topics' volume, its problems."""
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        procedure = scope.procedures.get(query.external_id)
        findings = lint_procedures(scope.procedures.list(), scope.guidance.list(), _vocabulary(deps, scope))
        recent = _recent(deps, scope)
    counts = {t: int(recent.mask([("topic", "==", t)]).sum()) for t in procedure.trigger_topics}
    key = f"procedure:{procedure.external_id}"
    mine = [f for f in findings if key in f.items]
    steps = step_reach(procedure)
    ran = [s.step for s in steps if s.run_by_ai]
    summary = [
        f"{procedure.external_id} ({procedure.title!r}) is "
        f"{'enabled' if procedure.enabled else 'disabled'}, triggered by "
        f"{', '.join(procedure.trigger_topics) or 'no topic'} ({sum(counts.values()):,} conversations in "
        f"the last {REACH_DAYS} days); the AI agent runs steps {', '.join(map(str, ran)) or 'none'} of "
        f"{len(steps)}."
    ]
    summary += [f.message for f in mine[:3]]
    return ProcedureReading(
        summary=summary, procedure=procedure, steps=steps, topic_conversations=counts, findings=mine
    )


# ---------------------------------------------------------------------------------------------- audits


class RuleAudit(Report):
    findings: list[ConfigFinding]
    reach: dict[str, int]
    """Rule id -> conversations of the last four weeks its segment and topic conditions hold for."""
    rules: int

    def blocks(self) -> list[Block]:
        return [_findings_table(self.findings, "Guidance audit")]


def audit_guidance(deps: OperatorDeps, query: Nothing) -> RuleAudit:
    """Audit guidance rules: conflicts with procedures, rules that never match, overlaps, broad hand-overs."""
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        rules = scope.guidance.list()
        findings = lint_rules(rules, scope.procedures.list(), _vocabulary(deps, scope))
        recent = _recent(deps, scope)
    reached = {r.external_id: n for r in rules if r.enabled and (n := reach(r, recent)) is not None}
    total = len(recent)
    for rule in rules:
        n = reached.get(rule.external_id)
        if n and total and rule.kind == RuleKind.handover and n / total >= 0.2:
            findings.append(
                ConfigFinding(
                    severity="warning",
                    code="rule.broad",
                    items=[f"guidance:{rule.external_id}"],
                    message=f"{rule.external_id} hands over {pct(n / total)} of all conversations ({n:,} in "
                    f"{REACH_DAYS} days): check it is meant to be that broad.",
                )
            )
    counts = {s: sum(f.severity == s for f in findings) for s in ("conflict", "dead", "overlap", "warning")}
    summary = [
        f"{len(rules)} guidance rules: {counts['conflict']} conflicts, {counts['dead']} that never match, "
        f"{counts['overlap']} overlaps, {counts['warning']} warnings."
    ]
    summary += [f.message for f in findings if f.severity in ("conflict", "dead")][:4]
    return RuleAudit(summary=summary, findings=findings, reach=reached, rules=len(rules))


class ProcedureAudit(Report):
    findings: list[ConfigFinding]
    procedures: int

    def blocks(self) -> list[Block]:
        return [_findings_table(self.findings, "Procedure audit")]


def audit_procedures(deps: OperatorDeps, query: Nothing) -> ProcedureAudit:
    """Audit procedures: ones a rule blocks, shadowed triggers, steps the AI never runs, unreadable data."""
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        procedures = scope.procedures.list()
        findings = lint_procedures(procedures, scope.guidance.list(), _vocabulary(deps, scope))
    counts = {s: sum(f.severity == s for f in findings) for s in ("conflict", "dead", "overlap", "warning")}
    summary = [
        f"{len(procedures)} procedures: {counts['conflict']} blocked by rules, {counts['dead']} that never "
        f"run, {counts['overlap']} overlaps, {counts['warning']} warnings (steps the AI never runs, data it "
        "cannot read)."
    ]
    summary += [f.message for f in findings if f.severity in ("conflict", "dead")][:4]
    return ProcedureAudit(summary=summary, findings=findings, procedures=len(procedures))


# ---------------------------------------------------------------------------------------------- replay


class ReplayQuery(PeriodQuery):
    change_set: dict[str, Any]
    """articles, guidance, procedures, settings (see docs/changes.md); nothing is written."""
    topic: str | None = None
    """Only this topic's conversations."""
    limit: int = Field(default=100, ge=1, le=MAX_REPLAY)
    """Conversations replayed (evenly spread over the period)."""


class ReplayResult(Report):
    replay: ReplayReport

    def blocks(self) -> list[Block]:
        rows = [
            [
                t.topic,
                t.conversations,
                pct(t.predicted_resolution.current),
                pct(t.predicted_resolution.candidate),
                pct(t.handover_rate.current),
                pct(t.handover_rate.candidate),
            ]
            for t in self.replay.topics
        ]
        return [
            table(
                "Replay: current against candidate",
                ["topic", "conversations", "resolved now", "with change", "hand-over now", "with change"],
                rows,
            )
        ]


def replay_change_set(deps: OperatorDeps, query: ReplayQuery) -> ReplayResult:
    """Replay a period's conversations with a candidate change set: how the AI agent would decide."""
    start, end = checked_period(deps, query.start, query.end)
    change_set = parse_change_set(query.change_set)
    if query.topic is not None:
        known_topic(deps, query.topic)
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        candidate = as_candidate(resolve(change_set, scope), source="operator")
        report = replay(
            agent=deps.services.frontline,
            search=deps.services.search,
            scope=scope,
            start=start,
            end=end,
            candidate=candidate,
            limit=query.limit,
            topic=query.topic,
        )
    overall = report.overall
    change = overall.predicted_resolution.change
    summary = [
        f"Replayed {report.conversations} conversations from {start} to {end}: predicted AI resolution "
        f"{pct(overall.predicted_resolution.current)} now, {pct(overall.predicted_resolution.candidate)} "
        f"with the change; hand-overs {pct(overall.handover_rate.current)} to "
        f"{pct(overall.handover_rate.candidate)}."
    ]
    moved = [t for t in report.topics if t.predicted_resolution.change]
    for t in moved[:3]:
        summary.append(
            f"{t.topic}: {pct(t.predicted_resolution.current)} to {pct(t.predicted_resolution.candidate)} "
            f"({t.conversations} conversations)."
        )
    if not change:
        summary.append("The change does not alter what the AI agent would decide on these conversations.")
    summary.append(
        f"The two agreed on {report.experiment.matched} of {report.experiment.runs} decisions. This is a "
        "prediction from the agent's decisions, not an observed outcome; nothing was written."
    )
    return ReplayResult(summary=summary, replay=report)


# ---------------------------------------------------------------------------------------- settings history


class SettingsChange(Result):
    version: int
    at: str
    by: str | None
    why: str | None
    changes: list[FieldChange]
    """What this version changed against the one before."""
    ai_resolution_before: float | None
    """AI resolution rate in the 7 days before the change ..."""
    ai_resolution_after: float | None
    """... and in the 7 days from it (None when outside the data)."""
    p_value: float | None


class SettingsHistory(Report):
    versions: list[SettingsChange]
    """Newest first."""

    def blocks(self) -> list[Block]:
        rows = [
            [
                v.version,
                v.at,
                v.by,
                "; ".join(f"{c.path}: {c.before} -> {c.after}" for c in v.changes),
                pct(v.ai_resolution_before),
                pct(v.ai_resolution_after),
                v.p_value,
            ]
            for v in self.versions
        ]
        return [
            table(
                "AI agent settings history",
                ["version", "date", "by", "changed", "AI resolution before", "after", "p"],
                rows,
            )
        ]


def settings_history(deps: OperatorDeps, query: Nothing) -> SettingsHistory:
    """Every change to the AI agent's settings: what, who, why, and AI resolution the week around it."""
    metric = deps.services.registry.metric("ai_resolution_rate")
    out: list[SettingsChange] = []
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        versions = history(scope, "settings", "settings")
        zone = ZoneInfo(scope.workspace.time_zone)
        first_day = scope.stats.conversation_range()[0]
        previous: dict[str, Any] = {}
        for v in versions:
            day = v.at.astimezone(zone).date()
            before = after = p = None
            inside = (
                first_day is not None
                and first_day.astimezone(zone).date() <= day - timedelta(days=7)
                and day <= deps.today
            )
            if inside:
                try:
                    result = engine.compare(
                        scope,
                        columns=deps.services.columns,
                        metric=metric,
                        start=day,
                        end=min(day + timedelta(days=6), deps.today),
                        previous=(day - timedelta(days=7), day - timedelta(days=1)),
                        today=deps.today,
                    )
                    before, after, p = result.previous.value, result.current.value, result.test.p_value
                except InvalidInput:
                    pass
            out.append(
                SettingsChange(
                    version=v.version,
                    at=day.isoformat(),
                    by=v.changed_by,
                    why=v.why,
                    changes=field_changes(previous, v.content),
                    ai_resolution_before=before,
                    ai_resolution_after=after,
                    p_value=p,
                )
            )
            previous = v.content
    out.reverse()
    if not out:
        return SettingsHistory(
            summary=["The AI agent has never had its settings changed: it runs on its defaults."], versions=[]
        )
    summary = [
        f"The AI agent's settings have {len(out)} versions; the current one is version {out[0].version} "
        f"({out[0].at})."
    ]
    for change in out[:3]:
        changed = (
            ", ".join(f"{c.path.strip('/')} {c.before} to {c.after}" for c in change.changes) or "nothing"
        )
        line = f"Version {change.version} ({change.at}, by {change.by or 'an import'}) changed {changed}"
        if change.ai_resolution_before is not None:
            line += (
                f"; AI resolution {pct(change.ai_resolution_before)} the week before, "
                f"{pct(change.ai_resolution_after)} after (p={change.p_value})"
            )
        summary.append(line + ".")
    return SettingsHistory(summary=summary, versions=out)
