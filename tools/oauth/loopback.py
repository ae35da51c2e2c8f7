"""The installed-app flow with a loopback redirect and PKCE (RFC 8252, RFC 7636).

The browser brings the authorization code back to a one-shot HTTP listener on 127.0.0.1 at a
random port; the `state` must match, and the code is only worth something with the PKCE
verifier that never left this process.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from tools.oauth.grants import Grant, OAuthError, token_request
from tools.oauth.providers import Client, Provider
from tools.oauth.tokens import TokenError

logger = logging.getLogger(__name__)

DEFAULT_WAIT = 300.0
"""Seconds the listener waits for the browser to come back."""
DONE_PAGE = (
    b"<!doctype html><title>Smart Inbox</title><p>Done: the account is connected. "
    b"You can close this tab.</p>"
)
FAILED_PAGE = b"<!doctype html><title>Smart Inbox</title><p>Not connected: see the terminal.</p>"


@dataclass(frozen=True)
class Pkce:
    """A PKCE verifier and its S256 challenge."""

    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        """A fresh verifier of 64 URL-safe characters (RFC 7636 allows 43 to 128)."""
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


def authorize_url(
    provider: Provider, client: Client, redirect_uri: str, state: str, pkce: Pkce
) -> str:
    """The URL the user opens to consent."""
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(provider.scopes),
        "state": state,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "access_type": "offline",
        "prompt": "consent",
    }
    return f"{provider.endpoint('authorize')}?{urlencode(query)}"


class _Redirect(HTTPServer):
    """A listener that keeps the first query string that carries the expected `state`."""

    state = ""
    query: dict[str, list[str]] | None = None


class _Handler(BaseHTTPRequestHandler):
    server: _Redirect

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        parts = urlsplit(self.path)
        if parts.path != "/":
            self.send_error(404)
            return
        query = parse_qs(parts.query)
        if query.get("state") != [self.server.state]:
            # Not the provider's answer to this flow (another page, a stale tab): keep waiting.
            self.send_error(400, "not the answer this sign-in waits for")
            return
        self.server.query = query
        page = DONE_PAGE if "code" in query else FAILED_PAGE
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        # The default writes the request line, with the authorization code, to stderr.
        logger.debug("the browser came back to the listener")


def run_loopback_flow(
    provider: Provider,
    client: Client,
    *,
    open_browser: bool = True,
    show: Callable[[str], None] = print,
    wait: float = DEFAULT_WAIT,
) -> Grant:
    """Ask the user's consent in a browser and exchange the code for a grant.

    Raises:
        TokenError: the user refused, the state did not match, the wait ran out, or the token
            endpoint refused the code.

    """
    pkce, state = Pkce.new(), secrets.token_urlsafe(24)
    port = provider.loopback_port()
    try:
        listener = _Redirect(("127.0.0.1", port), _Handler)
    except OSError as err:
        raise TokenError(
            f"{provider.label}: cannot listen for the browser on port {port} ({err.strerror}); "
            f"set SMART_INBOX_OAUTH_{provider.name.upper()}_REDIRECT_PORT to a free port "
            "registered in the app's callback URLs"
        ) from None
    listener.state = state
    redirect_uri = f"http://{provider.redirect_host}:{listener.server_port}/"
    url = authorize_url(provider, client, redirect_uri, state, pkce)
    try:
        show(f"Open this URL to connect your {provider.label} account:\n{url}")
        if open_browser:
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
        deadline = time.monotonic() + wait
        while listener.query is None:
            listener.timeout = deadline - time.monotonic()
            if listener.timeout <= 0:
                raise TokenError(f"{provider.label}: no answer from the browser in {wait:g}s")
            listener.handle_request()
        query = listener.query
    finally:
        listener.server_close()
    return _exchange(provider, client, query, state, redirect_uri, pkce)


def _exchange(
    provider: Provider,
    client: Client,
    query: dict[str, list[str]],
    state: str,
    redirect_uri: str,
    pkce: Pkce,
) -> Grant:
    if (query.get("state") or [""])[0] != state:
        raise TokenError(f"{provider.label}: the answer's state does not match; nothing was stored")
    if "error" in query:
        raise OAuthError(provider, query["error"][0], (query.get("error_description") or [""])[0])
    code = (query.get("code") or [""])[0]
    if not code:
        raise TokenError(f"{provider.label}: the browser brought back no authorization code")
    return token_request(
        provider,
        client,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": pkce.verifier,
        },
    )
