"""A request to a service's API over the shared client: bounded retries and honest errors.

Retries follow one rule: a request is sent again only when sending it again cannot do a thing
twice.

- A connection that failed before the request went out (refused, no such host, connect
  timeout, no free connection) is retried for every request.
- 429 and 503 (the service refused the request, and may say with `Retry-After` when to come
  back) are retried for every request, waiting what `Retry-After` asks (seconds or an HTTP
  date) or an exponential backoff with jitter, never longer than `max_wait` per wait.
- Other 5xx answers, a timeout while waiting for the answer, or a connection dropped after
  the request was sent are retried only for idempotent requests (reads, and writes the service
  itself deduplicates). For any other request the outcome is unknown: it is reported as
  "may or may not have happened" and never repeated.

Errors name the integration and say why; they never carry a URL, a header or a token. Every
credential a request carries in a header is remembered (`memory.redaction`), and every answer
has the known secrets masked before any integration reads it: a service that repeats the token
in an error, or echoes it in a successful answer, hands back `[REDACTED:<name>]` instead.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from memory.redaction import SECRET_HEADER, remember_authorization, remember_secret, scrub
from tools.http import HttpSettings, shared_client
from tools.toolkit import ToolFailure

logger = logging.getLogger(__name__)


RETRY_ANY = frozenset({429, 503})
"""Statuses where the service refused the request: safe to send again, whatever it does."""
RETRY_IDEMPOTENT = frozenset({500, 502, 504})
"""Statuses where the service may have done part of the work: sent again only when idempotent."""
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors raised before any byte of the request left this machine."""
EXPLAIN_LIMIT = 300
"""Characters of a service's error body quoted in an error message."""
UNSAFE_TO_COPY = frozenset({"content-encoding", "content-length", "transfer-encoding"})
"""Response headers that no longer describe a body once it is decoded and rewritten."""


@dataclass(frozen=True)
class ApiRequest:
    """One call to a service, with what it is for (the words of its error messages)."""

    integration: str
    """The service as the user knows it: `Jira`, `Slack`, `webhook ops-bridge`."""
    method: str
    url: str
    action: str
    """What the request does, for messages: `create the issue`, `post the message`."""
    json: Any = None
    content: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    idempotent: bool | None = None
    """Safe to send twice; None means: only GET and HEAD are."""
    accept: frozenset[int] = frozenset()
    """Non-2xx statuses handed back to the caller instead of raised (HubSpot's 409)."""

    @property
    def is_idempotent(self) -> bool:
        """Whether the request may be repeated when its outcome is unknown."""
        if self.idempotent is not None:
            return self.idempotent
        return self.method.upper() in ("GET", "HEAD")


