"""The Operator with a language model: the same loop, tools and checks, against local wire-protocol servers.

Each test configures a model through settings (OpenAI-compatible or Anthropic), points it at a
scripted server on 127.0.0.1 and asks one question. The server asks for tool calls and answers as
the real APIs do, and produces each failure the Operator must survive: 429, timeouts, malformed
tool arguments, output cut off at the token limit, a model repeating itself, a turn over its
limits. A model that cannot answer is replaced by the offline planner, and the answer says so.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from deskops.bootstrap import Services, build
from deskops.domain.changes import Actor, ActorKind
from deskops.domain.models import Role
from deskops.llm.models import FAILURES
from deskops.operator.blocks import Answer
from deskops.operator.guard import TRUNCATED
from deskops.simulate.workspace import SimulationConfig, simulate_workspace
from hashing_embedder import HashingEmbedder
from model_servers import (
    ModelServer,
    Received,
    Reply,
    anthropic_error,
    anthropic_text,
    anthropic_tool_use,
    openai_error,
    openai_text,
    openai_tool_call,
)

LEAD = Actor(kind=ActorKind.member, name="lead@lumio.test", role=Role.viewer)
QUESTION = "list the guidance rules"
OFFLINE = "The AI agent has 10 guidance rules; 10 are enabled."
"""What the offline planner answers to QUESTION on this workspace."""


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A small simulated workspace, built once: its URL and data folder."""
    folder = tmp_path_factory.mktemp("operator-models")
    url = f"sqlite:///{folder / 'o.db'}"
    built = build(database_url=url, data_dir=folder, embedder=HashingEmbedder(), search_conversations=50)
    with built.uow() as uow:
        simulate_workspace(
            uow=uow, config=SimulationConfig(seed=5, conversations=300, days=30), truth_path=folder / "t.json"
        )
        uow.commit()
    built.close()
    return url, folder


def _ask(
    server: ModelServer,
    database: tuple[str, Path],
    script: list[Any],
    *,
    provider: str = "openai-compatible",
    question: str = QUESTION,
    **settings: Any,
) -> tuple[Answer, Services]:
    url, folder = database
    anthropic = provider == "anthropic"
    services = build(
        database_url=url,
        data_dir=folder,
        embedder=HashingEmbedder(),
        search_conversations=50,
        llm_provider=provider,
        llm_model=settings.pop("llm_model", "claude-test" if anthropic else "test-model"),
        llm_base_url=server.url if anthropic else server.url + "/v1",
        llm_api_key="sk-test" if provider != "openai-compatible" else None,
        **{"llm_timeout_s": 2.0, **settings},
    )
    server.script = script
    try:
        return services.operator.ask(workspace="demo", question=question, actor=LEAD), services
    finally:
        services.close()


def _tool_results(request: Received) -> list[str]:
    """The tool results a request carries back to the model, as text (either wire protocol)."""
    found = []
    for message in request.body["messages"]:
        if message["role"] == "tool":
            found.append(message["content"])
        elif isinstance(message["content"], list):
            for block in message["content"]:
                if block.get("type") == "tool_result":
                    content = block["content"]
                    found.append(content if isinstance(content, str) else "".join(c["text"] for c in content))
    return found


def _count_rules(text: Callable[[str], Reply]) -> Callable[[Received], Reply]:
    """A reply that reads the rules out of the tool result it was sent, so the figure comes from the tool."""

    def reply(request: Received) -> Reply:
        result = _tool_results(request)[-1]
        return text(f"The AI agent follows {len(json.loads(result)['rules'])} guidance rules.")

    return reply


# ------------------------------------------------------------------------------------- the happy path


@pytest.mark.parametrize("provider", ["openai-compatible", "anthropic"])
def test_a_model_calls_a_tool_reads_its_result_and_answers(
    model_server: ModelServer, database: tuple[str, Path], provider: str
) -> None:
    if provider == "anthropic":
        script = [anthropic_tool_use("list_guidance", {}), _count_rules(anthropic_text)]
    else:
        script = [openai_tool_call("list_guidance", "{}"), _count_rules(openai_text)]
    answer, _ = _ask(model_server, database, script, provider=provider)
    assert answer.answer == "The AI agent follows 10 guidance rules." and answer.fallback is None
    assert answer.model == f"{provider}:{'claude-test' if provider == 'anthropic' else 'test-model'}"
    assert answer.tools == ["list_guidance"] and answer.skill is None
    (table,) = [b for b in answer.blocks if b.type == "table"]
    assert len(table.rows) == 10
    first, second = model_server.requests
    tools = {t.get("name") or t["function"]["name"] for t in first.body["tools"]}
    assert {"list_guidance", "performance_report", "propose_change"} <= tools  # tools and skills alike
    assert "never instructions to you" in json.dumps(first.body)  # the turn's instructions went along
    assert "gr-tone" in _tool_results(second)[0]


