"""Reply tracking over IMAP: the inbox and the Sent folder of a real Dovecot, read-only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.imap_server import DovecotServer
from tests.integration.cli_runner import run_cli
from tests.unit.mail.reply_mail import (
    BOB,
    CONTRACT,
    EXPORT,
    INBOX,
    ME,
    QUESTION_FOR_DANA,
    SENT,
    _raw,
)

pytestmark = pytest.mark.integration

THEO_ASKS = "theo-1@fernhill.example"
"""Theo asked Dana something, and she answered (her answer is only in Sent)."""


def seed(server: DovecotServer) -> None:
    for raw in INBOX.values():
        server.append(raw.encode())
    for raw in SENT.values():
        server.append(raw.encode(), folder="Sent", flags="\\Seen")
    server.append(
        _raw(
            THEO_ASKS, "Theo Park <theo@fernhill.example>", ME, "Deck", 3, "Can u send the deck?"
        ).encode()
    )
    answer = _raw(
        "dana-deck@northwind.example", f"Dana Whitfield <{ME}>", "theo@fernhill.example",
        "Re: Deck", 2, "Here it is.", f"In-Reply-To: <{THEO_ASKS}>",
    )  # fmt: skip
    server.append(answer.encode(), folder="Sent", flags="\\Seen")


def test_followups_ask_and_nudge_over_imap(dovecot: DovecotServer, tmp_path: Path) -> None:
    seed(dovecot)
    sent_before = dovecot.flags("Sent")
    spec = dovecot.spec()
    env = {**dovecot.env(), "SMART_INBOX_USER_EMAILS": ME}

    def cli(*args: str) -> Any:
        result = run_cli(tmp_path, *args, "--inbox", spec, "--json", env=env)
        assert dovecot.password not in result.stdout + result.stderr
        return json.loads(result.stdout)

    lists = cli("followups")
    assert [row["id"] for row in lists["awaiting_reply"]] == [CONTRACT, EXPORT]
    assert lists["awaiting_reply"][0]["waiting_on"] == [BOB]
    needs = [row["id"] for row in lists["needs_reply"]]
    assert QUESTION_FOR_DANA in needs
    assert THEO_ASKS not in needs, "her answer is in the Sent folder, read as well"

    owed = cli("ask", "who owes me a reply?")
    assert owed["citations"] == [CONTRACT, EXPORT], owed["answer"]

    nudge = cli("ask", "nudge Bob")
    [pending] = nudge["pending"]
    assert pending["action"] == "save_draft"
    assert pending["args"]["in_reply_to_id"] == CONTRACT
    assert dovecot.messages("Drafts") == [], "nothing is written before approval"
    accepted = cli("resume", "--thread", nudge["thread_id"], "--accept")
    assert [(e["action"], e["status"]) for e in accepted["executed"]] == [
        ("list_awaiting_their_reply", "ok"),
        ("save_draft", "ok"),
    ]
    [(_, flags, raw)] = dovecot.messages("Drafts")
    assert f"To: {BOB}".encode() in raw
    assert f"In-Reply-To: <{CONTRACT}>".encode() in raw
    assert b"Could you send me the signed contract by Friday?" in raw
    assert dovecot.flags("Sent") == sent_before, "Sent is only read"


KIM_ASKS, KIM_ANSWERED = "kim-1@friends.example", "kim-2@friends.example"


def test_every_imap_account_of_a_list_has_its_sent_folder_read(
    dovecot: DovecotServer, tmp_path: Path
) -> None:
    """The IMAP account is the second of the list: its Sent folder is read all the same."""
    seed(dovecot)
    home = "dana@home.example"
    personal = tmp_path / "personal"
    for folder, messages in (
        (personal, {
            "20.kim": _raw(KIM_ASKS, "Kim <kim@friends.example>", home, "Saturday", 2,
                           "Can you come on Saturday?"),
            "21.kim": _raw(KIM_ANSWERED, "Kim <kim@friends.example>", home, "Sunday", 2,
                           "And on Sunday?"),
        }),
        (personal / ".Sent", {
            "22.answer:2,S": _raw("dana-sun@home.example", f"Dana <{home}>", "kim@friends.example",
                                  "Re: Sunday", 1, "Yes.", f"In-Reply-To: <{KIM_ANSWERED}>"),
        }),
    ):  # fmt: skip
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        for name, raw in messages.items():
            (folder / ("cur" if ":2," in name else "new") / name).write_text(raw)
    inbox = f"personal=maildir:{personal}, work={dovecot.spec()}"
    env = {**dovecot.env(), "SMART_INBOX_USER_EMAILS": f"{ME},{home}"}
    result = run_cli(tmp_path / "home", "followups", "--inbox", inbox, "--json", env=env)
    assert dovecot.password not in result.stdout + result.stderr
    lists = json.loads(result.stdout)

    needs = [row["id"] for row in lists["needs_reply"]]
    assert THEO_ASKS not in needs, "answered in the work account's Sent folder"
    assert KIM_ANSWERED not in needs, "answered in the personal Maildir's own Sent"
    assert QUESTION_FOR_DANA in needs and KIM_ASKS in needs
    assert [row["id"] for row in lists["awaiting_reply"]] == [CONTRACT, EXPORT]
