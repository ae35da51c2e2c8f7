"""Talking to a provider's token, revocation and userinfo endpoints (RFC 6749, 7009).

Small synchronous calls on httpx: the command line and `VaultTokens` run them, async code
through `asyncio.to_thread`. Every token an answer carries is remembered for scrubbing before
anything else sees it, and errors name the provider and the OAuth error code, never a token or
a URL's query.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from memory.redaction import remember_secret
from tools.http import USER_AGENT, HttpSettings
from tools.oauth.providers import Client, Provider
from tools.oauth.tokens import TokenError

logger = logging.getLogger(__name__)

EXPIRY_MARGIN = 60.0
"""Seconds before its expiry at which an access token is refreshed."""


class OAuthError(TokenError):
    """The provider answered with an OAuth error (`invalid_grant`, `slow_down`, …)."""

    def __init__(self, provider: Provider, error: str, description: str = "") -> None:
        detail = f": {description[:200]}" if description else ""
        super().__init__(f"{provider.label} OAuth error {error}{detail}")
        self.error = error


@dataclass(frozen=True)
class Grant:
    """What a token endpoint granted, with when the access token expires."""

    access_token: str = field(repr=False)
    refresh_token: str = field(default="", repr=False)
    expires_at: float = 0.0
    """Unix time; 0 when the provider said nothing (then the token is used until a 401)."""
    scopes: tuple[str, ...] = ()
    instance_url: str = ""
    """Where the account's API lives, when the token endpoint says (Salesforce's
    `instance_url`); empty for providers with one fixed API host."""

    def fresh(self, now: float | None = None) -> bool:
        """Whether the access token is good for more than `EXPIRY_MARGIN` seconds."""
        if not self.expires_at:
            return True
        return (time.time() if now is None else now) < self.expires_at - EXPIRY_MARGIN

    def after_refresh(self, newer: Grant) -> Grant:
        """The grant after a refresh: a provider may keep the refresh token (then the old one).

        The instance URL is kept the same way when the refresh names none.
        """
        return replace(
            newer,
            refresh_token=newer.refresh_token or self.refresh_token,
            instance_url=newer.instance_url or self.instance_url,
        )


def http_client() -> httpx.Client:
    """A short-lived client for one OAuth exchange, as patient as the integrations."""
    return httpx.Client(
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        timeout=httpx.Timeout(HttpSettings.from_env().timeout),
        follow_redirects=False,
    )


def _post(provider: Provider, url: str, data: dict[str, str]) -> httpx.Response:
    try:
        with http_client() as client:
            return client.post(url, data=data)
    except httpx.HTTPError as err:
        raise TokenError(
            f"{provider.label} OAuth: cannot reach the server ({type(err).__name__})"
        ) from None


def _json(provider: Provider, response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise TokenError(f"{provider.label} OAuth: HTTP {response.status_code}, not a JSON answer")
    return body


def token_request(provider: Provider, client: Client, data: dict[str, str]) -> Grant:
    """POST `data` (a grant) to the token endpoint and return the grant, else `OAuthError`."""
    form = {**data, "client_id": client.client_id}
    if client.client_secret:
        form["client_secret"] = client.client_secret
    response = _post(provider, provider.endpoint("token"), form)
    body = _json(provider, response)
    for name in ("access_token", "refresh_token", "id_token"):
        if isinstance(body.get(name), str):
            remember_secret(f"oauth.{name}", body[name])
    if response.status_code != 200 or "error" in body:
        raise OAuthError(
            provider,
            str(body.get("error", response.status_code)),
            str(body.get("error_description", "")),
        )
    if not isinstance(body.get("access_token"), str):
        raise TokenError(f"{provider.label} OAuth: the answer holds no access token")
    expires_in = body.get("expires_in")
    return Grant(
        access_token=body["access_token"],
        refresh_token=str(body.get("refresh_token") or ""),
        expires_at=time.time() + float(expires_in) if expires_in else 0.0,
        scopes=tuple(str(body.get("scope", "")).split()),
        instance_url=str(body.get("instance_url") or ""),
    )


def refresh_grant(
    provider: Provider, client: Client, grant: Grant, scopes: tuple[str, ...] = ()
) -> Grant:
    """A new access token for `grant`'s refresh token (RFC 6749 section 6).

    `scopes`, when given, name what the token is for: a provider that issues a token for one
    resource (Microsoft) redeems the same refresh token for whichever consented resource the
    scopes belong to.
    """
    if not grant.refresh_token:
        raise OAuthError(provider, "invalid_grant", "no refresh token was granted")
    form = {"grant_type": "refresh_token", "refresh_token": grant.refresh_token}
    if scopes:
        form["scope"] = " ".join(scopes)
    newer = token_request(provider, client, form)
    logger.info("refreshed the %s access token", provider.label)
    return grant.after_refresh(newer)


def revoke_grant(provider: Provider, client: Client, grant: Grant) -> bool:
    """Revoke the refresh token (else the access token) at the RFC 7009 endpoint.

    Returns False when the provider has no revocation endpoint. A token the server does not
    know is revoked already (RFC 7009 answers 200 for it too).
    """
    url = provider.endpoint("revoke")
    if not url:
        return False
    token, hint = (
        (grant.refresh_token, "refresh_token")
        if grant.refresh_token
        else (grant.access_token, "access_token")
    )
    form = {"token": token, "token_type_hint": hint, "client_id": client.client_id}
    if client.client_secret:
        form["client_secret"] = client.client_secret
    response = _post(provider, url, form)
    if response.status_code not in (200, 400):
        raise TokenError(f"{provider.label} OAuth: revocation failed (HTTP {response.status_code})")
    return True


def granted_address(provider: Provider, access_token: str) -> str:
    """The mail address the grant is for, from the provider's userinfo (or Graph's /me)."""
    try:
        with http_client() as client:
            response = client.get(
                provider.endpoint("userinfo"), headers={"Authorization": f"Bearer {access_token}"}
            )
    except httpx.HTTPError as err:
        raise TokenError(
            f"{provider.label}: cannot read the account's address ({type(err).__name__})"
        ) from None
    body = _json(provider, response)
    if response.status_code != 200:
        raise TokenError(
            f"{provider.label}: cannot read the account's address (HTTP {response.status_code})"
        )
    address = body.get("email") or body.get("mail") or body.get("userPrincipalName")
    if not isinstance(address, str) or "@" not in address:
        raise TokenError(f"{provider.label}: the granted account has no mail address")
    return address
