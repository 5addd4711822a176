"""`deskops bench frontline`: p50/p95 of one offline front-line reply on a generated help center.

The help center is each catalog topic once per variant (a plan, platform, country or
kind of business), with the simulated workspace's guidance rules, procedures and
settings, so the agent does its whole job (rules, intent matching for procedures), not
retrieval alone. Search alone is timed beside it on the same queries.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskops.domain.types import Latency

if TYPE_CHECKING:
    from deskops.search.dense import Embedder

VARIANTS = (
    "web app",
    "iOS app",
    "Android app",
    "Free plan",
    "Starter plan",
    "Growth plan",
    "Enterprise plan",
    "United States",
    "United Kingdom",
    "European Union",
    "Canada",
    "Australia",
    "Mexico",
    "Brazil",
    "Germany",
    "France",
    "Spain",
    "Portugal",
    "Ireland",
    "Netherlands",
    "Italy",
    "Sweden",
    "Poland",
    "Japan",
    "Singapore",
    "India",
    "New Zealand",
    "sole traders",
    "limited companies",
    "nonprofits",
    "marketplaces",
    "agencies",
    "retail shops",
    "restaurants",
    "freelancers",
    "accountants",
    "API users",
    "team admins",
    "new accounts",
    "migrated accounts",
    "legacy accounts",
)


def _help_center(count: int) -> list[tuple[str, str, str, str]]:
    """(external id, title, body, product area) for ``count`` articles: each catalog topic once per
    variant (a plan, platform, country or kind of business), in that order."""
    from deskops.simulate.catalog import TOPICS
    from deskops.simulate.content import article_body

    out = []
    for i in range(count):
        topic, variant = TOPICS[i % len(TOPICS)], VARIANTS[(i // len(TOPICS)) % len(VARIANTS)]
        body = f"This article is for {variant}.\n\n" + article_body(topic)
        out.append((f"kb-{i:05d}", f"{topic.title} ({variant})", body, topic.area))
    return out


def run_frontline_bench(
    *,
    articles: int = 2_000,
    queries: int = 200,
    seed: int = 0,
    log: Callable[[str], None] = lambda line: None,
    embedder: Embedder | None = None,
) -> dict[str, Any]:
    """p50/p95 of one offline reply with an ``articles``-article help center; search alone beside it."""
    from deskops.bootstrap import build
    from deskops.domain.models import Article
    from deskops.frontline.agent import Inquiry
    from deskops.simulate.catalog import TOPICS
    from deskops.simulate.content import MisdirectedRule, StaleChange, build_content

    rng = random.Random(seed)
    phrasings = [p for topic in TOPICS for p in topic.phrasings]
    asked = [rng.choice(phrasings) for _ in range(queries)]
    with tempfile.TemporaryDirectory(prefix="deskops-bench-frontline-") as tmp:
        services = build(
            database_url=f"sqlite:///{Path(tmp) / 'hc.db'}", data_dir=Path(tmp), embedder=embedder
        )
        now = datetime.now(UTC)
        with services.uow() as uow:
            scope = uow.workspace(uow.workspaces.create("bench", time_zone="UTC"))
            scope.articles.upsert_many(
                [
                    Article(
                        external_id=eid,
                        title=title,
                        body=body,
                        product_area=area,
                        created_at=now,
                        updated_at=now,
                    )
                    for eid, title, body, area in _help_center(articles)
                ]
            )
            # The simulated workspace's guidance rules, procedures and settings: the agent does its
            # whole job (rules, intent matching for procedures), not retrieval alone.
            plan = build_content(
                rng=random.Random(seed),
                start=now - timedelta(days=90),
                end=now,
                stale=StaleChange(TOPICS[0], now - timedelta(days=30)),
                misdirected=MisdirectedRule("Starter", now - timedelta(days=20), now - timedelta(days=10)),
            )
            for rule in plan.rules:
                scope.guidance.save(rule)
            for procedure in plan.procedures:
                scope.procedures.save(procedure)
            scope.agent_settings.save(plan.settings[-1][1])
            uow.commit()
        log(f"indexing {articles:,} articles ...")
        began = time.perf_counter()
        built = services.search.rebuild("bench")
        index_s = time.perf_counter() - began
        agent, search = services.frontline, services.search
        with services.uow() as uow:
            content = agent.content(uow.workspace("bench"))
        for text in asked[:5]:  # warm-up: model, index and caches loaded
            agent.decide("bench", Inquiry(message=text), content)
        log(f"timing {queries} replies ...")
        replies: list[float] = []
        searches: list[float] = []
        decisions: dict[str, int] = defaultdict(int)
        for text in asked:
            search.clear_query_cache()
            began = time.perf_counter()
            reply = agent.decide("bench", Inquiry(message=text), content)
            replies.append((time.perf_counter() - began) * 1000)
            decisions[reply.decision.value] += 1
            search.clear_query_cache()
            began = time.perf_counter()
            search.search("bench", text, k=5, filters={"kind": "article", "state": "published"})
            searches.append((time.perf_counter() - began) * 1000)
        services.close()

    reply_summary = Latency.of(replies)
    return {
        "benchmark": "frontline",
        "articles": articles,
        "passages": built.chunks,
        "queries": queries,
        "index_build_s": round(index_s, 1),
        "reply": reply_summary.to_json(),
        "search_alone": Latency.of(searches).to_json(),
        "decisions": dict(decisions),
        "target": "reply p95 <= 100 ms offline",
        "meets_target": (reply_summary.p95_ms or 0) <= 100,
        "notes": "each reply and each search encodes its query afresh (query cache cleared); the "
        "simulated guidance rules and procedures apply; no conversations, so no topic votes",
    }
