"""A one-screen summary of a workspace: size, period, outcome mix, top topics."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from deskops.domain.analytics import ConversationSpan, Share, TableCounts, TopicShare, WorkspaceSummary
from deskops.store.repositories import WorkspaceScope


def workspace_summary(scope: WorkspaceScope, *, top: int = 10) -> WorkspaceSummary:
    """Headline figures of one workspace, ready for JSON or a table."""
    stats = scope.stats
    counts = stats.table_counts()
    total = counts["conversations"]
    first, last = stats.conversation_range()
    tz = ZoneInfo(scope.workspace.time_zone)
    topics = stats.counts_by("topic", limit=top)
    ai_rates = stats.ai_resolution_by_topic([t for t, _ in topics if t is not None])
    return WorkspaceSummary(
        workspace=scope.workspace.name,
        time_zone=scope.workspace.time_zone,
        counts=TableCounts(**counts),
        articles_by_state=stats.article_states(),
        period=ConversationSpan(
            first_conversation=_local(first, tz),
            last_conversation=_local(last, tz),
        ),
        outcomes=_shares(stats.counts_by("outcome"), total, missing="open"),
        channels=_shares(stats.counts_by("channel"), total),
        top_topics=[
            TopicShare(
                topic=topic,
                conversations=n,
                share=round(n / total, 4),
                ai_resolution_rate=round(ai_rates[topic], 4) if topic in ai_rates else None,
            )
            for topic, n in topics
        ],
    )


def _local(moment: datetime | None, tz: ZoneInfo) -> str | None:
    """A moment in the workspace's time zone; in UTC if it is too close to year 1 or 9999 to convert."""
    if moment is None:
        return None
    try:
        return moment.astimezone(tz).isoformat()
    except OverflowError:
        return moment.isoformat()


def _shares(rows: list[tuple[str | None, int]], total: int, *, missing: str = "unknown") -> dict[str, Share]:
    return {
        (value if value is not None else missing): Share(count=n, share=round(n / total, 4) if total else 0.0)
        for value, n in rows
    }
