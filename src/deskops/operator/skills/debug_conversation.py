"""Debug one conversation end to end: the transcript, the AI agent's decision trace (stored, or a dry
run of the first message now), the content and configuration behind it → whether the root cause is
content, guidance, a procedure or the customer's own request → the fix, proposed for an editor.

Rules are judged as they were when the conversation happened (their version history), and again as
they are now, so a rule misconfigured then and set back since is named without proposing a fix.
"""

from __future__ import annotations

import re

from deskops.domain.changes import Evidence
from deskops.domain.models import Decision, DecisionTrace, RuleCondition
from deskops.domain.types import Result
from deskops.errors import Unavailable
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
from deskops.operator.skills.investigate import propose, retract
from deskops.operator.tools.analytics import Nothing
from deskops.operator.tools.changes import ChangeRequest
from deskops.operator.tools.configuration import list_guidance
from deskops.operator.tools.conversations import (
    ConversationQuery,
    ConversationReading,
    read_conversation,
    rerun_first_message,
)
from deskops.operator.tools.investigation import RuleQuery, closest_sentence, disputed_answers, rule_history

ASKED_FOR_PERSON = re.compile(
    r"\b(?:agent|human|(?:real |a )?person|someone|representative|operator|talk to|speak to|speak with)\b",
    re.IGNORECASE,
)
RECENT_DAYS = 60
"""A rule edit this recent before the conversation is a suspect, not the rule as designed."""
SHORT = 6
"""A customer message of at most this many words that names a person is a request for one."""


class DebugAsk(Result):
    conversation: str
    """The conversation's external id, e.g. sim-0004812."""


def debug_conversation(runner: ToolRunner, ask: DebugAsk) -> SkillResult:
    """Why the AI agent did what it did in one conversation, the root cause, and the fix."""
    reading = runner.call(read_conversation, ConversationQuery(external_id=ask.conversation))
    blocks: list[Block] = [_transcript(reading)]
    if not reading.ai_involved:
        text = (
            f"Conversation {reading.external_id} ({reading.topic or 'no topic'}, {reading.channel}) was "
            "handled "
            f"by people only — the AI agent took no part, so there is nothing of its to debug. "
            f"Outcome: {reading.outcome or 'open'}."
        )
        return SkillResult(answer=text, blocks=[TextBlock(text=text), *blocks])
    trace, rerun = (reading.traces[0], False) if reading.traces else (None, True)
    customer = _customer(runner, ask.conversation)
    unindexed = None
    if trace is None:
        try:
            trace = runner.call(rerun_first_message, ConversationQuery(external_id=ask.conversation)).trace
        except Unavailable as exc:  # no search index: judge from the transcript and the history alone
            unindexed = str(exc)
    if trace is not None:
        blocks.append(_trace_table(trace, rerun))
    hypotheses: list[Hypothesis] = []
    fixes: list[ChangeRequest] = []
    _guidance(runner, reading, customer, trace, hypotheses, fixes)
    _content(runner, reading, trace, hypotheses, fixes)
    _procedure(trace, hypotheses)
    _customer_request(reading, hypotheses)
    kept = [h for h in hypotheses if h.kept]
    kept.sort(key=lambda h: -h.confidence)
    head = (
        f"Conversation {reading.external_id} ({reading.topic or 'no topic'}, {reading.channel}) ended "
        f"{(reading.outcome or 'open').replace('_', ' ')}."
    )
    lines = [head]
    if trace is None:
        lines.append(f"It has no stored decision trace, and it could not be run again: {unindexed}.")
    elif rerun:
        lines.append(
            "It has no stored decision trace, so its first message was run again now (nothing stored): "
            f"the AI agent would {trace.decision.value.replace('_', ' ')} ({trace.reason})."
        )
    else:
        lines.append(f"The AI agent decided to {trace.decision.value.replace('_', ' ')}: {trace.reason}.")
    if kept:
        lines.append("Root cause: " + kept[0].statement)
        lines += ["Also: " + h.statement for h in kept[1:]]
    else:
        lines.append(
            "No fault in its content, guidance or procedures explains it; see what was tested below."
        )
    made = [report for report in (propose(runner, fix) for fix in fixes) if report is not None]
    if fixes and not made:
        lines.append("An editor can propose the fix: " + " ".join(f.title for f in fixes) + ".")
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


