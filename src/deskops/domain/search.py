"""What search returns: ranked hits with why each matched, a calibrated confidence, an abstain flag."""

from __future__ import annotations

from pydantic import Field

from deskops.domain.types import Omitted, Result


class HitExplanation(Result):
    """Why a document matched: each retriever's score and rank before fusion, and re-ranking."""

    matched_terms: list[str]
    """Query words whose stem occurs in the passage."""
    bm25: float | None
    bm25_rank: int | None
    """Rank among BM25's candidates (None: not among them)."""
    dense: float | None
    """Cosine similarity of the query and passage embeddings."""
    dense_rank: int | None
    rerank: dict[str, float] | None = Omitted()
    """Re-ranking adjustments by name (title, state, freshness, cross_encoder), for the re-ranked head."""


class SearchHit(Result):
    """One document (its best passage) in a ranking."""

    id: str
    """``article:<external id>`` or ``conversation:<external id>``."""
    kind: str
    """article or conversation."""
    title: str
    score: float
    passage: str
    """The best-matching passage of the document."""
    section: str | None = None
    """The passage's section heading (articles)."""
    fields: dict[str, str | None] = Field(default_factory=dict)
    """Filterable values: state, product_area, locale, date (and topic for conversations)."""
    why: HitExplanation


class SearchResponse(Result):
    """The hits for one query, and whether a caller should answer from them."""

    query: str
    """The query as searched (after truncation)."""
    method: str
    """bm25, dense, rrf, hybrid or hybrid_rerank."""
    filters: dict[str, str]
    hits: list[SearchHit]
    confidence: float
    """Probability that the top hit answers the query (calibrated; see docs/search.md)."""
    abstain: bool
    """True when the caller should not answer from these hits: there is no good match."""
    notices: list[str] = Field(default_factory=list)


class IndexBuild(Result):
    """A rebuilt search index."""

    workspace: str
    chunks: int
    """Passages indexed."""
    segments: int
