"""Gmail's labels as folders, the `gmail:` spec, and what a Gmail inbox needs to send."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory.db import AppDatabase
from tools.google.account import account_tokens
from tools.mail.gmail.labels import flags_of, folder_of, parse_gmail_spec
from tools.mail.gmail.source import GmailSource, granted_address
from tools.mail.mailbox import MailboxEnv, missing_for_sending, sending_problem
from tools.mail.source_protocol import MailSourceError
from tools.mail.sources import parse_source_spec
from tools.mail.sync import canonical_spec
from tools.oauth.tokens import AccessTokens, StaticTokens, TokenError

NAMES = {"Label_1": "Projects", "Label_2": "Receipts"}


@pytest.mark.parametrize(
    ("labels", "folder"),
    [
        (["INBOX", "UNREAD"], "INBOX"),
        (["SENT", "INBOX"], "Sent"),
        (["DRAFT"], "Drafts"),
        (["TRASH", "INBOX"], "Trash"),
        (["SPAM"], "Spam"),
        (["Label_2", "Label_1"], "Projects"),
        (["INBOX", "Label_1"], "INBOX"),
        (["IMPORTANT"], "Archive"),
        ([], "Archive"),
    ],
)
def test_a_message_is_filed_in_one_folder_by_its_labels(labels: list[str], folder: str) -> None:
    assert folder_of(labels, NAMES) == folder


def test_flags_are_labels() -> None:
    assert flags_of(["INBOX", "UNREAD"]) == ()
    assert flags_of(["INBOX", "STARRED"]) == ("seen", "flagged")


def test_the_spec_names_an_account() -> None:
    assert parse_gmail_spec(" gmail:work ").source == "gmail:work"
    assert canonical_spec("gmail:work") == "gmail:work"
    for bad in ("gmail:", "gmail:../x", "gmail:two words"):
        with pytest.raises(MailSourceError, match="account name"):
            parse_gmail_spec(bad)


def test_a_gmail_spec_opens_a_gmail_source_without_a_token_yet() -> None:
    source = parse_source_spec("gmail:work", secrets=lambda name: None)
    assert isinstance(source, GmailSource) and source.spec == "gmail:work"


def not_connected(account: str) -> AccessTokens:
    raise TokenError(f"no account {account!r}: run `smart-inbox accounts add gmail {account}`")


def test_a_connected_account_is_used_before_a_pasted_token() -> None:
    granted = StaticTokens("work", "google", "granted", "me@gmail.example")
    pasted = {"google.token:work": "pasted"}
    assert account_tokens("work", pasted.get, lambda name: granted).access_token() == "granted"
    assert account_tokens("work", pasted.get, not_connected).access_token() == "pasted"
    microsoft = StaticTokens("work", "microsoft", "m", "me@outlook.example")
    with pytest.raises(TokenError, match="not a Google one"):
        account_tokens("work", pasted.get, lambda name: microsoft).access_token()


def test_a_missing_token_says_what_to_run() -> None:
    tokens = account_tokens("work", lambda name: None, not_connected)
    with pytest.raises(TokenError, match="smart-inbox accounts add gmail work"):
        tokens.access_token()


def test_the_granted_address_comes_from_the_store() -> None:
    stored = {"google.token:work": "t", "google.address:work": "Me@Gmail.example"}
    assert granted_address("gmail:work", stored.get, not_connected) == "me@gmail.example"
    assert granted_address("gmail:work", lambda name: None, not_connected) == ""


def test_a_gmail_inbox_sends_without_smtp(tmp_path: Path) -> None:
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    env = MailboxEnv(db=db, source="gmail:work", sender="me@gmail.example")
    assert missing_for_sending(env) == [] and sending_problem(env) == ""
    other = MailboxEnv(db=db, source="maildir:/tmp/x", sender="me@gmail.example")
    assert "SMTP_URL" in sending_problem(other)
