"""The in-memory hybrid index: immutable segments, retired chunks, one search over all of them."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np

from deskops.domain.search import HitExplanation
from deskops.search import bm25
from deskops.search._fusion import reciprocal_rank_fusion, weighted_blend
from deskops.search.chunks import Chunk
from deskops.search.terms import tokenize, tokenize_many

FILTER_FIELDS = ("kind", "state", "product_area", "locale", "since", "until", "topic")
METHODS = ("bm25", "dense", "rrf", "hybrid", "hybrid_rerank")


@dataclass
class Segment:
    """A batch of chunks indexed together; never changed, only retired chunk by chunk."""

    name: str
    chunks: list[Chunk]
    terms: bm25.TermMatrix
    vectors: np.ndarray
    live: np.ndarray
    run_starts: np.ndarray = field(init=False)
    """Index of the first chunk of each document run (a document's chunks are contiguous)."""
    values: dict[str, np.ndarray] = field(init=False)
    days: np.ndarray = field(init=False)
    fixed_masks: dict[tuple[tuple[str, str], ...], np.ndarray] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        doc_ids = [c.doc_id for c in self.chunks]
        starts = [i for i in range(len(doc_ids)) if i == 0 or doc_ids[i] != doc_ids[i - 1]]
        self.run_starts = np.array(starts, dtype=np.int64)
        self.values = {"kind": np.array([c.kind for c in self.chunks], dtype=object)}
        for name in ("state", "product_area", "locale", "date", "topic"):
            self.values[name] = np.array([c.fields.get(name) for c in self.chunks], dtype=object)
        # Days as numbers, so a date filter is one vectorised comparison (-1: no date).
        self.days = np.array(
            [date.fromisoformat(d[:10]).toordinal() if d else -1 for d in self.values["date"]], dtype=np.int64
        )
        self.fixed_masks = {}

    def mask(self, filters: dict[str, str]) -> np.ndarray:
        """Live chunks that match every filter. The masks of the field filters are kept (they never
        change; a copy of the segment shares them): a replay asks the same question thousands of times."""
        fields = tuple(sorted((k, v) for k, v in filters.items() if k not in ("since", "until")))
        fixed = self.fixed_masks.get(fields)
        if fixed is None:
            fixed = np.ones(len(self.chunks), dtype=bool)
            for name, wanted in fields:
                fixed &= self.values[name] == wanted
            if len(self.fixed_masks) >= MAX_CACHED_MASKS:
                self.fixed_masks.clear()
            self.fixed_masks[fields] = fixed
        keep = self.live & fixed
        if "since" in filters:
            keep &= self.days >= _ordinal(filters["since"])
        if "until" in filters:
            keep &= (self.days <= _ordinal(filters["until"])) & (self.days >= 0)
        return keep


MAX_CACHED_MASKS = 64


@lru_cache(maxsize=20_000)
def _stems_of(text: str) -> frozenset[str]:
    """A passage's stems (kept: the same passages come back hit after hit)."""
    return frozenset(tokenize(text))


def _ordinal(day: str) -> int:
    return date.fromisoformat(day[:10]).toordinal()


@dataclass
class SearchConfig:
    candidates: int = 100
    """Documents each retriever hands to fusion."""
    alpha: float = 0.9
    """Weight of dense similarity in the weighted blend (BM25 gets the rest)."""
    rerank_depth: int = 30
    title_weight: float = 0.08
    state_weight: dict[str, float] = field(
        default_factory=lambda: {"published": 0.0, "draft": -0.15, "archived": -0.25}
    )
    stale_after_days: int = 365
    stale_weight: float = -0.03
    cross_encoder: Callable[[str, Sequence[str]], np.ndarray] | None = None
    cross_encoder_weight: float = 0.3


@dataclass
class Hit:
    doc_id: str
    chunk: Chunk
    score: float
    explanation: HitExplanation


class HybridIndex:
    """Chunks with their term frequencies and embeddings, searchable by BM25, dense or both."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self.vocabulary = bm25.Vocabulary()
        self.segments: list[Segment] = []

    # -- writing ---------------------------------------------------------------------------------------

    def copy(self) -> HybridIndex:
        """An index to change while this one stays as it is (still searched, or the committed state if
        the change fails): the segments' arrays are shared, what ``add``, ``retire``, ``compacted``
        and ``merged`` change (the vocabulary, the segment list, the live flags) is copied."""
        twin = HybridIndex(self.dimension)
        twin.vocabulary = self.vocabulary.copy()
        for segment in self.segments:
            copied = copy.copy(segment)
            copied.live = segment.live.copy()
            twin.segments.append(copied)
        return twin

    def add(self, name: str, chunks: Sequence[Chunk], vectors: np.ndarray) -> Segment:
        if len(chunks) != len(vectors):
            raise ValueError("one vector per chunk")
        terms = bm25.TermMatrix.build(tokenize_many([c.text for c in chunks]), self.vocabulary)
        segment = Segment(
            name, list(chunks), terms, vectors.astype(np.float32), np.ones(len(chunks), dtype=bool)
        )
        self.segments.append(segment)
        return segment

    def retire(self, chunk_ids: set[str]) -> int:
        """Mark chunks as gone (an article's old version, a deleted record); returns how many."""
        retired = 0
        for segment in self.segments:
            for i, chunk in enumerate(segment.chunks):
                if segment.live[i] and chunk.id in chunk_ids:
                    segment.live[i] = False
                    retired += 1
        return retired

    def merged(self, name: str) -> Segment:
        """All live chunks as one segment, without re-tokenising or re-embedding."""
        keep = [s.live for s in self.segments]
        chunks = [c for s in self.segments for c, alive in zip(s.chunks, s.live, strict=True) if alive]
        terms = bm25.merge([s.terms for s in self.segments], keep, len(self.vocabulary))
        vectors = (
            np.concatenate([s.vectors[s.live] for s in self.segments])
            if self.segments
            else np.zeros((0, self.dimension), np.float32)
        )
        segment = Segment(name, chunks, terms, vectors, np.ones(len(chunks), dtype=bool))
        self.segments = [segment]
        return segment

    def compacted(self, name: str, new_name: str) -> Segment:
        """Segment ``name`` rewritten with its live chunks only, in its place: retired text leaves it."""
        position = next(i for i, s in enumerate(self.segments) if s.name == name)
        old = self.segments[position]
        chunks = [c for c, alive in zip(old.chunks, old.live, strict=True) if alive]
        terms = bm25.merge([old.terms], [old.live], len(self.vocabulary))
        segment = Segment(new_name, chunks, terms, old.vectors[old.live], np.ones(len(chunks), dtype=bool))
        self.segments[position] = segment
        return segment

    def vectors_of(self, doc_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The embedding of each given document's first live passage (documents not indexed are left out)."""
        wanted = set(doc_ids)
        found: dict[str, np.ndarray] = {}
        for segment in self.segments:
            if len(found) == len(wanted):
                break
            for i in segment.run_starts.tolist():
                doc_id = segment.chunks[i].doc_id
                if doc_id in wanted and doc_id not in found and segment.live[i]:
                    found[doc_id] = segment.vectors[i]
        return found

    @property
    def live_chunks(self) -> int:
        return sum(int(s.live.sum()) for s in self.segments)

    # -- searching -------------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        query_vector: np.ndarray | None,
        *,
        k: int = 10,
        method: str = "hybrid_rerank",
        filters: dict[str, str] | None = None,
        config: SearchConfig | None = None,
        today: date | None = None,
    ) -> list[Hit]:
        """The ``k`` best documents for ``query`` (one hit per document, its best passage)."""
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
        config = config or SearchConfig()
        masks = [s.mask(filters or {}) for s in self.segments]
        query_terms = tokenize(query)
        keyword = bm25.score([s.terms for s in self.segments], masks, self.vocabulary.lookup(query_terms))
        keyword_runs = self._runs(keyword, masks)
        dense_runs = np.full_like(keyword_runs, -np.inf)
        if method != "bm25":
            if query_vector is None:
                raise ValueError(f"method {method} needs the query's embedding")
            dense_runs = self._runs([s.vectors @ query_vector for s in self.segments], masks)

        depth = max(config.candidates, k)
        keyword_top = _top(keyword_runs, depth, positive_only=True)
        dense_top = _top(dense_runs, depth)
        keyword_rank = {run: rank for rank, run in enumerate(keyword_top.tolist(), start=1)}
        dense_rank = {run: rank for rank, run in enumerate(dense_top.tolist(), start=1)}

        if method == "bm25":
            order, scores = keyword_top, keyword_runs[keyword_top]
        elif method == "dense":
            order, scores = dense_top, dense_runs[dense_top]
        elif method == "rrf":
            fused = reciprocal_rank_fusion(keyword_top, dense_top)
            order = np.array(sorted(fused, key=lambda run: -fused[run]), dtype=np.int64)
            scores = np.array([fused[run] for run in order.tolist()])
        else:
            order = np.union1d(keyword_top, dense_top)
            finite_keyword = np.where(np.isfinite(keyword_runs[order]), keyword_runs[order], 0.0)
            scores = weighted_blend(finite_keyword, dense_runs[order], alpha=config.alpha)
            ranking = np.argsort(-scores, kind="stable")
            order, scores = order[ranking], scores[ranking]

        adjustments: dict[int, dict[str, float]] = {}
        if method == "hybrid_rerank" and len(order):
            order, scores, adjustments = self._rerank(query, query_terms, order, scores, config, today)

        hits = []
        for run, value in zip(order[:k].tolist(), scores[:k].tolist(), strict=True):
            chunk = self._best_chunk(run, keyword, masks, query_vector, method)
            hits.append(
                Hit(
                    doc_id=chunk.doc_id,
                    chunk=chunk,
                    score=round(float(value), 6),
                    explanation=HitExplanation(
                        matched_terms=_matched_terms(query, chunk.text),
                        bm25=_finite(keyword_runs[run]),
                        bm25_rank=keyword_rank.get(run),
                        dense=_finite(dense_runs[run]),
                        dense_rank=dense_rank.get(run),
                        rerank=adjustments.get(run),
                    ),
                )
            )
        return hits

    def _runs(self, per_segment: Sequence[np.ndarray], masks: Sequence[np.ndarray]) -> np.ndarray:
        """Best chunk score of every document run, over all segments (-inf where filtered out or retired)."""
        parts = []
        for segment, scores, mask in zip(self.segments, per_segment, masks, strict=True):
            if len(segment.chunks) == 0:
                continue
            masked = np.where(mask, scores, -np.inf)
            parts.append(np.maximum.reduceat(masked, segment.run_starts))
        return np.concatenate(parts) if parts else np.zeros(0)

    def _locate(self, run: int) -> tuple[Segment, int, int]:
        """The segment and chunk range of a global run index."""
        for segment in self.segments:
            if run < len(segment.run_starts):
                start = int(segment.run_starts[run])
                end = (
                    int(segment.run_starts[run + 1])
                    if run + 1 < len(segment.run_starts)
                    else len(segment.chunks)
                )
                return segment, start, end
            run -= len(segment.run_starts)
        raise IndexError(run)

    def _best_chunk(
        self,
        run: int,
        keyword: Sequence[np.ndarray],
        masks: Sequence[np.ndarray],
        query_vector: np.ndarray | None,
        method: str,
    ) -> Chunk:
        segment, start, end = self._locate(run)
        position = self.segments.index(segment)
        mask = masks[position][start:end]
        if method == "bm25" or query_vector is None:
            local = keyword[position][start:end]
        else:
            local = segment.vectors[start:end] @ query_vector
        return segment.chunks[start + int(np.argmax(np.where(mask, local, -np.inf)))]

    def _rerank(
        self,
        query: str,
        query_terms: list[str],
        order: np.ndarray,
        scores: np.ndarray,
        config: SearchConfig,
        today: date | None,
    ) -> tuple[np.ndarray, np.ndarray, dict[int, dict[str, float]]]:
        depth = min(config.rerank_depth, len(order))
        head, rest = order[:depth], order[depth:]
        adjusted = scores[:depth].astype(float).copy()
        notes: dict[int, dict[str, float]] = {}
        query_set = set(query_terms)
        today = today or date.today()
        texts = []
        for i, run in enumerate(head.tolist()):
            segment, start, _ = self._locate(run)
            chunk = segment.chunks[start]
            note: dict[str, float] = {}
            if query_set:
                overlap = len(query_set & set(tokenize(chunk.title))) / len(query_set)
                note["title"] = round(config.title_weight * overlap, 4)
            state = chunk.fields.get("state") or ""
            if config.state_weight.get(state):
                note["state"] = config.state_weight[state]
            day = chunk.fields.get("date")
            if (
                chunk.kind == "article"
                and day
                and (today - date.fromisoformat(day)).days > config.stale_after_days
            ):
                note["freshness"] = config.stale_weight
            adjusted[i] += sum(note.values())
            notes[run] = note
            texts.append(chunk.text)
        if config.cross_encoder is not None:
            relevance = 1 / (1 + np.exp(-np.asarray(config.cross_encoder(query, texts), dtype=float)))
            adjusted += config.cross_encoder_weight * relevance
            for run, value in zip(head.tolist(), relevance.tolist(), strict=True):
                notes[run]["cross_encoder"] = round(config.cross_encoder_weight * value, 4)
        ranking = np.argsort(-adjusted, kind="stable")
        return (
            np.concatenate([head[ranking], rest]),
            np.concatenate([adjusted[ranking], scores[depth:]]),
            notes,
        )


def _top(scores: np.ndarray, depth: int, *, positive_only: bool = False) -> np.ndarray:
    """Indices of the ``depth`` best finite scores, best first."""
    valid = np.isfinite(scores) & ((scores > 0) if positive_only else True)
    candidates = np.flatnonzero(valid)
    if len(candidates) > depth:
        candidates = candidates[np.argpartition(-scores[candidates], depth - 1)[:depth]]
    return candidates[np.argsort(-scores[candidates], kind="stable")]


def _finite(value: float) -> float | None:
    return round(float(value), 6) if np.isfinite(value) else None


def _matched_terms(query: str, text: str) -> list[str]:
    """Query words whose stem occurs in the passage."""
    passage = _stems_of(text)
    seen: list[str] = []
    for word in dict.fromkeys(w for w in query.lower().split()):
        stems = tokenize(word)
        if stems and stems[0] in passage:
            seen.append(word.strip(".,!?;:\"'()"))
    return seen
