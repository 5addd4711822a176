"""Every Operator turn is traced and logged.

Traced: the turn is an ``operator turn`` span; inside it PydanticAI's instrumentation (switched
on by ``observe``) adds the ``invoke_agent``, ``chat`` and ``execute_tool`` spans of the gen_ai
semantic conventions, the runner an ``execute_tool`` span for each tool a skill calls, and
search a ``retrieval`` span. No span carries the question, the answer or any customer text
unless ``DESKOPS_TRACE_CONTENT`` asks for it (and then redacted): see ``deskops.telemetry``.

Logged: ``@recorded`` around ``Operator.ask`` stores one ``OperatorRun`` per turn (the question
redacted, the skill, each tool call with its duration and outcome, tokens and cost when a model
reports them, how it ended, the error, who asked, the session and the trace id) and appends an
``operator.run`` event to the workspace's audit chain, in one transaction. A question refused
before the turn starts (empty, too long, not text, an unknown workspace) is not a run: nothing is
written. A turn that fails after it started is stored as ``failed`` and its error raised again.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from opentelemetry import trace
from pydantic_ai.messages import ModelResponse

from deskops.changes.records import record
from deskops.domain.changes import Actor
from deskops.domain.runs import OperatorRun, RunOutcome, RunToolCall
from deskops.errors import DeskopsError
from deskops.frontline.redact import redact
from deskops.operator.blocks import Answer
from deskops.telemetry import trace_id_of

if TYPE_CHECKING:
    from pydantic_ai import Agent
    from pydantic_ai.run import AgentRunResult

    from deskops.bootstrap import Services
    from deskops.operator.router import Routed
    from deskops.operator.runner import ToolRunner

AUDIT_KIND = "operator.run"
MAX_ERROR = 500
"""Characters of an error kept in the run log."""
ESTIMATING_PROVIDERS = (None, "function", "test")
"""Models that spend no tokens (the offline planner, test models): PydanticAI only estimates theirs."""

Ask = TypeVar("Ask", bound=Callable[..., Answer])


@dataclass
class Turn:
    """What the run log needs from a turn in progress (one per ``ask``, in a context variable)."""

    services: Services
    tracer: trace.Tracer
    started_at: datetime
    began: float
    runner: ToolRunner | None = None
    """Set by the turn's ``ToolRunner``: from then on the turn is a run, and is logged however it ends."""
    routed: Routed | None = None
    result: AgentRunResult[Any] | None = None


_TURN: ContextVar[Turn | None] = ContextVar("deskops_operator_turn", default=None)


def current_turn() -> Turn | None:
    """The turn in progress in this context (None outside ``Operator.ask``)."""
    return _TURN.get()


def observe(agent: Agent[Any, Any], services: Services) -> None:
    """Trace ``agent``'s runs, model calls and tool calls (PydanticAI's gen_ai spans) to ``services``'
    tracer provider. Per agent, not ``Agent.instrument_all()``: that is process-wide, and each
    ``Services`` (each database) has its own provider and exporters."""
    agent.name = agent.name or "operator"
    agent.instrument = services.telemetry.instrumentation()


def note_turn(*, routed: Routed | None = None, result: AgentRunResult[Any] | None = None) -> None:
    """Tell the run log how the turn was routed and what the agent run spent (its usage and model)."""
    turn = _TURN.get()
    if turn is not None:
        turn.routed = routed if routed is not None else turn.routed
        turn.result = result if result is not None else turn.result


def turn_trace_id() -> str:
    """The trace id of the turn in progress (a fresh random id outside a traced turn)."""
    span = trace.get_current_span()
    return trace_id_of(span) if span.get_span_context().is_valid else uuid.uuid4().hex


def recorded(ask: Ask) -> Ask:
    """Wrap ``Operator.ask``: the turn's span, then its run stored and audited however it ends."""

    @functools.wraps(ask)
    def turn(operator: Any, *, workspace: str, question: str, actor: Actor, **more: Any) -> Answer:
        services: Services = operator.services
        tracer = services.telemetry.tracer
        attributes = {"deskops.workspace": workspace, "deskops.actor.kind": actor.kind.value,
                      "deskops.actor.role": actor.role.value}  # fmt: skip
        with tracer.start_as_current_span(
            "operator turn", attributes=attributes, record_exception=False, set_status_on_exception=False
        ) as span:
            state = Turn(services=services, tracer=tracer, started_at=datetime.now(UTC),
                         began=time.perf_counter())  # fmt: skip
            token = _TURN.set(state)
            try:
                answer = ask(operator, workspace=workspace, question=question, actor=actor, **more)
            except Exception as exc:
                # Only the kind of error on the span: its message may quote the question.
                span.set_status(trace.StatusCode.ERROR, type(exc).__name__)
                span.set_attribute("error.type", type(exc).__name__)
                if state.runner is not None:
                    run = _run(state, question=question, actor=actor, error=exc, answer=None)
                    span.set_attributes(_span_facts(_store(services, workspace, run, actor), run))
                raise
            finally:
                _TURN.reset(token)
            if state.runner is None:  # answered without the loop: nothing ran, nothing to log
                return answer
            run = _run(state, question=question, actor=actor, error=None, answer=answer)
            span.set_attributes(_span_facts(_store(services, workspace, run, actor), run))
            return answer

    return turn  # type: ignore[return-value]


