"""The front-line answer agent: one customer message in, exactly one decision out, with its trace.

For each message the agent, in this order:

1. redacts personal data and notes prompt-injection signals (they never change a rule);
2. checks the workspace's AI settings (enabled, channels, maximum AI turns);
3. searches the *published* help center with the message (plus the previous customer
   message when this one is a short follow-up);
4. infers the topic from similar past conversations when a rule or procedure needs it;
5. applies the guidance rules: a matching handover or forbidden rule hands over;
6. runs the procedure for the topic, if any: asks for missing data, or hands over with
   the data collected when the next step needs a person or a system;
7. judges every retrieved article: the chance that answering from it is right (the
   calibrated confidence model of ``frontline/confidence.py``), and hands over (or asks a
   clarifying question, once, for a short vague message) when the likeliest is under the
   threshold;
8. answers from the likeliest article: extractively offline, or with the configured model,
   whose answer must pass the grounding check — otherwise it hands over.

Every reply carries a ``DecisionTrace``; ``reply(..., store=True)`` saves it.
"""

from __future__ import annotations

import copy
import math
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from deskops.domain.models import (
    AuthorKind,
    ConfidenceModel,
    ConfidenceTrace,
    Decision,
    DecisionTrace,
    FrontlineSettings,
    GuidanceRule,
    PassageTrace,
    Procedure,
    RuleKind,
    TopicTrace,
    TraceSignals,
)
from deskops.domain.search import SearchHit
from deskops.domain.types import Result
from deskops.errors import NotFound
from deskops.frontline import compose, confidence, policy
from deskops.frontline.guard import injection_signals, without_instructions
from deskops.frontline.questions import KnownQuestions, QuestionBank
from deskops.frontline.redact import redact
from deskops.llm.complete import complete
from deskops.llm.models import LanguageModel, ModelFailure
from deskops.search.service import Retrieve
from deskops.store.repositories import WorkspaceScope
from deskops.store.uow import UnitOfWork

CLARIFY_PREFIX = "Could you tell me a bit more"
SHORT_MESSAGE_TERMS = 3
"""A message with at most this many content words is a follow-up or too vague to answer alone."""
VAGUE_TERMS = 2
"""An opening message this short ("billing") gets a clarifying question even when retrieval is sure."""
TOPIC_SHARE = 0.5
TOPIC_NEIGHBOURS = 15
TOPIC_TEMPERATURE = 0.05
PASSAGES = 5


class Inquiry(BaseModel):
    """A customer message and what the agent may know around it."""

    model_config = ConfigDict(extra="forbid")

    message: str
    history: list[tuple[AuthorKind, str]] = Field(default_factory=list)
    """Earlier messages of the conversation as (author kind, text), oldest first."""
    customer: dict[str, str | None] = Field(default_factory=dict)
    """plan, region, company_size of the customer, when known."""
    channel: str | None = None
    topic: str | None = None
    """The topic when something upstream already knows it; otherwise it is inferred."""
    conversation_external_id: str | None = None
    message_index: int | None = Field(default=None, ge=0)
    at: AwareDatetime | None = None
    """When the message was sent (replays); now by default."""


class Reply(Result):
    """What the agent does with one message, and why."""

    decision: Decision
    text: str = Field(alias="reply")
    """What the customer is sent."""
    reason: str
    """Why, in one line (the rule, the procedure step, the confidence)."""
    citations: list[str]
    """``article:<id>`` of each article the answer comes from."""
    trace_id: int | None = None
    """Id of the stored decision trace (None when not stored)."""
    trace: DecisionTrace


@dataclass
class Content:
    """The workspace content the agent runs on (current, or a candidate in replays and experiments)."""

    rules: list[GuidanceRule]
    procedures: list[Procedure]
    settings: FrontlineSettings
    article: Callable[[str], compose.Article | None]
    """An article by external id: title and body as published. ``Content.current`` reads it through
    the scope (valid while its unit of work is open); ``FrontlineAgent.content`` through a fresh one."""
    article_topics: dict[str, dict[str, int]] = field(default_factory=dict)
    """For each article, the topics of recent conversations whose AI replies cited it."""
    questions: QuestionBank = field(default_factory=QuestionBank)
    """What each published article is known to answer (its title, FAQ and resolved conversations)."""

    @classmethod
    def current(cls, scope: WorkspaceScope) -> Content:
        settings = scope.agent_settings.current()
        return cls(
            rules=scope.guidance.list(enabled=True),
            procedures=[p for p in scope.procedures.list() if p.enabled],
            settings=settings.settings if settings else FrontlineSettings(),
            article=lambda external_id: _article(scope, external_id),
        )


