"""Import conversations, articles and customers from files into a workspace.

Every importer first parses and validates the whole file; if anything is wrong it
raises ImportFailed listing every problem and writes nothing. A valid file is
written in one transaction, in batches, through the workspace's repositories.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from deskops.domain.models import Article, Conversation, Customer
from deskops.hookspecs import hookimpl
from deskops.importers._errors import FILE, ImportFailed, RecordError
from deskops.importers._source import read_text
from deskops.importers.generic import (
    Format,
    format_for,
    parse_articles,
    parse_conversations,
    parse_customers,
)
from deskops.importers.zendesk import parse_tickets
from deskops.store.repositories import UpsertCounts, WorkspaceScope
from deskops.store.uow import UnitOfWork

__all__ = [
    "ImportFailed",
    "ImportReport",
    "ImporterSpec",
    "Kind",
    "RecordError",
    "import_file",
    "parse_file",
]

Kind = Literal["conversations", "articles", "customers"]
KINDS: tuple[Kind, ...] = ("conversations", "articles", "customers")
Record = Conversation | Article | Customer
Parser = Callable[..., Sequence[Record]]
"""``parser(text, fmt=...)``: every record of a file, validated; raises ImportFailed."""


@dataclass(frozen=True)
class ImporterSpec:
    """An import source: the kinds of record it reads and a parser for each."""

    name: str
    """What ``--source`` names, e.g. generic or zendesk."""
    parsers: dict[str, Parser]
    """Kind (conversations, articles, customers) -> parser."""
    description: str = ""

    def parser(self, kind: str) -> Parser:
        found = self.parsers.get(kind)
        if found is None:
            reads = " and ".join(self.parsers)
            raise ImportFailed([FILE.error("", f"the {self.name} source imports {reads} only, not {kind}")])
        return found


GENERIC = ImporterSpec(
    "generic",
    {"conversations": parse_conversations, "articles": parse_articles, "customers": parse_customers},
    "the documented JSONL/CSV format (docs/importing.md)",
)
ZENDESK = ImporterSpec("zendesk", {"conversations": parse_tickets}, "Zendesk ticket exports (JSON)")


@hookimpl
def register_importers(register: Callable[[ImporterSpec], None]) -> None:
    """The built-in sources register through the plugin surface like any plugin."""
    register(GENERIC)
    register(ZENDESK)


BATCH_SIZE = 1000
"""Records handed to a repository per call (and per progress report)."""


class ImportReport(BaseModel):
    """What an import wrote."""

    kind: Kind
    source: str
    path: str
    records: int
    """Records in the file (after Zendesk's duplicate tickets are collapsed)."""
    counts: dict[str, int] = Field(default_factory=dict)
    """``inserted``, ``updated`` and ``unchanged`` records."""


def parse_file(*, path: Path, kind: Kind, importer: ImporterSpec = GENERIC) -> Sequence[Record]:
    """Parse and validate a whole file without touching the database; raises ImportFailed."""
    if kind not in KINDS:
        raise ImportFailed([FILE.error("", f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")])
    parser = importer.parser(kind)
    fmt: Format = format_for(path)
    return parser(read_text(path), fmt=fmt)


def import_file(
    *,
    uow: UnitOfWork,
    workspace: str,
    path: Path,
    kind: Kind,
    importer: ImporterSpec = GENERIC,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate the whole file, then write it in one transaction and commit; raises ImportFailed."""
    with _opened(uow):
        scope = uow.workspace(workspace)  # an unknown workspace fails before the file is read
        records = parse_file(path=path, kind=kind, importer=importer)
        counts = UpsertCounts()
        try:
            # Another import into the workspace finishes first: this one then reads what it wrote.
            scope.lock_for_writes()
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
        kind=kind, source=importer.name, path=str(path), records=len(records), counts=counts.as_dict()
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
