"""What the purpose-built tools share: a result that says what its numbers mean, and checked inputs.

A ``Report`` carries ``summary``: sentences a support lead reads, each built from the
result's own figures (so an answer that repeats them is grounded), and the blocks that
show it. The checks turn bad input into one clear error before any work is done: a
period the workspace has no data for, a segment value no conversation has, an unknown id.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field

from deskops.analytics import metrics as engine
from deskops.analytics import segments
from deskops.analytics.catalog import ATTRIBUTES
from deskops.domain.analytics import Breakdown, Comparison
from deskops.domain.types import Result
from deskops.errors import InvalidInput, NotFound
from deskops.operator.blocks import MAX_ROWS, Block, EvidenceBlock, Snippet, TableBlock
from deskops.operator.deps import OperatorDeps
from deskops.store.repositories import WorkspaceScope


class Report(Result):
    """Base of a tool result that says what its numbers mean."""

    summary: list[str] = Field(default_factory=list)
    """What the numbers mean, in sentences; every figure in them is one of this result's."""

    def blocks(self) -> list[Block]:
        """Tables and evidence that show the result (bounded)."""
        return []


def table(title: str, columns: list[str], rows: list[list[Any]]) -> TableBlock:
    return TableBlock(title=title, columns=columns, rows=rows[:MAX_ROWS])


def evidence(title: str, snippets: list[tuple[str, str]]) -> EvidenceBlock:
    return EvidenceBlock(title=title, snippets=[Snippet(source=s, text=t) for s, t in snippets[:MAX_ROWS]])


def pct(value: float | None, digits: int = 1) -> str:
    """A rate as a person writes it: 0.4123 -> "41.2 %"; None -> "n/a"."""
    return "n/a" if value is None else f"{value * 100:.{digits}f} %"


def minutes(seconds: float | None) -> str:
    """Seconds as minutes (or hours past two): what response and handling times are read in."""
    if seconds is None:
        return "n/a"
    if seconds >= 7200:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min"


def data_span(deps: OperatorDeps) -> tuple[date, date] | None:
    """First and last day of the workspace's conversations, in its time zone (None: no conversation)."""
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        first, last = scope.stats.conversation_range()
        zone = ZoneInfo(scope.workspace.time_zone)
    if first is None or last is None:
        return None
    return first.astimezone(zone).date(), last.astimezone(zone).date()


def checked_period(deps: OperatorDeps, start: date, end: date) -> tuple[date, date]:
    """The period, refused when it is inverted or holds none of the workspace's data."""
    if end < start:
        raise InvalidInput(f"the period is inverted: {start} is after {end}")
    span = data_span(deps)
    if span is None:
        raise InvalidInput(f"workspace {deps.workspace!r} has no conversations yet")
    first, last = span
    if end < first or start > last:
        raise InvalidInput(
            f"no conversation from {start} to {end}: this workspace's data runs from {first} to {last}"
        )
    return start, end


def checked_filters(deps: OperatorDeps, filters: dict[str, str]) -> dict[str, str]:
    """Filters whose attribute exists and whose value some conversation has (a cohort that exists)."""
    if not filters:
        return {}
    with deps.services.uow() as uow:
        scope = uow.workspace(deps.workspace)
        snapshot = deps.services.columns.snapshot(scope)
        for name, value in filters.items():
            if name == "cohort":
                scope.cohorts.get(value)
                continue
            if name not in ATTRIBUTES:
                close = difflib.get_close_matches(name, ATTRIBUTES, n=2, cutoff=0.6)
                hint = f"did you mean {', '.join(close)}?" if close else f"use {', '.join(ATTRIBUTES)}"
                raise InvalidInput(f"unknown attribute {name!r}: {hint}")
            if name == "ai_involved":
                if value.lower() not in ("true", "false", "yes", "no", "1", "0"):
                    raise InvalidInput(f"ai_involved is true or false, not {value!r}")
                continue
            dictionary = snapshot.dictionaries.get(name)
            values = sorted(str(v) for v in dictionary.values) if dictionary else []
            if value not in values:
                raise InvalidInput(segment_error(name, value, values))
    return filters


def segment_error(name: str, value: str, values: list[str]) -> str:
    """ "no conversation has plan=Startr (did you mean Starter?)" with the values that exist."""
    close = difflib.get_close_matches(value, values, n=3, cutoff=0.6)
    if close:
        return f"no conversation has {name}={value} (did you mean {', '.join(close)}?)"
    if not values:
        return f"no conversation of this workspace has a {name}"
    return f"no conversation has {name}={value} (values: {', '.join(values[:12])})"


def known_topic(deps: OperatorDeps, topic: str) -> str:
    """``topic`` if some conversation has it, else a NotFound naming the close ones."""
    with deps.services.uow() as uow:
        topics = [t for t, _ in uow.workspace(deps.workspace).stats.counts_by("topic") if t is not None]
    if topic not in topics:
        close = difflib.get_close_matches(topic, topics, n=3, cutoff=0.5)
        hint = (
            f": did you mean {', '.join(close)}?" if close else f" (topics: {', '.join(sorted(topics)[:15])})"
        )
        raise NotFound(f"no conversation of {deps.workspace} has the topic {topic!r}{hint}")
    return topic


@dataclass(frozen=True)
class Window:
    """One period of one workspace, for tools that ask the analytics engine several questions about it."""

    deps: OperatorDeps
    scope: WorkspaceScope
    start: date
    end: date

    def compare(self, metric: str, filters: dict[str, str] | None = None) -> Comparison:
        """The metric over the window against the period before it."""
        return engine.compare(
            self.scope,
            columns=self.deps.services.columns,
            metric=self.deps.services.registry.metric(metric),
            start=self.start,
            end=self.end,
            filters=filters,
            today=self.deps.today,
        )

    def breakdown(
        self, metric: str, by: str, filters: dict[str, str] | None = None, top: int = 12
    ) -> Breakdown:
        """The metric per segment of ``by``, each against the rest."""
        return segments.breakdown(
            self.scope,
            columns=self.deps.services.columns,
            metric=self.deps.services.registry.metric(metric),
            start=self.start,
            end=self.end,
            by=by,
            filters=filters,
            top=top,
            today=self.deps.today,
        )


def local_day(moment: datetime | None, zone: str) -> str | None:
    return None if moment is None else moment.astimezone(ZoneInfo(zone)).date().isoformat()


def days_since(moment: datetime, today: date) -> int:
    return (today - moment.astimezone(UTC).date()).days
