"""Every tool call goes through the runner: the role is checked, the call timed and recorded.

Skills call tools through it, and the PydanticAI agent's tools are thin wrappers over it,
so both modes (offline planner, a model) leave the same trace: which tool, with what
arguments (summarised), how long, and whether it failed. Inside a turn (``runs.recorded``)
the runner is the turn's: its calls go to the run log, and each call a skill makes is an
``execute_tool`` span (a call the agent makes already is one, PydanticAI's).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from opentelemetry import trace
from pydantic import BaseModel

from deskops.domain.types import Result
from deskops.errors import DeskopsError, Forbidden
from deskops.operator.deps import OperatorDeps
from deskops.operator.registry import ToolSpec
from deskops.operator.runs import current_turn

R = TypeVar("R")
MAX_ARGUMENTS = 300
"""Characters of a call's arguments kept in its trace."""


class ToolCall(Result):
    """One tool call of a turn, as traced."""

    tool: str
    arguments: str
    """The query as JSON, cut to ``MAX_ARGUMENTS`` characters."""
    ms: float
    ok: bool
    error: str | None = None


class ToolRunner:
    """Runs registered tools for one turn, in the caller's role, and keeps their trace."""

    def __init__(self, deps: OperatorDeps, tools: dict[str, ToolSpec]) -> None:
        self.deps = deps
        self.tools = tools
        self.calls: list[ToolCall] = []
        self.results: list[tuple[str, Any]] = []
        """(tool, result) of every successful call: what an answer's numbers must come from."""
        self.skills: list[tuple[str, Any]] = []
        """(skill, SkillResult) of every skill run this turn."""
        self.proposals: list[int] = []
        deps.runner = self
        turn = current_turn()
        self.tracer: trace.Tracer = turn.tracer if turn is not None else trace.NoOpTracer()
        if turn is not None and turn.runner is None:
            turn.runner = self

    def spec(self, tool: str | Callable[..., Any]) -> ToolSpec:
        name = tool if isinstance(tool, str) else tool.__name__
        found = self.tools.get(name)
        if found is None:
            raise DeskopsError(f"no tool {name!r} is registered")
        return found

    def allowed(self, spec: ToolSpec) -> bool:
        return self.deps.actor.role.allows(spec.role)

    def call(self, tool: Callable[..., R] | str, query: BaseModel, *, approved: bool = False) -> R:
        """Run a tool (refused when the caller's role is too weak, or when it decides something and the
        member has not approved this call); every call is traced."""
        spec = self.spec(tool)
        current = trace.get_current_span()
        if getattr(current, "name", None) == f"execute_tool {spec.name}":  # the agent's own call: traced
            return self._call(spec, query, approved)
        with self.tracer.start_as_current_span(
            f"execute_tool {spec.name}",
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": spec.name,
                "gen_ai.tool.type": "function",
            },
            record_exception=False,  # an error's message may quote the question: its kind only
            set_status_on_exception=False,
        ) as span:
            try:
                return self._call(spec, query, approved)
            except Exception as exc:
                span.set_status(trace.StatusCode.ERROR, type(exc).__name__)
                span.set_attribute("error.type", type(exc).__name__)
                raise

    def _call(self, spec: ToolSpec, query: BaseModel, approved: bool) -> Any:
        arguments = json.dumps(query.model_dump(mode="json"), default=str)[:MAX_ARGUMENTS]
        began = time.perf_counter()
        try:
            if not self.allowed(spec):
                raise Forbidden(
                    f"{self.deps.actor.label} is {self.deps.actor.role.value}: {spec.name} needs "
                    f"{spec.role.value}"
                )
            if spec.approval and not approved:
                raise Forbidden(f"{spec.name} runs only after the member approves the call in chat")
            result = spec.function(self.deps, query)
        except Exception as exc:  # a bug in a tool counts as its failure too (and keeps its traceback)
            error = str(exc) if isinstance(exc, DeskopsError) else f"{type(exc).__name__}: {exc}"
            self.calls.append(
                ToolCall(tool=spec.name, arguments=arguments, ms=_ms(began), ok=False, error=error)
            )
            raise
        self.calls.append(ToolCall(tool=spec.name, arguments=arguments, ms=_ms(began), ok=True))
        self.results.append((spec.name, result))
        return result

    @property
    def names(self) -> list[str]:
        return [c.tool for c in self.calls]


def _ms(began: float) -> float:
    return round((time.perf_counter() - began) * 1000, 2)
