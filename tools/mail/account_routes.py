"""How each account of an inbox list sends: its own From address and its own way out.

A reply must leave from the account the mail came to, so no account borrows another's
settings: a Gmail or Microsoft 365 account sends through its provider as the address it was
granted as; a Maildir or IMAP account through its own `SMTP_URL_<LABEL>`, as
`SMTP_FROM_<LABEL>` (else its IMAP login when that is an address). The one-source settings
`SMTP_URL` and `SMTP_FROM` are not used for a list.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from memory.secrets import SecretLookup
from tools.mail.account_list import AccountSpec, setting_suffix
from tools.mail.gmail.source import granted_address as gmail_address
from tools.mail.imap_spec import parse_imap_spec
from tools.mail.smtp_settings import SmtpConfigError, SmtpSettings, smtp_settings_from_env
from tools.mail.source_protocol import MailSourceError
from tools.msgraph.account import granted_address as outlook_address

PROVIDER_SENDS = ("gmail:", "outlook:")


@dataclass(frozen=True)
class AccountRoute:
    """One account's way out: its label, its own source spec, its SMTP server, its From."""

    label: str
    source: str
    smtp: SmtpSettings | None
    """Its own `SMTP_URL_<LABEL>`; None for a provider that sends itself, or when unset."""
    sender: str
    """The From of its mail; '' when none is known (then it cannot send)."""


def account_route(
    account: AccountSpec, secrets: SecretLookup | None, environ: Mapping[str, str] | None = None
) -> AccountRoute:
    """The route of one account, read from its own settings (blocking: the vault).

    Raises:
        SmtpConfigError: its `SMTP_URL_<LABEL>` (or `SMTP_CA_FILE_<LABEL>`) is unusable.

    """
    env = os.environ if environ is None else environ
    suffix = setting_suffix(account.label)
    lowered = account.spec.lower()
    smtp = None
    if not lowered.startswith(PROVIDER_SENDS):
        own = {
            "SMTP_URL": env.get(f"SMTP_URL_{suffix}", ""),
            "SMTP_CA_FILE": env.get(f"SMTP_CA_FILE_{suffix}", ""),
            "SMTP_TIMEOUT": env.get("SMTP_TIMEOUT", ""),
            "SMTP_PASSWORD": env.get(f"SMTP_PASSWORD_{suffix}", ""),
        }
        try:
            smtp = smtp_settings_from_env(own, secrets=None if own["SMTP_PASSWORD"] else secrets)
        except SmtpConfigError as err:
            raise SmtpConfigError(f"account {account.label}: {err} (SMTP_URL_{suffix})") from None
    sender = env.get(f"SMTP_FROM_{suffix}", "").strip()
    if not sender and lowered.startswith("gmail:"):
        sender = gmail_address(account.spec, secrets)
    elif not sender and lowered.startswith("outlook:"):
        sender = outlook_address(account.spec, secrets)
    elif not sender and lowered.startswith("imap:"):
        sender = _imap_login(account.spec)
    if not sender and smtp is not None and "@" in smtp.username:
        sender = smtp.username
    return AccountRoute(account.label, account.spec, smtp, sender)


def _imap_login(spec: str) -> str:
    """The IMAP login of an account when it is a mail address ('' otherwise)."""
    try:
        user = parse_imap_spec(spec).user
    except MailSourceError:
        return ""
    return user if "@" in user else ""
