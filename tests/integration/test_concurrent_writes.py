"""Two imports into one workspace at the same time: the second waits for the first, then both land."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from deskops.bootstrap import Services, build
from deskops.errors import Conflict
from deskops.importers import import_file


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