def _article(scope: WorkspaceScope, external_id: str) -> compose.Article | None:
    try:
        found = scope.articles.get(external_id)
    except NotFound:
        return None
    return compose.Article(external_id, found.title, found.body)


class FrontlineAgent:
    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork] | None,
        retrieve: Retrieve,
        model: LanguageModel | None = None,
        embed: Callable[[str], np.ndarray] | None = None,
        threshold: float | None = None,
        known_questions: KnownQuestions | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._retrieve = retrieve
        self.embed = embed
        """Unit-length embedding of a text, for matching messages to what rules and procedures are about."""
        self._intents: dict[str, np.ndarray] = {}
        self.model = model
        self._threshold = threshold
        self.known_questions = known_questions
        """Builds each workspace's question bank (None: the confidence model sees no known questions)."""
        self._article_topics: dict[tuple[int, str], tuple[int, dict[str, dict[str, int]]]] = {}

    @property
    def threshold(self) -> float:
        """Used when the workspace's settings do not set ``confidence_threshold``: the shipped default."""
        return self._threshold if self._threshold is not None else confidence.shipped().threshold

    def confidence_model(self, settings: FrontlineSettings) -> ConfidenceModel:
        """The workspace's refit when its settings hold one, else the shipped default."""
        return settings.confidence_model or confidence.shipped().model

    def using(self, retrieve: Retrieve) -> FrontlineAgent:
        """The same agent (model, embeddings, caches) searching through ``retrieve``: for candidates."""
        twin = copy.copy(self)
        twin._retrieve = retrieve
        return twin

    def offline(self) -> FrontlineAgent:
        """The same agent without a language model: extractive answers (simulations, evaluations)."""
        twin = copy.copy(self)
        twin.model = None
        return twin

    def intent_vector(self, text: str) -> np.ndarray:
        vector = self._intents.get(text)
        if vector is None:
            assert self.embed is not None
            vector = self._intents[text] = self.embed(text)
        return vector

    def content(self, scope: WorkspaceScope) -> Content:
        """The workspace's current content, with article topics learned from recent citations (cached
        until the next conversation write)."""
        content = Content.current(scope)
        workspace = scope.workspace.name

        def article(external_id: str) -> compose.Article | None:
            # Its own short transaction, so the content stays usable after ``scope`` closes.
            assert self._uow_factory is not None
            with self._uow_factory() as uow:
                return _article(uow.workspace(workspace), external_id)

        content.article = article
        key = (scope.workspace.id, scope.workspace.created_at.isoformat())
        revision = scope.revisions.current().revision
        cached = self._article_topics.get(key)
        if cached is None or cached[0] != revision:
            cached = self._article_topics[key] = (revision, scope.conversations.citation_topics())
        content.article_topics = cached[1]
        if self.known_questions is not None:
            content.questions = self.known_questions.bank(scope)
        return content

    def reply(
        self,
        workspace: str,
        inquiry: Inquiry,
        *,
        store: bool = True,
        content: Callable[[WorkspaceScope], Content] | None = None,
    ) -> Reply:
        """Decide and word the reply to ``inquiry``; with ``store`` the trace is saved."""
        if self._uow_factory is None:
            raise RuntimeError("this agent has no store: call decide(), or give it a uow_factory")
        with self._uow_factory() as uow:
            scope = uow.workspace(workspace)
            reply = self.decide(workspace, inquiry, (content or self.content)(scope))
            if store:
                reply.trace_id = scope.traces.add(reply.trace)
                uow.commit()
        return reply

    def decide(self, workspace: str, inquiry: Inquiry, content: Content) -> Reply:
        """The decision alone (nothing stored): what replays and experiments call."""
        began = time.perf_counter()
        run = _Run(self, workspace, inquiry, content)
        decision, text, reason = run.decide()
        if decision != Decision.handover and compose.SECRET_REQUEST.search(text):
            # The output guard: whatever the content says, never ask a customer for a secret.
            decision, text, reason = run._handover(
                "the reply would ask for a card number, PIN, password or code"
            )
            run.citations = []
        trace = DecisionTrace(
            conversation_external_id=inquiry.conversation_external_id,
            message_index=inquiry.message_index,
            created_at=inquiry.at or datetime.now(UTC),
            query=run.query,
            passages=[_passage_trace(h) for h in run.hits],
            rules=[o.as_trace() for o in run.rule_outcomes],
            procedure=run.procedure.as_trace() if run.procedure else None,
            topic=run.topic_trace,
            signals=run.signals,
            confidence=round(run.confidence, 4),
            threshold=run.threshold,
            calibration=run.calibration,
            decision=decision,
            reason=reason,
            reply=redact(text).text,
            citations=run.citations,
            model=run.model_name,
            latency_ms=round((time.perf_counter() - began) * 1000, 2),
        )
        return Reply(decision=decision, text=text, reason=reason, citations=list(run.citations), trace=trace)


