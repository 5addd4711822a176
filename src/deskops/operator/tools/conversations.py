"""Conversation tools: read one with the front-line agent's decision traces, search similar ones.

Customer text is data: it is handed over redacted, and nothing in it can make
the Operator call a tool (the planner chooses tools from the question alone).
"""

from __future__ import annotations

from datetime import datetime

from deskops.domain.models import DecisionTrace
from deskops.domain.search import SearchResponse
from deskops.domain.types import Result
from deskops.frontline.redact import redact
from deskops.operator.deps import OperatorDeps
from deskops.operator.tools.content import TextQuery

MESSAGE_LIMIT = 1500
MAX_MESSAGES = 30


class ConversationQuery(Result):
    external_id: str


class MessageLine(Result):
    author: str
    at: datetime
    text: str
    """Redacted, cut to ``MESSAGE_LIMIT`` characters."""
    cited_articles: list[str]


class ConversationReading(Result):
    external_id: str
    created_at: datetime
    channel: str
    topic: str | None
    outcome: str | None
    ai_involved: bool
    csat: int | None
    messages: list[MessageLine]
    """The first ``MAX_MESSAGES``."""
    traces: list[DecisionTrace]
    """Why the AI agent replied as it did, message by message."""


def read_conversation(deps: OperatorDeps, query: ConversationQuery) -> ConversationReading:
    """One conversation: its messages (redacted), outcome, and the AI agent's decision traces."""
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        conversation = scope.conversations.get(query.external_id)
        traces = scope.traces.for_conversation(query.external_id)
    return ConversationReading(
        external_id=conversation.external_id,
        created_at=conversation.created_at,
        channel=conversation.channel,
        topic=conversation.topic,
        outcome=conversation.outcome.value if conversation.outcome else None,
        ai_involved=conversation.ai_involved,
        csat=conversation.csat,
        messages=[
            MessageLine(
                author=m.author_kind.value,
                at=m.created_at,
                text=redact(m.text).text[:MESSAGE_LIMIT],
                cited_articles=m.cited_article_ids,
            )
            for m in conversation.messages[:MAX_MESSAGES]
        ],
        traces=traces,
    )


def search_conversations(deps: OperatorDeps, query: TextQuery) -> SearchResponse:
    """Past conversations similar to a description, with their best passage (redacted)."""
    found = deps.services.search.search(
        deps.workspace, query.query, k=query.k, filters={"kind": "conversation"}
    )
    hits = [
        h.model_copy(update={"passage": redact(h.passage).text, "title": redact(h.title).text})
        for h in found.hits
    ]
    return found.model_copy(update={"hits": hits})
