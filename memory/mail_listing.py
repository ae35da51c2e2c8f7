"""The inbox as its whole-mailbox lists need it: small messages and compact triage rows.

The triage command's inbox list, the conversations of a triage run and a mailbox's profile
hold every message of the mailbox at once. Here each is read as an `Email` with only what
those lists read (who, to whom, when, the subject and the threading headers: no body, raw
headers, attachments or key), its repeated text (senders, subjects, folders, triage reasons)
held once, and its triage as a tuple made into a `TriageRecord` only when one is looked at:
about a third of what a message without its body and an ORM triage row take.
"""

from __future__ import annotations

import ctypes
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlmodel import Session, col, select

from memory.db import CATEGORY_ORDER, PRIORITY_ORDER, stored_data
from memory.mail_model import Email
from memory.mail_tables import StoredEmail, TriageRecord

LISTED_FIELDS = (
    "id",
    "source",
    "folder",
    "from_name",
    "from_addr",
    "reply_to",
    "subject",
    "date",
    "in_reply_to",
    "message_id",
    "digest",
    "thread_id",
    "account",
    "error",
)
"""The text fields a listed message keeps (with `to`, `cc` and `references`)."""
_LISTS = ("to", "cc", "references")
TRIAGE_FIELDS = tuple(
    c.name
    for c in TriageRecord.__table__.columns  # type: ignore[attr-defined]
    if c.name != "email_id"
)
"""The triage columns a compact row keeps, in this order."""
_POSITION = {name: n for n, name in enumerate(TRIAGE_FIELDS)}
_CHUNK = 500
_NO_HEADERS: dict[str, str] = {}
"""The raw headers of every listed message, which no list reads: one empty dict, never written
to (an `Email` is read-only), rather than one each (8 MiB of a 100,000-message list)."""


class Shared(dict[str, str]):
    """One object per distinct text: repeated senders, subjects and reasons are held once."""

    def one(self, text: str) -> str:
        """`text`, or the equal text seen first."""
        return self.setdefault(text, text)

    @classmethod
    def of(cls, texts: Iterable[str]) -> Shared:
        """Seeded with `texts`: the ids a caller asks for and holds already are not copied.

        A triage run holds the ids of every new message (all of a first triage's) while it
        lists them; each listed message's id, and every reply's reference to it, is then the
        caller's string rather than a second copy of 100,000 ids.
        """
        return cls((text, text) for text in texts)


def listed_email(data: str, shared: Shared) -> Email:
    """The message of a cache row's `data`, as the whole-mailbox lists need it."""
    raw: dict[str, Any] = json.loads(data)
    one = shared.setdefault  # `Shared.one`, without a call of its own for each of many texts
    values: dict[str, Any] = {
        name: one(value, value) for name in LISTED_FIELDS if (value := raw.get(name)) is not None
    }
    for name in _LISTS:
        values[name] = tuple([one(item, item) for item in raw.get(name) or ()])
    if "message_id" not in raw and not str(raw.get("id", "")).startswith("sha256:"):
        values["message_id"] = values.get("id", "")  # cached before the field existed
    if values.get("message_id") == values.get("id"):
        values["message_id"] = values["id"]
    return Email(key="", headers=_NO_HEADERS, **values)


class CompactTriage(Mapping[str, TriageRecord]):
    """Triage rows by message id, kept as tuples of shared text.

    A row looked up is made into a `TriageRecord` (not tracked by a session) each time.
    """

    def __init__(self) -> None:
        """An empty map; `add` fills it."""
        self._rows: dict[str, tuple[Any, ...]] = {}
        self._alike: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def add(self, email_id: str, row: Sequence[Any], shared: Shared) -> None:
        """Keep the triage columns `row` (in `TRIAGE_FIELDS` order) of message `email_id`."""
        one = shared.setdefault
        kept = tuple([one(v, v) if isinstance(v, str) else v for v in row])
        # Rows alike (one rule's verdict, saved in one second) are held once too.
        self._rows[email_id] = self._alike.setdefault(kept, kept)

    def __getitem__(self, email_id: str) -> TriageRecord:
        """The triage of message `email_id` (KeyError when it has none)."""
        row = self._rows[email_id]
        return TriageRecord.model_construct(
            email_id=email_id, **dict(zip(TRIAGE_FIELDS, row, strict=True))
        )

    def add_record(self, record: TriageRecord, shared: Shared | None = None) -> None:
        """Keep the triage `record` (of the message it names)."""
        row = [getattr(record, name) for name in TRIAGE_FIELDS]
        self.add(record.email_id, row, shared if shared is not None else Shared())

    def column(self, email_id: str, name: str) -> Any:
        """One column of the triage of message `email_id`, no record made."""
        return self._rows[email_id][_POSITION[name]]

    def __contains__(self, email_id: object) -> bool:
        """Whether message `email_id` has a triage here (no record made)."""
        return email_id in self._rows

    def __iter__(self) -> Iterator[str]:
        """The message ids."""
        return iter(self._rows)

    def __len__(self) -> int:
        """How many rows."""
        return len(self._rows)


