"""The simulated help center, guidance rules, procedures and AI agent settings.

Besides the records, this decides how good each topic's content is over time
(``TopicCoverage``), which is what drives the AI agent's resolution rate.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from deskops.domain.models import (
    Article,
    ContentState,
    FrontlineSettings,
    GuidanceRule,
    Procedure,
    ProcedureStep,
    RuleCondition,
    RuleKind,
)
from deskops.simulate.catalog import AREAS, TOPICS, Topic

DAY = timedelta(days=1)
AUTHORS = ("Maya Lindqvist", "Jonas Weber", "Priya Raman", "Tom Okafor", "Lea Martin")

ENTERPRISE_BILLING_RULE = "gr-enterprise-billing"
"""The hand-over rule the guidance incident edits to target the wrong plan."""
# How well content answers a topic (1 = complete and current, 0 = nothing usable).
QUALITY = {"current": 1.0, "thin": 0.6, "contradicted": 0.7, "stale": 0.3, "missing": 0.0, "draft_only": 0.0}


@dataclass
class TopicCoverage:
    """How well the published help center covers one topic, as a step function of time."""

    topic: Topic
    article_id: str | None
    changes: list[tuple[datetime, str]] = field(default_factory=list)
    """(from when, coverage label); labels are keys of QUALITY."""

    def label_at(self, at: datetime) -> str:
        label = self.changes[0][1]
        for since, new_label in self.changes:
            if since <= at:
                label = new_label
        return label


@dataclass(frozen=True)
class StaleChange:
    """The stale-article incident: a product change ``topic``'s article is never updated for."""

    topic: Topic
    start: datetime
    """When the product changed; the article is stale from then to the end of the period."""


@dataclass(frozen=True)
class MisdirectedRule:
    """The guidance incident: the Enterprise billing hand-over rule edited to target ``plan``."""

    plan: str
    start: datetime
    end: datetime
    """When the rule is put right (no fix is written when this is the end of the period)."""


@dataclass
class ContentPlan:
    articles: list[tuple[datetime, Article]]
    """Every article version, in the order it was written."""
    rules: list[GuidanceRule]
    procedures: list[Procedure]
    settings: list[tuple[datetime, FrontlineSettings]]
    coverage: dict[str, TopicCoverage]
    handover_topics: set[str]
    """Topics a guidance rule always hands over."""
    misconfigured_rule: str | None
    """External id of the rule the guidance incident edits (None: no such incident)."""
    issues: dict[str, list[str]]
    """Known content problems by kind (missing, draft_only, thin, stale, contradicting): ground truth."""
    product_changes: dict[str, datetime] = field(default_factory=dict)
    """When each topic's product change happened, for the topics with an article that has one."""


def article_body(topic: Topic, *, facts: tuple[str, ...] | None = None, thin: bool = False) -> str:
    """Markdown for a topic's article; ``facts`` replaces the notes (after a product change)."""
    lines = [topic.summary, ""]
    if not thin:
        lines += ["## Steps", ""] + [f"{n}. {step}" for n, step in enumerate(topic.steps, 1)] + [""]
    notes = facts if facts is not None else topic.notes
    if notes and not thin:
        lines += ["## Good to know", ""] + [f"- {note}" for note in notes] + [""]
    return "\n".join(lines).strip() + "\n"


def _updated_notes(topic: Topic) -> tuple[str, ...]:
    assert topic.change is not None
    old, new = topic.change
    return tuple(new if note == old else note for note in topic.notes)


def _updated_body(topic: Topic) -> str:
    """The article after a product change: the fact is fixed and flagged at the top.

    The summary is left as it was, as editors often do, so some updated articles
    still restate the old figure in passing.
    """
    assert topic.change is not None
    return f"**Update:** {topic.change[1]}\n\n" + article_body(topic, facts=_updated_notes(topic))


def find_topic(*words: str, area: str | None = None) -> Topic:
    """The first catalog topic whose key contains all ``words`` (the catalog is data, not code)."""
    for topic in TOPICS:
        if all(w in topic.key for w in words) and (area is None or topic.area == area):
            return topic
    candidates = [t for t in TOPICS if area is None or t.area == area]
    return candidates[0]


