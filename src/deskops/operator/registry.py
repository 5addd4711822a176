"""Tools and skills, as plugins register them (``hookspecs.register_tools`` / ``register_skills``).

A tool is a typed function ``tool(deps, query) -> result``: its query and result are
pydantic models, so the model-facing JSON schema comes from them, and its docstring is
what a model reads. A skill is a typed multi-step job ``skill(runner, ask) -> SkillResult``
that calls tools through the runner (traced, permission-checked) and says what it
tested. The built-ins register exactly as a third-party plugin would.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from deskops.domain.models import Role
from deskops.domain.types import Result
from deskops.operator.blocks import Block, Hypothesis


@dataclass(frozen=True)
class ToolSpec:
    """A registered tool: the function, the weakest role that may call it, and whether it writes."""

    function: Callable[..., Any]
    role: Role = Role.viewer
    writes: bool = False
    """True for tools that propose changes (they go through the action layer, never write directly)."""
    approval: bool = False
    """True for tools that decide (accept, reject): in chat the agent stops and asks the member to approve the
    call (PydanticAI's deferred tools); the runner refuses to run them without that approval."""
    name: str = ""
    summary: str = ""
    query: type[BaseModel] = field(init=False)
    result: type[Any] = field(init=False)

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(self.function)
        parameters = list(inspect.signature(self.function).parameters)
        if len(parameters) != 2 or "return" not in hints:
            raise TypeError(f"a tool takes (deps, query) and declares its result: {self.function.__name__}")
        object.__setattr__(self, "query", hints[parameters[1]])
        object.__setattr__(self, "result", hints["return"])
        object.__setattr__(self, "name", self.name or self.function.__name__)
        doc = inspect.getdoc(self.function) or ""
        object.__setattr__(self, "summary", self.summary or doc.split("\n")[0])
        if not self.summary:
            raise TypeError(f"tool {self.name} needs a docstring: it is what a model reads")


class SkillResult(Result):
    """What a skill found: the reply, its blocks, the hypotheses it tested, the proposals it made."""

    answer: str
    blocks: list[Block]
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    proposals: list[int] = Field(default_factory=list)
    no_change: bool = False
    """True when the skill found nothing significant (it never invents a cause)."""


@dataclass(frozen=True)
class SkillSpec:
    """A registered skill: the job, the questions it answers (for the router), the role it needs."""

    function: Callable[..., SkillResult]
    examples: tuple[str, ...]
    """Example questions: the offline router finds a question's nearest ones."""
    role: Role = Role.viewer
    name: str = ""
    summary: str = ""
    ask: type[BaseModel] = field(init=False)

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(self.function)
        parameters = list(inspect.signature(self.function).parameters)
        object.__setattr__(self, "ask", hints[parameters[1]])
        object.__setattr__(self, "name", self.name or self.function.__name__)
        doc = inspect.getdoc(self.function) or ""
        object.__setattr__(self, "summary", self.summary or doc.split("\n")[0])
        if not self.examples:
            raise TypeError(f"skill {self.name} needs example questions for the router")
