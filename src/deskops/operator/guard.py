"""What keeps a language model in line during an Operator turn: a PydanticAI capability.

- **Loop guard**: the same tool with the same arguments twice in one turn is refused, and
  the model is told so (a failed tool result, ``ToolFailed``): the first result is already
  in its context. Refusals do not use up retries; the turn's request limit bounds them.
- **Per-tool timeouts**: a reading tool that runs longer than the limit is abandoned and the
  model is asked to do without it. Tools that propose changes, and skills (which may
  propose), are never cut off: a proposal is written whole or not at all.
- **Truncated output**: an answer cut off at the token limit is sent back to the model to
  redo, within the turn's retries.
- **The tools' own errors** (a bad id, a role too weak) go back to the model as a failed
  tool result, so it can correct the call or explain.

Whatever it refused is kept in ``problems``, so that when the turn gives up on the model
the answer can say why.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.exceptions import ModelRetry, ToolFailed, ToolRetryError
from pydantic_ai.messages import ModelResponse, ToolCallPart
from pydantic_ai.models import ModelRequestContext
from pydantic_ai.tools import RunContext, ToolDefinition
from pydantic_core import to_jsonable_python

from deskops.errors import DeskopsError
from deskops.operator.deps import OperatorDeps

TRUNCATED = (
    "Your answer was cut off at the token limit. Answer again, shorter: the key figures and what they "
    "mean, in a few sentences."
)


@dataclass
class TurnGuard(AbstractCapability[OperatorDeps]):
    """One turn's guard (make a new one per turn: it remembers the turn's calls)."""

    tool_timeout_s: float = 30.0
    unbounded: frozenset[str] = frozenset()
    """Tools never cut off by the timeout: those that propose changes, and the skills."""
    seen: set[tuple[str, str]] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    """What was refused, in order: ``repeated_call``, ``tool_timeout``, ``truncated``."""

    async def prepare_tools(
        self, ctx: RunContext[OperatorDeps], tool_defs: list[ToolDefinition]
    ) -> list[ToolDefinition]:
        return [
            d
            if d.name in self.unbounded or d.timeout is not None
            else replace(d, timeout=self.tool_timeout_s)
            for d in tool_defs
        ]

    async def before_tool_execute(
        self,
        ctx: RunContext[OperatorDeps],
        *,
        call: ToolCallPart,
        tool_def: ToolDefinition,
        args: dict[str, Any],
    ) -> dict[str, Any]:
        key = (call.tool_name, json.dumps(to_jsonable_python(args), sort_keys=True, default=str))
        if key in self.seen:
            self.problems.append("repeated_call")
            raise ToolFailed(
                f"Refused: {call.tool_name} was already called with these arguments in this turn, and its "
                "result is above. Use it, call something else, or answer."
            )
        self.seen.add(key)
        return args

    async def wrap_tool_execute(
        self,
        ctx: RunContext[OperatorDeps],
        *,
        call: ToolCallPart,
        tool_def: ToolDefinition,
        args: dict[str, Any],
        handler: Any,
    ) -> Any:
        began = time.monotonic()
        try:
            return await handler(args)
        except ToolRetryError:
            if tool_def.timeout is not None and time.monotonic() - began >= tool_def.timeout:
                self.problems.append("tool_timeout")
            raise

    async def on_tool_execute_error(
        self,
        ctx: RunContext[OperatorDeps],
        *,
        call: ToolCallPart,
        tool_def: ToolDefinition,
        args: dict[str, Any],
        error: Exception,
    ) -> Any:
        if isinstance(error, DeskopsError):
            raise ToolFailed(f"{call.tool_name} failed: {error}") from None
        raise error

    async def after_model_request(
        self,
        ctx: RunContext[OperatorDeps],
        *,
        request_context: ModelRequestContext,
        response: ModelResponse,
    ) -> ModelResponse:
        if response.finish_reason == "length":
            self.problems.append("truncated")
            raise ModelRetry(TRUNCATED)
        return response
