"""Content audits: stale articles, duplicates, contradictions, what a stated fact touches, edits.

Every finding names its items by id and quotes the sentence it rests on (cut short), so a
reader can check it and a skill can turn it into a proposal.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from pydantic import Field

from deskops.analytics.articles import article_figures
from deskops.analytics.metrics import MIN_SAMPLE, two_proportion_z_test
from deskops.changes.changeset import history
from deskops.changes.diff import item_diff
from deskops.changes.review import statements
from deskops.domain.analytics import SignificanceTest
from deskops.domain.changes import ItemChange, ItemDiff
from deskops.domain.types import Result
from deskops.errors import InvalidInput, NotFound
from deskops.operator.blocks import Block
from deskops.operator.deps import OperatorDeps
from deskops.operator.tools.analytics import PeriodQuery
from deskops.operator.tools.content import ArticleQuery
from deskops.operator.tools.reporting import Report, checked_period, evidence, pct, table
from deskops.search.terms import tokenize

DUPLICATE_SIMILARITY = 0.85
"""Cosine similarity (all-MiniLM-L6-v2, title and start of the body) from which articles are duplicates."""
EMBEDDED_CHARACTERS = 1200
MIN_CITED = 10
LARGE_DROP = 0.15
"""A fall of resolution when cited this large is reported even when too few citations allow a test."""


# ------------------------------------------------------------------------------------------ staleness


class StaleLine(Result):
    article: str
    title: str
    days_since_update: int
    cited: int
    """Conversations citing it in the period."""
    resolution_when_cited: float | None
    previous_resolution_when_cited: float | None
    test: SignificanceTest
    """Resolution when cited, now against the period before."""
    signals: list[str]
    """Why it is listed: resolution fell, old and still used, never used."""


class StaleQuery(PeriodQuery):
    older_than_days: int = Field(default=180, ge=1, le=3650)
    """An article not updated for this many days is old."""
    limit: int = Field(default=15, ge=1, le=100)


class StaleReport(Report):
    articles: list[StaleLine]
    """Falling resolution first, then old articles by use."""
    unused: list[str]
    """Published articles no conversation cited in the period."""

    def blocks(self) -> list[Block]:
        rows = [
            [
                a.article,
                a.days_since_update,
                a.cited,
                pct(a.resolution_when_cited),
                pct(a.previous_resolution_when_cited),
                a.test.p_value,
                "; ".join(a.signals),
                a.title,
            ]
            for a in self.articles
        ]
        columns = ["article", "days since update", "cited", "resolved", "before", "p", "signals", "title"]
        return [table("Articles that may be stale", columns, rows)]


def stale_articles(deps: OperatorDeps, query: StaleQuery) -> StaleReport:
    """Articles that look out of date: answers citing them resolve less, or old and still used."""
    start, end = checked_period(deps, query.start, query.end)
    length = (end - start).days + 1
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        now = article_figures(scope, start=start, end=end, today=deps.today)
        before = article_figures(
            scope, start=start - timedelta(days=length), end=start - timedelta(days=1), today=deps.today
        )
        published = {a.external_id: a for a in scope.articles.list(state="published")}
    previous = {a.article: a for a in before.articles}
    lines, unused = [], []
    for use in now.articles:
        article = published.get(use.article)
        if article is None:
            continue
        age = (deps.today - article.updated_at.date()).days
        old = previous.get(use.article)
        test = SignificanceTest(name=None, p_value=None, significant=False, reason="too few citations")
        if old is not None and use.times_cited >= MIN_SAMPLE and old.times_cited >= MIN_SAMPLE:
            test = two_proportion_z_test(
                use.resolved_when_cited, use.times_cited, old.resolved_when_cited, old.times_cited
            )
        signals = []
        fell = (
            test.significant
            and use.resolution_rate_when_cited is not None
            and old is not None
            and old.resolution_rate_when_cited is not None
            and use.resolution_rate_when_cited < old.resolution_rate_when_cited
        )
        dropped = (
            old is not None
            and old.resolution_rate_when_cited is not None
            and use.resolution_rate_when_cited is not None
            and min(use.times_cited, old.times_cited) >= MIN_CITED
            and old.resolution_rate_when_cited - use.resolution_rate_when_cited >= LARGE_DROP
        )
        if fell:
            signals.append("answers citing it resolve less than before")
        elif dropped:
            signals.append("resolution when cited dropped (too few citations to test)")
        if age >= query.older_than_days and use.times_cited:
            signals.append(f"not updated for {age} days and still cited")
        if use.times_cited == 0:
            unused.append(use.article)
        if not signals:
            continue
        lines.append(
            StaleLine(
                article=use.article,
                title=article.title,
                days_since_update=age,
                cited=use.times_cited,
                resolution_when_cited=use.resolution_rate_when_cited,
                previous_resolution_when_cited=old.resolution_rate_when_cited if old else None,
                test=test,
                signals=signals,
            )
        )
    lines.sort(key=lambda a: (_rank(a), -a.cited * a.days_since_update))
    summary = []
    for a in [a for a in lines if a.test.significant][:3]:
        summary.append(
            f"{a.article} ({a.title!r}): answers citing it resolved {pct(a.resolution_when_cited)} of "
            f"{a.cited} conversations against {pct(a.previous_resolution_when_cited)} the period before "
            f"(p={a.test.p_value}); last updated {a.days_since_update} days ago."
        )
    for a in [a for a in lines if _rank(a) == 1][:3]:
        summary.append(
            f"{a.article} ({a.title!r}): answers citing it resolved {pct(a.resolution_when_cited)} of "
            f"{a.cited} conversations against {pct(a.previous_resolution_when_cited)} before (too few to "
            "test)."
        )
    aged = [a for a in lines if _rank(a) == 2]
    if aged:
        summary.append(
            f"{len(aged)} published articles were not updated for {query.older_than_days}+ days and are "
            f"still cited; the most used is {aged[0].article} ({aged[0].cited} citations)."
        )
    if not lines:
        summary.append(f"No published article looks stale from {start} to {end}.")
    if unused:
        summary.append(f"{len(unused)} published articles were never cited in the period.")
    return StaleReport(summary=summary + now.notices, articles=lines[: query.limit], unused=unused[:50])


def _rank(line: StaleLine) -> int:
    """Tested drops first, then large untested drops, then old articles."""
    if line.test.significant:
        return 0
    return 1 if any("dropped" in s for s in line.signals) else 2


# ------------------------------------------------------------------------------------------ duplicates


class DuplicatePair(Result):
    first: str
    first_title: str
    second: str
    second_title: str
    similarity: float
    """Cosine similarity of the two articles' embeddings (title and opening)."""
    shared_words: float
    """Jaccard overlap of the two bodies' words (1: the same words)."""
    cited: tuple[int, int]
    """Conversations citing each in the last 28 days of data."""
    contradicts: bool
    """The two state different values for the same thing (see ``content_contradictions``)."""
    keep: str
    """The one to keep (the more cited; the newer when tied)."""


