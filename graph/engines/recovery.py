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
from typing import TYPE_CHECKING, Any

import httpx
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig

if TYPE_CHECKING:
    # The SDK is imported when a model is called: `ModelCallError` is caught by commands
    # (a triage with the rules engine) that call no model and need not load it.
    import groq

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


@dataclass
class _Retries:
    """The retries one call has used so far, and its limits for them."""

    max_rate_limit: int
    max_wait: float
    rate_limit: int = 0
    tool_call_used: bool = False
    transient_used: bool = False


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
    import groq

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
    import groq

    current = list(messages)
    retries = _Retries(max_rate_limit=max_rate_limit_retries, max_wait=max_wait)
    while True:
        try:
            return await runnable.ainvoke(current, config=config)
        except groq.APIError as err:
            # Keep only plain facts: the SDK error references the request, whose
            # headers carry the key, so it must not become this error's context.
            failure = _describe(err)
        if failure.code == TOOL_USE_FAILED:
            current = [*current, _tool_call_retry(failure, retries)]
        else:
            await sleep(_retry_delay(failure, retries))


def _tool_call_retry(failure: _Failure, retries: _Retries) -> HumanMessage:
    """The error fed back for the one retry of a malformed tool call; a second one fails."""
    if retries.tool_call_used:
        raise ModelCallError(
            f"the Groq model produced a malformed tool call twice in a row: {failure.message}",
            status_code=failure.status_code,
            code=failure.code,
        )
    retries.tool_call_used = True
    logger.warning(
        "Groq model produced a malformed tool call (%s); retrying once with the error fed back",
        failure.code,
    )
    return _tool_feedback(failure)


def _retry_delay(failure: _Failure, retries: _Retries) -> float:
    """Seconds to wait before trying again; raises `ModelCallError` when no retry is due."""
    status = failure.status_code
    if status == 429:
        return _rate_limit_delay(failure, retries)
    if status in (401, 403):
        raise ModelCallError(
            f"the Groq API rejected the key ({status}); check GROQ_API_KEY or the credential "
            "groq.api_key",
            status_code=status,
            code=failure.code,
        )
    if (status is not None and status >= 500) or failure.kind in ("connection", "timeout"):
        return _transient_delay(failure, retries)
    if status is not None:
        raise ModelCallError(
            f"Groq returned {status}: {failure.message}", status_code=status, code=failure.code
        )
    raise ModelCallError(
        f"Groq reported an error while streaming: {failure.message}", code=failure.code
    )


def _rate_limit_delay(failure: _Failure, retries: _Retries) -> float:
    """The wait a 429 asked for (else 1, 2, 4 s ...), within the call's limits, or the error.

    A requested wait longer than `max_wait` fails at once instead of stalling the user.
    """
    max_wait = retries.max_wait
    if failure.retry_after is not None and failure.retry_after > max_wait:
        raise ModelCallError(
            "the Groq model is rate-limited: the API asked to wait "
            f"{_seconds(failure.retry_after)}, longer than the {_seconds(max_wait)} "
            f"limit; try again later ({failure.message})",
            status_code=failure.status_code,
            code=failure.code,
        )
    if retries.rate_limit >= retries.max_rate_limit:
        waited = (
            f"retry-after {_seconds(failure.retry_after)}"
            if failure.retry_after is not None
            else "no retry-after given"
        )
        raise ModelCallError(
            "the Groq model is rate-limited: gave up after "
            f"{retries.rate_limit + 1} tries ({waited}): {failure.message}",
            status_code=failure.status_code,
            code=failure.code,
        )
    retries.rate_limit += 1
    if failure.retry_after is not None:
        delay = failure.retry_after
    else:
        delay = 2.0 ** (retries.rate_limit - 1)
    delay = min(delay, max_wait)
    logger.warning(
        "Groq rate limit hit (429); retrying in %s (retry %d of %d)",
        _seconds(delay),
        retries.rate_limit,
        retries.max_rate_limit,
    )
    return delay


def _transient_delay(failure: _Failure, retries: _Retries) -> float:
    """The one wait after a 5xx, a connection error or a timeout; a second one fails."""
    status = failure.status_code
    what = f"Groq returned {status}" if status is not None else _unreachable(failure)
    if retries.transient_used:
        raise ModelCallError(f"{what}: {failure.message}", status_code=status)
    retries.transient_used = True
    delay = min(SERVER_ERROR_RETRY_DELAY, retries.max_wait)
    logger.warning("%s; retrying once in %s", what, _seconds(delay))
    return delay


def _unreachable(failure: _Failure) -> str:
    if failure.kind == "timeout":
        return "the Groq API did not answer in time"
    return "could not reach the Groq API"
