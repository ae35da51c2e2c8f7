"""The unique ids of cached messages: which message keeps its Message-ID, which gets a new id.

A message's id is the id the parser gave it (its Message-ID) only when no other cached message,
and no other message stored with it, has that id or was given it: otherwise it is
`<id>#<hash of source and key>` (`disambiguated_id`). Ids never change once given, so a copy
that arrives later (a forged mail reusing a genuine Message-ID) can never take the id of the
message cached first. `memory.db` assigns them as it stores mail; step 5 of `memory.migrations`
gave the messages of caches made before this rule their own ids the same way.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from sqlalchemy import or_
from sqlmodel import Session, col, select

from memory.mail_model import Email
from memory.mail_tables import StoredEmail


def strip_id(email_id: str) -> str:
    """An id or Message-ID as the cache keeps it: without spaces and angle brackets."""
    return email_id.strip().strip("<>").strip()


def disambiguated_id(base_id: str, source: str, key: str, *, long: bool = False) -> str:
    """The id of a message whose parser id another message had first: `<base id>#<hash>`.

    The hash is of the message's source and key, so the same copy always gets the same id.
    """
    digest = hashlib.sha256(f"{source}\n{key}".encode()).hexdigest()
    return f"{base_id}#{digest if long else digest[:12]}"


Place = tuple[str, str]
"""Where a message is cached: its (source, key)."""


def with_unique_ids(session: Session, emails: list[Email]) -> list[tuple[Email, str]]:
    """Each message as it is stored (with its unique id), and its base id (the module explains)."""
    latest = {(email.source, email.key): email for email in emails}
    existing = _stored_ids(session, list(latest))
    decided: dict[Place, tuple[str, str]] = {}
    fresh: dict[str, list[Place]] = {}
    for place, email in latest.items():
        old = existing.get(place)
        if old is not None and email.id in old:
            decided[place] = old  # stored again: it keeps the id it has
        else:
            fresh.setdefault(strip_id(email.id), []).append(place)
    newcomers = {place for places in fresh.values() for place in places}
    taken = _ids_in_use(session, list(fresh), exclude=newcomers)
    for base_id, places in fresh.items():
        alone = len(places) == 1 and base_id not in taken
        for place in places:
            decided[place] = (base_id if alone else _free_id(session, base_id, place), base_id)
    return [_with_id(email, *decided[place]) for place, email in latest.items()]


def _with_id(email: Email, email_id: str, base_id: str) -> tuple[Email, str]:
    # Most messages keep the id the parser gave them: no copy of those (an `Email` is frozen).
    return (email if email.id == email_id else replace(email, id=email_id)), base_id


def _stored_ids(session: Session, places: list[Place]) -> dict[Place, tuple[str, str]]:
    """(id, base id) of the messages already cached at these places."""
    found: dict[Place, tuple[str, str]] = {}
    by_source: dict[str, list[str]] = {}
    for source, key in places:
        by_source.setdefault(source, []).append(key)
    for source, keys in by_source.items():
        for start in range(0, len(keys), 500):
            rows = session.exec(
                select(StoredEmail.key, StoredEmail.id, StoredEmail.base_id)
                .where(StoredEmail.source == source)
                .where(col(StoredEmail.key).in_(keys[start : start + 500]))
            ).all()
            found.update({(source, key): (row_id, base_id) for key, row_id, base_id in rows})
    return found


def _ids_in_use(session: Session, ids: list[str], *, exclude: set[Place]) -> set[str]:
    """Which of `ids` a cached message (not at one of `exclude`) has as its id or its base id."""
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.exec(
            select(StoredEmail.source, StoredEmail.key, StoredEmail.id, StoredEmail.base_id).where(
                or_(col(StoredEmail.id).in_(chunk), col(StoredEmail.base_id).in_(chunk))
            )
        ).all()
        wanted = set(chunk)
        for source, key, row_id, base_id in rows:
            if (source, key) not in exclude:
                found.update({row_id, base_id} & wanted)
    return found


def _free_id(session: Session, base_id: str, place: Place) -> str:
    """The disambiguated id of the copy at `place`; the long form if a Message-ID took the short."""
    short = disambiguated_id(base_id, *place)
    if _ids_in_use(session, [short], exclude={place}):
        return disambiguated_id(base_id, *place, long=True)
    return short
