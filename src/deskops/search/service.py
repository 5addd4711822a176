"""Search for the agents and the CLI: a persistent hybrid index per workspace, kept in sync incrementally."""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import numpy as np
from opentelemetry import trace

from deskops.domain.models import ArticleVersion
from deskops.domain.search import IndexBuild, SearchHit, SearchResponse
from deskops.errors import InvalidInput
from deskops.search import abstain
from deskops.search.chunks import Chunk, article_chunks, conversation_chunk
from deskops.search.dense import (
    Embedder,
    EmbeddingCache,
    EmbeddingStore,
    MemoryEmbeddingCache,
    embed,
)
from deskops.search.index import FILTER_FIELDS, METHODS, HybridIndex, SearchConfig
from deskops.search.persist import IndexDamaged, IndexFolder, Manifest
from deskops.store.repositories import WorkspaceScope
from deskops.store.repositories.conversations import CustomerText
from deskops.store.uow import UnitOfWork

MAX_QUERY_CHARS = 500
MAX_K = 100
MERGE_AFTER_SEGMENTS = 8
QUERY_CACHE = 4096
FILTER_VALUES = {"kind": ("article", "conversation"), "state": ("draft", "published", "archived")}

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int | None], None]
"""(stage, done, total) while the index is being built or updated."""
Retrieve = Callable[[str, str, int, dict[str, str]], SearchResponse]
"""(workspace, query, k, filters) -> response: what the front-line agent searches through."""


