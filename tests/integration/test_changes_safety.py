"""The action layer's safety net on SQLite and PostgreSQL: two processes accepting at once, a process
killed half-way through applying, and every way of tampering with the audit log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from changes_world import ADMIN, build_world, draft
from deskops.bootstrap import Services
from deskops.changes import audit
from deskops.changes.proposals import create_proposal
from deskops.domain.changes import GENESIS, ProposalState, canonical_json, chain_hash
from deskops.errors import InvalidInput
from deskops.store import tables as t

TESTS = Path(__file__).resolve().parents[1]
THREE_ITEMS = {
    "articles": [{"external_id": "kb-refund", "title": "Refunds: annual plans"}],
    "guidance": [{"external_id": "gr-tone", "body": "Be friendly and brief."}],
    "procedures": [{"external_id": "proc-refund", "title": "Check whether a refund is due"}],
}


@pytest.fixture
def world(services: Services) -> Iterator[Services]:
    build_world(services)
    yield services


def _propose(services: Services, change_set: dict = THREE_ITEMS) -> int:  # type: ignore[type-arg]
    made = create_proposal(
        uow=services.uow(),
        workspace="demo",
        draft=draft(change_set),
        actor=ADMIN,
        reviewing=services.reviewing,
        replay=False,
    )
    return made.proposal.id


def _python(script: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


ACCEPT = """
    import json, sys, time
    from pathlib import Path
    from deskops.bootstrap import build
    from deskops.changes.apply import apply_proposal
    from changes_world import ADMIN
    url, proposal, go, data = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
    services = build(database_url=url, data_dir=data)
    services.engine.connect().close()  # connected and migrated before the race starts
    Path(go.parent / f"ready-{sys.argv[5]}").touch()
    while not go.exists():
        time.sleep(0.001)
    done = apply_proposal(
        uow=services.uow(), workspace="demo", proposal_id=proposal, actor=ADMIN, override="race"
    )
    print(json.dumps({"already": done.already, "versions": done.versions}))
"""


def test_two_processes_accepting_at_once_apply_exactly_once(
    world: Services, db_url: str, tmp_path: Path
) -> None:
    proposal = _propose(world)
    go = tmp_path / "go"
    racers = [
        _python(ACCEPT, db_url, str(proposal), str(go), str(tmp_path / "data"), str(n)) for n in range(2)
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{n}").exists() for n in range(2)) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    results = []
    for racer in racers:
        stdout, stderr = racer.communicate(timeout=120)
        assert racer.returncode == 0, stderr
        results.append(json.loads(stdout))
    assert sorted(r["already"] for r in results) == [False, True]
    assert (
        results[0]["versions"]
        == results[1]["versions"]
        == {
            "article:kb-refund": 2,
            "guidance:gr-tone": 2,
            "procedure:proc-refund": 2,
        }
    )
    with world.uow() as uow:
        scope = uow.workspace("demo")
        assert len(scope.articles.versions("kb-refund")) == 2
        assert len(scope.audit.list(kind="proposal.applied")) == 1
        assert audit.verify(scope).ok


CRASH = """
    import os, signal, sys
    from deskops.bootstrap import build
    from deskops.changes import apply
    from changes_world import ADMIN
    url, proposal, data, after = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    written = []
    real_write = apply.write

    def write_then_die(*args, **kwargs):
        version = real_write(*args, **kwargs)
        written.append(version)
        if len(written) == after:
            os.kill(os.getpid(), signal.SIGKILL)  # the power cord, mid-transaction
        return version

    apply.write = write_then_die
    services = build(database_url=url, data_dir=data)
    apply.apply_proposal(
        uow=services.uow(), workspace="demo", proposal_id=proposal, actor=ADMIN, override="crash"
    )
    print("not killed")
