"""A mail MCP server from PyPI as the inbox: `mcp-email-server` on a real Dovecot and a local SMTP.

The package is installed by the test into a virtual environment of its own (the product's
dependencies stay as they are); the test is skipped only when the package index cannot be
reached. Through the graph: `triage --json`, a cited answer, a reply sent with that
server's own `send_email` tool behind an approval card, and the newsletters archived with its
`archive_emails` tool behind one (the messages move in Dovecot), and a meeting asked for in a
mail read through it booked on the local calendar with our invitation. Our own archive action needs
a `move_to_folder` tool, which this server does not offer: it is not proposed, one line says
so, and nothing moves.
"""

from __future__ import annotations

import json
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.imap_server import DovecotServer
from tests.fakes.smtp_server import SmtpSink
from tests.integration.cli_runner import ROOT, run_cli
from tests.integration.mcp.test_mcp_agent import turn, write_config
from tests.integration.test_cli_imap import seed_demo_inbox
from tests.unit.conftest import write_script

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

PACKAGE = "mcp-email-server==1.13.3"
UNREACHABLE = (
    "Could not find a version",
    "No matching distribution",
    "NewConnectionError",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Max retries exceeded",
)
"""What pip says when the package index cannot be reached (or does not have the package)."""
ME = "dana@northwind.example"
SOFIA = "sofia.marchetti@northwind.example"
SOFIA_ID = "CAF9s0fia.Q1road.20261116@mail.northwind.example"
SPEC = (
    "mcp:mail?search=list_emails_metadata&get=get_emails_content&id=email_ids&page=page"
    "&search.account_name=work&get.account_name=work"
)
"""How this server's tools are called: its account on every call, ids as a list, paged."""