class IntegrationError(ToolFailure):
    """A service call that failed: the message says which service, what failed and why."""

    def __init__(
        self,
        integration: str,
        message: str,
        *,
        status: int | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.integration = integration
        self.status = status
        self.outcome_unknown = outcome_unknown


Explain = Callable[[httpx.Response], str]
Sleep = Callable[[float], Awaitable[None]]


def explain_body(response: httpx.Response) -> str:
    """A service's error body, short: JSON compacted, text as it is."""
    try:
        text = json.dumps(response.json(), ensure_ascii=False, separators=(",", ":"))
    except ValueError:
        text = " ".join(response.text.split())
    if len(text) > EXPLAIN_LIMIT:
        text = text[:EXPLAIN_LIMIT] + "…"
    return text or "(no details in the answer)"


def retry_after(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Seconds `Retry-After` asks to wait (delta-seconds or an HTTP date), or None."""
    raw = response.headers.get("retry-after", "").strip()
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _status_text(response: httpx.Response) -> str:
    return f"{response.status_code} {response.reason_phrase or ''}".strip()


def _scrub(text: str, request: ApiRequest) -> str:
    # Transport errors rarely name the URL, but a webhook URL can be a secret: never show it.
    return scrub(text.replace(request.url, "the service") if request.url else text)


def _remember_credentials(request: ApiRequest) -> None:
    """Remember what the request's headers carry, so an echo of it is masked."""
    for header, value in request.headers.items():
        if SECRET_HEADER.search(header):
            name = f"{request.integration} {header.lower()}"
            if header.lower().endswith("authorization"):
                remember_authorization(value, name)
            else:
                remember_secret(name, value)


def without_secrets(response: httpx.Response) -> httpx.Response:
    """The answer with every known secret masked in its body and headers (itself if clean).

    Done here, before any integration's `explain` cuts the body short: a cut through a secret
    would leave a piece no scrubber recognises.
    """
    text = response.text
    clean = scrub(text)
    headers = [(name, scrub(value)) for name, value in response.headers.multi_items()]
    if clean == text and headers == response.headers.multi_items():
        return response
    try:
        request: httpx.Request | None = response.request
    except RuntimeError:  # an answer built by hand (a mock transport) belongs to no request
        request = None
    encoding = response.encoding or "utf-8"
    return httpx.Response(
        response.status_code,
        headers=[(n, v) for n, v in headers if n.lower() not in UNSAFE_TO_COPY],
        content=clean.encode(encoding, errors="replace"),
        request=request,
    )


def _unknown(request: ApiRequest, why: str, status: int | None = None) -> IntegrationError:
    return IntegrationError(
        request.integration,
        f"{request.integration}: {why} after the request to {request.action} was sent, so it "
        f"may or may not have happened; check {request.integration} before trying again "
        "(it was not retried, so that it cannot happen twice)",
        status=status,
        outcome_unknown=True,
    )


def _failed(request: ApiRequest, why: str, status: int | None = None) -> IntegrationError:
    return IntegrationError(
        request.integration,
        f"{request.integration} could not {request.action}: {why}",
        status=status,
    )


async def send(
    request: ApiRequest,
    settings: HttpSettings,
    *,
    explain: Explain = explain_body,
    client: httpx.AsyncClient | None = None,
    sleep: Sleep = asyncio.sleep,
) -> httpx.Response:
    """Send with retries by the module's rule; a 2xx (or an `accept`ed status) comes back.

    Everything else raises `IntegrationError`, whose `outcome_unknown` says whether a request
    that changes something may have done so anyway.
    """
    http = client or await shared_client()
    _remember_credentials(request)
    attempt = 0
    while True:
        try:
            response = await http.request(
                request.method,
                request.url,
                json=request.json,
                content=request.content,
                headers=dict(request.headers),
                timeout=httpx.Timeout(settings.timeout),
            )
        except httpx.TransportError as err:
            _give_up_after_transport_error(err, request, settings, attempt)
            wait = None
        else:
            response = without_secrets(response)
            if 200 <= response.status_code < 300 or response.status_code in request.accept:
                return response
            wait = _wait_before_retry(response, request, settings, attempt, explain)
        if wait is None:
            wait = min(settings.max_wait, settings.backoff * 2**attempt + random.uniform(0, 0.25))
        attempt += 1
        logger.info(
            "%s: attempt %d to %s failed; retrying in %.2f s",
            request.integration,
            attempt,
            request.action,
            wait,
        )
        await sleep(wait)


def _give_up_after_transport_error(
    err: httpx.TransportError, request: ApiRequest, settings: HttpSettings, attempt: int
) -> None:
    """Raise unless the request may be sent again after `err` (it returns: retry)."""
    if isinstance(err, NOT_SENT):
        why = f"could not connect ({_scrub(str(err) or type(err).__name__, request)})"
    elif isinstance(err, httpx.TimeoutException):
        why = f"no answer within {settings.timeout:g} s"
        if not request.is_idempotent:
            raise _unknown(request, why) from err
    else:
        why = f"the connection failed ({_scrub(str(err) or type(err).__name__, request)})"
        if not request.is_idempotent:
            raise _unknown(request, why) from err
    if attempt >= settings.retries:
        raise _failed(request, f"{why}; gave up after {attempt + 1} attempts") from err


def _wait_before_retry(
    response: httpx.Response,
    request: ApiRequest,
    settings: HttpSettings,
    attempt: int,
    explain: Explain,
) -> float | None:
    """How long to wait before sending again after a failed answer (None: back off).

    Raises `IntegrationError` when the answer is not one to retry, or no attempt is left.
    """
    status = response.status_code
    why = f"{_status_text(response)}: {explain(response)}"
    retryable = status in RETRY_ANY or (status in RETRY_IDEMPOTENT and request.is_idempotent)
    if status in RETRY_IDEMPOTENT and not request.is_idempotent:
        raise _unknown(request, f"it answered {why}", status)
    if not retryable:
        if 300 <= status < 400:
            why = f"{_status_text(response)} (a redirect, which is not followed)"
        raise _failed(request, why, status)
    wait = retry_after(response)
    if wait is not None and wait > settings.max_wait:
        raise _failed(
            request,
            f"{why}; it asks to wait {wait:g} s, longer than the {settings.max_wait:g} s "
            "allowed (INTEGRATION_MAX_WAIT); try again later",
            status,
        )
    if attempt >= settings.retries:
        raise _failed(request, f"{why}; gave up after {attempt + 1} attempts", status)
    return wait


def json_of(response: httpx.Response, request: ApiRequest) -> Any:
    """The JSON of a successful answer; `IntegrationError` when the service sent something else."""
    try:
        return response.json()
    except ValueError:
        raise IntegrationError(
            request.integration,
            f"{request.integration} answered the request to {request.action} with something "
            f"that is not JSON ({_status_text(response)}); it may or may not have happened",
            status=response.status_code,
            outcome_unknown=not request.is_idempotent,
        ) from None