def _triaged_rows(session: Session, source: str, ids: Sequence[str] | None) -> Iterable[Any]:
    columns = [getattr(TriageRecord, name) for name in TRIAGE_FIELDS]
    if ids is None:
        stmt = (
            select(StoredEmail.data, *columns)
            .join(TriageRecord, col(TriageRecord.email_id) == col(StoredEmail.id))
            .where(StoredEmail.source == source)
        )
        yield from session.exec(stmt.execution_options(yield_per=_CHUNK))  # type: ignore[call-overload]
        return
    # By id alone (unique across the cache), the source compared here: asked of SQL with the
    # ids, the source picks SQLite's primary key, which reads every row of the source for each
    # chunk (quadratic in a first triage's ids) instead of the id index's 500 rows.
    by_id = select(StoredEmail.source, StoredEmail.data, *columns).join(
        TriageRecord, col(TriageRecord.email_id) == col(StoredEmail.id)
    )
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        for row_source, *row in session.exec(by_id.where(col(StoredEmail.id).in_(chunk))):
            if row_source == source:
                yield row


def give_back_freed_memory() -> None:
    """Return the C heap's free pages to the system (with glibc; elsewhere this does nothing).

    A whole-inbox list is many small objects, which Python takes from pages of its own; the
    pages that an earlier step's large texts (a fetch's message bodies, the JSON of the rows
    it read) were freed into would otherwise stay with the process, under the list.
    """
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):  # not glibc
        return
    trim(0)


def triaged_listing(
    engine: Any, source: str, ids: Sequence[str] | None = None
) -> tuple[list[Email], CompactTriage]:
    """The triaged messages of `source` (of them, those with `ids`), listed, and their triage.

    In the order the database gives them (the caller sorts); a message listed twice (a
    duplicate id in `ids`) comes once. Blocking.
    """
    give_back_freed_memory()
    shared = Shared.of(ids or ())
    emails: list[Email] = []
    triage = CompactTriage()
    with Session(engine) as session:
        for data, *rest in _triaged_rows(session, source, ids):
            email = listed_email(data, shared)
            if email.id not in triage:
                emails.append(email)
            triage.add(email.id, rest, shared)
    return emails, triage


def has_triage(engine: Any, source: str) -> bool:
    """Whether any cached message of `source` has been triaged (blocking)."""
    stmt = (
        select(TriageRecord.email_id)
        .join(StoredEmail, col(StoredEmail.id) == col(TriageRecord.email_id))
        .where(StoredEmail.source == source)
        .limit(1)
    )
    with Session(engine) as session:
        return session.exec(stmt).first() is not None


def listed_by_ids(engine: Any, email_ids: Sequence[str]) -> list[Email]:
    """Cached messages with these ids, listed, in no particular order (blocking)."""
    give_back_freed_memory()
    shared = Shared.of(email_ids)
    emails: dict[str, Email] = {}
    for data in stored_data(engine, email_ids):
        email = listed_email(data, shared)
        emails.setdefault(email.id, email)
    return list(emails.values())


def inbox_order(emails: list[Email], triage: CompactTriage) -> None:
    """Sort `emails` as `AppDatabase.triaged_emails` does: most important, then newest, first."""
    last_priority, last_category = len(PRIORITY_ORDER), len(CATEGORY_ORDER)
    emails.sort(key=lambda email: email.date, reverse=True)
    emails.sort(
        key=lambda email: (
            PRIORITY_ORDER.get(triage.column(email.id, "priority"), last_priority),
            CATEGORY_ORDER.get(triage.column(email.id, "category"), last_category),
        )
    )


def inbox_listing(engine: Any, source: str) -> tuple[list[Email], CompactTriage]:
    """Every triaged message of `source`, listed in the inbox's order, and their triage.

    Blocking. The order is `inbox_order`'s: most important, then newest, first.
    """
    emails, triage = triaged_listing(engine, source)
    inbox_order(emails, triage)
    return emails, triage
