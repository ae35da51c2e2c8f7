"""Outlook's IMAP and SMTP with XOAUTH2 on the same Microsoft grant as Graph.

The account is connected with `accounts add microsoft work --imap --device` against the local
authorization server speaking Microsoft's rule: one resource per access token (Graph's for the
code, outlook.office.com's when the refresh token is redeemed with those scopes), and here
every refresh rotates the refresh token. Dovecot's only passdb is `oauth2`, accepting a token
only if introspection says it is for `https://outlook.office.com`; the SMTP server checks the
same; Graph's `/me` takes only Graph tokens. Triage over IMAP and a reply over SMTP use the
outlook token; a dropped token is refreshed once; a revoked grant, and an account connected
without `--imap`, are one line naming the command; a Graph token offered to Dovecot is refused,
and none is ever sent there.
"""

from __future__ import annotations

import imaplib
import json
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult

from tests.fakes.oauth_server import GRAPH, OUTLOOK, FakeOAuth
from tests.fakes.smtp_server import HOST, free_port
from tests.integration.cli_runner import DEMO, ROOT, cli_env, run_cli
from tests.integration.test_accounts_cli import add_by_device
from tests.integration.test_xoauth2_end_to_end import SOFIA, SOFIA_ID, Received, TokenDovecot
from tools.oauth.xoauth2 import xoauth2_string

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

DANA = "dana@northwind.example"
OUTLOOK_SCOPES = f"{OUTLOOK}/IMAP.AccessAsUser.All {OUTLOOK}/SMTP.Send offline_access"
AGAIN = "run `smart-inbox accounts add microsoft work --imap` again"


class OutlookDovecot(TokenDovecot):
    """Dovecot taking only tokens for Outlook's resource (`aud`, as introspection says)."""

    def _config(self, *args: Any) -> str:
        config = super()._config(*args)
        conf = self.root / "oauth2.conf"
        conf.write_text(
            conf.read_text()
            .replace("active_attribute = active", "active_attribute = aud")
            .replace("active_value = true", f"active_value = {OUTLOOK}")
        )
        return config

    def client(self) -> imaplib.IMAP4_SSL:
        return self.login(
            str(self.oauth._issue(refresh=False, scope=OUTLOOK_SCOPES)["access_token"])
        )

    def login(self, token: str) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=self.ca_file)
        conn = imaplib.IMAP4_SSL(HOST, self.tls_port, ssl_context=context, timeout=10)
        conn.authenticate("XOAUTH2", lambda _: xoauth2_string(self.user, token).encode())
        return conn


class OutlookSmtp(Received):
    """The SMTP server's handler, refusing any token not for Outlook's resource."""

    async def auth_XOAUTH2(self, smtp: SMTP, args: list[str]) -> AuthResult:  # noqa: N802
        result = await super().auth_XOAUTH2(smtp, args)
        if result.success and not self.server.live(self.attempts[-1], OUTLOOK):
            return AuthResult(success=False, handled=False)
        return result


@dataclass
class World:
    """The servers of one test and the command's environment."""

    home: Path
    oauth: FakeOAuth
    dovecot: OutlookDovecot
    smtp: OutlookSmtp
    env: dict[str, str]
    dovecot_own: set[str] = field(default_factory=set)
    """Tokens the test's own Dovecot connections logged in with (seeding the inbox)."""

    def run(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = run_cli(self.home, *args, env=env or self.env, check=check)
        printed = result.stdout + result.stderr
        leaked = [t for t in [*self.oauth.access, *self.oauth.refresh] if t in printed]
        assert not leaked, "a token was printed"
        return result

    def cli(self, *args: str) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.run(*args, "--json").stdout)
        return found

    def token_forms(self) -> list[dict[str, str]]:
        return [
            {k: v[-1] for k, v in parse_qs(call.body.decode()).items()}
            for call in self.oauth.calls("POST", "/token")
        ]

    def tokens_at_the_mail_servers(self) -> list[str]:
        """Every token our command offered Dovecot (as it asked the server) or SMTP."""
        introspected = [
            parse_qs(call.body.decode())["token"][-1]
            for call in self.oauth.calls("POST", "/introspect")
        ]
        return [t for t in introspected if t not in self.dovecot_own] + self.smtp.attempts


