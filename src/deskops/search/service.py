"""Search for the agents and the CLI: a persistent hybrid index per workspace, kept in sync incrementally."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from deskops.domain.models import ArticleVersion
from deskops.search import abstain
from deskops.search.chunks import Chunk, article_chunks, conversation_chunk
from deskops.search.dense import Embedder, EmbeddingCache, embed
from deskops.search.index import FILTER_FIELDS, METHODS, HybridIndex, SearchConfig
from deskops.search.persist import IndexFolder, Manifest
from deskops.store.repositories import WorkspaceScope
from deskops.store.uow import UnitOfWork

MAX_QUERY_CHARS = 500
MAX_K = 100
MERGE_AFTER_SEGMENTS = 8
QUERY_CACHE = 512
FILTER_VALUES = {"kind": ("article", "conversation"), "state": ("draft", "published", "archived")}

Progress = Callable[[str, int, int | None], None]
"""(stage, done, total) while the index is being built or updated."""


class SearchError(ValueError):
    """A search the caller has to fix (empty query, unknown filter, ...)."""


class SearchHit(BaseModel):
    id: str
    """``article:<external id>`` or ``conversation:<external id>``."""
    kind: str
    title: str
    score: float
    passage: str
    """The best-matching passage of the document."""
    section: str | None = None
    fields: dict[str, str | None] = Field(default_factory=dict)
    why: dict[str, Any]
    """Matched terms, BM25 and dense scores with their ranks before fusion, re-ranking adjustments."""


class SearchResponse(BaseModel):
    query: str
    """The query as searched (after truncation)."""
    method: str
    filters: dict[str, str]
    hits: list[SearchHit]
    confidence: float
    """Probability that the top hit answers the query (calibrated; see docs/search.md)."""
    abstain: bool
    """True when the caller should not answer from these hits: there is no good match."""
    notices: list[str] = Field(default_factory=list)


class SearchService:
    """Owns each workspace's index: loads it, brings it up to date, searches it."""

    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        index_root: Path,
        embedder: Embedder,
        conversation_limit: int,
        config: SearchConfig | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self.index_root = index_root
        self.embedder = embedder
        self.conversation_limit = conversation_limit
        self.config = config or SearchConfig()
        self._loaded: dict[str, tuple[int, HybridIndex]] = {}
        self._lock = threading.Lock()
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    # -- public API ------------------------------------------------------------------------------------

    def search(
        self,
        workspace: str,
        query: str,
        *,
        k: int = 10,
        filters: dict[str, str] | None = None,
        method: str = "hybrid_rerank",
        progress: Progress | None = None,
    ) -> SearchResponse:
        """Ranked documents for ``query`` in ``workspace``, with why each matched."""
        query, notices = clean_query(query)
        filters = check_filters(filters or {})
        if method not in METHODS:
            raise SearchError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
        if not 1 <= k <= MAX_K:
            raise SearchError(f"k must be between 1 and {MAX_K}")
        index = self.sync(workspace, progress=progress)
        return self._respond(index, query, notices, k=k, filters=filters, method=method)

    def with_articles(self, workspace: str, changed: list[ArticleVersion]) -> Callable[..., SearchResponse]:
        """Search as if ``changed`` article versions were saved: for replays and experiments.

        Articles are searched in an in-memory index of the workspace's current articles
        with ``changed`` applied (embeddings from the workspace's cache, so only new text
        is embedded); every other kind goes to the live index. Nothing is written. Returns
        ``search(workspace, query, k, filters)``.
        """
        with self._lock, self._uow_factory() as uow:
            scope = uow.workspace(workspace)
            folder = self._folder(uow, scope)
            current = scope.articles.get_many(sorted(scope.articles.current_versions()))
        articles = {a.external_id: a for a in current} | {a.external_id: a for a in changed}
        chunks = [c for a in articles.values() for c in article_chunks(a)]
        cache = EmbeddingCache(folder.path / "embeddings.sqlite") if folder.path.exists() else None
        try:
            vectors, _ = embed(self.embedder, [c.text for c in chunks], cache=cache)
        finally:
            if cache:
                cache.close()
        index = HybridIndex(self.embedder.dimension)
        if chunks:
            index.add("candidate", chunks, vectors)

        def search(
            name: str, query: str, k: int = 10, filters: dict[str, str] | None = None
        ) -> SearchResponse:
            if name != workspace or (filters or {}).get("kind") != "article":
                return self.search(name, query, k=k, filters=filters)
            cleaned, notices = clean_query(query)
            return self._respond(index, cleaned, notices, k=k, filters=check_filters(filters or {}))

        return search

    def _respond(
        self,
        index: HybridIndex,
        query: str,
        notices: list[str],
        *,
        k: int,
        filters: dict[str, str],
        method: str = "hybrid_rerank",
    ) -> SearchResponse:
        return respond(
            index,
            query,
            self.encode_query(query),
            notices,
            k=k,
            filters=filters,
            method=method,
            config=self.config,
        )

    def encode_query(self, query: str) -> np.ndarray:
        """The query's embedding; the last few hundred are remembered (an agent asks twice per reply)."""
        with self._lock:
            vector = self._vectors.get(query)
            if vector is not None:
                self._vectors.move_to_end(query)
                return vector
        vector = self.embedder.encode([query])[0]
        with self._lock:
            self._vectors[query] = vector
            if len(self._vectors) > QUERY_CACHE:
                self._vectors.popitem(last=False)
        return vector

    def clear_query_cache(self) -> None:
        """Forget remembered query embeddings (benchmarks time encoding afresh)."""
        with self._lock:
            self._vectors.clear()

    def sync(self, workspace: str, *, progress: Progress | None = None) -> HybridIndex:
        """The workspace's index, updated with new article versions and conversations (no rebuild)."""
        with self._lock, self._uow_factory() as uow:
            scope = uow.workspace(workspace)
            folder = self._folder(uow, scope)
            with folder.locked():
                manifest = folder.read_manifest()
                if manifest is None or not self._matches(manifest, scope):
                    return self._rebuild_locked(scope, folder, progress)
                index = self._index(folder, manifest)
                self._update(scope, folder, manifest, index, progress)
                return index

    def rebuild(self, workspace: str, *, progress: Progress | None = None) -> dict[str, int]:
        """Index the workspace from scratch (embeddings still come from the cache when unchanged)."""
        with self._lock, self._uow_factory() as uow:
            scope = uow.workspace(workspace)
            folder = self._folder(uow, scope)
            with folder.locked():
                index = self._rebuild_locked(scope, folder, progress)
        return {"chunks": index.live_chunks, "segments": len(index.segments)}

    # -- internals -------------------------------------------------------------------------------------

    def _folder(self, uow: UnitOfWork, scope: WorkspaceScope) -> IndexFolder:
        url = uow.connection.engine.url
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            base = Path(f"{url.database}.index")  # beside the database file
        else:
            identity = url.render_as_string(hide_password=True)
            base = self.index_root / hashlib.sha256(identity.encode()).hexdigest()[:12]
        return IndexFolder(base / scope.workspace.name)

    @staticmethod
    def _matches(manifest: Manifest, scope: WorkspaceScope) -> bool:
        return (manifest.workspace_id, manifest.workspace_created) == (
            scope.workspace.id,
            scope.workspace.created_at.isoformat(),
        )

    def _index(self, folder: IndexFolder, manifest: Manifest) -> HybridIndex:
        key = str(folder.path)
        cached = self._loaded.get(key)
        if cached and cached[0] == manifest.generation:
            return cached[1]
        index = folder.load(manifest)
        self._loaded[key] = (manifest.generation, index)
        return index

    def _rebuild_locked(
        self, scope: WorkspaceScope, folder: IndexFolder, progress: Progress | None
    ) -> HybridIndex:
        manifest = Manifest(
            model=self.embedder.name,
            dimension=self.embedder.dimension,
            workspace_id=scope.workspace.id,
            workspace_created=scope.workspace.created_at.isoformat(),
        )
        newest = scope.conversations.max_id()
        manifest.last_conversation_id = max(0, newest - self.conversation_limit)
        index = HybridIndex(self.embedder.dimension)
        self._update(scope, folder, manifest, index, progress)
        if not manifest.segments:  # an empty workspace still gets a manifest
            folder.commit(manifest)
        self._loaded[str(folder.path)] = (manifest.generation, index)
        return index

    def _update(
        self,
        scope: WorkspaceScope,
        folder: IndexFolder,
        manifest: Manifest,
        index: HybridIndex,
        progress: Progress | None,
    ) -> None:
        current = scope.articles.current_versions()
        changed = sorted(e for e, v in current.items() if manifest.articles.get(e) != v)
        removed = sorted(set(manifest.articles) - set(current))
        chunks: list[Chunk] = []
        for article in scope.articles.get_many(changed):
            chunks += article_chunks(article)
        rows = scope.conversations.customer_texts(
            after_id=manifest.last_conversation_id, limit=self.conversation_limit
        )
        chunks += [
            conversation_chunk(
                external_id=r["external_id"],
                created_at=r["created_at"],
                customer_text=r["text"],
                topic=r["topic"],
                product_area=r["product_area"],
                language=r["language"],
            )
            for r in rows
            if r["text"].strip()
        ]
        if not chunks and not removed:
            return
        stale_docs = {f"article:{e}" for e in [*changed, *removed]}
        retired = [
            c.id
            for s in index.segments
            for c, alive in zip(s.chunks, s.live, strict=True)
            if alive and c.doc_id in stale_docs
        ]
        index.retire(set(retired))
        cache = EmbeddingCache(folder.path / "embeddings.sqlite")
        try:

            def report(done: int) -> None:
                if progress:
                    progress("embedding", done, len(chunks))

            vectors, _ = embed(self.embedder, [c.text for c in chunks], cache=cache, progress=report)
        finally:
            cache.close()
        if chunks:
            segment = index.add(folder.new_segment_name(), chunks, vectors)
            if len(index.segments) > MERGE_AFTER_SEGMENTS:
                segment = index.merged(folder.new_segment_name())
                manifest.segments, manifest.retired = [], []
            else:
                manifest.retired = sorted(set(manifest.retired) | set(retired))
            folder.write_segment(index, segment)
            manifest.segments.append(segment.name)
        else:
            manifest.retired = sorted(set(manifest.retired) | set(retired))
        manifest.articles = current
        if rows:
            manifest.last_conversation_id = int(rows[-1]["id"])
        folder.commit(manifest)
        self._loaded[str(folder.path)] = (manifest.generation, index)


