"""The generic, documented formats: conversations as JSONL, articles and customers as JSONL or CSV.

See docs/importing.md for the fields and an example of each file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

from deskops.domain.models import Article, Conversation, Customer
from deskops.importers._checks import build, duplicate_errors
from deskops.importers._errors import FILE, ImportFailed, Position, RecordError
from deskops.importers._source import RawRecords, csv_rows, json_lines, json_values, no_records

Format = Literal["jsonl", "json", "csv"]
M = TypeVar("M", Conversation, Article, Customer)

_SUFFIXES: dict[str, Format] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv"}

ARTICLE_COLUMNS = (
    "external_id",
    "title",
    "body",
    "product_area",
    "locale",
    "state",
    "author",
    "created_at",
    "updated_at",
)
ARTICLE_REQUIRED = ("external_id", "title", "body", "created_at", "updated_at")
CUSTOMER_COLUMNS = ("external_id", "name", "email", "plan", "region", "company_size", "signup_date")
"""Any other CSV column becomes a custom attribute (a string)."""


def format_for(path: Path) -> Format:
    """The file format its suffix names; ImportFailed for suffixes no importer reads."""
    found = _SUFFIXES.get(path.suffix.lower())
    if found is None:
        known = ", ".join(_SUFFIXES)
        raise ImportFailed(
            [FILE.error("", f"unsupported file type {path.suffix or '(none)'!r}: use {known}")]
        )
    return found


def parse_conversations(text: str, *, fmt: Format) -> list[Conversation]:
    """Conversations with their messages, one JSON object per line."""
    if fmt == "csv":
        raise ImportFailed([FILE.error("", "conversations have nested messages: use JSONL, not CSV")])
    return _parse(text, Conversation, _json_records(text, fmt))


def parse_articles(text: str, *, fmt: Format) -> list[Article]:
    """Help-center articles from JSONL or CSV."""
    if fmt == "csv":
        raw = _csv_records(text, required=ARTICLE_REQUIRED, allowed=ARTICLE_COLUMNS)
    else:
        raw = _json_records(text, fmt)
    return _parse(text, Article, raw)


def parse_customers(text: str, *, fmt: Format) -> list[Customer]:
    """Customers from JSONL or CSV; extra CSV columns become string attributes."""
    if fmt != "csv":
        return _parse(text, Customer, _json_records(text, fmt))
    records, errors = _csv_records(text, required=("external_id",), allowed=None)
    return _parse(text, Customer, ([(p, _customer_row(row)) for p, row in records], errors))


def _customer_row(row: dict[str, str]) -> dict[str, Any]:
    fields: dict[str, Any] = {k: v for k, v in row.items() if k in CUSTOMER_COLUMNS}
    attributes = {k: v for k, v in row.items() if k not in CUSTOMER_COLUMNS}
    if attributes:
        fields["attributes"] = attributes
    return fields


def _json_records(text: str, fmt: Format) -> tuple[RawRecords, list[RecordError]]:
    if not text.strip():
        raise no_records(text)
    return json_values(text) if fmt == "json" else json_lines(text)


def _csv_records(
    text: str, *, required: tuple[str, ...], allowed: tuple[str, ...] | None
) -> tuple[RawRecords, list[RecordError]]:
    if not text.strip():
        raise no_records(text)
    return csv_rows(text, required=required, allowed=allowed)


def _parse(text: str, model: type[M], raw: tuple[RawRecords, list[RecordError]]) -> list[M]:
    records, errors = raw
    parsed: list[tuple[Position, M]] = []
    for position, data in records:
        if not isinstance(data, dict):
            errors.append(position.error("", "expected a JSON object"))
            continue
        record, record_errors = build(model, data, position)
        errors += record_errors
        if record is not None:
            parsed.append((position, record))
    errors += duplicate_errors([(position, record.external_id) for position, record in parsed])
    if errors:
        raise ImportFailed(sorted(errors, key=_order))
    if not parsed:
        raise no_records(text)
    return [record for _, record in parsed]


def _order(error: RecordError) -> tuple[int, int]:
    return (error.line or 0, error.record or 0)