def _transcript(reading: ConversationReading) -> EvidenceBlock:
    return EvidenceBlock(
        title=f"Conversation {reading.external_id}",
        snippets=[
            Snippet(
                source=f"conversation:{reading.external_id}",
                text=f"{m.author}: {m.text[:300]}"
                + (f" [cites {', '.join(m.cited_articles)}]" if m.cited_articles else ""),
            )
            for m in reading.messages[:MAX_ROWS]
        ],
    )


def _customer(runner: ToolRunner, conversation: str) -> dict[str, str | None]:
    """The plan, region and company size of the conversation's customer (what rules test)."""
    with runner.deps.services.uow() as uow:
        scope = uow.workspace(runner.deps.workspace)
        external = scope.conversations.get(conversation).customer_external_id
        if external is None:
            return {}
        found = scope.customers.get(external)
    return {"plan": found.plan, "region": found.region, "company_size": found.company_size}


def _trace_table(trace: DecisionTrace, rerun: bool) -> TableBlock:
    rows: list[list[object]] = [
        ["decision", trace.decision.value],
        ["reason", trace.reason],
        ["chance of a right answer", f"{trace.confidence:.2f} (answers at {trace.threshold:.2f})"],
        ["topic", trace.topic.topic if trace.topic else "–"],
        ["best passages", ", ".join(f"{p.id} {p.score:.2f}" for p in trace.passages[:3]) or "–"],
        ["rules that matched", ", ".join(f"{r.id} v{r.version}" for r in trace.rules if r.matched) or "none"],
        ["procedure", f"{trace.procedure.id} step {trace.procedure.step}" if trace.procedure else "–"],
    ]
    title = "What the AI agent would do now (dry run)" if rerun else "The AI agent's decision trace"
    return TableBlock(title=title, columns=["", ""], rows=rows)


def _guidance(
    runner: ToolRunner,
    reading: ConversationReading,
    customer: dict[str, str | None],
    trace: DecisionTrace | None,
    hypotheses: list[Hypothesis],
    fixes: list[ChangeRequest],
) -> None:
    """A hand-over rule that applied when the conversation happened: by design, or edited to apply."""
    facts = {
        **{k: v for k, v in customer.items() if v},
        "channel": reading.channel,
        **({"topic": reading.topic} if reading.topic else {}),
    }
    if reading.product_area:
        facts["product_area"] = reading.product_area
    matched_now = {r.id for r in trace.rules if r.matched} if trace else set()
    for rule in runner.call(list_guidance, Nothing()).rules:
        history = runner.call(rule_history, RuleQuery(external_id=rule.external_id)).versions
        then = [v for v in history if v.at <= reading.created_at]
        if not then:
            continue
        version = then[-1]
        segment = RuleCondition.model_validate(version.condition).segment()
        if version.kind not in ("handover", "forbidden") or not version.enabled or not segment:
            continue
        if any(facts.get(key) != value for key, value in segment.items()):
            continue
        earlier = next((v for v in reversed(then[:-1]) if v.condition != version.condition), None)
        set_back = earlier is not None and rule.condition == RuleCondition.model_validate(earlier.condition)
        named = ", ".join(f"{k}={v}" for k, v in segment.items())
        rid, day = rule.external_id, version.at.date()
        if earlier is not None and (reading.created_at - version.at).days <= RECENT_DAYS:
            seen = ", ".join(f"{k}={facts[k]}" for k in segment)
            hypotheses.append(
                Hypothesis(
                    statement=f"Guidance rule {rid} ({rule.title!r}) handed it over: version "
                    f"{version.version} of {day} applied it to {named}, which this conversation is; "
                    f"version {earlier.version} applied it to {earlier.condition}."
                    + (" It has since been set back." if set_back else ""),
                    evidence_for=[f"{rid} v{earlier.version} -> v{version.version} on {day}",
                                  f"the conversation: {seen}"],
                    kept=True,
                    confidence=0.85,
                )
            )  # fmt: skip
            if not set_back:
                fixes.append(
                    ChangeRequest(
                        title=f"Restore the condition of {rid} to version {earlier.version}",
                        description=(
                            f"Conversation {reading.external_id} was handed over by {rid}, which version "
                            f"{version.version} ({day}) made apply to {named}. This restores the condition "
                            f"of version {earlier.version}: {earlier.condition}."
                        ),
                        change_set={"guidance": [{"external_id": rid, "condition": earlier.condition}]},
                        evidence=Evidence(conversations=[reading.external_id]),
                    )
                )  # fmt: skip
            continue
        hypotheses.append(
            Hypothesis(
                statement=f"Guidance rule {rid} ({rule.title!r}) hands {named} over to a person, as "
                f"written (unchanged since {day}).",
                evidence_for=[f"matched {'now and ' if rule.external_id in matched_now else ''}then"],
                kept=True,
                confidence=0.6,
            )
        )


