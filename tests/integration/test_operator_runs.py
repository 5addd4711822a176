"""The Operator's observability: every turn in the run log and the audit chain, traced with the gen_ai
semantic conventions, and no question or customer text in any span unless asked for (then redacted)."""

from __future__ import annotations

import functools
import gzip
import json
import re
import threading
from collections.abc import Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from typer.testing import CliRunner

from deskops import bootstrap
from deskops.bootstrap import Services, build
from deskops.cli import _common, app
from deskops.domain.changes import Actor, ActorKind
from deskops.domain.models import AuthorKind, Conversation, Message, Role
from deskops.domain.runs import OperatorRun, RunOutcome
from deskops.domain.types import Result
from deskops.errors import InvalidInput, NotFound
from deskops.operator.blocks import Answer
from deskops.operator.registry import SkillResult, SkillSpec
from deskops.operator.runner import ToolRunner
from deskops.operator.tools.conversations import ConversationQuery
from deskops.simulate.workspace import SimulationConfig, simulate_workspace

EMAIL, CARD = "jane.doe@example.com", "4111 1111 1111 1111"
CUSTOMER_TEXT = f"Please refund me, I am {EMAIL} and my card {CARD} was charged twice by the Lumio app."
LEAD = Actor(kind=ActorKind.member, name="lead@lumio.test", role=Role.viewer)
PERSONAL = (EMAIL, "jane.doe", "4111", "lead@lumio.test", "charged twice")
"""What no span may carry: the customer's email and card, the member's email, the customer's words."""


class DiagnosticsAsk(Result):
    start: date
    end: date


def failing_lookup(runner: ToolRunner, ask: DiagnosticsAsk) -> SkillResult:
    """Diagnostics that read a conversation which is not there: its tool fails."""
    runner.call("read_conversation", ConversationQuery(external_id=EMAIL))
    raise AssertionError("read_conversation should have failed")


def crashing_check(runner: ToolRunner, ask: DiagnosticsAsk) -> SkillResult:
    """Diagnostics with a bug in them."""
    raise RuntimeError(f"crashed on card {CARD}")


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: Any
) -> Iterator[tuple[Services, InMemorySpanExporter]]:
    folder = tmp_path_factory.mktemp("runs")
    services = build(
        database_url=f"sqlite:///{folder / 'runs.db'}",
        data_dir=folder,
        embedder=real_embedder,
        search_conversations=200,
    )
    with services.uow() as uow:
        simulate_workspace(
            uow=uow,
            config=SimulationConfig(seed=11, conversations=1500, days=40),
            truth_path=folder / "t.json",
        )
        at = datetime(2026, 10, 30, 9, tzinfo=ZoneInfo("UTC"))
        message = Message(author_kind=AuthorKind.customer, created_at=at, text=CUSTOMER_TEXT)
        uow.workspace("demo").conversations.upsert_many(
            [Conversation(external_id="pii-1", created_at=at, channel="chat", messages=[message])]
        )
        uow.commit()
    services.search.sync("demo")  # tools that search refuse an unindexed workspace
    # Two diagnostics that fail, registered the way a plugin's skills are, before the Operator is built.
    services.registry.add_skill(
        SkillSpec(failing_lookup, examples=("run the conversation lookup diagnostics",), role=Role.viewer)
    )
    services.registry.add_skill(
        SkillSpec(crashing_check, examples=("run the crashing self-check diagnostics",), role=Role.viewer)
    )
    exporter = InMemorySpanExporter()  # raw: what the spans hold before any scrubbing
    services.telemetry.provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield services, exporter
    services.close()


def _ask(services: Services, question: str) -> Answer:
    return services.operator.ask(workspace="demo", question=question, actor=LEAD)


def _run(services: Services, answer: Answer) -> OperatorRun:
    with services.uow() as uow:
        (run,) = [r for r in uow.workspace("demo").runs.list(limit=1000) if r.trace_id == answer.trace_id]
    return run


def _spans(exporter: InMemorySpanExporter, trace_id: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if f"{s.context.trace_id:032x}" == trace_id]


