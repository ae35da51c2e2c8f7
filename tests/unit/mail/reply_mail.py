"""A mailbox for the reply-tracking tests: the user's Sent mail and the answers to it.

Dates are counted back from now, so "asked five days ago" stays five days ago whenever the
tests run. Every message is raw mail, so it goes through the same parsing as real mail.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

ME = "dana@northwind.example"
BOB = "bob.stone@acme.example"
HELENA = "helena.brandt@fernhill.example"
CAMILLE = "camille@atelier-lumen.example"
JONAS = "jonas@fernhill.example"
CONTRACT = "contract-1@northwind.example"
"""Dana asked Bob for the signed contract five days ago; no answer."""
EXPORT = "export-1@northwind.example"
"""Dana asked Helena (in German) four days ago; no answer."""
PDF = "pdf-1@northwind.example"
"""Dana asked Camille (in French); Camille answered: nothing awaited."""
LIST_POST = "list-post-1@northwind.example"
"""Dana asked the team list something: never awaited."""
RECENT = "recent-1@northwind.example"
"""Dana asked Jonas yesterday: not overdue."""
QUESTION_FOR_DANA = "jonas-ask-1@fernhill.example"
"""Jonas asks Dana something: needs her reply."""
ROOM = "room-1@fernhill.example"
"""Jonas asked Dana about a room; her reply only quotes his question: nothing awaited."""


def _day(days_ago: float) -> str:
    return format_datetime(datetime.now(UTC) - timedelta(days=days_ago))


def _raw(
    message_id: str, sender: str, to: str, subject: str, days_ago: float, body: str, *extra: str
) -> str:
    headers = [
        f"Message-ID: <{message_id}>",
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {_day(days_ago)}",
        *extra,
        "Content-Type: text/plain; charset=utf-8",
    ]
    return "\n".join(headers) + "\n\n" + body + "\n"


SENT = {
    "1.contract:2,S": _raw(
        CONTRACT, f"Dana Whitfield <{ME}>", f"Bob Stone <{BOB}>", "Signed contract", 5,
        "Hi Bob,\n\nthe countersigned copy is still missing on our side.\n"
        "Could you send me the signed contract by Friday?\n\nThanks,\nDana",
    ),
    "2.export:2,S": _raw(
        EXPORT, f"Dana Whitfield <{ME}>", f"Helena Brandt <{HELENA}>", "Rechnungsexport", 4,
        "Hallo Helena,\n\nbitte schick mir den Rechnungsexport für November.\n\nViele Grüße\nDana",
    ),
    "3.pdf:2,S": _raw(
        PDF, f"Dana Whitfield <{ME}>", f"Camille Laurent <{CAMILLE}>", "PDF final", 6,
        "Bonjour Camille,\n\npourriez-vous m'envoyer le PDF final ?\n\nCordialement,\nDana",
    ),
    "4.list:2,S": _raw(
        LIST_POST, f"Dana Whitfield <{ME}>", "team@lists.northwind.example", "Build server", 6,
        "Who looks after the build server these days?",
    ),
    "6.room:2,S": _raw(
        "room-2@northwind.example", f"Dana Whitfield <{ME}>", f"Jonas Keller <{JONAS}>",
        "Re: Room", 5, "Booked room 4.12, see you there.\n\n"
        "On Mon, Jonas Keller wrote:\n> Can you book a room for Thursday?\n",
        f"In-Reply-To: <{ROOM}>",
    ),
    "5.recent:2,S": _raw(
        RECENT, f"Dana Whitfield <{ME}>", f"Jonas Keller <{JONAS}>", "Slides", 1,
        "Can you share the slides?",
    ),
}  # fmt: skip
INBOX = {
    "10.pdf-answer": _raw(
        "pdf-2@atelier-lumen.example", f"Camille Laurent <{CAMILLE}>", ME, "Re: PDF final", 5,
        "Bonjour Dana,\n\nle voici en pièce jointe.\n\nCamille",
        f"In-Reply-To: <{PDF}>", f"References: <{PDF}>",
    ),
    "11.list-mail": _raw(
        "list-1@lists.northwind.example", "Ann Lee <ann@northwind.example>",
        "team@lists.northwind.example", "Team lunch", 7, "Can everyone vote on the lunch place?",
        "List-Id: <team.lists.northwind.example>",
    ),
    "13.room": _raw(
        ROOM, f"Jonas Keller <{JONAS}>", ME, "Room", 6, "Can you book a room for Thursday?",
    ),
    "12.jonas-asks": _raw(
        QUESTION_FOR_DANA, f"Jonas Keller <{JONAS}>", ME, "Budget 2027", 2,
        "Hi Dana,\n\ncan you approve the 2027 budget draft by Monday?\n\nJonas",
    ),
}  # fmt: skip


def write_reply_mailbox(root: Path) -> Path:
    """The mailbox above as a Maildir with a `.Sent` folder."""
    for folder, messages in ((root, INBOX), (root / ".Sent", SENT)):
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        for name, raw in messages.items():
            sub = "cur" if ":2," in name else "new"
            (folder / sub / name).write_text(raw, encoding="utf-8")
    return root
