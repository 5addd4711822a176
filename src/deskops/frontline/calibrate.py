"""Refitting the front-line agent's confidence model on a workspace's own history.

The opening message of each closed conversation of a period is asked again (nothing is
written), and every article the agent would judge gets a label when the history says
whether answering from it was right:

- the article an AI reply of that conversation cited: **right** when the AI resolved the
  conversation and it was never reopened, **wrong** when it was escalated, resolved by a
  person or reopened (an abandoned conversation says nothing);
- any other article, when the conversation has a topic: **right** when the article serves
  that topic (at least a fifth of its citations are in conversations of it), **wrong** when
  it does not; an article without citations says nothing.

The refit is a logistic regression on the same features as the default. It is offered only
when the history is large enough (``MIN_LABELLED`` labelled articles, ``MIN_EACH`` of each
kind), when it predicts a held-out fifth of that history at least as well as the model in use
(Brier score), and when it hands over no fewer of the conversations on topics that guidance
rules protect (hand-over and forbidden rules scoped to a topic; rules are checked before
confidence, so this only matters where the topic is not recognised). Otherwise the model in
use stays, and the outcome says why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from deskops.domain.calibration import CalibrationOutcome, ProtectedTopicCheck
from deskops.domain.models import CalibrationSource, ConfidenceModel, Decision, RuleKind
from deskops.frontline import confidence
from deskops.frontline.agent import Content, FrontlineAgent, Inquiry, Reply
from deskops.search.service import SearchService
from deskops.store.repositories import WorkspaceScope
from deskops.store.repositories.conversations import Opening

MIN_LABELLED = 200
"""Labelled candidate articles needed to refit."""
MIN_EACH = 30
"""Of them, at least this many right and this many wrong."""
HOLDOUT_EVERY = 5
"""Every fifth conversation is held out to compare the refit with the model in use."""
MAX_CONVERSATIONS = 5000


@dataclass(frozen=True)
class Labelled:
    """One judged candidate article of a past conversation, with what the history says about it."""

    conversation: str
    features: dict[str, float]
    right: int


def labels_for(
    reply: Reply,
    row: Opening,
    cited: Sequence[str],
    article_topics: dict[str, dict[str, int]],
) -> list[Labelled]:
    """The candidates of one replayed conversation that its history labels (see the module docstring)."""
    calibration = reply.trace.calibration
    if calibration is None:
        return []
    out = []
    for candidate in calibration.candidates:
        article = candidate.article.removeprefix("article:")
        right: int | None = None
        if article in cited:
            if row.outcome == "ai_resolved":
                right = int(row.reopen_count == 0)
            elif row.outcome in ("escalated_unresolved", "human_resolved"):
                right = 0
        elif row.topic is not None and article_topics.get(article):
            counts = article_topics[article]
            right = int(counts.get(row.topic, 0) >= confidence.TOPIC_CITATION_SHARE * sum(counts.values()))
        if right is not None:
            out.append(Labelled(row.external_id, candidate.features, right))
    return out


def protected_topics(content: Content) -> dict[str, str]:
    """Topic -> the external id of an enabled hand-over or forbidden rule scoped to it."""
    found: dict[str, str] = {}
    for rule in content.rules:
        if rule.kind in (RuleKind.handover, RuleKind.forbidden) and rule.condition.topic:
            found.setdefault(rule.condition.topic, rule.external_id)
    return found


def refit(
    *,
    agent: FrontlineAgent,
    search: SearchService,
    scope: WorkspaceScope,
    start: datetime,
    end: datetime,
    limit: int = 2000,
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CalibrationOutcome:
    """Refit the workspace's confidence model on its conversations of [start, end) (nothing written)."""
    workspace = scope.workspace.name
    agent = agent.offline()
    rows = [r for r in scope.conversations.openings(start=start, end=end, limit=limit) if r.outcome]
    cited = scope.conversations.ai_citations([r.external_id for r in rows])
    content = agent.content(scope)
    current = agent.confidence_model(content.settings)
    labelled: list[Labelled] = []
    replies: dict[str, Reply] = {}
    with search.pinned(workspace):
        for n, row in enumerate(rows, 1):
            reply = agent.decide(workspace, _inquiry(row), content)
            replies[row.external_id] = reply
            labelled += labels_for(reply, row, cited.get(row.external_id, []), content.article_topics)
            if progress:
                progress(n, len(rows))
    right = sum(item.right for item in labelled)
    outcome = CalibrationOutcome(
        workspace=workspace,
        decision="kept",
        reason="",
        conversations=len(rows),
        labelled=len(labelled),
        right=right,
        wrong=len(labelled) - right,
    )
    if len(labelled) < MIN_LABELLED or min(right, len(labelled) - right) < MIN_EACH:
        outcome.reason = (
            f"too little history to refit: {len(labelled)} labelled answers ({right} right, "
            f"{len(labelled) - right} wrong) in {len(rows)} closed conversations; it needs {MIN_LABELLED}, "
            f"with at least {MIN_EACH} of each — keeping the {current.kind} model"
        )
        return outcome

    conversations = sorted({item.conversation for item in labelled})
    held_out = set(conversations[::HOLDOUT_EVERY])
    train = [item for item in labelled if item.conversation not in held_out]
    test = [item for item in labelled if item.conversation in held_out]
    fitted_on = f"labelled candidate articles of {workspace}'s conversations"
    trial = _fit(train, fitted_on, today)
    outcome.current = confidence.reliability(
        [confidence.probability(current, item.features) for item in test], [item.right for item in test]
    )
    outcome.refit_reliability = confidence.reliability(
        [confidence.probability(trial, item.features) for item in test], [item.right for item in test]
    )
    model = _fit(labelled, fitted_on, today)
    outcome.model = model
    if outcome.refit_reliability.brier > outcome.current.brier:
        outcome.reason = (
            f"the refit predicts the held-out fifth of the history worse than the {current.kind} model "
            f"(Brier {outcome.refit_reliability.brier:.3f} vs {outcome.current.brier:.3f}) — keeping it"
        )
        return outcome

    refitted = replace(content, settings=content.settings.model_copy(update={"confidence_model": model}))
    protected = protected_topics(content)
    with search.pinned(workspace):
        for topic, rule in sorted(protected.items()):
            on_topic = [r for r in rows if r.topic == topic]
            if not on_topic:
                continue
            now = sum(replies[r.external_id].decision == Decision.handover for r in on_topic)
            after = sum(
                agent.decide(workspace, _inquiry(r), refitted).decision == Decision.handover for r in on_topic
            )
            outcome.protected_topics.append(
                ProtectedTopicCheck(
                    topic=topic,
                    rule=rule,
                    conversations=len(on_topic),
                    handed_over_now=now,
                    handed_over_refit=after,
                )
            )
    fewer = [c for c in outcome.protected_topics if c.handed_over_refit < c.handed_over_now]
    if fewer:
        worst = fewer[0]
        outcome.reason = (
            f"the refit would hand over fewer conversations on {worst.topic}, which rule {worst.rule} "
            f"protects ({worst.handed_over_refit} of {worst.conversations} instead of "
            f"{worst.handed_over_now}) — keeping the {current.kind} model"
        )
        return outcome
    outcome.decision = "refit"
    outcome.reason = (
        f"refit on {len(labelled)} labelled answers from {len(rows)} closed conversations: Brier "
        f"{outcome.refit_reliability.brier:.3f} (the {current.kind} model: {outcome.current.brier:.3f}) "
        f"and ECE {outcome.refit_reliability.ece:.3f} ({outcome.current.ece:.3f}) on the held-out fifth"
    )
    return outcome


def _fit(items: Sequence[Labelled], fitted_on: str, today: date | None) -> ConfidenceModel:
    conversations = len({item.conversation for item in items})
    return confidence.fit(
        [item.features for item in items],
        [item.right for item in items],
        kind="workspace",
        fitted_on=fitted_on,
        sources=[CalibrationSource(dataset="workspace", questions=conversations)],
        fitted_at=today,
    )


def _inquiry(row: Opening) -> Inquiry:
    return Inquiry(
        message=row.text,
        customer={"plan": row.plan, "region": row.region},
        channel=row.channel,
        conversation_external_id=row.external_id,
        message_index=0,
        at=row.created_at,
    )
