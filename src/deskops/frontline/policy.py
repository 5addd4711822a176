"""The workspace's guidance rules and procedures, applied to one conversation.

Rules are data: ``kind`` says what a rule does and ``condition`` when it applies.

- ``handover``: hand the conversation to a person when its condition holds —
  ``keywords`` (any of them in the customer's words), ``topic`` (the inferred topic),
  ``failed_answers`` (the customer said that many answers did not help), or segment
  keys (``plan``, ``region``, ``company_size``, ``channel``, ``product_area``,
  ``language``) that must all match.
- ``forbidden``: topics the agent must not answer (``keywords``); the agent hands over.
  The built-in output guard enforces "never ask for secrets" whatever the rules say.
- ``tone`` and ``general``: instructions for the wording of an answer; given to a
  language model, and for ``tone`` rules about language, honoured offline by handing
  over when the agent cannot answer in the customer's language.

A rule whose condition cannot be evaluated (a segment value that is unknown) does not
apply, and the trace says so. Kinds and condition keys are typed (``domain.models.RuleKind``,
``RuleCondition``): a rule with an unknown kind or key is refused when it is saved.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from deskops.domain.models import (
    GuidanceRule,
    Procedure,
    ProcedureTrace,
    RuleKind,
    RuleTrace,
)

NOT_HELPFUL = re.compile(
    r"\b(did ?n[o']?t help|does ?n[o']?t help|not helpful|no help|that'?s not (it|what i)|"
    r"does ?n[o']?t answer|did ?n[o']?t answer|still (not|doesn'?t|can'?t|isn'?t)|"
    r"that did ?n[o']?t work|not working|useless)\b",
    re.IGNORECASE,
)

_STOPWORDS = {
    "es": {
        "el",
        "la",
        "los",
        "las",
        "que",
        "de",
        "mi",
        "por",
        "para",
        "con",
        "una",
        "un",
        "no",
        "es",
        "cómo",
        "como",
        "qué",
        "pero",
        "está",
        "tengo",
        "puedo",
        "cuenta",
        "pago",
        "tarjeta",
    },
    "de": {
        "der",
        "die",
        "das",
        "und",
        "ich",
        "nicht",
        "mein",
        "meine",
        "ist",
        "wie",
        "mit",
        "ein",
        "eine",
        "kann",
        "habe",
        "auf",
        "für",
        "zu",
        "konto",
        "karte",
        "warum",
    },
    "fr": {
        "le",
        "la",
        "les",
        "je",
        "mon",
        "ma",
        "mes",
        "est",
        "pas",
        "comment",
        "pour",
        "avec",
        "une",
        "un",
        "des",
        "que",
        "ne",
        "compte",
        "carte",
        "pourquoi",
        "j'ai",
    },
    "en": {
        "the",
        "is",
        "my",
        "i",
        "to",
        "and",
        "how",
        "do",
        "can",
        "you",
        "it",
        "a",
        "not",
        "why",
        "what",
        "for",
        "with",
        "me",
        "of",
        "on",
    },
}


def detect_language(text: str) -> str:
    """en, es, de or fr by stopword counts (English when unsure): enough to honour a language rule."""
    words = re.findall(r"[a-zà-ÿ']+", text.lower())
    scores = {lang: sum(w in stop for w in words) for lang, stop in _STOPWORDS.items()}
    best = max(scores, key=lambda lang: (scores[lang], lang == "en"))
    return best if scores[best] >= 2 and scores[best] > scores["en"] else "en"


@dataclass
class Context:
    """What the rules can look at."""

    customer_text: str
    """Every customer message of the conversation so far, joined (raw; never stored)."""
    segment: dict[str, str | None] = field(default_factory=dict)
    """plan, region, company_size, channel, product_area, language."""
    topic: str | None = None
    failed_answers: int = 0
    intent: Callable[[str], float] | None = None
    """Similarity (cosine) of the conversation's opening message to a piece of text, when embeddings are
    available: a topic-scoped rule or procedure also applies when the message is about what it names."""


@dataclass
class RuleOutcome:
    rule: GuidanceRule
    matched: bool
    effect: str
    """What it did or why it did not apply."""

    def as_trace(self) -> RuleTrace:
        return RuleTrace(
            id=self.rule.external_id,
            version=self.rule.version,
            kind=self.rule.kind,
            title=self.rule.title,
            matched=self.matched,
            effect=self.effect,
        )


def _keyword_hit(keywords: list[str], text: str) -> str | None:
    lowered = text.lower()
    for keyword in keywords:
        if re.search(rf"\b{re.escape(keyword.lower())}\b", lowered):
            return keyword
    return None


def evaluate(rules: list[GuidanceRule], context: Context) -> list[RuleOutcome]:
    """Every enabled rule against the conversation, in the workspace's order."""
    return [_evaluate(rule, context) for rule in rules if rule.enabled]


