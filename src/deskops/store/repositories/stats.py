"""Headline counts for one workspace (the summary `make run` prints)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from deskops.store import tables as t
from deskops.store.repositories._base import WorkspaceRepository


class StatsRepository(WorkspaceRepository):
    def table_counts(self) -> dict[str, int]:
        return {
            name: self._count(table)
            for name, table in (
                ("conversations", t.conversations),
                ("messages", t.messages),
                ("customers", t.customers),
                ("articles", t.articles),
                ("guidance_rules", t.guidance_rules),
                ("procedures", t.procedures),
                ("events", t.events),
            )
        }

    def conversation_range(self) -> tuple[datetime | None, datetime | None]:
        c = t.conversations
        row = self._conn.execute(
            sa.select(sa.func.min(c.c.created_at), sa.func.max(c.c.created_at)).where(self._where(c))
        ).one()
        return row[0], row[1]

    def counts_by(self, column: str, *, limit: int | None = None) -> list[tuple[str | None, int]]:
        """Conversation counts per value of ``column``, largest first."""
        c = t.conversations
        count = sa.func.count().label("n")
        query = (
            sa.select(c.c[column], count).where(self._where(c)).group_by(c.c[column]).order_by(count.desc())
        )
        if limit is not None:
            query = query.limit(limit)
        return [(value, int(n)) for value, n in self._conn.execute(query)]

    def topic_counts(self, *, start: datetime, end: datetime) -> dict[str, int]:
        """Conversations per topic created in [start, end)."""
        c = t.conversations
        rows = self._conn.execute(
            sa.select(c.c.topic, sa.func.count())
            .where(self._where(c), c.c.created_at >= start, c.c.created_at < end, c.c.topic.is_not(None))
            .group_by(c.c.topic)
        )
        return {topic: int(n) for topic, n in rows}

    def plans(self) -> list[str]:
        """The plan names customers of this workspace are on."""
        cu = t.customers
        rows = self._conn.execute(
            sa.select(cu.c.plan).where(self._where(cu), cu.c.plan.is_not(None)).distinct().order_by(cu.c.plan)
        )
        return [plan for (plan,) in rows]

    def ai_resolution_by_topic(self, topics: list[str]) -> dict[str, float]:
        c = t.conversations
        rate = sa.func.avg(sa.case((c.c.outcome == "ai_resolved", 1.0), else_=0.0))
        rows = self._conn.execute(
            sa.select(c.c.topic, rate)
            .where(self._where(c), c.c.topic.in_(topics), c.c.ai_involved.is_(True))
            .group_by(c.c.topic)
        )
        return {topic: float(value) for topic, value in rows}

    def article_states(self) -> dict[str, int]:
        a = t.articles
        rows = self._conn.execute(
            sa.select(a.c.state, sa.func.count()).where(self._where(a)).group_by(a.c.state)
        )
        return {state: int(n) for state, n in rows}
