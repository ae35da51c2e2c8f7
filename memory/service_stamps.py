"""Cheap readings that tell services built earlier in this process whether they are still current.

The graph keeps the services it built (`graph.services`) and reads these on every node run:
a credential stored, replaced or deleted by another process changes which toolkits are
configured, and a database closed by `memory.db.close_databases` leaves a built service holding
a dead handle.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlmodel import Session, col, select

from memory.credential_table import StoredCredential
from memory.db import AppDatabase, open_database


def credentials_stamp(db: AppDatabase) -> str:
    """A digest of the stored credentials: it changes whenever one is stored, replaced or deleted.

    Every row's name and token are read (a handful of short rows, one query): a count and the
    latest `updated_at` would miss a value replaced within the same second, while a Fernet token
    is new on every encryption (its own time and random IV), a key rotation included. The
    digest holds no secret: tokens are ciphertext, and only their hash is kept.
    """
    digest = hashlib.sha256()
    with Session(db.engine) as session:
        rows = session.exec(
            select(StoredCredential.name, StoredCredential.token).order_by(
                col(StoredCredential.name)
            )
        )
        for name, token in rows:
            digest.update(f"{name}\0{token}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class DatabaseStamp:
    """The app database handle in use for a URL, and its credentials as they are now.

    Two stamps are equal only for the same handle (`AppDatabase` compares by identity): once
    `close_databases` has run, `open_database` hands out a new one, so a stamp taken before no
    longer matches.
    """

    database: AppDatabase
    credentials: str


def database_stamp(url: str) -> DatabaseStamp:
    """The stamp of the app database at `url`, opening it as `open_database` does (blocking)."""
    database = open_database(url)
    return DatabaseStamp(database, credentials_stamp(database))