def _evaluate(rule: GuidanceRule, context: Context) -> RuleOutcome:
    condition = rule.condition
    if rule.kind in (RuleKind.tone, RuleKind.general):
        return RuleOutcome(rule, True, "wording instruction")
    reasons = []
    if condition.keywords is not None:
        hit = _keyword_hit(condition.keywords, context.customer_text)
        if hit is None:
            return RuleOutcome(rule, False, "no keyword in the customer's words")
        reasons.append(f"the customer wrote {hit!r}")
    if condition.topic is not None:
        wanted = condition.topic
        if context.topic == wanted:
            reasons.append(f"topic {wanted}")
        else:
            score = context.intent(intent_text(rule.title, [wanted])) if context.intent else None
            if score is None or score < INTENT_MATCH:
                similarity = f", similarity {score:.2f}" if score is not None else ""
                return RuleOutcome(rule, False, f"topic is {context.topic or 'unknown'}{similarity}")
            reasons.append(f"the message is about {rule.title!r} (similarity {score:.2f})")
    if condition.failed_answers is not None:
        if context.failed_answers < condition.failed_answers:
            return RuleOutcome(rule, False, f"{context.failed_answers} unhelpful answer(s) so far")
        reasons.append(f"{context.failed_answers} answers did not help")
    for key, wanted_value in condition.segment().items():
        actual = context.segment.get(key)
        if actual is None:
            return RuleOutcome(rule, False, f"{key} unknown")
        if str(actual).lower() != wanted_value.lower():
            return RuleOutcome(rule, False, f"{key} is {actual}")
        reasons.append(f"{key} {actual}")
    if not reasons:  # a handover or forbidden rule with no condition cannot be checked offline
        return RuleOutcome(rule, False, "no checkable condition")
    return RuleOutcome(rule, True, "; ".join(reasons))


def count_failed_answers(history: list[tuple[str, str]]) -> int:
    """Customer messages saying the previous AI answer did not help."""
    count, after_ai = 0, False
    for author, text in history:
        if author == "ai_agent":
            after_ai = True
        elif author == "customer":
            if after_ai and NOT_HELPFUL.search(text):
                count += 1
            after_ai = False
    return count


# ----------------------------------------------------------------------------------------- procedures

_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
_DATE = (
    r"(\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|"
    rf"{_MONTH}\.? \d{{1,2}}|\d{{1,2}} {_MONTH}|"
    r"yesterday|today|last (week|monday|tuesday|wednesday|thursday|friday))"
)
EXTRACTORS: dict[str, re.Pattern[str]] = {
    "invoice_number": re.compile(
        r"\b(INV[-\s]?\d{3,}|invoice\s*(number|no\.?|#)?\s*[:#]?\s*[A-Z0-9-]*\d{3,})\b", re.I
    ),
    "charge_date": re.compile(rf"\b{_DATE}\b", re.I),
    "payout_date": re.compile(rf"\b{_DATE}\b", re.I),
    "amount": re.compile(
        r"([$€£]\s?\d[\d,]*(\.\d{1,2})?|\b\d[\d,]*(\.\d{1,2})?\s?(usd|eur|gbp|dollars|euros|pounds)\b)", re.I
    ),
    "card_last4": re.compile(
        r"\b(ending( in)?|ends( in| with)?|last (four|4)( digits)?( are| is)?:?)\s*\d{4}\b|^\s*\d{4}\s*$",
        re.I | re.M,
    ),
    "account_email": re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"),
    "transaction_id": re.compile(
        r"\b((tx|txn|tr|ch)[_-][A-Za-z0-9]{4,}|transaction\s*(id|number|#)\s*[:#]?\s*[A-Za-z0-9_-]{4,})\b",
        re.I,
    ),
}


