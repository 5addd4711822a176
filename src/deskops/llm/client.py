"""Chat models over HTTP: OpenAI-compatible servers (vLLM, Ollama, llama.cpp, OpenAI) and Anthropic.

One small interface, ``ChatModel.complete(system, messages) -> Completion``, so the
agents never see a provider's wire format. Every call has a timeout; failures that are
worth retrying (429, 5xx, timeouts, dropped connections) are retried with jittered
exponential backoff (tenacity), honouring ``Retry-After``; a circuit breaker
(pybreaker) stops calling a provider that keeps failing. Anything that still fails —
including malformed JSON and output cut off at the token limit — raises
``ProviderError``, and callers fall back to something safe (the front-line agent hands
over rather than guesses).
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import pybreaker
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

MAX_RETRY_AFTER_S = 30.0
ALLOW_MODEL_REQUESTS = True
"""Set to False (the test suite does) to refuse every request to a model provider that is not on
this machine: a test that would reach OpenAI or Anthropic fails instead. Servers on loopback
addresses (local models, the wire-format test server) stay allowed."""


class ProviderError(RuntimeError):
    """The model could not give a usable answer (after retries); ``kind`` says why."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind


class _Retryable(Exception):
    def __init__(self, kind: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.retry_after = retry_after


@dataclass(frozen=True)
class ChatMessage:
    role: str
    """user or assistant (the system prompt is passed separately)."""
    content: str


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    attempts: int = 1


class ChatModel(Protocol):
    name: str

    def complete(self, system: str, messages: list[ChatMessage], *, max_tokens: int = 600) -> Completion: ...

    def close(self) -> None:
        """Release the connection pool."""


@dataclass
class Resilience:
    """Timeouts, retries and the circuit breaker shared by the HTTP providers."""

    timeout_s: float = 20.0
    attempts: int = 3
    backoff_s: float = 0.5
    """First backoff; doubles per attempt with full jitter, capped at 8 s."""
    breaker_failures: int = 5
    breaker_reset_s: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    breaker: pybreaker.CircuitBreaker = field(init=False)

    def __post_init__(self) -> None:
        # Only failures of the provider count (after retries): an answer cut off at the token
        # limit or a malformed one is the request's problem, not a reason to stop calling.
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=self.breaker_failures, reset_timeout=self.breaker_reset_s, exclude=[ProviderError]
        )

    def call(self, attempt: Callable[[], Completion]) -> Completion:
        jitter = wait_random_exponential(multiplier=self.backoff_s, max=8)

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, _Retryable) and error.retry_after is not None:
                return min(error.retry_after, MAX_RETRY_AFTER_S)
            return float(jitter(state))

        def with_retries() -> Completion:
            retrying = Retrying(
                stop=stop_after_attempt(self.attempts),
                wait=wait,
                retry=retry_if_exception_type(_Retryable),
                sleep=self.sleep,
                reraise=True,
            )
            for attempt_state in retrying:
                with attempt_state:
                    completion = attempt()
                    number = attempt_state.retry_state.attempt_number
                    return Completion(**{**completion.__dict__, "attempts": number})
            raise AssertionError("unreachable")  # pragma: no cover - reraise=True always raises

        try:
            return self.breaker.call(with_retries)
        except pybreaker.CircuitBreakerError as error:
            raise ProviderError("circuit_open", f"the provider failed repeatedly; paused ({error})") from None
        except _Retryable as error:
            raise ProviderError(error.kind, str(error)) from None


def _post(client: httpx.Client, url: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    if not ALLOW_MODEL_REQUESTS and not _loopback(url):
        raise RuntimeError(
            f"model requests are switched off (llm.client.ALLOW_MODEL_REQUESTS); refused {url}"
        )
    try:
        response = client.post(url, headers=headers, json=body)
    except httpx.TimeoutException as error:
        raise _Retryable("timeout", f"no answer within the timeout ({type(error).__name__})") from None
    except httpx.TransportError as error:
        raise _Retryable("connection", f"{type(error).__name__}: {error}") from None
    if response.status_code == 429 or response.status_code >= 500:
        raise _Retryable(
            "rate_limited" if response.status_code == 429 else "server_error",
            f"HTTP {response.status_code}",
            _retry_after(response.headers.get("retry-after")),
        )
    if response.status_code >= 400:
        raise ProviderError("rejected", f"HTTP {response.status_code}: {response.text[:200]}")
    try:
        document = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ProviderError("malformed", "the response is not JSON") from None
    if not isinstance(document, dict):
        raise ProviderError("malformed", "the response is not a JSON object")
    return document


def _loopback(url: str) -> bool:
    host = httpx.URL(url).host
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


class OpenAIChat:
    """Chat Completions (``POST {base_url}/chat/completions``), as OpenAI and compatible servers speak it."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        resilience: Resilience | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = f"openai:{model}"
        self.model = model
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.resilience = resilience or Resilience()
        self._headers = {"content-type": "application/json"}
        if api_key:
            self._headers["authorization"] = f"Bearer {api_key}"
        self._client = httpx.Client(timeout=self.resilience.timeout_s, transport=transport)

    def complete(self, system: str, messages: list[ChatMessage], *, max_tokens: int = 600) -> Completion:
        body = {
            "model": self.model,
            "temperature": 0,
            "max_tokens": max_tokens,
            "messages": [{"role": "system", "content": system}]
            + [{"role": m.role, "content": m.content} for m in messages],
        }

        def attempt() -> Completion:
            document = _post(self._client, self.url, self._headers, body)
            try:
                choice = document["choices"][0]
                text = choice["message"]["content"]
                finish = choice.get("finish_reason")
            except (KeyError, IndexError, TypeError):
                raise ProviderError("malformed", "no choices[0].message.content in the response") from None
            if not isinstance(text, str):
                raise ProviderError("malformed", "the message content is not text")
            if finish == "length":
                raise ProviderError("truncated", "the answer was cut off at the token limit")
            usage = document.get("usage") or {}
            return Completion(text, self.name, usage.get("prompt_tokens"), usage.get("completion_tokens"))

        return self.resilience.call(attempt)

    def close(self) -> None:
        self._client.close()


class AnthropicChat:
    """The Messages API (``POST {base_url}/v1/messages``)."""

    VERSION = "2023-06-01"

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str = "https://api.anthropic.com",
        resilience: Resilience | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = f"anthropic:{model}"
        self.model = model
        self.url = base_url.rstrip("/") + "/v1/messages"
        self.resilience = resilience or Resilience()
        self._headers = {
            "content-type": "application/json",
            "x-api-key": api_key,
            "anthropic-version": self.VERSION,
        }
        self._client = httpx.Client(timeout=self.resilience.timeout_s, transport=transport)

    def complete(self, system: str, messages: list[ChatMessage], *, max_tokens: int = 600) -> Completion:
        body = {
            "model": self.model,
            "max_tokens": max_tokens,
            "temperature": 0,
            "system": system,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
        }

        def attempt() -> Completion:
            document = _post(self._client, self.url, self._headers, body)
            try:
                blocks = document["content"]
                text = "".join(b["text"] for b in blocks if isinstance(b, dict) and b.get("type") == "text")
            except (KeyError, TypeError):
                raise ProviderError("malformed", "no text content blocks in the response") from None
            if document.get("stop_reason") == "max_tokens":
                raise ProviderError("truncated", "the answer was cut off at the token limit")
            usage = document.get("usage") or {}
            return Completion(text, self.name, usage.get("input_tokens"), usage.get("output_tokens"))

        return self.resilience.call(attempt)

    def close(self) -> None:
        self._client.close()
