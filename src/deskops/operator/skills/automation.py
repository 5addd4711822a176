"""What to automate next: the topics that send the most conversations to people, what the AI agent
lacks for each (an article to answer from, a procedure to act with), and what is handed over on
purpose (a guidance rule) and so is not an opportunity.

Ranked by hand-overs that content or a procedure could keep (over at least four weeks).
"""

from __future__ import annotations

from datetime import date, timedelta

from deskops.domain.types import Result
from deskops.operator.blocks import MAX_ROWS, TableBlock, TextBlock
from deskops.operator.registry import SkillResult
from deskops.operator.runner import ToolRunner
from deskops.operator.tools.analytics import Nothing, SeriesQuery, metric_series
from deskops.operator.tools.configuration import list_guidance, list_procedures
from deskops.operator.tools.investigation import TopicQuery, articles_for_topic

SHOWN = 8
"""Opportunities listed."""
MIN_DAYS = 28
"""Periods shorter than this are widened (back from their end): too few hand-overs to rank topics."""
MIN_HANDOVERS = 5
"""A topic with fewer hand-overs in the period is not worth a line."""


class AutomationAsk(Result):
    start: date
    end: date


class Opportunity(Result):
    topic: str
    conversations: int
    handed_over: int
    rate: float
    needs: str


def automation_opportunities(runner: ToolRunner, ask: AutomationAsk) -> SkillResult:
    """Which topics to automate next: their hand-overs, and the article or procedure each lacks."""
    start = min(ask.start, ask.end - timedelta(days=MIN_DAYS - 1))  # a week is too little to rank topics
    query = SeriesQuery(
        metric="escalation_rate", start=start, end=ask.end, granularity="month", by="topic", top=100
    )
    handovers = runner.call(metric_series, query)
    protected = _protected_topics(runner)
    acting = {
        t for p in runner.call(list_procedures, Nothing()).procedures if p.enabled for t in p.trigger_topics
    }
    found: list[Opportunity] = []
    on_purpose: list[str] = []
    for group in handovers.groups:
        topic, value = group.group, group.total
        handed, involved = int(value.numerator or 0), value.denominator
        if handed < MIN_HANDOVERS or topic in ("(other)", "(missing)"):
            continue
        if topic in protected:
            on_purpose.append(topic)
            continue
        articles = runner.call(articles_for_topic, TopicQuery(topic=topic)).articles
        needs = []
        if not articles:
            needs.append("an article (no AI reply on it cites one)")
        if topic not in acting:
            needs.append("a procedure (none is triggered by it)")
        if not needs:
            needs.append(
                f"a better answer: {articles[0].external_id} and a procedure exist yet it is handed over"
            )
        found.append(
            Opportunity(
                topic=topic,
                conversations=involved,
                handed_over=handed,
                rate=value.value or 0.0,
                needs="; ".join(needs),
            )
        )
    found.sort(key=lambda o: -o.handed_over)
    if not found:
        text = (
            f"No topic sent {MIN_HANDOVERS} or more AI conversations to people from {start} to {ask.end}"
            + (
                f" apart from those guidance rules hand over on purpose ({', '.join(on_purpose)})"
                if on_purpose
                else ""
            )
            + ": there is nothing worth automating next."
        )
        return SkillResult(answer=text, blocks=[TextBlock(text=text)], no_change=True)
    best = found[0]
    lines = [
        f"From {start} to {ask.end}, the AI agent handed {best.handed_over} of {best.conversations} "
        f"{best.topic} conversations to people ({best.rate * 100:.1f}%): the next thing to automate. "
        f"It needs {best.needs}.",
    ]
    if len(found) > 1:
        lines.append(
            "Then: " + "; ".join(f"{o.topic} ({o.handed_over} handed over)" for o in found[1:4]) + "."
        )
    if on_purpose:
        lines.append(f"Left out, handed over on purpose by a guidance rule: {', '.join(on_purpose)}.")
    rows = [[o.topic, o.conversations, o.handed_over, f"{o.rate * 100:.1f}%", o.needs] for o in found[:SHOWN]]
    table = TableBlock(
        title="Automation opportunities (AI conversations handed to people)",
        columns=["topic", "AI conversations", "handed over", "rate", "needs"],
        rows=rows[:MAX_ROWS],
    )
    text = "\n".join(lines)
    return SkillResult(answer=text, blocks=[TextBlock(text=text), table])


def _protected_topics(runner: ToolRunner) -> set[str]:
    """Topics an enabled hand-over or forbidden rule sends to people on purpose."""
    return {
        rule.condition.topic
        for rule in runner.call(list_guidance, Nothing()).rules
        if rule.enabled and rule.kind.value in ("handover", "forbidden") and rule.condition.topic
    }
