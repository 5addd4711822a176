"""Investigate a spike or drop: did the metric really change → which segment moved → what about
that segment changed (its content, the configuration that applies to it, its channel, its
people) → the evidence, and the explanations tested and rejected.

When the change is not significant the answer says so and names no cause.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field

from deskops.domain.analytics import Comparison, SegmentShift
from deskops.domain.changes import Evidence, ProposalReport
from deskops.domain.models import RuleCondition
from deskops.domain.types import Result
from deskops.errors import Conflict, InvalidInput
from deskops.operator.blocks import (
    MAX_ROWS,
    Block,
    EvidenceBlock,
    HypothesesBlock,
    Hypothesis,
    ProposalBlock,
    Snippet,
    TableBlock,
    TextBlock,
)
from deskops.operator.registry import SkillResult
from deskops.operator.runner import ToolRunner
from deskops.operator.skills.performance_report import show
from deskops.operator.tools.analytics import (
    MetricQuery,
    Nothing,
    ShiftsQuery,
    compare_periods,
    segment_shifts,
)
from deskops.operator.tools.changes import ChangeRequest, propose_change
from deskops.operator.tools.configuration import list_guidance
from deskops.operator.tools.content import ArticleQuery, read_article
from deskops.operator.tools.investigation import (
    FeedbackQuery,
    RuleQuery,
    SampleQuery,
    TopicQuery,
    articles_for_topic,
    citation_feedback,
    rule_history,
    sample_conversations,
)

STALE_AFTER_DAYS = 60
"""An article not updated for this long before a topic's metric moved is a stale-content suspect."""
RECENT_EDIT_DAYS = 14
"""A rule or article edited this close before (or during) the change is a suspect."""


class InvestigateAsk(Result):
    metric: str
    """Catalog name, e.g. escalation_rate."""
    start: date
    end: date
    filters: dict[str, str] = Field(default_factory=dict)


