"""Model providers on 127.0.0.1 that speak the real wire protocols, answering from a script.

The only stand-in deskops allows for a language model besides PydanticAI's ``FunctionModel``:
a local HTTP server that answers OpenAI Chat Completions (``POST /v1/chat/completions``,
``tool_calls`` included) or Anthropic Messages (``POST /v1/messages``, ``tool_use`` blocks
included) exactly as the providers do. Each request takes the next step of the script: a
fixed reply (status, headers, body, an optional delay) or a function of the request, so
rate limits, server errors, timeouts, malformed tool arguments and truncated output can
all be produced on demand, and every request is kept for the test to read.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer."""

    body: Any = None
    """A JSON document, or bytes sent as they are (malformed JSON)."""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    """Wait this long before answering (a timeout test)."""


@dataclass
class Received:
    """One request the server got."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


Step = Reply | Callable[[Received], Reply]


class ModelServer:
    """A scripted provider on a free port of 127.0.0.1 (``url`` is its base, without ``/v1``)."""

    def __init__(self) -> None:
        self.script: list[Step] = []
        self.requests: list[Received] = []
        self.errors: list[Exception] = []
        """What scripted steps raised (their checks on a request failed)."""
        self._released = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                received = Received(
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=json.loads(self.rfile.read(length) or b"{}"),
                )
                server.requests.append(received)
                step = server.script.pop(0) if server.script else Reply({"error": "unscripted"}, 500)
                try:
                    reply = step(received) if callable(step) else step
                except Exception as error:  # a scripted check failed: say so where the test can see it
                    server.errors.append(error)
                    reply = Reply({"error": f"the script failed: {error!r}"}, 500)
                if reply.delay_s:
                    server._released.wait(reply.delay_s)
                payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        # A short poll interval: shutdown() waits for the loop to notice (0.5 s by default).
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests]

    def close(self) -> None:
        self._released.set()  # a reply still waiting out its delay goes now
        self._server.shutdown()
        self._server.server_close()


# ------------------------------------------------------------------------------ OpenAI Chat Completions


def _usage(tokens: int) -> dict[str, int]:
    """``tokens`` in all, four fifths of them the prompt's (what a tool-heavy turn looks like)."""
    prompt = tokens * 4 // 5
    return {"prompt_tokens": prompt, "completion_tokens": tokens - prompt, "total_tokens": tokens}


def openai_text(text: str, *, finish: str = "stop", model: str = "test-model", tokens: int = 150) -> Reply:
    """A chat completion that answers in words."""
    return Reply(
        {
            "id": "chatcmpl-text",
            "object": "chat.completion",
            "created": 1_790_000_000,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": finish,
                }
            ],
            "usage": _usage(tokens),
        }
    )


def openai_tool_call(
    name: str,
    arguments: str,
    *,
    call_id: str = "call_1",
    finish: str = "tool_calls",
    model: str = "test-model",
    tokens: int = 150,
) -> Reply:
    """A chat completion that asks for one tool call; ``arguments`` is the raw JSON text the model wrote."""
    return Reply(
        {
            "id": f"chatcmpl-{call_id}",
            "object": "chat.completion",
            "created": 1_790_000_000,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": call_id,
                                "type": "function",
                                "function": {"name": name, "arguments": arguments},
                            }
                        ],
                    },
                    "finish_reason": finish,
                }
            ],
            "usage": _usage(tokens),
        }
    )


def openai_error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply({"error": {"message": message, "type": "error", "code": None}}, status, headers or {})


# ----------------------------------------------------------------------------------- Anthropic Messages


def anthropic_text(text: str, *, stop: str = "end_turn", model: str = "claude-test") -> Reply:
    """A Messages response that answers in words."""
    return Reply(
        {
            "id": "msg_text",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": 120, "output_tokens": 30},
        }
    )


def anthropic_tool_use(
    name: str, arguments: dict[str, Any], *, call_id: str = "toolu_1", model: str = "claude-test"
) -> Reply:
    """A Messages response that asks for one tool call (a ``tool_use`` block)."""
    return Reply(
        {
            "id": f"msg_{call_id}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [
                {"type": "text", "text": "Let me look that up."},
                {"type": "tool_use", "id": call_id, "name": name, "input": arguments},
            ],
            "stop_reason": "tool_use",
            "stop_sequence": None,
            "usage": {"input_tokens": 120, "output_tokens": 30},
        }
    )


def anthropic_error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply({"type": "error", "error": {"type": kind, "message": message}}, status, headers or {})
