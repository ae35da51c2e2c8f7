"""Outgoing messages: new mail and replies with proper threading headers and quoting."""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from tools.mail.model import Email, without_quotes

MESSAGE_ID_DOMAIN = "smart-inbox.local"


def reply_subject(subject: str) -> str:
    """The subject with one `Re:` in front (none added when it already has one)."""
    subject = subject.strip()
    return subject if re.match(r"(?i)^re\s*:", subject) else f"Re: {subject}".rstrip()


def reply_recipients(
    original: Email, *, reply_all: bool, own: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    """To and Cc of a reply: Reply-To or the sender; with `reply_all`, the others minus you."""
    to = [original.reply_to or original.from_addr]
    cc: list[str] = []
    if reply_all:
        mine = {a.lower() for a in own} | {to[0].lower()}
        cc = [a for a in dict.fromkeys((*original.to, *original.cc)) if a.lower() not in mine]
    return [a for a in to if a], cc


def own_words(original: Email) -> str:
    """The message's own words: no earlier quotes, no signature, no empty-body marker."""
    return without_quotes(original.body).strip()


def quoted_text(original: Email) -> str:
    """The original's own words (no earlier quotes, no signature), each line quoted."""
    lines = own_words(original).splitlines()
    when = _display_date(original.date)
    header = f"On {when}, {original.sender} wrote:" if when else f"{original.sender} wrote:"
    return "\n".join([header, *(f"> {line}" if line else ">" for line in lines)])


def _display_date(iso: str) -> str:
    try:
        return format_datetime(datetime.fromisoformat(iso))
    except ValueError:
        return ""


def new_message(
    *, sender: str, to: list[str], subject: str, body: str, cc: list[str] | None = None
) -> EmailMessage:
    """A new plain-text message with a fresh Message-ID."""
    message = EmailMessage()
    if sender:
        message["From"] = sender
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now().astimezone())
    message["Message-ID"] = make_msgid(domain=MESSAGE_ID_DOMAIN)
    message.set_content(body)
    return message


def reply_message(
    original: Email,
    *,
    sender: str,
    body: str,
    reply_all: bool = False,
    own: tuple[str, ...] = (),
) -> EmailMessage:
    """A reply: `Re:` subject, `In-Reply-To` and `References`, the original quoted below."""
    to, cc = reply_recipients(original, reply_all=reply_all, own=own)
    text = body.rstrip() + "\n\n" + quoted_text(original) + "\n"
    message = new_message(
        sender=sender, to=to, cc=cc, subject=reply_subject(original.subject), body=text
    )
    if reference := original.reply_reference:
        message["In-Reply-To"] = f"<{reference}>"
        chain = [r for r in original.references if r != reference][-20:]
        message["References"] = " ".join(f"<{r}>" for r in (*chain, reference))
    return message
