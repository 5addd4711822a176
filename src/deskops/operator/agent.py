"""The Operator: one PydanticAI agent over the registered tools and skills.

Offline, each turn's model is the planner (``planner.py``, a ``FunctionModel``): the router
picks a skill or a tool from the question, the agent calls it through the runner, and the
result is the reply. Tools and skills are the same Python functions a language model would
call; every call is role-checked and traced. The answer's text is checked for numbers no
tool produced (``grounding.py``): such an answer fails closed to the tools' own tables.
"""

from __future__ import annotations

import inspect
import uuid
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic_ai import Agent, RunContext, Tool
from pydantic_ai.usage import UsageLimits

from deskops.domain.changes import Actor
from deskops.errors import InvalidInput
from deskops.operator.blocks import Answer, Block, ProposalBlock, TextBlock
from deskops.operator.deps import OperatorDeps
from deskops.operator.grounding import ungrounded
from deskops.operator.planner import offline_model
from deskops.operator.present import blocks_for
from deskops.operator.registry import SkillResult, SkillSpec, ToolSpec
from deskops.operator.router import SLOTS, TOOL_ROUTES, Route, Router
from deskops.operator.runner import ToolRunner
from deskops.operator.runs import note_turn, observe, recorded, turn_trace_id
from deskops.operator.turn import Turns

if TYPE_CHECKING:
    from deskops.bootstrap import Services

MAX_QUESTION = 2000
"""Characters of a question (a longer one is refused, not cut)."""
LIMITS = UsageLimits(request_limit=8, tool_calls_limit=12)
"""Per offline turn: planner requests and tool calls (a language model's come from settings, ``turn.py``)."""


def _tool(spec: ToolSpec) -> Tool[OperatorDeps]:
    def call(ctx: RunContext[OperatorDeps], query: Any) -> Any:
        assert ctx.deps.runner is not None
        return ctx.deps.runner.call(spec.name, query)

    call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=RunContext[OperatorDeps]
            ),
            inspect.Parameter("query", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=spec.query),
        ],
        return_annotation=spec.result,
    )
    call.__annotations__ = {"ctx": RunContext[OperatorDeps], "query": spec.query, "return": spec.result}
    return Tool(call, name=spec.name, description=spec.summary, takes_ctx=True)


def _skill(spec: SkillSpec) -> Tool[OperatorDeps]:
    def run(ctx: RunContext[OperatorDeps], ask: Any) -> SkillResult:
        runner = ctx.deps.runner
        assert runner is not None
        if not ctx.deps.actor.role.allows(spec.role):
            raise InvalidInput(f"{spec.name} needs the {spec.role.value} role")
        result = spec.function(runner, ask)
        runner.skills.append((spec.name, result))
        return result

    run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=RunContext[OperatorDeps]
            ),
            inspect.Parameter("ask", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=spec.ask),
        ],
        return_annotation=SkillResult,
    )
    run.__annotations__ = {"ctx": RunContext[OperatorDeps], "ask": spec.ask, "return": SkillResult}
    return Tool(run, name=spec.name, description=spec.summary, takes_ctx=True)


class Operator:
    """The agent for the people who run support, built once per ``Services`` from its registry."""

    def __init__(self, services: Services) -> None:
        self.services = services
        registry = services.registry
        self.tools = registry.tools
        self.skills = registry.skills
        self.agent: Agent[OperatorDeps, str] = Agent(
            deps_type=OperatorDeps,
            tools=[*(_tool(s) for s in self.tools.values()), *(_skill(s) for s in self.skills.values())],
            output_type=str,
            instructions="You answer support leads from this workspace's data, only through the tools.",
        )
        observe(self.agent, services)  # runs.py: gen_ai spans to the configured exporters
        routes = [
            Route(
                name,
                "skill",
                spec.examples,
                needs=tuple(f for f in SLOTS if f in spec.ask.model_fields),
                period="start" in spec.ask.model_fields,
            )
            for name, spec in self.skills.items()
        ]
        routes += [r for r in TOOL_ROUTES if r.name in self.tools]
        self.router = Router(routes, services.search.encode_many)
        self.turns = Turns(
            self.agent,
            model=services.llm,
            settings=services.settings,
            unbounded=frozenset([*(n for n, s in self.tools.items() if s.writes), *self.skills]),
            offline_limits=LIMITS,
        )

    @recorded  # runs.py: every turn stored in the run log and the audit chain, however it ends
    def ask(self, *, workspace: str, question: str, actor: Actor, session: str | None = None) -> Answer:
        """One turn: route, call, answer; every number checked against the tools' results."""
        question = _checked(question)
        deps = OperatorDeps(
            services=self.services,
            workspace=workspace,
            actor=actor,
            today=self.today(workspace),
            session=session or uuid.uuid4().hex[:12],
        )
        runner = ToolRunner(deps, self.tools)
        routed = self.router.route(
            question, today=deps.today, known_ids=lambda kind, id_: self._exists(workspace, kind, id_)
        )
        note_turn(routed=routed)
        planner = offline_model(routed, deps.today, skills=list(self.skills), tools=list(self.tools))
        turn = self.turns.run(question, deps=deps, planner=planner)
        text = turn.output
        blocks: list[Block] = []
        skill = None
        for name, found in runner.skills:
            skill = name
            blocks += found.blocks
        for call, value in runner.results:
            if not any(call == name for name, _ in runner.skills) and skill is None:
                blocks += blocks_for(value)
        if not blocks:
            blocks = [TextBlock(text=text)]
        # Checked against the tools' results only, never the reply itself; an offline turn that called no
        # tool answered with the planner's own words (out of scope, a clarifying question): no figures.
        checked = runner.results or turn.model != "offline"
        missing = ungrounded(text, [value for _, value in runner.results]) if checked else []
        if missing:
            text = (
                "An answer mentioned figures no tool produced ("
                + ", ".join(missing[:5])
                + "), so it was withheld; "
                "here is what the tools returned."
            )
            blocks = [b for b in blocks if not isinstance(b, TextBlock)] or [TextBlock(text=text)]
        proposals = runner.proposals + [b.report.proposal.id for b in blocks if isinstance(b, ProposalBlock)]
        return Answer(
            answer=turn.worded(text),
            blocks=blocks,
            skill=skill,
            tools=runner.names,
            proposals=sorted(set(proposals)),
            trace_id=turn_trace_id(),
            session=deps.session,
            model=turn.model,
            fallback=turn.fallback,
        )

    def today(self, workspace: str) -> date:
        """The workspace's clock: the day of its newest conversation (today when it has none)."""
        with self.services.uow() as uow:
            scope = uow.workspace(workspace)
            _, last = scope.stats.conversation_range()
            zone = ZoneInfo(scope.workspace.time_zone)
        return (last or datetime.now(UTC)).astimezone(zone).date()

    def _exists(self, workspace: str, kind: str, external_id: str) -> bool:
        with self.services.uow() as uow:
            scope = uow.workspace(workspace)
            if kind == "article":
                return scope.articles.find(external_id) is not None
            try:
                scope.conversations.get(external_id)
            except LookupError:
                return False
            return True


def _checked(question: str) -> str:
    text = question.strip()
    if not text:
        raise InvalidInput("the question is empty")
    if len(text) > MAX_QUESTION:
        raise InvalidInput(f"the question is {len(text):,} characters long: ask in at most {MAX_QUESTION:,}")
    if "\x00" in text or sum(not (c.isprintable() or c.isspace()) for c in text) > len(text) // 10:
        raise InvalidInput("the question is not text")
    return text
