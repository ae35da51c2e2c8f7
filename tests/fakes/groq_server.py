"""A local stand-in for Groq's OpenAI-compatible chat completions API.

Tests point `ChatGroq` at it through `base_url`, script what it answers, and then
assert on exactly what the client sent — over real HTTP, so the groq SDK's request
building and error mapping are exercised, not mocked.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

logger = logging.getLogger(__name__)

CHAT_COMPLETIONS_PATH = "/openai/v1/chat/completions"
"""Where the groq SDK posts: `base_url` + this path (base_url has no `/openai/v1`)."""

MODELS_PATH = "/openai/v1/models"
"""The models list: what the health check asks for."""

DEFAULT_MODEL = "llama-3.3-70b-versatile"


@dataclass(frozen=True)
class ScriptedResponse:
    """One answer the fake gives, in order, to the next chat completion request."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the fake received it; the Authorization value is not kept."""

    method: str
    path: str
    headers: dict[str, str]
    """Lower-cased header names, without `authorization`."""
    authorized: bool
    """Whether `Authorization` was exactly `Bearer <the expected key>`."""
    body: Any

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The `messages` array of a chat completion request."""
        return list(self.body.get("messages", []))


def completion(
    content: str | None = None,
    *,
    tool_calls: list[tuple[str, dict[str, Any]]] | None = None,
    model: str = DEFAULT_MODEL,
) -> ScriptedResponse:
    """A 200 chat completion, with text and/or tool calls given as `(name, args)` pairs."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    finish_reason = "stop"
    if tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{index}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
            for index, (name, arguments) in enumerate(tool_calls, start=1)
        ]
        finish_reason = "tool_calls"
    return ScriptedResponse(
        status=200,
        body={
            "id": f"chatcmpl-{uuid.uuid4()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
            ],
            "usage": {
                "queue_time": 0.01,
                "prompt_tokens": 42,
                "prompt_time": 0.002,
                "completion_tokens": 7,
                "completion_time": 0.02,
                "total_tokens": 49,
                "total_time": 0.022,
            },
            "system_fingerprint": "fp_fake",
            "x_groq": {"id": f"req_{uuid.uuid4().hex}"},
        },
    )


def error(
    status: int,
    message: str,
    *,
    type_: str,
    code: str | None,
    headers: dict[str, str] | None = None,
) -> ScriptedResponse:
    """An error response in Groq's `{"error": {...}}` shape."""
    payload: dict[str, Any] = {"message": message, "type": type_}
    if code is not None:
        payload["code"] = code
    return ScriptedResponse(status=status, body={"error": payload}, headers=dict(headers or {}))


def rate_limited(
    retry_after: float | None = 1, *, retry_after_ms: float | None = None
) -> ScriptedResponse:
    """A 429 like Groq's token-per-minute limit, with `retry-after` unless None."""
    headers = {
        "x-ratelimit-limit-tokens": "12000",
        "x-ratelimit-remaining-tokens": "0",
        "x-ratelimit-reset-tokens": "1s",
    }
    if retry_after is not None:
        headers["retry-after"] = f"{retry_after:g}"
    if retry_after_ms is not None:
        headers["retry-after-ms"] = f"{retry_after_ms:g}"
    return error(
        429,
        f"Rate limit reached for model `{DEFAULT_MODEL}` in organization `org_fake` service "
        "tier `on_demand` on tokens per minute (TPM): Limit 12000, Used 11950, "
        "Requested 420. Please try again in 1s.",
        type_="tokens",
        code="rate_limit_exceeded",
        headers=headers,
    )


def tool_use_failed(failed_generation: str) -> ScriptedResponse:
    """The 400 Groq returns when Llama emits a tool call it cannot parse."""
    response = error(
        400,
        "Failed to call a function. Please adjust your prompt. "
        "See 'failed_generation' for more details.",
        type_="invalid_request_error",
        code="tool_use_failed",
    )
    response.body["error"]["failed_generation"] = failed_generation
    return response


def invalid_api_key() -> ScriptedResponse:
    """The 401 Groq returns for a wrong key (also sent unscripted on a key mismatch)."""
    return error(401, "Invalid API Key", type_="invalid_request_error", code="invalid_api_key")


def server_error(status: int = 500) -> ScriptedResponse:
    """A 5xx as Groq sends it when something breaks on its side."""
    return error(
        status,
        "Internal Server Error. Please try again later.",
        type_="internal_server_error",
        code=None,
    )


class FakeGroqServer:
    """A real HTTP server on 127.0.0.1 speaking the chat completions API.

    Answers come from a queue filled with `script(...)`; a request arriving with an
    empty queue gets a 500 saying so, and a request with the wrong key gets Groq's
    401 without consuming the queue.
    """

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.requests: list[RecordedRequest] = []
        self._queue: deque[ScriptedResponse] = deque()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # so stop() returns promptly
            name="fake-groq-server",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        """The value to pass as `base_url` (no `/openai/v1`; the SDK appends it)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeGroqServer:
        """Start serving in a background thread."""
        self._thread.start()
        logger.debug("Fake Groq API listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def script(self, *responses: ScriptedResponse) -> None:
        """Queue responses for the next requests, in order."""
        with self._lock:
            self._queue.extend(responses)

    @property
    def unused_responses(self) -> int:
        """How many scripted responses were never requested."""
        with self._lock:
            return len(self._queue)

    def _record(self, request: RecordedRequest) -> ScriptedResponse:
        with self._lock:
            self.requests.append(request)
            if not request.authorized:
                return invalid_api_key()
            if request.method == "GET" and request.path == MODELS_PATH:
                # The models list answers by itself, unless a test scripted its answer.
                if self._queue:
                    return self._queue.popleft()
                return ScriptedResponse(200, {"object": "list", "data": [{"id": DEFAULT_MODEL}]})
            if request.path != CHAT_COMPLETIONS_PATH or request.method != "POST":
                return error(
                    404,
                    f"Unknown request URL: {request.method} {request.path}.",
                    type_="invalid_request_error",
                    code="unknown_url",
                )
            if isinstance(request.body, dict) and request.body.get("stream"):
                return error(
                    400,
                    "the fake Groq server does not implement streaming",
                    type_="invalid_request_error",
                    code="fake_unsupported",
                )
            if not self._queue:
                return server_error_with(
                    "fake Groq server: no scripted response left for this request"
                )
            return self._queue.popleft()


def server_error_with(message: str) -> ScriptedResponse:
    """A 500 carrying `message`; used when a test did not script enough responses."""
    return error(500, message, type_="internal_server_error", code=None)


def _make_handler(server: FakeGroqServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10

        def do_POST(self) -> None:
            self._handle()

        def do_GET(self) -> None:
            self._handle()

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body: Any = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                body = raw.decode("utf-8", "replace")
            headers = {
                name.lower(): value
                for name, value in self.headers.items()
                if name.lower() != "authorization"
            }
            recorded = RecordedRequest(
                method=self.command,
                path=self.path,
                headers=headers,
                authorized=self.headers.get("authorization") == f"Bearer {server.api_key}",
                body=body,
            )
            response = server._record(recorded)
            payload = json.dumps(response.body).encode()
            self.send_response(response.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.send_header("x-request-id", f"req_{uuid.uuid4().hex}")
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            logger.debug("fake groq: " + format, *args)

    return Handler
