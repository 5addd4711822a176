"""The search index follows the database: corrections, erasures, deleted workspaces, failed updates,
other processes, damaged files.

The index and the embedding cache are caches of what customers wrote. A corrected
conversation is re-read and an erased one dropped on the next search, incrementally; the
words they replaced leave the files on disk, also when an update fails half-way or the index
is rebuilt; deleting a workspace leaves none of its text in the data folder, nor in another
process's memory; and a damaged index or cache is reported in one line and rebuilt.
"""

from __future__ import annotations

import json
import random
import resource
import shutil
import signal
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from deskops.bootstrap import Services, build
from deskops.domain.models import AuthorKind, Conversation, Message
from deskops.errors import Unavailable
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
            + [_conversation("c-secret", SECRET, 99)]
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


def _another_process(services: Services, embedder: HashingEmbedder | None = None) -> Services:
    """Services on the same database and data folder with nothing in memory, as a second process has."""
    return build(
        database_url=services.settings.database_url,
        data_dir=services.settings.data_dir,
        embedder=embedder or HashingEmbedder(),
    )


SECRET = "my neighbour Zebulon Quixworth took my parcel"


def _cached_hashes(services: Services) -> set[str]:
    with sqlite3.connect(_index_folder(services) / "embeddings.sqlite") as db:
        return {h for (h,) in db.execute("select hash from vectors")}


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
    hashes = _cached_hashes(services)
    assert text_hash(SECRET) not in hashes
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


# ------------------------------------------------------------------------------- failed updates


class _FailingEmbedder(HashingEmbedder):
    """Embeds like HashingEmbedder; once ``fail`` is set, the next batch of passages (not a one-text
    query) runs it instead of being embedded."""

    def __init__(self) -> None:
        super().__init__()
        self.fail: Callable[[], None] | None = None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self.fail is not None and len(texts) > 1:
            fail, self.fail = self.fail, None
            fail()
        return super().encode(texts)


Fault = Callable[[_FailingEmbedder, Path], AbstractContextManager[None]]


@contextmanager
def _interrupted_while_embedding(embedder: _FailingEmbedder, folder: Path) -> Iterator[None]:
    def ctrl_c() -> None:
        raise KeyboardInterrupt

    embedder.fail = ctrl_c
    yield


@contextmanager
def _model_unavailable_while_embedding(embedder: _FailingEmbedder, folder: Path) -> Iterator[None]:
    def unavailable() -> None:
        raise Unavailable("the embedding model went away")

    embedder.fail = unavailable
    yield


@contextmanager
def _disk_full_while_writing_segments(embedder: _FailingEmbedder, folder: Path) -> Iterator[None]:
    """No file may grow as large as the rewritten segment's vectors (the embedding cache's log stays
    smaller): writing the segment fails with EFBIG, as on a full disk."""
    (segment,) = json.loads((folder / "manifest.json").read_text())["segments"]
    limit = (folder / segment / "vectors.npy").stat().st_size - 2048  # one passage leaves: 1,536 bytes
    before = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel ends the process
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, before[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, before)
        signal.signal(signal.SIGXFSZ, handler)