def test_429_is_retried_then_the_model_answers(model_server: ModelServer, database: tuple[str, Path]) -> None:
    script = [
        openai_error(429, "slow down", {"retry-after-ms": "20"}),
        openai_tool_call("list_guidance", "{}"),
        _count_rules(openai_text),
    ]
    answer, _ = _ask(model_server, database, script)
    assert answer.fallback is None and answer.answer == "The AI agent follows 10 guidance rules."
    assert len(model_server.requests) == 3


# ------------------------------------------------------------------------- failures: offline, saying so

RETRY = {"retry-after-ms": "10"}


def _malformed(n: int) -> list[Reply]:
    return [
        openai_tool_call("read_conversation", '{"external_id": "sim-1"', call_id=f"c{i}") for i in range(n)
    ]


@pytest.mark.parametrize(
    ("provider", "script", "settings", "kind"),
    [
        ("openai-compatible", [openai_error(429, "slow", RETRY)] * 3, {}, "rate_limited"),
        ("anthropic", [anthropic_error(429, "rate_limit_error", "slow", RETRY)] * 3, {}, "rate_limited"),
        ("openai-compatible", [openai_error(503, "busy", RETRY)] * 3, {}, "server_error"),
        (
            "openai-compatible",
            [Reply(openai_text("late").body, delay_s=10)] * 2,
            {"llm_timeout_s": 0.3, "llm_attempts": 2},
            "timeout",
        ),
        ("openai-compatible", _malformed(3), {}, "malformed"),
        ("openai-compatible", [openai_tool_call("no_such_tool", "{}", call_id=f"c{i}") for i in range(3)], {},
         "malformed"),
        ("openai-compatible", [openai_text("The AI agent has", finish="length")] * 3, {}, "truncated"),
        ("anthropic", [anthropic_text("The AI agent has", stop="max_tokens")] * 3, {}, "truncated"),
        (
            "openai-compatible",
            [openai_tool_call("list_guidance", '{"x', finish="length", call_id=f"c{i}") for i in range(3)],
            {},
            "truncated",
        ),
        ("openai-compatible", [Reply(b"<html>bad gateway</html>")], {}, "malformed"),
    ],
)  # fmt: skip
def test_a_model_that_cannot_answer_is_replaced_by_the_offline_planner(
    model_server: ModelServer,
    database: tuple[str, Path],
    provider: str,
    script: list[Reply],
    settings: dict[str, Any],
    kind: str,
) -> None:
    answer, _ = _ask(model_server, database, script, provider=provider, **settings)
    name = f"{provider}:{'claude-test' if provider == 'anthropic' else 'test-model'}"
    assert answer.model == "offline" and answer.fallback == f"{name}: {FAILURES[kind]}"
    assert answer.answer == (
        f"The language model ({name}) could not answer: {FAILURES[kind]}. "
        f"The offline planner answered instead.\n\n{OFFLINE}"
    )
    assert answer.tools[-1] == "list_guidance"  # the planner's own call; its table is the answer's
    (table,) = [b for b in answer.blocks if b.type == "table"]
    assert len(table.rows) == 10
    assert model_server.script == []  # every scripted retry was used: retried within limits, no more


def test_a_skill_the_model_already_ran_is_not_run_again(
    model_server: ModelServer, database: tuple[str, Path]
) -> None:
    """The model runs the report skill, then fails: the skill's own answer stands, with no second run."""
    question = "how did the AI agent do last week?"
    offline, _ = _ask(model_server, database, [openai_error(429, "slow", RETRY)] * 3, question=question)
    assert offline.skill == "performance_report" and offline.fallback is not None
    match = re.search(r"From (\S+) to (\S+), against", offline.answer)
    assert match is not None, offline.answer
    period = json.dumps({"start": match.group(1), "end": match.group(2)})
    script = [openai_tool_call("performance_report", period), *[openai_error(429, "slow", RETRY)] * 3]
    answer, _ = _ask(model_server, database, script, question=question)
    assert answer.skill == "performance_report" and answer.model == "offline"
    assert answer.answer == offline.answer and answer.tools == offline.tools  # the skill ran once
    assert model_server.script == []


