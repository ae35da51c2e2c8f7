"""Calls to Microsoft Graph with the account's bearer token: patient, bounded and discreet.

Every call has a timeout; a 429 or 503 is sent again after what `Retry-After` asks (never more
than `INTEGRATION_MAX_WAIT` a wait, at most `INTEGRATION_RETRIES` times); a 401 asks the token
store for a fresh token exactly once and tries again. A request that changes something is
never repeated when its outcome is unknown. Errors name Microsoft Graph and what failed, never
a token or a URL (a delta link carries the mailbox's sync state in its query).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from memory.redaction import remember_authorization, scrub
from tools.api_requests import retry_after
from tools.http import USER_AGENT, HttpSettings, service_url
from tools.oauth.tokens import AccessTokens, TokenError

logger = logging.getLogger(__name__)

GRAPH_API_VARIABLE = "SMART_INBOX_GRAPH_API"
DEFAULT_GRAPH_API = "https://graph.microsoft.com/v1.0"
PROVIDER = "Microsoft Graph"
RETRY_ANY = frozenset({429, 503})
"""Graph refused the request (throttled, busy): safe to send again, whatever it does."""
IMMUTABLE_IDS = 'IdType="ImmutableId"'
"""Asked for on every call: a message keeps its id when it moves, so the cache's key holds."""


class GraphError(Exception):
    """A Graph call that failed; the message names Microsoft Graph and says what and why."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        """Graph's own error code (`syncStateNotFound`, `ErrorItemNotFound`), '' if none."""


def graph_api_url(environ: Mapping[str, str] | None = None) -> str:
    """`SMART_INBOX_GRAPH_API`, else Graph's v1.0 endpoint; plain http only to this machine."""
    env = os.environ if environ is None else environ
    value = env.get(GRAPH_API_VARIABLE, "").strip() or DEFAULT_GRAPH_API
    return service_url(GRAPH_API_VARIABLE, value)


def error_code(response: httpx.Response) -> tuple[str, str]:
    """Graph's `error.code` and `error.message` of a failed answer ('' when it sent none)."""
    try:
        data = response.json()
    except ValueError:
        return "", " ".join(response.text.split())[:200]
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return "", ""
    return str(error.get("code") or ""), str(error.get("message") or "")[:200]


