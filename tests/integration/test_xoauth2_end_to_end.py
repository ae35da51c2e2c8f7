"""The command on an IMAP inbox and an SMTP server that take only OAuth tokens (XOAUTH2).

The account is connected with `accounts add gmail work --device` against the local
authorization server; the inbox is `imap://…?account=work` on a real Dovecot whose only passdb
is `oauth2` (tokens checked at the server's introspection endpoint), and `SMTP_URL` carries
`?account=work` to an aiosmtpd server that checks `AUTH XOAUTH2` the same way. Triage, a cited
answer, a reply approved and sent exactly once, the newsletters archived (moved in Dovecot), a
meeting booked on the local calendar; a token the provider drops mid-conversation is refreshed
once and the work goes on; a revoked grant is one line saying what to run.
"""

from __future__ import annotations

import imaplib
import json
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import icalendar
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.fakes.oauth_server import FakeOAuth
from tests.fakes.smtp_server import HOST, free_port
from tests.integration.cli_runner import DEMO, run_cli
from tests.integration.test_accounts_cli import add_by_device
from tests.integration.test_inbox_chat_imap import NEWSLETTER_IDS, ids_in
from tests.integration.test_xoauth2 import OAuthDovecot, XOAuth2Handler
from tools.oauth.xoauth2 import xoauth2_string

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

DANA = "dana@northwind.example"
SOFIA = "sofia.marchetti@northwind.example"
SOFIA_ID = "CAF9s0fia.Q1road.20261116@mail.northwind.example"
AGAIN = "run `smart-inbox accounts add gmail work` again"


class TokenDovecot(OAuthDovecot):
    """Dovecot that takes only tokens; the test's own connections log in with one as well."""

    def __init__(self, oauth: FakeOAuth) -> None:
        super().__init__(f"{oauth.base_url}/introspect", user=DANA)
        self.oauth = oauth

    def client(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=self.ca_file)
        conn = imaplib.IMAP4_SSL(HOST, self.tls_port, ssl_context=context, timeout=10)
        token = str(self.oauth._issue(refresh=False)["access_token"])
        conn.authenticate("XOAUTH2", lambda _: xoauth2_string(self.user, token).encode())
        return conn


class Received(XOAuth2Handler):
    """The XOAUTH2 SMTP server's handler, keeping each envelope's sender too."""

    def __init__(self, server: FakeOAuth) -> None:
        super().__init__(server)
        self.senders: list[str] = []

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.senders.append(str(envelope.mail_from))
        return await super().handle_DATA(smtp, session, envelope)

    def messages(self) -> list[EmailMessage]:
        return [
            cast(EmailMessage, message_from_bytes(raw, policy=policy.default))
            for raw in self.received
        ]


@dataclass
class World:
    """The servers of one test and the command's environment."""

    home: Path
    oauth: FakeOAuth
    dovecot: TokenDovecot
    smtp: Received
    env: dict[str, str]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = run_cli(self.home, *args, env=self.env, check=check)
        printed = result.stdout + result.stderr
        leaked = [t for t in [*self.oauth.access, *self.oauth.refresh] if t in printed]
        assert not leaked, "a token was printed"
        return result

    def cli(self, *args: str) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.run(*args, "--json").stdout)
        return found

    def token_calls(self) -> int:
        return len(self.oauth.calls("POST", "/token"))


def connect_account(home: Path, env: dict[str, str], oauth: FakeOAuth) -> None:
    """`accounts add gmail work --device`, the code approved as the user would elsewhere."""
    lines = add_by_device(home, env, oauth, "gmail", "work")
    assert lines[-1].strip() == f"connected gmail account work ({DANA})"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    oauth = FakeOAuth(address=DANA)
    oauth.start()
    dovecot = TokenDovecot(oauth)
    handler = Received(oauth)
    port = free_port()
    controller = Controller(handler, hostname=HOST, port=port, auth_require_tls=False)
    try:
        dovecot.start()
        controller.start()
        for sub in ("cur", "new"):
            for path in sorted((DEMO / sub).glob("*")):
                dovecot.append(path.read_bytes())
        user = quote(DANA, safe="")
        env = {
            **oauth.endpoints("google"),
            "SMART_INBOX_OAUTH_GOOGLE_CLIENT_ID": oauth.client_id,
            "SMART_INBOX_OAUTH_GOOGLE_CLIENT_SECRET": "unused-by-the-fake",
            "INBOX": f"imap://{user}@{HOST}:{dovecot.tls_port}/INBOX?account=work",
            "IMAP_CA_FILE": dovecot.ca_file,
            "SMTP_URL": f"smtp://{user}@{HOST}:{port}?account=work",
            "SMART_INBOX_TZ": "Europe/Berlin",
        }
        connect_account(tmp_path, env, oauth)
        yield World(tmp_path, oauth, dovecot, handler, env)
    finally:
        controller.stop()
        dovecot.stop()
        oauth.stop()


