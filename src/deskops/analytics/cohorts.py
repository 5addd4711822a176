"""Evaluating saved cohorts: who is in one, as of the end of the period being analysed."""

from __future__ import annotations

from datetime import datetime, timedelta

from deskops.domain.models import CohortDefinition
from deskops.store.repositories import WorkspaceScope


def members(scope: WorkspaceScope, definition: CohortDefinition, *, as_of: datetime) -> set[int]:
    """Customer ids in the cohort: matching attributes and, if asked, enough recent conversations."""
    customers = scope.cohorts.matching_customers(definition)
    if definition.min_conversations is not None:
        counts = scope.cohorts.conversation_counts(
            start=as_of - timedelta(days=definition.within_days), end=as_of
        )
        customers &= {c for c, n in counts.items() if n >= definition.min_conversations}
    return customers
