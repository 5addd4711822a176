"""Spans leave deskops scrubbed: every string an exporter receives went through the redaction."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from deskops.errors import Unavailable
from deskops.frontline.redact import redact
from deskops.telemetry import Telemetry, trace_id_of


def _telemetry() -> Telemetry:
    return Telemetry(scrub=lambda text: redact(text).text)


def test_every_string_an_exporter_receives_is_scrubbed() -> None:
    telemetry = _telemetry()
    exporter = InMemorySpanExporter()
    telemetry.export_to(exporter)
    with telemetry.tracer.start_as_current_span(
        "lookup",
        attributes={
            "query": "refund for jane@example.com",
            "cards": ["4111 1111 1111 1111", "no card here"],
            "k": 5,
            "confidence": 0.25,
            "abstain": False,
        },
    ) as span:
        span.add_event("note", {"said": "my PIN is 4821"})
        span.set_status(trace.StatusCode.ERROR, "failed for jane@example.com")
    telemetry.close()
    (sent,) = exporter.get_finished_spans()
    assert sent.attributes is not None
    assert sent.attributes["query"] == "refund for [EMAIL]"
    assert list(sent.attributes["cards"]) == ["[CARD]", "no card here"]  # type: ignore[arg-type]
    numbers = (sent.attributes["k"], sent.attributes["confidence"], sent.attributes["abstain"])
    assert numbers == (5, 0.25, False)
    assert sent.events[0].attributes == {"said": "my PIN is [PIN]"}
    assert sent.status.description == "failed for [EMAIL]"
    assert trace_id_of(span) == f"{sent.context.trace_id:032x}" and len(trace_id_of(span)) == 32


def test_spans_without_an_exporter_are_dropped_but_have_trace_ids() -> None:
    telemetry = _telemetry()
    with telemetry.tracer.start_as_current_span("turn") as span:
        assert span.get_span_context().is_valid
    telemetry.close()


def test_content_stays_out_of_pydantic_ai_spans_unless_asked_for() -> None:
    assert _telemetry().instrumentation().include_content is False
    asked = Telemetry(scrub=str, include_content=True).instrumentation()
    assert asked.include_content is True and asked.include_binary_content is False


@pytest.mark.parametrize("endpoint", ["collector:4318", "grpc://127.0.0.1:4317", "127.0.0.1:4318"])
def test_an_otlp_endpoint_that_is_not_an_http_url_is_refused(endpoint: str) -> None:
    with pytest.raises(Unavailable, match="must be an http:// or https:// URL"):
        Telemetry(scrub=str, otlp_endpoint=endpoint)


def test_the_standard_otel_variable_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url")
    with pytest.raises(Unavailable, match="not a url"):
        _telemetry()
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT")
    _telemetry().close()
