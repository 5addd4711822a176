"""What a reviewer sees: the proposal, its diff, the policy, and the workspace before and after.

Everything is read from the database once, before the reviewers start (they run in
threads and never touch the connection); the slow extras — the embedding model and the
front-line replay — come in as functions the composition root provides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

import numpy as np

from deskops.changes.changeset import current_content, normalize
from deskops.changes.diff import diff as make_diff
from deskops.changes.review._facts import FactBook
from deskops.domain.changes import (
    SINGLETONS,
    Diff,
    Finding,
    ItemChange,
    ItemKind,
    ProposalDraft,
    ReviewPolicy,
    Span,
    Verdict,
    item_key,
)
from deskops.domain.replay import ReplayReport
from deskops.errors import NotFound
from deskops.store.repositories import WorkspaceScope

MAX_EVIDENCE_CHECKED = 50
REACH_DAYS = 28
"""The window conversations per week are counted over (four whole weeks)."""

Encode = Callable[[list[str]], np.ndarray]
Replay = Callable[[str, list[ItemChange], list[str], int, int], ReplayReport]
"""(workspace, changes, topics, days, limit) -> the replay of the last ``days`` of those topics with and
without the changes."""


@dataclass(frozen=True)
class ContentItem:
    """One article, rule, procedure or document of the workspace, as reviewers compare them."""

    kind: ItemKind
    external_id: str
    title: str
    content: dict[str, Any]
    live: bool
    """Customers see it (a published article, an enabled rule or procedure, the settings)."""

    @property
    def key(self) -> str:
        return item_key(self.kind, self.external_id)

    def texts(self) -> list[tuple[str, str]]:
        """(JSON-pointer path, text) of every piece of prose in it."""
        out = [("/title", self.title)] if self.title else []
        if self.kind in ("article", "guidance"):
            out.append(("/body", str(self.content.get("body") or "")))
        elif self.kind == "procedure":
            out += [
                (f"/steps/{n}/instruction", step.get("instruction", ""))
                for n, step in enumerate(self.content.get("steps") or [])
            ]
        return out


def _item(kind: ItemKind, external_id: str, content: dict[str, Any]) -> ContentItem:
    if kind == "article":
        live = content.get("state") == "published"
    elif kind in ("guidance", "procedure"):
        live = bool(content.get("enabled", True))
    else:
        live = True
    return ContentItem(kind, external_id, str(content.get("title") or ""), content, live)


@dataclass
class ReviewContext:
    workspace: str
    draft: ProposalDraft
    changes: list[ItemChange]
    policy: ReviewPolicy
    before: dict[str, ContentItem]
    """Every item of the workspace as it is."""
    article_topics: dict[str, dict[str, int]] = field(default_factory=dict)
    """Article -> the topics of the conversations whose AI replies cited it."""
    plans: list[str] = field(default_factory=list)
    topic_counts: dict[str, int] = field(default_factory=dict)
    """Conversations per topic over the last ``REACH_DAYS`` days of data."""
    citing: dict[str, int] = field(default_factory=dict)
    """Article -> conversations of the last ``REACH_DAYS`` days whose AI replies cited it."""
    linked_domains: list[str] = field(default_factory=list)
    """Domains published content already links to (the allow-list when the policy sets none)."""
    unknown_evidence: list[str] = field(default_factory=list)
    """Conversation ids the evidence cites that the workspace does not have."""
    encode: Encode | None = None
    replay: Replay | None = None

    @cached_property
    def diff(self) -> Diff:
        return make_diff(self.changes)

    @cached_property
    def after(self) -> dict[str, ContentItem]:
        """Every item of the workspace as it would be with the change."""
        items = dict(self.before)
        for change in self.changes:
            items[change.key] = _item(change.kind, change.external_id, change.after)
        return items

    @property
    def changed(self) -> set[str]:
        return {c.key for c in self.changes}

    @cached_property
    def facts_after(self) -> FactBook:
        """Every fact of the workspace's prose as it would be with the change."""
        return fact_book(self.after.values(), self.plans)

    def topics_of(self, key: str) -> list[str]:
        """The topics an item serves: its citing conversations', a procedure's triggers, a rule's topic."""
        item = self.after.get(key) or self.before.get(key)
        if item is None:
            return []
        if item.kind == "article":
            cited = self.article_topics.get(item.external_id, {})
            total = sum(cited.values())
            return sorted(t for t, n in cited.items() if total and n >= 0.2 * total)
        if item.kind == "procedure":
            before = self.before.get(key)
            topics = set(item.content.get("trigger_topics") or [])
            if before:
                topics |= set(before.content.get("trigger_topics") or [])
            return sorted(topics)
        if item.kind == "guidance":
            topics = {(item.content.get("condition") or {}).get("topic")}
            before = self.before.get(key)
            if before:
                topics.add((before.content.get("condition") or {}).get("topic"))
            return sorted(t for t in topics if t)
        return []