def clean_query(query: str) -> tuple[str, list[str]]:
    query = " ".join(query.split())
    if not query:
        raise SearchError("the query is empty")
    if len(query) > MAX_QUERY_CHARS:
        return query[:MAX_QUERY_CHARS], [f"query truncated to its first {MAX_QUERY_CHARS} characters"]
    return query, []


def check_filters(filters: dict[str, str]) -> dict[str, str]:
    for name, value in filters.items():
        if name not in FILTER_FIELDS:
            raise SearchError(f"unknown filter {name!r}: use one of {', '.join(FILTER_FIELDS)}")
        if name in FILTER_VALUES and value not in FILTER_VALUES[name]:
            raise SearchError(f"filter {name} must be one of {', '.join(FILTER_VALUES[name])}, not {value!r}")
        if name in ("since", "until"):
            try:
                date.fromisoformat(value)
            except ValueError:
                raise SearchError(f"filter {name} must be a date like 2026-10-01, not {value!r}") from None
    return dict(filters)


__all__ = ["SearchError", "SearchHit", "SearchResponse", "SearchService", "respond"]


def respond(
    index: HybridIndex,
    query: str,
    vector: np.ndarray,
    notices: list[str],
    *,
    k: int,
    filters: dict[str, str],
    config: SearchConfig,
    method: str = "hybrid_rerank",
) -> SearchResponse:
    """Search ``index`` for a cleaned query and its embedding: hits, calibrated confidence, abstain flag."""
    hits = index.search(query, vector, k=max(k, 2), method=method, filters=filters, config=config)
    confidence = abstain.confidence(abstain.signals(query, hits)) if hits else 0.0
    if not hits:
        notices.append("nothing matched" + (" these filters" if filters else ""))
    return SearchResponse(
        query=query,
        method=method,
        filters=filters,
        notices=notices,
        hits=[
            SearchHit(
                id=h.doc_id,
                kind=h.chunk.kind,
                title=h.chunk.title,
                score=h.score,
                passage=h.chunk.text,
                section=h.chunk.section,
                fields=h.chunk.fields,
                why=h.explanation,
            )
            for h in hits[:k]
        ],
        confidence=round(confidence, 4),
        abstain=confidence < abstain.DEFAULT_THRESHOLD,
    )