def investigate(runner: ToolRunner, ask: InvestigateAsk) -> SkillResult:
    """Why a metric rose or fell: the segment that moved, what changed for it, the evidence."""
    query = MetricQuery(metric=ask.metric, start=ask.start, end=ask.end, filters=ask.filters)
    change = runner.call(compare_periods, query)
    label = change.metric.label
    now, before = show(change, change.current.value), show(change, change.previous.value)
    headline = (
        f"{label} from {change.current.start} to {change.current.end}: {now}, against {before} "
        f"from {change.previous.start} to {change.previous.end} ({change.verdict})."
    )
    zone, first_day = _calendar(runner)
    if first_day is not None and change.previous.start < first_day:
        text = headline + (
            f" The period before starts ahead of this workspace's first conversation ({first_day}), "
            "so there is nothing to compare with; ask about a later period."
        )
        return SkillResult(answer=text, blocks=[TextBlock(text=text)], no_change=True)
    if change.previous.thin or change.current.thin:
        text = headline + " There is too little data in one of the periods to say anything changed."
        return SkillResult(answer=text, blocks=[TextBlock(text=text)], no_change=True)
    shifts = runner.call(
        segment_shifts,
        ShiftsQuery(metric=ask.metric, start=ask.start, end=ask.end, filters=ask.filters, limit=8),
    )
    sign = 0 if not change.test.significant else (1 if (change.change or 0) > 0 else -1)
    found = [
        s
        for s in shifts.shifts
        if s.explains and abs(s.relative_change or 0) >= MATERIAL and (sign == 0 or (s.z or 0) * sign > 0)
    ]
    table = _shift_table(change, shifts.shifts[:5])
    if not found:
        if not change.test.significant:
            text = headline + " No segment changed significantly either, so there is no cause to look for."
            return SkillResult(answer=text, blocks=[TextBlock(text=text), table], no_change=True)
        text = headline + " No single segment explains it: the change is spread across the workspace."
        return SkillResult(answer=text, blocks=[TextBlock(text=text), table])
    top = _simplest(found)
    found_at = dict(zip(top.attribute.split(","), top.segment.split(" × "), strict=True))
    segment = dict(found_at)
    inner = runner.call(
        segment_shifts,
        ShiftsQuery(
            metric=ask.metric,
            start=ask.start,
            end=ask.end,
            filters={**ask.filters, **segment},
            limit=5,
            pairs=False,
        ),
    )
    narrower = [  # the rest of the segment must be testable and show no change even at 5 %
        s
        for s in inner.shifts
        if s.explains
        and s.share < NARROWER
        and s.complement_p is not None
        and s.complement_p >= UNCHANGED
        and abs(s.relative_change or 0) >= SHARPER * abs(top.relative_change or 0)
        and (s.z or 0) * (top.z or 0) > 0
    ]
    if narrower:
        segment[narrower[0].attribute] = narrower[0].segment
    where = ", ".join(f"{k}={v}" for k, v in segment.items())
    moved = "rose" if (top.z or 0) > 0 else "fell"
    then, there = show(change, top.previous.value), show(change, top.current.value)
    hypotheses = [
        Hypothesis(
            statement=f"The change is concentrated in {where}.",
            evidence_for=[
                f"{where_of(found_at)}: {then} -> {there} ({shifts.test}, p {_p(top.p_value)})",
                f"the rest of the workspace: p {_p(top.complement_p)}",
            ]
            + (
                [f"within it, {narrower[0].attribute}={narrower[0].segment}: "
                 f"{show(change, narrower[0].previous.value)} -> {show(change, narrower[0].current.value)}"]
                if narrower else []
            ),
            kept=True,
            confidence=0.9 if (top.p_value or 1) < shifts.alpha / 100 else 0.7,
        )
    ]  # fmt: skip
    period_start = datetime.combine(ask.start, time(), zone)
    diagnosis = _diagnose(runner, change, top, segment, period_start, ask)
    hypotheses += diagnosis.hypotheses
    blocks: list[Block] = [table]
    evidence = _evidence(runner, segment, ask)
    if evidence:
        blocks.append(evidence)
    kept = [h for h in hypotheses[1:] if h.kept]
    lines = [
        headline,
        f"It {moved} in {where}; the rest of the workspace moved less than a third as much.",
    ]
    if kept:
        lines.append("Likely cause: " + " ".join(h.statement for h in kept))
    else:
        lines.append("No change to its content or configuration explains it; see what was tested below.")
    rejected = [h for h in hypotheses if not h.kept]
    if rejected:
        lines.append("Ruled out: " + " ".join(h.statement for h in rejected))
    proposals = [propose(runner, draft) for draft in diagnosis.fixes] if diagnosis.fixes else []
    made = [p for p in proposals if p is not None]
    if diagnosis.fixes and not made:
        lines.append("An editor can propose the fix: " + " ".join(d.title for d in diagnosis.fixes) + ".")
    for report in made:
        lines.append(f"Proposed #{report.proposal.id}: {report.proposal.title} (review: {report.verdict}).")
        blocks.append(ProposalBlock(report=report))
    text = "\n".join(lines)
    return SkillResult(
        answer=text,
        blocks=[TextBlock(text=text), *blocks, HypothesesBlock(hypotheses=hypotheses)],
        hypotheses=hypotheses,
        proposals=[r.proposal.id for r in made],
    )


MATERIAL = 0.10
"""A segment whose value moved by less than this (relatively) is not worth a root cause."""
NARROWER = 0.95
SHARPER = 1.5
"""... and to have moved at least this many times as much as the whole segment (relatively)."""
UNCHANGED = 0.05
"""Narrowing a segment further needs the rest of it unchanged at this plain level (not corrected)."""
"""A segment inside the one found must hold less than this share of it to narrow it."""


class _Diagnosis(Result):
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    fixes: list[ChangeRequest] = Field(default_factory=list)


def _shift_table(change: Comparison, shifts: list[SegmentShift]) -> TableBlock:
    return TableBlock(
        title="Segments tested (each against the rest of the workspace)",
        columns=["attribute", "segment", "before", "now", "p", "rest p", "explains"],
        rows=[
            [s.attribute, s.segment, show(change, s.previous.value), show(change, s.current.value),
             _p(s.p_value), _p(s.complement_p), "yes" if s.explains else "no"]
            for s in shifts
        ][:MAX_ROWS],
    )  # fmt: skip


