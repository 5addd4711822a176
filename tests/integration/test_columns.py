"""The analytics column snapshot: kept current by writes, persisted, crash-safe, equal to a rebuild."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from deskops.analytics import columns
from deskops.analytics import metrics as engine
from deskops.analytics.attributes import attribute_report
from deskops.analytics.catalog import metric
from deskops.analytics.columns import ColumnStore
from deskops.bootstrap import Services
from deskops.domain.models import Conversation, Customer, Outcome
from deskops.store.repositories import WorkspaceScope


def run(function: Any, scope: Any, store: ColumnStore, metric_name: str, **kwargs: Any) -> Any:
    """An engine call by metric name, on ``store``, as its JSON document."""
    return function(scope, columns=store, metric=metric(metric_name), **kwargs).to_json()


DAY = datetime(2026, 5, 4, 12, tzinfo=UTC)
TODAY = date(2026, 6, 1)


def _conversation(i: int, *, topic: str = "billing", customer: str = "c1", **extra: Any) -> Conversation:
    return Conversation(
        external_id=f"conv-{i}",
        customer_external_id=customer,
        created_at=DAY + timedelta(hours=i),
        channel="chat",
        topic=topic,
        ai_involved=True,
        outcome=Outcome.ai_resolved if i % 2 else Outcome.human_resolved,
        escalated_at=None if i % 2 else DAY + timedelta(hours=i, minutes=5),
        **extra,
    )


def _escalation_by_plan(scope: WorkspaceScope, store: ColumnStore) -> dict[str, Any]:
    result = run(
        engine.series,
        scope,
        store,
        metric_name="escalation_rate",
        start=date(2026, 5, 1),
        end=date(2026, 5, 31),
        granularity="month",
        by="plan",
        today=TODAY,
    )
    return {g["group"]: (g["total"]["numerator"], g["total"]["denominator"]) for g in result["groups"]}


@pytest.fixture()
def scope_and_store(sqlite_services: Services) -> Any:
    with sqlite_services.uow() as uow:
        scope = uow.workspace(uow.workspaces.create("acme", time_zone="UTC"))
        scope.customers.upsert_many(
            [Customer(external_id="c1", plan="Free"), Customer(external_id="c2", plan="Pro")]
        )
        scope.conversations.upsert_many([_conversation(i) for i in range(10)])
        uow.commit()
        yield scope, sqlite_services.columns


def test_appends_are_merged_without_a_rebuild(scope_and_store: Any) -> None:
    scope, store = scope_and_store
    assert store.refresh(scope).action == "built"
    assert _escalation_by_plan(scope, store) == {"Free": (5.0, 10)}
    assert store.refresh(scope).action == "served"

    # New conversations, one of a customer the snapshot has never seen, one earlier than the rest.
    scope.conversations.upsert_many(
        [_conversation(10, customer="c2"), _conversation(11, customer="new"), _conversation(-30)]
    )
    assert store.refresh(scope).action == "appended"
    assert _escalation_by_plan(scope, store) == {"Free": (6.0, 11), "Pro": (1.0, 1), "(none)": (0.0, 1)}
    created = store.snapshot(scope).columns["created"]
    assert (np.diff(created) >= 0).all()  # still in creation order after an out-of-order append


def test_changes_to_existing_rows_rebuild(scope_and_store: Any) -> None:
    scope, store = scope_and_store
    _escalation_by_plan(scope, store)
    # A customer moving plan changes every one of their conversations: a rewrite.
    scope.customers.upsert_many([Customer(external_id="c1", plan="Pro")])
    assert store.refresh(scope).action == "built"
    assert _escalation_by_plan(scope, store) == {"Pro": (5.0, 10)}
    # So does an edited conversation.
    scope.conversations.upsert_many([_conversation(1, topic="refunds")])
    assert store.refresh(scope).action == "built"
    result = run(
        engine.series,
        scope,
        store,
        metric_name="conversation_volume",
        start=date(2026, 5, 1),
        end=date(2026, 5, 31),
        granularity="month",
        by="topic",
        today=TODAY,
    )
    assert {g["group"]: g["total"]["denominator"] for g in result["groups"]} == {"billing": 9, "refunds": 1}


def test_unchanged_writes_leave_the_snapshot_alone(scope_and_store: Any) -> None:
    scope, _ = scope_and_store
    before = scope.revisions.current()
    scope.conversations.upsert_many([_conversation(i) for i in range(10)])  # identical
    scope.customers.upsert_many([Customer(external_id="c1", plan="Free")])
    assert scope.revisions.current() == before


def test_an_appended_snapshot_equals_a_rebuilt_one(scope_and_store: Any) -> None:
    scope, store = scope_and_store
    store.snapshot(scope)
    scope.conversations.upsert_many(
        [
            _conversation(20 + i, customer=f"c{i % 3}", attributes={"priority": ["high", "low", 3][i % 3]})
            for i in range(30)
        ]
    )
    refreshed = store.refresh(scope)
    appended = refreshed.snapshot
    assert refreshed.action == "appended"
    rebuilt = columns.build(scope, scope.revisions.current())
    assert set(appended.columns) == set(rebuilt.columns)
    for name in appended.columns:
        a, b = appended.columns[name], rebuilt.columns[name]
        if name in appended.dictionaries:  # codes may be numbered differently: compare values
            a = np.array([appended.dictionaries[name].values[c] if c >= 0 else c for c in a], dtype=object)
            b = np.array([rebuilt.dictionaries[name].values[c] if c >= 0 else c for c in b], dtype=object)
        np.testing.assert_array_equal(a, b, err_msg=name)
    period = {"start": date(2026, 5, 1), "end": date(2026, 5, 31), "today": TODAY}
    from_appended = attribute_report(scope, columns=store, **period)
    assert store.refresh(scope, rebuild=True).action == "built"
    assert from_appended == attribute_report(scope, columns=store, **period)


def test_persisted_in_the_data_folder_and_loaded_by_a_new_process(scope_and_store: Any) -> None:
    scope, store = scope_and_store
    expected = _escalation_by_plan(scope, store)
    assert store.root is not None and (store.root / "acme" / "manifest.json").exists()
    fresh = columns.ColumnStore(store.root)  # what a new process starts with
    loaded = fresh.refresh(scope)
    assert loaded.action == "loaded" and len(loaded.snapshot) == 10
    np.testing.assert_array_equal(
        loaded.snapshot.columns["created"], store.snapshot(scope).columns["created"]
    )
    assert expected == _escalation_by_plan(scope, fresh)


def test_a_crash_before_the_manifest_swap_keeps_the_old_snapshot(
    scope_and_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    scope, store = scope_and_store
    store.snapshot(scope)
    folder: Path = store.root / "acme"
    scope.customers.upsert_many([Customer(external_id="c1", plan="Pro")])  # forces a rebuild and a save

    def crash(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        columns.ColumnStore(store.root).snapshot(scope)
    monkeypatch.undo()
    old = columns.load(folder)
    assert old is not None and old.revision != scope.revisions.current()  # the old one, whole
    rebuilt = columns.ColumnStore(store.root).refresh(scope)
    assert _plans(rebuilt.snapshot) == {"Pro"} and rebuilt.action == "built"


def _plans(snapshot: columns.Snapshot) -> set[str]:
    d = snapshot.dictionaries["plan"]
    return {d.values[c] for c in np.unique(snapshot.columns["plan"]) if c >= 0}


def test_an_unreadable_snapshot_is_rebuilt(scope_and_store: Any) -> None:
    scope, store = scope_and_store
    store.snapshot(scope)
    (store.root / "acme" / "manifest.json").write_text("{not json")
    rebuilt = columns.ColumnStore(store.root).refresh(scope)
    assert len(rebuilt.snapshot) == 10 and rebuilt.action == "built"


def test_a_recreated_workspace_gets_a_fresh_snapshot(sqlite_services: Services) -> None:
    for topic in ("first", "second"):
        with sqlite_services.uow() as uow:
            if uow.workspaces.find("acme"):
                uow.workspaces.delete("acme")
            scope = uow.workspace(uow.workspaces.create("acme", time_zone="UTC"))
            scope.conversations.upsert_many([_conversation(1, topic=topic)])
            uow.commit()
            snapshot = columns.ColumnStore(sqlite_services.columns.root).snapshot(scope)
            assert snapshot.dictionaries["topic"].values == [topic]