class DuplicatesQuery(Result):
    include_drafts: bool = False
    """Also compare draft articles (archived ones never are)."""
    min_similarity: float = Field(default=DUPLICATE_SIMILARITY, ge=0.5, le=1.0)
    limit: int = Field(default=20, ge=1, le=100)


class DuplicatesReport(Report):
    pairs: list[DuplicatePair]
    compared: int
    """Articles compared."""

    def blocks(self) -> list[Block]:
        rows = [
            [
                p.first,
                p.second,
                p.similarity,
                p.shared_words,
                f"{p.cited[0]} / {p.cited[1]}",
                p.contradicts,
                p.keep,
            ]
            for p in self.pairs
        ]
        columns = ["article", "duplicate", "similarity", "shared words", "cited", "contradicts", "keep"]
        return [table("Duplicate articles", columns, rows)]


def duplicate_articles(deps: OperatorDeps, query: DuplicatesQuery) -> DuplicatesReport:
    """Articles that answer the same question twice: which pairs, whether they disagree, which to keep."""
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        states = ("published", "draft") if query.include_drafts else ("published",)
        articles = [a for s in states for a in scope.articles.list(state=s)]
        end = deps.today
        cited = {
            a.article: a.times_cited
            for a in article_figures(
                scope, start=end - timedelta(days=27), end=end, today=deps.today
            ).articles
        }
        clashing = {
            tuple(sorted((c.first.item, c.second.item)))
            for c in statements.contradictions(scope, live_only=False)
        }
    if len(articles) < 2:
        return DuplicatesReport(
            summary=["Fewer than two articles to compare."], pairs=[], compared=len(articles)
        )
    vectors = deps.services.search.encode_many(
        [f"{a.title}\n{a.body[:EMBEDDED_CHARACTERS]}" for a in articles]
    )
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    similarity = vectors @ vectors.T
    words = [set(tokenize(a.body)) for a in articles]
    pairs = []
    for i, j in zip(*np.triu_indices(len(articles), k=1), strict=True):
        score = float(similarity[i, j])
        if score < query.min_similarity:
            continue
        a, b = articles[i], articles[j]
        union = words[i] | words[j]
        ca, cb = cited.get(a.external_id, 0), cited.get(b.external_id, 0)
        keep = a if (ca, a.updated_at) >= (cb, b.updated_at) else b
        pairs.append(
            DuplicatePair(
                first=a.external_id,
                first_title=a.title,
                second=b.external_id,
                second_title=b.title,
                similarity=round(score, 3),
                shared_words=round(len(words[i] & words[j]) / len(union), 3) if union else 1.0,
                cited=(ca, cb),
                contradicts=(f"article:{a.external_id}", f"article:{b.external_id}") in clashing
                or (f"article:{b.external_id}", f"article:{a.external_id}") in clashing,
                keep=keep.external_id,
            )
        )
    pairs.sort(key=lambda p: (not p.contradicts, -p.similarity))
    summary = [f"{len(pairs)} pairs of duplicate articles among {len(articles)} compared."]
    for p in pairs[:3]:
        other = p.second if p.keep == p.first else p.first
        summary.append(
            f"{p.first} and {p.second} answer the same question (similarity {p.similarity})"
            + (" and state different values" if p.contradicts else "")
            + f": keep {p.keep}, merge or archive {other}."
        )
    if not pairs:
        summary = [
            f"No two of the {len(articles)} articles compared are duplicates (similarity under "
            f"{query.min_similarity})."
        ]
    return DuplicatesReport(summary=summary, pairs=pairs[: query.limit], compared=len(articles))


