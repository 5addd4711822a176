"""Importing files into a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

import deskops.importers
from deskops.bootstrap import Services
from deskops.domain.models import AuthorKind, Outcome
from deskops.importers import GENERIC, ZENDESK, ImportFailed, Kind, import_file
from deskops.store.repositories import UnknownWorkspace

IMPORTERS = {"generic": GENERIC, "zendesk": ZENDESK}
DATA = Path(__file__).resolve().parents[1] / "data" / "import"


@pytest.fixture
def acme(services: Services) -> Services:
    with services.uow() as uow:
        uow.workspaces.create("acme", time_zone="Europe/Berlin")
        uow.commit()
    return services


def _counts(services: Services) -> dict[str, int]:
    with services.uow() as uow:
        scope = uow.workspace("acme")
        return {
            "conversations": scope.conversations.count(),
            "messages": scope.conversations.count_messages(),
            "customers": scope.customers.count(),
            "articles": scope.articles.count(),
        }


@pytest.mark.parametrize(
    ("name", "kind", "source", "records"),
    [
        ("conversations.jsonl", "conversations", "generic", 4),
        ("articles.csv", "articles", "generic", 4),
        ("customers.csv", "customers", "generic", 5),
        ("zendesk_tickets.json", "conversations", "zendesk", 5),
        ("zendesk_incremental.ndjson", "conversations", "zendesk", 1),
    ],
)
def test_import_then_reimport_changes_nothing(
    acme: Services, name: str, kind: Kind, source: str, records: int
) -> None:
    path = DATA / name
    first = import_file(uow=acme.uow(), workspace="acme", path=path, kind=kind, importer=IMPORTERS[source])
    assert first.records == records
    assert first.counts == {"inserted": records, "updated": 0, "unchanged": 0}
    assert (first.kind, first.source, first.path) == (kind, source, str(path))
    after_first = _counts(acme)

    again = import_file(uow=acme.uow(), workspace="acme", path=path, kind=kind, importer=IMPORTERS[source])
    assert again.counts == {"inserted": 0, "updated": 0, "unchanged": records}
    assert _counts(acme) == after_first


def test_imported_conversations_read_back_equal(acme: Services) -> None:
    import_file(uow=acme.uow(), workspace="acme", path=DATA / "conversations.jsonl", kind="conversations")
    expected = deskops.importers.parse_file(path=DATA / "conversations.jsonl", kind="conversations")
    with acme.uow() as uow:
        scope = uow.workspace("acme")
        for conversation in expected:
            assert scope.conversations.get(conversation.external_id) == conversation
        # Conversations name customers the file never described: bare records are made for them.
        assert scope.customers.get("cus-2").name is None
        assert _counts(acme)["messages"] == 10


def test_zendesk_tickets_land_with_the_mapping(acme: Services) -> None:
    import_file(
        uow=acme.uow(),
        workspace="acme",
        path=DATA / "zendesk_tickets.json",
        kind="conversations",
        importer=ZENDESK,
    )
    with acme.uow() as uow:
        scope = uow.workspace("acme")
        login = scope.conversations.get("35437")
        assert login.customer_external_id == "20978401"
        assert login.escalated_at == datetime(2024, 3, 5, 11, 15, tzinfo=UTC)
        assert [m.author_kind for m in login.messages][:2] == [AuthorKind.customer, AuthorKind.ai_agent]
        assert scope.conversations.get("35438").outcome is Outcome.ai_resolved
        assert scope.customers.count() == 5  # one bare customer per requester


def test_a_modified_file_updates_only_what_changed(acme: Services, tmp_path: Path) -> None:
    path = tmp_path / "conversations.jsonl"
    shutil.copy(DATA / "conversations.jsonl", path)
    import_file(uow=acme.uow(), workspace="acme", path=path, kind="conversations")

    lines = path.read_text(encoding="utf-8").split("\n")
    first = json.loads(lines[0])
    first["messages"][2]["text"] = "Found it in spam, thanks!"  # only a message changes
    second = json.loads(lines[1])
    second["csat"] = 2  # only a field of the conversation changes
    lines[0], lines[1] = json.dumps(first), json.dumps(second)
    lines.append(json.dumps({**first, "external_id": "conv-2000"}))
    path.write_text("\n".join(lines), encoding="utf-8")

    report = import_file(uow=acme.uow(), workspace="acme", path=path, kind="conversations")
    assert report.counts == {"inserted": 1, "updated": 2, "unchanged": 2}
    with acme.uow() as uow:
        scope = uow.workspace("acme")
        assert scope.conversations.get("conv-1001").messages[2].text == "Found it in spam, thanks!"
        assert scope.conversations.get("conv-1002").csat == 2


def test_a_modified_article_gets_a_new_version(acme: Services, tmp_path: Path) -> None:
    path = tmp_path / "articles.csv"
    shutil.copy(DATA / "articles.csv", path)
    import_file(uow=acme.uow(), workspace="acme", path=path, kind="articles")
    text = path.read_text(encoding="utf-8").replace("valid for 15 minutes", "valid for 30 minutes")
    path.write_text(text, encoding="utf-8")
    report = import_file(uow=acme.uow(), workspace="acme", path=path, kind="articles")
    assert report.counts == {"inserted": 0, "updated": 1, "unchanged": 3}
    with acme.uow() as uow:
        article = uow.workspace("acme").articles.get("kb-reset-password")
        assert (article.version, "30 minutes" in article.body) == (2, True)


def test_a_bad_file_writes_nothing(acme: Services, tmp_path: Path) -> None:
    import_file(uow=acme.uow(), workspace="acme", path=DATA / "customers.csv", kind="customers")
    before = _counts(acme)
    lines = (DATA / "conversations.jsonl").read_text(encoding="utf-8").split("\n")
    broken = json.loads(lines[3])
    broken["messages"][0]["created_at"] = "2024-05-03T14:20:00"
    lines[3] = json.dumps(broken)
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")

    with pytest.raises(ImportFailed) as raised:
        import_file(uow=acme.uow(), workspace="acme", path=path, kind="conversations")
    [error] = raised.value.errors
    assert (error.line, error.field) == (4, "messages[0].created_at")
    assert "line 4, messages[0].created_at: timestamp" in str(raised.value)
    assert _counts(acme) == before


def test_a_failure_while_writing_rolls_back_every_batch(
    acme: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deskops.importers, "BATCH_SIZE", 2)
    seen: list[int] = []

    def fail_on_second_batch(written: int) -> None:
        seen.append(written)
        if written > 2:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        import_file(
            uow=acme.uow(),
            workspace="acme",
            path=DATA / "conversations.jsonl",
            kind="conversations",
            progress=fail_on_second_batch,
        )
    assert seen == [2, 4]
    assert _counts(acme)["conversations"] == 0

    # In the caller's open unit of work the written batches must not survive a later commit.
    with acme.uow() as uow:
        with pytest.raises(RuntimeError, match="disk full"):
            import_file(
                uow=uow,
                workspace="acme",
                path=DATA / "conversations.jsonl",
                kind="conversations",
                progress=fail_on_second_batch,
            )
        uow.commit()
    assert _counts(acme) == {"conversations": 0, "messages": 0, "customers": 0, "articles": 0}


def test_progress_reports_records_written_per_batch(acme: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deskops.importers, "BATCH_SIZE", 2)
    seen: list[int] = []
    report = import_file(
        uow=acme.uow(), workspace="acme", path=DATA / "customers.csv", kind="customers", progress=seen.append
    )
    assert seen == [2, 4, 5]
    assert report.counts["inserted"] == 5


def test_an_open_unit_of_work_is_used_and_committed(acme: Services) -> None:
    with acme.uow() as uow:
        report = import_file(uow=uow, workspace="acme", path=DATA / "customers.csv", kind="customers")
        assert report.records == 5
    # Leaving the block without commit() would roll back: import_file committed already.
    assert _counts(acme)["customers"] == 5


def test_unknown_workspace_is_refused_before_reading(acme: Services) -> None:
    with pytest.raises(UnknownWorkspace):
        import_file(uow=acme.uow(), workspace="nope", path=DATA / "missing.jsonl", kind="conversations")
