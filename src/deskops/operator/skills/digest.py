"""The weekly operations digest: the headline figures against the week before, an investigation of
each figure that got significantly worse, the next thing to automate, and the proposals waiting
for a decision — one answer a support lead can read on Monday morning.

It composes the other skills (each keeps its own hypotheses and evidence) and adds nothing they
did not find: a quiet week says so.
"""

from __future__ import annotations

from datetime import date, timedelta

from deskops.domain.changes import ProposalState
from deskops.domain.types import Result
from deskops.operator.blocks import Block, HypothesesBlock, Hypothesis, TableBlock, TextBlock
from deskops.operator.registry import SkillResult
from deskops.operator.runner import ToolRunner
from deskops.operator.skills.automation import AutomationAsk, automation_opportunities
from deskops.operator.skills.investigate import InvestigateAsk, investigate
from deskops.operator.skills.performance_report import EXPLAINED, ReportAsk, performance_report
from deskops.operator.tools.analytics import MetricQuery, compare_periods
from deskops.operator.tools.changes import ProposalsQuery, list_proposals

WAITING = 5
"""Open proposals listed."""


class DigestAsk(Result):
    start: date
    end: date


def weekly_digest(runner: ToolRunner, ask: DigestAsk) -> SkillResult:
    """The week in one answer: headline figures, why the worse ones moved, what to automate, what waits."""
    end = ask.end
    start = end - timedelta(days=6) if (end - ask.start).days < 6 else ask.start
    report = performance_report(runner, ReportAsk(start=start, end=end))
    sections = ["**The week** " + report.answer]
    blocks: list[Block] = [b for b in report.blocks if not isinstance(b, TextBlock)]
    hypotheses: list[Hypothesis] = []
    worse = []
    for metric in EXPLAINED:
        change = runner.call(compare_periods, MetricQuery(metric=metric, start=start, end=end))
        if change.verdict == "worse":
            worse.append(metric)
    for metric in worse:
        found = investigate(runner, InvestigateAsk(metric=metric, start=start, end=end))
        sections.append("**Why** " + found.answer)
        hypotheses += found.hypotheses
        blocks += [b for b in found.blocks if not isinstance(b, TextBlock | HypothesesBlock)]
    if not worse:
        sections.append("Nothing got significantly worse, so there is nothing to investigate.")
    automation = automation_opportunities(runner, AutomationAsk(start=start, end=end))
    sections.append("**Automate next** " + automation.answer.split("\n")[0])
    waiting = runner.call(list_proposals, ProposalsQuery(state=ProposalState.open, limit=WAITING)).proposals
    if waiting:
        sections.append(
            "**Waiting for a decision** " + "; ".join(f"#{p.id} {p.title}" for p in waiting) + "."
        )
        blocks.append(
            TableBlock(
                title="Open proposals",
                columns=["#", "title", "opened"],
                rows=[[p.id, p.title, p.created_at.date().isoformat()] for p in waiting],
            )
        )
    else:
        sections.append("**Waiting for a decision** No proposal is open.")
    text = "\n\n".join(sections)
    if hypotheses:
        blocks.append(HypothesesBlock(hypotheses=hypotheses))
    return SkillResult(
        answer=text,
        blocks=[TextBlock(text=text), *blocks],
        hypotheses=hypotheses,
        no_change=report.no_change and not worse,
    )
