"""Outgoing messages: new mail and replies with proper threading headers and quoting.

A reply's text is a whole mail: a greeting to the person answered, the user's words, and
their sign-off (`reply_text`); a text that already has them is left as written.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from tools.mail.conversations import ROLE_MAILBOXES
from tools.mail.language import is_closing, is_greeting
from tools.mail.model import Email, without_quotes

MESSAGE_ID_DOMAIN = "smart-inbox.local"


def reply_subject(subject: str) -> str:
    """The subject with one `Re:` in front (none added when it already has one)."""
    subject = subject.strip()
    return subject if re.match(r"(?i)^re\s*:", subject) else f"Re: {subject}".rstrip()


NOT_A_PERSONS_NAME = re.compile(
    r"\b(?:team|support|billing|office|accounts?|credit|control|data|centers?|centres?|inc|ltd|"
    r"llc|gmbh|ag|sa|corp|group|department|desk|helpdesk|notifications?|alerts?|no-?reply|"
    r"service|services|website|calendar|system|admin|administrator|news|digest|updates)\b",
    re.IGNORECASE,
)
"""Words of a display name that belong to an organisation or a robot, not a person."""
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def greeting_for(sender: str) -> str:
    """`Hi Sofia,` for a person's `Sofia Marchetti <sofia@…>`; `Hello,` when no first name fits.

    An organisation, a shared mailbox or a bare address gets no name. A name in a script
    written family name first (佐藤 健司) is used whole, with the polite suffix of Japanese mail.
    """
    name, address = parseaddr(sender)
    name = " ".join(name.replace('"', "").split())
    local = address.split("@", 1)[0]
    if not name or NOT_A_PERSONS_NAME.search(name) or ROLE_MAILBOXES.match(local):
        return "Hello,"
    if _CJK.search(name):
        return f"{name} 様"
    if "," in name:  # "Whitfield, Dana"
        name = name.split(",", 1)[1].strip()
    first = name.split()[0]
    if not re.fullmatch(r"[^\W\d_][\w'’-]+", first) or len(name.split()) > 4:
        return "Hello,"
    return f"Hi {first},"


def reply_text(words: str, *, greeting: str, signature: str) -> str:
    """The user's words as a mail: greeting, words (a sentence, ended), sign-off.

    Words that already open with a greeting or close with a sign-off keep theirs; empty
    words stay empty (there is nothing to send).
    """
    body = words.strip()
    if not body:
        return ""
    lines = body.splitlines()
    if len(lines) == 1 and body[-1].isalnum():
        body += "."  # "Thursday works" typed in a chat is a sentence of the mail
    parts = []
    if greeting and not is_greeting(lines[0]):
        parts.append(greeting)
    parts.append(body)
    signed = any(is_closing(line) for line in lines[-3:])
    if signature.strip() and not signed and signature.strip() not in body:
        parts.append(signature.strip())
    return "\n\n".join(parts)


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
