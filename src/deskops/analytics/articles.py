"""Per-article figures: how often the AI agent cites an article, and how those conversations end."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from deskops.analytics.metrics import MIN_SAMPLE, check_period
from deskops.domain.analytics import ArticleFigures, ArticleUse
from deskops.store.repositories import WorkspaceScope


def article_figures(
    scope: WorkspaceScope, *, start: date, end: date, today: date | None = None
) -> ArticleFigures:
    """For every article: conversations citing it, and the AI resolution rate of those conversations.

    Articles that exist but were never cited are listed too (with zero), since "never
    used" is itself a finding about a help center.
    """
    period, notices = check_period(start, end, today=today)
    start_utc, end_utc = period.bounds(ZoneInfo(scope.workspace.time_zone))
    cited = scope.conversations.citations(start=start_utc, end=end_utc)
    counts: dict[str, list[int]] = {}
    for outcome, article_ids in cited:
        for article_id in article_ids:
            totals = counts.setdefault(article_id, [0, 0])
            totals[0] += 1
            totals[1] += outcome == "ai_resolved"
    rows = []
    for article in scope.articles.list():
        citing, resolved = counts.pop(article.external_id, [0, 0])
        rows.append(_row(article.external_id, article.title, article.state.value, citing, resolved))
    rows += [_row(article_id, None, "unknown", c, r) for article_id, (c, r) in counts.items()]
    rows.sort(key=lambda r: (-r.times_cited, r.article))
    return ArticleFigures(
        workspace=scope.workspace.name,
        period=period.range(),
        conversations_with_citations=len(cited),
        articles=rows,
        notices=notices,
    )


def _row(article_id: str, title: str | None, state: str, citing: int, resolved: int) -> ArticleUse:
    return ArticleUse(
        article=article_id,
        title=title,
        state=state,
        times_cited=citing,
        resolution_rate_when_cited=round(resolved / citing, 4) if citing else None,
        resolved_when_cited=resolved,
        thin=citing < MIN_SAMPLE,
    )