# -------------------------------------------------------------------------------------- contradictions


class ContradictionsQuery(Result):
    live_only: bool = True
    """Only statements customers see (published articles, enabled rules and procedures)."""
    limit: int = Field(default=20, ge=1, le=100)


class ContradictionsReport(Report):
    contradictions: list[statements.Contradiction]

    def blocks(self) -> list[Block]:
        rows = [
            [c.first.item, c.first.figure, c.second.item, c.second.figure, c.kind, c.similarity]
            for c in self.contradictions
        ]
        quotes = [(c.first.item, c.first.sentence) for c in self.contradictions[:10]] + [
            (c.second.item, c.second.sentence) for c in self.contradictions[:10]
        ]
        return [
            table("Contradictions", ["item", "says", "other item", "says", "kind", "similarity"], rows),
            evidence("Where they are stated", quotes),
        ]


def content_contradictions(deps: OperatorDeps, query: ContradictionsQuery) -> ContradictionsReport:
    """Places where the content says two different things about the same fact (durations, prices, limits)."""
    with deps.services.uow() as uow:
        found = statements.contradictions(
            uow.workspace(deps.workspace), live_only=query.live_only, limit=query.limit
        )
    summary = [f"{len(found)} contradictions in {'live ' if query.live_only else ''}content."]
    for c in found[:3]:
        summary.append(
            f"{c.first.item} says {c.first.figure!r} where {c.second.item} says {c.second.figure!r} about "
            f"the same thing (similarity {c.similarity})."
        )
    if not found:
        summary = ["The content does not contradict itself on any figure, duration, price or plan."]
    return ContradictionsReport(summary=summary, contradictions=found)


# ---------------------------------------------------------------------------------------- stated facts


class FactQuery(Result):
    statement: str = Field(min_length=1, max_length=500)
    """The new fact, with its value: "refunds now take 30 days", "the Growth plan costs $49"."""


