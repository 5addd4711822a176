"""Writers to one workspace at the same time: each waits for the other, then both land.

Two imports take turns behind the workspace's lock; every other writer that reads before it
writes (the next id, whether a record exists, the next version or data revision) takes turns
with the writers of the same table.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deskops.bootstrap import Services, build
from deskops.domain.models import (
    Article,
    AuthorKind,
    CohortDefinition,
    Conversation,
    Decision,
    DecisionTrace,
    Event,
    FrontlineSettings,
    Message,
    Role,
)
from deskops.errors import Conflict
from deskops.importers import import_file
from deskops.store import tables
from deskops.store.repositories import DataRevision, WorkspaceScope

T0 = datetime(2026, 10, 1, tzinfo=UTC)
THREADS, ROUNDS = 4, 10


def _file(path: Path, prefix: str, count: int) -> Path:
    with path.open("w") as handle:
        for i in range(count):
            at = (datetime(2026, 10, 1, tzinfo=UTC) + timedelta(minutes=i)).isoformat()
            record = {
                "external_id": f"{prefix}-{i}",
                "created_at": at,
                "channel": "chat",
                "customer_external_id": f"cus-{i % 40}",  # both files name the same customers
                "messages": [{"author_kind": "customer", "text": f"question {i}", "created_at": at}],
            }
            handle.write(json.dumps(record) + "\n")
    return path


def _together(services: Services, paths: list[Path]) -> list[Any]:
    """Import each file from its own thread (its own connection), all released at once."""
    results: list[Any] = [None] * len(paths)
    start = threading.Barrier(len(paths))

    def work(n: int) -> None:
        start.wait()
        try:
            results[n] = import_file(
                uow=services.uow(), workspace="acme", path=paths[n], kind="conversations"
            )
        except Exception as exc:  # recorded, and the test says which
            results[n] = exc

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(paths))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.fixture
def acme(db_url: str, tmp_path: Path) -> Any:
    services = build(database_url=db_url, data_dir=tmp_path / "data")
    with services.uow() as uow:
        uow.workspaces.create("acme")
        uow.commit()
    yield services
    services.close()


def test_different_files_naming_the_same_customers(acme: Services, tmp_path: Path) -> None:
    paths = [_file(tmp_path / f"f{n}.jsonl", f"f{n}", 1500) for n in range(3)]
    results = _together(acme, paths)
    assert all(not isinstance(r, Exception) for r in results), results
    assert [r.counts["inserted"] for r in results] == [1500, 1500, 1500]
    with acme.uow() as uow:
        scope = uow.workspace("acme")
        assert (
            scope.conversations.count(),
            scope.customers.count(),
            scope.conversations.count_messages(),
        ) == (
            4500,
            40,
            4500,
        )


def test_the_same_file_twice_lands_once(acme: Services, tmp_path: Path) -> None:
    path = _file(tmp_path / "same.jsonl", "same", 1500)
    first, second = _together(acme, [path, path])
    assert not isinstance(first, Exception) and not isinstance(second, Exception), (first, second)
    assert sorted([first.counts["inserted"], second.counts["inserted"]]) == [0, 1500]
    assert sorted([first.counts["unchanged"], second.counts["unchanged"]]) == [0, 1500]
    with acme.uow() as uow:
        assert uow.workspace("acme").conversations.count() == 1500


def test_a_writer_that_waits_too_long_gets_one_clear_line(acme: Services) -> None:
    with acme.uow() as holder:
        holder.workspace("acme").lock_for_writes()  # another import, still running
        with acme.uow() as waiting, pytest.raises(Conflict) as raised:
            waiting.workspace("acme").lock_for_writes(wait_s=0.5)
    assert str(raised.value).startswith("workspace 'acme' is being written by another process")
    assert "\n" not in str(raised.value)


# ------------------------------------------------------------------------- writers outside imports


def _trace(n: int) -> DecisionTrace:
    return DecisionTrace(
        created_at=T0,
        query=f"question {n}",
        confidence=0.5,
        threshold=0.8,
        decision=Decision.handover,
        reason="r",
        reply="",
        model="offline",
        latency_ms=1.0,
    )


def _conversation(external_id: str) -> Conversation:
    return Conversation(
        external_id=external_id,
        created_at=T0,
        channel="chat",
        messages=[Message(author_kind=AuthorKind.customer, text="hi", created_at=T0)],
    )


Write = Callable[[WorkspaceScope, int, int], Any]
"""One transaction's write by thread ``n`` in round ``r``."""