@dataclass
class GraphClient:
    """One account's calls to Graph. Blocking: async callers use `asyncio.to_thread`."""

    tokens: AccessTokens
    base_url: str = DEFAULT_GRAPH_API
    settings: HttpSettings = field(default_factory=HttpSettings)
    sleep: Callable[[float], None] = time.sleep
    transport: httpx.BaseTransport | None = None
    calls: int = 0
    """Requests sent (every attempt counts): what a benchmark of a re-sync reads."""
    _http: httpx.Client | None = field(default=None, repr=False)

    @classmethod
    def from_env(
        cls, tokens: AccessTokens, environ: Mapping[str, str] | None = None
    ) -> GraphClient:
        """A client for `tokens` at the configured endpoint, as patient as the integrations."""
        return cls(tokens, graph_api_url(environ), HttpSettings.from_env(environ))

    def url(self, path: str) -> str:
        """The full URL of an API path; a full URL (a next or delta link) must be Graph's own."""
        if path.startswith(("http://", "https://")):
            if not path.startswith(self.base_url + "/"):
                raise GraphError(f"{PROVIDER} sent a link to another server; it was not followed")
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        action: str,
        json: Any = None,
        content: bytes | None = None,
        content_type: str = "",
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request by the module's rules; a 2xx answer comes back, else `GraphError`."""
        url = self.url(path)
        idempotent = method.upper() in ("GET", "HEAD", "PATCH")
        refreshed = False
        attempt = 0
        http = self._connection()
        while True:
            headers = {"Authorization": f"Bearer {self._token(refreshed)}"}
            remember_authorization(headers["Authorization"], "microsoft graph token")
            if content_type:
                headers["Content-Type"] = content_type
            self.calls += 1
            try:
                response = http.request(
                    method,
                    url,
                    json=json,
                    content=content,
                    params=params,
                    headers=headers,
                    timeout=httpx.Timeout(self.settings.timeout),
                )
            except httpx.TransportError as err:
                self._give_up(err, action, idempotent, attempt)
                wait = self._backoff(attempt)
            else:
                if response.is_success:
                    return response
                if response.status_code == 401 and not refreshed:
                    logger.info("%s: the token was refused; refreshing it once", PROVIDER)
                    refreshed = True
                    continue
                wait = self._wait(response, action, idempotent, attempt)
            attempt += 1
            logger.info("%s: could not %s; trying again in %.2f s", PROVIDER, action, wait)
            self.sleep(wait)

    def json(self, method: str, path: str, *, action: str, **kwargs: Any) -> dict[str, Any]:
        """The JSON object of a successful answer (`{}` for an empty one)."""
        response = self.request(method, path, action=action, **kwargs)
        if not response.content:
            return {}
        try:
            data = response.json()
        except ValueError:
            raise GraphError(f"{PROVIDER} answered the request to {action} with no JSON") from None
        if not isinstance(data, dict):
            raise GraphError(f"{PROVIDER} answered the request to {action} with no JSON object")
        return data

    def _connection(self) -> httpx.Client:
        """The client kept for this account's calls (its connections and TLS context reused)."""
        if self._http is None or self._http.is_closed:
            self._http = httpx.Client(
                transport=self.transport,
                timeout=httpx.Timeout(self.settings.timeout),
                follow_redirects=False,
                headers={"User-Agent": USER_AGENT, "Prefer": IMMUTABLE_IDS},
            )
        return self._http

    def close(self) -> None:
        """Close the kept connections (a later call opens new ones)."""
        if self._http is not None:
            self._http.close()

    def _token(self, refreshed: bool) -> str:
        try:
            return self.tokens.refreshed() if refreshed else self.tokens.access_token()
        except TokenError as err:
            raise GraphError(f"{PROVIDER}: no usable sign-in: {err}") from err

    def _backoff(self, attempt: int) -> float:
        return float(min(self.settings.max_wait, self.settings.backoff * 2**attempt))

    def _give_up(
        self, err: httpx.TransportError, action: str, idempotent: bool, attempt: int
    ) -> None:
        """Raise unless the request may be sent again after `err`."""
        not_sent = isinstance(err, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        why = (
            f"no answer within {self.settings.timeout:g} s"
            if isinstance(err, httpx.TimeoutException)
            else f"the connection failed ({scrub(type(err).__name__)})"
        )
        if not not_sent and not idempotent:
            raise GraphError(
                f"{PROVIDER}: {why} after the request to {action} was sent, so it may or may "
                "not have happened (it was not sent again, so that it cannot happen twice)"
            ) from err
        if attempt >= self.settings.retries:
            raise GraphError(
                f"{PROVIDER} could not {action}: {why}; gave up after {attempt + 1} attempts"
            ) from err

    def _wait(self, response: httpx.Response, action: str, idempotent: bool, attempt: int) -> float:
        """Seconds to wait before sending again, or `GraphError` when it is not to be sent."""
        status = response.status_code
        code, message = error_code(response)
        detail = f": {message}" if message else ""
        why = scrub(f"{status} {code or response.reason_phrase}{detail}")
        if status == 401:
            raise GraphError(
                f"{PROVIDER} refused the sign-in even after a refresh ({why}); connect the "
                f"account again: `smart-inbox accounts add microsoft {self.tokens.account}`",
                status=status,
                code=code,
            )
        retryable = status in RETRY_ANY or (status >= 500 and idempotent)
        if not retryable:
            raise GraphError(f"{PROVIDER} could not {action}: {why}", status=status, code=code)
        wait = retry_after(response)
        if wait is not None and wait > self.settings.max_wait:
            raise GraphError(
                f"{PROVIDER} could not {action}: {why}; it asks to wait {wait:g} s, longer than "
                f"the {self.settings.max_wait:g} s allowed (INTEGRATION_MAX_WAIT)",
                status=status,
                code=code,
            )
        if attempt >= self.settings.retries:
            raise GraphError(
                f"{PROVIDER} could not {action}: {why}; gave up after {attempt + 1} attempts",
                status=status,
                code=code,
            )
        return self._backoff(attempt) if wait is None else wait
