"""A small mailbox whose search results are known, for the search tests on both databases.

Varied on purpose: invoices with PDFs, a meeting and the user's draft reply, German (umlauts,
a compound), French (accents), Japanese, a message whose text is full-text query syntax, two
messages with the same words in a different order, and three twins that differ only by date
or id (the tie-breaks).
"""

from __future__ import annotations

from datetime import date

from memory.mail_model import Attachment, Email

TODAY = date(2026, 12, 1)
SOURCE = "maildir:corpus"


def _mail(
    id: str,
    sender: tuple[str, str],
    subject: str,
    day: str,
    body: str,
    folder: str = "INBOX",
    files: tuple[str, ...] = (),
) -> Email:
    return Email(
        id=id,
        source=SOURCE,
        folder=folder,
        key=id,
        from_name=sender[0],
        from_addr=sender[1],
        subject=subject,
        date=f"{day}T09:00:00+01:00",
        body=body,
        attachments=tuple(Attachment(name, "application/octet-stream", 10) for name in files),
    )


ANNA = ("Anna Berg", "anna.berg@billing.example")
TEAM = ("Team", "team@acme.example")
TWINS = ("Twin Sender", "twin@acme.example")
CORPUS = (
    _mail(
        "inv-1",
        ANNA,
        "Invoice INV-1 overdue",
        "2026-11-28",
        "The invoice is overdue. Please pay by Friday.",
        files=("invoice-1.pdf",),
    ),
    _mail(
        "inv-2",
        ("Billing Bot", "bot@billing.example"),
        "Your receipt",
        "2026-11-30",
        "Thanks. This is a receipt for invoice INV-2, paid in full.",
        files=("receipt.pdf",),
    ),
    _mail("inv-3", ANNA, "Old invoice", "2026-06-01", "The invoice from June.", "Archive"),
    _mail(
        "meet-1",
        ("Sofia Marchetti", "sofia@northwind.example"),
        "Meeting on Thursday",
        "2026-11-29",
        "Can we meet on Thursday at 10? The agenda is attached.",
        files=("agenda.docx",),
    ),
    _mail(
        "draft-1",
        ("", "me@acme.example"),
        "Re: Meeting on Thursday",
        "2026-11-30",
        "Hi Sofia, Thursday works for me.",
        "Drafts",
    ),
    _mail(
        "de-1",
        ("Jürgen Müller", "juergen@firma.example"),
        "Rechnung für Oktober",
        "2026-11-20",
        "Die Überweisung der Rechnung ist fällig. Kundennummer 4711. "
        "Grüße von der Donaudampfschifffahrtsgesellschaft.",
        files=("Rechnung_Oktober.pdf",),
    ),
    _mail(
        "fr-1",
        ("Hélène Dubois", "helene@exemple.example"),
        "Réunion de mercredi",
        "2026-11-25",
        "Voici le résumé de la réunion — à bientôt « merci ».",
    ),
    _mail(
        "ja-1", ("田中", "tanaka@example.jp"), "会議の件", "2026-11-26", "東京 で 会議 を します。"
    ),
    _mail(
        "tricky-1",
        ("Ops", "ops@status.example"),
        'Status: "NEAR" OR *',
        "2026-11-27",
        'subject:secret {body}: x - NOT this AND that; quote " here ^ anchor',
    ),
    _mail("phrase-1", TEAM, "Late fee reminder", "2026-11-10", "A late fee applies now."),
    _mail("phrase-2", TEAM, "Fee is late", "2026-11-11", "The fee is late again."),
    _mail(
        "spam-1",
        ("Winner", "win@lottery.example"),
        "You won",
        "2026-11-30",
        "Claim it: invoice",
        "Spam",
    ),
    _mail("twin-b", TWINS, "Quarterly zebra", "2026-11-15", "zebra"),
    _mail("twin-a", TWINS, "Quarterly zebra", "2026-11-15", "zebra"),
    _mail("twin-c", TWINS, "Quarterly zebra", "2026-10-15", "zebra"),
)

EXPECTED: dict[str, list[str]] = {
    # Ranked by the parts a word is in (subject 8, sender 4, attachment 2, body 1), then
    # recency: inv-1 has it in three parts, inv-3 (old) in two, inv-2 and spam-1 in the body
    # only, on the same day: by id.
    "invoice": ["inv-1", "inv-3", "inv-2", "spam-1"],
    "inv": ["inv-1", "inv-3", "inv-2", "spam-1"],
    "receipt": ["inv-2"],
    "late fee": ["phrase-2", "phrase-1"],
    '"late fee"': ["phrase-1"],
    '"fee late"': [],
    "from:anna": ["inv-1", "inv-3"],
    "from:anna.berg@billing.example": ["inv-1", "inv-3"],
    "from:billing.example": ["inv-2", "inv-1", "inv-3"],
    "from:anna after:2026-11-01": ["inv-1"],
    "invoice before:2026-07-01": ["inv-3"],
    "after:2026-11-30": ["draft-1", "inv-2", "spam-1"],
    "after:2026-11-28 before:2026-11-30": ["meet-1", "inv-1"],
    "folder:archive": ["inv-3"],
    "label:Archive": ["inv-3"],
    "folder:spam invoice": ["spam-1"],
    "attachment:pdf": ["inv-2", "inv-1", "de-1"],
    "attachment:agenda": ["meet-1"],
    "attachment:invoice": ["inv-1"],
    "agenda": ["meet-1"],
    "draft sofia": ["draft-1"],
    "sofia": ["meet-1", "draft-1"],
    "thursday": ["draft-1", "meet-1"],
    # Accents, umlauts, a compound, Japanese.
    "rechnung": ["de-1"],
    "Überweisung": ["de-1"],
    "uberweisung": ["de-1"],
    "FÄLLIG": ["de-1"],
    "muller": ["de-1"],
    "Donaudampfschifffahrtsgesellschaft": ["de-1"],
    "donau": ["de-1"],
    '"dampf"': [],
    "reunion": ["fr-1"],
    "résumé": ["fr-1"],
    "helene": ["fr-1"],
    "merci bientot": ["fr-1"],
    "会議": ["ja-1"],
    "会議の件": ["ja-1"],
    "東京": ["ja-1"],
    # Query syntax of the databases, searched as words.
    '"NEAR"': ["tricky-1"],
    "near OR": ["tricky-1"],
    "subject:secret": ["tricky-1"],
    "{body}: x": ["tricky-1"],
    "NOT this AND that": ["tricky-1"],
    "-this -that": ["tricky-1"],
    "anchor^": ["tricky-1"],
    "^anchor": ["tricky-1"],
    "secret*": ["tricky-1"],
    "'secret'": ["tricky-1"],
    "sec:ret": [],
    'quote "here"': ["tricky-1"],
    'quote"here': ["tricky-1"],
    "zebra\x00": ["twin-a", "twin-b", "twin-c"],
    "status: near": ["tricky-1"],
    # Ties: same score, newest first, then by id.
    "zebra": ["twin-a", "twin-b", "twin-c"],
}
"""Each query's exact result ids, in order, with `today=TODAY` and `source=SOURCE`."""

BAD_QUERIES = {
    "***": "nothing to search for",
    "-": "nothing to search for",
    "from:": "from: needs a value",
    "from: anna": "from: needs a value",
    'attachment:""': "attachment: needs a value",
    "after:2026-13-01": "is not a day",
    "before:yesterday": "is not a day",
    "after:2026-12-01 before:2026-11-01": "holds no day",
    'quote " here': "never closed",
    "folder:": "folder: needs a value",
}
"""Queries that must be refused, with a part of the message that says why."""
