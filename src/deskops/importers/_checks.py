"""Checks shared by the importers: timestamps, values the database can store, duplicates."""

from __future__ import annotations

import math
import types
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin

import pydantic
import sqlalchemy as sa

from deskops.domain.models import Article, Conversation, Customer, Message
from deskops.importers._errors import Position, RecordError, validation_errors
from deskops.store import tables

M = TypeVar("M", bound=pydantic.BaseModel)

# Column sizes live in the table definitions; the domain models do not carry them,
# and PostgreSQL (unlike SQLite) refuses longer values half-way through a write.
_TABLES: dict[type[pydantic.BaseModel], sa.Table] = {
    Customer: tables.customers,
    Conversation: tables.conversations,
    Message: tables.messages,
    Article: tables.articles,
}
_INT_RANGES = {sa.SmallInteger: 2**15 - 1, sa.BigInteger: 2**63 - 1, sa.Integer: 2**31 - 1}


def parse_timestamp(value: Any) -> datetime:
    """An ISO 8601 string with a UTC offset (or ``Z``) as an aware datetime; ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 timestamp string, found {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO 8601 timestamp: {value!r}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"timestamp {value!r} has no UTC offset: add 'Z' or one like '+02:00'")
    try:
        parsed.astimezone(UTC)  # the store keeps UTC; year 1 or 9999 with an offset cannot be
    except OverflowError:
        raise ValueError(f"timestamp {value!r} is out of range") from None
    return parsed


def parse_date(value: Any) -> date:
    """An ISO 8601 calendar date (``2024-05-31``); ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 date string, found {type(value).__name__}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO 8601 date: {value!r}") from None


@cache
def _fields_of(model: type[pydantic.BaseModel], wanted: type) -> tuple[str, ...]:
    def matches(annotation: Any) -> bool:
        if get_origin(annotation) in (Union, types.UnionType):
            return any(matches(arg) for arg in get_args(annotation))
        if annotation is wanted:
            return True
        # AwareDatetime is the domain's datetime type; it stands for `datetime` here.
        return wanted is datetime and annotation is pydantic.AwareDatetime

    return tuple(name for name, info in model.model_fields.items() if matches(info.annotation))


def build(
    model: type[M], data: dict[str, Any], position: Position, prefix: str = ""
) -> tuple[M | None, list[RecordError]]:
    """Validate ``data`` as ``model``: timestamps and dates must be ISO strings, values storable."""
    data, errors = _parse_dates(model, data, position, prefix)
    if errors:
        # Still report every other problem of the record, so one pass fixes the file.
        _, others = validate(model, data, position, prefix)
        reported = {e.field for e in errors}
        return None, errors + [e for e in others if e.field not in reported]
    return validate(model, data, position, prefix)


def validate(
    model: type[M], data: dict[str, Any], position: Position, prefix: str = ""
) -> tuple[M | None, list[RecordError]]:
    """Validate already-typed ``data`` as ``model`` and check that the database can store it."""
    try:
        record = model.model_validate(data)
    except pydantic.ValidationError as exc:
        return None, validation_errors(exc, position, prefix)
    return record, storable_errors(record, position, prefix)


def _parse_dates(
    model: type[pydantic.BaseModel], data: dict[str, Any], position: Position, prefix: str
) -> tuple[dict[str, Any], list[RecordError]]:
    # pydantic alone would also take naive timestamps and Unix seconds; the formats promise neither.
    errors: list[RecordError] = []
    data = dict(data)
    for parse, wanted in ((parse_timestamp, datetime), (parse_date, date)):
        for name in _fields_of(model, wanted):
            if data.get(name) is not None:
                try:
                    data[name] = parse(data[name])
                except ValueError as exc:
                    errors.append(position.error(_join(prefix, name), str(exc)))
    if model is Conversation and isinstance(data.get("messages"), list):
        messages: list[Any] = []
        for index, message in enumerate(data["messages"]):
            if isinstance(message, dict):
                path = f"{_join(prefix, 'messages')}[{index}]"
                message, message_errors = _parse_dates(Message, message, position, path)
                errors += message_errors
            messages.append(message)
        data["messages"] = messages
    return data, errors


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def storable_errors(record: pydantic.BaseModel, position: Position, prefix: str = "") -> list[RecordError]:
    """Values PostgreSQL or SQLite would refuse: NUL characters, lone surrogates, NaN, oversized text."""
    return [position.error(path, message) for path, message in _unstorable(record, prefix)]


def _unstorable(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, pydantic.BaseModel):
        limits = _limits(type(value))
        for name in type(value).model_fields:
            field_value = getattr(value, name)
            field = _join(path, name)
            limit = limits.get(name)
            if limit is not None and isinstance(field_value, str) and len(field_value) > limit:
                yield field, f"longer than {limit} characters ({len(field_value)})"
            elif limit is not None and isinstance(field_value, int) and abs(field_value) > limit:
                yield field, f"out of range (at most {limit})"
            else:
                yield from _unstorable(field_value, field)
    elif isinstance(value, str):
        if "\x00" in value:
            yield path, "contains a NUL character (\\x00), which PostgreSQL cannot store"
        elif not _encodable(value):
            yield path, "contains a lone surrogate (invalid Unicode)"
    elif isinstance(value, float) and not math.isfinite(value):
        yield path, "is not a finite number"
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            key_path = _join(path, str(key))
            yield from _unstorable(key, key_path)
            yield from _unstorable(item, key_path)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@cache
def _limits(model: type[pydantic.BaseModel]) -> dict[str, int]:
    table = _TABLES.get(model)
    if table is None:
        return {}
    limits: dict[str, int] = {}
    for column in table.columns:
        if isinstance(column.type, sa.String) and column.type.length:
            limits[column.name] = column.type.length
        for kind, largest in _INT_RANGES.items():
            if isinstance(column.type, kind):
                limits[column.name] = largest
                break
    return limits


def duplicate_errors(keys: Sequence[tuple[Position, str]], field: str = "external_id") -> list[RecordError]:
    """An error for every repeat of a key, naming where it was first seen."""
    first_seen: dict[str, Position] = {}
    errors = []
    for position, key in keys:
        if key in first_seen:
            errors.append(position.error(field, f"duplicate {field} {key!r} (first on {first_seen[key]})"))
        else:
            first_seen[key] = position
    return errors
