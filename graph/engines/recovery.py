"""Recover from the ways a Groq model call fails, and explain the ones we cannot.

Llama on Groq occasionally emits a malformed tool call, the free tier rate-limits
often, and the API has the odd 5xx; this module retries each of those the right
way and turns everything else into a `ModelCallError` a user can read.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import groq
import httpx
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig

logger = logging.getLogger(__name__)

TOOL_USE_FAILED = "tool_use_failed"
FAILED_GENERATION_LIMIT = 500
SERVER_ERROR_RETRY_DELAY = 1.0
_API_MESSAGE_LIMIT = 500

# Groq keys look like `gsk_...`; an API message should never echo one, but if it
# ever does, it must not reach a log line or an error shown to the user.
_SECRET_PATTERNS = (
    re.compile(r"gsk_[A-Za-z0-9_\-]+"),
    re.compile(r"(?i)bearer\s+\S+"),
)

Sleep = Callable[[float], Awaitable[object]]


class ModelCallError(Exception):
    """A model call failed in a way retrying did not (or could not) fix.

    The message is written for the user and never contains the API key, request
    headers or the conversation that was sent.
    """

    def __init__(
        self, message: str, *, status_code: int | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        """HTTP status of the failed call, or None for connection and stream errors."""
        self.code = code
        """The API's machine-readable error code (e.g. `rate_limit_exceeded`), if any."""


@dataclass(frozen=True)
class _Failure:
    """What we keep from an SDK error: enough to decide, nothing that holds the key."""

    kind: str  # "status", "connection", "timeout" or "stream"
    status_code: int | None
    code: str | None
    message: str
    failed_generation: str | None
    retry_after: float | None


def _redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub("[redacted]", text)
    return text


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _error_fields(body: object) -> Mapping[str, Any]:
    """Return the `error` object of a Groq error body (HTTP errors wrap it, stream errors don't)."""
    if isinstance(body, Mapping):
        inner = body.get("error")
        if isinstance(inner, Mapping):
            return inner
        return body
    return {}


def _parse_retry_after(headers: httpx.Headers) -> float | None:
    """Seconds the API asked us to wait, read the way the groq SDK reads them."""
    retry_ms = headers.get("retry-after-ms")
    if retry_ms is not None:
        try:
            return max(float(retry_ms) / 1000, 0.0)
        except ValueError:
            pass
    retry_after = headers.get("retry-after")
    if retry_after is None:
        return None
    try:
        return max(float(retry_after), 0.0)
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(retry_after)
    if parsed is None:
        return None
    return max(float(email.utils.mktime_tz(parsed) - time.time()), 0.0)


def _describe(err: groq.APIError) -> _Failure:
    fields = _error_fields(err.body)
    raw_message = fields.get("message")
    if not isinstance(raw_message, str) or not raw_message:
        raw_message = err.message
    message = _clip(_redact(raw_message.strip()), _API_MESSAGE_LIMIT)
    code = fields.get("code")
    failed_generation = fields.get("failed_generation")
    if isinstance(err, groq.APIStatusError):
        return _Failure(
            kind="status",
            status_code=err.status_code,
            code=code if isinstance(code, str) else None,
            message=message,
            failed_generation=failed_generation if isinstance(failed_generation, str) else None,
            retry_after=_parse_retry_after(err.response.headers),
        )
    if isinstance(err, groq.APIConnectionError):
        kind = "timeout" if isinstance(err, groq.APITimeoutError) else "connection"
    else:
        kind = "stream"  # an `error` event in the middle of a streamed response
    return _Failure(
        kind=kind,
        status_code=None,
        code=code if isinstance(code, str) else None,
        message=message,
        failed_generation=failed_generation if isinstance(failed_generation, str) else None,
        retry_after=None,
    )


def _tool_feedback(failure: _Failure) -> HumanMessage:
    generation = failure.failed_generation
    shown = _clip(generation, FAILED_GENERATION_LIMIT) if generation else "(not provided)"
    return HumanMessage(
        content=(
            f"Your previous tool call was malformed: {failure.message}; "
            f"failed generation: {shown}. "
            "Call the tool again with valid JSON arguments, or answer without tools."
        )
    )


def _seconds(value: float) -> str:
    return f"{value:g}s"