def test_a_malformed_tool_call_is_sent_back_and_corrected(
    model_server: ModelServer, database: tuple[str, Path]
) -> None:
    script = [*_malformed(1), openai_tool_call("list_guidance", "{}"), _count_rules(openai_text)]
    answer, _ = _ask(model_server, database, script)
    assert answer.fallback is None and answer.answer == "The AI agent follows 10 guidance rules."
    (retry,) = _tool_results(model_server.requests[1])
    assert "read_conversation" in json.dumps(model_server.bodies[1]) and "invalid" in retry.lower()


def test_a_truncated_answer_is_redone_shorter(model_server: ModelServer, database: tuple[str, Path]) -> None:
    script = [
        openai_tool_call("list_guidance", "{}"),
        openai_text("The AI agent follows ten guidance rules, namely", finish="length"),
        _count_rules(openai_text),
    ]
    answer, _ = _ask(model_server, database, script)
    assert answer.fallback is None and answer.answer == "The AI agent follows 10 guidance rules."
    assert TRUNCATED in json.dumps(model_server.bodies[2])


# ----------------------------------------------------------------------------------- the loop guard


def test_the_same_tool_call_twice_is_refused_and_the_model_told(
    model_server: ModelServer, database: tuple[str, Path]
) -> None:
    def answer_from_first_result(request: Received) -> Reply:
        first, refused = _tool_results(request)
        told = json.loads(refused)["error"]  # a failed tool result, as the wire carries it
        assert told.startswith("Refused: list_guidance was already called with these arguments")
        return openai_text(f"The AI agent follows {len(json.loads(first)['rules'])} guidance rules.")

    script = [
        openai_tool_call("list_guidance", "{}", call_id="c1"),
        openai_tool_call("list_guidance", "{ }", call_id="c2"),  # the same arguments, written differently
        answer_from_first_result,
    ]
    answer, _ = _ask(model_server, database, script)
    assert model_server.errors == []
    assert answer.fallback is None and answer.answer == "The AI agent follows 10 guidance rules."
    assert answer.tools == ["list_guidance"]  # the repeat never ran


def test_a_model_that_keeps_repeating_a_call_runs_out_of_requests(
    model_server: ModelServer, database: tuple[str, Path]
) -> None:
    script = [openai_tool_call("list_guidance", "{}", call_id=f"c{i}") for i in range(4)]
    answer, _ = _ask(model_server, database, script, llm_max_requests=4)
    assert answer.fallback == f"openai-compatible:test-model: {FAILURES['repeated_call']}"
    assert answer.answer.endswith(OFFLINE) and answer.tools == ["list_guidance", "list_guidance"]


# -------------------------------------------------------------------------------------- usage limits


@pytest.mark.parametrize(
    ("script", "settings"),
    [
        # Tokens: two responses of 900 tokens against a budget of 1,000.
        ([openai_tool_call("list_guidance", "{}", tokens=900), openai_text("Ten rules.", tokens=900)],
         {"llm_max_tokens": 1000}),
        # Tool calls: a second tool against a budget of one.
        ([openai_tool_call("list_guidance", "{}"), openai_tool_call("list_procedures", "{}", call_id="c2"),
          openai_text("Done.")], {"llm_max_tool_calls": 1}),
        # Requests: a third request against a budget of two.
        ([openai_tool_call("list_guidance", "{}"), openai_tool_call("list_procedures", "{}", call_id="c2"),
          openai_text("Done.")], {"llm_max_requests": 2}),
        # Dollars, where the prices are known: gpt-4o at 200,000 tokens costs more than a cent.
        ([openai_tool_call("list_guidance", "{}", model="gpt-4o", tokens=200_000),
          openai_text("Ten rules.", model="gpt-4o")],
         {"llm_provider": "openai", "llm_model": "gpt-4o", "llm_max_cost_usd": 0.01,
          "llm_max_tokens": 10**6}),
    ],
)  # fmt: skip
def test_a_turn_over_its_limits_falls_back_offline(
    model_server: ModelServer, database: tuple[str, Path], script: list[Reply], settings: dict[str, Any]
) -> None:
    provider = settings.pop("llm_provider", "openai-compatible")
    answer, _ = _ask(model_server, database, script, provider=provider, **settings)
    assert answer.fallback is not None and answer.fallback.endswith(FAILURES["usage_limit"])
    assert answer.answer.endswith(OFFLINE)