def test_every_turn_is_logged_with_how_it_ended(world: tuple[Services, InMemorySpanExporter]) -> None:
    services, _ = world
    report = _ask(services, "how did the AI agent do last week?")
    rules = _ask(services, "list the guidance rules")
    which = _ask(services, "show me the conversation")
    weather = _ask(services, "what is the weather in Paris tomorrow?")

    run = _run(services, report)
    assert (run.outcome, run.skill) == (RunOutcome.answered, "performance_report")
    assert [c.tool for c in run.tools] == report.tools and all(c.ok and c.ms > 0 for c in run.tools)
    assert run.actor == "member:lead@lumio.test" and run.role == "viewer" and run.session == report.session
    assert run.question == "how did the AI agent do last week?" and run.error is None
    # Offline: the planner made two requests (call the skill, then reply) and spent no tokens.
    assert (run.model, run.requests, run.input_tokens, run.cost_usd) == (
        "deskops-offline-planner",
        2,
        None,
        None,
    )
    assert run.duration_ms >= sum(c.ms for c in run.tools)

    assert (_run(services, rules).outcome, _run(services, rules).tools[0].tool) == (
        "answered",
        "list_guidance",
    )
    assert (_run(services, which).outcome, _run(services, which).tools) == ("clarified", [])
    assert (_run(services, weather).outcome, _run(services, weather).tools) == ("abstained", [])


def test_the_question_is_kept_redacted_and_the_audit_chain_has_the_run_without_it(
    world: tuple[Services, InMemorySpanExporter],
) -> None:
    services, _ = world
    answer = _ask(services, f"show me conversation pii-1, it is from {EMAIL} paying with {CARD}")
    run = _run(services, answer)
    assert run.question == "show me conversation pii-1, it is from [EMAIL] paying with [CARD]"
    assert [c.tool for c in run.tools] == ["read_conversation"]
    with services.uow() as uow:
        scope = uow.workspace("demo")
        (event,) = [
            e for e in scope.audit.list(kind="operator.run", limit=None) if e.data["run_id"] == run.id
        ]
        from deskops.changes.audit import verify

        assert verify(scope).ok
    assert event.actor == "member:lead@lumio.test" and event.data["outcome"] == "answered"
    assert event.data["trace_id"] == answer.trace_id and event.data["tools"][0]["tool"] == "read_conversation"
    assert "pii-1" not in json.dumps(event.data) and "question" not in event.data


@pytest.mark.parametrize("question", ["", "   ", "x" * 5000, "\x00\x01\x02"])
def test_questions_refused_before_the_turn_are_not_runs(
    world: tuple[Services, InMemorySpanExporter], question: str
) -> None:
    services, _ = world
    with services.uow() as uow:
        before = (uow.workspace("demo").runs.count(), uow.workspace("demo").audit.count())
    with pytest.raises(InvalidInput):
        _ask(services, question)
    with pytest.raises(NotFound):
        services.operator.ask(workspace="nowhere", question="list the guidance rules", actor=LEAD)
    with services.uow() as uow:
        assert (uow.workspace("demo").runs.count(), uow.workspace("demo").audit.count()) == before


def test_a_failing_tool_makes_a_failed_run_with_its_error_redacted(
    world: tuple[Services, InMemorySpanExporter],
) -> None:
    services, exporter = world
    with services.uow() as uow:
        before = uow.workspace("demo").runs.count()
    with pytest.raises(NotFound, match=re.escape(EMAIL)):
        _ask(services, "run the conversation lookup diagnostics")
    with services.uow() as uow:
        scope = uow.workspace("demo")
        (run,) = scope.runs.list(limit=1)
        assert scope.runs.count() == before + 1
        (event,) = scope.audit.list(kind="operator.run", limit=1)
    assert run.outcome == RunOutcome.failed and run.skill is None
    assert [(c.tool, c.ok) for c in run.tools] == [("read_conversation", False)]
    assert (
        run.tools[0].error is not None and "[EMAIL]" in run.tools[0].error and EMAIL not in run.tools[0].error
    )
    assert run.error is not None and "[EMAIL]" in run.error and EMAIL not in run.error
    assert run.requests is None and run.model == "unknown"
    assert (
        event.data["run_id"] == run.id
        and event.data["outcome"] == "failed"
        and EMAIL not in event.data["error"]
    )
    (turn,) = [s for s in _spans(exporter, run.trace_id) if s.name == "operator turn"]
    assert turn.status.status_code.name == "ERROR" and turn.attributes["error.type"] == "NotFound"
    assert turn.attributes["deskops.run.outcome"] == "failed"


def test_a_skill_with_a_bug_is_a_failed_run_and_keeps_its_traceback(
    world: tuple[Services, InMemorySpanExporter],
) -> None:
    services, _ = world
    with pytest.raises(RuntimeError, match="crashed on card"):
        _ask(services, "run the crashing self-check diagnostics")
    with services.uow() as uow:
        (run,) = uow.workspace("demo").runs.list(limit=1)
    assert run.outcome == RunOutcome.failed and run.tools == []
    assert run.error == "RuntimeError: crashed on card [CARD]"


