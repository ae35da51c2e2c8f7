"""Who a CRM record made from a mail is: the address and name the call gives, else the sender's.

Salesforce leads and HubSpot contacts are made the same way; they differ only in the word for
the record and in where a single name goes (Salesforce requires a last name, HubSpot's form
fills in the first).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from memory.db import AppDatabase
from tools.toolkit import mail_with_triage

SingleName = Literal["first", "last"]
"""Where a name of one word goes."""


@dataclass(frozen=True)
class MailPerson:
    """The person a record is made for: address and name, and what the card should say."""

    address: str
    """Lower-cased; not yet checked to be an address (each CRM says what it needs)."""
    first: str
    last: str
    notes: tuple[str, ...]
    email_id: str


def split_name(name: str, *, single: SingleName) -> tuple[str, str]:
    """(first, last) of a display name: `Jorge Alvarez` or `Alvarez, Jorge`; quotes dropped."""
    name = " ".join(name.replace('"', "").split())
    if "," in name:  # "Alvarez, Jorge"
        last, _, first = name.partition(",")
        return first.strip(), last.strip()
    first, _, last = name.partition(" ")
    if not last and single == "last":
        return "", first
    return first, last


def person_from_mail(
    db: AppDatabase, args: Mapping[str, Any], *, record: str, single: SingleName
) -> MailPerson:
    """The call's `email`, `first_name` and `last_name`, else the sender of its `email_id` mail.

    The Reply-To wins over the From when they differ (web-form leads), and then no name is
    taken from the From, which is someone else's; a note on the card says so. `record` names
    the record in that note ("lead", "contact").

    Raises:
        ToolFailure: `email_id` names no message of the mailbox.

    """
    email_id = str(args.get("email_id") or "").strip()
    address = str(args.get("email") or "").strip().lower()
    first = str(args.get("first_name") or "").strip()
    last = str(args.get("last_name") or "").strip()
    notes: list[str] = []
    if email_id:
        mail, _ = mail_with_triage(db, email_id)
        if not address:
            if mail.reply_to and mail.reply_to.lower() != mail.from_addr.lower():
                address = mail.reply_to.lower()
                notes.append(
                    f"The mail came from {mail.from_addr} but asks for replies to "
                    f"{mail.reply_to}: the {record} gets the Reply-To address."
                )
            else:
                address = mail.from_addr.lower()
                if not (first or last):
                    first, last = split_name(mail.from_name, single=single)
    return MailPerson(address, first, last, tuple(notes), email_id)