def connect_account(home: Path, env: dict[str, str], oauth: FakeOAuth, *more: str) -> list[str]:
    """`accounts add microsoft …`, the code approved as the user would elsewhere."""
    return add_by_device(home, env, oauth, "microsoft", *more)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    oauth = FakeOAuth(address=DANA, one_resource=True, rotate_refresh=True)
    oauth.start()
    dovecot = OutlookDovecot(oauth)
    handler = OutlookSmtp(oauth)
    port = free_port()
    controller = Controller(handler, hostname=HOST, port=port, auth_require_tls=False)
    try:
        dovecot.start()
        controller.start()
        for sub in ("cur", "new"):
            for path in sorted((DEMO / sub).glob("*")):
                dovecot.append(path.read_bytes())
        own = set(oauth.access)  # the tokens the test's own seeding logged in with
        user = quote(DANA, safe="")
        env = {
            **oauth.endpoints("microsoft"),
            "SMART_INBOX_OAUTH_MICROSOFT_CLIENT_ID": oauth.client_id,
            "INBOX": f"imap://{user}@{HOST}:{dovecot.tls_port}/INBOX?account=work",
            "IMAP_CA_FILE": dovecot.ca_file,
            "SMTP_URL": f"smtp://{user}@{HOST}:{port}?account=work",
            "SMART_INBOX_TZ": "Europe/Berlin",
        }
        lines = connect_account(tmp_path, env, oauth, "work", "--imap")
        assert lines[-1].strip() == f"connected microsoft account work ({DANA})"
        yield World(tmp_path, oauth, dovecot, handler, env, own)
    finally:
        controller.stop()
        dovecot.stop()
        oauth.stop()


def test_consent_covers_both_resources_and_the_code_is_redeemed_for_graph(world: World) -> None:
    [device] = world.oauth.calls("POST", "/device")
    asked = parse_qs(device.body.decode())["scope"][-1].split()
    assert asked[0] == f"{GRAPH}/Mail.ReadWrite" and set(OUTLOOK_SCOPES.split()) <= set(asked)
    [graph_token] = [t for t, r in world.oauth.resources.items() if r == GRAPH]
    assert world.oauth.calls("GET", "/userinfo"), "the address was read with the Graph token"
    [row] = json.loads(world.run("accounts", "list", "--json").stdout)
    assert row["state"] == "connected" and row["imap_smtp"] == {"expires_at": None}
    assert all(scope.startswith(GRAPH) for scope in row["scopes"]), row["scopes"]
    listed = world.run("accounts", "list").stdout
    assert "IMAP and SMTP (XOAUTH2): granted, token redeemed when first used" in listed
    assert graph_token not in listed


def test_triage_over_outlook_imap_with_the_outlook_token(world: World) -> None:
    seeded = len(world.dovecot.messages())
    rows = world.cli("triage", "--messages")
    assert len(rows) == seeded
    device, outlook = world.token_forms()
    assert device["grant_type"].endswith("device_code")
    assert outlook["grant_type"] == "refresh_token" and outlook["scope"] == OUTLOOK_SCOPES
    offered = world.tokens_at_the_mail_servers()
    assert offered and all(world.oauth.resources[t] == OUTLOOK for t in offered)
    [row] = json.loads(world.run("accounts", "list", "--json").stdout)
    assert row["imap_smtp"]["expires_at"], "the outlook token's expiry is shown"

    # Graph is refreshed after the rotation, with the newest refresh token: /me still answers.
    graph = subprocess.run(
        [sys.executable, "-c", USE_GRAPH],
        cwd=ROOT,
        env=cli_env(world.home, world.env),
        capture_output=True,
        text=True,
        check=True,
    )
    assert graph.stdout.strip() == DANA
    assert world.token_forms()[-1]["scope"].startswith(f"{GRAPH}/Mail.ReadWrite")
    assert world.cli("triage", "--messages") == rows, "the outlook token is still the one used"


