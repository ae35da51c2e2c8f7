"""The OAuth providers as data: endpoints, scopes, and where the user's own client id lives.

Every endpoint can be moved with `SMART_INBOX_OAUTH_<PROVIDER>_<ENDPOINT>_URL` (tests point them at
a local server); plain http is allowed only to this machine. The client id (and, for Google,
the installed app's client secret) is the user's own, from the vault or the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

from memory.secrets import SecretLookup, environment_secrets
from tools.http import HttpSettingsError, service_url
from tools.oauth.tokens import TokenError

ENDPOINTS = ("authorize", "token", "revoke", "device", "userinfo")


@dataclass(frozen=True)
class Provider:
    """One OAuth provider: its endpoints and the scopes the inbox asks for."""

    name: str
    """`google`, `microsoft` or `salesforce`: the key of credentials and settings."""
    label: str
    """How messages name it: `Google`, `Microsoft`, `Salesforce`."""
    kind: str
    """What `accounts add` calls it: `gmail`, `microsoft` or `salesforce`."""
    authorize: str
    token: str
    revoke: str
    """RFC 7009 revocation endpoint; empty when the provider has none."""
    device: str
    """RFC 8628 device authorization endpoint."""
    userinfo: str
    """Where the granted mail address is read (OpenID Connect userinfo, or Graph's /me)."""
    scopes: tuple[str, ...]
    secret_required: bool
    """Whether the provider wants the installed app's client secret at its token endpoint."""
    redirect_host: str = "127.0.0.1"
    """The loopback host of the redirect URI, as the app's registration names it (the listener
    is on 127.0.0.1 either way; any port matches a registered loopback URI)."""
    redirect_port: int = 0
    """The listener's fixed port, for a provider that matches the registered callback URL
    exactly, port included (Salesforce); 0 for any free port."""

    def endpoint(self, which: str, environ: Mapping[str, str] | None = None) -> str:
        """The endpoint `which` (one of `ENDPOINTS`), moved by its setting if set."""
        env = os.environ if environ is None else environ
        variable = f"SMART_INBOX_OAUTH_{self.name.upper()}_{which.upper()}_URL"
        value = env.get(variable, "").strip() or getattr(self, which)
        if not value:
            return ""
        try:
            return service_url(variable, value)
        except HttpSettingsError as err:
            raise TokenError(str(err)) from None

    def loopback_port(self, environ: Mapping[str, str] | None = None) -> int:
        """The redirect listener's port: `SMART_INBOX_OAUTH_<PROVIDER>_REDIRECT_PORT`, else ours."""
        env = os.environ if environ is None else environ
        variable = f"SMART_INBOX_OAUTH_{self.name.upper()}_REDIRECT_PORT"
        raw = env.get(variable, "").strip()
        if not raw:
            return self.redirect_port
        if not raw.isdigit() or int(raw) > 65535:
            raise TokenError(f"{variable} must be a port number (0 for any free port)")
        return int(raw)


GOOGLE = Provider(
    name="google",
    label="Google",
    kind="gmail",
    authorize="https://accounts.google.com/o/oauth2/v2/auth",
    token="https://oauth2.googleapis.com/token",
    revoke="https://oauth2.googleapis.com/revoke",
    device="https://oauth2.googleapis.com/device/code",
    userinfo="https://openidconnect.googleapis.com/v1/userinfo",
    scopes=(
        "https://www.googleapis.com/auth/gmail.modify",
        "https://www.googleapis.com/auth/gmail.send",
        "https://www.googleapis.com/auth/calendar.events",
        "openid",
        "email",
    ),
    secret_required=True,
)
MICROSOFT = Provider(
    name="microsoft",
    label="Microsoft",
    kind="microsoft",
    authorize="https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
    token="https://login.microsoftonline.com/common/oauth2/v2.0/token",
    revoke="",
    device="https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
    userinfo="https://graph.microsoft.com/v1.0/me",
    scopes=(
        "https://graph.microsoft.com/Mail.ReadWrite",
        "https://graph.microsoft.com/Mail.Send",
        "https://graph.microsoft.com/Calendars.ReadWrite",
        "https://graph.microsoft.com/User.Read",
        "offline_access",
    ),
    secret_required=False,
    redirect_host="localhost",
)
SALESFORCE = Provider(
    name="salesforce",
    label="Salesforce",
    kind="salesforce",
    # The web server flow with PKCE; a My Domain or sandbox login host is set with
    # SMART_INBOX_OAUTH_SALESFORCE_*_URL. The token answer names the org's API host
    # (`instance_url`), kept with the grant.
    authorize="https://login.salesforce.com/services/oauth2/authorize",
    token="https://login.salesforce.com/services/oauth2/token",
    revoke="https://login.salesforce.com/services/oauth2/revoke",
    device="",
    userinfo="https://login.salesforce.com/services/oauth2/userinfo",
    scopes=("api", "refresh_token", "openid", "email"),
    secret_required=False,
    redirect_host="localhost",
    redirect_port=1717,
)
OUTLOOK_RESOURCE = "https://outlook.office.com"
"""The resource of Outlook's own IMAP and SMTP servers: not Graph's."""
IMAP_SCOPES = {
    "google": ("https://mail.google.com/",),
    "microsoft": (f"{OUTLOOK_RESOURCE}/IMAP.AccessAsUser.All", f"{OUTLOOK_RESOURCE}/SMTP.Send"),
}
"""What a provider's own IMAP and SMTP servers need beyond the API scopes, asked for only with
`accounts add … --imap`: Gmail's accept XOAUTH2 only with full mail access, which the API
needs no part of; Outlook's only with a token for the outlook.office.com resource."""
SEPARATE_MAIL_RESOURCE = frozenset({"microsoft"})
"""Providers whose IMAP and SMTP scopes belong to another resource than the API's. A token is
for one resource, so the account keeps a second access token, redeemed from the same refresh
token with `IMAP_SCOPES` (see `tools.oauth.accounts`)."""


def with_imap_scopes(provider: Provider) -> Provider:
    """`provider` asking also for the scopes its IMAP and SMTP servers need.

    The API's scopes stay first: a provider that issues a token for one resource issues the
    code's token for the first scope's (Graph's, for Microsoft).

    Raises:
        ValueError: the provider's IMAP and SMTP cannot be reached with its grant.

    """
    extra = IMAP_SCOPES.get(provider.name)
    if extra is None:
        raise ValueError(f"--imap is for gmail and microsoft accounts, not {provider.label}")
    return replace(provider, scopes=(*provider.scopes, *extra))


def mail_resource_scopes(provider_name: str) -> tuple[str, ...]:
    """What the second access token is redeemed for: IMAP and SMTP's resource, and a refresh.

    Empty for a provider whose IMAP and SMTP take the API's token (Google).
    """
    if provider_name not in SEPARATE_MAIL_RESOURCE:
        return ()
    return (*IMAP_SCOPES[provider_name], "offline_access")


PROVIDERS = {"google": GOOGLE, "microsoft": MICROSOFT, "salesforce": SALESFORCE}
BY_KIND = {"gmail": GOOGLE, "microsoft": MICROSOFT, "salesforce": SALESFORCE}


def provider(name: str) -> Provider:
    """The provider `name` (`google`, `microsoft`, or the kinds `gmail`), else `TokenError`."""
    found = PROVIDERS.get(name) or BY_KIND.get(name)
    if found is None:
        raise TokenError(f"unknown OAuth provider {name!r}: use gmail, microsoft or salesforce")
    return found


@dataclass(frozen=True)
class Client:
    """The user's own registered app: its id, and its secret where the provider wants one."""

    client_id: str
    client_secret: str = ""


def client_for(
    found: Provider,
    secrets: SecretLookup | None = None,
    environ: Mapping[str, str] | None = None,
) -> Client:
    """The client of `found` from `oauth.client_id:PROVIDER` (else `SMART_INBOX_OAUTH_…`).

    Raises:
        TokenError: no client id (or no secret where the provider requires one); the message
            says how to store it.

    """
    env = os.environ if environ is None else environ
    lookup = secrets or environment_secrets(env)
    upper = found.name.upper()
    client_id = lookup(f"oauth.client_id:{found.name}") or env.get(
        f"SMART_INBOX_OAUTH_{upper}_CLIENT_ID", ""
    )
    secret = lookup(f"oauth.client_secret:{found.name}") or env.get(
        f"SMART_INBOX_OAUTH_{upper}_CLIENT_SECRET", ""
    )
    if not client_id:
        raise TokenError(
            f"no {found.label} OAuth client id: register an app (see docs/accounts.md), then "
            f"run `smart-inbox credentials set oauth.client_id:{found.name}`"
        )
    if found.secret_required and not secret:
        raise TokenError(
            f"no {found.label} OAuth client secret: run "
            f"`smart-inbox credentials set oauth.client_secret:{found.name}`"
        )
    return Client(client_id, secret or "")
