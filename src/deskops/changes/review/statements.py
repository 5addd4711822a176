"""Facts stated across a workspace's content: where it contradicts itself, and what a stated change touches.

The consistency reviewer asks these questions of one proposal; a content audit asks them
of the whole workspace as it is. Both read the same ``FactBook``: every figure, duration,
price, plan list or version stated in articles, guidance rules and procedures, with the
words around it. Two statements are about the same thing when they share a unit and
enough of their subject (weighted by rarity); they contradict when their values do not
overlap. A claim ("refunds now take 30 days") is checked the same way against every
statement: which ones say something else about it, and which already agree.
"""

from __future__ import annotations

import re
from collections import defaultdict

from pydantic import Field

from deskops.changes.review._facts import FactBook, Statement, facts_in, overlaps
from deskops.changes.review.consistency import OTHER_VALUE, agrees
from deskops.changes.review.context import fact_book, workspace_items
from deskops.domain.types import Result
from deskops.errors import InvalidInput
from deskops.store.repositories import WorkspaceScope

CHECKED_KINDS = ("duration", "money", "percent", "count", "plan", "version")
"""Links and emails differ between related things too often to call a difference a contradiction."""
SENTENCE_LIMIT = 300
MAX_CLAIM = 500
CLAIM_MATCH = 0.5
"""Subject overlap from which a statement is about what a claim states (a claim's subject is a few words,
so it overlaps more easily than two content sentences do: stricter than the reviewer's ``OLD_VALUE``)."""
_NEWS = re.compile(
    r"\b(?:now|new|newly|no longer|any ?more|changed|updated|from now on|starting today|"
    r"takes?|taken|makes?|gets?|lasts?|needs?|goes)\b",
    re.IGNORECASE,
)
"""News words and light verbs: not what a claim is about, so left out when matching its subject."""


class StatedFact(Result):
    """A figure where it is written: the item, the field, the sentence."""

    item: str
    """``article:kb-0042``, ``guidance:gr-legal``, ``procedure:proc-refund``."""
    title: str
    live: bool
    """Customers see it: a published article, an enabled rule or procedure."""
    path: str
    """The field: ``/title``, ``/body`` (with ``block``), ``/steps/1/instruction``."""
    block: int | None
    """Paragraph of an article's body (0-based)."""
    figure: str
    """As written, e.g. "5-10 business days"."""
    sentence: str
    """Cut to 300 characters."""


class Contradiction(Result):
    """Two statements about the same thing with values that do not overlap."""

    kind: str
    """duration, money, percent, count, plan or version."""
    first: StatedFact
    second: StatedFact
    similarity: float
    """How much the two sentences' subjects overlap (0-1, rare words weigh more)."""


class ClaimMatch(Result):
    """A statement about what a claim is about, and whether it says the same."""

    statement: StatedFact
    claim_figure: str
    """The claim's figure it was compared with."""
    agrees: bool
    similarity: float


class ClaimCheck(Result):
    """What a stated fact touches in the workspace's content."""

    claim: str
    figures: list[str]
    """The figures found in the claim."""
    disagree: list[ClaimMatch] = Field(default_factory=list)
    """Statements that say something else: what would have to change."""
    agree: list[ClaimMatch] = Field(default_factory=list)
    """Statements that already say what the claim says."""


def _plans(scope: WorkspaceScope) -> list[str]:
    return scope.stats.plans()


def workspace_facts(scope: WorkspaceScope) -> FactBook:
    """The fact book of the workspace's content as it is now."""
    return fact_book(workspace_items(scope).values(), _plans(scope))


def _stated(statement: Statement) -> StatedFact:
    return StatedFact(
        item=statement.item,
        title=statement.title,
        live=statement.live,
        path=statement.path,
        block=statement.block,
        figure=statement.fact.text,
        sentence=statement.fact.sentence[:SENTENCE_LIMIT],
    )


def contradictions(scope: WorkspaceScope, *, live_only: bool = True, limit: int = 50) -> list[Contradiction]:
    """Pairs of statements in different items that disagree, the most similar subjects first.

    ``live_only``: both sides are seen by customers (what they would get two answers about).
    One pair per two items: the pair whose subjects overlap most.
    """
    book = workspace_facts(scope)
    plans = _plans(scope)
    groups: dict[tuple[str, str], list[Statement]] = defaultdict(list)
    for statement in book.statements:
        if statement.fact.kind in CHECKED_KINDS and (statement.live or not live_only):
            groups[(statement.fact.kind, statement.fact.unit)].append(statement)
    best: dict[tuple[str, str], Contradiction] = {}
    for (kind, _), statements in groups.items():
        for i, a in enumerate(statements):
            for b in statements[i + 1 :]:
                if a.item == b.item or overlaps(a.fact, b.fact):
                    continue
                similarity = book.similarity(a.fact, b.fact)
                if similarity < OTHER_VALUE:
                    continue
                # A sentence that states both values is about two things (a range, before/after).
                if agrees(b.fact.sentence, a.fact, plans) or agrees(a.fact.sentence, b.fact, plans):
                    continue
                pair = tuple(sorted((a.item, b.item)))
                key = (pair[0], pair[1])
                if key not in best or best[key].similarity < similarity:
                    first, second = (a, b) if a.item == pair[0] else (b, a)
                    best[key] = Contradiction(
                        kind=kind,
                        first=_stated(first),
                        second=_stated(second),
                        similarity=round(similarity, 3),
                    )
    found = sorted(best.values(), key=lambda c: (-c.similarity, c.first.item, c.second.item))
    return found[:limit]


def check_claim(scope: WorkspaceScope, claim: str, *, limit: int = 30) -> ClaimCheck:
    """Every statement about what ``claim`` states, split into those that disagree and those that agree."""
    text = " ".join(claim.split())
    if not text:
        raise InvalidInput("the statement to check is empty")
    if len(text) > MAX_CLAIM:
        raise InvalidInput(f"the statement is {len(text)} characters: state one fact in at most {MAX_CLAIM}")
    plans = _plans(scope)
    stated = [
        f for f in facts_in(" ".join(_NEWS.sub(" ", text).split()), plans=plans) if f.kind in CHECKED_KINDS
    ]
    if not stated:
        raise InvalidInput(
            f"{text!r} states no figure, duration, price, plan or version to check against the content: say "
            "it with the new value, e.g. 'refunds take 30 days'"
        )
    book = workspace_facts(scope)
    found: dict[tuple[str, str, bool], ClaimMatch] = {}
    for claimed in stated:
        for statement, similarity in book.about(claimed):
            if similarity < CLAIM_MATCH:
                continue
            same = overlaps(statement.fact, claimed) or agrees(statement.fact.sentence, claimed, plans)
            key = (statement.item, statement.fact.sentence, same)
            if key in found and found[key].similarity >= similarity:
                continue
            found[key] = ClaimMatch(
                statement=_stated(statement),
                claim_figure=claimed.text,
                agrees=same,
                similarity=round(similarity, 3),
            )
    ranked = sorted(found.values(), key=lambda m: (-m.similarity, m.statement.item))
    return ClaimCheck(
        claim=text,
        figures=[f.text for f in stated],
        disagree=[m for m in ranked if not m.agrees][:limit],
        agree=[m for m in ranked if m.agrees][:limit],
    )
