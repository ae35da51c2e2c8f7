"""The mailbox the mail tools work on, injected at call time and never seen by the model.

It names the source, whose mail it is and where sent mail goes (SMTP, or the bundled
demo's local outbox), and says which settings sending still lacks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

from memory.db import AppDatabase
from memory.secrets import SecretLookup
from tools.mail.account_list import is_account_list, parse_account_list
from tools.mail.account_routes import account_route
from tools.mail.demo import demo_outbox, demo_owner, demo_working_copy, is_demo_inbox
from tools.mail.gmail.source import granted_address as gmail_address
from tools.mail.model import Email
from tools.mail.smtp_settings import SmtpSettings
from tools.mail.source_protocol import MailSourceError
from tools.mail.sync import canonical_spec
from tools.msgraph.account import granted_address as outlook_address
from tools.toolkit import ToolFailure


@dataclass(frozen=True)
class MailboxEnv:
    """What the mail tools need at run time, injected by `act`."""

    db: AppDatabase
    source: str
    smtp: SmtpSettings | None = None
    """Where mail is sent; None when `SMTP_URL` is not set (then only to `outbox`, if any)."""
    sender: str = ""
    """The From address of mail the user sends."""
    user_addresses: tuple[str, ...] = ()
    """The user's own addresses, left out of reply-all."""
    secrets: SecretLookup | None = None
    """Where a source's credentials (the IMAP password) are looked up; None: the environment."""
    outbox: Path | None = None
    """The local outbox (a Maildir) of the bundled demo: it takes the mail when `smtp` is None.
    None for every other inbox, where sending then needs `SMTP_URL`."""
    accounts: Mapping[str, MailboxEnv] = field(default_factory=dict)
    """For an inbox of several accounts, each account's own mailbox by label (its source,
    SMTP and From): what a reply, a draft or an inbox action of its mail goes through.
    Empty for an inbox of one source."""
    account: str = ""
    """The label of the account this mailbox is, within a list; '' otherwise."""


def original_message(env: MailboxEnv, email_id: str) -> Email:
    """The message a reply answers, or `ToolFailure` when the mailbox has no such id."""
    original = env.db.get_email(email_id)
    if original is None:
        raise ToolFailure(f"no message with id {email_id!r} to reply to")
    return original


def account_for(env: MailboxEnv, email: Email) -> MailboxEnv:
    """The mailbox of the account `email` came to: `env` itself for an inbox of one source.

    Raises:
        ToolFailure: the message is not of this inbox, or its account is no longer one of the
            inbox's (removed from the list since), so nothing can go out in its name.

    """
    if not env.accounts:
        return env
    account = env.accounts.get(email.account) if email.source == env.source else None
    if account is None or not email.key.startswith(f"{email.account}/"):
        raise ToolFailure(
            f"the message {email.id!r} came to the account {email.account or '(none)'!r}, which "
            f"is not one of this inbox's accounts ({', '.join(env.accounts)}): nothing is done "
            "in its name"
        )
    return account


def chosen_account(env: MailboxEnv, label: str) -> MailboxEnv:
    """The mailbox new mail goes out from: the account named `label` (any case), else the first.

    `env` itself for an inbox of one source when no account is named.

    Raises:
        ToolFailure: `label` is no account of this inbox (or the inbox is one source), so
            nothing is written or sent in its name.

    """
    wanted = label.strip()
    if not env.accounts:
        if wanted:
            raise ToolFailure(
                f"the inbox is one source, not several accounts, so there is no account "
                f"{wanted!r} to send from: leave `account` out"
            )
        return env
    if not wanted:
        return next(iter(env.accounts.values()))
    for name, account in env.accounts.items():
        if name.lower() == wanted.lower():
            return account
    raise ToolFailure(
        f"the inbox has no account {wanted!r} (its accounts: {', '.join(env.accounts)}): "
        "nothing is sent"
    )


def sending_account(env: MailboxEnv, message: EmailMessage) -> MailboxEnv:
    """The mailbox of the account whose address `message` is From: `env` for one source.

    Raises:
        ToolFailure: no account, or more than one, has that address: nothing is sent.

    """
    if not env.accounts:
        return env
    address = parseaddr(str(message["From"] or ""))[1].lower()
    owners = [
        a
        for a in env.accounts.values()
        if address and parseaddr(a.sender)[1].lower() == address  # `Dana <dana@…>` too
    ]
    if len(owners) != 1:
        known = ", ".join(f"{a.account} <{a.sender or '?'}>" for a in env.accounts.values())
        why = "more than one account has" if owners else "no account of this inbox has"
        raise ToolFailure(f"nothing sent: {why} the From address {address!r} ({known})")
    return owners[0]


@dataclass(frozen=True)
class MissingSetting:
    """A setting something needs that is not set: what is missing, and how to set it."""

    what: str
    how: str


NO_SMTP_URL = MissingSetting(
    "SMTP_URL is not set", "set SMTP_URL to your mail server (smtp[s]://user@host[:port])"
)
NO_SENDER = MissingSetting(
    "no From address is known",
    "set SMTP_FROM to your address (or SMART_INBOX_USER_EMAILS to your addresses)",
)


SOURCES_THAT_SEND = ("outlook:", "gmail:")
"""Inboxes whose own API sends mail (and keeps the Sent copy): no SMTP server is needed."""


def sends_through_source(source: str) -> bool:
    """Whether mail from this inbox is sent by its own API (Graph, Gmail) rather than SMTP."""
    return source.strip().lower().startswith(SOURCES_THAT_SEND)


