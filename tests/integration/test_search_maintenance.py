"""The search index follows the database: corrections, erasures, deleted workspaces, damaged files.

The index and the embedding cache are caches of what customers wrote. A corrected
conversation is re-read and an erased one dropped on the next search, incrementally; the
words they replaced leave the files on disk; deleting a workspace leaves none of its text in
the data folder; and a damaged index or cache is reported in one line and rebuilt.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deskops.bootstrap import Services, build
from deskops.domain.models import AuthorKind, Conversation, Message
from deskops.search.dense import text_hash
from hashing_embedder import HashingEmbedder

T0 = datetime(2026, 10, 1, 9, tzinfo=UTC)


def _conversation(external_id: str, text: str, minutes: int = 0) -> Conversation:
    at = T0 + timedelta(minutes=minutes)
    return Conversation(
        external_id=external_id,
        created_at=at,
        channel="chat",
        topic="cards",
        messages=[Message(author_kind=AuthorKind.customer, text=text, created_at=at)],
    )


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = build(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        data_dir=tmp_path / "data",
        embedder=HashingEmbedder(),
    )
    with built.uow() as uow:
        scope = uow.workspace(uow.workspaces.create("acme"))
        scope.conversations.upsert_many(
            [_conversation(f"c-{i}", f"ordinary question number {i} about my card") for i in range(30)]
            + [_conversation("c-secret", "my neighbour Zebulon Quixworth took my parcel", 99)]
        )
        uow.commit()
    yield built
    built.close()


def _hits(services: Services, query: str) -> list[str]:
    return [
        h.passage for h in services.search.search("acme", query, k=3, filters={"kind": "conversation"}).hits
    ]


def _disk_text(folder: Path) -> bytes:
    """Every byte under ``folder``: what someone with the disk could read."""
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def _index_folder(services: Services) -> Path:
    assert services.store_dir is not None
    return services.store_dir / "index" / "acme"


def test_a_corrected_conversation_is_searched_as_corrected(services: Services) -> None:
    assert "Zebulon Quixworth" in _hits(services, "Zebulon Quixworth parcel")[0]
    segments_before = json.loads((_index_folder(services) / "manifest.json").read_text())["segments"]
    embedder = services.search.embedder
    calls = embedder.calls  # type: ignore[attr-defined]
    with services.uow() as uow:  # the customer asked for their neighbour's name to be removed
        uow.workspace("acme").conversations.upsert_many(
            [_conversation("c-secret", "my neighbour [NAME] took my parcel", 99)]
        )
        uow.commit()
    passages = _hits(services, "neighbour took my parcel")
    assert "[NAME]" in passages[0] and not any("Quixworth" in p for p in passages)
    # Incremental: the one changed passage and the query were embedded, nothing else was rebuilt.
    assert embedder.calls - calls <= 2  # type: ignore[attr-defined]
    manifest = json.loads((_index_folder(services) / "manifest.json").read_text())
    assert len(manifest["segments"]) >= len(segments_before) and manifest["conversation_revision"] > 0
    assert b"Quixworth" not in _disk_text(_index_folder(services))  # not in a segment, not in the cache


def test_an_erased_conversation_leaves_search_and_the_disk(services: Services) -> None:
    assert "Zebulon" in _hits(services, "Zebulon Quixworth parcel")[0]
    with services.uow() as uow:
        erased = uow.workspace("acme").conversations.erase(["c-secret", "c-0", "c-nope"])
        uow.commit()
    assert erased == ["c-0", "c-secret"]
    assert not any("Zebulon" in p for p in _hits(services, "Zebulon Quixworth parcel"))
    assert b"Zebulon" not in _disk_text(_index_folder(services))
    # Its embedding leaves the cache too (a vector can say something about the words it came from).
    with sqlite3.connect(_index_folder(services) / "embeddings.sqlite") as db:
        hashes = {h for (h,) in db.execute("select hash from vectors")}
    assert text_hash("my neighbour Zebulon Quixworth took my parcel") not in hashes
    assert text_hash("ordinary question number 5 about my card") in hashes
    with services.uow() as uow:  # and the records are gone
        assert uow.workspace("acme").conversations.count() == 29


def test_several_rewrites_and_an_erasure_between_two_searches(services: Services) -> None:
    _hits(services, "card")
    with services.uow() as uow:
        scope = uow.workspace("acme")
        scope.conversations.upsert_many([_conversation("c-1", "first correction about refunds", 1)])
        scope.conversations.upsert_many([_conversation("c-1", "second correction about invoices", 1)])
        scope.conversations.upsert_many([_conversation("c-2", "a rewrite that is then erased", 2)])
        scope.conversations.erase(["c-2"])
        uow.commit()
    passages = _hits(services, "correction about invoices refunds rewrite erased")
    assert any("second correction" in p for p in passages)
    assert not any("first correction" in p or "then erased" in p for p in passages)
    text = _disk_text(_index_folder(services))
    assert b"first correction" not in text and b"then erased" not in text


def test_deleting_a_workspace_leaves_none_of_its_text_in_the_data_folder(
    services: Services, tmp_path: Path
) -> None:
    from deskops.analytics.metrics import series
    from deskops.domain.models import Customer

    with services.uow() as uow:
        scope = uow.workspace("acme")
        scope.customers.upsert_many([Customer(external_id="cus-1", attributes={"note": "Quixworth VIP"})])
        uow.commit()
    _hits(services, "Zebulon parcel")  # an index and an embedding cache
    with services.uow() as uow:  # an analytics snapshot
        series(
            uow.workspace("acme"),
            columns=services.columns,
            metric=services.registry.metric("conversation_volume"),
            start=T0.date(),
            end=T0.date(),
            by="topic",
        )
    truth = services.truth_path("acme")
    truth.parent.mkdir(parents=True)
    truth.write_text('{"search_queries": ["Zebulon"]}')
    data = services.settings.data_dir
    assert b"Zebulon" in _disk_text(data) and b"Quixworth" in _disk_text(data)

    services.delete_workspace("acme")

    assert b"Zebulon" not in _disk_text(data) and b"Quixworth" not in _disk_text(data)
    leftovers = [p.relative_to(data) for p in data.rglob("*") if "acme" in p.name]
    assert leftovers == [], leftovers


def test_replacing_a_simulated_workspace_drops_the_old_one_s_caches(tmp_path: Path) -> None:
    from deskops.simulate.workspace import SimulationConfig, simulate_workspace

    services = build(
        database_url=f"sqlite:///{tmp_path / 's.db'}", data_dir=tmp_path / "d", embedder=HashingEmbedder()
    )
    with services.uow() as uow:
        simulate_workspace(
            uow=uow,
            config=SimulationConfig(conversations=200, days=14),
            truth_path=services.truth_path("demo"),
        )
    services.search.sync("demo")
    folder = services.store_dir / "index" / "demo"  # type: ignore[operator]
    old = set(json.loads((folder / "manifest.json").read_text())["segments"])
    services.forget_workspace("demo", truth=False)
    assert not folder.exists() and services.truth_path("demo").exists()
    services.search.sync("demo")
    assert not old & set(json.loads((folder / "manifest.json").read_text())["segments"])
    services.close()


# ------------------------------------------------------------------------------- damaged files


def _damage_manifest_not_json(folder: Path) -> None:
    (folder / "manifest.json").write_text("{not json")


def _damage_manifest_wrong_keys(folder: Path) -> None:
    (folder / "manifest.json").write_text('{"format": 1, "colour": "red"}')


def _damage_missing_segment(folder: Path) -> None:
    segment = json.loads((folder / "manifest.json").read_text())["segments"][0]
    for file in (folder / segment).iterdir():
        file.unlink()
    (folder / segment).rmdir()


def _damage_truncated_vectors(folder: Path) -> None:
    segment = json.loads((folder / "manifest.json").read_text())["segments"][0]
    path = folder / segment / "vectors.npy"
    path.write_bytes(path.read_bytes()[:200])


def _damage_chunks_garbage(folder: Path) -> None:
    segment = json.loads((folder / "manifest.json").read_text())["segments"][0]
    (folder / segment / "chunks.json").write_bytes(os.urandom(300))


def _damage_wrong_shape(folder: Path) -> None:
    import numpy as np

    segment = json.loads((folder / "manifest.json").read_text())["segments"][0]
    np.save(folder / segment / "vectors.npy", np.zeros((3, 7), dtype=np.float32))


@pytest.mark.parametrize(
    ("damage", "what"),
    [
        (_damage_manifest_not_json, "manifest.json: not JSON"),
        (_damage_manifest_wrong_keys, "manifest.json"),
        (_damage_missing_segment, "is missing"),
        (_damage_truncated_vectors, "segment"),
        (_damage_chunks_garbage, "segment"),
        (_damage_wrong_shape, "passages but (3, 7) vectors"),
    ],
)
def test_a_damaged_index_is_reported_in_one_line_and_rebuilt(
    services: Services, damage: object, what: str
) -> None:
    _hits(services, "card")
    folder = _index_folder(services)
    damage(folder)  # type: ignore[operator]
    fresh = build(
        database_url=services.settings.database_url,
        data_dir=services.settings.data_dir,
        embedder=HashingEmbedder(),
    )  # a new process: nothing in memory
    response = fresh.search.search("acme", "Zebulon parcel", k=3)
    (notice,) = [n for n in response.notices if "damaged" in n]
    assert (
        notice.startswith("the search index of acme was damaged (") and what in notice and "\n" not in notice
    )
    assert response.hits and "Zebulon" in response.hits[0].passage
    assert fresh.search.search("acme", "card").notices == []  # rebuilt: whole again
    fresh.close()


@pytest.mark.parametrize(
    "garbage", [b"not a database at all" * 50, b"SQLite format 3\x00" + b"\xff" * 2000, b""]
)
def test_a_damaged_embedding_cache_is_started_afresh(services: Services, garbage: bytes) -> None:
    _hits(services, "card")
    cache = _index_folder(services) / "embeddings.sqlite"
    for extra in ("-wal", "-shm"):
        cache.with_name(cache.name + extra).unlink(missing_ok=True)
    cache.write_bytes(garbage)
    rebuilt = services.search.rebuild("acme")  # `deskops index rebuild` must not crash on it
    assert rebuilt.chunks == 31
    with sqlite3.connect(cache) as db:
        assert db.execute("select count(*) from vectors").fetchone()[0] == 31
