"""Search internals: BM25 equals bm25s, chunking, fusion, re-ranking hooks, persistence round trip."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import bm25s
import numpy as np
import pytest
import Stemmer
from hypothesis import given, settings
from hypothesis import strategies as st

from deskops.domain.models import ArticleVersion, ContentState
from deskops.errors import Unavailable
from deskops.search import abstain, bm25
from deskops.search._fusion import reciprocal_rank_fusion, weighted_blend
from deskops.search.chunks import Chunk, article_chunks
from deskops.search.index import HybridIndex, SearchConfig
from deskops.search.persist import IndexFolder, Manifest
from deskops.search.rerank import CrossEncoderScorer
from deskops.search.terms import tokenize_many

WORDS = [
    "card",
    "delivery",
    "payout",
    "bank",
    "password",
    "reset",
    "invoice",
    "late",
    "fee",
    "arrive",
    "tracking",
]


@settings(max_examples=40, deadline=None)
@given(
    corpus=st.lists(
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join), min_size=2, max_size=25
    ),
    query=st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join),
    split=st.integers(min_value=1, max_value=24),
)
def test_bm25_over_segments_equals_bm25s_over_one_index(corpus: list[str], query: str, split: int) -> None:
    split = min(split, len(corpus) - 1)
    vocabulary = bm25.Vocabulary()
    tokens = tokenize_many(corpus)
    segments = [
        bm25.TermMatrix.build(tokens[:split], vocabulary),
        bm25.TermMatrix.build(tokens[split:], vocabulary),
    ]
    live = [np.ones(split, dtype=bool), np.ones(len(corpus) - split, dtype=bool)]
    ours = np.concatenate(bm25.score(segments, live, vocabulary.lookup(tokenize_many([query])[0])))
    reference = bm25s.BM25(method="lucene")
    reference.index(
        bm25s.tokenize(corpus, stopwords="en", stemmer=Stemmer.Stemmer("english"), show_progress=False),
        show_progress=False,
    )
    np.testing.assert_allclose(ours, reference.get_scores(tokenize_many([query])[0]), rtol=1e-5, atol=1e-6)


def test_retired_documents_leave_the_statistics_too() -> None:
    vocabulary = bm25.Vocabulary()
    tokens = tokenize_many(["card delivery", "card late", "bank fee"])
    matrix = bm25.TermMatrix.build(tokens, vocabulary)
    without_second = bm25.score([matrix], [np.array([True, False, True])], vocabulary.lookup(["card"]))[0]
    alone = bm25.TermMatrix.build(tokenize_many(["card delivery", "bank fee"]), bm25.Vocabulary())
    expected = bm25.score([alone], [np.ones(2, dtype=bool)], [0])[0]
    assert without_second[1] == 0 and without_second[0] == pytest.approx(expected[0])


def test_articles_are_cut_at_headings_with_the_title_kept() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    article = ArticleVersion(
        external_id="kb-9",
        title="Tracking your card",
        body="Cards ship in 5 days.\n\n"
        "## Steps\n\n1. Open Cards\n2. Tap Track\n\n## Good to know\n\n- Express costs $10",
        product_area="cards",
        state=ContentState.published,
        created_at=now,
        updated_at=now,
        version=3,
    )
    chunks = article_chunks(article)
    assert [c.id for c in chunks] == ["article:kb-9:v3#0", "article:kb-9:v3#1", "article:kb-9:v3#2"]
    assert [c.section for c in chunks] == [None, "Steps", "Good to know"]
    assert all(c.text.startswith("Tracking your card\n") for c in chunks)
    assert chunks[1].text == "Tracking your card\nSteps\n1. Open Cards\n2. Tap Track"
    assert chunks[0].fields == {
        "state": "published",
        "product_area": "cards",
        "locale": "en",
        "date": "2026-01-01",
    }


def test_fusion_rules() -> None:
    fused = reciprocal_rank_fusion(np.array([7, 3]), np.array([3, 9]), k=60)
    assert fused[3] == pytest.approx(1 / 62 + 1 / 61) and fused[7] == pytest.approx(1 / 61)
    blended = weighted_blend(np.array([4.0, 2.0, 0.0]), np.array([0.1, 0.5, 0.9]), alpha=0.5)
    np.testing.assert_allclose(blended, [0.55, 0.5, 0.45])


def _toy_index() -> HybridIndex:
    index = HybridIndex(2)
    chunks = [
        Chunk(
            id="a#0",
            doc_id="a",
            kind="article",
            title="Card delivery",
            text="Card delivery takes 5 days",
            fields={"state": "published", "date": "2026-01-01"},
        ),
        Chunk(
            id="b#0",
            doc_id="b",
            kind="article",
            title="Old card delivery",
            text="Card delivery took 9 days",
            fields={"state": "archived", "date": "2020-01-01"},
        ),
    ]
    index.add("s", chunks, np.array([[1.0, 0.0], [0.99, 0.141]], dtype=np.float32))
    return index


def test_rerank_demotes_archived_and_stale_and_explains_it() -> None:
    hits = _toy_index().search(
        "card delivery",
        np.array([0.99, 0.141], dtype=np.float32),
        k=2,
        method="hybrid_rerank",
        today=date(2026, 6, 1),
    )
    assert [h.doc_id for h in hits] == ["a", "b"]
    assert hits[1].explanation.rerank == {"title": 0.08, "state": -0.25, "freshness": -0.03}
    plain = _toy_index().search(
        "card delivery", np.array([0.99, 0.141], dtype=np.float32), k=2, method="dense"
    )
    assert [h.doc_id for h in plain] == ["b", "a"]


def test_a_cross_encoder_plugs_into_reranking() -> None:
    config = SearchConfig(
        cross_encoder=lambda query, passages: np.array([-10.0 if "5 days" in p else 10.0 for p in passages])
    )
    hits = _toy_index().search("card delivery", np.array([1.0, 0.0], dtype=np.float32), k=2, config=config)
    assert hits[0].doc_id == "b" and (hits[0].explanation.rerank or {})["cross_encoder"] > 0.29
    with pytest.raises(Unavailable, match="not a cross-encoder model folder"):
        CrossEncoderScorer(Path("/nonexistent"))("q", ["p"])


def test_a_segment_round_trips_through_disk(tmp_path: Path) -> None:
    index = _toy_index()
    folder = IndexFolder(tmp_path / "demo")
    manifest = Manifest(model="m", dimension=2, workspace_id=1, workspace_created="x")
    with folder.locked():
        folder.write_segment(index, index.segments[0])
        manifest.segments.append(index.segments[0].name)
        manifest.retired = ["b#0"]
        folder.commit(manifest)
    (tmp_path / "demo" / "seg-leftover").mkdir()  # an interrupted write's folder
    loaded = folder.load(folder.read_manifest())  # type: ignore[arg-type]
    assert loaded.live_chunks == 1
    hits = loaded.search("card delivery", np.array([1.0, 0.0], dtype=np.float32), k=5, method="hybrid")
    assert [h.doc_id for h in hits] == ["a"]
    with folder.locked():
        folder.commit(manifest)
    assert not (tmp_path / "demo" / "seg-leftover").exists()


def test_confidence_rises_with_similarity_and_lead() -> None:
    weak = abstain.confidence(
        abstain.features(dense_top=0.2, dense_second=0.19, matched_share=0.0, agree=False)
    )
    strong = abstain.confidence(
        abstain.features(dense_top=0.8, dense_second=0.4, matched_share=1.0, agree=True)
    )
    assert weak < 0.5 < strong
    weights = abstain.fit([[1, 0.1], [1, 0.2], [1, 0.7], [1, 0.8]] * 5, [0, 1, 1, 0] * 5)
    # The fitted logistic model reproduces the rate at each feature value (1/2 here, everywhere).
    assert abstain.confidence([1, 0.15], weights) == pytest.approx(0.5, abs=0.02)
    separable = abstain.fit([[1, 0.1], [1, 0.2], [1, 0.8], [1, 0.9]] * 5, [0, 0, 1, 1] * 5)
    assert abstain.confidence([1, 0.1], separable) < 0.1 < 0.9 < abstain.confidence([1, 0.9], separable)
