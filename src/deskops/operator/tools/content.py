"""Content tools: search the help center, read an article with its history, list articles by state."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from deskops.changes.changeset import history
from deskops.domain.search import SearchResponse
from deskops.domain.types import Result
from deskops.operator.deps import OperatorDeps

BODY_LIMIT = 4000
"""Characters of an article body a tool hands over (a model needs the gist, not a dump)."""


class TextQuery(Result):
    query: str = Field(min_length=1, max_length=500)
    k: int = Field(default=5, ge=1, le=20)


class ArticleQuery(Result):
    external_id: str = Field(min_length=1, max_length=200)


class ArticleVersionLine(Result):
    version: int
    at: datetime
    changed_by: str | None
    why: str | None
    """The title of the proposal that wrote it (None: an import or the simulator)."""


class ArticleReading(Result):
    external_id: str
    title: str
    state: str
    product_area: str | None
    updated_at: datetime
    body: str
    """Cut to ``BODY_LIMIT`` characters (``truncated`` says so)."""
    truncated: bool
    versions: list[ArticleVersionLine]


class ArticleLine(Result):
    external_id: str
    title: str
    state: str
    product_area: str | None
    updated_at: datetime
    words: int


class ArticleList(Result):
    articles: list[ArticleLine]
    """Oldest update first."""
    total: int


class ArticlesQuery(Result):
    state: str | None = None
    """draft, published or archived (None: all)."""
    limit: int = Field(default=30, ge=1, le=200)


def search_help_center(deps: OperatorDeps, query: TextQuery) -> SearchResponse:
    """Search the published help center: ranked articles, their best passage, and a confidence."""
    deps.search_index()
    return deps.services.search.search(
        deps.workspace, query.query, k=query.k, filters={"kind": "article", "state": "published"}
    )


def read_article(deps: OperatorDeps, query: ArticleQuery) -> ArticleReading:
    """One article as it is now, and every version of it with who wrote it and why."""
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        article = scope.articles.get(query.external_id)
        versions = history(scope, "article", query.external_id)
    return ArticleReading(
        external_id=article.external_id,
        title=article.title,
        state=article.state.value,
        product_area=article.product_area,
        updated_at=article.updated_at,
        body=article.body[:BODY_LIMIT],
        truncated=len(article.body) > BODY_LIMIT,
        versions=[
            ArticleVersionLine(version=v.version, at=v.at, changed_by=v.changed_by, why=v.why)
            for v in versions
        ],
    )


def list_articles(deps: OperatorDeps, query: ArticlesQuery) -> ArticleList:
    """Articles of the help center (optionally of one state), least recently updated first."""
    with deps.services.uow() as uow:
        articles = uow.workspace(deps.workspace).articles.list(state=query.state)
    articles.sort(key=lambda a: a.updated_at)
    return ArticleList(
        articles=[
            ArticleLine(
                external_id=a.external_id,
                title=a.title,
                state=a.state.value,
                product_area=a.product_area,
                updated_at=a.updated_at,
                words=len(a.body.split()),
            )
            for a in articles[: query.limit]
        ],
        total=len(articles),
    )
