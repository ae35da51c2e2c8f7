"""The triage knows whom the user wrote to from an IMAP account's Sent folder (real Dovecot)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from graph.corrections import mailbox_profile
from memory.db import AppDatabase
from tests.fakes.imap_server import DovecotServer
from tests.integration.cli_runner import run_cli
from tests.unit.mail.reply_mail import ME, _raw
from tools.mail.mailbox import MailboxEnv
from tools.mail.sent_folder import recorded_sent_folders, sync_sent_folders

pytestmark = pytest.mark.integration

ALICE = "alice@partner.example"
MALLORY = "mallory@outside.example"
ALICE_ASKS = "alice-2@partner.example"
TO_ALICE = _raw(
    "dana-1@northwind.example", f"Dana Whitfield <{ME}>", f"Alice Moreau <{ALICE}>",
    "Pilot next quarter", 6, "Hi Alice,\n\nshall we plan the pilot for next quarter?\n\nDana",
)  # fmt: skip
FROM_ALICE = _raw(
    ALICE_ASKS, f"Alice Moreau <{ALICE}>", ME, "Quick call about our services?", 1,
    "Hi Dana,\n\nwe have a new offer for teams like yours. Could we book a 15-minute call "
    "next week to walk you through our services?\n\nAlice",
)  # fmt: skip


def run_triage(server: DovecotServer, home: Path) -> tuple[dict[str, dict[str, Any]], str]:
    """`smart-inbox triage --messages --json` over the server's inbox: rows by id, stderr."""
    env = {**server.env(), "SMART_INBOX_USER_EMAILS": ME}
    result = run_cli(home, "triage", "--inbox", server.spec(), "--messages", "--json", env=env)
    assert server.password not in result.stdout + result.stderr
    return {row["id"]: row for row in json.loads(result.stdout)}, result.stderr


def triage_rows(server: DovecotServer, home: Path) -> dict[str, dict[str, Any]]:
    return run_triage(server, home)[0]


def database(home: Path) -> AppDatabase:
    return AppDatabase(f"sqlite:///{home / 'app.db'}")


def knows(home: Path, spec: str, address: str) -> bool:
    db = database(home)
    at_hand = db.list_emails(source=spec, limit=100)
    return mailbox_profile(db, spec, at_hand, [ME]).knows(address)


@pytest.mark.parametrize("wrote_to_her", [True, False])
def test_a_person_written_to_from_the_imap_sent_folder_is_known(
    start_dovecot: Callable[..., DovecotServer], tmp_path: Path, wrote_to_her: bool
) -> None:
    server = start_dovecot()
    if wrote_to_her:
        server.append(TO_ALICE.encode(), folder="Sent", flags="\\Seen")
    server.append(FROM_ALICE.encode())
    row = triage_rows(server, tmp_path)[ALICE_ASKS]
    assert knows(tmp_path, server.spec(), ALICE) is wrote_to_her
    if wrote_to_her:
        assert recorded_sent_folders(database(tmp_path), server.spec()) == {"": server.spec("Sent")}
        assert row["decision"] == "respond", row
    else:
        assert row["decision"] == "ignore", row


SPOOFED = "spoof-1@outside.example"
MALLORY_PITCH = "mallory-2@outside.example"


def test_mail_in_the_inbox_from_the_owners_address_is_not_sent_mail(
    dovecot: DovecotServer, tmp_path: Path
) -> None:
    """Anyone can write the owner's address in `From`: that makes no one known.

    The spoofed message "to" Mallory sits in INBOX, and Mallory's pitch answers it: were it
    taken as sent, she would be someone the owner wrote to, and her pitch a known person's.
    """
    spoof = _raw(
        SPOOFED, f"Dana Whitfield <{ME}>", f"Mallory <{MALLORY}>", "Our call", 3,
        "Hi Mallory, yes, please send me your offer.",
    )  # fmt: skip
    pitch = _raw(
        MALLORY_PITCH, f"Mallory <{MALLORY}>", ME, "Re: Our call", 1,
        "Hi Dana,\n\nwe have a new offer for teams like yours. Could we book a 15-minute call "
        "next week to walk you through our services?\n\nMallory",
        f"In-Reply-To: <{SPOOFED}>",
    )  # fmt: skip
    dovecot.append(TO_ALICE.encode(), folder="Sent", flags="\\Seen")
    dovecot.append(spoof.encode())
    dovecot.append(pitch.encode())
    rows = triage_rows(dovecot, tmp_path)
    assert not knows(tmp_path, dovecot.spec(), MALLORY)
    assert knows(tmp_path, dovecot.spec(), ALICE), "the real Sent folder still counts"
    pitch_row = rows[MALLORY_PITCH]
    assert pitch_row["category"] == "spam_or_cold", "a known person's mail is never cold"
    assert pitch_row["decision"] != "respond", pitch_row


def test_a_sent_folder_that_cannot_be_read_loses_no_triage_and_is_said_once(
    start_dovecot: Callable[..., DovecotServer], tmp_path: Path
) -> None:
    """No folder is marked `\\Sent` and none is called Sent: the triage goes on, with a warning."""
    server = start_dovecot(sent=None)
    server.append(FROM_ALICE.encode())
    rows, stderr = run_triage(server, tmp_path)
    assert rows[ALICE_ASKS]["decision"] == "ignore", "a stranger's pitch, triaged all the same"
    assert stderr.count("the Sent folder could not be read") == 1, stderr
    assert recorded_sent_folders(database(tmp_path), server.spec()) == {}


def test_a_recorded_sent_folder_is_fetched_without_asking_for_it_again(
    dovecot: DovecotServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second fetch reads the recorded spec (its new mail too); no LIST for `\\Sent`."""
    monkeypatch.setenv("IMAP_CA_FILE", dovecot.ca_file)
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    env = MailboxEnv(db=db, source=dovecot.spec(), secrets={"imap.password": dovecot.password}.get)
    assert sync_sent_folders(env) == ""
    assert recorded_sent_folders(db, env.source) == {"": dovecot.spec("Sent")}
    dovecot.append(TO_ALICE.encode(), folder="Sent", flags="\\Seen")
    mark = dovecot.quiet_mark()
    assert sync_sent_folders(env) == ""
    assert dovecot.sessions_since(mark) == 1, "one session: the recorded folder's own fetch"
    assert mailbox_profile(db, env.source, [], [ME]).knows(ALICE)


def test_each_imap_account_of_a_list_has_its_sent_folder_learned_from(
    dovecot: DovecotServer, tmp_path: Path
) -> None:
    """The IMAP account is the second of the list: whom it wrote to is known all the same."""
    dovecot.append(TO_ALICE.encode(), folder="Sent", flags="\\Seen")
    dovecot.append(FROM_ALICE.encode())
    personal = tmp_path / "personal"
    for sub in ("cur", "new", "tmp"):
        (personal / sub).mkdir(parents=True)
    inbox = f"personal=maildir:{personal}, work={dovecot.spec()}"
    env = {**dovecot.env(), "SMART_INBOX_USER_EMAILS": ME}
    home = tmp_path / "home"
    result = run_cli(home, "triage", "--inbox", inbox, "--messages", "--json", env=env)
    assert dovecot.password not in result.stdout + result.stderr
    [row] = [
        r for r in json.loads(result.stdout) if r["subject"] == "Quick call about our services?"
    ]
    assert row["decision"] == "respond", row
    db = database(home)
    [source] = {e.source for e in db.list_emails(limit=100) if e.account == "work"}
    assert recorded_sent_folders(db, source) == {"work": dovecot.spec("Sent")}
    assert knows(home, source, ALICE)
