"""The device authorization grant (RFC 8628): consent on another device, for a headless host.

The user opens a short URL anywhere and types a code; this process polls the token endpoint at
the interval the provider asks for, slowing down when told, until consent, refusal or expiry.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tools.oauth.grants import Grant, OAuthError, http_client, token_request
from tools.oauth.providers import Client, Provider
from tools.oauth.tokens import TokenError

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_STEP = 5.0
"""Seconds RFC 8628 adds to the interval on each `slow_down`."""


def _authorize(provider: Provider, client: Client) -> dict[str, object]:
    url = provider.endpoint("device")
    if not url:
        raise TokenError(f"{provider.label} offers no device code flow: leave out --device")
    try:
        with http_client() as http:
            response = http.post(
                url, data={"client_id": client.client_id, "scope": " ".join(provider.scopes)}
            )
    except httpx.HTTPError as err:
        raise TokenError(
            f"{provider.label} OAuth: cannot reach the server ({type(err).__name__})"
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict) or "device_code" not in body:
        error = body.get("error", response.status_code) if isinstance(body, dict) else "no JSON"
        raise OAuthError(provider, str(error), "the device authorization was refused")
    return body


def run_device_flow(
    provider: Provider,
    client: Client,
    *,
    show: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Grant:
    """Show the user code, then poll until the user consents.

    Raises:
        TokenError: refused (`access_denied`), expired (`expired_token`) or another error.

    """
    body = _authorize(provider, client)
    uri = body.get("verification_uri") or body.get("verification_url")
    show(
        f"To connect your {provider.label} account, open {uri} "
        f"and enter the code {body['user_code']}"
    )
    interval = float(body.get("interval") or 5)  # type: ignore[arg-type]
    deadline = clock() + float(body.get("expires_in") or 900)  # type: ignore[arg-type]
    data = {"grant_type": DEVICE_GRANT, "device_code": str(body["device_code"])}
    while True:
        sleep(interval)
        if clock() > deadline:
            raise TokenError(f"{provider.label}: the code expired before it was entered; try again")
        try:
            return token_request(provider, client, data)
        except OAuthError as err:
            if err.error == "authorization_pending":
                continue
            if err.error == "slow_down":
                interval += SLOW_DOWN_STEP
                continue
            if err.error == "expired_token":
                raise TokenError(
                    f"{provider.label}: the code expired before it was entered; try again"
                ) from None
            raise
