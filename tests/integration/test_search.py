"""Search on a simulated workspace: retrieval quality with the real embedding model, the index's
bookkeeping (incremental updates, crashes, rebuilds) with the test embedder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from deskops.bootstrap import Services, build
from deskops.domain.models import Article, AuthorKind, Conversation, Message
from deskops.search.persist import IndexFolder
from deskops.search.service import MAX_QUERY_CHARS, SearchError
from deskops.simulate.workspace import SimulationConfig, simulate_workspace
from deskops.store.repositories import UnknownWorkspace
from hashing_embedder import HashingEmbedder


def _simulated(
    folder: Path, embedder: Any, conversations: int, *, indexed: int = 400
) -> tuple[Services, dict[str, Any]]:
    services = build(
        database_url=f"sqlite:///{folder / 'search.db'}",
        data_dir=folder,
        search_conversations=indexed,
        embedder=embedder,
    )
    with services.uow() as uow:
        simulate_workspace(
            uow=uow,
            config=SimulationConfig(seed=21, conversations=conversations, days=30),
            truth_path=folder / "truth.json",
        )
    return services, json.loads((folder / "truth.json").read_text())


@pytest.fixture(scope="module")
def workspace(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: Any
) -> Iterator[tuple[Services, dict[str, Any], Path]]:
    """600 conversations (400 indexed) and the real model: what retrieval quality is measured on."""
    folder = tmp_path_factory.mktemp("search")
    services, truth = _simulated(folder, real_embedder, 600, indexed=150)
    yield services, truth, folder
    services.close()


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Services]:
    """200 conversations and the test embedder: for what the index does, not how well it ranks."""
    services, _ = _simulated(tmp_path, HashingEmbedder(), 200)
    yield services
    services.close()


def test_known_paraphrases_find_their_article(workspace: tuple[Services, dict[str, Any], Path]) -> None:
    services, truth, _ = workspace
    answerable = [q for q in truth["search_queries"] if q["relevant"] and not q["typo"]]
    found_first = found_top3 = 0
    for case in answerable[::6]:
        hits = services.search.search("demo", case["query"], k=3, filters={"kind": "article"}).hits
        ids = [h.id.removeprefix("article:") for h in hits]
        found_first += ids[0] in case["relevant"]
        found_top3 += any(i in case["relevant"] for i in ids)
    checked = len(answerable[::6])
    assert found_top3 / checked > 0.85 and found_first / checked > 0.65, (found_first, found_top3, checked)


def test_card_never_arrived_finds_the_delivery_article(
    workspace: tuple[Services, dict[str, Any], Path],
) -> None:
    services, _, _ = workspace
    response = services.search.search(
        "demo", "my card never arrived", k=5, filters={"kind": "article", "state": "published"}
    )
    assert "card" in response.hits[0].title.lower() and "deliver" in response.hits[0].title.lower()
    why = response.hits[0].why
    assert "card" in why.matched_terms and (why.dense or 0) > 0.3 and why.dense_rank is not None
    assert not response.abstain and response.confidence > 0.5


def test_off_topic_queries_abstain(workspace: tuple[Services, dict[str, Any], Path]) -> None:
    services, _, _ = workspace
    response = services.search.search(
        "demo", "recipe for sourdough bread with rye flour", filters={"kind": "article"}
    )
    assert response.abstain and response.confidence < 0.5


def test_filters_restrict_results(workspace: tuple[Services, dict[str, Any], Path]) -> None:
    services, _, _ = workspace
    conversations = services.search.search(
        "demo", "payout has not arrived", k=10, filters={"kind": "conversation"}
    ).hits
    assert conversations and all(h.kind == "conversation" for h in conversations)
    archived = services.search.search("demo", "card", k=10, filters={"state": "archived"}).hits
    assert archived and all(h.fields["state"] == "archived" for h in archived)
    cards = services.search.search(
        "demo", "how do I", k=10, filters={"product_area": "cards", "kind": "article"}
    )
    assert all(h.fields["product_area"] == "cards" for h in cards.hits)
    none = services.search.search("demo", "card", filters={"since": "2031-01-01"})
    assert none.hits == [] and any("nothing matched" in n for n in none.notices)


def test_bad_input_is_a_clear_error(workspace: tuple[Services, dict[str, Any], Path]) -> None:
    services, _, _ = workspace
    with pytest.raises(SearchError, match="empty"):
        services.search.search("demo", "   ")
    with pytest.raises(SearchError, match=r"unknown filter 'colour': use one of kind, state"):
        services.search.search("demo", "card", filters={"colour": "red"})
    with pytest.raises(SearchError, match="state must be one of"):
        services.search.search("demo", "card", filters={"state": "gone"})
    with pytest.raises(SearchError, match="since must be a date"):
        services.search.search("demo", "card", filters={"since": "last week"})
    with pytest.raises(UnknownWorkspace):
        services.search.search("nope", "card")
    long = services.search.search("demo", "card delivery " * 200)
    assert len(long.query) == MAX_QUERY_CHARS and "truncated" in long.notices[0] and long.hits


def test_index_updates_incrementally_and_survives_a_crashed_write(
    small: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = small
    search = services.search
    search.search("demo", "card")  # make sure the index exists
    with services.uow() as uow:
        folder = search._folder(uow.workspace("demo"))
    before = folder.read_manifest()
    assert before is not None
    now = datetime.now(UTC)
    with services.uow() as uow:
        scope = uow.workspace("demo")
        scope.articles.save(
            Article(
                external_id="kb-new",
                title="Ordering a titanium travel card",
                body="Titanium travel cards ship in a velvet pouch within 4 days.",
                product_area="cards",
                created_at=now,
                updated_at=now,
            )
        )
        scope.conversations.upsert_many(
            [
                Conversation(
                    external_id="fresh-1",
                    created_at=now,
                    channel="chat",
                    messages=[
                        Message(
                            author_kind=AuthorKind.customer, text="my velvet pouch was empty", created_at=now
                        )
                    ],
                )
            ]
        )
        uow.commit()

    embedded: list[int] = []
    original = search.embedder.encode

    def counting(texts: list[str]) -> np.ndarray:
        embedded.append(len(texts))
        return original(texts)

    monkeypatch.setattr(search.embedder, "encode", counting)
    hits = search.search("demo", "velvet pouch titanium card", k=3).hits
    assert {h.id for h in hits[:2]} == {"article:kb-new", "conversation:fresh-1"}
    after = folder.read_manifest()
    assert after is not None
    assert after.segments[: len(before.segments)] == before.segments  # appended, nothing rebuilt
    assert len(after.segments) == len(before.segments) + 1
    assert sum(embedded) == 2 + 1  # two new passages + the query; nothing old was re-embedded

    # A new version retires the old passages.
    with services.uow() as uow:
        uow.workspace("demo").articles.save(
            Article(
                external_id="kb-new",
                title="Ordering a titanium travel card",
                body="Titanium travel cards now ship in a cardboard sleeve.",
                product_area="cards",
                created_at=now,
                updated_at=now,
            )
        )
        uow.commit()
    passage = search.search("demo", "titanium travel card", k=1).hits[0].passage
    assert "cardboard" in passage and "velvet" not in passage

    # A write that dies before the manifest is replaced leaves the previous index in place.
    with services.uow() as uow:
        uow.workspace("demo").articles.save(
            Article(
                external_id="kb-crash", title="Crash article", body="zebra", created_at=now, updated_at=now
            )
        )
        uow.commit()
    committed = folder.read_manifest()

    def crash(self: IndexFolder, manifest: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(IndexFolder, "commit", crash)
    with pytest.raises(OSError, match="power cut"):
        search.search("demo", "zebra")
    monkeypatch.undo()
    assert folder.read_manifest() == committed
    search._loaded.clear()  # a new process would load from disk
    fresh = build(
        database_url=str(services.settings.database_url),
        data_dir=services.settings.data_dir,
        embedder=HashingEmbedder(),
    ).search
    assert fresh.search("demo", "zebra crash", k=1).hits[0].id == "article:kb-crash"


def test_rebuild_reindexes_from_the_cache(small: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    search = small.search
    first = search.rebuild("demo")
    assert first.segments == 1 and first.chunks > 200 and first.workspace == "demo"
    calls = search.embedder.calls  # type: ignore[attr-defined]
    again = search.rebuild("demo")
    assert (again.chunks, again.segments) == (first.chunks, 1)
    assert search.embedder.calls == calls  # type: ignore[attr-defined]  # every passage from the cache
    assert search.search("demo", "reset my password", k=1, filters={"kind": "article"}).hits


def test_recreated_workspace_gets_a_fresh_index(tmp_path: Path) -> None:
    services = build(
        database_url=f"sqlite:///{tmp_path / 'x.db'}", data_dir=tmp_path, embedder=HashingEmbedder()
    )
    now = datetime.now(UTC)
    for body in ("first life: aardvark", "second life: platypus"):
        with services.uow() as uow:
            if uow.workspaces.find("acme"):
                uow.workspaces.delete("acme")
            uow.workspace(uow.workspaces.create("acme")).articles.save(
                Article(external_id="kb-1", title="Animals", body=body, created_at=now, updated_at=now)
            )
            uow.commit()
        passage = services.search.search("acme", "animals", k=1).hits[0].passage
        assert body in passage
    services.close()


def test_loading_the_model_prints_nothing_and_warms_it(capfd: pytest.CaptureFixture[str]) -> None:
    """No library progress bar ("Loading weights") on every command; the first query is not the slow one."""
    import time

    from deskops.search.dense import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    embedder.load()
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""
    began = time.perf_counter()
    embedder.encode(["how long do payouts take"])
    assert time.perf_counter() - began < 1.0  # loaded and warmed already: no start-up in a reply's latency