class SearchError(InvalidInput):
    """A search the caller has to fix (empty query, unknown filter, ...)."""


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
        tracer: trace.Tracer | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._tracer = tracer or trace.NoOpTracer()
        self.index_root = index_root
        self.embedder = embedder
        self.conversation_limit = conversation_limit
        self.config = config or SearchConfig()
        self._loaded: dict[str, tuple[tuple[str, int], HybridIndex]] = {}
        """Per index folder: the manifest identity the index was loaded or committed as, and the index.
        An index in here is never changed (updates work on a copy), so it can be searched unlocked."""
        self._lock = threading.Lock()
        self._pins = threading.local()
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._memory = MemoryEmbeddingCache()

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
        """Ranked documents for ``query`` in ``workspace``, with why each matched (a ``retrieval`` span:
        the sources, k and the ids and scores found, never the query's or the passages' text)."""
        with self._tracer.start_as_current_span(
            "retrieval",
            attributes={
                "gen_ai.operation.name": "retrieval",
                "gen_ai.data_source.id": f"deskops:{workspace}",
                "gen_ai.request.top_k": k,
                "deskops.search.method": method,
                "deskops.search.filters": sorted(f"{key}={value}" for key, value in (filters or {}).items()),
            },
        ) as span:
            response = self._search(workspace, query, k=k, filters=filters, method=method, progress=progress)
            span.set_attribute(
                "gen_ai.retrieval.documents",
                json.dumps([{"id": hit.id, "score": round(hit.score, 4)} for hit in response.hits]),
            )
            span.set_attribute("deskops.search.confidence", response.confidence)
            span.set_attribute("deskops.search.abstain", response.abstain)
            return response

    def _search(
        self,
        workspace: str,
        query: str,
        *,
        k: int,
        filters: dict[str, str] | None,
        method: str,
        progress: Progress | None,
    ) -> SearchResponse:
        query, notices = clean_query(query)
        filters = check_filters(filters or {})
        if method not in METHODS:
            raise SearchError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
        if not 1 <= k <= MAX_K:
            raise SearchError(f"k must be between 1 and {MAX_K}")
        pinned = getattr(self._pins, "indexes", {}).get(workspace)
        if pinned is None:
            index, damage = self._synced(workspace, progress)
            return self._respond(index, query, [*damage, *notices], k=k, filters=filters, method=method)
        # A pinned index does not change: the same question has the same answer (a replay asks each
        # twice, once per side of its experiment). Callers may reassign a response's fields: a copy each.
        index, damage, answers = pinned
        key = (query, k, tuple(sorted(filters.items())), method)
        answer = answers.get(key)
        if answer is None:
            answer = self._respond(index, query, [*damage, *notices], k=k, filters=filters, method=method)
            if len(answers) >= MAX_PINNED_ANSWERS:
                answers.clear()
            answers[key] = answer
        return answer.model_copy()

    @contextmanager
    def pinned(self, workspace: str) -> Iterator[None]:
        """Within the block, this thread's searches of ``workspace`` use its index as it was synced on
        entry, without checking for writes each time: for replays, which ask thousands of questions of a
        workspace that does not change meanwhile (other threads are not affected)."""
        indexes = self._pins.__dict__.setdefault("indexes", {})
        if workspace in indexes:
            yield
            return
        indexes[workspace] = (*self._synced(workspace, None), {})
        try:
            yield
        finally:
            indexes.pop(workspace, None)

    def over_articles(
        self, articles: Sequence[ArticleVersion], *, workspace: str | None = None
    ) -> ArticleIndex:
        """The given article versions indexed in memory and searchable like a workspace's index.

        For replays, experiments and simulations: nothing is written. Passage embeddings
        come from ``workspace``'s embedding cache when given (only new text is embedded),
        else from this service's in-memory cache.
        """
        chunks = [c for a in articles for c in article_chunks(a)]
        cache: EmbeddingStore = self._memory
        if workspace is not None:
            with self._uow_factory() as uow:
                folder = self._folder(uow.workspace(workspace))
            if folder.path.exists():
                cache = EmbeddingCache.opened(folder.path / "embeddings.sqlite")
        try:
            vectors, _ = embed(self.embedder, [c.text for c in chunks], cache=cache)
        finally:
            if isinstance(cache, EmbeddingCache):
                cache.close()
        index = HybridIndex(self.embedder.dimension)
        if chunks:
            index.add("articles", chunks, vectors)
        return ArticleIndex(index, self)

    def document_vectors(self, workspace: str, doc_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The index's embedding of each given document (``conversation:<id>``: what its customer wrote),
        for documents the workspace's index holds; nothing is embedded."""
        pinned = getattr(self._pins, "indexes", {}).get(workspace)
        index = pinned[0] if pinned is not None else self.sync(workspace)
        return index.vectors_of(doc_ids)

    def embed_texts(self, workspace: str | None, texts: Sequence[str]) -> np.ndarray:
        """Unit embeddings of ``texts`` (one row each) through the workspace's embedding cache (None:
        this service's in-memory cache): text embedded before, for the index or for this, is not
        embedded again."""
        if not texts:
            return np.zeros((0, self.embedder.dimension), np.float32)
        cache: EmbeddingStore = self._memory
        if workspace is not None:
            with self._uow_factory() as uow:
                folder = self._folder(uow.workspace(workspace))
            if folder.path.exists():
                cache = EmbeddingCache.opened(folder.path / "embeddings.sqlite")
        try:
            vectors, _ = embed(self.embedder, list(texts), cache=cache)
        finally:
            if isinstance(cache, EmbeddingCache):
                cache.close()
        return vectors

    def with_articles(self, workspace: str, changed: list[ArticleVersion]) -> Retrieve:
        """Search as if ``changed`` article versions were saved: for replays and experiments.

        Articles are searched in an in-memory index of the workspace's current articles
        with ``changed`` applied; every other kind goes to the live index. Nothing is written.
        """
        with self._uow_factory() as uow:
            scope = uow.workspace(workspace)
            current = scope.articles.get_many(sorted(scope.articles.current_versions()))
        articles = {a.external_id: a for a in current} | {a.external_id: a for a in changed}
        index = self.over_articles(list(articles.values()), workspace=workspace)

        def search(name: str, query: str, k: int, filters: dict[str, str]) -> SearchResponse:
            if name != workspace or filters.get("kind") != "article":
                return self.search(name, query, k=k, filters=filters)
            return index.search(query, k=k, filters=filters)

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

    def encode_many(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of several texts (one row each), remembered like queries; new ones in one batch."""
        with self._lock:
            known = {t: v for t in dict.fromkeys(texts) if (v := self._vectors.get(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = dict(zip(missing, self.embedder.encode(missing), strict=True))
            known |= fresh
            with self._lock:
                self._vectors.update(fresh)
                while len(self._vectors) > QUERY_CACHE:
                    self._vectors.popitem(last=False)
        if not texts:
            return np.zeros((0, self.embedder.dimension), np.float32)
        return np.stack([known[t] for t in texts])

    def encode_query(self, query: str) -> np.ndarray:
        """The query's embedding; the last few thousand are remembered (an agent asks twice per reply)."""
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

    def close(self) -> None:
        """Forget loaded indexes and remembered embeddings (the files stay)."""
        with self._lock:
            self._loaded.clear()
            self._vectors.clear()
            self._memory = MemoryEmbeddingCache()

    def clear_query_cache(self) -> None:
        """Forget remembered query embeddings (benchmarks time encoding afresh)."""
        with self._lock:
            self._vectors.clear()

    def sync(self, workspace: str, *, progress: Progress | None = None) -> HybridIndex:
        """The workspace's index, brought up to date: new and changed articles and conversations are
        added, replaced and erased ones retired (no rebuild). A damaged index is rebuilt."""
        return self._synced(workspace, progress)[0]

    def _synced(self, workspace: str, progress: Progress | None) -> tuple[HybridIndex, list[str]]:
        """The index and what the caller should be told about it (a damaged index rebuilt)."""
        with self._lock, self._uow_factory() as uow:
            scope = uow.workspace(workspace)
            folder = self._folder(scope)
            with folder.locked():
                try:
                    manifest = folder.read_manifest()
                    if manifest is None or not self._matches(manifest, scope):
                        return self._rebuild_locked(scope, folder, progress), []
                    index = self._index(folder, manifest)
                    return self._update(scope, folder, manifest, index, progress), []
                except IndexDamaged as damage:
                    log.warning("search index of %s is damaged (%s): rebuilding it", workspace, damage)
                    self._loaded.pop(str(folder.path), None)
                    index = self._rebuild_locked(scope, folder, progress)
                    return index, [f"the search index of {workspace} was damaged ({damage}); rebuilt it"]

    def rebuild(self, workspace: str, *, progress: Progress | None = None) -> IndexBuild:
        """Index the workspace from scratch (embeddings still come from the cache when unchanged)."""
        with self._lock, self._uow_factory() as uow:
            scope = uow.workspace(workspace)
            folder = self._folder(scope)
            with folder.locked():
                index = self._rebuild_locked(scope, folder, progress)
        return IndexBuild(workspace=workspace, chunks=index.live_chunks, segments=len(index.segments))

    def prepare(self, workspace: str, *, progress: Progress | None = None) -> None:
        """Bring the workspace's index up to date and load the embedding model, so that the first
        question asked afterwards is timed on its own (a command's start-up is not its latency)."""
        self.sync(workspace, progress=progress)
        load = getattr(self.embedder, "load", None)
        if load is not None:
            if progress:
                progress("loading the embedding model", 0, None)
            load()

    def indexed(self, workspace: str) -> bool:
        """Whether the workspace has an index on disk (search builds one on first use)."""
        return IndexFolder(self.index_root / workspace).manifest_path.exists()

    def forget(self, workspace: str) -> None:
        """Remove the workspace's index and embedding cache from disk and memory (it was deleted)."""
        folder = IndexFolder(self.index_root / workspace)
        with self._lock:
            self._loaded.pop(str(folder.path), None)
            folder.remove()

    # -- internals -------------------------------------------------------------------------------------

    def _folder(self, scope: WorkspaceScope) -> IndexFolder:
        return IndexFolder(self.index_root / scope.workspace.name)

    @staticmethod
    def _matches(manifest: Manifest, scope: WorkspaceScope) -> bool:
        return (manifest.workspace_id, manifest.workspace_created) == (
            scope.workspace.id,
            scope.workspace.created_at.isoformat(),
        )

    def _index(self, folder: IndexFolder, manifest: Manifest) -> HybridIndex:
        key = str(folder.path)
        cached = self._loaded.get(key)
        if cached and cached[0] == manifest.identity:
            return cached[1]
        index = folder.load(manifest)
        self._loaded[key] = (manifest.identity, index)
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
        # Every conversation is read as it is now: earlier changes are already in what is read.
        manifest.conversation_revision = scope.revisions.current().revision
        return self._update(
            scope, folder, manifest, HybridIndex(self.embedder.dimension), progress, rebuild=True
        )

    def _update(
        self,
        scope: WorkspaceScope,
        folder: IndexFolder,
        manifest: Manifest,
        index: HybridIndex,
        progress: Progress | None,
        *,
        rebuild: bool = False,
    ) -> HybridIndex:
        """``index`` (as ``manifest`` describes it) brought up to date with the database and committed.

        Returns ``index`` itself when nothing changed, else a changed copy, published to
        ``_loaded`` only once it is on disk: if anything fails before (the embedding model, a
        Ctrl-C, a full disk), the loaded index is still exactly what the manifest on disk names.
        """
        revision = scope.revisions.current().revision  # before any row is read: later writes come next time
        current = scope.articles.current_versions()
        changed = sorted(e for e, v in current.items() if manifest.articles.get(e) != v)
        removed = sorted(set(manifest.articles) - set(current))
        chunks: list[Chunk] = []
        for article in scope.articles.get_many(changed):
            chunks += article_chunks(article)
        # Conversations already indexed whose text changed (a correction) or that were erased.
        changes = scope.conversations.changes_since(manifest.conversation_revision)
        rewritten = [
            r
            for r in scope.conversations.customer_texts_of([c.external_id for c in changes if not c.erased])
            if r.id <= manifest.last_conversation_id
        ]
        chunks += [_conversation_chunk(r, version=f"r{revision}") for r in rewritten if r.text.strip()]
        rows = scope.conversations.customer_texts(
            after_id=manifest.last_conversation_id, limit=self.conversation_limit
        )
        if progress and rows:
            progress("reading conversations", len(rows), len(rows))
        chunks += [_conversation_chunk(r) for r in rows if r.text.strip()]
        stale_docs = {f"article:{e}" for e in [*changed, *removed]} | {
            f"conversation:{c.external_id}" for c in changes
        }
        if not chunks and not stale_docs and not rebuild and revision == manifest.conversation_revision:
            return index
        stale = [
            (s.name, c)
            for s in index.segments
            for c, alive in zip(s.chunks, s.live, strict=True)
            if alive and c.doc_id in stale_docs
        ]
        index = index.copy()
        index.retire({c.id for _, c in stale})
        retired = set(manifest.retired) | {c.id for _, c in stale}

        def report(done: int) -> None:
            if progress:
                progress("embedding", done, len(chunks))

        cache = EmbeddingCache.opened(folder.path / "embeddings.sqlite")
        try:
            vectors, _ = embed(self.embedder, [c.text for c in chunks], cache=cache, progress=report)
            # A customer's old or erased words must not stay on disk: the segments that held them are
            # rewritten without them, and their embeddings leave the cache.
            dropped = [(name, c) for name, c in stale if c.kind == "conversation"]
            for name in dict.fromkeys(name for name, _ in dropped):
                segment = index.compacted(name, folder.new_segment_name())
                folder.write_segment(index, segment)
                manifest.segments[manifest.segments.index(name)] = segment.name
            retired -= {c.id for _, c in dropped}
            if chunks:
                segment = index.add(folder.new_segment_name(), chunks, vectors)
                if len(index.segments) > MERGE_AFTER_SEGMENTS:
                    segment = index.merged(folder.new_segment_name())
                    manifest.segments, retired = [], set()
                folder.write_segment(index, segment)
                manifest.segments.append(segment.name)
            if rebuild or dropped or any(c.erased for c in changes):
                # The cache keeps only what the index holds: that also drops texts erased before
                # they were indexed or while no one searched (a rebuild cannot tell them apart from
                # any other text it no longer finds in the database).
                cache.retain(
                    c.content_hash
                    for s in index.segments
                    for c, alive in zip(s.chunks, s.live, strict=True)
                    if alive
                )
        finally:
            cache.close()
        manifest.retired = sorted(retired)
        manifest.articles = current
        manifest.conversation_revision = revision
        if rows:
            manifest.last_conversation_id = rows[-1].id
        folder.commit(manifest)
        self._loaded[str(folder.path)] = (manifest.identity, index)
        return index


def _conversation_chunk(row: CustomerText, *, version: str | None = None) -> Chunk:
    return conversation_chunk(
        external_id=row.external_id,
        created_at=row.created_at,
        customer_text=row.text,
        topic=row.topic,
        product_area=row.product_area,
        language=row.language,
        version=version,
    )


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
    if "since" in filters and "until" in filters and filters["since"] > filters["until"]:
        raise SearchError(
            f"the range is inverted: since {filters['since']} is after until {filters['until']}"
        )
    return dict(filters)


MAX_PINNED_ANSWERS = 4096
"""Answers a pinned index keeps (a replay of a few hundred conversations asks fewer)."""


class ArticleIndex:
    """Articles indexed in memory (``SearchService.over_articles``), searched like the live index."""

    def __init__(self, index: HybridIndex, service: SearchService) -> None:
        self._index = index
        self._service = service

    def search(self, query: str, *, k: int = 10, filters: dict[str, str] | None = None) -> SearchResponse:
        """Ranked articles for ``query``, with the same confidence and abstain flag as ``SearchService``."""
        cleaned, notices = clean_query(query)
        return self._service._respond(
            self._index, cleaned, notices, k=k, filters=check_filters(filters or {})
        )

    def retrieve(self, workspace: str, query: str, k: int, filters: dict[str, str]) -> SearchResponse:
        """``Retrieve``-shaped: articles from this index, an empty answer for any other kind."""
        if filters.get("kind") != "article":
            cleaned, _ = clean_query(query)
            return SearchResponse(
                query=cleaned, method="hybrid_rerank", filters=filters, hits=[], confidence=0.0, abstain=True
            )
        return self.search(query, k=k, filters=filters)


__all__ = [
    "ArticleIndex",
    "Retrieve",
    "SearchError",
    "SearchHit",
    "SearchResponse",
    "SearchService",
    "respond",
]


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
                fields=dict(h.chunk.fields),
                why=h.explanation,
            )
            for h in hits[:k]
        ],
        confidence=round(confidence, 4),
        abstain=confidence < abstain.DEFAULT_THRESHOLD,
    )
