"""OAuth data without a network: providers and their settings, grants, what `accounts list`
shows, and the `account=` option of the IMAP spec and `SMTP_URL`."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tools.mail.imap_spec import parse_imap_spec
from tools.mail.smtp_settings import SmtpConfigError, SmtpSettings, with_password
from tools.mail.source_protocol import MailSourceError
from tools.oauth.accounts import Account
from tools.oauth.grants import EXPIRY_MARGIN, Grant
from tools.oauth.loopback import Pkce, authorize_url
from tools.oauth.providers import (
    GOOGLE,
    MICROSOFT,
    Client,
    client_for,
    provider,
    with_imap_scopes,
)
from tools.oauth.tokens import StaticTokens, TokenError


def test_endpoints_move_with_their_settings() -> None:
    env = {"SMART_INBOX_OAUTH_GOOGLE_TOKEN_URL": "http://127.0.0.1:9999/token/"}
    assert GOOGLE.endpoint("token", env) == "http://127.0.0.1:9999/token"
    assert GOOGLE.endpoint("token", {}) == "https://oauth2.googleapis.com/token"
    assert MICROSOFT.endpoint("revoke", {}) == ""
    with pytest.raises(TokenError, match="SMART_INBOX_OAUTH_GOOGLE_TOKEN_URL must use https://"):
        GOOGLE.endpoint("token", {"SMART_INBOX_OAUTH_GOOGLE_TOKEN_URL": "http://evil.example/t"})


def test_providers_by_kind_and_scopes() -> None:
    assert provider("gmail") is GOOGLE and provider("microsoft") is MICROSOFT
    assert "https://www.googleapis.com/auth/gmail.send" in GOOGLE.scopes
    assert "offline_access" in MICROSOFT.scopes
    with pytest.raises(TokenError, match="unknown OAuth provider 'yahoo'"):
        provider("yahoo")


def test_client_ids_come_from_the_vault_then_the_environment() -> None:
    stored = {"oauth.client_id:google": "stored-id", "oauth.client_secret:google": "stored-s"}
    env = {"SMART_INBOX_OAUTH_GOOGLE_CLIENT_ID": "env-id"}
    assert client_for(GOOGLE, stored.get, env) == Client("stored-id", "stored-s")
    assert client_for(MICROSOFT, {}.get, {"SMART_INBOX_OAUTH_MICROSOFT_CLIENT_ID": "m"}) == Client(
        "m"
    )
    with pytest.raises(TokenError, match="credentials set oauth.client_secret:google"):
        client_for(GOOGLE, {}.get, env)
    with pytest.raises(TokenError, match="credentials set oauth.client_id:microsoft"):
        client_for(MICROSOFT, {}.get, {})


def test_authorize_url_asks_for_pkce_s256_and_offline_access() -> None:
    pkce = Pkce.new()
    url = authorize_url(GOOGLE, Client("id"), "http://127.0.0.1:5000/", "st", pkce)
    assert f"code_challenge={pkce.challenge}" in url and "code_challenge_method=S256" in url
    assert "state=st" in url and "access_type=offline" in url
    assert pkce.verifier not in url


def test_grant_freshness_and_refresh_keeps_the_refresh_token() -> None:
    grant = Grant("a", "r", expires_at=1000.0)
    assert grant.fresh(now=1000.0 - EXPIRY_MARGIN - 1)
    assert not grant.fresh(now=1000.0 - EXPIRY_MARGIN + 1)
    assert Grant("a").fresh(now=1e12)  # no expiry said: used until a 401
    newer = grant.after_refresh(Grant("b", "", 2000.0))
    assert (newer.access_token, newer.refresh_token) == ("b", "r")
    assert "secret" not in repr(Grant("secret-a", "secret-r"))


def test_account_summary_never_holds_a_token() -> None:
    account = Account("work", "google", "dana@example.com").with_grant(
        Grant("acc-tok-1", "ref-tok-1", 4102444800.0, ("email",))
    )
    summary = account.summary()
    assert summary["state"] == "connected" and summary["kind"] == "gmail"
    assert summary["expires_at"] == "2100-01-01T00:00:00+00:00"
    assert "tok-1" not in str(summary) and "tok-1" not in repr(account)
    assert account.again() == "smart-inbox accounts add gmail work"


def test_static_tokens() -> None:
    tokens = StaticTokens("work", "microsoft", "pasted", "dana@example.com")
    assert tokens.access_token() == tokens.refreshed() == "pasted"
    assert tokens.address() == "dana@example.com" and "pasted" not in repr(tokens)


def test_imap_spec_account_option_round_trips() -> None:
    spec = parse_imap_spec("imap://dana%40gmail.com@imap.gmail.com/INBOX?account=work")
    assert spec.account == "work" and spec.user == "dana@gmail.com"
    assert spec.spec == "imap://dana%40gmail.com@imap.gmail.com:993/INBOX?account=work"
    assert parse_imap_spec(spec.spec) == spec
    both = parse_imap_spec("imap://d@localhost/INBOX?tls=none&account=home")
    assert both.spec.endswith("?tls=none&account=home") and parse_imap_spec(both.spec) == both
    with pytest.raises(MailSourceError, match="options are tls= and account="):
        parse_imap_spec("imap://d@host/INBOX?password=x")


def test_smtp_url_account_option() -> None:
    settings = SmtpSettings.from_url("smtp://dana%40gmail.com@smtp.gmail.com?account=work")
    assert settings.account == "work" and settings.username == "dana@gmail.com"
    assert settings.safe_url() == "smtp://dana%40gmail.com@smtp.gmail.com:587?account=work"
    # No password is looked up for an OAuth login.
    assert with_password(settings, {}.get) == settings and not settings.password_problem
    with pytest.raises(SmtpConfigError, match="the only option is account=NAME"):
        SmtpSettings.from_url("smtp://dana@smtp.gmail.com?acount=work")


def test_imap_access_is_asked_for_only_when_wanted() -> None:
    """Gmail's IMAP and SMTP take XOAUTH2 only with full mail access: opt-in, never default."""
    assert "https://mail.google.com/" not in GOOGLE.scopes
    wider = with_imap_scopes(GOOGLE)
    assert wider.scopes == (*GOOGLE.scopes, "https://mail.google.com/")
    url = authorize_url(wider, Client("id"), "http://127.0.0.1:5000/", "st", Pkce.new())
    scope = parse_qs(urlsplit(url).query)["scope"][0].split()
    assert "https://mail.google.com/" in scope and "openid" in scope
    # Microsoft's come from another resource: asked for after Graph's (see test_two_resource_tokens).
    assert with_imap_scopes(MICROSOFT).scopes[: len(MICROSOFT.scopes)] == MICROSOFT.scopes
    with pytest.raises(ValueError, match="not Salesforce"):
        with_imap_scopes(provider("salesforce"))