def _run(
    turn: Turn, *, question: str, actor: Actor, error: BaseException | None, answer: Answer | None
) -> OperatorRun:
    runner = turn.runner
    assert runner is not None
    model, requests, input_tokens, output_tokens, cost = _spent(turn.result)
    return OperatorRun(
        started_at=turn.started_at,
        duration_ms=round((time.perf_counter() - turn.began) * 1000, 2),
        actor=actor.label,
        role=actor.role.value,
        session=runner.deps.session,
        question=redact(question.strip()).text,
        skill=answer.skill if answer else None,
        outcome=_outcome(turn) if error is None else RunOutcome.failed,
        error=_described(error) if error is not None else None,
        tools=[
            RunToolCall(tool=call.tool, ms=call.ms, ok=call.ok, error=_scrubbed(call.error))
            for call in runner.calls
        ],
        proposals=answer.proposals if answer else sorted(set(runner.proposals)),
        model=model,
        requests=requests,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_usd=cost,
        trace_id=answer.trace_id if answer else turn_trace_id(),
    )


def _outcome(turn: Turn) -> RunOutcome:
    assert turn.runner is not None
    if turn.runner.results:
        return RunOutcome.answered
    routed = turn.routed
    if routed is not None and routed.route is not None and routed.missing:
        return RunOutcome.clarified
    return RunOutcome.abstained


def _spent(
    result: AgentRunResult[Any] | None,
) -> tuple[str, int | None, int | None, int | None, float | None]:
    """(model, requests, input tokens, output tokens, cost in USD) of an agent run; unknowns are None."""
    if result is None:  # the run failed before the agent returned
        return "unknown", None, None, None, None
    responses = [m for m in result.new_messages() if isinstance(m, ModelResponse)]
    model = next((r.model_name for r in reversed(responses) if r.model_name), "unknown")
    usage = result.usage
    if all(r.provider_name in ESTIMATING_PROVIDERS for r in responses):
        return model, usage.requests, None, None, None
    return model, usage.requests, usage.input_tokens, usage.output_tokens, _cost(responses)


def _cost(responses: list[ModelResponse]) -> float | None:
    total = 0.0
    for response in responses:
        try:
            total += float(response.cost().total_price)
        except (LookupError, ValueError, AssertionError):
            return None  # a model genai-prices does not know, or a response without usage
    return round(total, 6)


def _store(services: Services, workspace: str, run: OperatorRun, actor: Actor) -> int:
    """The run and its audit event, in one transaction of their own (a failed turn's was rolled back)."""
    with services.uow() as uow:
        scope = uow.workspace(workspace)
        run_id = scope.runs.add(run)
        record(
            scope,
            AUDIT_KIND,
            actor,
            None,
            at=run.started_at,
            data={
                "run_id": run_id,
                "outcome": run.outcome.value,
                "skill": run.skill,
                "tools": [{"tool": c.tool, "ok": c.ok, "ms": c.ms} for c in run.tools],
                "proposals": run.proposals,
                "duration_ms": run.duration_ms,
                "trace_id": run.trace_id,
                # The question stays out of the chain: an audit event can never be erased.
                **({"error": run.error} if run.error else {}),
            },
        )
        uow.commit()
    return run_id


def _span_facts(run_id: int, run: OperatorRun) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "deskops.run.id": run_id,
        "deskops.run.outcome": run.outcome.value,
        "deskops.run.tools": [c.tool for c in run.tools],
        "deskops.session": run.session,
    }
    if run.skill:
        facts["deskops.run.skill"] = run.skill
    return facts


def _described(error: BaseException) -> str:
    text = str(error) if isinstance(error, DeskopsError) else f"{type(error).__name__}: {error}"
    return _scrubbed(text) or type(error).__name__


def _scrubbed(text: str | None) -> str | None:
    if not text:
        return text
    return redact(" ".join(text.split())[:MAX_ERROR]).text