def workspace_items(scope: WorkspaceScope) -> dict[str, ContentItem]:
    """Every article, rule and procedure of the workspace and its two documents, by item key."""
    items: dict[str, ContentItem] = {}
    for article in scope.articles.list():
        content = normalize(
            "article",
            article.model_dump(mode="json", include=set(_ARTICLE_FIELDS)),
            where=article.external_id,
        )
        items[item_key("article", article.external_id)] = _item("article", article.external_id, content)
    for rule in scope.guidance.list():
        content = normalize(
            "guidance", rule.model_dump(mode="json", include=set(_RULE_FIELDS)), where=rule.external_id
        )
        items[item_key("guidance", rule.external_id)] = _item("guidance", rule.external_id, content)
    for procedure in scope.procedures.list():
        content = normalize(
            "procedure",
            procedure.model_dump(mode="json", include=set(_PROCEDURE_FIELDS)),
            where=procedure.external_id,
        )
        items[item_key("procedure", procedure.external_id)] = _item(
            "procedure", procedure.external_id, content
        )
    for single in SINGLETONS:
        found = current_content(scope, single, single)
        items[single] = _item(single, single, found[1] if found else {})
    return items


def fact_book(items: Iterable[ContentItem], plans: list[str]) -> FactBook:
    """Every fact stated in the prose of ``items`` (article bodies block by block)."""
    from deskops.changes.diff import blocks

    book = FactBook()
    for item in items:
        if item.kind in ("settings", "policy"):
            continue
        for path, text in item.texts():
            if path == "/body" and item.kind == "article":
                for n, block in enumerate(blocks(text)):
                    book.add_text(
                        item=item.key,
                        title=item.title,
                        path=path,
                        text=block,
                        live=item.live,
                        plans=plans,
                        block=n,
                    )
            else:
                book.add_text(
                    item=item.key, title=item.title, path=path, text=text, live=item.live, plans=plans
                )
    return book


def gather(
    scope: WorkspaceScope,
    draft: ProposalDraft,
    changes: list[ItemChange],
    *,
    policy: ReviewPolicy,
    encode: Encode | None = None,
    replay: Replay | None = None,
    cache: dict[tuple[int, int], Reach] | None = None,
) -> ReviewContext:
    """Read what the reviewers need from the workspace (one pass, inside the caller's transaction).

    ``cache`` keeps what comes from the conversations (reach) per workspace and data revision, so
    reviews between two imports read them once.
    """
    before = workspace_items(scope)
    reach = reach_of(scope, cache)
    from deskops.changes.review._facts import URL

    unknown = []
    for conversation in draft.evidence.conversations[:MAX_EVIDENCE_CHECKED]:
        try:
            scope.conversations.get(conversation)
        except NotFound:
            unknown.append(conversation)

    domains = sorted(
        {
            _domain(m.group(0))
            for item in before.values()
            if item.kind == "article" and item.live
            for _, text in item.texts()
            for m in URL.finditer(text)
        }
    )
    return ReviewContext(
        workspace=scope.workspace.name,
        draft=draft,
        changes=changes,
        policy=policy,
        before=before,
        article_topics=reach.article_topics,
        plans=reach.plans,
        topic_counts=reach.topic_counts,
        citing={c.external_id: reach.citing[c.external_id] for c in changes if c.external_id in reach.citing},
        linked_domains=domains,
        unknown_evidence=unknown,
        encode=encode,
        replay=replay,
    )


@dataclass(frozen=True)
class Reach:
    """What the conversations say about who a change reaches (a function of the data revision)."""

    article_topics: dict[str, dict[str, int]]
    plans: list[str]
    topic_counts: dict[str, int]
    """Conversations per topic over the last ``REACH_DAYS`` days of data."""
    citing: dict[str, int]
    """Article -> conversations of the last ``REACH_DAYS`` days whose AI replies cited it."""


