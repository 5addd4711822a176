"""The real HTTP provider clients against a local server speaking the providers' wire formats.

The server answers from a script, one entry per request: the status, headers, body and
an optional delay, so rate limits, server errors, timeouts, malformed JSON and
truncated output can all be produced on demand.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from deskops.llm.client import AnthropicChat, ChatMessage, OpenAIChat, ProviderError, Resilience


@dataclass
class Scripted:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def chat_completion(text: str, finish: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "test-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
    }


class FakeProvider:
    def __init__(self) -> None:
        self.script: list[Scripted] = []
        self.requests: list[dict[str, Any]] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                provider.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                step = provider.script.pop(0) if provider.script else Scripted(500, {"error": "unscripted"})
                if step.delay_s:
                    threading.Event().wait(step.delay_s)
                payload = step.body if isinstance(step.body, bytes) else json.dumps(step.body).encode()
                try:
                    self.send_response(step.status)
                    for name, value in step.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # A short poll interval: shutdown() waits for the loop to notice (0.5 s by default).
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def fake() -> Iterator[FakeProvider]:
    server = FakeProvider()
    yield server
    server.close()


class Sleeps:
    """Records the backoff waits instead of sleeping them."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _openai(fake: FakeProvider, **resilience: Any) -> tuple[OpenAIChat, Sleeps]:
    sleeps = Sleeps()
    client = OpenAIChat(
        base_url=fake.url + "/v1",
        model="test-model",
        api_key="sk-test-secret",
        resilience=Resilience(sleep=sleeps, **{"timeout_s": 2.0, **resilience}),
    )
    return client, sleeps


ASK = [ChatMessage("user", "How long do payouts take?")]


def test_a_completion_speaks_the_chat_completions_wire_format(fake: FakeProvider) -> None:
    fake.script = [Scripted(body=chat_completion("Within 2 business days [1]."))]
    client, _ = _openai(fake)
    completion = client.complete("system rules", ASK, max_tokens=50)
    assert (completion.text, completion.input_tokens, completion.output_tokens) == (
        "Within 2 business days [1].",
        12,
        5,
    )
    request = fake.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["authorization"] == "Bearer sk-test-secret"
    assert request["body"]["messages"] == [
        {"role": "system", "content": "system rules"},
        {"role": "user", "content": "How long do payouts take?"},
    ]
    assert request["body"]["model"] == "test-model" and request["body"]["max_tokens"] == 50


def test_429_waits_as_long_as_retry_after_says(fake: FakeProvider) -> None:
    fake.script = [
        Scripted(429, {"error": {"message": "slow down"}}, {"Retry-After": "3"}),
        Scripted(body=chat_completion("ok [1]")),
    ]
    client, sleeps = _openai(fake)
    completion = client.complete("s", ASK)
    assert completion.text == "ok [1]" and completion.attempts == 2 and sleeps.waits == [3.0]


def test_server_errors_are_retried_with_jittered_backoff(fake: FakeProvider) -> None:
    fake.script = [
        Scripted(500, {"error": "boom"}),
        Scripted(503, {"error": "busy"}),
        Scripted(body=chat_completion("ok")),
    ]
    client, sleeps = _openai(fake, backoff_s=0.5)
    assert client.complete("s", ASK).attempts == 3
    assert len(sleeps.waits) == 2 and all(0 <= w <= 8 for w in sleeps.waits)


def test_giving_up_after_the_last_attempt(fake: FakeProvider) -> None:
    fake.script = [Scripted(500, {"error": "boom"})] * 3
    client, _ = _openai(fake, attempts=3)
    with pytest.raises(ProviderError) as error:
        client.complete("s", ASK)
    assert error.value.kind == "server_error" and len(fake.requests) == 3


def test_a_timeout_is_retried_then_reported(fake: FakeProvider) -> None:
    fake.script = [
        Scripted(body=chat_completion("late"), delay_s=1.0),
        Scripted(body=chat_completion("late"), delay_s=1.0),
    ]
    client, _ = _openai(fake, timeout_s=0.2, attempts=2)
    with pytest.raises(ProviderError) as error:
        client.complete("s", ASK)
    assert error.value.kind == "timeout"


