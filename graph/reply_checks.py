"""A reply as the user would write it, and what its approval card should point out.

Replies get a greeting and the user's sign-off (`reply_body`). Their card says when the
day or time the reply names is not one the sender proposed, or is already past, and when
every time the sender proposed is past. The sender's times are read structured from the
mail (`read_meeting_request`), and so are the reply's own: dates are only turned into text
on the card itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import parseaddr

from tools.calendar.meeting_request import RequestedTime, read_meeting_request
from tools.calendar.settings import user_time_zone
from tools.mail.compose import greeting_for, reply_text
from tools.mail.conversations import sent_at
from tools.mail.model import Email

SIGNATURE_VARIABLE = "SMART_INBOX_SIGNATURE"
"""The sign-off under every reply; `\\n` in it is a line break (`Best,\\nDana`)."""
NAME_VARIABLE = "SMART_INBOX_USER_NAME"
SIGN_OFF = "Best,"


def owner_name(environ: Mapping[str, str] | None = None, sender: str = "") -> str:
    """The user's name, for sign-offs: `SMART_INBOX_USER_NAME`, else the name in their From.

    `sender` is the From of the user's mail as the mailbox knows it (`SMTP_FROM`, or on the
    bundled demo its owner); without it, `SMTP_FROM` is read. Empty when none names them: a
    reply is then signed without a name rather than with a guess.
    """
    env = os.environ if environ is None else environ
    name = env.get(NAME_VARIABLE, "").strip()
    if name:
        return name
    return parseaddr(sender or env.get("SMTP_FROM", ""))[0].strip()


def reply_signature(environ: Mapping[str, str] | None = None, sender: str = "") -> str:
    """`SMART_INBOX_SIGNATURE`, else `Best,` over the user's first name (alone when unknown)."""
    env = os.environ if environ is None else environ
    configured = env.get(SIGNATURE_VARIABLE, "")
    if configured.strip():
        return configured.replace("\\n", "\n").strip()
    name = owner_name(env, sender)
    return f"{SIGN_OFF}\n{name.split()[0]}" if name else SIGN_OFF


def reply_body(
    to: str, words: str, environ: Mapping[str, str] | None = None, *, sender: str = ""
) -> str:
    """The user's words to `to` as a mail: greeting, words, sign-off (`sender` signs it)."""
    signature = reply_signature(environ, sender)
    return reply_text(words, greeting=greeting_for(to), signature=signature)


def _day(instant: datetime) -> str:
    return instant.strftime("%a %d %b %Y").replace(" 0", " ")


def _fits(said: RequestedTime, proposed: RequestedTime, zone: tzinfo) -> bool:
    """Whether what the reply names is what the sender proposed (same time, or inside it).

    A bare weekday ("Tuesday works") means the proposed day of that name, whichever week.
    """
    if said.exact and proposed.exact:
        return said.start == proposed.start
    if not said.exact and not any(c.isdigit() for c in said.text):
        return said.start.astimezone(zone).weekday() == proposed.start.astimezone(zone).weekday()
    return said.start < proposed.end and proposed.start < said.end


def _named(words: str, reference: datetime, zone: tzinfo) -> tuple[RequestedTime, ...]:
    """The days and times the reply's words name, counted from `reference`."""
    reply = Email(
        id="reply", source="", folder="", key="", body=words,
        date=reference.astimezone(zone).isoformat(),
    )  # fmt: skip
    return read_meeting_request(reply, zone=zone, now=reference, about_a_meeting=True).requested


def reply_time_notes(original: Email, words: str, *, now: datetime, zone: tzinfo) -> list[str]:
    """What the card of a reply to `original` should say about the times involved.

    Only for mail that proposes times (a meeting request): a reply naming a day elsewhere
    ("paid on Friday") may well mean a day gone by. `now` is the later of the clock and the
    mail's own date, so a mailbox dated ahead of the clock still reads sensibly.
    """
    proposed = read_meeting_request(original, zone=zone, now=now).requested
    if not proposed:
        return []
    now = max(now, sent_at(original))
    who = original.from_name.split()[0] if original.from_name else original.from_addr
    offered = ", ".join(f"“{p.text}”" for p in proposed)
    notes: list[str] = []
    past = [p for p in proposed if p.end <= now]
    if past:
        which = "Every time" if len(past) == len(proposed) else "Some of the times"
        notes.append(
            f"{which} {who} proposed is already past: "
            f"{', '.join(f'“{p.text}”' for p in past)} (today is {_day(now.astimezone(zone))})."
        )
    sent = sent_at(original)
    for said, said_today in zip(_named(words, sent, zone), _named(words, now, zone), strict=False):
        notes.extend(_said_notes(said, said_today, proposed, who, offered, now, sent, zone))
    return notes


def _said_notes(
    said: RequestedTime,
    said_today: RequestedTime,
    proposed: Sequence[RequestedTime],
    who: str,
    offered: str,
    now: datetime,
    sent: datetime,
    zone: tzinfo,
) -> list[str]:
    """Notes on one day or time the reply names: not proposed, or past."""
    if any(_fits(said, p, zone) for p in proposed):
        return []  # a proposed time: whether it is past is said once, for all of them
    notes = [f"Your reply names “{said.text}”, which {who} did not propose ({offered})."]
    if said.end <= now:
        day = _day(said.start.astimezone(zone))
        if said_today.start - said.start >= timedelta(days=1):
            notes.append(
                f"“{said.text}” counted from the mail's date ({_day(sent.astimezone(zone))}) is "
                f"{day}, already past; the next one is {_day(said_today.start.astimezone(zone))}. "
                f"Name the date so {who} knows which one you mean."
            )
        else:
            notes.append(f"“{said.text}” ({day}) is already past.")
    return notes


def reply_notes_now(original: Email, words: str) -> list[str]:
    """`reply_time_notes` at the current time in the user's zone (what the card shows)."""
    return reply_time_notes(original, words, now=datetime.now(UTC), zone=user_time_zone())