def test_triage_and_a_cited_answer_over_imap_with_a_token(world: World) -> None:
    seeded = len(world.dovecot.messages())
    rows = world.cli("triage", "--messages")
    assert len(rows) == seeded
    answered = world.cli("ask", "any invoices?")
    assert answered["citations"], answered
    assert set(answered["citations"]) <= {row["id"] for row in rows}
    assert world.oauth.calls("POST", "/introspect"), "Dovecot asked whether the token is live"
    assert world.token_calls() == 1, "the device grant only: the token was fresh"


def test_a_reply_is_sent_once_with_a_token_dropped_mid_conversation(world: World) -> None:
    asked = world.cli("ask", "reply to the meeting request from Sofia and say Thursday works")
    [request] = asked["pending"]
    assert request["action"] == "reply_to_email" and world.smtp.received == []
    world.oauth.access.clear()  # the provider dropped the token; the vault still thinks it fresh
    done = world.cli("resume", "--thread", asked["thread_id"], "--accept")
    assert [(e["action"], e["status"]) for e in done["executed"]] == [("reply_to_email", "ok")]
    [reply] = world.smtp.messages()
    assert world.smtp.senders == [DANA] and reply["From"] == DANA
    assert reply["In-Reply-To"] == f"<{SOFIA_ID}>" and SOFIA in str(reply["To"])
    assert world.token_calls() == 2, "refreshed exactly once"
    stale, fresh = world.smtp.attempts[0], world.smtp.attempts[-1]
    assert not world.oauth.live(stale) and world.oauth.live(fresh)
    again = world.run("resume", "--thread", asked["thread_id"], "--accept", check=False)
    assert again.returncode == 2 and len(world.smtp.received) == 1, "sent exactly once"
    sent_copies = [raw for _, _, raw in world.dovecot.messages("Sent")]
    assert [b"Thursday works" in raw for raw in sent_copies] == [True], "one Sent copy"


def test_archiving_moves_the_newsletters_in_dovecot(world: World) -> None:
    asked = world.cli("ask", "archive the newsletters")
    [card] = asked["pending"]
    assert card["action"] == "archive_conversations"
    assert set(card["args"]["message_ids"]) == NEWSLETTER_IDS
    done = world.cli("resume", "--thread", asked["thread_id"], "--accept")
    assert done["executed"] and all(e["status"] == "ok" for e in done["executed"])
    archive = next(f for f in world.dovecot.folders() if "archive" in f.lower())
    assert NEWSLETTER_IDS <= ids_in(world.dovecot, archive)
    assert not NEWSLETTER_IDS & ids_in(world.dovecot, "INBOX")


def test_a_meeting_is_booked_and_the_invitation_sent_with_a_token(world: World) -> None:
    triaged = world.run("triage", "--limit", "3").stdout
    thread = triaged.split('book the first slot for NAME" --thread ', 1)[1].split()[0]
    asked = world.cli("ask", "book the first slot for Sofia", "--thread", thread)
    [request] = asked["pending"]
    assert request["action"] == "create_calendar_event"
    done = world.cli("resume", "--thread", thread, "--accept")
    assert [(e["action"], e["status"]) for e in done["executed"]] == [
        ("create_calendar_event", "ok")
    ]
    calendar = icalendar.Calendar.from_ical((world.home / "calendar.ics").read_bytes())
    [event] = calendar.walk("VEVENT")
    [invitation] = world.smtp.messages()
    assert world.smtp.senders == [DANA] and SOFIA in str(invitation["To"])
    [itip] = [p for p in invitation.walk() if p.get_content_type() == "text/calendar"]
    sent = icalendar.Calendar.from_ical(itip.get_content())
    assert [str(e["UID"]) for e in sent.walk("VEVENT")] == [str(event["UID"])]


def new_mail() -> bytes:
    message = EmailMessage()
    message["From"] = SOFIA
    message["To"] = DANA
    message["Subject"] = "One more thing"
    message["Date"] = "Tue, 17 Nov 2026 09:00:00 +0100"
    message["Message-ID"] = "<one.more@mail.northwind.example>"
    message.set_content("Could you send the slides?\n")
    return bytes(message)


def test_a_token_dropped_between_two_fetches_is_refreshed_and_new_mail_read(
    world: World,
) -> None:
    first = world.cli("triage", "--messages")
    world.oauth.access.clear()
    world.dovecot.append(new_mail())
    second = world.cli("triage", "--messages")
    assert len(second) == len(first) + 1
    assert world.token_calls() == 2, "refreshed exactly once"
    [row] = json.loads(world.run("accounts", "list", "--json").stdout)
    assert row["state"] == "connected"


def test_a_revoked_grant_is_one_line_naming_the_command(world: World) -> None:
    world.oauth.revoke_everything()
    failed = world.run("triage", check=False)
    assert failed.returncode != 0
    said = [line for line in failed.stderr.splitlines() if line.strip()]
    assert len(said) == 1 and said[0].endswith(AGAIN), failed.stderr
    assert "Traceback" not in failed.stderr