def _simplest(found: list[SegmentShift]) -> SegmentShift:
    """The best segment, but a single attribute rather than a pair holding it unless the pair is sharper."""
    top = found[0]
    if "," not in top.attribute:
        return top
    parts = set(zip(top.attribute.split(","), top.segment.split(" × "), strict=True))
    for single in found:
        if (single.attribute, single.segment) in parts and abs(top.relative_change or 0) < SHARPER * abs(
            single.relative_change or 0
        ):
            return single
    return top


def _p(p: float | None) -> str:
    if p is None:
        return "untested (too little data)"
    return "< 0.000001" if p < 1e-6 else f"= {p:.2g}"


def propose(runner: ToolRunner, draft: ChangeRequest) -> ProposalReport | None:
    """Propose a fix when the member may (an editor); a viewer is told what an editor could propose."""
    if not runner.allowed(runner.spec(propose_change)):
        return None
    try:
        return runner.call(propose_change, draft)
    except (InvalidInput, Conflict):  # e.g. someone fixed it meanwhile; the trace keeps the error
        return None


def _calendar(runner: ToolRunner) -> tuple[ZoneInfo, date | None]:
    """The workspace's time zone and the day of its first conversation."""
    with runner.deps.services.uow() as uow:
        scope = uow.workspace(runner.deps.workspace)
        zone = ZoneInfo(scope.workspace.time_zone)
        first, _ = scope.stats.conversation_range()
    return zone, first.astimezone(zone).date() if first else None


def _diagnose(
    runner: ToolRunner,
    change: Comparison,
    top: SegmentShift,
    segment: dict[str, str],
    period_start: datetime,
    ask: InvestigateAsk,
) -> _Diagnosis:
    found = _Diagnosis()
    metric, up = change.metric.name, (top.z or 0) > 0
    if "topic" in segment and metric != "conversation_volume":
        _content(runner, segment, period_start, ask, found)
    if {"plan", "product_area", "region", "channel", "topic", "language"} & set(segment):
        _configuration(runner, segment, period_start, ask, found)
    before, now = show(change, top.previous.value), show(change, top.current.value)
    if metric == "conversation_volume" and "channel" in segment and not up:
        gone = (top.current.value or 0) < 0.5 * (top.previous.value or 0)
        found.hypotheses.append(
            Hypothesis(
                statement=f"The {segment['channel']} channel stopped delivering conversations (an outage).",
                evidence_for=[f"{segment['channel']} conversations {before} -> {now}"] if gone else [],
                evidence_against=[] if gone else [f"{segment['channel']} still had {now} (before {before})"],
                kept=gone,
                confidence=0.8 if gone else 0.2,
            )
        )  # fmt: skip
    if metric == "conversation_volume" and up and ({"topic", "product_area"} & set(segment)):
        subject = segment.get("topic") or segment["product_area"]
        found.hypotheses.append(
            Hypothesis(
                statement=f"A wave of new questions about {subject} (a launch or a change in that area) "
                f"brought the extra conversations.",
                evidence_for=[f"{where_of(segment)} conversations {before} -> {now} while the rest held"],
                kept=True,
                confidence=0.7,
            )
        )  # fmt: skip
        if "topic" in segment:
            answered = runner.call(articles_for_topic, TopicQuery(topic=segment["topic"])).articles
            if not answered:
                found.hypotheses.append(
                    Hypothesis(
                        statement=f"No article answers {segment['topic']}: the AI agent has nothing to cite.",
                        evidence_for=[f"no AI reply on {segment['topic']} cites an article"],
                        kept=True,
                        confidence=0.6,
                    )
                )
    if "region" in segment and metric in ("csat_average", "csat_satisfied_rate"):
        _slower_replies(runner, segment["region"], ask, found)
    return found


def where_of(segment: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in segment.items())


