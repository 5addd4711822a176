"""The one way deskops reaches a language model: PydanticAI's own providers, built from settings.

``build_model(settings)`` returns a ``LanguageModel`` (None offline) holding a PydanticAI model:

- ``openai-compatible`` (vLLM, Ollama, llama.cpp, any server speaking OpenAI's Chat Completions):
  ``OpenAIChatModel`` over ``OpenAICompatibleProvider(base_url=..., api_key=...)``;
- ``openai``: ``OpenAIChatModel`` over ``OpenAIProvider`` (chat completions);
- ``anthropic``: ``AnthropicModel`` over ``AnthropicProvider`` (the Messages API).

The model carries its request settings: temperature 0, a timeout per attempt, and the
provider SDK's own retries (429 honouring ``Retry-After``, 5xx, timeouts, dropped
connections, with backoff). A circuit breaker (pybreaker) around it stops calling a
provider that keeps failing, so each later call falls back at once instead of waiting out
its retries. The Operator runs the model in its agent loop; ``llm.complete.complete`` makes
the single calls of the front-line agent and of a proposal's refinement. Whatever fails is
told apart by ``failure_of`` (rate limited, timed out, truncated, malformed...), so callers
fall back to something safe and say why.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pybreaker
from pydantic_ai.exceptions import (
    AgentRunError,
    IncompleteToolCall,
    ModelAPIError,
    ModelConnectionError,
    ModelHTTPError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelRequestRejectedError,
    ModelRequestTimeout,
    ModelServerError,
    ModelTimeoutError,
    ModelUnavailableError,
    RunTimedOut,
    UnexpectedModelBehavior,
    UsageLimitExceeded,
)
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models import Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.providers import Provider
from pydantic_ai.settings import ModelSettings
from pydantic_ai.tools import RunContext

from deskops.errors import InvalidInput, Unavailable
from deskops.settings import Settings

OPENAI_URL = "https://api.openai.com/v1"
ANTHROPIC_URL = "https://api.anthropic.com"
BREAKER_FAILURES = 5
"""Failed calls in a row (each after its retries) that open the circuit."""
BREAKER_RESET_S = 30.0
"""How long an open circuit refuses calls before letting one through to test the provider."""

FAILURES: dict[str, str] = {
    "rate_limited": "rate-limited by the provider (HTTP 429)",
    "quota_exceeded": "out of quota at the provider",
    "timeout": "timed out",
    "connection": "unreachable",
    "server_error": "failing at the provider (5xx)",
    "rejected": "refused by the provider (4xx)",
    "circuit_open": "paused after repeated failures",
    "malformed": "malformed output",
    "truncated": "output cut off at the token limit",
    "repeated_call": "repeating the same tool call",
    "tool_timeout": "waiting on a tool that timed out",
    "usage_limit": "over this turn's usage limits",
}
"""Why a model gave no usable answer: each kind and how an answer words it."""


class ModelFailure(Unavailable):
    """The model gave no usable answer (after its retries); ``kind`` is one of ``FAILURES``."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail

    @property
    def reason(self) -> str:
        """The kind in words, for an answer or a trace."""
        return FAILURES.get(self.kind, self.kind)


class CircuitOpen(ModelUnavailableError):
    """The circuit breaker is open: the provider failed repeatedly and is not called for a while."""


def failure_of(error: BaseException) -> ModelFailure | None:
    """What went wrong with a model; None when ``error`` is not a model's failure (a bug, a tool's error)."""
    if isinstance(error, ModelFailure):
        return error
    kinds: list[tuple[type[BaseException] | tuple[type[BaseException], ...], str]] = [
        (CircuitOpen, "circuit_open"),
        (ModelRateLimitError, "rate_limited"),
        (ModelQuotaExceededError, "quota_exceeded"),
        ((ModelTimeoutError, ModelRequestTimeout, RunTimedOut), "timeout"),
        (ModelConnectionError, "connection"),
        ((ModelUnavailableError, ModelServerError), "server_error"),
        (ModelRequestRejectedError, "rejected"),
        (IncompleteToolCall, "truncated"),
        (UsageLimitExceeded, "usage_limit"),
        (UnexpectedModelBehavior, "malformed"),
    ]
    for types, kind in kinds:
        if isinstance(error, types):
            return ModelFailure(kind, str(error)[:300])
    if isinstance(error, ModelHTTPError):  # a status without the provider's category
        status = error.status_code
        kind = "rate_limited" if status == 429 else "server_error" if status >= 500 else "rejected"
        return ModelFailure(kind, str(error)[:300])
    if isinstance(error, ModelAPIError):  # e.g. a body that is not JSON
        return ModelFailure("malformed", str(error)[:300])
    if isinstance(error, AgentRunError):
        return ModelFailure("malformed", str(error)[:300])
    return None


def _provider_trouble(error: BaseException) -> bool:
    """Failures that say the provider is in trouble; a refused or malformed request does not."""
    return isinstance(
        error,
        (
            ModelRateLimitError,
            ModelQuotaExceededError,
            ModelUnavailableError,
            ModelServerError,
            ModelConnectionError,
            ModelRequestTimeout,
        ),
    ) and not isinstance(error, CircuitOpen)


