"""XOAUTH2 logins against real servers: Dovecot's `oauth2` passdb asks our local authorization
server's introspection endpoint (RFC 7662) whether a token is live; an aiosmtpd server checks
`AUTH XOAUTH2` the same way. A stale token is refreshed once and the login tried again."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from memory.vault import open_vault
from tests.fakes.imap_server import DovecotServer
from tests.fakes.oauth_server import FakeOAuth
from tests.fakes.smtp_server import free_port
from tools.mail.imap_session import ImapConnection
from tools.mail.imap_spec import parse_imap_spec
from tools.mail.smtp import SmtpSendError, send_message
from tools.mail.smtp_settings import SmtpSettings
from tools.mail.source_protocol import MailSourceError
from tools.oauth.accounts import Account, AccountStore
from tools.oauth.grants import Grant
from tools.oauth.xoauth2 import xoauth2_string

pytestmark = pytest.mark.integration


class ServerTokens:
    """`AccessTokens` handed out by the local authorization server; the first may be stale."""

    provider = "google"

    def __init__(self, server: FakeOAuth, *, stale_first: bool) -> None:
        self.account = "work"
        self.server = server
        self.stale_first = stale_first
        self.refreshes = 0

    def _issue(self) -> str:
        return str(self.server._issue(refresh=False)["access_token"])

    def access_token(self) -> str:
        return "stale-token-not-live" if self.stale_first else self._issue()

    def refreshed(self) -> str:
        self.refreshes += 1
        return self._issue()

    def address(self) -> str:
        return self.server.address


class OAuthDovecot(DovecotServer):
    """Dovecot whose only passdb is `oauth2`, validating tokens at `introspection_url`."""

    def __init__(self, introspection_url: str, **options: Any) -> None:
        super().__init__(**options)
        self.introspection_url = introspection_url

    def _config(self, *args: Any) -> str:
        config = super()._config(*args)
        (self.root / "oauth2.conf").write_text(
            f"introspection_mode = post\nintrospection_url = {self.introspection_url}\n"
            "force_introspection = yes\nusername_attribute = username\n"
            "active_attribute = active\nactive_value = true\n"
        )
        start = config.index("passdb {")
        end = config.index("}", start) + 1
        oauth2 = f"passdb {{\n  driver = oauth2\n  args = {self.root}/oauth2.conf\n}}"
        config = config[:start] + oauth2 + config[end:]
        return config.replace("auth_mechanisms = plain login", "auth_mechanisms = xoauth2")


@pytest.fixture
def oauth() -> Iterator[FakeOAuth]:
    with FakeOAuth(address="dana") as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def dovecot_oauth(oauth: FakeOAuth) -> Iterator[OAuthDovecot]:
    server = OAuthDovecot(f"{oauth.base_url}/introspect")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def imap_login(server: DovecotServer, tokens: ServerTokens) -> None:
    spec = parse_imap_spec(f"imap://dana@127.0.0.1:{server.tls_port}/INBOX?account=work")
    connection = ImapConnection(spec, ca_file=server.ca_file, tokens_for=lambda _name: tokens)
    with connection._session() as conn:
        assert conn.select("INBOX", readonly=True)[0] == "OK"


def test_imap_xoauth2_with_a_live_token(dovecot_oauth: OAuthDovecot, oauth: FakeOAuth) -> None:
    tokens = ServerTokens(oauth, stale_first=False)
    imap_login(dovecot_oauth, tokens)
    assert tokens.refreshes == 0
    assert oauth.calls("POST", "/introspect")


def test_imap_xoauth2_refreshes_a_stale_token_once(
    dovecot_oauth: OAuthDovecot, oauth: FakeOAuth
) -> None:
    tokens = ServerTokens(oauth, stale_first=True)
    imap_login(dovecot_oauth, tokens)
    assert tokens.refreshes == 1


def test_imap_xoauth2_refused_twice_is_one_error(
    dovecot_oauth: OAuthDovecot, oauth: FakeOAuth
) -> None:
    tokens = ServerTokens(oauth, stale_first=True)
    tokens._issue = lambda: "revoked-token"  # type: ignore[method-assign]
    with pytest.raises(MailSourceError, match="XOAUTH2 login refused for user 'dana'") as raised:
        imap_login(dovecot_oauth, tokens)
    assert "revoked-token" not in str(raised.value) and tokens.refreshes == 1


def test_xoauth2_string() -> None:
    raw = xoauth2_string("dana@example.com", "tok")
    assert raw == "user=dana@example.com\x01auth=Bearer tok\x01\x01"
    assert base64.b64encode(raw.encode()).startswith(b"dXNlcj1kYW5h")


def test_introspection_answers(oauth: FakeOAuth) -> None:
    token = str(oauth._issue(refresh=False)["access_token"])
    with httpx.Client() as client:
        live = client.post(f"{oauth.base_url}/introspect", data={"token": token}).json()
        dead = client.post(f"{oauth.base_url}/introspect", data={"token": "x"}).json()
    assert live == {"active": True, "username": "dana", "email": "dana"}
    assert dead == {"active": False}
    assert time.time() < oauth.access[token]


class XOAuth2Handler:
    """aiosmtpd handler: `AUTH XOAUTH2` checked against the authorization server's tokens."""

    def __init__(self, server: FakeOAuth) -> None:
        self.server = server
        self.attempts: list[str] = []
        self.received: list[bytes] = []

    async def auth_XOAUTH2(self, smtp: SMTP, args: list[str]) -> AuthResult:  # noqa: N802
        initial = args[1] if len(args) > 1 else ""
        fields = dict(
            part.split("=", 1) for part in base64.b64decode(initial).decode().split("\x01") if part
        )
        token = fields.get("auth", "").removeprefix("Bearer ")
        self.attempts.append(token)
        if self.server.live(token) and fields.get("user") == "dana@northwind.example":
            return AuthResult(success=True, auth_data=fields["user"])
        error = base64.b64encode(b'{"status":"401","schemes":"bearer"}').decode()
        await smtp.challenge_auth(error, encode_to_b64=False)
        return AuthResult(success=False, handled=False)

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.received.append(envelope.original_content or b"")
        return "250 OK"