# Each writer runs THREADS x ROUNDS times, the threads released together every round; then the
# rows written are counted.
WRITERS: dict[str, tuple[Write, Callable[[WorkspaceScope], Any], Any]] = {
    "decision traces": (
        lambda s, n, r: s.traces.add(_trace(n)),
        lambda s: sorted(t.query for t in s.traces.list(limit=1000)),
        sorted(f"question {n}" for n in range(THREADS) for _ in range(ROUNDS)),
    ),
    "members and their tokens": (
        lambda s, n, r: s.members.issue_token(
            s.members.add(email=f"m{n}-{r}@acme.example", name="m", role=Role.viewer).id
        ),
        lambda s: (len(s.members.list()), _rows(s, tables.api_tokens)),
        (THREADS * ROUNDS, THREADS * ROUNDS),
    ),
    "cohorts": (
        lambda s, n, r: s.cohorts.save(f"cohort {n}-{r}", CohortDefinition(plan="Free")),
        lambda s: len(s.cohorts.list()),
        THREADS * ROUNDS,
    ),
    "article versions": (  # every thread edits the same article each round
        lambda s, n, r: s.articles.save(
            Article(external_id=f"kb-{r}", title="t", body=f"by {n}", created_at=T0, updated_at=T0)
        ),
        lambda s: sorted({len(s.articles.history(a.external_id)) for a in s.articles.list()}),
        [THREADS],
    ),
    "agent settings versions": (
        lambda s, n, r: s.agent_settings.save(FrontlineSettings(handover_team=f"team {n}-{r}")),
        lambda s: [v.version for v in s.agent_settings.history()],
        list(range(1, THREADS * ROUNDS + 1)),
    ),
    "events": (
        lambda s, n, r: s.events.add_many(
            [Event(name="login", occurred_at=T0, customer_external_id=f"cus-{r}")] * 3
        ),
        lambda s: (s.events.count(), s.customers.count()),
        (3 * THREADS * ROUNDS, ROUNDS),
    ),
    "customers named by several writers": (
        lambda s, n, r: s.customers.ensure([f"cus-{r}", f"cus-{n}-{r}"]),
        lambda s: s.customers.count(),
        ROUNDS + THREADS * ROUNDS,
    ),
    "conversations": (
        lambda s, n, r: s.conversations.upsert_many([_conversation(f"c-{n}-{r}")]),
        lambda s: (s.conversations.count(), s.revisions.current().revision),
        (THREADS * ROUNDS, THREADS * ROUNDS),
    ),
}


def _rows(scope: WorkspaceScope, table: Any) -> int:
    return int(
        scope.connection.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c.workspace_id == scope.workspace.id)
        ).scalar_one()
    )


def _race(services: Services, write: Write) -> list[Exception]:
    """THREADS threads, each with its own connection, write ROUNDS times, released together."""
    errors: list[Exception] = []
    together = threading.Barrier(THREADS, timeout=60)

    def work(n: int) -> None:
        for r in range(ROUNDS):
            together.wait()
            try:
                with services.uow() as uow:
                    write(uow.workspace("acme"), n, r)
                    uow.commit()
            except Exception as exc:  # recorded, and the test says which
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@pytest.mark.parametrize("writer", list(WRITERS))
def test_concurrent_writers_all_land(acme: Services, writer: str) -> None:
    write, written, expected = WRITERS[writer]
    errors = _race(acme, write)
    assert errors == [], f"{len(errors)} of {THREADS * ROUNDS} failed, first: {errors[0]!r}"
    with acme.uow() as uow:
        assert written(uow.workspace("acme")) == expected


def test_two_members_added_with_one_email_at_once(acme: Services) -> None:
    errors = _race(
        acme, lambda s, n, r: s.members.add(email=f"m{r}@acme.example", name="m", role=Role.viewer)
    )
    # Each round one thread adds the member and the others are told it exists: never a crash.
    assert len(errors) == (THREADS - 1) * ROUNDS
    assert {type(e) for e in errors} == {Conflict}
    with acme.uow() as uow:
        assert len(uow.workspace("acme").members.list()) == ROUNDS


def test_a_data_revision_is_never_lost_to_a_concurrent_write(acme: Services) -> None:
    """A writer that read the revision while another's write was under way must not overwrite it:
    a snapshot taken after the first would then never see the second's rows."""
    with acme.uow() as uow:
        uow.workspace("acme").revisions.bump(rewrite=False)
        uow.commit()
    with acme.uow() as first:
        first.workspace("acme").revisions.bump(rewrite=False)  # not committed yet

        def second() -> None:
            with acme.uow() as uow:
                uow.workspace("acme").revisions.bump(rewrite=True)
                uow.commit()

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=0.5)  # it reads, then waits for the first to finish
        first.commit()
    thread.join(timeout=60)
    with acme.uow() as uow:
        assert uow.workspace("acme").revisions.current() == DataRevision(revision=3, rewrite_revision=3)