"""


@pytest.mark.parametrize("after", [1, 2])
def test_a_process_killed_while_applying_leaves_nothing_half_written(
    world: Services, db_url: str, tmp_path: Path, after: int
) -> None:
    proposal = _propose(world)
    victim = _python(CRASH, db_url, str(proposal), str(tmp_path / "data"), str(after))
    _, stderr = victim.communicate(timeout=120)
    assert victim.returncode == -9, stderr
    with world.uow() as uow:
        scope = uow.workspace("demo")
        assert scope.articles.get("kb-refund").version == 1
        assert scope.guidance.get("gr-tone").version == 1 and scope.procedures.get("proc-refund").version == 1
        assert scope.proposals.get(proposal).state is ProposalState.open
        assert [e.kind for e in scope.audit.list()] == ["proposal.created", "proposal.reviewed"]
        assert audit.verify(scope).ok
    # The lock died with the process: accepting now works.
    from deskops.changes.apply import apply_proposal

    done = apply_proposal(
        uow=world.uow(), workspace="demo", proposal_id=proposal, actor=ADMIN, override="retry"
    )
    assert done.proposal.state is ProposalState.applied


# ----------------------------------------------------------------------------------------------- tamper


@pytest.fixture
def logged(world: Services) -> Services:
    """A workspace with 6 audit events (3 proposals, created and reviewed)."""
    for title in ("Refunds: annual plans", "Annual plan refunds", "Refunds (annual)"):
        _propose(world, {"articles": [{"external_id": "kb-refund", "title": title}]})
    return world


def _sql(services: Services, statement: str, **params: object) -> None:
    with services.engine.begin() as connection:
        connection.execute(sa.text(statement), params)


def _verify(services: Services, **kwargs: object) -> object:
    with services.uow() as uow:
        return audit.verify(uow.workspace("demo"), **kwargs)  # type: ignore[arg-type]


def _row(services: Services, seq: int) -> tuple[str, str]:
    with services.engine.connect() as connection:
        row = connection.execute(
            sa.select(t.audit_events.c.event, t.audit_events.c.hash).where(t.audit_events.c.seq == seq)
        ).one()
    return row.event, row.hash


def _edit(services: Services) -> None:
    event, _ = _row(services, 3)
    _sql(
        services,
        "UPDATE audit_events SET event = :e WHERE seq = 3",
        e=event.replace("local:tester", "local:mallory"),
    )


def _delete(services: Services) -> None:
    _sql(services, "DELETE FROM audit_events WHERE seq = 3")


def _reorder(services: Services) -> None:
    (e3, h3), (e4, h4) = _row(services, 3), _row(services, 4)
    _sql(services, "UPDATE audit_events SET event = :e, hash = :h WHERE seq = 3", e=e4, h=h4)
    _sql(services, "UPDATE audit_events SET event = :e, hash = :h WHERE seq = 4", e=e3, h=h3)


def _insert(services: Services) -> None:
    """A forged event slipped in at 3, hashed correctly onto event 2; the later ones renumbered."""
    for seq in (6, 5, 4, 3):
        _sql(services, "UPDATE audit_events SET seq = :new WHERE seq = :old", new=seq + 1, old=seq)
    _, previous = _row(services, 2)
    body = canonical_json(
        {
            "seq": 3,
            "kind": "proposal.approved",
            "actor": "local:mallory",
            "items": [],
            "proposal_id": 1,
            "at": "2026-03-01T00:00:00+00:00",
            "data": {},
        }
    )
    _sql(
        services,
        "INSERT INTO audit_events (workspace_id, seq, kind, actor, proposal_id, items, created_at, "
        "event, hash) "
        "SELECT workspace_id, 3, 'proposal.approved', 'local:mallory', 1, '', created_at, :e, :h "
        "FROM audit_events WHERE seq = 2",
        e=body,
        h=chain_hash(previous, 3, body),
    )


def _column(services: Services) -> None:
    _sql(services, "UPDATE audit_events SET actor = 'local:mallory' WHERE seq = 3")


@pytest.mark.parametrize(
    ("tamper", "first_bad", "problem"),
    [
        (_edit, 3, "does not match its hash"),
        (_delete, 3, "event 3 is missing"),
        (_reorder, 3, "does not match its hash"),
        (_insert, 4, "does not match its hash"),
        (_column, 3, "columns (kind, actor) were edited"),
    ],
)
def test_verify_names_the_first_bad_event(
    logged: Services, tamper: object, first_bad: int, problem: str
) -> None:
    assert _verify(logged).ok  # type: ignore[attr-defined]
    tamper(logged)  # type: ignore[operator]
    result = _verify(logged)
    assert not result.ok and result.first_bad_seq == first_bad, result  # type: ignore[attr-defined]
    assert problem in result.problem  # type: ignore[attr-defined]


def test_an_edited_change_set_is_caught_by_the_digest_its_event_recorded(logged: Services) -> None:
    with logged.engine.begin() as connection:
        connection.execute(
            sa.update(t.proposals)
            .where(t.proposals.c.id == 2)
            .values(
                change_set={"articles": [{"external_id": "kb-refund", "title": "Refunds: whenever you like"}]}
            )
        )
    result = _verify(logged)
    assert not result.ok and result.first_bad_seq == 3  # type: ignore[attr-defined]
    assert "proposal 2's change set was edited" in result.problem  # type: ignore[attr-defined]


def _rewrite_chain(services: Services, *, drop_last: bool) -> None:
    """What someone with database access can do: change history and re-hash everything after it."""
    if drop_last:
        _sql(services, "DELETE FROM audit_events WHERE seq = 6")
    else:
        _edit(services)
        _column(services)
        with services.engine.begin() as connection:
            previous = GENESIS
            for seq, event in connection.execute(
                sa.select(t.audit_events.c.seq, t.audit_events.c.event).order_by(t.audit_events.c.seq)
            ).all():
                previous = chain_hash(previous, seq, event)
                connection.execute(
                    sa.update(t.audit_events).where(t.audit_events.c.seq == seq).values(hash=previous)
                )


@pytest.mark.parametrize("drop_last", [True, False])
def test_truncation_and_a_consistent_rewrite_are_caught_only_against_a_checkpoint(
    logged: Services, drop_last: bool
) -> None:
    with logged.uow() as uow:
        head = audit.checkpoint(uow.workspace("demo"), key="s3cret")
    assert head.seq == 6 and head.signature
    _rewrite_chain(logged, drop_last=drop_last)
    assert _verify(logged).ok  # type: ignore[attr-defined]  # the chain alone cannot tell
    result = _verify(logged, against=head, key="s3cret")
    assert not result.ok  # type: ignore[attr-defined]
    expected = "events were deleted" if drop_last else "differs from the checkpoint"
    assert expected in result.problem  # type: ignore[attr-defined]


def test_a_forged_or_unverifiable_checkpoint_is_refused(logged: Services) -> None:
    with logged.uow() as uow:
        head = audit.checkpoint(uow.workspace("demo"), key="s3cret")
    forged = head.model_copy(update={"seq": 5, "hash": _row(logged, 5)[1]})
    assert "signature does not match" in _verify(logged, against=forged, key="s3cret").problem  # type: ignore[attr-defined]
    assert "signature does not match" in _verify(logged, against=head, key="other").problem  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput, match="set DESKOPS_AUDIT_KEY"):
        _verify(logged, against=head)
    assert _verify(logged, against=head, key="s3cret").ok  # type: ignore[attr-defined]
