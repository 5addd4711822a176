"""The provider layer (``llm/``) against local servers speaking OpenAI Chat Completions and Anthropic's
Messages API.

Models are built from settings exactly as ``deskops`` builds them (``Services.llm``), pointed at a
scripted server on 127.0.0.1 (``tests/model_servers.py``); every other request to a model is
refused by PydanticAI's ``ALLOW_MODEL_REQUESTS`` switch, which this file checks too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from deskops.bootstrap import Services, build
from deskops.changes.changeset import parse_change_set
from deskops.changes.proposals import follow
from deskops.domain.models import Article, Decision
from deskops.errors import InvalidInput
from deskops.frontline.agent import Inquiry
from deskops.llm.complete import complete
from deskops.llm.models import BREAKER_FAILURES, LanguageModel, ModelFailure
from model_servers import (
    ModelServer,
    Reply,
    anthropic_error,
    anthropic_text,
    openai_error,
    openai_text,
)

PROVIDERS = ["openai-compatible", "openai", "anthropic"]


Connect = Callable[..., Services]


@pytest.fixture
def connect(model_server: ModelServer, tmp_path: Path) -> Iterator[Connect]:
    """Services whose model is the local server (``connect(provider, **settings)``), closed after the test."""
    made: list[Services] = []

    def make(provider: str, **settings: Any) -> Services:
        base = model_server.url if provider == "anthropic" else model_server.url + "/v1"
        services = build(
            database_url=f"sqlite:///{tmp_path / 'p.db'}",
            data_dir=tmp_path,
            llm_provider=provider,
            llm_model="claude-test" if provider == "anthropic" else "test-model",
            llm_base_url=base,
            llm_api_key="sk-test-secret" if provider != "openai-compatible" else None,
            **settings,
        )
        made.append(services)
        return services

    yield make
    for services in made:
        services.close()


@pytest.fixture(params=PROVIDERS)
def wired(request: pytest.FixtureRequest, connect: Connect) -> Services:
    return connect(request.param, llm_timeout_s=2.0)


def _model(services: Services) -> LanguageModel:
    assert services.llm is not None
    return services.llm


def _text(services: Services, text: str, **kwargs: Any) -> Reply:
    anthropic = services.settings.llm_provider == "anthropic"
    if anthropic:
        stop = {"length": "max_tokens"}.get(kwargs.pop("finish", ""), "end_turn")
        return anthropic_text(text, stop=stop)
    return openai_text(text, **kwargs)


def _error(services: Services, status: int, headers: dict[str, str] | None = None) -> Reply:
    if services.settings.llm_provider == "anthropic":
        kind = {429: "rate_limit_error", 500: "api_error", 401: "authentication_error"}[status]
        return anthropic_error(status, kind, "scripted", headers)
    return openai_error(status, "scripted", headers)


def test_a_completion_speaks_each_wire_protocol(
    wired: Services, model_server: ModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The SDKs' own variables play no part: deskops hands them the URL and key from its settings.
    for name in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.setenv(name, "sk-from-the-environment")
    model_server.script = [_text(wired, "Within 2 business days [1].")]
    done = complete(_model(wired), system="system rules", prompt="How long do payouts take?", max_tokens=50)
    assert (done.text, done.input_tokens, done.output_tokens) == ("Within 2 business days [1].", 120, 30)
    (request,) = model_server.requests
    body = request.body
    provider = wired.settings.llm_provider
    if provider == "anthropic":
        assert request.path == "/v1/messages"
        assert body["system"] in ("system rules", [{"type": "text", "text": "system rules"}])
        assert body["messages"] == [
            {"role": "user", "content": [{"type": "text", "text": "How long do payouts take?"}]}
        ]
        assert body["max_tokens"] == 50 and body["model"] == "claude-test"
    else:
        assert request.path == "/v1/chat/completions"
        assert body["messages"] == [
            {"role": "system", "content": "system rules"},
            {"role": "user", "content": "How long do payouts take?"},
        ]
        assert body["max_completion_tokens"] == 50 and body["model"] == "test-model"
    assert body["temperature"] == 0.0
    # The key goes to the provider, however its SDK sends it (a keyless local server gets a placeholder).
    sent = request.headers.get("x-api-key") or request.headers.get("authorization", "")
    assert sent.removeprefix("Bearer ") == (
        "api-key-not-set" if provider == "openai-compatible" else "sk-test-secret"
    )


def test_429_is_retried_as_retry_after_says_then_answered(wired: Services, model_server: ModelServer) -> None:
    model_server.script = [_error(wired, 429, {"retry-after-ms": "20"}), _text(wired, "ok")]
    assert complete(_model(wired), system="s", prompt="hi").text == "ok"
    assert len(model_server.requests) == 2


def test_server_errors_are_retried_then_reported(wired: Services, model_server: ModelServer) -> None:
    model_server.script = [_error(wired, 500, {"retry-after-ms": "10"})] * 3
    with pytest.raises(ModelFailure) as failure:
        complete(_model(wired), system="s", prompt="hi")
    assert failure.value.kind == "server_error" and len(model_server.requests) == 3  # DESKOPS_LLM_ATTEMPTS


def test_a_timeout_is_retried_then_reported(model_server: ModelServer, connect: Connect) -> None:
    services = connect("openai-compatible", llm_timeout_s=0.3, llm_attempts=2)
    model = _model(services)
    model_server.script = [Reply(openai_text("late").body, delay_s=10.0)] * 2
    began = time.monotonic()
    with pytest.raises(ModelFailure) as failure:
        complete(model, system="s", prompt="hi")
    assert failure.value.kind == "timeout" and len(model_server.requests) == 2
    assert time.monotonic() - began < 5  # each attempt gave up at its timeout, not at the server's pace


@pytest.mark.parametrize(
    ("step", "kind"),
    [
        (lambda s: Reply(b"{not json"), "malformed"),
        (lambda s: Reply({"choices": []} if s != "anthropic" else {"content": 5}), "malformed"),
        (lambda s: "truncated", "truncated"),
        (lambda s: 401, "rejected"),
    ],
)
def test_unusable_answers_are_failures_and_not_retried(
    wired: Services, model_server: ModelServer, step: Any, kind: str
) -> None:
    scripted = step(wired.settings.llm_provider)
    if scripted == "truncated":
        scripted = _text(wired, "Payouts arrive within", finish="length")
    elif scripted == 401:
        scripted = _error(wired, 401)
    model_server.script = [scripted]
    with pytest.raises(ModelFailure) as failure:
        complete(_model(wired), system="s", prompt="hi")
    assert failure.value.kind == kind and len(model_server.requests) == 1


def test_the_circuit_opens_after_repeated_failures_and_stops_calling(
    model_server: ModelServer, connect: Connect
) -> None:
    services = connect("openai-compatible", llm_attempts=1)
    model_server.script = [openai_error(500, "down")] * 10
    kinds = []
    for _ in range(BREAKER_FAILURES + 2):
        with pytest.raises(ModelFailure) as failure:
            complete(_model(services), system="s", prompt="hi")
        kinds.append(failure.value.kind)
    assert kinds[: BREAKER_FAILURES - 1] == ["server_error"] * (BREAKER_FAILURES - 1)
    assert kinds[BREAKER_FAILURES - 1 :] == ["circuit_open"] * 3
    assert len(model_server.requests) == BREAKER_FAILURES  # once open, the provider is not called at all


def test_unusable_answers_do_not_open_the_circuit(model_server: ModelServer, connect: Connect) -> None:
    services = connect("openai-compatible", llm_attempts=1)
    model_server.script = [openai_text("cut", finish="length")] * (BREAKER_FAILURES + 1) + [
        openai_text("whole")
    ]
    for _ in range(BREAKER_FAILURES + 1):
        with pytest.raises(ModelFailure, match="truncated"):
            complete(_model(services), system="s", prompt="hi")
    assert complete(_model(services), system="s", prompt="hi").text == "whole"


def test_without_a_local_server_no_request_reaches_a_provider(tmp_path: Path) -> None:
    """The suite's switch: a model pointed at the real OpenAI API is refused before anything is sent."""
    services = build(
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        data_dir=tmp_path,
        llm_provider="openai",
        llm_model="gpt-4o-mini",
        llm_api_key="sk-never-used",
    )
    with pytest.raises(RuntimeError, match="ALLOW_MODEL_REQUESTS is False"):
        complete(_model(services), system="s", prompt="hi")
    services.close()