def test_spans_follow_the_gen_ai_conventions(world: tuple[Services, InMemorySpanExporter]) -> None:
    services, exporter = world
    report = _ask(services, "how did the AI agent do last week?")
    spans = _spans(exporter, report.trace_id)
    names = [s.name for s in spans]
    (turn,) = [s for s in spans if s.name == "operator turn"]
    (agent,) = [s for s in spans if s.name == "invoke_agent operator"]
    (skill,) = [s for s in spans if s.name == "execute_tool performance_report"]
    assert names.count("chat deskops-offline-planner") == 2 and turn.parent is None
    assert agent.parent is not None and agent.parent.span_id == turn.context.span_id
    assert agent.attributes["gen_ai.operation.name"] == "invoke_agent"
    chat = next(s for s in spans if s.name.startswith("chat "))
    assert chat.attributes["gen_ai.operation.name"] == "chat"
    assert chat.attributes["gen_ai.request.model"] == "deskops-offline-planner"
    assert skill.attributes["gen_ai.tool.name"] == "performance_report"
    # The tools the skill called are spans of their own, inside the skill's.
    inner = [s for s in spans if s.name == "execute_tool compare_periods"]
    assert len(inner) == report.tools.count("compare_periods") > 0
    assert all(s.parent is not None and s.parent.span_id == skill.context.span_id for s in inner)
    assert all(s.attributes["gen_ai.operation.name"] == "execute_tool" for s in inner)
    run = _run(services, report)
    assert (
        turn.attributes["deskops.run.id"] == run.id and turn.attributes["deskops.run.outcome"] == "answered"
    )
    assert turn.attributes["deskops.run.skill"] == "performance_report"

    # A tool the agent calls itself is one span (PydanticAI's), not two; search adds a retrieval span.
    found = _ask(services, "find articles about refunds")
    spans = _spans(exporter, found.trace_id)
    assert [s.name for s in spans].count("execute_tool search_help_center") == 1
    (retrieval,) = [s for s in spans if s.name == "retrieval"]
    assert retrieval.attributes["gen_ai.operation.name"] == "retrieval"
    assert retrieval.attributes["gen_ai.request.top_k"] == 5
    documents = json.loads(str(retrieval.attributes["gen_ai.retrieval.documents"]))
    assert documents and all(d["id"].startswith("article:") for d in documents)


def _strings(span: ReadableSpan) -> list[str]:
    values: list[Any] = [span.name, *(span.attributes or {}).values(), span.status.description or ""]
    for event in span.events:
        values += [event.name, *(event.attributes or {}).values()]
    return [json.dumps(v) if not isinstance(v, str) else v for v in values]


def test_no_span_carries_the_question_or_customer_text(world: tuple[Services, InMemorySpanExporter]) -> None:
    services, exporter = world
    read = _ask(services, f"show me conversation pii-1 — I am {EMAIL}, card {CARD}")
    assert read.tools == ["read_conversation"] and "Please refund me, I am [EMAIL]" in read.model_dump_json()
    search = _ask(services, f"find articles about refunds for {EMAIL}")
    assert search.tools == ["search_help_center"]
    spans = exporter.get_finished_spans()
    assert len(_spans(exporter, read.trace_id)) >= 5 and len(_spans(exporter, search.trace_id)) >= 5
    for span in spans:  # every span of every turn of this module, raw
        for value in _strings(span):
            for personal in (*PERSONAL, "show me conversation", "find articles about", "Please refund"):
                assert personal not in value, (span.name, value[:200])


def test_content_asked_for_is_exported_redacted(
    world: tuple[Services, InMemorySpanExporter], tmp_path: Path, real_embedder: Any
) -> None:
    services, _ = world
    with_content = build(
        database_url=services.settings.database_url,
        data_dir=services.settings.data_dir,
        embedder=real_embedder,
        search_conversations=200,
        trace_content=True,
    )
    exporter = InMemorySpanExporter()
    with_content.telemetry.export_to(exporter)
    try:
        answer = with_content.operator.ask(
            workspace="demo", question=f"show me conversation pii-1 for {EMAIL}", actor=LEAD
        )
    finally:
        with_content.close()
    strings = [v for s in exporter.get_finished_spans() for v in _strings(s)]
    assert answer.tools == ["read_conversation"]
    # The content is there (the question and the tool's result, which quotes the customer)...
    assert any("show me conversation pii-1 for [EMAIL]" in v for v in strings)
    assert any("Please refund me, I am [EMAIL]" in v for v in strings)
    # ...and redacted.
    assert not any(EMAIL in v or "4111" in v for v in strings)