@contextmanager
def _manifest_unreplaceable_at_commit(embedder: _FailingEmbedder, folder: Path) -> Iterator[None]:
    """While the passages are embedded, manifest.json becomes a folder: the commit cannot replace it."""
    manifest, saved = folder / "manifest.json", folder / "manifest.saved"

    def block() -> None:
        manifest.rename(saved)
        manifest.mkdir()
        (manifest / "in-the-way").write_text("x")

    embedder.fail = block
    try:
        yield
    finally:
        shutil.rmtree(manifest)
        saved.rename(manifest)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (_interrupted_while_embedding, KeyboardInterrupt),
        (_model_unavailable_while_embedding, Unavailable),
        (_disk_full_while_writing_segments, OSError),
        (_manifest_unreplaceable_at_commit, OSError),
    ],
)
def test_a_failed_update_changes_nothing_and_the_next_search_completes_it(
    services: Services, fault: Fault, error: type[BaseException]
) -> None:
    embedder = _FailingEmbedder()
    process = _another_process(services, embedder)
    assert "Zebulon" in _hits(process, "Zebulon Quixworth parcel")[0]
    with services.uow() as uow:
        scope = uow.workspace("acme")
        scope.conversations.erase(["c-secret"])
        scope.conversations.upsert_many(
            [_conversation(f"n-{i}", f"new import number {i} about refunds", 40 + i) for i in range(3)]
        )
        uow.commit()
    folder = _index_folder(services)

    with fault(embedder, folder), pytest.raises(error):
        process.search.search("acme", "refunds", k=3)

    # The same process, then a new one: the import is in, the erased words are not, anywhere.
    for searcher in (process, _another_process(services)):
        assert "new import" in _hits(searcher, "new import about refunds")[0]
        assert not any("Zebulon" in p for p in _hits(searcher, "Zebulon Quixworth parcel"))
        searcher.close()
    assert b"Zebulon" not in _disk_text(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sorted(p.name for p in folder.glob("seg-*")) == sorted(manifest["segments"])


def _rebuilt_by_the_cli(services: Services) -> None:
    services.search.rebuild("acme")  # `deskops index rebuild`


def _rebuilt_when_found_damaged(services: Services) -> None:
    folder = _index_folder(services)
    (segment,) = json.loads((folder / "manifest.json").read_text())["segments"]
    (folder / segment / "vectors.npy").write_bytes(b"")
    fresh = _another_process(services)
    assert "damaged" in fresh.search.search("acme", "card").notices[0]
    fresh.close()


@pytest.mark.parametrize("rebuild", [_rebuilt_by_the_cli, _rebuilt_when_found_damaged])
def test_a_rebuild_keeps_no_vector_of_a_text_erased_before_it(
    services: Services, rebuild: Callable[[Services], None]
) -> None:
    _hits(services, "Zebulon parcel")  # indexed, its vector cached
    with services.uow() as uow:  # erased, and no search in between to drop it
        uow.workspace("acme").conversations.erase(["c-secret"])
        uow.commit()
    rebuild(services)
    hashes = _cached_hashes(services)
    assert text_hash(SECRET) not in hashes
    assert text_hash("ordinary question number 5 about my card") in hashes and len(hashes) == 30
    assert b"Zebulon" not in _disk_text(_index_folder(services))


def test_a_recreated_workspace_keeps_no_vector_of_its_namesake(services: Services) -> None:
    _hits(services, "Zebulon parcel")
    with services.uow() as uow:  # deleted and recreated by a process that never searched it
        uow.workspaces.delete("acme")
        uow.workspace(uow.workspaces.create("acme")).conversations.upsert_many(
            [_conversation("new-1", "a brand new tenant asks about invoices")]
        )
        uow.commit()
    assert "brand new tenant" in _hits(services, "invoices")[0]
    assert len(_cached_hashes(services)) == 1 and text_hash(SECRET) not in _cached_hashes(services)


def test_a_text_erased_before_it_was_indexed_leaves_the_cache(services: Services) -> None:
    embedder = _FailingEmbedder()
    process = _another_process(services, embedder)
    _hits(process, "card")
    late = "Ottoline Brackenbury wants her parcel back"
    with services.uow() as uow:
        uow.workspace("acme").conversations.upsert_many(
            [_conversation("c-late", late, 50), _conversation("c-other", "another card question", 51)]
        )
        uow.commit()
    # Embedded and cached, then the update fails: the index never holds the text.
    with _manifest_unreplaceable_at_commit(embedder, _index_folder(services)), pytest.raises(OSError):
        process.search.search("acme", "card")
    process.close()
    assert text_hash(late) in _cached_hashes(services)
    with services.uow() as uow:
        uow.workspace("acme").conversations.erase(["c-late"])
        uow.commit()
    assert not any("Ottoline" in p for p in _hits(services, "Ottoline Brackenbury parcel back"))
    assert text_hash(late) not in _cached_hashes(services)


# ------------------------------------------------------------------------------ other processes


def _recreate_the_workspace(services: Services) -> None:
    services.delete_workspace("acme")
    with services.uow() as uow:
        uow.workspace(uow.workspaces.create("acme")).conversations.upsert_many(
            [_conversation("new-1", "a brand new tenant asks about invoices")]
        )
        uow.commit()
    _hits(services, "invoices")


def _erase_and_rebuild(services: Services) -> None:
    with services.uow() as uow:
        uow.workspace("acme").conversations.erase(["c-secret"])
        uow.commit()
    services.search.rebuild("acme")


@pytest.mark.parametrize("replace", [_recreate_the_workspace, _erase_and_rebuild])
def test_another_process_never_serves_an_index_that_was_replaced(
    services: Services, replace: Callable[[Services], None]
) -> None:
    web = _another_process(services)  # e.g. the web app, with the index loaded in memory
    assert "Zebulon" in _hits(web, "Zebulon Quixworth parcel")[0]
    replace(services)  # e.g. the CLI; the new index counts its generations from 1 again
    assert not any("Zebulon" in p for p in _hits(web, "Zebulon Quixworth parcel"))
    web.close()


# ------------------------------------------------------------------------------- damaged files


def _truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _emptied(path: Path) -> None:
    path.write_bytes(b"")


def _garbage(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 8)


def _removed(path: Path) -> None:
    shutil.rmtree(path) if path.is_dir() else path.unlink()


def _rewritten(change: Callable[[Any], Any]) -> Callable[[Path], None]:
    """The JSON file holding ``change`` of its document: valid JSON, wrong content."""

    def damage(path: Path) -> None:
        path.write_text(json.dumps(change(json.loads(path.read_text()))))

    return damage


def _manifest_with(**fields: object) -> Callable[[Path], None]:
    return _rewritten(lambda manifest: {**manifest, **fields})


def _saved(change: Callable[[np.ndarray], np.ndarray]) -> Callable[[Path], None]:
    """The .npy file holding ``change`` of its array: a readable array of the wrong shape or type."""
    return lambda path: np.save(path, change(np.load(path)))


_SEGMENT_FILES = ("chunks.json", "terms.json", "tf.npz", "lengths.npy", "vectors.npy")
_INDEX_DAMAGE = [
    # Every file, damaged every way a disk or a person damages files.
    *[
        pytest.param(file, damage, file, id=f"{file}-{damage.__name__.strip('_')}")
        for file in ("manifest.json", *_SEGMENT_FILES)
        for damage in (_truncated, _emptied, _garbage, _removed)
        if file != "manifest.json" or damage is not _removed
    ],
    pytest.param("manifest.json", _removed, None, id="manifest.json-removed-so-no-index-yet"),
    pytest.param("", _removed, "is missing", id="segment-folder-removed"),
    # Valid JSON, wrong content.
    pytest.param(
        "manifest.json",
        lambda path: path.write_text("{not json"),
        "manifest.json: not JSON",
        id="manifest-brace",
    ),
    pytest.param("manifest.json", _rewritten(lambda m: "text"), "not a JSON object", id="manifest-string"),
    pytest.param("manifest.json", _rewritten(lambda m: [m]), "manifest.json", id="manifest-list"),
    pytest.param("manifest.json", _manifest_with(colour="red"), "manifest.json", id="manifest-unknown-key"),
    pytest.param(
        "manifest.json",
        _rewritten(lambda m: {k: v for k, v in m.items() if k != "generation"}),
        "generation missing",
        id="manifest-missing-key",
    ),
    *[
        pytest.param("manifest.json", _manifest_with(**{key: value}), key, id=f"manifest-{key}-{value}")
        for key, value in [
            ("segments", None),
            ("segments", "seg-1"),
            ("segments", ["../../elsewhere"]),
            ("retired", [1, 2]),
            ("articles", []),
            ("generation", "7"),
            ("dimension", True),
            ("last_conversation_id", -1),
        ]
    ],
    pytest.param("chunks.json", _rewritten(lambda rows: {"rows": rows}), "chunks.json", id="chunks-object"),
    pytest.param("chunks.json", _rewritten(lambda rows: [1, 2]), "chunks.json", id="chunks-numbers"),
    pytest.param(
        "chunks.json",
        _rewritten(lambda rows: [{**r, "text": 5} for r in rows]),
        "chunks.json",
        id="chunks-text-a-number",
    ),
    pytest.param(
        "chunks.json",
        _rewritten(lambda rows: [{**r, "fields": ["cards"]} for r in rows]),
        "chunks.json",
        id="chunks-fields-a-list",
    ),
    pytest.param("terms.json", _rewritten(lambda terms: {"card": 1}), "terms.json", id="terms-object"),
    pytest.param("terms.json", _rewritten(lambda terms: [1, 2]), "terms", id="terms-numbers"),
    pytest.param(
        "terms.json",
        _rewritten(lambda terms: terms[:-1]),
        "term columns",
        id="terms-one-short",
    ),
    pytest.param(
        "tf.npz",
        lambda path: sp.save_npz(path, sp.csc_matrix(sp.load_npz(path))[:, :-1]),
        "term columns",
        id="tf-one-column-short",
    ),
    pytest.param("lengths.npy", _saved(lambda a: a[:, None]), "lengths", id="lengths-a-column"),
    pytest.param("lengths.npy", _saved(lambda a: a.astype(str)), "lengths", id="lengths-text"),
    pytest.param("vectors.npy", _saved(lambda a: a.astype(np.float64)), "float64", id="vectors-float64"),
    pytest.param(
        "vectors.npy",
        _saved(lambda a: np.zeros((3, 7), np.float32)),
        "passages but (3, 7) vectors",
        id="vectors-wrong-shape",
    ),
]


@pytest.mark.parametrize(("file", "damage", "what"), _INDEX_DAMAGE)
def test_a_damaged_index_is_reported_in_one_line_and_rebuilt(
    services: Services, file: str, damage: Callable[[Path], None], what: str | None
) -> None:
    _hits(services, "card")
    folder = _index_folder(services)
    (segment,) = json.loads((folder / "manifest.json").read_text())["segments"]
    damage(folder / file if file == "manifest.json" else folder / segment / file)
    fresh = _another_process(services)  # nothing in memory
    response = fresh.search.search("acme", "Zebulon parcel", k=3)
    notices = [n for n in response.notices if "damaged" in n]
    if what is None:
        assert notices == []
    else:
        (notice,) = notices
        assert notice.startswith("the search index of acme was damaged (") and what in notice, notice
        assert "\n" not in notice
    assert response.hits and "Zebulon" in response.hits[0].passage
    assert fresh.search.search("acme", "card").notices == []  # rebuilt: whole again
    fresh.close()


def _scribbled(path: Path) -> None:
    """Random bytes over pages in the middle, the first page intact: opening the file still works."""
    with open(path, "r+b") as handle:
        handle.seek(path.stat().st_size // 2)
        handle.write(random.Random(7).randbytes(8192))


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b"not a database at all" * 50),
        lambda path: path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 2000),
        _emptied,
        _truncated,
        _scribbled,
        _removed,
    ],
    ids=["text", "bad-header", "emptied", "truncated", "scribbled", "removed"],
)
def test_a_damaged_embedding_cache_is_started_afresh(
    services: Services, damage: Callable[[Path], None]
) -> None:
    _hits(services, "card")
    cache = _index_folder(services) / "embeddings.sqlite"
    assert not cache.with_name(cache.name + "-wal").exists()  # all of it is in the file itself
    damage(cache)
    with services.uow() as uow:  # something new to embed: the cache is read and written
        uow.workspace("acme").conversations.upsert_many([_conversation("c-new", "a new question")])
        uow.commit()
    fresh = _another_process(services)
    assert "a new question" in _hits(fresh, "new question")[0]
    rebuilt = fresh.search.rebuild("acme")  # `deskops index rebuild` reads every vector
    assert rebuilt.chunks == 32
    fresh.close()
    with sqlite3.connect(cache) as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert db.execute("select count(*) from vectors").fetchone()[0] == 32