def _passage_trace(hit: SearchHit) -> PassageTrace:
    return PassageTrace(
        id=hit.id,
        title=hit.title,
        section=hit.section,
        score=round(hit.score, 4),
        bm25_rank=hit.why.bm25_rank,
        dense_rank=hit.why.dense_rank,
    )


class _Run:
    """One decision: the steps of the module docstring, with what each found kept for the trace."""

    def __init__(self, agent: FrontlineAgent, workspace: str, inquiry: Inquiry, content: Content) -> None:
        self.agent, self.workspace, self.inquiry, self.content = agent, workspace, inquiry, content
        self.hits: list[SearchHit] = []
        self.confidence = 0.0
        """The chance that answering from the likeliest article is right."""
        self.judgements: list[confidence.Judgement] = []
        self.chosen: confidence.Judgement | None = None
        self.calibration: ConfidenceTrace | None = None
        self.topic_votes: dict[str, float] | None = None
        """Topic votes of similar past conversations (None: not looked up)."""
        self.citations: list[str] = []
        self.rule_outcomes: list[policy.RuleOutcome] = []
        self.procedure: policy.ProcedureState | None = None
        self.topic_trace: TopicTrace | None = None
        self.model_name = "offline"
        threshold = content.settings.confidence_threshold
        self.threshold = threshold if threshold is not None else agent.threshold
        latest = redact(without_instructions(inquiry.message))
        self.signals = TraceSignals(injection=injection_signals(inquiry.message), redacted=latest.found)
        self.query = self._query(latest.text)
        # A conversation's topic and subject are set by how it opened: follow-ups ("it's INV-2093")
        # keep them. Redacted and cleaned once; rules and procedures all compare against it.
        first = next((text for author, text in inquiry.history if author == "customer"), None)
        self.opening = redact(without_instructions(first)).text if first else latest.text
        self._opening_vector: np.ndarray | None = None

    def _query(self, latest: str) -> str:
        earlier = [text for author, text in self.inquiry.history if author == "customer"]
        if earlier and len(compose.tokenize(latest)) <= SHORT_MESSAGE_TERMS:
            return redact(without_instructions(earlier[-1])).text + " " + latest
        return latest

    # -- the decision ----------------------------------------------------------------------------------

    def decide(self) -> tuple[Decision, str, str]:
        settings = self.content.settings
        team = settings.handover_team or "a person"
        if not settings.enabled:
            return self._handover(f"the AI agent is turned off in this workspace's settings ({team})")
        channels = settings.channels
        if self.inquiry.channel and channels and self.inquiry.channel not in channels:
            return self._handover(f"the AI agent does not answer on {self.inquiry.channel}")
        ai_turns = sum(author == "ai_agent" for author, _ in self.inquiry.history)
        max_turns = settings.max_turns
        if max_turns is not None and ai_turns >= max_turns:
            return self._handover(f"{ai_turns} AI replies already (the limit is {max_turns})")

        response = self.agent._retrieve(
            self.workspace, self.query, PASSAGES, {"kind": "article", "state": "published"}
        )
        self.hits = response.hits

        customer_text = "\n".join(
            [text for author, text in self.inquiry.history if author == "customer"] + [self.inquiry.message]
        )
        language = policy.detect_language(self.inquiry.message)
        context = policy.Context(
            customer_text=customer_text,
            segment={
                "plan": self.inquiry.customer.get("plan"),
                "region": self.inquiry.customer.get("region"),
                "company_size": self.inquiry.customer.get("company_size"),
                "channel": self.inquiry.channel,
                "product_area": self.hits[0].fields.get("product_area") if self.hits else None,
                "language": language,
            },
            topic=self._topic(),
            intent=self._intent if self.agent.embed is not None else None,
            failed_answers=policy.count_failed_answers(
                [*self.inquiry.history, ("customer", self.inquiry.message)]
            ),
        )
        self._judge(response.query)
        self.rule_outcomes = policy.evaluate(self.content.rules, context)
        for outcome in self.rule_outcomes:
            if outcome.matched and outcome.rule.kind in (RuleKind.handover, RuleKind.forbidden):
                verb = "out of scope" if outcome.rule.kind == RuleKind.forbidden else "handover rule"
                return self._handover(f"{verb} '{outcome.rule.title}': {outcome.effect} ({team})")

        found = policy.procedure_for(context, self.content.procedures)
        if found is not None:
            procedure, why = found
            self.procedure = policy.advance(procedure, customer_text)
            self.procedure.why = why
            step = self.procedure
            if step.action == "ask":
                return (
                    Decision.procedure_step,
                    policy.ask_for(step.missing),
                    f"procedure '{procedure.title}' step {step.step + 1}: needs {', '.join(step.missing)}",
                )
            instruction = procedure.steps[step.step].instruction
            got = ", ".join(sorted(k for k, v in step.have.items() if v)) or "nothing"
            return self._handover(
                f"procedure '{procedure.title}' step {step.step + 1} needs a person or a system: "
                f"{instruction} (collected: {got}; {team})"
            )

        if language != "en" and self.agent.model is None:
            return self._handover(f"the customer writes in {language}; offline answers are in English only")
        if self.chosen is None or self.confidence < self.threshold:
            return self._unsure()
        if len(compose.tokenize(self.inquiry.message)) <= VAGUE_TERMS and not self.inquiry.history:
            clarify = self._clarify("the opening message is one or two words")
            if clarify is not None:
                return clarify
        return self._answer()

    def _judge(self, searched: str) -> None:
        """The chance that answering from each retrieved article is right; the likeliest is chosen."""
        if not self.hits:
            return
        model = self.agent.confidence_model(self.content.settings)
        own = self.inquiry.conversation_external_id
        features = confidence.candidate_features(
            hits=self.hits,
            query=searched,
            query_vector=self.agent.embed(searched) if self.agent.embed is not None else None,
            content_words=len(compose.tokenize(searched)),
            bank=self.content.questions,
            topic_votes=self.topic_votes,
            article_topics=self.content.article_topics,
            excluding=f"conversation:{own}" if own else None,
        )
        self.judgements = confidence.judge(model, self.hits, features)
        self.chosen = confidence.likeliest(self.judgements)
        assert self.chosen is not None
        self.confidence = self.chosen.probability
        self.calibration = ConfidenceTrace(
            article=self.chosen.hit.id,
            model=model.describe(),
            drivers=confidence.drivers(model, self.chosen.features),
            candidates=[j.as_trace() for j in self.judgements],
        )

    def _neighbour_votes(self) -> tuple[dict[str, float], int]:
        """Topic votes of the most similar past conversations, and how many voted."""
        # Only conversations from before this message (a replay must not see the answer), never itself.
        filters = {"kind": "conversation"}
        if self.inquiry.at is not None:
            filters["until"] = (self.inquiry.at.date() - timedelta(days=1)).isoformat()
        own = f"conversation:{self.inquiry.conversation_external_id}"
        response = self.agent._retrieve(self.workspace, self.opening, TOPIC_NEIGHBOURS + 1, filters)
        hits = [h for h in response.hits if h.id != own][:TOPIC_NEIGHBOURS]
        # Nearer neighbours count more: similarity scores are close together, so weight them
        # exponentially by their distance from the nearest one.
        votes: dict[str, float] = defaultdict(float)
        nearest = hits[0].score if hits else 0.0
        for hit in hits:
            topic = hit.fields.get("topic")
            if topic:
                votes[topic] += math.exp((hit.score - nearest) / TOPIC_TEMPERATURE)
        return dict(votes), len(hits)

    def _topic(self) -> str | None:
        if self.inquiry.topic is not None:
            self.topic_trace = TopicTrace(topic=self.inquiry.topic, source="given")
            self.topic_votes = {self.inquiry.topic: 1.0}
            return self.inquiry.topic
        wanted = any(r.condition.topic is not None for r in self.content.rules) or bool(
            self.content.procedures
        )
        if not wanted and not self.hits:
            return None
        neighbour_votes, neighbours = self._neighbour_votes()
        self.topic_votes = neighbour_votes  # the confidence model weighs them for every candidate
        if not wanted:
            return None
        votes: dict[str, float] = defaultdict(float, neighbour_votes)
        # The best article votes as much as all the neighbours together, split by the topics of the
        # conversations that cited it.
        cited = (
            self.content.article_topics.get(self.hits[0].id.removeprefix("article:")) if self.hits else None
        )
        if cited:
            weight = sum(votes.values()) or 1.0
            for topic, count in cited.items():
                votes[topic] += weight * count / sum(cited.values())
        total = sum(votes.values())
        if not total:
            self.topic_trace = TopicTrace(topic=None, source="similar conversations", neighbours=neighbours)
            return None
        best = max(votes, key=lambda t: votes[t])
        share = votes[best] / total
        chosen = best if share >= TOPIC_SHARE else None
        self.topic_trace = TopicTrace(
            topic=chosen,
            best=best,
            share=round(share, 3),
            source="similar conversations" + (" and the best article's citations" if cited else ""),
            neighbours=neighbours,
        )
        return chosen

    def _intent(self, text: str) -> float:
        """Cosine similarity of the conversation's opening message to ``text``."""
        if self._opening_vector is None:
            assert self.agent.embed is not None
            self._opening_vector = self.agent.embed(self.opening)
        return float(self._opening_vector @ self.agent.intent_vector(text))

    def _handover(self, reason: str) -> tuple[Decision, str, str]:
        return Decision.handover, "I'm passing you to a member of our team who can help with this.", reason

    def _unsure(self) -> tuple[Decision, str, str]:
        below = f"chance of a right answer {self.confidence:.2f} is under the threshold {self.threshold:.2f}"
        if len(compose.tokenize(self.inquiry.message)) <= SHORT_MESSAGE_TERMS:
            clarify = self._clarify(f"{below}, and the message is short")
            if clarify is not None:
                return clarify
        return self._handover(below)

    def _clarify(self, why: str) -> tuple[Decision, str, str] | None:
        """Ask once which of the best articles is meant (None: asked before, or nothing to offer)."""
        asked_before = any(
            author == "ai_agent" and text.startswith(CLARIFY_PREFIX) for author, text in self.inquiry.history
        )
        titles = list(dict.fromkeys(h.title for h in self.hits))[:3]
        if asked_before or len(titles) < 2:
            return None
        options = ", ".join(f"“{t}”" for t in titles[:-1]) + f" or “{titles[-1]}”"
        return (
            Decision.clarify,
            f"{CLARIFY_PREFIX} about what you need? For example, is it about {options}?",
            f"{why}: asking once which article it is about",
        )

    def _answer(self) -> tuple[Decision, str, str]:
        assert self.chosen is not None
        if self.agent.model is None:
            best = self.chosen.hit
            article = self.content.article(best.id.removeprefix("article:"))
            if article is None:
                return self._handover(f"the best article {best.id} is no longer published")
            self.citations = [best.id]
            return (
                Decision.answer,
                compose.extractive_answer(self.inquiry.message, article),
                f"chance of a right answer {self.confidence:.2f} ≥ {self.threshold:.2f}; "
                f"answered from {best.title!r}",
            )
        return self._model_answer()

    def _model_answer(self) -> tuple[Decision, str, str]:
        model = self.agent.model
        assert model is not None
        self.model_name = model.name
        # The likeliest article's passage first: the model reads them in order.
        assert self.chosen is not None
        ordered = [self.chosen.hit, *(h for h in self.hits if h is not self.chosen.hit)]
        passages = [compose.Passage(h.id, h.title, h.section, h.passage) for h in ordered]
        wording = [
            r.body
            for r in self.content.rules
            if r.kind in (RuleKind.tone, RuleKind.general, RuleKind.forbidden)
        ]
        history = [(author, redact(text).text) for author, text in self.inquiry.history]
        system, user = compose.prompt(passages, redact(self.inquiry.message).text, history, wording)
        try:
            completion = complete(model, system=system, prompt=user)
        except ModelFailure as error:
            return self._handover(f"the model failed ({error.kind}); handing over rather than guessing")
        # A courtesy sentence may echo what the customer wrote, never more.
        asked = " ".join(
            [redact(self.inquiry.message).text, *(text for author, text in history if author == "customer")]
        )
        grounding = compose.check_grounding(completion.text, passages, asked=asked)
        if not grounding.ok:
            return self._handover(f"answer rejected: {grounding.reason}")
        self.citations = list(dict.fromkeys(passages[n - 1].id for n in grounding.citations))
        text = re.sub(r"\s*\[\d+\]", "", completion.text).strip()
        sources = list(dict.fromkeys(passages[n - 1].title for n in grounding.citations))
        return (
            Decision.answer,
            text + "\n\nSource: " + "; ".join(sources),
            f"chance of a right answer {self.confidence:.2f} ≥ {self.threshold:.2f}; {grounding.reason}",
        )
