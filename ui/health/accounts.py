"""The health checks of connected accounts: one per account, and one more for the Outlook token.

A Microsoft account added with `--imap` holds two access tokens (`tools.oauth.xoauth2.
mail_server_tokens`): Graph's, which `account NAME` checks, and Outlook's, which its IMAP and
SMTP logins use. When an IMAP spec or an SMTP setting logs in with such an account
(`account=NAME`), `account NAME imap/smtp` checks that second token too. Like every token
check it reads the vault and touches no network while the token is still valid (a token about
to expire is refreshed, as the next login would), and says nothing of the token itself.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterator
from pathlib import Path

from memory.credential_cipher import VaultError
from memory.db import AppDatabase
from memory.keys import KeySourceError
from memory.vault import CredentialVault
from tools.health.model import Check, Verdict
from tools.health.probes import account_verdict
from tools.mail.imap_spec import parse_imap_spec
from tools.mail.mailbox import MailboxEnv
from tools.mail.source_protocol import MailSourceError
from tools.mail.tools import SENDING_TOOLS
from tools.oauth.accounts import AccountStore, VaultTokens
from tools.oauth.providers import SEPARATE_MAIL_RESOURCE
from tools.oauth.tokens import AccessTokens, TokenError

MailTokens = Callable[[str], AccessTokens]
"""An account's name → the tokens of its IMAP and SMTP logins (raises `TokenError`)."""


def _mailboxes(env: MailboxEnv) -> Iterator[MailboxEnv]:
    """The mailbox and, for an inbox of several accounts, each account's own."""
    yield env
    yield from env.accounts.values()


def mail_server_logins(env: MailboxEnv) -> dict[str, bool]:
    """The OAuth accounts the mail servers log in with (`account=`), each with whether SMTP does.

    Read from the IMAP specs of the inbox (each account's, for a list) and from the SMTP
    settings (`SMTP_URL`, or each account's `SMTP_URL_<LABEL>`).
    """
    logins: dict[str, bool] = {}
    for mailbox in _mailboxes(env):
        if mailbox.source.lower().startswith("imap://"):
            try:
                name = parse_imap_spec(mailbox.source).account
            except MailSourceError:
                name = ""  # the source check says what is wrong with the spec
            if name:
                logins.setdefault(name, False)
        if mailbox.smtp is not None and mailbox.smtp.account:
            logins[mailbox.smtp.account] = True
    return logins


async def mail_server_verdict(name: str, tokens: MailTokens) -> Verdict:
    """The token of an account's IMAP and SMTP logins is usable (refreshed if about to expire).

    `down` with the one line that says what to run: connected without `--imap`, the grant
    revoked or expired.
    """

    def valid() -> str:
        found = tokens(name)
        found.access_token()
        return found.provider

    try:
        provider = await asyncio.to_thread(valid)
    except TokenError as err:
        return Verdict("down", str(err))
    return Verdict("ok", f"a {provider} IMAP and SMTP token for {name} is valid")


def account_checks(mailbox: MailboxEnv, db: AppDatabase, home: Path, timeout: float) -> list[Check]:
    """One check per account connected with OAuth, and one per Outlook IMAP/SMTP login.

    Blocking: the vault of the data directory `home` is read.
    """
    try:
        store = AccountStore(CredentialVault(db, home))
        accounts = [a for a in store.all() if a.provider != "imap"]
    except (VaultError, KeySourceError):
        return []  # the vault's own check says why it cannot be read
    checks = [
        Check(
            f"account {a.name}",
            "accounts",
            functools.partial(account_verdict, VaultTokens(store, a.name)),
            f"{a.kind} {a.address}",
            timeout,
        )
        for a in accounts
    ]
    separate = {a.name: a for a in accounts if a.provider in SEPARATE_MAIL_RESOURCE}
    logins = mail_server_logins(mailbox)

    def tokens(name: str) -> AccessTokens:
        return VaultTokens(store, name, mail_servers=True)

    for name, sends in logins.items():
        if name not in separate:
            continue  # Google's servers take the API token, checked above
        checks.append(
            Check(
                f"account {name} imap/smtp",
                "accounts",
                functools.partial(mail_server_verdict, name, tokens),
                f"{separate[name].kind} {separate[name].address} (Outlook's IMAP and SMTP)",
                timeout,
                tuple(SENDING_TOOLS) if sends else (),
            )
        )
    return checks