class _Breaker(WrapperModel):
    """The provider's model behind a circuit breaker; remembers the event loop its client runs on."""

    def __init__(self, wrapped: Model, breaker: pybreaker.CircuitBreaker) -> None:
        super().__init__(wrapped)
        self.breaker = breaker
        self.loop: asyncio.AbstractEventLoop | None = None

    @asynccontextmanager
    async def _guarded(self) -> AsyncIterator[None]:
        self.loop = asyncio.get_running_loop()
        try:
            with self.breaker.calling():
                yield
        except pybreaker.CircuitBreakerError as error:
            raise CircuitOpen(self.model_name, f"the provider failed repeatedly; paused ({error})") from None

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        async with self._guarded():
            try:
                return await self.wrapped.request(messages, model_settings, model_request_parameters)
            except (TypeError, KeyError, AttributeError, IndexError, ValueError) as error:
                # A body the SDK accepted but the adapter cannot read (a server that is not quite the
                # provider): the model's failure, not a bug of deskops.
                raise UnexpectedModelBehavior(
                    f"unreadable response ({type(error).__name__}: {str(error)[:200]})"
                ) from error

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncIterator[StreamedResponse]:
        async with (
            self._guarded(),
            self.wrapped.request_stream(
                messages, model_settings, model_request_parameters, run_context
            ) as stream,
        ):
            yield stream


@dataclass
class LanguageModel:
    """A configured language model: the PydanticAI model deskops runs, and what it is called."""

    model: Model
    name: str
    """``provider:model``, as traces and answers show it."""
    priced: bool = False
    """True when genai-prices knows this model's prices, so a turn's cost can be counted and capped."""
    provider: Provider[Any] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, model: Model, name: str | None = None) -> LanguageModel:
        """Any PydanticAI model as deskops' model (tests: a ``FunctionModel``)."""
        return cls(model=model, name=name or f"{model.system}:{model.model_name}")

    def close(self) -> None:
        """Close the provider's HTTP client on the event loop the calls ran on (where its connections are)."""
        provider = self.provider
        loop = self.model.loop if isinstance(self.model, _Breaker) else None
        if provider is None or loop is None or loop.is_closed() or loop.is_running():
            return

        async def release() -> None:
            async with provider:  # leaving the provider closes the client it made
                pass

        loop.run_until_complete(release())


def build_model(settings: Settings) -> LanguageModel | None:
    """The model the settings configure (None offline); a missing name, key or URL is one clear error."""
    provider = settings.llm_provider
    if provider == "none":
        return None
    if not settings.llm_model:
        raise InvalidInput(f"DESKOPS_LLM_MODEL is required with DESKOPS_LLM_PROVIDER={provider}")
    name = settings.llm_model
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    base_url = settings.llm_base_url
    if base_url is not None:
        _check_url(base_url)
    model_settings = ModelSettings(
        temperature=0.0, timeout=settings.llm_timeout_s, max_retries=settings.llm_attempts - 1
    )
    made: Model
    made_by: Provider[Any]
    # Imported here: the SDKs are large, and an offline deskops never needs them.
    if provider == "anthropic":
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider

        if not key:
            raise InvalidInput("DESKOPS_LLM_API_KEY is required with DESKOPS_LLM_PROVIDER=anthropic")
        made_by = AnthropicProvider(api_key=key, base_url=base_url or ANTHROPIC_URL)
        made = AnthropicModel(name, provider=made_by, settings=model_settings)
    else:
        from pydantic_ai.models.openai import OpenAIChatModel

        if provider == "openai-compatible":
            from pydantic_ai.providers.openai_compatible import OpenAICompatibleProvider

            if not base_url:
                raise InvalidInput(
                    "DESKOPS_LLM_BASE_URL is required with DESKOPS_LLM_PROVIDER=openai-compatible"
                )
            made_by = OpenAICompatibleProvider("openai-compatible", base_url=base_url, api_key=key)
        else:
            from pydantic_ai.providers.openai import OpenAIProvider

            if not key:
                raise InvalidInput("DESKOPS_LLM_API_KEY is required with DESKOPS_LLM_PROVIDER=openai")
            made_by = OpenAIProvider(base_url=base_url or OPENAI_URL, api_key=key)
        made = OpenAIChatModel(name, provider=made_by, settings=model_settings)
    breaker = pybreaker.CircuitBreaker(
        fail_max=BREAKER_FAILURES,
        reset_timeout=BREAKER_RESET_S,
        exclude=[lambda error: not _provider_trouble(error)],
    )
    return LanguageModel(
        model=_Breaker(made, breaker),
        name=f"{provider}:{name}",
        priced=_priced(name, provider),
        provider=made_by,
    )


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"DESKOPS_LLM_BASE_URL must be an http(s) URL, not {url!r}")


def _priced(model: str, provider: str) -> bool:
    """Whether genai-prices knows what this model costs (a local server's model costs nothing it knows of)."""
    from genai_prices import Usage, calc_price

    if provider == "openai-compatible":
        return False
    try:
        calc_price(Usage(input_tokens=1, output_tokens=1), model, provider_id=provider)
    except (LookupError, ValueError):
        return False
    return True
