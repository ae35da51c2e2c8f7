"""A local OAuth 2.0 authorization server: the shapes of Google's and Microsoft's endpoints.

`/authorize` shows a consent page with Approve and Deny buttons and redirects back with a code
(or `error=access_denied`); `/token` takes the authorization code (checking the PKCE verifier
and the redirect URI), a refresh token and the device code (RFC 8628: `authorization_pending`,
`slow_down`, `expired_token`); `/device` starts a device authorization; `/revoke` (RFC 7009)
forgets a token; `/userinfo` and `/introspect` (RFC 7662) say whose a token is. Access tokens
expire after `access_ttl` seconds.

A refresh may name `scope`: only scopes consented with the refresh token (else `invalid_scope`).
With `one_resource=True` the server follows Microsoft's rule: an access token is for the resource
of the first scope it was issued for (`https://graph.microsoft.com`, `https://outlook.office.com`),
introspection says so (`aud`), and `/userinfo` (Graph's `/me`) takes only Graph tokens. With
`rotate_refresh=True` every refresh returns a new refresh token and forgets the old one — stricter
than Microsoft, so a test proves the newest one is always used.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.fakes.http_api import FakeApi, Recorded, Reply

ENDPOINTS = {
    "authorize": "/authorize",
    "token": "/token",
    "revoke": "/revoke",
    "device": "/device",
    "userinfo": "/userinfo",
}


GRAPH = "https://graph.microsoft.com"
OUTLOOK = "https://outlook.office.com"


def resource_of(scope: str) -> str:
    """The resource a scope belongs to (`https://host`); '' for one like `offline_access`."""
    if "://" not in scope:
        return ""
    parts = urlsplit(scope)
    return f"{parts.scheme}://{parts.netloc}"


def oauth_error(error: str, status: int = 400) -> Reply:
    """An RFC 6749 error answer."""
    return Reply(status, {"error": error, "error_description": f"fake: {error}"})


@dataclass
class DeviceCode:
    """One pending device authorization."""

    user_code: str
    expires_at: float
    scope: str = ""
    approved: bool = False
    last_poll: float = 0.0


class FakeOAuth(FakeApi):
    """One user (`address`) and one registered client (`client_id`, optional secret)."""

    name = "fake oauth"

    def __init__(
        self,
        *,
        address: str = "dana@example.com",
        client_id: str = "test-client",
        client_secret: str = "",
        access_ttl: float = 3600.0,
        device_interval: int = 1,
        one_resource: bool = False,
        rotate_refresh: bool = False,
    ) -> None:
        super().__init__()
        self.address = address
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_ttl = access_ttl
        self.device_interval = device_interval
        self.one_resource = one_resource
        self.rotate_refresh = rotate_refresh
        self.codes: dict[str, tuple[str, str, str]] = {}
        """code → (redirect_uri, PKCE challenge, scope)."""
        self.access: dict[str, float] = {}
        """Live access token → expiry."""
        self.refresh: set[str] = set()
        self.consented: dict[str, str] = {}
        """Refresh token → the scopes consented with it."""
        self.resources: dict[str, str] = {}
        """Access token → the resource it is for ('' when not bound to one)."""
        self.revoked: set[str] = set()
        self.devices: dict[str, DeviceCode] = {}

    def endpoints(self, provider: str) -> dict[str, str]:
        """The `SMART_INBOX_OAUTH_<PROVIDER>_*_URL` variables that point `provider` here."""
        upper = provider.upper()
        return {
            f"SMART_INBOX_OAUTH_{upper}_{which.upper()}_URL": self.base_url + path
            for which, path in ENDPOINTS.items()
        }

    def approve_device(self, user_code: str) -> None:
        """The user typed `user_code` on another device and consented."""
        for device in self.devices.values():
            if device.user_code == user_code:
                device.approved = True

    def revoke_everything(self) -> None:
        """Revoke every refresh and access token (the user removed the app's access)."""
        self.revoked |= self.refresh | set(self.access)
        self.refresh.clear()
        self.access.clear()

    def serve(self, request: Recorded) -> Reply:
        """Route to the endpoint."""
        form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
        routes = {
            ("GET", "/authorize"): lambda: self._consent_page(request),
            ("GET", "/authorize/decide"): lambda: self._decide(request),
            ("POST", "/token"): lambda: self._token(form),
            ("POST", "/device"): lambda: self._device(form),
            ("POST", "/revoke"): lambda: self._revoke(form),
            ("GET", "/userinfo"): lambda: self._userinfo(request),
            ("POST", "/introspect"): lambda: self._introspect(form),
        }
        route = routes.get((request.method, request.path))
        return route() if route else Reply(404, {"error": "not_found"})

    # -- authorization code -------------------------------------------------------------

    def _consent_page(self, request: Recorded) -> Reply:
        query = {k: v[-1] for k, v in request.query.items()}
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return Reply(400, "unknown client or response type")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return Reply(400, "PKCE S256 is required")
        hidden = urlencode(query)
        page = (
            "<!doctype html><title>Consent</title>"
            f"<p>Allow the app to read and send mail as {html.escape(self.address)}?</p>"
            f"<p>Scopes: {html.escape(query.get('scope', ''))}</p>"
            f'<a href="/authorize/decide?{html.escape(hidden)}&amp;decision=approve">'
            "<button>Approve</button></a> "
            f'<a href="/authorize/decide?{html.escape(hidden)}&amp;decision=deny">'
            "<button>Deny</button></a>"
        )
        return Reply(200, page, {"Content-Type": "text/html; charset=utf-8"})

    def _decide(self, request: Recorded) -> Reply:
        query = {k: v[-1] for k, v in request.query.items()}
        redirect = query["redirect_uri"]
        if query.get("decision") != "approve":
            answer = {"error": "access_denied", "state": query.get("state", "")}
        else:
            code = secrets.token_urlsafe(16)
            self.codes[code] = (redirect, query["code_challenge"], query.get("scope", ""))
            answer = {"code": code, "state": query.get("state", "")}
        return Reply(302, None, {"Location": f"{redirect}?{urlencode(answer)}"})

    # -- token endpoint -----------------------------------------------------------------

    def _client_ok(self, form: dict[str, str]) -> bool:
        if form.get("client_id") != self.client_id:
            return False
        return not self.client_secret or form.get("client_secret") == self.client_secret

    def _token(self, form: dict[str, str]) -> Reply:
        if not self._client_ok(form):
            return oauth_error("invalid_client", 401)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self._code_grant(form)
        if grant == "refresh_token":
            return self._refresh_grant(form)
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            return self._device_grant(form)
        return oauth_error("unsupported_grant_type")

    def _code_grant(self, form: dict[str, str]) -> Reply:
        found = self.codes.pop(form.get("code", ""), None)
        if found is None:
            return oauth_error("invalid_grant")
        redirect, challenge, scope = found
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != challenge:
            return oauth_error("invalid_grant")
        if form.get("redirect_uri") != redirect:
            return oauth_error("invalid_grant")
        return Reply(200, self._issue(refresh=True, scope=scope))

    def _refresh_grant(self, form: dict[str, str]) -> Reply:
        token = form.get("refresh_token", "")
        if token not in self.refresh:
            return oauth_error("invalid_grant")
        consented = self.consented.get(token, "")
        asked = form.get("scope", "")
        if asked and consented and not set(asked.split()) <= set(consented.split()):
            return oauth_error("invalid_scope")
        if self.rotate_refresh:
            self.refresh.discard(token)
            self.consented.pop(token, None)
        scope = (asked or consented) if self.one_resource else ""
        answer = self._consented(self._issue(refresh=self.rotate_refresh, scope=scope), consented)
        return Reply(200, answer)

    def _consented(self, answer: dict[str, object], consented: str) -> dict[str, object]:
        """`answer`, its refresh token (if any) consented `consented`."""
        if isinstance(answer.get("refresh_token"), str) and consented:
            self.consented[str(answer["refresh_token"])] = consented
        return answer

    def _issue(self, *, refresh: bool, scope: str = "") -> dict[str, object]:
        """A new access token (for the first scope's resource, one resource per token), and
        a refresh token consented `scope` when `refresh`."""
        consented = scope
        access = "fake-access-" + secrets.token_urlsafe(12)
        self.access[access] = time.time() + self.access_ttl
        answer: dict[str, object] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(self.access_ttl),
        }
        resource = next(filter(None, map(resource_of, scope.split())), "")
        if self.one_resource and resource:
            self.resources[access] = resource
            scope = " ".join(s for s in scope.split() if resource_of(s) == resource)
        if scope:
            answer["scope"] = scope
        if refresh:
            token = "fake-refresh-" + secrets.token_urlsafe(12)
            self.refresh.add(token)
            self.consented[token] = consented
            answer["refresh_token"] = token
        return answer

    # -- device authorization -----------------------------------------------------------

    def _device(self, form: dict[str, str]) -> Reply:
        if form.get("client_id") != self.client_id:
            return oauth_error("invalid_client", 401)
        device_code = secrets.token_urlsafe(16)
        user_code = f"{secrets.randbelow(10**4):04d}-{secrets.randbelow(10**4):04d}"
        self.devices[device_code] = DeviceCode(user_code, time.time() + 60, form.get("scope", ""))
        return Reply(
            200,
            {
                "device_code": device_code,
                "user_code": user_code,
                "verification_uri": self.base_url + "/device/verify",
                "expires_in": 60,
                "interval": self.device_interval,
            },
        )

    def _device_grant(self, form: dict[str, str]) -> Reply:
        device = self.devices.get(form.get("device_code", ""))
        if device is None:
            return oauth_error("invalid_grant")
        now = time.time()
        if now > device.expires_at:
            return oauth_error("expired_token")
        too_soon = now - device.last_poll < self.device_interval - 0.2
        device.last_poll = now
        if too_soon:
            return oauth_error("slow_down")
        if not device.approved:
            return oauth_error("authorization_pending")
        del self.devices[form["device_code"]]
        # Answered as "mail" unless the server issues a token per resource (then its scopes).
        scope = device.scope if self.one_resource else "mail"
        return Reply(200, self._consented(self._issue(refresh=True, scope=scope), device.scope))

    # -- revocation and introspection ---------------------------------------------------

    def _revoke(self, form: dict[str, str]) -> Reply:
        token = form.get("token", "")
        if token in self.refresh or token in self.access:
            self.revoked.add(token)
        self.refresh.discard(token)
        self.access.pop(token, None)
        return Reply(200, None)

    def live(self, token: str, resource: str | None = None) -> bool:
        """Whether `token` is an access token that has not expired or been revoked (and, when
        `resource` is given, is for that resource)."""
        if resource is not None and self.resources.get(token, "") != resource:
            return False
        return self.access.get(token, 0) > time.time()

    def _userinfo(self, request: Recorded) -> Reply:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not self.live(token, GRAPH if self.one_resource else None):
            return Reply(401, {"error": "invalid_token"})
        return Reply(200, {"sub": "1", "email": self.address, "email_verified": True})

    def _introspect(self, form: dict[str, str]) -> Reply:
        token = form.get("token", "")
        if not self.live(token):
            return Reply(200, {"active": False})
        answer = {"active": True, "username": self.address, "email": self.address}
        if self.resources.get(token):
            answer["aud"] = self.resources[token]
        return Reply(200, answer)
