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
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic_ai import Agent, DeferredToolRequests, DeferredToolResults, RunContext, Tool, ToolDenied
from pydantic_ai.messages import ModelMessage
from pydantic_ai.models import Model
from pydantic_ai.usage import UsageLimits

from deskops.domain.changes import Actor
from deskops.errors import Forbidden, InvalidInput, NotFound
from deskops.llm.models import LanguageModel
from deskops.operator.blocks import Answer, ApprovalBlock, Block, ProposalBlock, TextBlock
from deskops.operator.deps import OperatorDeps
from deskops.operator.grounding import ungrounded
from deskops.operator.periods import find_period
from deskops.operator.planner import offline_model
from deskops.operator.present import blocks_for
from deskops.operator.registry import SkillResult, SkillSpec, ToolSpec
from deskops.operator.router import SLOTS, TOOL_ROUTES, Route, Routed, Router
from deskops.operator.runner import ToolRunner
from deskops.operator.runs import note_turn, observe, recorded, turn_trace_id
from deskops.operator.turn import Turn, Turns

if TYPE_CHECKING:
    from deskops.bootstrap import Services

MAX_PENDING = 256
"""Sessions whose approval requests are kept in memory (the oldest is forgotten first)."""
MAX_QUESTION = 2000
"""Characters of a question (a longer one is refused, not cut)."""
LIMITS = UsageLimits(request_limit=8, tool_calls_limit=12)
"""Per offline turn: planner requests and tool calls (a language model's come from settings, ``turn.py``)."""


def _tool(spec: ToolSpec) -> Tool[OperatorDeps]:
    def call(ctx: RunContext[OperatorDeps], query: Any) -> Any:
        assert ctx.deps.runner is not None
        # A deciding tool reaches here only once the member approved this very call (requires_approval).
        return ctx.deps.runner.call(spec.name, query, approved=ctx.tool_call_approved)

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
    return Tool(
        call, name=spec.name, description=spec.summary, takes_ctx=True, requires_approval=spec.approval
    )


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
        self.agent: Agent[OperatorDeps, str | DeferredToolRequests] = Agent(
            deps_type=OperatorDeps,
            tools=[*(_tool(s) for s in self.tools.values()), *(_skill(s) for s in self.skills.values())],
            output_type=[str, DeferredToolRequests],
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

        self._pending: dict[str, _Pending] = {}
        """Per session: a turn stopped on calls that wait for the member's approval."""

    @recorded  # runs.py: every turn stored in the run log and the audit chain, however it ends
    def ask(
        self,
        *,
        workspace: str,
        question: str,
        actor: Actor,
        session: str | None = None,
        model: Model | None = None,
    ) -> Answer:
        """One turn: route, call, answer; every number checked against the tools' results.

        ``model`` runs the turn instead of the configured one (same tools, limits, checks and fallback).
        """
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
        chosen = LanguageModel.of(model) if model is not None else None
        return self._answer(self.turns.run(question, deps=deps, planner=planner, model=chosen), runner)

    def decide(
        self, *, workspace: str, session: str, actor: Actor, approve: bool, reason: str | None = None
    ) -> Answer:
        """Approve or deny the calls a turn of ``session`` stopped on; approved ones run now, as ``actor``.

        Only the member who asked may decide, in the same workspace; a denial is recorded in the
        conversation as the member's answer and nothing runs.
        """
        pending = self._pending.get(session)
        if pending is None or pending.workspace != workspace:
            raise NotFound(f"session {session!r} has nothing waiting for approval")
        if pending.member != actor.name:
            raise Forbidden(f"only {pending.member} can approve what they asked for in session {session!r}")
        del self._pending[session]
        deps = OperatorDeps(
            services=self.services,
            workspace=workspace,
            actor=actor,
            today=self.today(workspace),
            session=session,
        )
        runner = ToolRunner(deps, self.tools)
        denial = f"{actor.label} denied this" + (f": {reason}" if reason else "") + "; nothing was changed."
        results = DeferredToolResults(
            approvals={
                c.tool_call_id: (True if approve else ToolDenied(denial)) for c in pending.requests.approvals
            }
        )
        model = offline_model(
            Routed(None, 0.0, find_period("", deps.today)),
            deps.today,
            skills=list(self.skills),
            tools=list(self.tools),
        )
        result = self.agent.run_sync(
            message_history=pending.messages,
            deferred_tool_results=results,
            deps=deps,
            model=model,
            usage_limits=LIMITS,
        )
        note_turn(result=result)
        return self._answer(Turn(result.output, "offline", messages=result.all_messages()), runner)

    def _answer(self, turn: Turn, runner: ToolRunner) -> Answer:
        deps = runner.deps
        if isinstance(turn.output, DeferredToolRequests):
            return self._ask_approval(turn.output, turn.messages, runner)
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

    def _ask_approval(
        self, requests: DeferredToolRequests, messages: list[ModelMessage], runner: ToolRunner
    ) -> Answer:
        """The turn stops: each deciding call is shown to the member, and runs only if they approve it."""
        deps = runner.deps
        if len(self._pending) >= MAX_PENDING:
            self._pending.pop(next(iter(self._pending)))
        self._pending[deps.session] = _Pending(
            messages=messages, requests=requests, workspace=deps.workspace, member=deps.actor.name
        )
        blocks: list[Block] = []
        for call in requests.approvals:
            arguments = call.args_as_dict()
            blocks.append(
                ApprovalBlock(
                    call_id=call.tool_call_id,
                    tool=call.tool_name,
                    arguments=arguments,
                    question=self._approval_question(deps, call.tool_name, arguments),
                )
            )
        text = " ".join(b.question for b in blocks if isinstance(b, ApprovalBlock))
        return Answer(
            answer=text + " Nothing changes until you approve.",
            blocks=blocks,
            skill=None,
            tools=runner.names,
            proposals=[],
            trace_id=turn_trace_id(),
            session=deps.session,
        )

    def _approval_question(self, deps: OperatorDeps, tool: str, arguments: dict[str, Any]) -> str:
        query = arguments.get("query", arguments)
        number = query.get("proposal_id") if isinstance(query, dict) else None
        if number is None:
            return f"{tool.replace('_', ' ')} needs your approval."
        with self.services.uow() as uow:
            try:
                proposal = uow.workspace(deps.workspace).proposals.get(int(number))
            except (NotFound, ValueError):
                return f"{tool.replace('_', ' ')} of proposal {number} needs your approval."
        verb = (
            "Accepting" if tool == "accept_proposal" else "Rejecting" if tool == "reject_proposal" else tool
        )
        return (
            f"{verb} proposal {proposal.id} ({proposal.title!r}, reviewers: {proposal.verdict}) "
            "needs your approval."
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


@dataclass
class _Pending:
    messages: list[ModelMessage]
    requests: DeferredToolRequests
    workspace: str
    member: str


def _checked(question: str) -> str:
    text = question.strip()
    if not text:
        raise InvalidInput("the question is empty")
    if len(text) > MAX_QUESTION:
        raise InvalidInput(f"the question is {len(text):,} characters long: ask in at most {MAX_QUESTION:,}")
    if "\x00" in text or sum(not (c.isprintable() or c.isspace()) for c in text) > len(text) // 10:
        raise InvalidInput("the question is not text")
    return text
