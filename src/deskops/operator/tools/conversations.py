"""Conversation tools: read one with the front-line agent's decision traces, search similar ones.

Customer text is data: it is handed over redacted, and nothing in it can make
the Operator call a tool (the planner chooses tools from the question alone).
"""

from __future__ import annotations

from datetime import datetime

from deskops.domain.models import AuthorKind, DecisionTrace
from deskops.domain.search import SearchResponse
from deskops.domain.types import Result
from deskops.errors import InvalidInput
from deskops.frontline.agent import Inquiry
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
    product_area: str | None
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
        product_area=conversation.product_area,
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
    deps.search_index()
    found = deps.services.search.search(
        deps.workspace, query.query, k=query.k, filters={"kind": "conversation"}
    )
    hits = [
        h.model_copy(update={"passage": redact(h.passage).text, "title": redact(h.title).text})
        for h in found.hits
    ]
    return found.model_copy(update={"hits": hits})


class RerunReading(Result):
    external_id: str
    customer: dict[str, str | None]
    """The customer's plan, region and company size (what rules may test)."""
    trace: DecisionTrace
    """What the AI agent decides now for the conversation's first customer message (redacted)."""


def rerun_first_message(deps: OperatorDeps, query: ConversationQuery) -> RerunReading:
    """A dry run: what the AI agent would do now with a conversation's first message (nothing stored)."""
    deps.search_index()
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        conversation = scope.conversations.get(query.external_id)
        customer = (
            scope.customers.get(conversation.customer_external_id)
            if conversation.customer_external_id
            else None
        )
    first = next((m for m in conversation.messages if m.author_kind == AuthorKind.customer), None)
    if first is None:
        raise InvalidInput(f"conversation {query.external_id} has no customer message to run again")
    profile = {
        "plan": customer.plan if customer else None,
        "region": customer.region if customer else None,
        "company_size": customer.company_size if customer else None,
    }
    reply = deps.services.frontline.offline().reply(
        deps.workspace,
        Inquiry(
            message=first.text,
            customer=profile,
            channel=conversation.channel,
            conversation_external_id=conversation.external_id,
            message_index=0,
            at=first.created_at,
        ),
        store=False,
    )
    return RerunReading(external_id=conversation.external_id, customer=profile, trace=reply.trace)
