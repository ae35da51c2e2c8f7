"""The user's outgoing mail before it leaves: planned for the approval card, composed, drafted.

The card shows what a call would really send (envelope recipients, subject, body), worked
out from the call's arguments and the mailbox, never from a model's description.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

from tools.mail.compose import new_message, reply_message, reply_subject
from tools.mail.mailbox import (
    NO_SENDER,
    MailboxEnv,
    account_for,
    chosen_account,
    how_to,
    missing_for_sending,
    original_message,
    outbox_note,
    sending_account,
    sending_problem,
    sends_through_source,
)
from tools.mail.model import Email
from tools.mail.source_protocol import MailSourceError
from tools.mail.sources import parse_source_spec
from tools.toolkit import ToolFailure


def address_list(value: str) -> list[str]:
    """The addresses of a comma- or semicolon-separated list, as a call gives them."""
    return [part.strip() for part in re.split(r"[,;]", value) if part.strip()]


def header_addresses(message: EmailMessage, name: str) -> list[str]:
    """The addresses a mail server is given for one header, read back as sending reads it."""
    return [a for _, a in getaddresses([str(v) for v in message.get_all(name, [])]) if a]


def _envelope(parts: list[str]) -> list[str]:
    """The addresses sending would use for these recipients: the header built and read back.

    A quoted local part or a comment is what the server gets without them
    (`"archive"@x` is `archive@x`, `mallory(x)@y` is `mallory@y`).
    """
    message = EmailMessage()
    try:
        message["To"] = ", ".join(parts)
    except ValueError:
        return parts  # a line break: sending refuses the header, so the card shows the text
    return header_addresses(message, "To")


@dataclass(frozen=True)
class MailAction:
    """What a mail tool call would do, worked out from its real arguments and the mailbox."""

    to: list[str]
    """The envelope addresses the server is given (not the text the call was written with)."""
    cc: list[str]
    subject: str
    body: str
    """The text the user's mail will carry (a reply's quote of the original included)."""
    reply_of: Email | None = None
    """The message being answered, for replies."""
    sender: str = ""
    """The From it will carry ('' when no address is known)."""
    notes: tuple[str, ...] = ()
    """What the person deciding should know about where it goes (a local outbox, a setting
    that is still missing), so a call never fails for a setting only after it was approved."""
    account: str = ""
    """The account it goes out from, when the inbox is several ('' for one source)."""


def plan_mail_action(env: MailboxEnv, name: str, args: dict[str, Any]) -> MailAction | None:
    """The recipients, subject and body a mail tool call would use; None for other tools.

    Synchronous (reads the database); the approval step shows this on the card, so the
    person sees the real recipient and content, never a description written by a model.
    """
    action = _planned_action(env, name, args)
    if action is None:
        return None
    try:
        route = _route(env, action)
    except ToolFailure as err:
        return replace(action, sender="", notes=(f"This will fail: {err}",))
    return replace(
        action, sender=route.sender, notes=delivery_notes(route, name), account=route.account
    )


def _route(env: MailboxEnv, action: MailAction) -> MailboxEnv:
    """The mailbox the action goes out through: `env` itself for an inbox of one source.

    In an inbox of several accounts: the account of the message answered, else the account
    the call names (new mail), else the first.
    """
    if action.reply_of is not None:
        return replying_account(env, action.reply_of, action.account)
    if not env.accounts and not action.account:
        return env
    chosen = chosen_account(env, action.account)
    return sending_account(env, new_message(sender=chosen.sender, to=[], subject="", body=""))


ACCOUNT_TOOLS = ("send_email", "save_draft")
"""The mail calls that take `account=`: new mail, and a draft (new or a reply)."""


def send_refusal(env: MailboxEnv, name: str, args: dict[str, Any]) -> str:
    """Why a new mail or draft call cannot run at all, known before any card ('' when it can).

    The account it names is none of the inbox's: nobody is asked to approve a mail (or a
    draft) that would be written in the name of an account that does not exist.
    """
    if name not in ACCOUNT_TOOLS:
        return ""
    try:
        chosen_account(env, str(args.get("account") or ""))
    except ToolFailure as err:
        return str(err)
    return ""


def delivery_notes(env: MailboxEnv, name: str) -> tuple[str, ...]:
    """Where a mail call's message will really go, and every setting it still lacks."""
    missing = missing_for_sending(env)
    if name == "save_draft":
        notes = []
        if not env.sender:
            notes.append(f"The draft will have no From address: {NO_SENDER.how}")
        if missing:
            notes.append(f"Only a draft: sending needs what is missing here ({how_to(missing)})")
        return tuple(notes)
    if missing:
        return (f"This will fail: {sending_problem(env)}",)
    if sends_through_source(env.source):
        return (f"Sent through {env.source}, which keeps the copy in Sent.",)
    if env.smtp is not None:
        if env.smtp.password_problem:
            return (f"This will fail until it is fixed: {env.smtp.password_problem}",)
        return ()
    return (outbox_note(env) + ".",)