@pytest.fixture
def vault_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, oauth: FakeOAuth
) -> AccountStore:
    """Account `work` in the vault of a fresh data directory, its access token already dead."""
    monkeypatch.setenv("SMART_INBOX_HOME", str(tmp_path))
    monkeypatch.delenv("SMART_INBOX_KEY", raising=False)
    for name, value in oauth.endpoints("google").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SMART_INBOX_OAUTH_GOOGLE_CLIENT_ID", oauth.client_id)
    monkeypatch.setenv("SMART_INBOX_OAUTH_GOOGLE_CLIENT_SECRET", "unused-by-the-fake")
    issued = oauth._issue(refresh=True)
    store = AccountStore(open_vault())
    grant = Grant(str(issued["access_token"]), str(issued["refresh_token"]), time.time() + 3600)
    store.save(Account("work", "google", "dana@northwind.example").with_grant(grant))
    oauth.access.clear()  # dropped by the provider before its expiry: the server will say 535
    return store


def outgoing() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "dana@northwind.example"
    message["To"] = "lee@example.com"
    message["Subject"] = "XOAUTH2"
    message.set_content("sent with a token")
    return message


def test_smtp_xoauth2_refreshes_after_a_refusal(
    vault_account: AccountStore, oauth: FakeOAuth
) -> None:
    handler = XOAuth2Handler(oauth)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, auth_require_tls=False)
    controller.start()
    try:
        settings = SmtpSettings.from_url(
            f"smtp://dana%40northwind.example@127.0.0.1:{port}?account=work"
        )
        assert settings.account == "work" and not settings.password_problem
        receipt = send_message(settings, outgoing())
    finally:
        controller.stop()
    assert receipt.recipients == ["lee@example.com"] and len(handler.received) == 1
    stale, fresh = handler.attempts
    assert not oauth.live(stale) and oauth.live(fresh)
    saved = vault_account.get("work")
    assert saved is not None and saved.access_token == fresh


def test_smtp_xoauth2_with_a_revoked_grant(vault_account: AccountStore, oauth: FakeOAuth) -> None:
    oauth.revoke_everything()
    handler = XOAuth2Handler(oauth)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, auth_require_tls=False)
    controller.start()
    try:
        settings = SmtpSettings.from_url(
            f"smtp://dana%40northwind.example@127.0.0.1:{port}?account=work"
        )
        with pytest.raises(SmtpSendError) as raised:
            send_message(settings, outgoing())
    finally:
        controller.stop()
    assert str(raised.value).endswith("run `smart-inbox accounts add gmail work` again")
    assert not handler.received
