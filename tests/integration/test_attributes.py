"""Attribute awareness: coverage, cardinality, type, emptiness and association, with exact values."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import numpy as np
import pytest
from scipy import stats

from deskops.analytics.attributes import attribute_report
from deskops.bootstrap import Services
from deskops.domain.models import Conversation, Customer


def test_attribute_report(services: Services) -> None:
    with services.uow() as uow:
        scope = uow.workspace(uow.workspaces.create("acme", time_zone="UTC"))
        scope.customers.upsert_many(
            [
                Customer(external_id="a", plan="Pro", attributes={"industry": "retail", "legacy": None}),
                Customer(external_id="b", plan="Free", attributes={"legacy": None}),
            ]
        )
        rows = []
        for i in range(40):
            escalated = i % 4 == 0  # 10 of 40
            rows.append(
                Conversation(
                    external_id=f"c-{i}",
                    customer_external_id="a" if i < 10 else "b",
                    created_at=datetime(2026, 5, 1 + i % 20, 12, tzinfo=UTC),
                    channel="chat",
                    ai_involved=True,
                    escalated_at=datetime(2026, 5, 1 + i % 20, 13, tzinfo=UTC) if escalated else None,
                    attributes={
                        "cause": "bug" if escalated else "question",
                        "noise": ["x", "y"][i % 2],
                        "score": float(i),
                    },
                )
            )
        scope.conversations.upsert_many(rows)
        uow.commit()
        report = attribute_report(
            scope,
            columns=services.columns,
            start=date(2026, 5, 1),
            end=date(2026, 5, 31),
            today=date(2026, 6, 1),
        ).to_json()

    by_name = {row["attribute"]: row for row in report["attributes"]}
    assert report["conversations"] == 40
    cause = by_name["conversation.cause"]
    assert (cause["coverage"], cause["cardinality"], cause["type"]) == (1.0, 2, "text")
    assert (
        cause["association"]["cramers_v"] == 1.0 and cause["signal"] == "strong" and cause["mirrors_outcome"]
    )
    expected_mi = -(0.25 * math.log2(0.25) + 0.75 * math.log2(0.75))  # H(escalated): cause determines it
    assert cause["association"]["mutual_information_bits"] == pytest.approx(expected_mi, abs=1e-4)

    noise = by_name["conversation.noise"]
    table = np.array([[10, 10], [20, 0]])  # even i: 10 escalated, 10 not; odd i: 20 not escalated
    chi2, *_ = stats.chi2_contingency(table, correction=False)
    assert noise["association"]["cramers_v"] == pytest.approx(math.sqrt(chi2 / 40), abs=1e-4)

    industry = by_name["customer.industry"]
    assert industry["coverage"] == 0.25 and industry["cardinality"] == 1 and not industry["effectively_empty"]
    assert by_name["customer.legacy"]["effectively_empty"] and by_name["customer.legacy"]["signal"] == "empty"
    assert by_name["channel"]["effectively_empty"]  # "chat" everywhere: nothing to learn
    assert (
        by_name["conversation.score"]["type"] == "numeric"
        and by_name["conversation.score"]["cardinality"] == 40
    )
    assert report["attributes"][0]["attribute"] == "conversation.cause"  # strongest first
    assert report["attributes"][-1]["effectively_empty"]  # empty ones last
