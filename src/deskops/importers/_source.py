"""Reading import files: bytes to text, text to raw records with their positions."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from deskops.importers._errors import FILE, ImportFailed, Position, RecordError

RawRecords = list[tuple[Position, Any]]

# Article bodies can be far longer than csv's default 128 KiB per field.
_CSV_FIELD_LIMIT = 64 * 1024 * 1024


def read_text(path: Path) -> str:
    """The file's text; ImportFailed when it is missing, unreadable or not UTF-8."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportFailed([FILE.error("", f"file not found: {path}")]) from None
    except IsADirectoryError:
        raise ImportFailed([FILE.error("", f"{path} is a directory, not a file")]) from None
    except OSError as exc:
        raise ImportFailed([FILE.error("", f"cannot read {path}: {exc.strerror}")]) from None
    return decode(data)


def decode(data: bytes) -> str:
    """UTF-8 (a leading byte-order mark is allowed); ImportFailed naming the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        message = f"not UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded (save the file as UTF-8)"
        raise ImportFailed([Position(line=line).error("", message)]) from None


def no_records(text: str) -> ImportFailed:
    """The error for a file that holds nothing to import."""
    return ImportFailed([FILE.error("", "file is empty" if not text.strip() else "no records in file")])


class _NotJSON(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotJSON(f"{name} is not valid JSON")


def loads(text: str) -> Any:
    """``json.loads`` that refuses NaN and Infinity, which JSON (and PostgreSQL's jsonb) do not allow."""
    return json.loads(text, parse_constant=_reject_constant)


def _json_error(exc: ValueError | RecursionError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"malformed JSON: {exc.msg} (column {exc.colno})"
    if isinstance(exc, RecursionError):
        return "malformed JSON: nested too deeply"
    return f"malformed JSON: {exc}"


def json_lines(text: str) -> tuple[RawRecords, list[RecordError]]:
    """One JSON object per line (JSONL / NDJSON); blank lines are skipped."""
    records: RawRecords = []
    errors: list[RecordError] = []
    # Split on "\n" only: str.splitlines() also splits on U+2028 and friends,
    # which JSON allows unescaped inside strings.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        position = Position(line=number)
        try:
            value = loads(line)
        except (ValueError, RecursionError) as exc:
            errors.append(position.error("", _json_error(exc)))
            continue
        if not isinstance(value, dict):
            errors.append(position.error("", f"expected a JSON object, found {_json_type(value)}"))
            continue
        records.append((position, value))
    return records, errors


def json_values(text: str) -> tuple[RawRecords, list[RecordError]]:
    """A JSON array of records ("record N"), a single JSON document, or one JSON value per line."""
    try:
        document = loads(text)
    except (ValueError, RecursionError) as exc:
        first_error = exc
    else:
        if isinstance(document, list):
            return [(Position(record=index), value) for index, value in enumerate(document, start=1)], []
        first_line = next(n for n, line in enumerate(text.split("\n"), start=1) if line.strip())
        return [(Position(line=first_line), document)], []
    numbered = [(n, line) for n, line in enumerate(text.split("\n"), start=1) if line.strip()]
    first_line, first = numbered[0] if numbered else (1, "")
    try:
        loads(first)
    except (ValueError, RecursionError):
        # Not JSON lines either: report the document's own error where it is (a syntax error
        # knows its line; a refused value such as NaN is placed at the document's first line).
        line = first_error.lineno if isinstance(first_error, json.JSONDecodeError) else first_line
        return [], [Position(line=line).error("", _json_error(first_error))]
    return json_lines(text)


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def csv_rows(
    text: str, *, required: Sequence[str], allowed: Collection[str] | None = None
) -> tuple[RawRecords, list[RecordError]]:
    """Rows as ``{column: cell}`` without empty cells; the header is the first line.

    Raises ImportFailed when the header itself is unusable (missing or duplicate
    columns, or columns outside ``allowed``).
    """
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    reader = csv.reader(io.StringIO(text, newline=""))
    header_position = Position(line=1)
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise ImportFailed([header_position.error("", f"malformed CSV header: {exc}")]) from None
    _check_header(header, header_position, required, allowed)
    records: RawRecords = []
    errors: list[RecordError] = []
    previous_end = reader.line_num
    while True:
        position = Position(line=previous_end + 1)
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(position.error("", f"malformed CSV: {exc}"))
            break
        previous_end = reader.line_num
        if not any(row):
            continue
        if len(row) != len(header):
            errors.append(
                position.error("", f"expected {len(header)} cells as in the header, found {len(row)}")
            )
            continue
        records.append((position, {column: cell for column, cell in zip(header, row, strict=True) if cell}))
    return records, errors


def _check_header(
    header: list[str], position: Position, required: Sequence[str], allowed: Collection[str] | None
) -> None:
    errors: list[RecordError] = []
    seen: set[str] = set()
    for index, column in enumerate(header, start=1):
        if not column:
            errors.append(position.error("", f"column {index} of the header has no name"))
        elif column in seen:
            errors.append(position.error(column, "duplicate column"))
        elif allowed is not None and column not in allowed:
            errors.append(position.error(column, f"unknown column (expected some of: {', '.join(allowed)})"))
        seen.add(column)
    missing = [column for column in required if column not in seen]
    if missing:
        errors.append(position.error("", f"missing required column(s): {', '.join(missing)}"))
    if errors:
        raise ImportFailed(errors)
