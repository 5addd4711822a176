"""What a model turn needs no server for: naming failures, the guard's tool timeouts, the turn's limits."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from pydantic_ai import Agent
from pydantic_ai.exceptions import (
    IncompleteToolCall,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelHTTPError,
    ModelRateLimitError,
    ModelRequestTimeout,
    ModelServerError,
    ModelTimeoutError,
    ModelUnavailableError,
    UnexpectedModelBehavior,
    UsageLimitExceeded,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.usage import UsageLimits

from deskops.errors import Forbidden
from deskops.llm.models import FAILURES, CircuitOpen, LanguageModel, ModelFailure, failure_of
from deskops.operator.guard import TurnGuard
from deskops.operator.turn import Turn, Turns
from deskops.settings import Settings

T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    loop = asyncio.new_event_loop()  # its own loop: the thread's current one is left as it was
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ModelRateLimitError("m", "slow down"), "rate_limited"),
        (ModelHTTPError(429, "m"), "rate_limited"),  # a bare status, without the provider's category
        (ModelHTTPError(418, "m"), "rejected"),
        (ModelHTTPError(502, "m"), "server_error"),
        (ModelServerError("m", "boom"), "server_error"),
        (ModelUnavailableError("m", "busy"), "server_error"),
        (ModelTimeoutError("m", "read timed out"), "timeout"),
        (ModelRequestTimeout("m", 20.0), "timeout"),
        (ModelConnectionError("m", "refused"), "connection"),
        (ModelAuthenticationError("m", "bad key"), "rejected"),
        (CircuitOpen("m", "paused"), "circuit_open"),
        (IncompleteToolCall("cut mid-call"), "truncated"),
        (UsageLimitExceeded("over"), "usage_limit"),
        (UnexpectedModelBehavior("Tool 'x' exceeded max retries count of 2"), "malformed"),
        (ModelAPIError("m", "Failed to decode response as JSON"), "malformed"),
        (ModelFailure("truncated", "cut"), "truncated"),
    ],
)
def test_each_model_failure_is_named(error: BaseException, kind: str) -> None:
    failure = failure_of(error)
    assert failure is not None and failure.kind == kind and failure.reason == FAILURES[kind]
    assert failure.status == 503  # one of the project's errors, should it ever reach a user


@pytest.mark.parametrize("error", [ValueError("a bug"), Forbidden("not yours"), KeyError("x")])
def test_anything_else_is_not_the_models_failure(error: Exception) -> None:
    assert failure_of(error) is None


def test_the_guard_times_out_reading_tools_only() -> None:
    guard = TurnGuard(tool_timeout_s=7.0, unbounded=frozenset({"propose_change", "performance_report"}))
    defs = [
        ToolDefinition(name="list_guidance"),
        ToolDefinition(name="propose_change"),
        ToolDefinition(name="performance_report"),
        ToolDefinition(name="own_limit", timeout=1.5),
    ]
    prepared = _run(guard.prepare_tools(None, defs))  # type: ignore[arg-type]
    assert [(d.name, d.timeout) for d in prepared] == [
        ("list_guidance", 7.0),
        ("propose_change", None),
        ("performance_report", None),
        ("own_limit", 1.5),
    ]


def test_a_fallback_is_said_first() -> None:
    answered = Turn(output="Ten rules.", model="openai:gpt-4o-mini")
    assert answered.fallback is None and answered.worded("Ten rules.") == "Ten rules."
    fell_back = Turn(output="x", model="offline", failed="openai:gpt-4o-mini", reason=FAILURES["timeout"])
    assert fell_back.fallback == "openai:gpt-4o-mini: timed out"
    assert fell_back.worded("Ten rules.") == (
        "The language model (openai:gpt-4o-mini) could not answer: timed out. "
        "The offline planner answered instead.\n\nTen rules."
    )


def _turns(priced: bool, **settings: Any) -> Turns:
    def never(messages: Any, info: AgentInfo) -> Any:
        raise AssertionError("not called")

    model = LanguageModel(model=FunctionModel(never), name="test:model", priced=priced)
    return Turns(
        Agent(),  # type: ignore[arg-type]
        model=model,
        settings=Settings(**settings),
        unbounded=frozenset(),
        offline_limits=UsageLimits(),
    )


def test_a_turns_budget_comes_from_settings_and_caps_cost_only_where_prices_are_known() -> None:
    turns = _turns(True, llm_max_requests=5, llm_max_tool_calls=9, llm_max_tokens=20_000)
    assert turns.model is not None
    limits = turns.limits(turns.model)
    assert (limits.request_limit, limits.tool_calls_limit, limits.total_tokens_limit) == (5, 9, 20_000)
    assert limits.cost_limit == Decimal("0.25")
    unpriced = _turns(False)
    assert (
        unpriced.model is not None and unpriced.limits(unpriced.model).cost_limit is None
    )  # unknown prices: nothing to count, no cap