@pytest.fixture(scope="module")
def mcp_email_server(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's command, from a virtual environment made for this test."""
    venv = tmp_path_factory.mktemp("mcp-email-server") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
    installed = subprocess.run(
        [*pip, "--quiet", PACKAGE], capture_output=True, text=True, timeout=600
    )
    if installed.returncode != 0:
        if any(sign in installed.stderr for sign in UNREACHABLE):
            pytest.skip(f"the package index cannot be reached to install {PACKAGE}")
        pytest.fail(f"installing {PACKAGE} failed:\n{installed.stderr[-3000:]}")
    return venv / "bin" / "mcp-email-server"


def server_entry(
    command: Path, dovecot: DovecotServer, smtp: SmtpSink, home: Path
) -> dict[str, Any]:
    """The server's entry in mcp.json: one account, `work`, on our Dovecot and SMTP server."""
    env = {
        "MCP_EMAIL_SERVER_CONFIG_PATH": str(home / "mcp-email-server.toml"),
        "MCP_EMAIL_SERVER_ACCOUNT_NAME": "work",
        "MCP_EMAIL_SERVER_FULL_NAME": "Dana Whitfield",
        "MCP_EMAIL_SERVER_EMAIL_ADDRESS": ME,
        "MCP_EMAIL_SERVER_USER_NAME": dovecot.user,
        "MCP_EMAIL_SERVER_PASSWORD": dovecot.password,
        "MCP_EMAIL_SERVER_IMAP_HOST": "127.0.0.1",
        "MCP_EMAIL_SERVER_IMAP_PORT": str(dovecot.tls_port),
        "MCP_EMAIL_SERVER_IMAP_SSL": "true",
        # The test's Dovecot has a certificate made for it; this server takes no CA file.
        "MCP_EMAIL_SERVER_IMAP_VERIFY_SSL": "false",
        "MCP_EMAIL_SERVER_SMTP_HOST": "127.0.0.1",
        "MCP_EMAIL_SERVER_SMTP_PORT": str(smtp.port),
        "MCP_EMAIL_SERVER_SMTP_SSL": "false",
        "MCP_EMAIL_SERVER_SMTP_START_SSL": "false",
        "MCP_EMAIL_SERVER_SAVE_TO_SENT": "false",
        "MCP_EMAIL_SERVER_ALLOWED_RECIPIENTS": "*@northwind.example",
    }
    return {"command": str(command), "args": ["stdio"], "env": env, "timeout": 60}


def test_triage_ask_and_reply_through_a_pypi_mail_server(
    mcp_email_server: Path, dovecot: DovecotServer, tmp_path: Path
) -> None:
    count = seed_demo_inbox(dovecot)
    flags_before = dovecot.flags()
    with SmtpSink(auth={dovecot.user: dovecot.password}) as smtp:
        write_config(tmp_path, {"mail": server_entry(mcp_email_server, dovecot, smtp, tmp_path)})

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return run_cli(tmp_path, *args, env={"SMTP_FROM": ME})

        rows = json.loads(cli("triage", "--inbox", SPEC, "--json", "--messages").stdout)
        assert len(rows) == count
        by_id = {row["id"]: row for row in rows}
        assert by_id[SOFIA_ID]["from"].endswith(f"<{SOFIA}>"), "ids are Message-IDs"
        by_subject = {row["subject"]: row for row in rows}
        assert by_subject["URGENT: checkout API returning 500s in production"]["priority"] == "high"
        again = cli("triage", "--inbox", SPEC, "--messages")
        assert f"{count} message(s) shown, 0 newly triaged." in again.stdout

        answer = json.loads(
            cli("ask", "what needs my attention today?", "--inbox", SPEC, "--json").stdout
        )
        assert answer["citations"] and set(answer["citations"]) <= set(by_id)
        assert dovecot.flags() == flags_before, "reading marks nothing as read"

        reply = {
            "account_name": "work",
            "recipients": [SOFIA],
            "subject": "Re: " + by_id[SOFIA_ID]["subject"],
            "body": "Tuesday works for me.",
            "in_reply_to": f"<{SOFIA_ID}>",
        }
        script = write_script(tmp_path / "reply.jsonl", turn(("mail__send_email", reply)))
        asked = json.loads(
            cli("ask", "reply to Sofia: Tuesday works", "--inbox", SPEC, "--model",
                f"replay:{script}", "--json").stdout
        )  # fmt: skip
        [card] = asked["pending"]
        assert card["action"] == "mail__send_email" and smtp.messages == []
        done = json.loads(
            cli(
                "resume", "--thread", asked["thread_id"], "--accept", "--inbox", SPEC, "--json"
            ).stdout
        )
        assert [e["status"] for e in done["executed"]] == ["ok"]
        [sent] = smtp.wait_for(1)
        assert sent.rcpt_tos == [SOFIA] and sent.authenticated_as == dovecot.user
        message = sent.message
        assert message["In-Reply-To"] == f"<{SOFIA_ID}>"
        body = message.get_body(("plain",))
        assert body is not None and "Tuesday works for me." in body.get_content()


NEWSLETTERS = {
    "20261121080000.9c1a7e.news@updates.cloudhost.example",
    "digest-87.d9a71c55@lists.dedigest.example",
    "212.8f2c41d0.20261116060211@mail.backendweekly.example",
}


def uids_of(dovecot: DovecotServer, message_ids: set[str], folder: str = "INBOX") -> list[str]:
    """The UIDs (the server's `email_id`s) of the messages with these Message-IDs."""
    found = []
    for uid, _, raw in dovecot.messages(folder):
        parsed = message_from_bytes(raw, policy=policy.default)
        if str(parsed["Message-ID"] or "").strip().strip("<>") in message_ids:
            found.append(str(uid))
    return found


def test_archive_through_the_servers_own_tool_after_approval(
    mcp_email_server: Path, dovecot: DovecotServer, tmp_path: Path
) -> None:
    count = seed_demo_inbox(dovecot)
    dovecot.create("Archive")  # the server files into a folder it finds by that name
    with SmtpSink(auth={dovecot.user: dovecot.password}) as smtp:
        write_config(tmp_path, {"mail": server_entry(mcp_email_server, dovecot, smtp, tmp_path)})

        def cli(*args: str) -> dict[str, Any]:
            result = run_cli(tmp_path, *args, "--inbox", SPEC, "--json", env={"SMTP_FROM": ME})
            found: dict[str, Any] = json.loads(result.stdout)
            return found

        refused = cli("ask", "archive the newsletters")
        assert refused["pending"] == [], "no card for what the server cannot do"
        assert "offers no move_to_folder tool" in refused["answer"], refused["answer"]
        assert len(dovecot.messages()) == count, "nothing moved"

        uids = uids_of(dovecot, NEWSLETTERS)
        assert len(uids) == len(NEWSLETTERS)
        call = {"account_name": "work", "email_ids": uids, "mailbox": "INBOX"}
        script = write_script(tmp_path / "archive.jsonl", turn(("archive_emails", call)))
        asked = cli("ask", "file the newsletters with the server's own tool", "--model",
                    f"replay:{script}")  # fmt: skip
        [card] = asked["pending"]
        assert card["action"] == "archive_emails", asked["pending"]
        assert len(dovecot.messages()) == count, "nothing moves before approval"
        done = cli("resume", "--thread", asked["thread_id"], "--accept")
        assert [e["status"] for e in done["executed"]] == ["ok"], done
        assert not uids_of(dovecot, NEWSLETTERS), "the newsletters left INBOX"
        assert len(uids_of(dovecot, NEWSLETTERS, "Archive")) == len(NEWSLETTERS)
        assert len(dovecot.messages()) == count - len(NEWSLETTERS)
        assert smtp.messages == []


def test_a_spec_without_the_account_is_one_line_and_exit_2(
    mcp_email_server: Path, dovecot: DovecotServer, tmp_path: Path
) -> None:
    seed_demo_inbox(dovecot)
    with SmtpSink() as smtp:
        write_config(tmp_path, {"mail": server_entry(mcp_email_server, dovecot, smtp, tmp_path)})
        spec = "mcp:mail?search=list_emails_metadata&get=get_emails_content&id=email_ids"
        result = run_cli(tmp_path, "triage", "--inbox", spec, "--json", check=False)
    assert result.returncode == 2
    assert json.loads(result.stdout) == []
    assert (
        f"smart-inbox: could not fetch: inbox {spec}: MCP server 'mail', tool "
        "'list_emails_metadata': it needs argument(s) account_name, which the spec does not "
        "give (search.account_name=VALUE)"
    ) in result.stderr


def test_a_server_that_hangs_is_a_timeout_line(tmp_path: Path) -> None:
    slow = {
        "command": sys.executable,
        "args": ["-m", "tests.fakes.mcp.echo_server"],
        "cwd": str(ROOT),
        "timeout": 1,
    }
    write_config(tmp_path, {"slow": slow})
    spec = "mcp:slow?search=slow&search.seconds=30"
    result = run_cli(tmp_path, "triage", "--inbox", spec, "--json", check=False)
    assert result.returncode == 2
    assert (
        f"could not fetch: inbox {spec}: MCP server 'slow', tool 'slow': timed out after 1 s"
        in (result.stderr)
    )


def test_a_meeting_asked_for_in_its_mail_is_booked_on_the_local_calendar(
    mcp_email_server: Path, dovecot: DovecotServer, tmp_path: Path
) -> None:
    """Sofia's request read through the server; the booking and invitation are ours."""
    seed_demo_inbox(dovecot)
    with SmtpSink(auth={dovecot.user: dovecot.password}) as theirs, SmtpSink() as ours:
        write_config(tmp_path, {"mail": server_entry(mcp_email_server, dovecot, theirs, tmp_path)})
        env = {"SMTP_FROM": ME, "SMTP_URL": ours.url}

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return run_cli(tmp_path, *args, "--inbox", SPEC, env=env)

        triaged = cli("triage", "--limit", "3").stdout
        thread = triaged.split('book the first slot for NAME" --thread ', 1)[1].split()[0]
        asked = json.loads(cli("ask", "book the first slot for Sofia", "--thread", thread,
                               "--json").stdout)  # fmt: skip
        [request] = asked["pending"]
        assert request["action"] == "create_calendar_event"
        assert ours.messages == [], "nothing is sent before approval"
        done = json.loads(cli("resume", "--thread", thread, "--accept", "--json").stdout)
        assert [(e["action"], e["status"]) for e in done["executed"]] == [
            ("create_calendar_event", "ok")
        ]
        calendar = (tmp_path / "calendar.ics").read_text("utf-8")
        assert calendar.count("BEGIN:VEVENT") == 1 and SOFIA in calendar
        [invitation] = ours.wait_for(1)
        assert invitation.rcpt_tos == [SOFIA]
        assert theirs.messages == [], "the server's own send tool was not used"
