"""The analytics engine on hand-built data with exact expected values (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from scipy import stats

from deskops.analytics import metrics as engine
from deskops.analytics.catalog import METRICS, UnknownMetric, metric
from deskops.analytics.columns import ColumnStore
from deskops.bootstrap import Services
from deskops.domain.models import Conversation, Customer, Outcome
from deskops.errors import InvalidInput


def run(function: Any, scope: Any, metric_name: str, **kwargs: Any) -> Any:
    """An engine call by metric name, on a fresh in-memory column store, as its JSON document."""
    return function(scope, columns=ColumnStore(None), metric=metric(metric_name), **kwargs).to_json()


TODAY = date(2026, 4, 30)


def conversation(n: int, at: datetime, **fields: Any) -> Conversation:
    return Conversation.model_validate(
        {"external_id": f"c-{n}", "created_at": at, "channel": "chat", **fields}
    )


@pytest.fixture
def scope(services: Services) -> Any:
    """Europe/Berlin; DST starts 2026-03-29. Two periods: March 16-22 and March 23-29."""
    with services.uow() as uow:
        scope = uow.workspace(uow.workspaces.create("acme", time_zone="Europe/Berlin"))
        scope.customers.upsert_many(
            [
                Customer(external_id="free-1", plan="Free", region="EU"),
                Customer(external_id="pro-1", plan="Pro", region="EU"),
                Customer(external_id="pro-2", plan="Pro", region="NA"),
            ]
        )
        rows = []
        # Week 1 (March 16-22): 10 AI conversations, 6 resolved by the AI, 4 escalated.
        for i in range(10):
            resolved = i < 6
            rows.append(
                conversation(
                    i,
                    datetime(2026, 3, 16 + i % 7, 9, tzinfo=UTC),
                    customer_external_id="pro-1" if i % 2 else "free-1",
                    ai_involved=True,
                    outcome=Outcome.ai_resolved if resolved else Outcome.human_resolved,
                    escalated_at=None if resolved else datetime(2026, 3, 16 + i % 7, 10, tzinfo=UTC),
                    csat=5 if resolved else 3,
                    first_response_seconds=float(10 + i),
                    topic="cards",
                )
            )
        # Week 2 (March 23-29): 10 AI conversations, 2 resolved; Free customers escalate more.
        for i in range(10):
            resolved = i < 2
            rows.append(
                conversation(
                    100 + i,
                    datetime(2026, 3, 23 + i % 7, 9, tzinfo=UTC),
                    customer_external_id="free-1" if i < 6 else "pro-2",
                    ai_involved=True,
                    outcome=Outcome.ai_resolved if resolved else Outcome.escalated_unresolved,
                    escalated_at=None if resolved else datetime(2026, 3, 23 + i % 7, 11, tzinfo=UTC),
                    csat=2,
                    first_response_seconds=float(100 + i),
                    topic="billing" if i % 2 else "cards",
                )
            )
        # 23:30 UTC on March 21 is 00:30 on March 22 in Berlin: it belongs to the 22nd.
        rows.append(
            conversation(500, datetime(2026, 3, 21, 23, 30, tzinfo=UTC), customer_external_id="pro-2")
        )
        scope.conversations.upsert_many(rows)
        uow.commit()
        yield scope


def test_catalog_covers_the_required_metrics() -> None:
    names = {m.name for m in METRICS}
    assert {
        "conversation_volume",
        "ai_involvement_rate",
        "ai_resolution_rate",
        "escalation_rate",
        "human_resolution_rate",
        "abandonment_rate",
        "reopen_rate",
        "csat_average",
        "csat_satisfied_rate",
        "first_response_p50",
        "first_response_p90",
        "handling_time_p50",
        "handling_time_p90",
        "conversations_per_customer",
    } <= names
    assert all(m.description and m.unit for m in METRICS)


def test_series_buckets_follow_the_workspace_calendar(scope: Any) -> None:
    result = run(
        engine.series,
        scope,
        metric_name="conversation_volume",
        start=date(2026, 3, 21),
        end=date(2026, 3, 22),
        today=TODAY,
    )
    points = result["groups"][0]["points"]
    assert [p["start"] for p in points] == ["2026-03-21T00:00:00+01:00", "2026-03-22T00:00:00+01:00"]
    # March 21 has one conversation (09:00 UTC, i=5); March 22 has i=6 and the 00:30 local one.
    assert [p["value"] for p in points] == [1.0, 2.0]
    daylight = run(
        engine.series,
        scope,
        metric_name="conversation_volume",
        start=date(2026, 3, 29),
        end=date(2026, 3, 30),
        today=TODAY,
    )
    assert [p["start"] for p in daylight["groups"][0]["points"]] == [
        "2026-03-29T00:00:00+01:00",
        "2026-03-30T00:00:00+02:00",
    ]


def test_rates_carry_numerator_and_denominator(scope: Any) -> None:
    result = run(
        engine.series,
        scope,
        metric_name="ai_resolution_rate",
        start=date(2026, 3, 16),
        end=date(2026, 3, 29),
        granularity="week",
        today=TODAY,
    )
    weeks = result["groups"][0]["points"]
    assert [(p["start"][:10], p["numerator"], p["denominator"], p["value"]) for p in weeks] == [
        ("2026-03-16", 6.0, 10, 0.6),
        ("2026-03-23", 2.0, 10, 0.2),
    ]
    assert all(p["thin"] for p in weeks)  # 10 < 30: visible as a thin sample
    assert result["total"] == {"value": 0.4, "numerator": 8.0, "denominator": 20, "thin": True}


def test_means_quantiles_and_per_customer(scope: Any) -> None:
    def total(name: str) -> dict[str, Any]:
        return run(
            engine.series,
            scope,
            metric_name=name,
            start=date(2026, 3, 16),
            end=date(2026, 3, 22),
            today=TODAY,
        )["total"]

    assert total("csat_average")["value"] == pytest.approx((6 * 5 + 4 * 3) / 10)
    assert total("csat_satisfied_rate")["value"] == 0.6
    assert total("first_response_p50")["value"] == pytest.approx(float(np.quantile(np.arange(10, 20), 0.5)))
    assert total("first_response_p90")["value"] == pytest.approx(float(np.quantile(np.arange(10, 20), 0.9)))
    assert total("first_response_p90")["denominator"] == 10
    assert total("conversations_per_customer")["value"] == pytest.approx(11 / 3, abs=1e-4)
    assert total("escalation_rate")["value"] == 0.4


def test_breakdown_keeps_the_largest_groups_and_folds_the_rest(scope: Any) -> None:
    result = run(
        engine.series,
        scope,
        metric_name="escalation_rate",
        start=date(2026, 3, 16),
        end=date(2026, 3, 29),
        granularity="week",
        by="plan",
        top=1,
        today=TODAY,
    )
    groups = {g["group"]: g["total"] for g in result["groups"]}
    # Free: 5 (week 1) + 6 (week 2) = 11 AI conversations; Pro: 5 + 4 = 9.
    assert list(groups) == ["Free", "(other)"]
    assert groups["Free"]["denominator"] == 11 and groups["(other)"]["denominator"] == 9
    assert "showing the 1 largest" in result["notices"][0]


def test_a_breakdown_names_each_attribute_once_and_at_most_four(scope: Any) -> None:
    def by(attributes: str) -> Any:
        return run(
            engine.series,
            scope,
            metric_name="conversation_volume",
            start=date(2026, 3, 16),
            end=date(2026, 3, 29),
            granularity="week",
            by=attributes,
            today=TODAY,
        )

    # Repeating an attribute used to multiply the group codes until they wrapped round in int64.
    with pytest.raises(engine.MetricQueryError, match="--by names topic more than once"):
        by(",".join(["topic"] * 25))
    with pytest.raises(engine.MetricQueryError, match="--by names plan more than once"):
        by("plan, topic,plan")
    with pytest.raises(engine.MetricQueryError, match="--by combines at most 4 attributes, not 5"):
        by("plan,region,topic,channel,language")
    four = by("plan,region,topic,channel")
    totals = {g["group"]: g["total"]["denominator"] for g in four["groups"]}
    # Week 1: Free-EU cards 5, Pro-EU cards 5; week 2: Free-EU 6 (3 billing), Pro-NA 4 (2 billing);
    # and the 22nd's Pro-NA conversation without a topic.
    assert totals == {
        "Free × EU × cards × chat": 8,
        "Pro × EU × cards × chat": 5,
        "Free × EU × billing × chat": 3,
        "Pro × NA × billing × chat": 2,
        "Pro × NA × cards × chat": 2,
        "Pro × NA × (none) × chat": 1,
    }


def test_comparison_uses_a_two_proportion_z_test(scope: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "MIN_SAMPLE", 5)
    result = run(
        engine.compare,
        scope,
        metric_name="ai_resolution_rate",
        start=date(2026, 3, 23),
        end=date(2026, 3, 29),
        today=TODAY,
    )
    assert result["previous"]["from"] == "2026-03-16" and result["previous"]["value"] == 0.6
    assert result["change"] == pytest.approx(-0.4)
    # Only two AI resolutions this week: too few successes for the normal approximation.
    assert result["test"]["p_value"] is None and result["verdict"] == "not enough data"


def test_two_proportion_z_test_matches_the_chi_square_test() -> None:
    result = engine.two_proportion_z_test(120, 400, 90, 410).to_json()
    chi2, p, _, _ = stats.chi2_contingency([[120, 280], [90, 320]], correction=False)
    assert result["statistic"] ** 2 == pytest.approx(chi2, rel=1e-3)
    assert result["p_value"] == pytest.approx(p, abs=1e-6) and result["significant"]
    low, high = result["ci95_change"]
    assert low < 120 / 400 - 90 / 410 < high
    assert engine.two_proportion_z_test(3, 50, 10, 50).p_value is None  # too few successes


def test_durations_use_mann_whitney(scope: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "MIN_SAMPLE", 5)
    result = run(
        engine.compare,
        scope,
        metric_name="first_response_p50",
        start=date(2026, 3, 23),
        end=date(2026, 3, 29),
        today=TODAY,
    )
    expected = stats.mannwhitneyu(np.arange(100, 110), np.arange(10, 20), alternative="two-sided")
    assert result["test"]["name"] == "Mann-Whitney U"
    assert result["test"]["p_value"] == pytest.approx(expected.pvalue, abs=1e-6)
    assert result["verdict"] == "worse"


def test_thin_samples_are_never_tested(scope: Any) -> None:
    result = run(
        engine.compare,
        scope,
        metric_name="escalation_rate",
        start=date(2026, 3, 23),
        end=date(2026, 3, 29),
        today=TODAY,
    )
    assert result["test"]["p_value"] is None and "fewer than 30" in result["test"]["reason"]


def test_top_movers_add_up_to_the_change(scope: Any) -> None:
    result = run(
        engine.top_movers,
        scope,
        metric_name="escalation_rate",
        start=date(2026, 3, 23),
        end=date(2026, 3, 29),
        attributes=("plan", "topic"),
        today=TODAY,
    )
    assert result["change"] == pytest.approx(0.4)
    for attribute in ("plan", "topic"):
        rows = [r for r in result["movers"] if r["attribute"] == attribute]
        assert sum(r["contribution"] for r in rows) == pytest.approx(0.4, abs=1e-3)
        for r in rows:
            assert r["rate_effect"] + r["mix_effect"] == pytest.approx(r["contribution"], abs=1e-3)
    # Billing questions are new this week and 4 of 5 escalated: they explain the whole change;
    # cards went from 4/10 to 4/5 while halving its share, which nets to nothing.
    top = result["movers"][0]
    assert (top["attribute"], top["segment"], top["contribution"]) == ("topic", "billing", 0.4)
    cards = next(r for r in result["movers"] if r["segment"] == "cards")
    assert cards["contribution"] == pytest.approx(0.0, abs=1e-9)
    plans = {r["segment"]: r["contribution"] for r in result["movers"] if r["attribute"] == "plan"}
    assert plans == {"Free": pytest.approx(0.2, abs=1e-4), "Pro": pytest.approx(0.2, abs=1e-4)}


def test_bad_input_is_explained(scope: Any) -> None:
    with pytest.raises(UnknownMetric, match="unknown metric 'speed': use one of conversation_volume"):
        run(
            engine.series,
            scope,
            metric_name="speed",
            start=date(2026, 3, 1),
            end=date(2026, 3, 2),
            today=TODAY,
        )
    with pytest.raises(engine.MetricQueryError, match="unknown attribute 'colour': use one of channel"):
        run(
            engine.series,
            scope,
            metric_name="csat_average",
            start=date(2026, 3, 1),
            end=date(2026, 3, 2),
            by="colour",
            today=TODAY,
        )
    with pytest.raises(engine.MetricQueryError, match="inverted"):
        run(
            engine.series,
            scope,
            metric_name="csat_average",
            start=date(2026, 3, 5),
            end=date(2026, 3, 2),
            today=TODAY,
        )
    with pytest.raises(engine.MetricQueryError, match="in the future"):
        run(
            engine.series,
            scope,
            metric_name="csat_average",
            start=TODAY + timedelta(days=1),
            end=TODAY + timedelta(days=3),
            today=TODAY,
        )
    clipped = run(
        engine.series,
        scope,
        metric_name="conversation_volume",
        start=date(2026, 4, 29),
        end=date(2026, 5, 3),
        today=TODAY,
    )
    assert clipped["period"]["to"] == "2026-04-30" and "in the future" in clipped["notices"][0]
    with pytest.raises(engine.MetricQueryError, match="need an additive metric"):
        run(
            engine.top_movers,
            scope,
            metric_name="first_response_p90",
            start=date(2026, 3, 23),
            end=date(2026, 3, 29),
            today=TODAY,
        )
    with pytest.raises(engine.MetricQueryError, match="limit must be at least 1, not 0"):
        run(  # a slice to 0 would have shown no movers at all, and -1 all but the last
            engine.top_movers,
            scope,
            metric_name="conversation_volume",
            start=date(2026, 3, 23),
            end=date(2026, 3, 29),
            limit=0,
            today=TODAY,
        )
    with pytest.raises(InvalidInput, match="unknown granularity"):
        run(
            engine.series,
            scope,
            metric_name="csat_average",
            start=date(2026, 3, 1),
            end=date(2026, 3, 2),
            granularity="fortnight",
            today=TODAY,
        )


def test_cohorts_filter_by_attributes_and_behaviour(scope: Any) -> None:
    from deskops.analytics.cohorts import members
    from deskops.domain.models import CohortDefinition
    from deskops.store.repositories import NotFound

    scope.cohorts.save("frequent free", CohortDefinition(plan="Free", min_conversations=6, within_days=7))
    scope.cohorts.save("everyone pro", CohortDefinition(plan="Pro"))
    free_id, pro_ids = _ids(scope, "free-1"), {_ids(scope, "pro-1"), _ids(scope, "pro-2")}
    berlin = ZoneInfo("Europe/Berlin")
    # free-1 wrote 5 times in week 1 and 6 times in week 2.
    week1_end = datetime(2026, 3, 23, tzinfo=berlin)
    week2_end = datetime(2026, 3, 30, tzinfo=berlin)
    definition = scope.cohorts.get("frequent free").definition
    assert members(scope, definition, as_of=week1_end) == set()
    assert members(scope, definition, as_of=week2_end) == {free_id}
    assert members(scope, scope.cohorts.get("everyone pro").definition, as_of=week2_end) == pro_ids

    week2 = run(
        engine.series,
        scope,
        metric_name="escalation_rate",
        start=date(2026, 3, 23),
        end=date(2026, 3, 29),
        filters={"cohort": "frequent free"},
        today=TODAY,
    )
    assert week2["total"] == {"value": round(4 / 6, 4), "numerator": 4.0, "denominator": 6, "thin": True}
    week1 = run(
        engine.series,
        scope,
        metric_name="escalation_rate",
        start=date(2026, 3, 16),
        end=date(2026, 3, 22),
        filters={"cohort": "frequent free"},
        today=TODAY,
    )
    assert week1["total"]["denominator"] == 0  # free-1 was not yet a frequent contact
    with pytest.raises(NotFound, match=r"unknown cohort 'vip' \(known: everyone pro, frequent free\)"):
        run(
            engine.series,
            scope,
            metric_name="escalation_rate",
            start=date(2026, 3, 16),
            end=date(2026, 3, 22),
            filters={"cohort": "vip"},
            today=TODAY,
        )


def _ids(scope: Any, external_id: str) -> int:
    return next(iter(scope.customers.ensure([external_id]).values()))


def test_volume_comparison_is_an_exact_test_of_equal_daily_rates(
    scope: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "MIN_SAMPLE", 5)
    result = run(
        engine.compare,
        scope,
        metric_name="conversation_volume",
        start=date(2026, 3, 23),
        end=date(2026, 3, 29),
        today=TODAY,
    )
    # 10 conversations this week against 11 the week before (the 00:30 one counts for March 22).
    assert (result["current"]["value"], result["previous"]["value"]) == (10.0, 11.0)
    expected = stats.binomtest(10, 21, 0.5).pvalue
    assert result["test"]["p_value"] == pytest.approx(expected, abs=1e-6)
    assert result["verdict"] == "no significant change"