@pytest.mark.parametrize(
    ("step", "kind"),
    [
        (Scripted(body=b"{not json"), "malformed"),
        (Scripted(body={"choices": []}), "malformed"),
        (Scripted(body=chat_completion("Payouts arrive within", finish="length")), "truncated"),
        (Scripted(401, {"error": {"message": "bad key"}}), "rejected"),
    ],
)
def test_unusable_answers_are_errors_not_retried(fake: FakeProvider, step: Scripted, kind: str) -> None:
    fake.script = [step]
    client, sleeps = _openai(fake)
    with pytest.raises(ProviderError) as error:
        client.complete("s", ASK)
    assert error.value.kind == kind and len(fake.requests) == 1 and sleeps.waits == []


def test_the_circuit_opens_after_repeated_failures(fake: FakeProvider) -> None:
    fake.script = [Scripted(500, {"error": "down"})] * 10
    client, _ = _openai(fake, attempts=1, breaker_failures=3, breaker_reset_s=60)
    kinds = []
    for _ in range(5):
        with pytest.raises(ProviderError) as error:
            client.complete("s", ASK)
        kinds.append(error.value.kind)
    assert kinds[:2] == ["server_error", "server_error"] and kinds[2:] == ["circuit_open"] * 3
    assert len(fake.requests) == 3  # once open, the provider is not called at all


def test_unusable_answers_do_not_open_the_circuit(fake: FakeProvider) -> None:
    fake.script = [Scripted(body=chat_completion("cut", finish="length"))] * 4 + [
        Scripted(body=chat_completion("whole"))
    ]
    client, _ = _openai(fake, attempts=1, breaker_failures=2)
    for _ in range(4):
        with pytest.raises(ProviderError, match="truncated"):
            client.complete("s", ASK)
    assert client.complete("s", ASK).text == "whole"


def test_anthropic_messages_wire_format(fake: FakeProvider) -> None:
    fake.script = [
        Scripted(
            body={
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": "Within 2 business days [1]."}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 20, "output_tokens": 6},
            }
        ),
        Scripted(body={"content": [{"type": "text", "text": "cut"}], "stop_reason": "max_tokens"}),
        Scripted(body={"content": ["not a block"], "stop_reason": "end_turn"}),
        Scripted(body={"content": 5}),
    ]
    client = AnthropicChat(
        model="claude-test", api_key="ak-secret", base_url=fake.url, resilience=Resilience(sleep=Sleeps())
    )
    completion = client.complete("system rules", ASK)
    assert (completion.text, completion.input_tokens) == ("Within 2 business days [1].", 20)
    request = fake.requests[0]
    assert request["path"] == "/v1/messages" and request["headers"]["x-api-key"] == "ak-secret"
    assert request["body"]["system"] == "system rules" and request["body"]["messages"][0]["role"] == "user"
    with pytest.raises(ProviderError, match="truncated"):
        client.complete("system rules", ASK)
    assert client.complete("system rules", ASK).text == ""  # no text blocks: an empty answer
    with pytest.raises(ProviderError, match="malformed"):
        client.complete("system rules", ASK)


def test_the_agent_hands_over_when_the_real_client_fails(fake: FakeProvider, tmp_path: Any) -> None:
    """End to end: configured through settings, a provider outage means a handover, not a guess."""
    from deskops.bootstrap import build
    from deskops.domain.models import Article, Decision
    from deskops.frontline.agent import Inquiry

    services = build(
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        data_dir=tmp_path,
        llm_provider="openai-compatible",
        llm_base_url=fake.url + "/v1",
        llm_model="test-model",
        llm_attempts=2,
    )
    with services.uow() as uow:
        scope = uow.workspace(uow.workspaces.create("acme"))
        from datetime import UTC, datetime

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
    fake.script = [Scripted(500, {"error": "down"})] * 2
    reply = services.frontline.reply("acme", Inquiry(message="When do payouts arrive in my bank account?"))
    assert reply.decision == Decision.handover and "the model failed (server_error)" in reply.reason
    assert reply.trace.model == "openai:test-model"
    fake.script = [Scripted(body=chat_completion("Payouts arrive within 2 business days [1]."))]
    reply = services.frontline.reply("acme", Inquiry(message="When do payouts arrive in my bank account?"))
    assert reply.decision == Decision.answer and reply.citations == ["article:kb-1"]
    services.close()
