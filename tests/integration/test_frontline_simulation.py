"""`simulate --frontline`: simulated AI outcomes come from running the front-line agent.

Editing the simulated content (an article, a guidance rule) changes the agent's answer
rate on that topic, and with it the simulated AI resolution.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from deskops.bootstrap import Services, build
from deskops.domain.models import Article, GuidanceRule
from deskops.harness.frontline_outcomes import rates
from deskops.simulate.catalog import TOPICS
from deskops.simulate.content import ContentPlan, MisdirectedRule, StaleChange, article_body, build_content
from deskops.simulate.workspace import SimulationConfig, simulate_workspace

START = datetime(2026, 8, 1, tzinfo=UTC)
END = datetime(2026, 9, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory, real_embedder: Any) -> Iterator[Services]:
    """The real model; the search service remembers every text it embeds across the module's runs."""
    folder = tmp_path_factory.mktemp("simfront")
    built = build(database_url=f"sqlite:///{folder / 's.db'}", data_dir=folder, embedder=real_embedder)
    yield built
    built.close()


def _plan() -> ContentPlan:
    return build_content(
        rng=random.Random(3),
        start=START,
        end=END,
        stale=StaleChange(TOPICS[0], START + timedelta(days=20)),
        misdirected=MisdirectedRule("Starter", START + timedelta(days=10), START + timedelta(days=15)),
    )


def test_adding_the_missing_article_makes_the_agent_answer_its_topic(
    services: Services,
) -> None:
    plan = _plan()
    key = plan.issues["missing"][0]
    topic = next(t for t in TOPICS if t.key == key)
    before = rates(plan, START, END, services=services, per_topic=6, topics={key})
    assert before.answered[key] == [0.0]
    fixed = _plan()
    fixed.articles.append(
        (
            START - timedelta(days=1),
            Article(
                external_id="kb-fix",
                title=topic.title,
                body=article_body(topic),
                product_area=topic.area,
                created_at=START - timedelta(days=1),
                updated_at=START - timedelta(days=1),
            ),
        )
    )
    fixed.coverage[key].article_id = "kb-fix"
    after = rates(fixed, START, END, services=services, per_topic=6, topics={key})
    assert after.answered[key][0] >= 0.5, after.summary["topics"][key]  # type: ignore[index]


def test_a_new_handover_rule_stops_the_agent_answering(services: Services) -> None:
    plan = _plan()
    key = "invoice_tax_rates"
    before = rates(plan, START, END, services=services, per_topic=6, topics={key})
    assert before.answered[key][0] >= 0.5
    plan.rules.append(
        GuidanceRule(
            external_id="gr-tax",
            title="Tax questions go to Finance",
            body="Hand over every question about tax.",
            kind="handover",
            condition={"keywords": ["tax", "vat", "taxes"]},
            updated_at=START - timedelta(days=1),
        )
    )
    after = rates(plan, START, END, services=services, per_topic=6, topics={key})
    assert after.answered[key][0] < before.answered[key][0] - 0.3


@pytest.fixture(scope="module")
def simulated(services: Services) -> Path:
    folder = Path(str(services.engine.url.database)).parent
    with services.uow() as uow:
        simulate_workspace(
            uow=uow,
            config=SimulationConfig(seed=4, conversations=3000, days=30, end=date(2026, 9, 1)),
            truth_path=folder / "t.json",
            frontline=lambda plan, start, end: rates(plan, start, end, services=services, per_topic=2),
        )
    return folder


def test_simulated_ai_outcomes_follow_the_agent(simulated: Path) -> None:
    truth = json.loads((simulated / "t.json").read_text())
    topics = truth["frontline"]["topics"]
    missing = set(truth["content_issues"]["missing"]) | set(truth["content_issues"]["draft_only"])
    with sqlite3.connect(simulated / "s.db") as db:
        rows = db.execute(
            "select topic, sum(outcome = 'ai_resolved'), sum(ai_involved) from conversations group by topic"
        ).fetchall()
    resolved = {topic: (hits, ai) for topic, hits, ai in rows}
    for key in missing:  # nothing to cite: the agent never resolves these
        assert resolved.get(key, (0, 0))[0] == 0, key
    answered = [k for k, v in topics.items() if v["answered_in_english"][0] >= 0.75 and k not in missing]
    hits = sum(resolved[k][0] for k in answered if k in resolved)
    assert answered and hits > 0
    never = [k for k, v in topics.items() if v["answered_in_english"][0] == 0.0]
    assert all(resolved.get(k, (0, 0))[0] == 0 for k in never)
