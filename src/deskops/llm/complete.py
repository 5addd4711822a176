"""One model call with no tools: a system prompt and a user turn in, text out.

The front-line agent words an answer with it and a proposal's refinement edits a change
set with it. It goes through the same PydanticAI model as the Operator's loop
(``pydantic_ai.direct.model_request_sync``), so the same providers, retries, timeouts and
circuit breaker apply; an answer cut off at the token limit or without text is a
``ModelFailure`` too, and the caller falls back to something safe.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic_ai.direct import model_request_sync
from pydantic_ai.messages import ModelRequest, SystemPromptPart, TextPart, UserPromptPart
from pydantic_ai.settings import ModelSettings

from deskops.llm.models import LanguageModel, ModelFailure, failure_of


@dataclass(frozen=True)
class Completion:
    """What the model answered, and what it cost in tokens."""

    text: str
    model: str
    input_tokens: int | None = None
    output_tokens: int | None = None


def complete(model: LanguageModel, *, system: str, prompt: str, max_tokens: int = 600) -> Completion:
    """The model's answer to ``prompt`` under ``system``; ``ModelFailure`` when there is no usable one."""
    request = ModelRequest(parts=[SystemPromptPart(system), UserPromptPart(prompt)])
    try:
        response = model_request_sync(
            model.model, [request], model_settings=ModelSettings(max_tokens=max_tokens)
        )
    except Exception as error:
        failure = failure_of(error)
        if failure is None:
            raise
        raise failure from None
    if response.finish_reason == "length":
        raise ModelFailure("truncated", f"the answer was cut off at {max_tokens} tokens")
    texts = [part.content for part in response.parts if isinstance(part, TextPart)]
    if not texts:
        raise ModelFailure("malformed", "the answer holds no text")
    return Completion(
        text="".join(texts),
        model=model.name,
        input_tokens=response.usage.input_tokens,
        output_tokens=response.usage.output_tokens,
    )
