"""Saved cohorts: defining one against the workspace's data, and who is in it as of a moment."""

from __future__ import annotations

import difflib
from datetime import datetime, timedelta

from deskops.analytics.columns import ColumnStore
from deskops.domain.models import Cohort, CohortDefinition
from deskops.errors import Conflict, InvalidInput
from deskops.store.repositories import WorkspaceScope

BUILT_IN = ("plan", "region", "company_size")


def define(
    scope: WorkspaceScope,
    columns: ColumnStore,
    *,
    name: str,
    filters: dict[str, str],
    min_conversations: int | None = None,
    within_days: int = 30,
    replace: bool = False,
) -> tuple[Cohort, list[str]]:
    """Save a cohort from ``KEY=VALUE`` filters; returns it and notices about values no customer has.

    Keys are the built-in customer attributes or custom ones the workspace's customers
    have (a typo is refused with the close names); an existing cohort is only changed
    with ``replace``.
    """
    snapshot = columns.snapshot(scope)
    custom = sorted(n.split(".", 1)[1] for n in snapshot.custom_attributes if n.startswith("customer."))
    notices = []
    for key, value in filters.items():
        if key not in BUILT_IN and key not in custom:
            close = difflib.get_close_matches(key, [*BUILT_IN, *custom], n=3, cutoff=0.6)
            hint = f"did you mean {', '.join(close)}?" if close else f"use {', '.join([*BUILT_IN, *custom])}"
            raise InvalidInput(f"no customer attribute {key!r}: {hint}")
        dictionary = snapshot.dictionaries.get(key if key in BUILT_IN else f"customer.{key}")
        values = [str(v) for v in dictionary.values] if dictionary else []
        if value not in values:
            close = difflib.get_close_matches(value, values, n=3, cutoff=0.6)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            notices.append(f"no customer has {key}={value}{hint}")
    if scope.cohorts.find(name) is not None and not replace:
        raise Conflict(f"cohort {name!r} exists: pass --replace to change its definition")
    built_in = {k: filters[k] for k in BUILT_IN if k in filters}
    custom_values = {k: v for k, v in filters.items() if k not in BUILT_IN}
    try:
        definition = CohortDefinition(
            **built_in, attributes=custom_values, min_conversations=min_conversations, within_days=within_days
        )
    except ValueError as exc:
        raise InvalidInput(f"invalid cohort: {_problem(exc)}") from None
    return scope.cohorts.save(name, definition), notices


def _problem(exc: ValueError) -> str:
    from pydantic import ValidationError

    from deskops.errors import first_problem

    return first_problem(exc) if isinstance(exc, ValidationError) else str(exc)


def members(scope: WorkspaceScope, definition: CohortDefinition, *, as_of: datetime) -> set[int]:
    """Customer ids in the cohort: matching attributes and, if asked, enough recent conversations."""
    customers = scope.cohorts.matching_customers(definition)
    if definition.min_conversations is not None:
        counts = scope.cohorts.conversation_counts(
            start=as_of - timedelta(days=definition.within_days), end=as_of
        )
        customers &= {c for c, n in counts.items() if n >= definition.min_conversations}
    return customers
