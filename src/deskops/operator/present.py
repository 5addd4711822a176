"""A single tool's result as an answer: a sentence and blocks (tables, evidence, a proposal).

Every figure in the sentence is read off the result, so it is grounded by construction.
"""

from __future__ import annotations

from typing import Any

from deskops.domain.analytics import WorkspaceSummary
from deskops.domain.changes import ProposalReport
from deskops.domain.search import SearchResponse
from deskops.operator.blocks import (
    MAX_ROWS,
    Block,
    EvidenceBlock,
    ProposalBlock,
    Snippet,
    TableBlock,
    TextBlock,
)
from deskops.operator.tools.analytics import MetricCatalog
from deskops.operator.tools.changes import ProposalList
from deskops.operator.tools.configuration import GuidanceList, ProcedureList, SettingsReading
from deskops.operator.tools.content import ArticleList, ArticleReading
from deskops.operator.tools.conversations import ConversationReading
from deskops.operator.tools.reporting import Report


def describe(tool: str, result: Any) -> str:
    """One or two sentences saying what a tool found."""
    if isinstance(result, Report):
        return " ".join(result.summary[:6]) or f"{tool} found nothing to report."
    if isinstance(result, WorkspaceSummary):
        span = result.period
        return (
            f"{result.workspace} holds {result.counts.conversations:,} conversations "
            f"({span.first_conversation} to {span.last_conversation}), {result.counts.articles} articles, "
            f"{result.counts.guidance_rules} guidance rules and {result.counts.procedures} procedures."
        )
    if isinstance(result, GuidanceList):
        enabled = sum(r.enabled for r in result.rules)
        return f"The AI agent has {len(result.rules)} guidance rules; {enabled} are enabled."
    if isinstance(result, ProcedureList):
        return f"The AI agent has {len(result.procedures)} procedures."
    if isinstance(result, SettingsReading):
        s = result.settings
        on = "on" if s.enabled else "off"
        return f"The AI agent is {on}; its confidence threshold is {s.confidence_threshold}."
    if isinstance(result, ProposalList):
        return f"{len(result.proposals)} proposals." if result.proposals else "There are no proposals."
    if isinstance(result, ProposalReport):
        p = result.proposal
        return f"Proposal {p.id} ({p.title}) is {p.state.value}; its reviewers' verdict: {result.verdict}."
    if isinstance(result, ConversationReading):
        decisions = ", ".join(t.decision.value for t in result.traces) or "no decision traces"
        return (
            f"Conversation {result.external_id} ({result.channel}, topic {result.topic}) ended "
            f"{result.outcome or 'open'}; the AI agent's decisions: {decisions}."
        )
    if isinstance(result, ArticleReading):
        return (
            f"Article {result.external_id}, {result.title!r}, is {result.state}; "
            f"{len(result.versions)} versions."
        )
    if isinstance(result, ArticleList):
        return f"{result.total} articles."
    if isinstance(result, SearchResponse):
        if not result.hits:
            return "Nothing in the help center matches that."
        return f"The best match is {result.hits[0].title!r} ({result.hits[0].id})."
    if isinstance(result, MetricCatalog):
        return f"{len(result.metrics)} metrics are available."
    return f"{tool} returned a result."


def blocks_for(result: Any) -> list[Block]:
    """The blocks that show a tool's result."""
    rows: list[list[Any]]
    if isinstance(result, Report):
        return result.blocks()
    if isinstance(result, GuidanceList):
        rows = [[r.external_id, r.kind.value, r.enabled, r.title] for r in result.rules]
        return [
            TableBlock(
                title="Guidance rules", columns=["id", "kind", "enabled", "title"], rows=rows[:MAX_ROWS]
            )
        ]
    if isinstance(result, ProcedureList):
        rows = [
            [p.external_id, ", ".join(p.trigger_topics), len(p.steps), p.enabled, p.title]
            for p in result.procedures
        ]
        return [
            TableBlock(
                title="Procedures",
                columns=["id", "triggers", "steps", "enabled", "title"],
                rows=rows[:MAX_ROWS],
            )
        ]
    if isinstance(result, SettingsReading):
        rows = [[k, str(v)] for k, v in result.settings.model_dump(mode="json").items()]
        return [TableBlock(title="AI agent settings", columns=["setting", "value"], rows=rows)]
    if isinstance(result, ProposalList):
        rows = [[p.id, p.state.value, p.verdict, p.title] for p in result.proposals]
        return [
            TableBlock(title="Proposals", columns=["id", "state", "verdict", "title"], rows=rows[:MAX_ROWS])
        ]
    if isinstance(result, ProposalReport):
        return [ProposalBlock(report=result)]
    if isinstance(result, ConversationReading):
        snippets = [
            Snippet(source=f"conversation:{result.external_id}", text=f"{m.author}: {m.text}")
            for m in result.messages
        ]
        rows = [[t.message_index, t.decision.value, round(t.confidence, 3), t.reason] for t in result.traces]
        return [
            EvidenceBlock(title=f"Conversation {result.external_id}", snippets=snippets[:MAX_ROWS]),
            TableBlock(
                title="Decisions", columns=["message", "decision", "confidence", "why"], rows=rows[:MAX_ROWS]
            ),
        ]
    if isinstance(result, ArticleReading):
        rows = [[v.version, v.at.isoformat()[:10], v.changed_by, v.why] for v in result.versions]
        return [
            EvidenceBlock(
                title=result.title,
                snippets=[Snippet(source=f"article:{result.external_id}", text=result.body)],
            ),
            TableBlock(title="Versions", columns=["version", "date", "by", "why"], rows=rows[:MAX_ROWS]),
        ]
    if isinstance(result, ArticleList):
        rows = [
            [a.external_id, a.state, a.updated_at.isoformat()[:10], a.words, a.title] for a in result.articles
        ]
        return [
            TableBlock(
                title="Articles", columns=["id", "state", "updated", "words", "title"], rows=rows[:MAX_ROWS]
            )
        ]
    if isinstance(result, SearchResponse):
        snippets = [Snippet(source=h.id, text=h.passage) for h in result.hits]
        return [EvidenceBlock(title=f"Search: {result.query}", snippets=snippets[:MAX_ROWS])]
    if isinstance(result, MetricCatalog):
        rows = [[m.name, m.label, m.unit, m.good] for m in result.metrics]
        return [TableBlock(title="Metrics", columns=["name", "label", "unit", "better"], rows=rows)]
    if isinstance(result, WorkspaceSummary):
        rows = [[t.topic, t.conversations, t.ai_resolution_rate] for t in result.top_topics]
        return [
            TableBlock(title="Top topics", columns=["topic", "conversations", "AI resolution"], rows=rows)
        ]
    return [TextBlock(text=str(result)[:2000])]
