"""The health check of a Microsoft account's second token, the one its IMAP and SMTP logins use.

Checked only where an IMAP spec or an SMTP setting logs in with the account (`account=`), from
the vault alone while the token is valid (no redemption, so no network), refreshed once when it
is about to expire, and never showing a token. The token endpoint is a stand-in.
"""

from __future__ import annotations

import functools
import time
from dataclasses import replace
from pathlib import Path

import pytest

from memory.db import AppDatabase
from memory.keys import KEY_ENV
from memory.vault import CredentialVault
from tests.unit.oauth.test_two_resource_tokens import TokenEndpoint, connected, stored
from tools.health.model import Check
from tools.mail.mailbox import MailboxEnv
from tools.mail.smtp_settings import SmtpSettings
from tools.oauth.accounts import Account, AccountStore, VaultTokens
from tools.oauth.grants import Grant
from tools.oauth.providers import GOOGLE
from ui.health import accounts as health_accounts
from ui.health.accounts import account_checks, mail_server_logins

IMAP_WORK = "imap://dana%40northwind.example@outlook.office365.com/INBOX?account=work"
SMTP_WORK = "smtp://dana%40northwind.example@smtp.office365.com:587?account=work"
OUTLOOK_TOKEN = "outlook-secret-token-0"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(KEY_ENV, raising=False)
    return tmp_path


@pytest.fixture
def db(home: Path) -> AppDatabase:
    return AppDatabase(f"sqlite:///{home / 'app.db'}")


@pytest.fixture
def store(db: AppDatabase, home: Path) -> AccountStore:
    vault = CredentialVault(db, home)
    vault.set("oauth.client_id:microsoft", "ms-client")
    return AccountStore(vault)


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> TokenEndpoint:
    """Every redemption the checks make goes here (counted), never to the network."""
    stand_in = TokenEndpoint()
    monkeypatch.setattr(
        health_accounts, "VaultTokens", functools.partial(VaultTokens, redeem=stand_in)
    )
    return stand_in


def with_outlook_token(store: AccountStore, expires_in: float) -> None:
    grant = Grant(OUTLOOK_TOKEN, "refresh-1", time.time() + expires_in, ())
    store.save(stored(store).with_mail_grant(grant))


def mailbox(db: AppDatabase, source: str = IMAP_WORK, smtp: str = "") -> MailboxEnv:
    settings = SmtpSettings.from_url(smtp) if smtp else None
    return MailboxEnv(db=db, source=source, smtp=settings)


def by_part(checks: list[Check]) -> dict[str, Check]:
    return {c.part: c for c in checks}


async def test_a_valid_outlook_token_is_checked_from_the_vault_alone(
    db: AppDatabase, home: Path, store: AccountStore, endpoint: TokenEndpoint
) -> None:
    connected(store)
    with_outlook_token(store, 3600)
    checks = by_part(account_checks(mailbox(db), db, home, 5.0))
    assert set(checks) == {"account work", "account work imap/smtp"}
    outlook = checks["account work imap/smtp"]
    assert outlook.probe is not None and outlook.tools == ()  # the inbox, not sending
    verdict = await outlook.probe()
    assert verdict.state == "ok"
    assert verdict.reason == "a microsoft IMAP and SMTP token for work is valid"
    assert endpoint.calls == [], "a valid token: nothing redeemed, no network"
    assert OUTLOOK_TOKEN not in repr(outlook) + verdict.reason


async def test_an_expiring_outlook_token_is_refreshed_once_and_never_shown(
    db: AppDatabase, home: Path, store: AccountStore, endpoint: TokenEndpoint
) -> None:
    connected(store)
    with_outlook_token(store, 30)
    [outlook] = [
        c for c in account_checks(mailbox(db, smtp=SMTP_WORK), db, home, 5.0) if "imap" in c.part
    ]
    assert "send_email" in outlook.tools  # SMTP logs in with it: a card warns while it is down
    assert outlook.probe is not None
    verdict = await outlook.probe()
    assert verdict.state == "ok" and len(endpoint.calls) == 1
    assert stored(store).mail_access_token not in verdict.reason


async def test_an_account_connected_without_imap_is_down_with_the_command_to_run(
    db: AppDatabase, home: Path, store: AccountStore, endpoint: TokenEndpoint
) -> None:
    # The Graph check passes; only the second check can tell that the login will fail.
    connected(store, imap=False)
    checks = by_part(account_checks(mailbox(db, smtp=SMTP_WORK), db, home, 5.0))
    graph, outlook = checks["account work"], checks["account work imap/smtp"]
    assert graph.probe is not None and outlook.probe is not None
    assert (await graph.probe()).state == "ok"
    verdict = await outlook.probe()
    assert verdict.state == "down"
    assert "connected without IMAP and SMTP access" in verdict.reason
    assert (
        "smart-inbox accounts add microsoft work" in verdict.reason and "--imap" in verdict.reason
    )
    assert endpoint.calls == []


async def test_a_revoked_grant_is_down_though_the_graph_token_still_looks_valid(
    db: AppDatabase, home: Path, store: AccountStore, endpoint: TokenEndpoint
) -> None:
    connected(store)
    with_outlook_token(store, -10)
    endpoint.error = "invalid_grant"
    outlook = by_part(account_checks(mailbox(db), db, home, 5.0))["account work imap/smtp"]
    assert outlook.probe is not None
    verdict = await outlook.probe()
    assert verdict.state == "down" and "revoked or has expired" in verdict.reason
    assert OUTLOOK_TOKEN not in verdict.reason


def test_no_second_check_where_no_mail_server_logs_in_with_the_account(
    db: AppDatabase, home: Path, store: AccountStore, endpoint: TokenEndpoint
) -> None:
    connected(store)
    google = Account("home", "google", "dana@gmail.example", scopes=GOOGLE.scopes)
    store.save(google)
    # Graph's own mail, another account's IMAP login, a Gmail IMAP login (the API's token),
    # and a spec that only looks like it names the account (in the folder, not the option).
    for source, smtp in [
        ("outlook:work", ""),
        (IMAP_WORK.replace("account=work", "account=other"), ""),
        (IMAP_WORK.replace("account=work", "account=home"), ""),
        ("imap://dana%40northwind.example@outlook.office365.com/account=work", ""),
        ("outlook:work", "smtp://dana%40northwind.example@smtp.office365.com:587"),
    ]:
        parts = set(by_part(account_checks(mailbox(db, source, smtp), db, home, 5.0)))
        assert parts == {"account work", "account home"}, source
    assert endpoint.calls == []


def test_each_account_of_a_list_is_read_for_its_logins(db: AppDatabase) -> None:
    work = MailboxEnv(db=db, source=IMAP_WORK, smtp=SmtpSettings.from_url(SMTP_WORK))
    home = MailboxEnv(db=db, source="gmail:home")
    listed = MailboxEnv(db=db, source="work=…, personal=…", accounts={"work": work, "p": home})
    assert mail_server_logins(listed) == {"work": True}
    assert mail_server_logins(replace(work, smtp=None)) == {"work": False}
    assert mail_server_logins(MailboxEnv(db=db, source="imap://bad spec?account=x")) == {}