def test_a_pinned_search_sees_the_index_as_it_was_and_only_in_its_thread(services: Services) -> None:
    import threading

    services.search.search("acme", "card", k=3)  # built
    with services.search.pinned("acme"):
        with services.uow() as uow:
            uow.workspace("acme").conversations.upsert_many(
                [_conversation("c-new", "a wombat ate my card", 120)]
            )
            uow.commit()
        assert not any("wombat" in p for p in _hits(services, "wombat card"))  # as it was on entry
        seen: list[bool] = []
        other = threading.Thread(
            target=lambda: seen.append(any("wombat" in p for p in _hits(services, "wombat card")))
        )
        other.start()
        other.join()
        assert seen == [True]  # another thread syncs as usual
    assert any("wombat" in p for p in _hits(services, "wombat card"))  # and this one again after the block


def test_filter_masks_are_kept_per_segment_but_never_hide_a_retirement(services: Services) -> None:
    index = services.search.sync("acme")
    segment = index.segments[0]
    wanted = {"kind": "conversation", "topic": "cards", "since": "2026-10-01", "until": "2026-10-01"}
    first = segment.mask(wanted).copy()
    naive = segment.live.copy()
    for name in ("kind", "topic"):
        naive &= segment.values[name] == wanted[name]
    naive &= np.array([d is not None and "2026-10-01" <= d <= "2026-10-01" for d in segment.values["date"]])
    assert (first == naive).all() and first.sum() > 0
    twin = index.copy()  # an update works on a copy: its retirements must show in its masks at once
    gone = {segment.chunks[int(np.flatnonzero(first)[0])].id}
    assert twin.retire(gone) == 1
    assert (
        twin.segments[0].mask(wanted).sum() == first.sum() - 1 and segment.mask(wanted).sum() == first.sum()
    )