def collected(required: list[str], customer_text: str) -> dict[str, bool]:
    """Which of the required data items the customer has given (values are never kept)."""
    out = {}
    for name in required:
        pattern = EXTRACTORS.get(name)
        if pattern is None:  # an unknown item: "<item words>: value" or "<item words> is value"
            words = r"\s+".join(map(re.escape, name.split("_")))
            pattern = re.compile(rf"\b{words}\s*(is|:|=)\s*\S+", re.I)
        out[name] = bool(pattern.search(customer_text))
    return out


@dataclass
class ProcedureState:
    procedure: Procedure
    step: int
    """Index of the step to run now."""
    have: dict[str, bool]
    action: Literal["ask", "handover"]
    """ask (for missing data), or handover (the step needs a person or a system)."""
    missing: list[str]

    why: str = ""
    """Why the procedure applies (its topic, or the message's subject)."""

    def as_trace(self) -> ProcedureTrace:
        return ProcedureTrace(
            why=self.why,
            id=self.procedure.external_id,
            version=self.procedure.version,
            title=self.procedure.title,
            step=self.step + 1,
            instruction=self.procedure.steps[self.step].instruction if self.procedure.steps else None,
            collected=sorted(k for k, v in self.have.items() if v),
            missing=self.missing,
            action=self.action,
        )


INTENT_MATCH = 0.6
"""Cosine similarity (all-MiniLM-L6-v2) above which a message is taken to be about a rule's or a
procedure's subject; on the simulated workspace matching messages score 0.6-0.9, others under 0.55."""


def intent_text(title: str, topics: list[str]) -> str:
    """What a rule or procedure is about: its title and its topic labels in words."""
    return f"{title}. " + ", ".join(t.replace("_", " ") for t in topics)


def procedure_for(context: Context, procedures: list[Procedure]) -> tuple[Procedure, str] | None:
    """The procedure this conversation calls for, and why: its topic, or a message about its subject."""
    candidates = [p for p in procedures if p.enabled and p.steps]
    for procedure in candidates:
        if context.topic is not None and context.topic in procedure.trigger_topics:
            return procedure, f"topic {context.topic}"
    if context.intent is None or not candidates:
        return None
    scored = [(context.intent(intent_text(p.title, p.trigger_topics)), p) for p in candidates]
    score, best = max(scored, key=lambda pair: pair[0])
    if score < INTENT_MATCH:
        return None
    return best, f"the message is about {best.title!r} (similarity {score:.2f})"


def advance(procedure: Procedure, customer_text: str) -> ProcedureState:
    """Where the procedure stands given what the customer has said so far.

    The first step still missing required data asks for it. Once the data is there,
    the next step runs; offline deskops has no connection to billing, cards or payouts,
    so a step that needs a system or a person hands over with the data collected.
    """
    need = list(dict.fromkeys([*procedure.required_data, *(r for s in procedure.steps for r in s.requires)]))
    have = collected(need, customer_text)
    for index, step in enumerate(procedure.steps):
        missing = [r for r in step.requires if not have.get(r)]
        if missing:
            return ProcedureState(procedure, index, have, "ask", missing)
        if step.requires:
            continue  # a data step already satisfied
        return ProcedureState(procedure, index, have, "handover", [])
    return ProcedureState(procedure, len(procedure.steps) - 1, have, "handover", [])


def ask_for(missing: list[str]) -> str:
    """A question asking for the missing data items, in plain words."""
    names = [m.replace("_", " ").replace("last4", "last four digits") for m in missing]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"To look into this, could you tell me the {listed}?"
