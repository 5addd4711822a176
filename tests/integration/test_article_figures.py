"""Per-article figures with exact values."""

from __future__ import annotations

from datetime import UTC, date, datetime

from deskops.analytics.articles import article_figures
from deskops.bootstrap import Services
from deskops.domain.models import Article, AuthorKind, Conversation, Message, Outcome

T = datetime(2026, 6, 10, 12, tzinfo=UTC)


def test_times_cited_and_resolution_when_cited(services: Services) -> None:
    with services.uow() as uow:
        scope = uow.workspace(uow.workspaces.create("acme"))
        for external_id in ("kb-1", "kb-2", "kb-3"):
            scope.articles.save(
                Article(
                    external_id=external_id,
                    title=f"Article {external_id}",
                    body="b",
                    created_at=T,
                    updated_at=T,
                )
            )

        def conversation(n: int, outcome: Outcome, *cited: list[str]) -> Conversation:
            return Conversation(
                external_id=f"c-{n}",
                created_at=T,
                channel="chat",
                ai_involved=True,
                outcome=outcome,
                messages=[
                    Message(author_kind=AuthorKind.customer, text="?", created_at=T),
                    *[
                        Message(
                            author_kind=AuthorKind.ai_agent, text="see", created_at=T, cited_article_ids=ids
                        )
                        for ids in cited
                    ],
                ],
            )

        scope.conversations.upsert_many(
            [
                conversation(1, Outcome.ai_resolved, ["kb-1"]),
                conversation(2, Outcome.human_resolved, ["kb-1"], ["kb-1", "kb-2"]),  # kb-1 counted once
                conversation(3, Outcome.ai_resolved, ["kb-2", "kb-gone"]),
                conversation(4, Outcome.abandoned),
            ]
        )
        uow.commit()
        report = article_figures(
            scope, start=date(2026, 6, 1), end=date(2026, 6, 30), today=date(2026, 7, 1)
        ).to_json()

    rows = {r["article"]: r for r in report["articles"]}
    assert report["conversations_with_citations"] == 3
    assert (rows["kb-1"]["times_cited"], rows["kb-1"]["resolution_rate_when_cited"]) == (2, 0.5)
    assert (rows["kb-2"]["times_cited"], rows["kb-2"]["resolution_rate_when_cited"]) == (2, 0.5)
    assert (rows["kb-3"]["times_cited"], rows["kb-3"]["resolution_rate_when_cited"]) == (0, None)
    assert rows["kb-gone"]["state"] == "unknown" and rows["kb-gone"]["times_cited"] == 1
    assert report["articles"][-1]["article"] == "kb-3"  # never cited: listed last, not dropped
