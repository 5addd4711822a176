"""Import conversations, articles and customers from files into a workspace.

Every importer first parses and validates the whole file; if anything is wrong it
raises ImportFailed listing every problem and writes nothing. A valid file is
written in one transaction, in batches, through the workspace's repositories.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from deskops.importers._errors import FILE, ImportFailed, RecordError
from deskops.importers._source import read_text
from deskops.importers.generic import format_for, parse_articles, parse_conversations, parse_customers
from deskops.importers.zendesk import parse_tickets
from deskops.store.repositories import UpsertCounts, WorkspaceScope
from deskops.store.uow import UnitOfWork

__all__ = ["ImportFailed", "ImportReport", "Kind", "RecordError", "Source", "import_file", "parse_file"]

Kind = Literal["conversations", "articles", "customers"]
Source = Literal["generic", "zendesk"]
KINDS: tuple[Kind, ...] = ("conversations", "articles", "customers")
SOURCES: tuple[Source, ...] = ("generic", "zendesk")

BATCH_SIZE = 1000
"""Records handed to a repository per call (and per progress report)."""


class ImportReport(BaseModel):
    """What an import wrote."""

    kind: Kind
    source: Source
    path: str
    records: int
    """Records in the file (after Zendesk's duplicate tickets are collapsed)."""
    counts: dict[str, int] = Field(default_factory=dict)
    """``inserted``, ``updated`` and ``unchanged`` records."""


def parse_file(*, path: Path, kind: Kind, source: Source = "generic") -> list[Any]:
    """Parse and validate a whole file without touching the database; raises ImportFailed."""
    if kind not in KINDS:
        raise ImportFailed([FILE.error("", f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")])
    if source not in SOURCES:
        raise ImportFailed([FILE.error("", f"unknown source {source!r}: use one of {', '.join(SOURCES)}")])
    if source == "zendesk" and kind != "conversations":
        message = f"the zendesk source imports conversations (tickets) only, not {kind}"
        raise ImportFailed([FILE.error("", message)])
    fmt = format_for(path)
    text = read_text(path)
    if source == "zendesk":
        return parse_tickets(text, fmt=fmt)
    return _GENERIC_PARSERS[kind](text, fmt=fmt)


_GENERIC_PARSERS: dict[str, Callable[..., list[Any]]] = {
    "conversations": parse_conversations,
    "articles": parse_articles,
    "customers": parse_customers,
}


def import_file(
    *,
    uow: UnitOfWork,
    workspace: str,
    path: Path,
    kind: Kind,
    source: Source = "generic",
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate the whole file, then write it in one transaction and commit; raises ImportFailed."""
    with _opened(uow):
        scope = uow.workspace(workspace)  # an unknown workspace fails before the file is read
        records = parse_file(path=path, kind=kind, source=source)
        counts = UpsertCounts()
        try:
            for start in range(0, len(records), BATCH_SIZE):
                batch = records[start : start + BATCH_SIZE]
                counts += _upsert(scope, kind, batch)
                if progress is not None:
                    progress(start + len(batch))
            uow.commit()
        except BaseException:
            uow.rollback()  # a half-written file must not reach a later commit
            raise
    return ImportReport(
        kind=kind, source=source, path=str(path), records=len(records), counts=counts.as_dict()
    )


def _upsert(scope: WorkspaceScope, kind: Kind, batch: Sequence[Any]) -> UpsertCounts:
    if kind == "conversations":
        return scope.conversations.upsert_many(batch)
    if kind == "articles":
        return scope.articles.upsert_many(batch)
    return scope.customers.upsert_many(batch)


@contextmanager
def _opened(uow: UnitOfWork) -> Iterator[None]:
    """Use the caller's open unit of work, or open one for the length of the import."""
    if uow.is_open:
        yield
    else:
        with uow:
            yield
