"""The impact reviewer on a simulated workspace: reach from the data, and a replay with and without."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from deskops.bootstrap import Services, build
from deskops.changes.changeset import parse_change_set, resolve
from deskops.changes.review.context import gather
from deskops.domain.changes import ProposalDraft, ReviewPolicy
from deskops.simulate.workspace import SimulationConfig, simulate_workspace


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory, real_embedder: Any) -> Iterator[Services]:
    """The real model: a replay's predictions mean something only with real retrieval."""
    folder = tmp_path_factory.mktemp("impact")
    built = build(
        database_url=f"sqlite:///{folder / 'i.db'}",
        data_dir=folder,
        embedder=real_embedder,
        search_conversations=150,
    )
    with built.uow() as uow:
        simulate_workspace(
            uow=uow,
            config=SimulationConfig(seed=5, conversations=1500, days=40).with_former_incidents(),
            truth_path=folder / "t.json",
        )
    built.search.rebuild("demo")
    yield built
    built.close()


def _impact(services: Services, change_set: dict, description: str) -> list:  # type: ignore[type-arg]
    with services.uow() as uow:
        scope = uow.workspace("demo")
        draft = ProposalDraft(
            title="A change", description=description, change_set=parse_change_set(change_set)
        )
        context = gather(
            scope,
            draft,
            resolve(draft.change_set, scope),
            policy=ReviewPolicy.model_validate({"impact": {"replay_limit": 50, "min_conversations": 8}}),
            encode=services.reviewing.encode,
            replay=services.reviewing.replay,
        )
    return services.reviewing.board.reviewers["impact"].check(context).items


def _busiest_article(services: Services) -> tuple[str, str]:
    """The most cited article of a topic the agent answers itself (no procedure or hand-over rule)."""
    with services.uow() as uow:
        scope = uow.workspace("demo")
        cited = scope.conversations.citation_topics()
        taken = {t for p in scope.procedures.list() for t in p.trigger_topics}
        taken |= {r.condition.topic for r in scope.guidance.list() if r.condition.topic}
    answered = {a: t for a, t in cited.items() if max(t, key=lambda k: t[k]) not in taken}
    article, topics = max(answered.items(), key=lambda pair: sum(pair[1].values()))
    return article, max(topics, key=lambda t: topics[t])


def test_archiving_the_article_a_topic_is_answered_from_blocks_on_a_predicted_regression(
    services: Services,
) -> None:
    article, topic = _busiest_article(services)
    found = _impact(services, {"archive": [{"kind": "article", "external_id": article}]},
                    f"Archive {article} because it is old.")  # fmt: skip
    reach = next(f for f in found if f.code == "impact.reach")
    assert f"cite article:{article}" in reach.message and f"about {topic}" in reach.message
    regression = [f for f in found if f.code == "impact.regression"]
    assert regression and regression[0].verdict == "block", [f.message for f in found]
    assert topic in " ".join(f.message for f in regression)


def test_a_harmless_edit_replays_without_a_regression(services: Services) -> None:
    article, _ = _busiest_article(services)
    with services.uow() as uow:
        body = uow.workspace("demo").articles.get(article).body
    tip = {"articles": [{"external_id": article, "body": body + "\nRefresh the page if needed.\n"}]}
    found = _impact(services, tip,
                    f"Adds a refresh tip to {article} because customers see stale screens.")  # fmt: skip
    assert [f.code for f in found if f.verdict != "pass"] == []
    replayed = next(f for f in found if f.code == "impact.replay")
    assert "Replayed" in replayed.message and replayed.evidence
