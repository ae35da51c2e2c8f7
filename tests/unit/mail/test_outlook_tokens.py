"""Where an `outlook:` account's tokens come from: the connected grant, else a pasted token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memory.db import AppDatabase
from tools.mail.mailbox import missing_for_sending, open_mailbox_env
from tools.msgraph.account import OutlookTokens, granted_address
from tools.oauth.tokens import StaticTokens, TokenError


def test_a_connected_account_wins_over_a_pasted_token() -> None:
    stored = {"oauth.account:work": "{...}", "outlook.token:work": "pasted"}
    opened: list[str] = []

    def connected(account: str) -> StaticTokens:
        opened.append(account)
        return StaticTokens(account, "microsoft", "granted", "dana@contoso.example")

    tokens = OutlookTokens("work", stored.get, connected)

    assert (tokens.access_token(), tokens.refreshed(), tokens.address()) == (
        "granted",
        "granted",
        "dana@contoso.example",
    )
    assert opened == ["work"], "the vault is opened once, when first asked"


def test_a_pasted_token_is_used_when_no_account_is_connected() -> None:
    tokens = OutlookTokens("work", {"outlook.token:work": "pasted"}.get, lambda a: pytest.fail())
    assert (tokens.access_token(), tokens.refreshed(), tokens.address()) == ("pasted", "pasted", "")


def test_neither_says_what_to_run() -> None:
    tokens = OutlookTokens("home", {}.get)
    with pytest.raises(TokenError, match="smart-inbox accounts add microsoft home"):
        tokens.access_token()


def test_mail_from_a_connected_account_is_from_its_granted_address(tmp_path: Path) -> None:
    stored = {"oauth.account:work": json.dumps({"name": "work", "address": "dana@contoso.example"})}
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")

    env = open_mailbox_env(
        db, "outlook:work", tmp_path, user_addresses=(), smtp=None, secrets=stored.get, environ={}
    )

    assert env.sender == "dana@contoso.example"
    assert missing_for_sending(env) == [], "Graph sends: no SMTP_URL needed"
    assert granted_address("outlook:home", stored.get) == ""
