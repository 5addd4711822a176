"""Turn decided outcomes into conversation rows and realistic message threads."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

import numpy as np

from deskops.simulate import catalog
from deskops.simulate.content import ContentPlan
from deskops.simulate.customers import Customers
from deskops.simulate.outcomes import ABANDONED, AI_RESOLVED, OPEN, OUTCOMES, UNRESOLVED, Outcomes
from deskops.simulate.volume import CHANNELS, Arrivals

CONVERSATION_COLUMNS = (
    "id",
    "external_id",
    "customer_id",
    "created_at",
    "first_response_at",
    "closed_at",
    "channel",
    "topic",
    "product_area",
    "language",
    "ai_involved",
    "outcome",
    "escalated_at",
    "first_response_seconds",
    "handling_seconds",
    "csat",
    "reopen_count",
    "team",
    "tags",
    "attributes",
)
MESSAGE_COLUMNS = (
    "conversation_id",
    "seq",
    "author_kind",
    "author_name",
    "text",
    "created_at",
    "cited_article_ids",
)
APP_VERSIONS = ("4.1.2", "4.2.0", "4.8.3", "5.0.1", "5.1.0", "5.2.1")
LEGAL = (
    "If this isn't sorted I'm talking to my lawyer.",
    "I will report this to the regulator.",
    "My lawyer will be in touch if this keeps happening.",
)
STALE_COMPLAINTS = (
    "Your help article says \"{old}\" but that's not what I'm seeing.",
    'That\'s not right anymore, the article still says "{old}".',
    'The help center says "{old}" - is that out of date?',
)


def timestamps(epochs: np.ndarray) -> list[str]:
    """Epoch seconds to the UTC text form SQLAlchemy stores (sortable as text)."""
    text = np.datetime_as_string(epochs.astype("datetime64[s]"), unit="us")
    return [value.replace("T", " ") for value in text.tolist()]


def add_typos(r: random.Random, text: str) -> str:
    """One or two slips of the kind people make on phones: swapped, doubled or dropped letters."""
    words = text.split(" ")
    for _ in range(r.randint(1, 2)):
        i = r.randrange(len(words))
        word = words[i]
        if len(word) < 4 or not word.isalpha():
            continue
        j = r.randrange(1, len(word) - 2)
        kind = r.random()
        if kind < 0.4:
            word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
        elif kind < 0.7:
            word = word[:j] + word[j + 1 :]
        else:
            word = word[:j] + word[j] + word[j:]
        words[i] = word
    return " ".join(words)


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


class TranscriptWriter:
    """Builds table rows for a slice of the simulated conversations."""

    def __init__(
        self, *, seed: int, arrivals: Arrivals, outcomes: Outcomes, customers: Customers, content: ContentPlan
    ) -> None:
        self._seed = seed
        self._a, self._o, self._c, self._content = arrivals, outcomes, customers, content

    def rows(self, lo: int, hi: int) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        """Conversation and message rows for conversations ``lo``..``hi - 1`` (0-based, time order)."""
        r = random.Random(self._seed * 1_000_003 + lo)  # per slice, so slices are independent
        a, o, c = self._a, self._o, self._c
        sl = slice(lo, hi)
        created = a.created[sl].tolist()
        topic_index, channel_index = a.topic[sl].tolist(), a.channel[sl].tolist()
        outcome, ai = o.outcome[sl].tolist(), o.ai_involved[sl].tolist()
        customer = o.customer[sl].tolist()
        wait, csat, reopen = o.human_wait[sl].tolist(), o.csat[sl].tolist(), o.reopen[sl].tolist()
        labels, forced, legal = (
            o.coverage_label[sl].tolist(),
            o.forced_handover[sl].tolist(),
            o.legal_threat[sl].tolist(),
        )
        plans, languages = c.plan[o.customer[sl]].tolist(), c.language[o.customer[sl]].tolist()
        coverage = self._content.coverage

        conv_epochs: list[list[int | None]] = []
        conversations: list[list[object]] = []
        thread = _Messages()

        for k in range(hi - lo):
            conv_id = lo + k + 1
            topic = catalog.TOPICS[topic_index[k]]
            cover = coverage[topic.key]
            article = cover.article_id
            plan, language, result = plans[k], languages[k], outcome[k]
            channel = str(CHANNELS[channel_index[k]])
            t = created[k]
            thread.start(conv_id)
            say = thread.say

            urgent = r.random() < 0.08
            opening = topic.translations[language] if language != "en" else r.choice(topic.phrasings)
            if language == "en" and r.random() < 0.25:
                opening = add_typos(r, opening)
            say(
                "customer",
                _join(
                    r.choice(catalog.GREETINGS),
                    r.choice(catalog.URGENCY) if urgent else "",
                    opening,
                    r.choice(LEGAL) if legal[k] else "",
                    r.choice(catalog.SIGNOFFS),
                ),
                t,
            )
            first_response = escalated = None
            agent = r.choice(catalog.HUMAN_FIRST_NAMES)
            team = _team(plan, topic.area)
            human_touched = True
            if ai[k]:
                t += r.randint(2, 12)
                first_response = t
                if r.random() < 0.22:
                    say("ai_agent", r.choice(catalog.AI_CLARIFY), t, "AI agent")
                    t += r.randint(20, 400)
                    say("customer", r.choice(topic.followups), t)
                    t += r.randint(2, 10)
                stale = labels[k] == "stale" and topic.change is not None
                if article and not forced[k]:
                    answer = _join(r.choice(catalog.AI_ANSWER_INTROS), topic.summary, topic.steps[0])
                    say("ai_agent", answer, t, "AI agent", f'["{article}"]')
                if result == AI_RESOLVED:
                    human_touched = False
                    if r.random() < 0.55:
                        t += r.randint(15, 300)
                        say("customer", r.choice(catalog.CUSTOMER_THANKS), t)
                    closed = t + r.randint(60, 600)
                elif result == ABANDONED:
                    human_touched = False
                    closed = t + r.randint(1800, 86400)
                else:
                    t += r.randint(15, 300)
                    if article and not forced[k]:
                        complaint = (
                            r.choice(STALE_COMPLAINTS).format(old=topic.change[0])
                            if stale and r.random() < 0.5
                            else r.choice(catalog.CUSTOMER_UNHAPPY)
                        )
                        say("customer", complaint, t)
                        t += r.randint(2, 10)
                    say("ai_agent", r.choice(catalog.AI_HANDOVER), t, "AI agent")
                    escalated = t
                    say("system", f"Assigned to {team}.", t + 1)
                    t += int(wait[k])
                    closed = self._human_thread(r, say, topic, result, t, agent)
            else:
                if result == ABANDONED and r.random() < 0.6:
                    human_touched = False
                    closed = t + r.randint(600, 86400)
                else:
                    t += int(wait[k])
                    first_response = t
                    closed = self._human_thread(r, say, topic, result, t, agent)

            tags = [topic.key]
            if plan == "Enterprise":
                tags.append("vip")
            if urgent:
                tags.append("urgent")
            if legal[k]:
                tags.append("legal")
            attributes: dict[str, object] = {}
            if topic.area == "mobile_app":
                attributes["app_version"] = r.choice(APP_VERSIONS)
            if plan == "Enterprise":
                attributes["priority"] = "high"
            conv_epochs.append([created[k], first_response, closed, escalated])
            conversations.append(
                [
                    conv_id,
                    f"sim-{conv_id:07d}",
                    customer[k] + 1,
                    None,
                    None,
                    None,
                    channel,
                    topic.key,
                    topic.area,
                    language,
                    bool(ai[k]),
                    OUTCOMES[result] or None,
                    None,
                    float(first_response - created[k]) if first_response is not None else None,
                    float(closed - created[k]) if closed is not None else None,
                    csat[k] or None,
                    int(reopen[k]),
                    team if human_touched else None,
                    json.dumps(tags),
                    json.dumps(attributes),
                ]
            )

        conversation_rows = _with_timestamps(conversations, conv_epochs, (3, 4, 5, 12))
        message_rows = thread.rows()
        return conversation_rows, message_rows

    @staticmethod
    def _human_thread(
        r: random.Random, say: object, topic: catalog.Topic, result: int, t: int, agent: str
    ) -> int | None:
        """A person answers; returns when the conversation closed (None if still open)."""
        assert callable(say)
        say("human_agent", r.choice(catalog.HUMAN_REPLIES).replace("{name}", agent), t, agent)
        if result == OPEN:
            return None
        if r.random() < 0.5:
            t += r.randint(60, 3600)
            say("customer", r.choice(topic.followups), t)
            t += r.randint(60, 1800)
            say("human_agent", r.choice(catalog.HUMAN_REPLIES).replace("{name}", agent), t, agent)
        if result == UNRESOLVED:
            return t + r.randint(3600, 4 * 86400)
        if r.random() < 0.5:
            t += r.randint(30, 900)
            say("customer", r.choice(catalog.CUSTOMER_THANKS), t)
        return t + r.randint(60, 1800)


class _Messages:
    """Message rows as columns, so timestamps convert in one vectorised pass."""

    def __init__(self) -> None:
        self.conv: list[int] = []
        self.seq: list[int] = []
        self.kind: list[str] = []
        self.name: list[str | None] = []
        self.text: list[str] = []
        self.epoch: list[int] = []
        self.cited: list[str] = []
        self._conv_id = self._next_seq = 0

    def start(self, conv_id: int) -> None:
        self._conv_id, self._next_seq = conv_id, 0

    def say(self, kind: str, text: str, at: int, name: str | None = None, cited: str = "[]") -> None:
        self.conv.append(self._conv_id)
        self.seq.append(self._next_seq)
        self.kind.append(kind)
        self.name.append(name)
        self.text.append(text)
        self.epoch.append(at)
        self.cited.append(cited)
        self._next_seq += 1

    def rows(self) -> list[tuple[object, ...]]:
        times = timestamps(np.array(self.epoch, dtype=np.int64))
        return list(zip(self.conv, self.seq, self.kind, self.name, self.text, times, self.cited, strict=True))


def _team(plan: str, area: str) -> str:
    if plan == "Enterprise":
        return "Enterprise"
    return {"billing": "Billing", "integrations": "Technical", "mobile_app": "Technical"}.get(area, "Tier 1")


def _with_timestamps(
    rows: list[list[object]], epochs: list[list[int | None]], columns: Sequence[int]
) -> list[tuple[object, ...]]:
    """Fill the timestamp columns of ``rows`` from epoch seconds, converting in one vectorised pass."""
    flat = np.array([e if e is not None else 0 for row in epochs for e in row], dtype=np.int64)
    text = timestamps(flat)
    width = len(columns)
    for i, row in enumerate(rows):
        for j, column in enumerate(columns):
            row[column] = text[i * width + j] if epochs[i][j] is not None else None
    return [tuple(row) for row in rows]