class FactReport(Report):
    check: statements.ClaimCheck
    mentions: list[str]
    """Articles the help center search finds about it that state no comparable figure: read them too."""

    def blocks(self) -> list[Block]:
        c = self.check
        rows = [
            [
                m.statement.item,
                m.statement.figure,
                m.claim_figure,
                "agrees" if m.agrees else "differs",
                m.similarity,
            ]
            for m in c.disagree + c.agree
        ]
        return [
            table(f"Content about: {c.claim}", ["item", "says", "claim", "", "similarity"], rows),
            evidence("Sentences to change", [(m.statement.item, m.statement.sentence) for m in c.disagree]),
        ]


def affected_by_fact(deps: OperatorDeps, query: FactQuery) -> FactReport:
    """Every article, rule and procedure a stated fact touches: what says otherwise, what already agrees."""
    with deps.services.uow() as uow:
        check = statements.check_claim(uow.workspace(deps.workspace), query.statement)
    found = deps.services.search.search(
        deps.workspace, query.statement, k=8, filters={"kind": "article", "state": "published"}
    )
    named = {m.statement.item for m in check.disagree + check.agree}
    mentions = [h.id for h in found.hits if not found.abstain and h.id not in named][:5]
    items = sorted({m.statement.item for m in check.disagree})
    summary = [
        f"{len(items)} items state something other than {', '.join(check.figures)}"
        + (f": {', '.join(items[:8])}." if items else ".")
    ]
    for m in check.disagree[:3]:
        summary.append(f"{m.statement.item} says {m.statement.figure!r}: {m.statement.sentence[:160]!r}.")
    agreeing = sorted({m.statement.item for m in check.agree})
    if agreeing:
        summary.append(f"Already saying it: {', '.join(agreeing[:8])}.")
    if mentions:
        summary.append(f"Also about this subject, without a comparable figure: {', '.join(mentions)}.")
    return FactReport(summary=summary, check=check, mentions=mentions)


# ------------------------------------------------------------------------------------------- versions


class VersionsQuery(ArticleQuery):
    before: int | None = Field(default=None, ge=1)
    """The older version (default: the one before ``after``)."""
    after: int | None = Field(default=None, ge=1)
    """The newer version (default: the current one)."""


class VersionComparison(Report):
    external_id: str
    before: int
    after: int
    written_by: str | None
    why: str | None
    """The title of the proposal that wrote ``after`` (None: an import or the simulator)."""
    diff: ItemDiff

    def blocks(self) -> list[Block]:
        rows = [[b.op, b.before, b.after] for b in self.diff.blocks if b.op != "equal"]
        fields = [[f.path, str(f.before)[:120], str(f.after)[:120]] for f in self.diff.fields]
        return [
            table(
                f"{self.external_id}: version {self.before} to {self.after}",
                ["change", "before", "after"],
                rows,
            ),
            table("Other fields", ["field", "before", "after"], fields),
        ]


def compare_article_versions(deps: OperatorDeps, query: VersionsQuery) -> VersionComparison:
    """What changed in an article between two versions (paragraph by paragraph), who wrote it and why."""
    with deps.services.uow() as uow:
        versions = history(uow.workspace(deps.workspace), "article", query.external_id)
    numbers = [v.version for v in versions]
    after = query.after or numbers[-1]
    before = query.before or (after - 1 if after > 1 else None)
    if before is None:
        raise NotFound(f"article {query.external_id} has only version 1: there is nothing to compare it with")
    found = {v.version: v for v in versions}
    for wanted in (after, before):
        if wanted not in found:
            raise NotFound(
                f"article {query.external_id} has no version {wanted} (versions: "
                f"{', '.join(map(str, numbers))})"
            )
    if before >= after:
        raise InvalidInput(f"version {before} is not older than version {after}")
    old, new = found[before], found[after]
    change = ItemChange(
        kind="article",
        external_id=query.external_id,
        action="update",
        base_version=before,
        before=old.content,
        after=new.content,
    )
    changed = item_diff(change)
    summary = [
        f"Version {after} of {query.external_id} ({new.at.date()}, by {new.changed_by or 'an import'}) "
        f"against version {before}: {changed.words_added} words added, {changed.words_removed} removed"
        + (f", in {', '.join(f.path for f in changed.fields)}" if changed.fields else "")
        + "."
    ]
    if new.why:
        summary.append(f"It was written by the proposal {new.why!r}.")
    return VersionComparison(
        summary=summary,
        external_id=query.external_id,
        before=before,
        after=after,
        written_by=new.changed_by,
        why=new.why,
        diff=changed,
    )