def _slower_replies(runner: ToolRunner, region: str, ask: InvestigateAsk, found: _Diagnosis) -> None:
    wait = runner.call(
        compare_periods,
        MetricQuery(
            metric="first_response_p50",
            start=ask.start,
            end=ask.end,
            filters={"region": region, "ai_involved": "false"},
        ),
    )
    slower = wait.test.significant and (wait.change or 0) > 0
    waited, waiting = show(wait, wait.previous.value), show(wait, wait.current.value)
    found.hypotheses.append(
        Hypothesis(
            statement=f"People's first replies in {region} got slower (a staffing gap).",
            evidence_for=[f"median first reply by a person in {region} {waited} -> {waiting}"]
            if slower
            else [],
            evidence_against=[]
            if slower
            else [f"median first reply by a person in {region}: {wait.verdict}"],
            kept=slower,
            confidence=0.75 if slower else 0.2,
        )
    )


def _content(
    runner: ToolRunner,
    segment: dict[str, str],
    period_start: datetime,
    ask: InvestigateAsk,
    found: _Diagnosis,
) -> None:
    """The articles the topic is answered from: disputed by customers, stale, or just edited."""
    topic = segment["topic"]
    articles = runner.call(articles_for_topic, TopicQuery(topic=topic)).articles
    if not articles:
        found.hypotheses.append(
            Hypothesis(
                statement=f"No article answers {topic}: the AI agent has nothing to cite.",
                evidence_for=[f"no AI reply on {topic} cites an article"],
                kept=True,
                confidence=0.6,
            )
        )
        return
    feedback = runner.call(
        citation_feedback, FeedbackQuery(start=ask.start, end=ask.end, segment={"topic": topic})
    )
    disputed = {a.external_id: a for a in feedback.articles if a.disputed >= MIN_DISPUTES}
    main = next((a for a in articles if a.external_id in disputed), articles[0])
    age = (period_start - main.updated_at).days
    edited_during = main.updated_at >= period_start - timedelta(days=RECENT_EDIT_DAYS)
    answer = disputed.get(main.external_id)
    if answer is not None and not edited_during:
        claim = answer.claims[0] if answer.claims else None
        said = f" — most quoted: {claim.quote!r} ({claim.times} times)" if claim else ""
        found.hypotheses.append(
            Hypothesis(
                statement=f"Article {main.external_id} ({main.title!r}), which the AI agent answers {topic} "
                f"from, is out of date: customers told the AI agent its answer is no longer true{said}. "
                f"It was last updated {main.updated_at.date()}.",
                evidence_for=[f"{answer.disputed} disputes in {feedback.read} handed-over conversations read",
                              *[f"conversation:{c}" for c in answer.conversations[:3]]],
                kept=True,
                confidence=0.85,
            )
        )  # fmt: skip
        if claim is not None and claim.sentence is not None:
            found.fixes.append(
                retract(
                    runner, main.external_id, claim.sentence, answer.disputed, answer.conversations, topic
                )
            )
        return
    if age >= STALE_AFTER_DAYS:
        found.hypotheses.append(
            Hypothesis(
                statement=f"Article {main.external_id} ({main.title!r}) was last updated {age} days before "
                f"the change and may be stale.",
                evidence_for=[f"version {main.version}, updated {main.updated_at.date()}"],
                evidence_against=[f"no customer disputed it in {feedback.read} conversations read"],
                kept=False,
                confidence=0.3,
            )
        )  # fmt: skip
        return
    found.hypotheses.append(
        Hypothesis(
            statement=f"Article {main.external_id} ({main.title!r}) was edited shortly before the change.",
            evidence_for=[f"version {main.version} of {main.updated_at.date()}"] if edited_during else [],
            evidence_against=[] if edited_during else [f"updated {main.updated_at.date()}"],
            kept=edited_during,
            confidence=0.5 if edited_during else 0.2,
        )
    )