def build_content(
    *,
    rng: random.Random,
    start: datetime,
    end: datetime,
    stale: StaleChange | None,
    misdirected: MisdirectedRule | None,
) -> ContentPlan:
    """Plan every content record and each topic's coverage over the simulated period.

    ``stale`` and ``misdirected`` are the content side of the stale-article and guidance
    incidents (None when they do not happen)."""
    topics = list(TOPICS)
    # The stale incident's topic starts with a current article, so it is none of the known problems.
    others = [t for t in topics if stale is None or t.key != stale.topic.key]
    rng.shuffle(others)
    missing = {t.key for t in others[:5]}
    draft_only = {t.key for t in others[5:7]}
    thin = {t.key for t in others[7:11]}
    changed = [t for t in others[11:] if t.change is not None]
    stale_before = {t.key for t in changed[:1]}
    duplicated = [t for t in others[11:] if t.key not in stale_before][:8]
    contradicting = {t.key for t in duplicated[:3]}

    articles: list[tuple[datetime, Article]] = []
    coverage: dict[str, TopicCoverage] = {}
    product_changes: dict[str, datetime] = {}
    serial = iter(range(1, 10_000))

    def add(
        at: datetime,
        external_id: str,
        title: str,
        body: str,
        area: str | None,
        state: ContentState,
        created: datetime | None = None,
    ) -> None:
        articles.append(
            (
                at,
                Article(
                    external_id=external_id,
                    title=title,
                    body=body,
                    product_area=area,
                    state=state,
                    author=rng.choice(AUTHORS),
                    created_at=created or at,
                    updated_at=at,
                ),
            )
        )

    for topic in topics:
        created = start - rng.randint(120, 900) * DAY
        if topic.key in missing:
            coverage[topic.key] = TopicCoverage(topic, None, [(start - 1000 * DAY, "missing")])
            continue
        external_id = f"kb-{next(serial):04d}"
        if topic.key in draft_only:
            add(created, external_id, topic.title, article_body(topic), topic.area, ContentState.draft)
            coverage[topic.key] = TopicCoverage(topic, None, [(created, "draft_only")])
            continue
        label = "thin" if topic.key in thin else "current"
        add(
            created,
            external_id,
            topic.title,
            article_body(topic, thin=label == "thin"),
            topic.area,
            ContentState.published,
        )
        cover = TopicCoverage(topic, external_id, [(created, label)])
        if stale is not None and topic.key == stale.topic.key:
            cover.changes.append((stale.start, "stale"))
            product_changes[topic.key] = stale.start
        elif topic.change is not None:
            changed_at = start - rng.randint(30, 100) * DAY
            product_changes[topic.key] = changed_at
            if topic.key in stale_before:
                cover.changes.append((changed_at, "stale"))
            else:
                fixed_at = changed_at + rng.randint(0, 3) * DAY
                add(
                    fixed_at,
                    external_id,
                    topic.title,
                    _updated_body(topic),
                    topic.area,
                    ContentState.published,
                    created,
                )
        coverage[topic.key] = cover

    for topic in duplicated:
        # A second article on the same question, written by someone else; some of them
        # state an outdated or different fact, so the help center contradicts itself.
        external_id = f"kb-{next(serial):04d}"
        created = start - rng.randint(60, 500) * DAY
        facts = topic.notes
        if topic.key in contradicting and topic.change is not None:
            facts = (
                (topic.change[0],) if coverage[topic.key].label_at(start) == "current" else (topic.change[1],)
            )
        elif topic.key in contradicting:
            facts = tuple(_contradict(note) for note in topic.notes)
        add(
            created,
            external_id,
            f"FAQ: {topic.title.lower()}",
            article_body(topic, facts=facts),
            topic.area,
            ContentState.published,
        )
        if topic.key in contradicting and coverage[topic.key].article_id:
            coverage[topic.key].changes.append((created, "contradicted"))
            coverage[topic.key].changes.sort(key=lambda change: change[0])

    for area, name in AREAS.items():
        area_topics = [t for t in topics if t.area == area and coverage[t.key].article_id]
        body = f"Everything about {name.lower()} in Lumio.\n\n" + "\n".join(
            f"- {t.title}" for t in area_topics
        )
        add(
            start - rng.randint(400, 1000) * DAY,
            f"kb-{next(serial):04d}",
            f"{name}: overview",
            body + "\n",
            area,
            ContentState.published,
        )

    for topic in rng.sample([t for t in topics if t.key in missing or t.key in draft_only], 2):
        add(
            start + rng.randint(1, 20) * DAY,
            f"kb-{next(serial):04d}",
            f"[Draft] {topic.title}",
            topic.summary + "\n",
            topic.area,
            ContentState.draft,
        )
    for topic in rng.sample([t for t in topics if t.key not in missing], 5):
        old = start - rng.randint(700, 1500) * DAY
        add(
            old,
            f"kb-{next(serial):04d}",
            f"{topic.title} (legacy)",
            article_body(topic, thin=True),
            topic.area,
            ContentState.archived,
        )

    articles.sort(key=lambda pair: pair[0])
    rules, handover_topics = _guidance(start, end, misdirected)
    return ContentPlan(
        articles=articles,
        rules=rules,
        procedures=_procedures(start),
        settings=_agent_settings(start, end),
        coverage=coverage,
        handover_topics=handover_topics,
        misconfigured_rule=ENTERPRISE_BILLING_RULE if misdirected is not None else None,
        issues={
            "missing": sorted(missing),
            "draft_only": sorted(draft_only),
            "thin": sorted(thin),
            "stale": sorted(stale_before),
            "contradicting_duplicates": sorted(contradicting),
        },
        product_changes=product_changes,
    )


