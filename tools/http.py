"""One shared HTTP client for every integration and the calendar, and how patient it is.

Connections are bound to the event loop that opened them, so each loop has one client; URLs
that are themselves credentials (a Teams or webhook URL) never reach a log line, and a
token never travels in clear text to another machine.
"""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

USER_AGENT = "smart-inbox-agent/0.1"


class HttpSettingsError(ValueError):
    """An `INTEGRATION_*` variable that cannot be used; the message names it."""


@dataclass(frozen=True)
class HttpSettings:
    """How patient the integrations are; from `INTEGRATION_TIMEOUT`, `_RETRIES`, `_MAX_WAIT`."""

    timeout: float = 20.0
    """Seconds for one attempt: connecting, sending, or waiting for the answer."""
    retries: int = 3
    """Attempts after the first one."""
    max_wait: float = 30.0
    """Longest single wait between attempts; a `Retry-After` asking for more is given up on."""
    backoff: float = 0.5
    """First backoff without `Retry-After`; doubled each attempt, plus jitter."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HttpSettings:
        """Read the three variables; a bad value is a one-line error naming it."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, key, kind in (
            ("INTEGRATION_TIMEOUT", "timeout", float),
            ("INTEGRATION_RETRIES", "retries", int),
            ("INTEGRATION_MAX_WAIT", "max_wait", float),
        ):
            raw = env.get(name, "").strip()
            if not raw:
                continue
            try:
                value = kind(raw)
            except ValueError:
                raise HttpSettingsError(f"{name} must be a number, not {raw!r}") from None
            if value < 0 or (key == "timeout" and value == 0):
                raise HttpSettingsError(f"{name} must be positive, not {raw!r}")
            values[key] = value
        return cls(**values)


_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)
_SECRET_URLS: set[str] = set()


def _new_client() -> httpx.AsyncClient:
    # Loads the CA bundle from disk: callers on an event loop run this in a thread.
    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        timeout=httpx.Timeout(HttpSettings().timeout),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
    )


async def shared_client() -> httpx.AsyncClient:
    """The one client of this event loop (connections are bound to the loop that opened them)."""
    loop = asyncio.get_running_loop()
    client = _CLIENTS.get(loop)
    if client is None or client.is_closed:
        created = await asyncio.to_thread(_new_client)
        client = _CLIENTS.get(loop)
        if client is None or client.is_closed:
            _CLIENTS[loop] = client = created
            _hide_secret_urls_in_logs()
        else:
            await created.aclose()
    return client


async def close_shared_clients() -> None:
    """Close this loop's client (at shutdown, or at the end of a command)."""
    client = _CLIENTS.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()


def register_secret_url(url: str) -> None:
    """A URL that is itself a credential (a Teams or webhook URL): never written to a log."""
    if url:
        _SECRET_URLS.add(url)


class _HideSecretUrls(logging.Filter):
    """httpx logs every request's URL at INFO; secret URLs are replaced before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRET_URLS and isinstance(record.args, tuple):
            record.args = tuple(_hidden(arg) for arg in record.args)
        return True


def _hidden(value: Any) -> Any:
    text = str(value)
    for secret in _SECRET_URLS:
        if secret in text:
            return "[a secret URL]"
    return value


def _hide_secret_urls_in_logs() -> None:
    for name in ("httpx", "httpcore"):
        target = logging.getLogger(name)
        if not any(isinstance(f, _HideSecretUrls) for f in target.filters):
            target.addFilter(_HideSecretUrls())


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def service_url(variable: str, value: str) -> str:
    """A configured service URL: https, or plain http only to this machine; no trailing slash.

    A token is never sent in clear text to another machine. `HttpSettingsError` names the
    variable when the URL cannot be used.
    """
    url = value.strip().rstrip("/")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        # The value itself is not repeated: some of these URLs are credentials.
        raise HttpSettingsError(f"{variable} is not a valid URL") from None
    if parsed.scheme not in ("https", "http") or not parsed.host:
        raise HttpSettingsError(f"{variable} must be an https:// URL")
    if parsed.scheme == "http" and parsed.host not in LOOPBACK_HOSTS:
        raise HttpSettingsError(
            f"{variable} must use https:// (plain http is only allowed to 127.0.0.1 or localhost)"
        )
    return url
