"""Parsing the generic import formats (no database)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deskops.domain.models import AuthorKind, ContentState, Conversation, Customer, Message, Outcome
from deskops.importers import ZENDESK, ImportFailed, ImportReport, RecordError, parse_file
from deskops.importers._source import decode
from deskops.importers.generic import (
    CUSTOMER_COLUMNS,
    Format,
    format_for,
    parse_articles,
    parse_conversations,
    parse_customers,
)
from deskops.importers.zendesk import parse_tickets

DATA = Path(__file__).resolve().parents[1] / "data" / "import"


def _conversation_line(**overrides: Any) -> str:
    record: dict[str, Any] = {
        "external_id": "c-1",
        "created_at": "2024-05-01T10:00:00Z",
        "channel": "chat",
        "messages": [
            {"author_kind": "customer", "text": "hi", "created_at": "2024-05-01T10:00:00Z"},
            {"author_kind": "ai_agent", "text": "hello", "created_at": "2024-05-01T10:00:05Z"},
        ],
    }
    record.update(overrides)
    return json.dumps(record)


def _failure(text: str, parse: Any = parse_conversations, fmt: str = "jsonl") -> list[RecordError]:
    with pytest.raises(ImportFailed) as raised:
        parse(text, fmt=fmt)
    return raised.value.errors


# --- the fixture files ------------------------------------------------------------


def test_conversations_fixture_parses_with_values() -> None:
    conversations = parse_file(path=DATA / "conversations.jsonl", kind="conversations")
    assert [c.external_id for c in conversations] == ["conv-1001", "conv-1002", "conv-1003", "conv-1004"]
    escalated = conversations[1]
    assert escalated.escalated_at == datetime(2024, 5, 2, 8, 3, tzinfo=UTC)
    assert escalated.outcome is Outcome.human_resolved
    assert [m.author_kind for m in escalated.messages] == [
        AuthorKind.customer,
        AuthorKind.ai_agent,
        AuthorKind.system,
        AuthorKind.human_agent,
    ]
    assert conversations[0].messages[1].cited_article_ids == ["kb-reset-password"]
    assert conversations[0].attributes == {"plan_at_contact": "pro"}
    assert conversations[2].customer_external_id is None
    assert conversations[3].reopen_count == 1


def test_articles_csv_fixture_keeps_multiline_bodies_and_defaults() -> None:
    articles = {a.external_id: a for a in parse_file(path=DATA / "articles.csv", kind="articles")}
    assert len(articles) == 4
    reset = articles["kb-reset-password"]
    assert reset.body.startswith("Open **Sign in**") and "\n\nThe link in the email" in reset.body
    exported = articles["kb-invoices-export"]
    assert exported.title == "Export invoices as PDF, CSV or ZIP"
    assert exported.state is ContentState.published  # empty cell -> default
    assert exported.author is None
    assert articles["kb-rueckerstattung"].state is ContentState.draft
    assert articles["kb-webhook-secrets"].updated_at == datetime(2024, 3, 6, 16, 0, tzinfo=UTC)


def test_customers_csv_fixture_puts_extra_columns_into_attributes() -> None:
    customers = {c.external_id: c for c in parse_file(path=DATA / "customers.csv", kind="customers")}
    assert customers["cus-1"].attributes == {"industry": "retail", "account_manager": "Priya"}
    assert customers["cus-1"].signup_date == date(2022, 9, 14)
    assert customers["cus-2"].attributes == {"industry": "logistics"}  # empty cell omitted
    assert customers["cus-3"].name == "Chen, Wei"
    assert customers["cus-4"].email is None
    assert customers["cus-5"] == Customer(external_id="cus-5")


def test_customers_and_articles_also_read_jsonl() -> None:
    customers = parse_customers(
        '{"external_id": "a", "plan": "pro", "signup_date": "2024-01-02", "attributes": {"seats": 12}}\n',
        fmt="jsonl",
    )
    assert customers == [
        Customer(external_id="a", plan="pro", signup_date=date(2024, 1, 2), attributes={"seats": 12})
    ]
    articles = parse_articles(
        json.dumps(
            {
                "external_id": "kb-1",
                "title": "T",
                "body": "B",
                "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-02T00:00:00+01:00",
            }
        ),
        fmt="jsonl",
    )
    assert articles[0].updated_at == datetime(2024, 1, 1, 23, 0, tzinfo=UTC)


def test_json_array_files_report_records_not_lines() -> None:
    good = json.loads(_conversation_line())
    bad = json.loads(_conversation_line(external_id="c-2", channel=None))
    errors = _failure(json.dumps([good, bad], indent=2), fmt="json")
    assert [(e.record, e.line, e.field) for e in errors] == [(2, None, "channel")]
    assert str(errors[0]).startswith("record 2, channel: ")
    assert parse_conversations(json.dumps([good]), fmt="json")[0].external_id == "c-1"


def test_json_suffix_also_reads_json_lines() -> None:
    text = _conversation_line() + "\n" + _conversation_line(external_id="c-2") + "\n"
    assert len(parse_conversations(text, fmt="json")) == 2


# --- errors: every bad record, with line and field --------------------------------


def test_every_bad_line_is_reported_with_line_and_field_path() -> None:
    messages = json.loads(_conversation_line())["messages"]
    messages[1]["created_at"] = "2024-05-01T10:00:05"  # no offset
    lines = [
        _conversation_line(),
        _conversation_line(external_id="c-2", messages=messages),
        '{"external_id": "c-3", "created_at": "2024-05-01T10:00:00Z", "channel": ',
        _conversation_line(external_id="c-4", csat=9, surprise=1),
        "[1, 2]",
        _conversation_line(external_id="c-5", created_at=1714557600),
    ]
    errors = _failure("\n".join(lines))
    found = {(e.line, e.field) for e in errors}
    assert found == {
        (2, "messages[1].created_at"),
        (3, ""),
        (4, "csat"),
        (4, "surprise"),
        (5, ""),
        (6, "created_at"),
    }
    by_place = {(e.line, e.field): e.message for e in errors}
    assert "no UTC offset" in by_place[(2, "messages[1].created_at")]
    assert by_place[(3, "")].startswith("malformed JSON")
    assert by_place[(4, "surprise")] == "unknown field"
    assert by_place[(5, "")] == "expected a JSON object, found an array"
    assert "ISO 8601 timestamp string" in by_place[(6, "created_at")]
    assert [e.line for e in errors] == sorted(e.line or 0 for e in errors)


def test_model_rules_are_reported() -> None:
    errors = _failure(_conversation_line(first_response_at="2024-05-01T09:00:00Z"))
    assert [(e.line, e.field, e.message) for e in errors] == [
        (1, "", "first_response_at is before created_at")
    ]
    errors = _failure(_conversation_line(external_id=None, channel="chat"))
    assert [(e.field, e.message) for e in errors] == [("external_id", "Input should be a valid string")]


def test_duplicate_external_id_names_both_lines() -> None:
    text = "\n".join([_conversation_line(), _conversation_line(external_id="c-2"), _conversation_line()])
    errors = _failure(text)
    assert [(e.line, e.field) for e in errors] == [(3, "external_id")]
    assert errors[0].message == "duplicate external_id 'c-1' (first on line 1)"


def test_values_the_database_cannot_store_are_refused() -> None:
    errors = _failure(
        "\n".join(
            [
                _conversation_line(channel="x" * 33),
                _conversation_line(external_id="c-2", attributes={"note": "a\x00b"}),
                _conversation_line(external_id="c-3", attributes={"score": 1.5}).replace("1.5", "1e999"),
                _conversation_line(external_id="c-4", reopen_count=2**40),
                '{"external_id": "c-5", "created_at": "2024-05-01T10:00:00Z", "channel": "c", "csat": NaN}',
            ]
        )
    )
    by_line = {e.line: (e.field, e.message) for e in errors}
    assert by_line[1] == ("channel", "longer than 32 characters (33)")
    assert by_line[2][0] == "attributes.note" and "NUL" in by_line[2][1]
    assert by_line[3] == ("attributes.score", "is not a finite number")
    assert by_line[4][0] == "reopen_count" and "out of range" in by_line[4][1]
    assert by_line[5] == ("", "malformed JSON: NaN is not valid JSON")


def test_csv_missing_required_columns_fails_on_the_header() -> None:
    errors = _failure("external_id,title,created_at\nkb-1,T,2024-01-01T00:00:00Z\n", parse_articles, "csv")
    assert [(e.line, e.message) for e in errors] == [
        (1, "missing required column(s): body, updated_at"),
    ]


def test_csv_unknown_and_duplicate_columns() -> None:
    header = "external_id,title,body,created_at,updated_at,title,colour\n"
    errors = _failure(
        header + "kb,T,B,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z,T,red\n", parse_articles, "csv"
    )
    assert {(e.field, e.message.split(" (")[0]) for e in errors} == {
        ("title", "duplicate column"),
        ("colour", "unknown column"),
    }


def test_csv_rows_report_their_first_line_even_after_multiline_cells() -> None:
    text = (
        "external_id,title,body,created_at,updated_at\n"
        'kb-1,T,"line one\nline two",2024-01-01T00:00:00Z,2024-01-01T00:00:00Z\n'
        "kb-2,T,B,yesterday,2024-01-01T00:00:00Z\n"
        "kb-3,T\n"
        "\n"
        "kb-1,T,B,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z\n"
    )
    errors = _failure(text, parse_articles, "csv")
    assert [(e.line, e.field) for e in errors] == [(4, "created_at"), (5, ""), (7, "external_id")]
    assert errors[1].message == "expected 5 cells as in the header, found 2"
    assert errors[2].message == "duplicate external_id 'kb-1' (first on line 2)"


def test_conversations_cannot_come_from_csv() -> None:
    errors = _failure("external_id\nc-1\n", parse_conversations, "csv")
    assert "use JSONL" in errors[0].message and errors[0].line is None


@pytest.mark.parametrize("text", ["", "   \n\n", decode(b"\xef\xbb\xbf\r\n")])
def test_empty_files_are_refused(text: str) -> None:
    errors = _failure(text)
    assert [(e.line, e.message) for e in errors] == [(None, "file is empty")]


def test_header_only_csv_has_no_records() -> None:
    errors = _failure("external_id,name\n", parse_customers, "csv")
    assert errors[0].message == "no records in file"


def test_not_utf8_names_the_line() -> None:
    with pytest.raises(ImportFailed) as raised:
        decode(b'{"a": 1}\n{"b": "caf\xe9"}\n')
    error = raised.value.errors[0]
    assert (error.line, error.field) == (2, "")
    assert "not UTF-8" in error.message and "0xe9" in error.message
    assert decode("\ufeffexternal_id\n".encode()) == "external_id\n"  # Excel's byte-order mark


def test_excel_style_csv_with_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes(b"\xef\xbb\xbfexternal_id,plan,seats\r\ncus-1,pro,12\r\ncus-2,,\r\n")
    assert parse_file(path=path, kind="customers") == [
        Customer(external_id="cus-1", plan="pro", attributes={"seats": "12"}),
        Customer(external_id="cus-2"),
    ]


def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="file not found"):
        parse_file(path=tmp_path / "nope.jsonl", kind="conversations")
    odd = tmp_path / "conversations.xml"
    odd.write_text("<x/>")
    with pytest.raises(ImportFailed, match=r"unsupported file type '\.xml'"):
        parse_file(path=odd, kind="conversations")
    assert format_for(Path("a.NDJSON")) == "jsonl"
    with pytest.raises(ImportFailed, match="the zendesk source imports conversations only, not articles"):
        parse_file(path=DATA / "articles.csv", kind="articles", importer=ZENDESK)


def test_import_failed_shows_the_first_fifty_errors() -> None:
    text = "\n".join("not json" for _ in range(60))
    with pytest.raises(ImportFailed) as raised:
        parse_conversations(text, fmt="jsonl")
    shown = str(raised.value)
    assert len(raised.value.errors) == 60
    assert shown.startswith("import failed: 60 errors")
    assert "line 50: malformed JSON" in shown and "line 51:" not in shown
    assert shown.endswith("and 10 more")


# --- properties -------------------------------------------------------------------

# Storable text: no NUL (PostgreSQL refuses it) and no lone surrogates (not UTF-8).
_chars = st.characters(codec="utf-8", exclude_characters="\x00")
_text = st.text(_chars, max_size=30)
_offsets = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
_times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=_offsets)
_json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text
)
_json = st.recursive(
    _json_leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def conversations(draw: st.DrawFn) -> Conversation:
    created = draw(_times)
    later = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)).map(lambda d: created + d)
    optional_later = st.none() | later
    messages = draw(
        st.lists(
            st.builds(
                Message,
                author_kind=st.sampled_from(AuthorKind),
                text=_text,
                created_at=later,
                author_name=st.none() | _text.filter(lambda s: len(s) <= 200),
                cited_article_ids=st.lists(_text, max_size=2),
            ),
            max_size=4,
        )
    )
    return Conversation(
        external_id=draw(st.text(_chars, min_size=1, max_size=40)),
        customer_external_id=draw(st.none() | _text),
        created_at=created,
        first_response_at=draw(optional_later),
        closed_at=draw(optional_later),
        escalated_at=draw(optional_later),
        channel=draw(_text.filter(lambda s: len(s) <= 32)),
        topic=draw(st.none() | _text),
        ai_involved=draw(st.booleans()),
        outcome=draw(st.none() | st.sampled_from(Outcome)),
        first_response_seconds=draw(st.none() | st.floats(0, 1e7)),
        csat=draw(st.none() | st.integers(1, 5)),
        reopen_count=draw(st.integers(0, 1000)),
        tags=draw(st.lists(_text, max_size=3)),
        attributes=draw(st.dictionaries(_text, _json, max_size=3)),
        messages=messages,
    )


@given(st.lists(conversations(), min_size=1, max_size=4, unique_by=lambda c: c.external_id))
def test_any_valid_conversation_survives_a_jsonl_round_trip(items: list[Conversation]) -> None:
    # ensure_ascii=False puts U+2028 and friends raw into lines: they must not split records.
    text = "\n".join(json.dumps(c.model_dump(mode="json"), ensure_ascii=False) for c in items)
    assert parse_conversations(text, fmt="jsonl") == items


@given(st.lists(st.text(max_size=60), max_size=6))
def test_garbage_lines_only_ever_raise_import_failed_with_positions(lines: list[str]) -> None:
    text = "\n".join(lines)
    cases: list[tuple[Callable[..., list[Any]], Format]] = [
        (parse_conversations, "jsonl"),
        (parse_conversations, "json"),
        (parse_articles, "csv"),
        (parse_customers, "csv"),
        (parse_customers, "jsonl"),
    ]
    for parse, fmt in cases:
        try:
            parse(text, fmt=fmt)
        except ImportFailed as failed:
            for error in failed.errors:
                assert isinstance(error, RecordError) and error.message
                if error.line is None and error.record is None:
                    # Only whole-file problems may lack a position.
                    assert error.message in {"file is empty", "no records in file"}


@given(st.binary(max_size=200))
def test_any_bytes_decode_or_fail_on_a_line(data: bytes) -> None:
    try:
        text = decode(data)
    except ImportFailed as failed:
        [error] = failed.errors
        assert error.line is not None and 1 <= error.line <= data.count(b"\n") + 1
    else:
        assert text.encode("utf-8") == data.removeprefix(b"\xef\xbb\xbf")


_attribute_names = st.text(_chars, min_size=1, max_size=12).filter(lambda name: name not in CUSTOMER_COLUMNS)
_cells = st.text(_chars, min_size=1, max_size=20)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(_attribute_names, min_size=1, max_size=4, unique=True),
    rows=st.lists(st.lists(st.none() | _cells, min_size=4, max_size=4), min_size=1, max_size=5),
)
def test_customer_csv_round_trips_arbitrary_attribute_strings(
    names: list[str], rows: list[list[str | None]]
) -> None:
    customers = [
        Customer(
            external_id=f"cus-{index}",
            plan="pro",
            attributes={name: value for name, value in zip(names, row, strict=False) if value is not None},
        )
        for index, row in enumerate(rows)
    ]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["external_id", "plan", *names])
    for customer in customers:
        writer.writerow(
            [customer.external_id, customer.plan, *(customer.attributes.get(n, "") for n in names)]
        )
    assert parse_customers(buffer.getvalue(), fmt="csv") == customers


# --- the docs stay honest ---------------------------------------------------------

DOCS = Path(__file__).resolve().parents[2] / "docs" / "importing.md"


def _examples(section: str) -> list[tuple[str, str]]:
    """(language, code) of the fenced examples under a "### section" heading of docs/importing.md."""
    text = DOCS.read_text(encoding="utf-8")
    body = text.split(f"### {section}", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    return re.findall(r"```(json|csv)\n(.*?)```", body, flags=re.DOTALL)


@pytest.mark.parametrize(
    ("section", "parse", "count"),
    [
        ("Conversations (JSONL)", parse_conversations, 2),
        ("Articles (JSONL or CSV)", parse_articles, 3),
        ("Customers (JSONL or CSV)", parse_customers, 3),
    ],
)
def test_every_documented_example_parses(section: str, parse: Callable[..., list[Any]], count: int) -> None:
    examples = _examples(section)
    assert {language for language, _ in examples} <= {"json", "csv"} and examples
    parsed = [
        record
        for language, code in examples
        for record in parse(code, fmt="csv" if language == "csv" else "jsonl")
    ]
    assert len(parsed) == count


def test_documented_report_matches_the_report_model() -> None:
    found = re.search(r"```json\n(\{\"kind\".*?)```", DOCS.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert found is not None
    report = json.loads(found.group(1))
    assert ImportReport.model_validate(report).counts == {"inserted": 4, "updated": 0, "unchanged": 0}
    assert set(report) == set(ImportReport.model_fields)


@pytest.mark.parametrize(
    ("text", "line"), [("Infinity", 1), ("\n\nNaN", 3), ("  -Infinity  \n", 1), ('\n{"a": NaN}', 2)]
)
def test_a_refused_json_constant_is_reported_at_its_line(text: str, line: int) -> None:
    """NaN and Infinity are not JSON: the error names the line, whichever parser meets it."""
    for parse in (parse_conversations, parse_customers, parse_tickets):
        with pytest.raises(ImportFailed) as failed:
            parse(text, fmt="json")
        (error,) = failed.value.errors
        assert error.line == line and "not valid JSON" in error.message, (parse.__name__, error)