def _planned_action(env: MailboxEnv, name: str, args: dict[str, Any]) -> MailAction | None:
    body = str(args.get("body", ""))
    if name == "send_email":
        return MailAction(
            to=_envelope(address_list(str(args.get("to", "")))),
            cc=_envelope(address_list(str(args.get("cc", "")))),
            subject=str(args.get("subject", "")),
            body=body,
            account=str(args.get("account") or ""),
        )
    reply_id = str(args.get("email_id" if name == "reply_to_email" else "in_reply_to_id", ""))
    if name not in ("reply_to_email", "save_draft"):
        return None
    original = env.db.get_email(reply_id) if reply_id else None
    account = str(args.get("account") or "") if name == "save_draft" else ""
    if name == "save_draft" and (original is None or args.get("to")):
        return MailAction(
            to=_envelope(address_list(str(args.get("to", "")))),
            cc=[],
            subject=str(args.get("subject", ""))
            or (reply_subject(original.subject) if original else ""),
            body=body,
            reply_of=original,
            account=account,
        )
    if original is None:
        return MailAction(to=[], cc=[], subject="", body=body, account=account)
    message = reply_message(
        original,
        sender=env.sender,
        body=body,
        reply_all=bool(args.get("reply_all")),
        own=env.user_addresses,
    )
    return MailAction(
        to=header_addresses(message, "To"),
        cc=header_addresses(message, "Cc"),
        subject=str(message["Subject"]),
        body=message.get_content(),
        reply_of=original,
        account=account,
    )


def replying_account(env: MailboxEnv, original: Email, account: str = "") -> MailboxEnv:
    """The mailbox a reply to `original` goes from: the account it came to, whatever is named.

    Raises:
        ToolFailure: `account` names no account of the inbox, or another account than the
            one the message came to (a reply never leaves in another account's name).

    """
    route = account_for(env, original)
    if account.strip() and chosen_account(env, account) is not route:
        raise ToolFailure(
            f"the message {original.id!r} came to the account {route.account!r}, so its reply "
            f"goes from there, not from {account.strip()!r}: leave `account` out"
        )
    return route


def compose_draft(
    env: MailboxEnv,
    *,
    body: str,
    to: str = "",
    subject: str = "",
    in_reply_to_id: str = "",
    account: str = "",
) -> tuple[EmailMessage, Email | None]:
    """A draft: a reply quoting the original when `in_reply_to_id` is given, else a new message.

    A reply is From the account its message came to; a new draft From the account named
    (else the first, or the one source), as `send_email`.

    Raises:
        ToolFailure: no recipient, no such message, or `account` is none of the inbox's (or,
            for a reply, not the account its message came to).

    """
    if in_reply_to_id:
        original = original_message(env, in_reply_to_id)
        route = replying_account(env, original, account)
        message = reply_message(original, sender=route.sender, body=body, own=route.user_addresses)
        if to:
            message.replace_header("To", ", ".join(address_list(to)))
        if subject:
            message.replace_header("Subject", subject)
        return message, original
    sender = chosen_account(env, account).sender
    if not to.strip():
        raise ToolFailure(
            "a draft needs a recipient (`to`) or a message to reply to (`in_reply_to_id`)"
        )
    return new_message(sender=sender, to=address_list(to), subject=subject, body=body), None


def compose_new(
    env: MailboxEnv, *, to: str, subject: str, body: str, cc: str = "", account: str = ""
) -> EmailMessage:
    """A new message from the user, From the account named (else the first, or the one source).

    Raises:
        ToolFailure: no recipient, or `account` is none of the inbox's.

    """
    sender = chosen_account(env, account).sender
    recipients = address_list(to)
    if not recipients:
        raise ToolFailure("send_email needs at least one recipient in `to`")
    return new_message(
        sender=sender, to=recipients, cc=address_list(cc), subject=subject, body=body
    )


def compose_reply(env: MailboxEnv, *, email_id: str, body: str, reply_all: bool) -> EmailMessage:
    """A reply to a message of the mailbox: threaded, `Re:` subject, the original quoted."""
    original = original_message(env, email_id)
    route = account_for(env, original)  # from the account the mail came to, or refused
    return reply_message(
        original, sender=route.sender, body=body, reply_all=reply_all, own=route.user_addresses
    )


def store_draft(env: MailboxEnv, message: EmailMessage) -> tuple[str, str]:
    """Keep a draft in the Drafts folder; returns its key and a sentence saying so.

    Blocking: a Maildir file, or an APPEND to an IMAP server's Drafts folder. In an inbox of
    several accounts, the account whose address the draft is From keeps it.
    """
    env = sending_account(env, message)
    try:
        key = parse_source_spec(env.source, secrets=env.secrets).save_draft(bytes(message))
    except MailSourceError as err:
        raise ToolFailure(f"the draft was not saved: {err}") from err
    text = f"Draft saved in Drafts (key {key}) to {message['To']}, subject {message['Subject']!r}."
    return key, text