USE_GRAPH = """
from tools.oauth.accounts import VaultTokens
from tools.oauth.grants import granted_address
from tools.oauth.providers import MICROSOFT
print(granted_address(MICROSOFT, VaultTokens.open("work").refreshed()))
"""


def test_a_reply_over_smtp_with_a_token_dropped_mid_conversation(world: World) -> None:
    asked = world.cli("ask", "reply to the meeting request from Sofia and say Thursday works")
    [request] = asked["pending"]
    assert request["action"] == "reply_to_email" and world.smtp.received == []
    before = len(world.token_forms())
    world.oauth.access.clear()  # the provider dropped the tokens; the vault thinks them fresh
    done = world.cli("resume", "--thread", asked["thread_id"], "--accept")
    assert [(e["action"], e["status"]) for e in done["executed"]] == [("reply_to_email", "ok")]
    [reply] = world.smtp.messages()
    assert world.smtp.senders == [DANA] and reply["In-Reply-To"] == f"<{SOFIA_ID}>"
    assert SOFIA in str(reply["To"])
    assert len(world.token_forms()) == before + 1, "refreshed exactly once"
    assert world.token_forms()[-1]["scope"] == OUTLOOK_SCOPES
    assert world.oauth.live(world.smtp.attempts[-1], OUTLOOK)
    offered = world.tokens_at_the_mail_servers()
    assert all(world.oauth.resources[t] == OUTLOOK for t in offered)


def test_a_graph_token_offered_to_the_mail_servers_is_refused(world: World) -> None:
    [graph_token] = [t for t, r in world.oauth.resources.items() if r == GRAPH]
    assert world.oauth.live(graph_token), "a live token, only for the wrong resource"
    with pytest.raises(imaplib.IMAP4.error):
        world.dovecot.login(graph_token)
    outlook_token = str(world.oauth._issue(refresh=False, scope=OUTLOOK_SCOPES)["access_token"])
    world.dovecot.login(outlook_token).logout()
    with httpx.Client() as client:
        me = client.get(
            f"{world.oauth.base_url}/userinfo", headers={"Authorization": f"Bearer {outlook_token}"}
        )
    assert me.status_code == 401, "and Graph's /me takes no outlook token"


def test_a_revoked_grant_is_one_line_naming_the_command(world: World) -> None:
    world.oauth.revoke_everything()
    failed = world.run("triage", check=False)
    assert failed.returncode != 0
    said = [line for line in failed.stderr.splitlines() if line.strip()]
    assert len(said) == 1 and said[0].endswith(AGAIN), failed.stderr
    assert "Traceback" not in failed.stderr


def test_an_account_connected_without_imap_is_one_line(world: World) -> None:
    lines = connect_account(world.home, world.env, world.oauth, "plain")
    assert lines[-1].strip() == f"connected microsoft account plain ({DANA})"
    env = {**world.env, "INBOX": world.env["INBOX"].replace("account=work", "account=plain")}
    introspected = len(world.oauth.calls("POST", "/introspect"))
    failed = world.run("triage", check=False, env=env)
    assert failed.returncode != 0
    said = [line for line in failed.stderr.splitlines() if line.strip()]
    assert len(said) == 1, failed.stderr
    assert said[0].endswith("run `smart-inbox accounts add microsoft plain --imap`"), said
    assert len(world.oauth.calls("POST", "/introspect")) == introspected, "no token was offered"
    # Nor would the provider redeem that account's refresh token for Outlook's resource.
    [plain] = [t for t, c in world.oauth.consented.items() if OUTLOOK not in c]
    form = {"grant_type": "refresh_token", "refresh_token": plain, "scope": OUTLOOK_SCOPES}
    with httpx.Client() as client:
        refused = client.post(
            f"{world.oauth.base_url}/token", data={**form, "client_id": world.oauth.client_id}
        )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"