# ------------------------------------------------------------------------------- the front-line agent

PAYOUTS = "When do payouts arrive in my bank account?"


def _help_center(services: Services) -> None:
    with services.uow() as uow:
        scope = uow.workspace(uow.workspaces.create("acme"))
        now = datetime.now(UTC)
        scope.articles.save(
            Article(
                external_id="kb-1",
                title="When payouts arrive",
                body="Payouts arrive within 2 business days.",
                created_at=now,
                updated_at=now,
            )
        )
        uow.commit()


def test_the_frontline_agent_answers_through_each_provider(
    wired: Services, model_server: ModelServer
) -> None:
    _help_center(wired)
    model_server.script = [_text(wired, "Payouts arrive within 2 business days [1].")]
    reply = wired.frontline.reply("acme", Inquiry(message=PAYOUTS))
    assert reply.decision == Decision.answer, reply.reason
    assert reply.citations == ["article:kb-1"] and reply.text.startswith(
        "Payouts arrive within 2 business days."
    )
    assert reply.trace.model == _model(wired).name
    prompt = str(model_server.bodies[0]["messages"][-1]["content"])
    assert "When payouts arrive" in prompt and "<<<CUSTOMER_TEXT>>>" in prompt  # the passages, the fence


@pytest.mark.parametrize(
    ("failing", "kind"),
    [
        (lambda s: [_error(s, 500, {"retry-after-ms": "10"})] * 3, "server_error"),
        (lambda s: [_error(s, 429, {"retry-after-ms": "10"})] * 3, "rate_limited"),
        (lambda s: [_text(s, "Payouts arrive within 2", finish="length")], "truncated"),
        (lambda s: [Reply(b"<html>bad gateway</html>")], "malformed"),
    ],
)
def test_the_frontline_agent_hands_over_when_the_model_fails(
    wired: Services, model_server: ModelServer, failing: Any, kind: str
) -> None:
    _help_center(wired)
    model_server.script = failing(wired)
    reply = wired.frontline.reply("acme", Inquiry(message=PAYOUTS))
    assert reply.decision == Decision.handover and f"the model failed ({kind})" in reply.reason
    assert reply.trace.model == _model(wired).name
    model_server.script = [_text(wired, "Payouts arrive within 2 business days [1].")]
    again = wired.frontline.reply("acme", Inquiry(message=PAYOUTS))
    assert again.decision == Decision.answer  # the next message is answered once the model is back


# ------------------------------------------------------------------------------- refining a proposal

CHANGE_SET = {"articles": [{"external_id": "kb-1", "title": "When payouts arrive", "body": "Within 2 days."}]}


def test_a_free_form_refinement_goes_through_the_model(model_server: ModelServer, connect: Connect) -> None:
    services = connect("openai-compatible")
    body = "Within 2 business days, weekends excluded."
    edited = {"articles": [{**CHANGE_SET["articles"][0], "body": body}]}

    model_server.script = [openai_text("Here it is:\n" + json.dumps(edited))]
    change_set = parse_change_set(CHANGE_SET, source="test")
    refined = follow("say that weekends do not count", change_set, model=_model(services))
    assert refined.articles[0]["body"] == body
    prompt = model_server.bodies[0]["messages"][-1]["content"]
    assert "say that weekends do not count" in prompt and "<<<CHANGE_SET>>>" in prompt
    model_server.script = [openai_error(500, "down", {"retry-after-ms": "10"})] * 3
    with pytest.raises(InvalidInput, match=r"the model could not refine the change set \(server_error\)"):
        follow("say that weekends do not count", change_set, model=_model(services))