def _content(
    runner: ToolRunner,
    reading: ConversationReading,
    trace: DecisionTrace | None,
    hypotheses: list[Hypothesis],
    fixes: list[ChangeRequest],
) -> None:
    """The article the AI agent answered from, disputed by the customer; or no article good enough."""
    disputes = disputed_answers((m.author, m.text, m.cited_articles) for m in reading.messages)
    if disputes:
        article_id, quote = disputes[0]
        said = f" ({quote!r})" if quote else ""
        hypotheses.append(
            Hypothesis(
                statement=f"The AI agent answered from article {article_id} and the customer said the "
                f"answer is no longer true{said}: the article is out of date.",
                evidence_for=[f"conversation:{reading.external_id}"],
                kept=True,
                confidence=0.8,
            )
        )  # fmt: skip
        if quote:
            with runner.deps.services.uow() as uow:
                body = uow.workspace(runner.deps.workspace).articles.get(article_id).body
            sentence = closest_sentence(body, quote)
            if sentence:
                topic = reading.topic or "this topic"
                fixes.append(retract(runner, article_id, sentence, 1, [reading.external_id], topic))
        return
    if trace is None:
        return
    if (
        trace.decision == Decision.handover
        and not any(r.matched for r in trace.rules)
        and not trace.procedure
    ):
        best = trace.calibration.article if trace.calibration else None
        low = trace.confidence < trace.threshold
        hypotheses.append(
            Hypothesis(
                statement=(
                    "No article answers it well enough: the likeliest "
                    f"({best or 'none'}) had a chance of a right answer of "
                    f"{trace.confidence:.2f}, under the {trace.threshold:.2f} needed — a "
                    "content gap "
                    f"on {reading.topic or 'its subject'}."
                ),
                evidence_for=[trace.reason],
                kept=low,
                confidence=0.6 if low else 0.2,
            )
        )


def _procedure(trace: DecisionTrace | None, hypotheses: list[Hypothesis]) -> None:
    if trace is None or trace.procedure is None or trace.procedure.action != "handover":
        return
    missing = ", ".join(trace.procedure.missing) or "nothing"
    hypotheses.append(
        Hypothesis(
            statement=f"Procedure {trace.procedure.id} ({trace.procedure.title!r}) handed over at step "
            f"{trace.procedure.step} (missing: {missing}).",
            evidence_for=[trace.procedure.why],
            kept=True,
            confidence=0.7,
        )
    )


def _customer_request(reading: ConversationReading, hypotheses: list[Hypothesis]) -> None:
    """The customer asked for a person in a short message: no content or rule could have kept it."""
    for message in reading.messages:
        if message.author != "customer":
            continue
        words = message.text.split()
        if len(words) <= SHORT and ASKED_FOR_PERSON.search(message.text):
            hypotheses.append(
                Hypothesis(
                    statement=f"The customer asked for a person ({message.text.strip()[:60]!r}).",
                    evidence_for=[f"conversation:{reading.external_id}"],
                    kept=True,
                    confidence=0.5,
                )
            )
            return