async def invoke_with_recovery(
    runnable: Any,
    messages: list[BaseMessage],
    *,
    config: RunnableConfig | None = None,
    max_rate_limit_retries: int = 3,
    max_wait: float = 60.0,
    sleep: Sleep = asyncio.sleep,
) -> Any:
    """Call `runnable.ainvoke(messages)` and recover from Groq's recoverable failures.

    `runnable` is a chat model, `model.bind_tools(...)` or
    `model.with_structured_output(...)`; the model must have the SDK's own retries
    off (see `build_groq_chat_model`), because this function does the retrying:

    - `tool_use_failed` (a malformed tool call): one retry with the error fed back
      to the model as a `HumanMessage`.
    - 429: wait for `retry-after-ms` / `retry-after` (else 1, 2, 4 s ...), at most
      `max_wait` seconds, up to `max_rate_limit_retries` times. A requested wait
      longer than `max_wait` fails at once instead of stalling the user.
    - 5xx, connection errors and timeouts: one retry after 1 s.
    - 401/403 and any other error: no retry.

    Every retry is logged at WARNING. Raises `ModelCallError` when the call cannot
    be made to succeed; its text names the cause and never contains the key.
    Exceptions that are not Groq API errors (e.g. an output parser rejecting the
    model's answer) propagate unchanged.
    """
    current = list(messages)
    rate_limit_retries = 0
    tool_retry_used = False
    transient_retry_used = False

    while True:
        try:
            return await runnable.ainvoke(current, config=config)
        except groq.APIError as err:
            # Keep only plain facts: the SDK error references the request, whose
            # headers carry the key, so it must not become this error's context.
            failure = _describe(err)

        status = failure.status_code

        if failure.code == TOOL_USE_FAILED:
            if tool_retry_used:
                raise ModelCallError(
                    "the Groq model produced a malformed tool call twice in a row: "
                    f"{failure.message}",
                    status_code=status,
                    code=failure.code,
                )
            tool_retry_used = True
            logger.warning(
                "Groq model produced a malformed tool call (%s); retrying once with the error fed back",
                failure.code,
            )
            current = [*current, _tool_feedback(failure)]
            continue

        if status == 429:
            if failure.retry_after is not None and failure.retry_after > max_wait:
                raise ModelCallError(
                    "the Groq model is rate-limited: the API asked to wait "
                    f"{_seconds(failure.retry_after)}, longer than the {_seconds(max_wait)} "
                    f"limit; try again later ({failure.message})",
                    status_code=status,
                    code=failure.code,
                )
            if rate_limit_retries >= max_rate_limit_retries:
                waited = (
                    f"retry-after {_seconds(failure.retry_after)}"
                    if failure.retry_after is not None
                    else "no retry-after given"
                )
                raise ModelCallError(
                    "the Groq model is rate-limited: gave up after "
                    f"{rate_limit_retries + 1} tries ({waited}): {failure.message}",
                    status_code=status,
                    code=failure.code,
                )
            rate_limit_retries += 1
            if failure.retry_after is not None:
                delay = failure.retry_after
            else:
                delay = 2.0 ** (rate_limit_retries - 1)
            delay = min(delay, max_wait)
            logger.warning(
                "Groq rate limit hit (429); retrying in %s (retry %d of %d)",
                _seconds(delay),
                rate_limit_retries,
                max_rate_limit_retries,
            )
            await sleep(delay)
            continue

        if status in (401, 403):
            raise ModelCallError(
                f"the Groq API rejected the key ({status}); check GROQ_API_KEY or the credential "
                "groq.api_key",
                status_code=status,
                code=failure.code,
            )

        transient = (status is not None and status >= 500) or failure.kind in (
            "connection",
            "timeout",
        )
        if transient:
            what = f"Groq returned {status}" if status is not None else _unreachable(failure)
            if transient_retry_used:
                raise ModelCallError(f"{what}: {failure.message}", status_code=status)
            transient_retry_used = True
            delay = min(SERVER_ERROR_RETRY_DELAY, max_wait)
            logger.warning("%s; retrying once in %s", what, _seconds(delay))
            await sleep(delay)
            continue

        if status is not None:
            raise ModelCallError(
                f"Groq returned {status}: {failure.message}", status_code=status, code=failure.code
            )
        raise ModelCallError(
            f"Groq reported an error while streaming: {failure.message}", code=failure.code
        )


def _unreachable(failure: _Failure) -> str:
    if failure.kind == "timeout":
        return "the Groq API did not answer in time"
    return "could not reach the Groq API"