MAX_CACHED_REACH = 64


def reach_of(scope: WorkspaceScope, cache: dict[tuple[int, int], Reach] | None = None) -> Reach:
    """The workspace's reach figures, from ``cache`` when the data has not moved since."""
    key = (scope.workspace.id, scope.revisions.current().revision)
    if cache is not None and key in cache:
        return cache[key]
    _, last = scope.stats.conversation_range()
    topic_counts: dict[str, int] = {}
    citing: dict[str, int] = {}
    if last is not None:
        start, end = last - timedelta(days=REACH_DAYS), last + timedelta(seconds=1)
        topic_counts = scope.stats.topic_counts(start=start, end=end)
        for _, cited in scope.conversations.citations(start=start, end=end):
            for article in cited:
                citing[article] = citing.get(article, 0) + 1
    reach = Reach(scope.conversations.citation_topics(), scope.stats.plans(), topic_counts, citing)
    if cache is not None:
        if len(cache) >= MAX_CACHED_REACH:
            cache.pop(next(iter(cache)))
        cache[key] = reach
    return reach


_ARTICLE_FIELDS = ("title", "body", "product_area", "locale", "state", "author")
_RULE_FIELDS = ("title", "body", "kind", "condition", "enabled")
_PROCEDURE_FIELDS = ("title", "trigger_topics", "steps", "required_data", "enabled")


def _domain(link: str) -> str:
    host = link.lower().removeprefix("https://").removeprefix("http://").split("/")[0]
    return host.removeprefix("www.")


def domain_allowed(link: str, allowed: list[str]) -> bool:
    host = _domain(link)
    return any(host == d or host.endswith("." + d) for d in allowed)


def registrable(host: str) -> str:
    """``app.lumio.com`` -> ``lumio.com`` (the last two labels; good enough for an allow-list default)."""
    parts = host.split(".")
    return ".".join(parts[-2:]) if len(parts) >= 2 else host


@dataclass(frozen=True)
class Reviewer:
    """A registered reviewer: its name, what it checks (one line) and the check itself."""

    name: str
    summary: str
    check: Callable[[ReviewContext], Findings]
    replays: bool = False
    """True when it replays conversations (skipped when a review is asked for without the replay)."""


def added_sentences(change: ItemChange) -> list[tuple[str, str]]:
    """(path, sentence) of every sentence the change writes that was not there before."""
    from deskops.changes.review._facts import sentences

    old = {
        s
        for _, text in _item(change.kind, change.external_id, change.before or {}).texts()
        for s in sentences(text)
    }
    if change.before is None:
        old = set()
    out = []
    for path, text in _item(change.kind, change.external_id, change.after).texts():
        out += [(path, s) for s in sentences(text) if s not in old]
    return out


def removed_sentences(change: ItemChange) -> list[tuple[str, str]]:
    """(path, sentence) of every sentence the change takes out."""
    from deskops.changes.review._facts import sentences

    if change.before is None:
        return []
    new = {
        s for _, text in _item(change.kind, change.external_id, change.after).texts() for s in sentences(text)
    }
    out = []
    for path, text in _item(change.kind, change.external_id, change.before).texts():
        out += [(path, s) for s in sentences(text) if s not in new]
    return out


class Findings:
    """A reviewer's findings as it makes them: ``found.block(code, message, ...)``."""

    def __init__(self) -> None:
        self.items: list[Finding] = []

    def add(
        self,
        verdict: Verdict,
        code: str,
        message: str,
        *,
        item: str | None = None,
        span: Span | None = None,
        evidence: list[str] | None = None,
        related: list[str] | None = None,
    ) -> None:
        self.items.append(
            Finding(
                code=code,
                verdict=verdict,
                item=item,
                span=span,
                message=message,
                evidence=evidence or [],
                related=sorted(set(related or [])),
            )
        )

    def block(self, code: str, message: str, **where: Any) -> None:
        self.add("block", code, message, **where)

    def warn(self, code: str, message: str, **where: Any) -> None:
        self.add("warn", code, message, **where)

    def note(self, code: str, message: str, **where: Any) -> None:
        """A finding that informs without holding the proposal up (verdict ``pass``)."""
        self.add("pass", code, message, **where)