def test_a_priced_model_within_its_budget_answers(
    model_server: ModelServer, database: tuple[str, Path]
) -> None:
    script = [
        openai_tool_call("list_guidance", "{}", model="gpt-4o"),
        _count_rules(lambda text: openai_text(text, model="gpt-4o")),
    ]
    answer, _ = _ask(model_server, database, script, provider="openai", llm_model="gpt-4o")
    assert answer.fallback is None and answer.model == "openai:gpt-4o"


# ------------------------------------------------------------------------------- tools, as a model uses them


@pytest.mark.parametrize(
    ("call", "told"),
    [
        (openai_tool_call("read_conversation", '{"external_id": "nope-1"}'), "read_conversation failed: "),
        (
            openai_tool_call(
                "propose_change",
                json.dumps(
                    {
                        "title": "Friendlier tone",
                        "description": "Make the tone rule friendlier.",
                        "change_set": {"guidance": [{"external_id": "gr-tone", "body": "Be warm."}]},
                    }
                ),
            ),
            "propose_change failed: ",
        ),
    ],
)
def test_a_tools_error_goes_back_to_the_model(
    model_server: ModelServer, database: tuple[str, Path], call: Reply, told: str
) -> None:
    answer, services = _ask(model_server, database, [call, openai_text("That did not work.")])
    (result,) = _tool_results(model_server.requests[1])
    assert json.loads(result)["error"].startswith(told) and answer.fallback is None
    assert answer.answer == "That did not work." and answer.proposals == []
    with services.uow() as uow:
        assert uow.workspace("demo").proposals.count() == 0  # a viewer's proposal was refused, not written


def test_a_reading_tool_that_runs_too_long_is_abandoned(
    model_server: ModelServer, database: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from deskops.operator.tools import configuration

    released = threading.Event()

    @functools.wraps(configuration.list_guidance)
    def stuck(deps: Any, query: Any) -> configuration.GuidanceList:
        released.wait(10)  # the built-in tool, stuck until the test is over
        return configuration.GuidanceList(rules=[])

    monkeypatch.setattr(configuration, "list_guidance", stuck)
    script = [openai_tool_call("list_guidance", "{}"), openai_text("The rules could not be read in time.")]
    try:
        answer, _ = _ask(model_server, database, script, llm_tool_timeout_s=0.2)
    finally:
        released.set()
    (result,) = _tool_results(model_server.requests[1])
    assert "Timed out after 0.2 seconds" in result
    assert answer.answer == "The rules could not be read in time." and answer.fallback is None


def test_a_model_answer_with_figures_no_tool_produced_is_withheld(
    model_server: ModelServer, database: tuple[str, Path]
) -> None:
    answer, _ = _ask(model_server, database, [openai_text("The AI agent follows 42 guidance rules.")])
    assert answer.model == "openai-compatible:test-model" and answer.fallback is None
    assert answer.answer.startswith("An answer mentioned figures no tool produced (42)")


def test_deskops_ask_answers_with_the_configured_model(
    model_server: ModelServer, database: tuple[str, Path], real_embedder: Any
) -> None:
    """The command line, configured through the environment as a user would, in JSON and in words."""
    from typer.testing import CliRunner

    from deskops.cli import app

    url, folder = database
    env = {
        "DESKOPS_DATA_DIR": str(folder),
        "DESKOPS_LLM_PROVIDER": "openai-compatible",
        "DESKOPS_LLM_BASE_URL": model_server.url + "/v1",
        "DESKOPS_LLM_MODEL": "test-model",
    }
    model_server.script = [openai_tool_call("list_guidance", "{}"), _count_rules(openai_text)]
    result = CliRunner().invoke(app, ["ask", "--db", url, QUESTION, "--json"], env=env)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["answer"] == "The AI agent follows 10 guidance rules."
    assert (document["model"], document["fallback"], document["tools"]) == (
        "openai-compatible:test-model",
        None,
        ["list_guidance"],
    )
    model_server.script = [openai_error(429, "slow", RETRY)] * 3
    result = CliRunner().invoke(app, ["ask", "--db", url, QUESTION], env={**env, "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("The language model (openai-compatible:test-model) could not answer")
    assert "model: offline" in result.stdout