class _Collector(BaseHTTPRequestHandler):
    """An OpenTelemetry collector's OTLP/HTTP endpoint: protobuf ExportTraceServiceRequest on /v1/traces."""

    received: list[tuple[str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    received: list[tuple[str, bytes]] = []
    handler = type("Collector", (_Collector,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("configured_by", ["setting", "OTEL_EXPORTER_OTLP_ENDPOINT"])
def test_traces_reach_an_otlp_collector(
    world: tuple[Services, InMemorySpanExporter],
    collector: tuple[str, list[tuple[str, bytes]]],
    real_embedder: Any,
    monkeypatch: pytest.MonkeyPatch,
    configured_by: str,
) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    services, _ = world
    url, received = collector
    if configured_by != "setting":
        monkeypatch.setenv(configured_by, url)
    exporting = build(
        database_url=services.settings.database_url,
        data_dir=services.settings.data_dir,
        embedder=real_embedder,
        otlp_endpoint=url if configured_by == "setting" else None,
    )
    try:
        answer = exporting.operator.ask(
            workspace="demo", question=f"list the guidance rules, {EMAIL}", actor=LEAD
        )
    finally:
        exporting.close()  # sends what the batch processor still holds
    assert received and {path for path, _ in received} == {"/v1/traces"}
    spans = []
    for _, body in received:
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}["service.name"]
            assert service == "deskops"
            spans += [span for scope in resource.scope_spans for span in scope.spans]
    ours = [s for s in spans if s.trace_id.hex() == answer.trace_id]
    assert {"operator turn", "invoke_agent operator", "execute_tool list_guidance"} <= {s.name for s in ours}
    assert EMAIL.encode() not in b"".join(body for _, body in received)


def test_bad_otlp_endpoints_are_refused_in_one_line(tmp_path: Path) -> None:
    from deskops.errors import Unavailable

    services = build(database_url=f"sqlite:///{tmp_path / 'x.db'}", otlp_endpoint="collector:4318")
    with pytest.raises(Unavailable, match="must be an http:// or https:// URL"):
        _ = services.telemetry
    services.close()


def test_runs_from_the_command_line(world: tuple[Services, InMemorySpanExporter]) -> None:
    services, _ = world
    db = services.settings.database_url
    run = CliRunner()
    with pytest.raises(NotFound):  # at least one failed tool call among the runs
        _ask(services, "run the conversation lookup diagnostics")

    def deskops(*args: str, expect: int = 0) -> Any:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(
                _common, "build", functools.partial(bootstrap.build, data_dir=services.settings.data_dir)
            )
            result = run.invoke(app, [*args, "--db", db], env={"COLUMNS": "200"})
        assert result.exit_code == expect, (result.stdout, result.stderr)
        return json.loads(result.stdout) if "--json" in args else result.stdout

    with services.uow() as uow:
        runs = uow.workspace("demo").runs.list(limit=1000)
    listed = deskops("runs", "list", "--limit", "3", "--json")
    assert [r["id"] for r in listed["runs"]] == [r.id for r in runs[:3]]
    shown = deskops("runs", "show", str(runs[-1].id), "--json")
    assert shown == runs[-1].model_dump(mode="json")
    stats = deskops("runs", "stats", "--json")
    outcomes = [r.outcome.value for r in runs]
    assert stats["runs"] == len(runs) and stats["outcomes"]["failed"] == outcomes.count("failed")
    assert stats["success_rate"] == round(outcomes.count("answered") / len(runs), 4)
    assert stats["abstention_rate"] == round(outcomes.count("abstained") / len(runs), 4)
    lookups = [c for r in runs for c in r.tools if c.tool == "read_conversation"]
    (figures,) = [t for t in stats["tools"] if t["tool"] == "read_conversation"]
    assert (figures["calls"], figures["failures"]) == (len(lookups), sum(not c.ok for c in lookups))
    assert figures["failure_rate"] == round(figures["failures"] / figures["calls"], 4) > 0
    later = deskops("runs", "stats", "--since", "2099-01-01", "--json")
    assert later["runs"] == 0 and later["success_rate"] is None and later["latency_ms"]["p50"] is None
    assert "Operator runs in demo" in deskops("runs", "stats")
    assert f"run {runs[0].id}" in deskops("runs", "show", str(runs[0].id))
    # Errors: one line, and {"error": ...} with --json.
    assert deskops("runs", "show", "9999", "--json", expect=1) == {
        "error": "no Operator run 9999 in this workspace"
    }
    assert (
        "--limit must be between 1 and 1,000"
        in deskops("runs", "list", "--limit", "0", "--json", expect=1)["error"]
    )
    assert "--since must be a date" in deskops("runs", "stats", "--since", "May", "--json", expect=1)["error"]
    assert "nowhere" in deskops("runs", "list", "--workspace", "nowhere", "--json", expect=1)["error"]


def _stored_run(
    started: datetime, ms: float, outcome: str, tools: list[tuple[str, float, bool]]
) -> OperatorRun:
    from deskops.domain.runs import RunToolCall

    return OperatorRun(
        started_at=started,
        duration_ms=ms,
        actor="member:lead@lumio.test",
        role="viewer",
        session="s1",
        question="how did we do?",
        skill="performance_report" if outcome == "answered" else None,
        outcome=RunOutcome(outcome),
        error="NotFound: gone" if outcome == "failed" else None,
        tools=[RunToolCall(tool=t, ms=m, ok=ok, error=None if ok else "gone") for t, m, ok in tools],
        proposals=[3] if outcome == "answered" else [],
        model="gpt-test",
        requests=2,
        input_tokens=100,
        output_tokens=20,
        cost_usd=0.0015 if outcome == "answered" else None,
        trace_id="ab" * 16,
    )


def test_the_run_log_on_sqlite_and_postgresql(services: Services) -> None:
    import numpy as np

    t0 = datetime(2026, 10, 1, 12, tzinfo=ZoneInfo("UTC"))
    plan = [
        (0, 120.0, "answered", [("compare_periods", 10.0, True), ("top_movers", 30.0, True)]),
        (1, 80.0, "clarified", []),
        (2, 1500.0, "failed", [("read_conversation", 5.0, False)]),
        (3, 300.0, "answered", [("compare_periods", 20.0, True), ("read_conversation", 7.0, True)]),
        (4, 60.0, "abstained", []),
    ]
    with services.uow() as uow:
        uow.workspaces.create("ops")
        runs = uow.workspace("ops").runs
        ids = [runs.add(_stored_run(t0.replace(day=1 + day), ms, o, tools)) for day, ms, o, tools in plan]
        uow.commit()
    assert ids == [1, 2, 3, 4, 5]
    with services.uow() as uow:
        runs = uow.workspace("ops").runs
        assert [r.id for r in runs.list()] == [5, 4, 3, 2, 1] and [r.id for r in runs.list(limit=2)] == [5, 4]
        assert [r.id for r in runs.list(since=t0.replace(day=4))] == [5, 4]
        third = runs.get(3)
        assert third == _stored_run(t0.replace(day=3), 1500.0, "failed", plan[2][3]).model_copy(
            update={"id": 3}
        )
        assert runs.get(1).proposals == [3] and [c.tool for c in runs.get(4).tools] == [
            "compare_periods",
            "read_conversation",
        ]
        with pytest.raises(NotFound, match="no Operator run 6"):
            runs.get(6)
        stats = runs.stats()
        later = runs.stats(since=t0.replace(day=3))
    latencies = [ms for _, ms, _, _ in plan]
    assert stats.runs == 5 and stats.workspace == "ops"
    assert (stats.latency_ms.p50, stats.latency_ms.p95) == tuple(
        round(float(v), 2) for v in np.percentile(latencies, [50, 95])
    )
    assert stats.outcomes == {"answered": 2, "clarified": 1, "abstained": 1, "failed": 1}
    assert (stats.success_rate, stats.clarification_rate, stats.abstention_rate, stats.failure_rate) == (
        0.4, 0.2, 0.2, 0.2,
    )  # fmt: skip
    assert stats.skills == {"performance_report": 2}
    by_tool = {t.tool: t for t in stats.tools}
    assert [t.tool for t in stats.tools] == ["compare_periods", "read_conversation", "top_movers"]
    assert (by_tool["read_conversation"].calls, by_tool["read_conversation"].failures) == (2, 1)
    assert by_tool["read_conversation"].failure_rate == 0.5 and by_tool["compare_periods"].ms.p50 == 15.0
    assert (stats.input_tokens, stats.output_tokens, stats.cost_usd, stats.runs_with_cost) == (
        500,
        100,
        0.003,
        2,
    )
    assert later.runs == 3 and later.outcomes["failed"] == 1 and later.outcomes["clarified"] == 0
    assert {t.tool: t.calls for t in later.tools} == {"read_conversation": 2, "compare_periods": 1}
