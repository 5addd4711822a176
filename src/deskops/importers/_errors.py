"""What goes wrong in an import: one error per bad record or field, all reported together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pydantic

from deskops.errors import InvalidInput

# Enough to fix a file in one pass without flooding a terminal.
SHOWN_ERRORS = 50


@dataclass(frozen=True)
class Position:
    """Where a record sits in its file: a 1-based line (JSONL, CSV) or record (JSON array)."""

    line: int | None = None
    record: int | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"line {self.line}"
        if self.record is not None:
            return f"record {self.record}"
        return "file"

    def error(self, field: str, message: str) -> RecordError:
        """An error at this position."""
        return RecordError(line=self.line, field=field, message=message, record=self.record)


FILE = Position()
"""Errors about the whole file (missing, empty, not UTF-8, wrong suffix) have no line."""


@dataclass(frozen=True)
class RecordError:
    """One problem in an import file."""

    line: int | None
    """1-based line of the record (its first line for CSV records that span lines)."""
    field: str
    """Path of the field inside the record, e.g. ``messages[2].created_at``; "" for the whole record."""
    message: str
    record: int | None = None
    """1-based index of the record in a JSON array file, where there are no useful lines."""

    @property
    def position(self) -> Position:
        return Position(line=self.line, record=self.record)

    def as_dict(self) -> dict[str, int | str | None]:
        return {"line": self.line, "record": self.record, "field": self.field, "message": self.message}

    def __str__(self) -> str:
        where = str(self.position)
        return f"{where}, {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ImportFailed(InvalidInput):
    """The file was not imported; ``errors`` lists every problem found (nothing was written)."""

    def __init__(self, errors: Sequence[RecordError]) -> None:
        if not errors:
            raise ValueError("ImportFailed needs at least one error")
        self.errors = list(errors)
        super().__init__(self._summary())

    def _summary(self) -> str:
        count = len(self.errors)
        lines = [f"import failed: {count} error{'s' if count != 1 else ''}"]
        lines += [f"  {error}" for error in self.errors[:SHOWN_ERRORS]]
        if count > SHOWN_ERRORS:
            lines.append(f"  and {count - SHOWN_ERRORS} more")
        return "\n".join(lines)


def field_path(loc: Sequence[int | str], prefix: str = "") -> str:
    """``("messages", 2, "created_at")`` -> ``messages[2].created_at`` (indexes are 0-based)."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def validation_errors(
    exc: pydantic.ValidationError, position: Position, prefix: str = ""
) -> list[RecordError]:
    """One RecordError per pydantic error, with readable messages."""
    found = []
    for detail in exc.errors(include_url=False):
        kind, message = detail["type"], detail["msg"]
        if kind == "extra_forbidden":
            message = "unknown field"
        elif kind == "missing":
            message = "required field is missing"
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        found.append(position.error(field_path(detail["loc"], prefix), message))
    return found