def outbox_note(env: MailboxEnv) -> str:
    """What a card says when the mail goes to the demo's local outbox."""
    return (
        f"Nothing leaves this machine: the bundled demo delivers to its local outbox "
        f"({env.outbox}); set SMTP_URL to send for real"
    )


def missing_for_sending(env: MailboxEnv) -> list[MissingSetting]:
    """Every setting sending lacks here (none when mail can go out, over SMTP or to the outbox).

    Read when the catalogue is built and when a card is written, so a send that cannot run
    is said to be so before anyone approves it, never only afterwards.
    """
    if env.accounts:  # sending works when one account can; each card says for its own
        each = [missing_for_sending(account) for account in env.accounts.values()]
        return [] if any(not m for m in each) else each[0]
    missing = []
    if env.smtp is None and env.outbox is None and not sends_through_source(env.source):
        missing.append(NO_SMTP_URL)
    if not env.sender:
        missing.append(NO_SENDER)
    return missing


def what_is_missing(missing: list[MissingSetting]) -> str:
    """`SMTP_URL is not set and no From address is known`."""
    return " and ".join(m.what for m in missing)


def how_to(missing: list[MissingSetting]) -> str:
    """`set SMTP_URL to … and set SMTP_FROM to …`."""
    return " and ".join(m.how for m in missing)


def sending_problem(env: MailboxEnv) -> str:
    """Why no mail can be sent here and how to fix it, in one sentence; '' when it can."""
    missing = missing_for_sending(env)
    if not missing:
        return ""
    return (
        f"sending is unavailable: {what_is_missing(missing)}, so nothing is sent "
        f"(drafts still work); to send, {how_to(missing)}"
    )


def sender_address(
    smtp: SmtpSettings | None,
    user_addresses: tuple[str, ...],
    environ: Mapping[str, str] | None = None,
) -> str:
    """The From of sent mail: `SMTP_FROM`, else your first address, else the SMTP login."""
    env = os.environ if environ is None else environ
    if env.get("SMTP_FROM", "").strip():
        return env["SMTP_FROM"].strip()
    if user_addresses:
        return user_addresses[0]
    if smtp is not None and "@" in smtp.username:
        return smtp.username
    return ""


def open_mailbox_env(
    db: AppDatabase,
    inbox: str,
    home: Path,
    *,
    user_addresses: tuple[str, ...],
    smtp: SmtpSettings | None,
    secrets: SecretLookup | None = None,
    environ: Mapping[str, str] | None = None,
) -> MailboxEnv:
    """The mailbox the tools work on: its source, whose it is, where sent mail goes. Blocking.

    The one place the bundled demo differs from any other inbox: it is worked on as a copy in
    the data directory `home` (the repository's folder is never written), its owner
    (`owner.json`) is the user when neither `SMTP_FROM` nor `SMART_INBOX_USER_EMAILS` is set,
    and its mail goes to a local outbox in `home` when `SMTP_URL` is not set. Explicit
    settings always win. A source that cannot be opened is kept as given: fetching it reports
    why.

    Raises:
        DemoInboxError: the demo's owner cannot be read or its copy cannot be made.

    """
    env = os.environ if environ is None else environ
    if is_account_list(inbox):
        return _accounts_env(db, inbox, user_addresses=user_addresses, secrets=secrets, env=env)
    if not is_demo_inbox(inbox):
        try:
            source = canonical_spec(inbox)
        except MailSourceError:
            source = inbox
        sender = sender_address(smtp, user_addresses, env)
        if not sender and sends_through_source(source):
            granted = gmail_address if source.lower().startswith("gmail:") else outlook_address
            sender = granted(source, secrets)
        return MailboxEnv(
            db=db,
            source=source,
            smtp=smtp,
            sender=sender,
            user_addresses=user_addresses,
            secrets=secrets,
        )
    sender = sender_address(smtp, user_addresses, env)
    if not user_addresses and not env.get("SMTP_FROM", "").strip():
        owner = demo_owner()
        user_addresses, sender = (owner.address,), owner.sender
    return MailboxEnv(
        db=db,
        source=canonical_spec(f"maildir:{demo_working_copy(home)}"),
        smtp=smtp,
        sender=sender,
        user_addresses=user_addresses,
        secrets=secrets,
        outbox=demo_outbox(home),
    )


def _accounts_env(
    db: AppDatabase,
    inbox: str,
    *,
    user_addresses: tuple[str, ...],
    secrets: SecretLookup | None,
    env: Mapping[str, str],
) -> MailboxEnv:
    """The mailbox of an inbox list: one mailbox per account (`tools.mail.account_routes`).

    Every account's address is the user's own; new mail goes from the first account unless
    the call names another (`chosen_account`).
    """
    try:
        source = canonical_spec(inbox)
        listed = parse_account_list(source)
    except MailSourceError:
        source, listed = inbox.strip(), parse_account_list(inbox)
    routes = [account_route(account, secrets, env) for account in listed]
    own = tuple(dict.fromkeys([*user_addresses, *(r.sender for r in routes if r.sender)]))
    accounts = {
        r.label: MailboxEnv(
            db=db,
            source=r.source,
            smtp=r.smtp,
            sender=r.sender,
            user_addresses=own,
            secrets=secrets,
            account=r.label,
        )
        for r in routes
    }
    first = accounts[routes[0].label]
    return MailboxEnv(
        db=db,
        source=source,
        sender=first.sender,
        user_addresses=own,
        secrets=secrets,
        accounts=accounts,
    )
