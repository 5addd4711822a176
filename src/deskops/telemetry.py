"""OpenTelemetry for deskops: one tracer provider per ``Services``, spans scrubbed before they leave.

The Operator's runs, model calls and tool calls are traced by PydanticAI's own instrumentation
(the ``gen_ai.*`` semantic conventions), retrieval and the tools a skill calls by deskops; all
of them go to this provider. Without an exporter the spans are made and dropped (a run's trace
id is still its id in the local run log). With ``DESKOPS_OTLP_ENDPOINT`` (or the standard
``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) they are sent over
OTLP/HTTP. Prompts, completions, tool arguments and results are left out unless
``DESKOPS_TRACE_CONTENT`` is set, and every string an exporter receives passes through
``scrub`` first (the front-line redaction: emails, card numbers, secrets...), content or not.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import Status
from opentelemetry.util.types import Attributes, AttributeValue

from deskops.errors import Unavailable

if TYPE_CHECKING:
    from pydantic_ai.models.instrumented import InstrumentationSettings

SCOPE = "deskops"
OTLP_TIMEOUT_S = 5.0
"""How long one export to a collector may take (a CLI command waits for it when it ends)."""
OTLP_ENVIRONMENT = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
Scrub = Callable[[str], str]


class Telemetry:
    """The tracer provider of one ``Services``, its exporters, and the settings PydanticAI traces with."""

    def __init__(
        self,
        *,
        scrub: Scrub,
        include_content: bool = False,
        otlp_endpoint: str | None = None,
        version: str = "",
    ) -> None:
        self.scrub = scrub
        self.include_content = include_content
        self.provider = TracerProvider(resource=Resource.create({"service.name": "deskops"}))
        self.tracer = self.provider.get_tracer(SCOPE, version)
        endpoint = otlp_endpoint or next((os.environ[v] for v in OTLP_ENVIRONMENT if os.environ.get(v)), None)
        if endpoint:
            self.export_to(_otlp(endpoint, explicit=otlp_endpoint is not None), batch=True)

    def export_to(self, exporter: SpanExporter, *, batch: bool = False) -> None:
        """Send every span ended from now on to ``exporter``, scrubbed (in batches from a background thread
        when ``batch``, else as each span ends)."""
        scrubbed = ScrubbingExporter(exporter, self.scrub)
        self.provider.add_span_processor(
            BatchSpanProcessor(scrubbed) if batch else SimpleSpanProcessor(scrubbed)
        )

    def instrumentation(self) -> InstrumentationSettings:
        """How PydanticAI traces an agent on this provider: content only when asked for, no binary data,
        no copy of every tool's schema on each model call (``gen_ai.tool.definitions`` names them)."""
        from pydantic_ai.models.instrumented import InstrumentationSettings

        return InstrumentationSettings(
            tracer_provider=self.provider,
            include_content=self.include_content,
            include_binary_content=False,
            include_model_request_parameters=False,
        )

    def close(self) -> None:
        """Send what is still buffered and stop the exporters."""
        self.provider.shutdown()


def trace_id_of(span: trace.Span) -> str:
    """A span's trace id as 32 hex digits (what ``deskops ask`` prints and the run log keeps)."""
    return trace.format_trace_id(span.get_span_context().trace_id)


def _otlp(endpoint: str, *, explicit: bool) -> SpanExporter:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        raise Unavailable(
            "OTLP export needs the otel extra: pip install 'deskops[otel]' (or unset the OTLP endpoint)"
        ) from None
    if not endpoint.startswith(("http://", "https://")):
        raise Unavailable(f"the OTLP endpoint must be an http:// or https:// URL, not {endpoint!r}")
    if explicit:  # a base URL, as OTEL_EXPORTER_OTLP_ENDPOINT is: the traces path is added
        return OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces", timeout=OTLP_TIMEOUT_S)
    return OTLPSpanExporter(timeout=OTLP_TIMEOUT_S)  # reads the OTEL_* variables itself


class ScrubbingExporter(SpanExporter):
    """Hands ``exporter`` copies of the spans with every string attribute, event attribute and status
    description scrubbed, so no exporter ever receives a customer's email or card number."""

    def __init__(self, exporter: SpanExporter, scrub: Scrub) -> None:
        self.exporter = exporter
        self.scrub = scrub

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.exporter.export([self._scrubbed(span) for span in spans])

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.exporter.force_flush(timeout_millis)

    def _scrubbed(self, span: ReadableSpan) -> ReadableSpan:
        description = span.status.description
        return ReadableSpan(
            name=span.name,
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes=self._attributes(span.attributes),
            events=[
                Event(event.name, self._attributes(event.attributes), event.timestamp)
                for event in span.events
            ],
            links=span.links,
            kind=span.kind,
            status=Status(span.status.status_code, self.scrub(description) if description else None),
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )

    def _attributes(self, attributes: Attributes) -> dict[str, AttributeValue]:
        return {key: self._value(value) for key, value in (attributes or {}).items()}

    def _value(self, value: AttributeValue) -> AttributeValue:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, Sequence) and value and isinstance(value[0], str):
            return [self.scrub(str(item)) for item in value]
        return value