def retract(
    runner: ToolRunner, article_id: str, sentence: str, disputed: int, conversations: list[str], topic: str
) -> ChangeRequest:
    """An edit that stops the article stating what customers say is no longer true.

    The Operator cannot know the new fact offline; the proposal removes the untrue sentence and
    asks the reviewer to refine it with the current one.
    """
    runner.call(read_article, ArticleQuery(external_id=article_id))  # traced: the answer shows it was read
    with runner.deps.services.uow() as uow:  # the whole body (the tool's reading is cut for a model)
        body = uow.workspace(runner.deps.workspace).articles.get(article_id).body
    body = body.replace(sentence, "").replace("  ", " ").strip()
    return ChangeRequest(
        title=f"Remove the out-of-date claim from {article_id}",
        description=(
            f"Customers asking about {topic} tell the AI agent this is no longer true: {sentence!r} "
            f"({disputed} disputes). This edit removes it so the AI agent stops stating it; "
            f"refine it with the current fact before accepting."
        ),
        change_set={"articles": [{"external_id": article_id, "body": body}]},
        evidence=Evidence(conversations=conversations, notes=[f"disputed sentence: {sentence}"]),
    )


def _configuration(
    runner: ToolRunner,
    segment: dict[str, str],
    period_start: datetime,
    ask: InvestigateAsk,
    found: _Diagnosis,
) -> None:
    """A guidance rule edited shortly before or during the change whose condition names the segment."""
    rules = runner.call(list_guidance, Nothing()).rules
    window_start = period_start - timedelta(days=RECENT_EDIT_DAYS)
    window_end = datetime.combine(ask.end + timedelta(days=1), time(), period_start.tzinfo)
    suspects = []
    for rule in rules:
        condition = rule.condition.model_dump(exclude_none=True)
        if not any(str(condition.get(key)) == value for key, value in segment.items()):
            continue
        history = runner.call(rule_history, RuleQuery(external_id=rule.external_id))
        for previous, version in zip(history.versions, history.versions[1:], strict=False):
            if window_start <= version.at < window_end and version.condition != previous.condition:
                suspects.append((rule, previous, version))
    if not suspects:
        found.hypotheses.append(
            Hypothesis(
                statement="A guidance rule for this segment was changed.",
                evidence_against=[f"no rule naming {where_of(segment)} changed from {window_start.date()} "
                                  f"to {ask.end}"],
                kept=False,
                confidence=0.1,
            )
        )  # fmt: skip
        return
    for rule, previous, version in suspects:
        rid, day = rule.external_id, version.at.date()
        undone = rule.condition == RuleCondition.model_validate(previous.condition)
        found.hypotheses.append(
            Hypothesis(
                statement=f"Guidance rule {rid} ({rule.title!r}) was edited on {day} (version "
                f"{version.version}) to apply to {version.condition}; before it applied to "
                f"{previous.condition}."
                + (" It has since been set back, so it needs no fix now." if undone else ""),
                evidence_for=[f"{rid} v{previous.version} -> v{version.version}, {day}"],
                kept=True,
                confidence=0.85,
            )
        )  # fmt: skip
        if undone:
            continue
        found.fixes.append(
            ChangeRequest(
                title=f"Restore the condition of {rid} to version {previous.version}",
                description=(
                    f"Version {version.version} of {rid} ({day}) made the rule apply to {version.condition}; "
                    f"since then the {ask.metric} of {where_of(segment)} moved. This restores the condition "
                    f"of version {previous.version}: {previous.condition}."
                ),
                change_set={"guidance": [{"external_id": rid, "condition": previous.condition}]},
                evidence=Evidence(notes=[f"{rid} v{previous.version} -> v{version.version} on {day}"]),
            )
        )


def _evidence(runner: ToolRunner, segment: dict[str, str], ask: InvestigateAsk) -> EvidenceBlock | None:
    named = {k: v for k, v in segment.items() if k in SAMPLED}
    if not named:
        return None
    sample = runner.call(sample_conversations, SampleQuery(start=ask.start, end=ask.end, segment=named, k=5))
    if not sample.conversations:
        return None
    return EvidenceBlock(
        title=f"Conversations of {where_of(named)}",
        snippets=[
            Snippet(source=f"conversation:{c.external_id}", text=f"[{c.outcome}] {c.opening}")
            for c in sample.conversations
        ],
    )


SAMPLED = ("topic", "channel", "product_area", "plan", "region", "language")
MIN_DISPUTES = 3
"""Customers saying an article's answer is untrue, in the conversations read, before it is a suspect."""
