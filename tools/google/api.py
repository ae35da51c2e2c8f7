"""One blocking JSON client for Google's REST APIs (Gmail, Calendar) on a connected account.

Every call has a timeout; a 401 asks the account's tokens for a fresh one exactly once and
tries again; a 429 (or 503) waits as `Retry-After` asks, within the integrations' bounds
(`INTEGRATION_RETRIES`, `INTEGRATION_MAX_WAIT`). An error names the provider and the API's
own reason, never the token nor the URL's query. The mail and calendar code run it from
worker threads, as they do every other mailbox and calendar.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from tools.api_requests import NOT_SENT, RETRY_ANY, retry_after
from tools.config_checks import is_loopback_host
from tools.http import USER_AGENT, HttpSettings
from tools.oauth.tokens import AccessTokens, TokenError

logger = logging.getLogger(__name__)

RETRY_READS = frozenset({500, 502, 504})
"""Server errors worth asking again about, for requests that only read."""


class GoogleApiError(Exception):
    """A Google API call failed; the message names the API and why, `status` the HTTP status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def checked_base_url(url: str, *, variable: str) -> str:
    """An API base URL: https, or plain http to this machine only (a test server).

    Raises:
        GoogleApiError: the URL is not one of those; the message names `variable`.

    """
    url = url.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        raise GoogleApiError(f"{variable} has a bad host or port") from None
    if parts.scheme not in ("http", "https") or not host:
        raise GoogleApiError(f"{variable} must be an https:// URL with a host")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise GoogleApiError(
            f"{variable} uses plain http to {host}: the token would travel unencrypted; "
            "use https://"
        )
    if parts.query or parts.username or parts.password:
        raise GoogleApiError(f"{variable} must be a plain base URL (no login, no query)")
    return url


def path_part(value: str) -> str:
    """One id as a URL path segment (ids come from the API or the cache, never trusted)."""
    return quote(value, safe="")


class GoogleApi:
    """A Google REST API at `base_url`, called with the bearer token of `tokens`."""

    def __init__(
        self,
        base_url: str,
        tokens: AccessTokens,
        *,
        name: str,
        retry: HttpSettings | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.name = name
        """What errors call the API: `Gmail`, `Google Calendar`."""
        self.retry = retry or HttpSettings()
        self._transport = transport
        self._sleep = sleep
        self._client: httpx.Client | None = None
        self.calls: list[tuple[str, str]] = []
        """(method, path) of every request sent: what a test or benchmark counts."""

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=self.retry.timeout,
                follow_redirects=False,
                headers={"User-Agent": USER_AGENT},
                transport=self._transport,
            )
        return self._client

    def close(self) -> None:
        """Close the connections."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def _token(self, *, fresh: bool = False) -> str:
        try:
            return self.tokens.refreshed() if fresh else self.tokens.access_token()
        except TokenError as err:
            raise GoogleApiError(f"{self.name}: {err}") from err

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Call `path` (below the base URL) and return the JSON answer (None when empty).

        A 401 refreshes the token once; 429/503 are retried for every method (the request was
        refused, not done), other server errors only when `idempotent` (GET by default).

        Raises:
            GoogleApiError: the API refused or could not be reached; `status` says how.

        """
        response = self.exchange(method, path, params=params, json=body, idempotent=idempotent)
        if response.status_code >= 400:
            raise GoogleApiError(self.refusal(response, method, path), response.status_code)
        return response.json() if response.content else None

    def exchange(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one request as `request` does and return the last answer, whatever its status.

        For a body that is not JSON (`content`, with its `headers`): the Gmail batch endpoint.

        Raises:
            GoogleApiError: no answer came (transport), no token, or a wait beyond the bound.

        """
        if idempotent is None:
            idempotent = method == "GET"
        retried_auth = False
        token = self._token()
        attempt = 0
        while True:
            try:
                response = self._http().request(
                    method,
                    self.base_url + path,
                    params=params,
                    json=json,
                    content=content,
                    headers={**(headers or {}), "Authorization": f"Bearer {token}"},
                )
            except httpx.HTTPError as err:
                if attempt < self.retry.retries and (idempotent or isinstance(err, NOT_SENT)):
                    self.wait(attempt, None)
                    attempt += 1
                    continue
                raise GoogleApiError(f"{self.name}: {self._transport_reason(err)}") from None
            self.calls.append((method, path))
            status = response.status_code
            if status == 401 and not retried_auth:
                logger.info("%s: the token was refused; refreshing it once", self.name)
                retried_auth = True
                token = self._token(fresh=True)
                continue
            retryable = status in RETRY_ANY or (idempotent and status in RETRY_READS)
            if retryable and attempt < self.retry.retries:
                self.wait(attempt, retry_after(response))
                attempt += 1
                continue
            return response

    def refreshed_token(self) -> str:
        """A fresh token now (a part of a batch was refused): `GoogleApiError` if none."""
        return self._token(fresh=True)

    def wait(self, attempt: int, asked: float | None) -> None:
        """Sleep before the next attempt: `Retry-After` when given, else backoff with jitter.

        Raises:
            GoogleApiError: the API asked for a wait beyond `INTEGRATION_MAX_WAIT` (a 429).

        """
        if asked is not None and asked > self.retry.max_wait:
            raise GoogleApiError(
                f"{self.name} asked to wait {asked:g}s, longer than INTEGRATION_MAX_WAIT "
                f"({self.retry.max_wait:g}s); try again later",
                429,
            )
        if asked is None:
            asked = self.retry.backoff * 2**attempt + random.uniform(0, 0.1)
        delay = min(asked, self.retry.max_wait)
        logger.info("%s: waiting %.2fs before trying again", self.name, delay)
        self._sleep(delay)

    def refusal(self, response: httpx.Response, method: str, path: str) -> str:
        """`Gmail refused GET /users/me/messages: 404 Not Found (Requested entity …)`."""
        reason = ""
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            reason = str(data["error"].get("message") or "")
        elif isinstance(data, dict) and data.get("error"):
            reason = str(data.get("error_description") or data["error"])
        text = f"{response.status_code} {response.reason_phrase or ''}".strip()
        where = path.split("?")[0]
        detail = f" ({reason[:200]})" if reason else ""
        return f"{self.name} refused {method} {where}: {text}{detail}"

    def _transport_reason(self, err: httpx.HTTPError) -> str:
        host = urlsplit(self.base_url).hostname or self.base_url
        if isinstance(err, httpx.TimeoutException) and not isinstance(err, NOT_SENT):
            return f"{host} did not answer within {self.retry.timeout:g}s"
        if isinstance(err, httpx.ConnectError | httpx.ConnectTimeout):
            return f"cannot reach {host}"
        return f"{host}: {type(err).__name__}"