def _contradict(note: str) -> str:
    """The same fact with its first number changed: the kind of drift duplicated articles have."""
    words = note.split()
    for i, word in enumerate(words):
        digits = "".join(ch for ch in word if ch.isdigit())
        if digits:
            words[i] = word.replace(digits, str(int(digits) * 2 if int(digits) < 50 else int(digits) // 2), 1)
            return " ".join(words)
    return note + " (this may differ for older accounts)"


def _guidance(
    start: datetime, end: datetime, misdirected: MisdirectedRule | None
) -> tuple[list[GuidanceRule], set[str]]:
    lost_card, closing = find_topic("lost", area="cards"), find_topic("close", area="account")
    created = start - 200 * DAY
    enterprise = {"plan": "Enterprise", "product_area": "billing"}
    rules: list[tuple[str, str, str, str, dict[str, Any]]] = [
        (
            "gr-tone",
            "Tone of voice",
            "Be friendly, plain and brief. Use the customer's name when it is known.",
            "tone",
            {},
        ),
        (
            "gr-scope",
            "Stay in scope",
            "Only answer questions about Lumio. Never give tax, legal or investment advice.",
            "forbidden",
            {"keywords": ["tax advice", "legal advice", "investment advice", "invest", "stocks", "crypto"]},
        ),
        (
            "gr-secrets",
            "Never ask for secrets",
            "Never ask for full card numbers, PINs, passwords or one-time codes.",
            "forbidden",
            {},
        ),
        (
            "gr-legal",
            "Legal threats go to a person",
            "Hand over when the customer mentions a lawyer, legal action, a regulator or the press.",
            "handover",
            {"keywords": ["lawyer", "legal action", "regulator", "ombudsman", "press"]},
        ),
        (
            ENTERPRISE_BILLING_RULE,
            "Enterprise billing questions go to the Enterprise team",
            "Hand over billing questions from Enterprise customers to the Enterprise team.",
            "handover",
            enterprise,
        ),
        (
            "gr-lost-card",
            "Lost or stolen cards",
            "Freeze the card first, then hand over to a person.",
            "handover",
            {"topic": lost_card.key},
        ),
        (
            "gr-closure",
            "Account closure",
            "Always hand over account closure requests.",
            "handover",
            {"topic": closing.key},
        ),
        (
            "gr-language",
            "Answer in the customer's language",
            "Reply in Spanish, German or French when the customer writes in it.",
            "tone",
            {},
        ),
        (
            "gr-two-strikes",
            "Two strikes",
            "Hand over after two answers the customer says did not help.",
            "handover",
            {"failed_answers": 2},
        ),
        ("gr-cite", "Cite sources", "Link the help-center article the answer comes from.", "general", {}),
    ]
    built = [
        GuidanceRule(
            external_id=eid,
            title=title,
            body=body,
            kind=RuleKind(kind),
            condition=RuleCondition(**cond),
            updated_at=created,
        )
        for eid, title, body, kind, cond in rules
    ]
    handover_topics = {lost_card.key, closing.key}
    if misdirected is None:
        return built, handover_topics
    # The incident: someone edits the Enterprise rule and picks the wrong plan; it is put
    # right when the window closes. Both edits are ordinary versions in the rule's history.
    broken = built[4].model_copy(
        update={
            "condition": RuleCondition(plan=misdirected.plan, product_area="billing"),
            "updated_at": misdirected.start,
            "version": 2,
        }
    )
    if misdirected.end >= end:  # still wrong when the period ends
        return [*built, broken], handover_topics
    fixed = built[4].model_copy(update={"updated_at": misdirected.end, "version": 3})
    return [*built, broken, fixed], handover_topics


def _procedures(start: datetime) -> list[Procedure]:
    at = start - 150 * DAY

    def steps(*pairs: tuple[str, list[str]]) -> list[ProcedureStep]:
        return [ProcedureStep(instruction=text, requires=req) for text, req in pairs]

    return [
        Procedure(
            external_id="proc-refund",
            title="Check subscription refund eligibility",
            trigger_topics=[find_topic("refund").key],
            required_data=["invoice_number", "charge_date"],
            steps=steps(
                ("Ask for the invoice number and the charge date.", ["invoice_number", "charge_date"]),
                ("If the charge is under 14 days old and the plan was not used, offer a full refund.", []),
                ("Otherwise explain the pro-rata credit and hand over if the customer disagrees.", []),
            ),
            updated_at=at,
        ),
        Procedure(
            external_id="proc-lost-card",
            title="Replace a lost or stolen card",
            trigger_topics=[find_topic("lost", area="cards").key],
            required_data=["card_last4"],
            steps=steps(
                ("Ask for the last four digits of the card.", ["card_last4"]),
                ("Freeze the card.", []),
                ("Hand over to a person to review recent transactions and order a replacement.", []),
            ),
            updated_at=at,
        ),
        Procedure(
            external_id="proc-payout-trace",
            title="Trace a missing payout",
            trigger_topics=[find_topic("payout", "failed").key],
            required_data=["payout_date", "amount"],
            steps=steps(
                ("Ask for the payout date and amount.", ["payout_date", "amount"]),
                ("Check the payout status; if it is 'sent', share the bank reference.", []),
                ("If it failed, ask the customer to confirm their bank details.", []),
            ),
            updated_at=at,
        ),
        Procedure(
            external_id="proc-close-account",
            title="Close an account",
            trigger_topics=[find_topic("close", area="account").key],
            required_data=["account_email"],
            steps=steps(
                ("Confirm the account email.", ["account_email"]),
                ("Check for open invoices and a non-zero balance.", []),
                ("Hand over to a person to complete the closure.", []),
            ),
            updated_at=at,
        ),
        Procedure(
            external_id="proc-dispute",
            title="Respond to a chargeback",
            trigger_topics=[find_topic("chargeback").key],
            required_data=["transaction_id"],
            steps=steps(
                ("Ask for the transaction id.", ["transaction_id"]),
                ("Explain the evidence needed and the 7-day response deadline.", []),
                ("Hand over disputes above 1,000 USD.", []),
            ),
            updated_at=at,
        ),
    ]


def _agent_settings(start: datetime, end: datetime) -> list[tuple[datetime, FrontlineSettings]]:
    base = FrontlineSettings(
        enabled=True,
        channels=["chat", "email", "whatsapp"],
        confidence_threshold=0.6,
        handover_team="Tier 1",
        max_turns=6,
        languages=["en", "es", "de", "fr"],
    )
    lowered = base.model_copy(update={"confidence_threshold": 0.55})
    return [(start - 60 * DAY, base), (start + (end - start) * 0.3, lowered)]
