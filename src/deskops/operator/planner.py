"""The offline planner: a PydanticAI ``FunctionModel`` that chooses the turn's tool call in code.

It runs in the same agent loop a language model would, with the same tools, limits and
trace: the router's decision becomes one tool call (a skill, or a single tool), and the
tool's result becomes the reply. Out of scope and missing slots are answered in words,
without calling anything.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from deskops.operator.present import describe
from deskops.operator.registry import SkillResult
from deskops.operator.router import Routed

CLARIFY = {
    "conversation": "Which conversation? Give its id (for example: conversation sim-0004812).",
    "article": "Which article? Give its id (for example: article kb-0042).",
    "proposal": "Which proposal? Give its number (for example: proposal 12).",
    "text": "What should I look for? Say what it is about (for example: articles about refunds).",
    "metric": "Which figure? For example: escalation rate, CSAT, AI resolution, conversation volume.",
}


def capabilities(skills: list[str], tools: list[str]) -> str:
    shown = ", ".join(s.replace("_", " ") for s in skills)
    return (
        "I can't answer that from this workspace. I can run these: "
        f"{shown}; and look things up: {', '.join(t.replace('_', ' ') for t in tools[:8])}."
    )


def plan_arguments(routed: Routed, today: date) -> dict[str, Any]:
    """The tool call's arguments, from the question's slots and period."""
    assert routed.route is not None
    name, slots, period = routed.route.name, routed.slots, routed.period
    if routed.route.kind == "skill":
        ask: dict[str, Any] = {need: slots[need] for need in routed.route.needs}
        if routed.route.period:
            ask |= {"start": period.start.isoformat(), "end": period.end.isoformat()}
        return {"ask": ask}
    if name in ("show_proposal", "accept_proposal"):
        return {"query": {"proposal_id": int(slots["proposal"])}}
    if name == "read_conversation":
        return {"query": {"external_id": slots["conversation"]}}
    if name == "read_article":
        return {"query": {"external_id": slots["article"]}}
    if name == "search_help_center":
        return {"query": {"query": slots["text"], "k": 5}}
    return {"query": {}}


def offline_model(routed: Routed, today: date, *, skills: list[str], tools: list[str]) -> FunctionModel:
    """The planner for one turn (its decision was made by the router before the loop starts)."""

    def step(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        returned = [p for p in messages[-1].parts if isinstance(p, ToolReturnPart)]
        if returned:
            content = returned[-1].content
            if isinstance(content, SkillResult):
                return ModelResponse(parts=[TextPart(content.answer)])
            if isinstance(content, str):  # a denied call: the member's answer
                return ModelResponse(parts=[TextPart(content)])
            return ModelResponse(parts=[TextPart(describe(returned[-1].tool_name, content))])
        if routed.route is None:
            return ModelResponse(parts=[TextPart(capabilities(skills, tools))])
        if routed.missing:
            return ModelResponse(parts=[TextPart(CLARIFY[routed.missing[0]])])
        return ModelResponse(parts=[ToolCallPart(routed.route.name, plan_arguments(routed, today))])

    return FunctionModel(step, model_name="deskops-offline-planner")
