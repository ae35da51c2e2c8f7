"""Rotation of the vault's key: every credential moves to a new key, none is left unreadable.

With the key file: a new key is written into the file in front of the old ones, every
credential is re-encrypted under it in one transaction, and only then is the file rewritten
with the new key alone. A crash at any point leaves every credential readable with what the
file holds. With `SMART_INBOX_KEY` the environment cannot be rewritten: the user puts
`NEW,OLD` into it, the rotation re-encrypts everything under NEW, and OLD may then go.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from memory.credential_cipher import (
    VaultError,
    credential_ring,
    decrypt_credential,
    encrypt_credential,
    key_id,
    unreadable_rows,
    wrong_key,
)
from memory.credential_table import StoredCredential
from memory.keys import KEY_ENV, KeyRing, generate_key, key_file_lock, key_path, write_key_file
from memory.state_encryption import encryption_wanted

logger = logging.getLogger(__name__)

CRASH_IN_ROTATION = "SMART_INBOX_CRASH_IN_ROTATION"
"""Fault injection for the rotation crash tests only: set to a `RotationStep` and the process
kills itself (SIGKILL, no clean-up) right after that step."""

RotationStep = Literal["new-key-written", "mid-transaction", "committed", "key-file-final"]
"""Points of a rotation: the key file holds [new, old…]; one credential re-encrypted but not
committed; every credential re-encrypted and committed; the key file holds [new] alone."""


@dataclass(frozen=True)
class RotationReport:
    """What a rotation did."""

    reencrypted: int
    """Credentials now encrypted under the new key."""
    origin: str
    """`SMART_INBOX_KEY` or the key file's path."""
    dropped_keys: int
    """Old keys removed from the key file (0 with `SMART_INBOX_KEY`: the user removes them)."""
    new_key_id: str
    kept_keys: int = 0
    """Old keys kept (behind the new one) because encrypted checkpoints may still need them."""


def _checkpoints_encrypted() -> bool:
    """Whether conversations are stored encrypted (`SMART_INBOX_ENCRYPT_STATE`)."""
    return encryption_wanted()


def _crash_if_asked(step: RotationStep) -> None:
    if os.environ.get(CRASH_IN_ROTATION) == step:
        os.kill(os.getpid(), signal.SIGKILL)


class KeyRotation:
    """One rotation of the key of the credentials of data directory `home` (blocking)."""

    def __init__(self, engine: Engine, home: Path) -> None:
        self.engine = engine
        self.home = home

    def run(self, on_step: Callable[[RotationStep], None] | None = None) -> RotationReport:
        """Re-encrypt every credential under a new key; never leaves one unreadable.

        With the key file: write [new, old…] atomically; re-encrypt every credential under
        new in one transaction; rewrite the file as [new]. With `SMART_INBOX_KEY`: it must
        already hold `NEW,OLD…`; everything is re-encrypted under its first key and the user
        then drops the others. `on_step` runs after each step (the crash tests kill the
        process there; by default it does what `CRASH_IN_ROTATION` asks).

        Raises:
            VaultKeyError: some credential cannot be read with the ring (nothing changes).
            VaultError: `SMART_INBOX_KEY` holds a single key.
            KeySourceError: no usable key.

        """
        on_step = on_step or _crash_if_asked
        ring = self._keys(stored=self._has_credentials())
        if ring.from_env:
            return self._rotate_env(ring, on_step)
        path = key_path(self.home)
        with key_file_lock(self.home):
            # Read again under the lock: another rotation may have finished meanwhile.
            ring = self._keys(stored=True)
            self._require_readable(ring, action="nothing was changed")
            new = generate_key()
            write_key_file(path, (new, *ring.keys))
            on_step("new-key-written")
            widened = KeyRing((new, *ring.keys), ring.origin)
            count = self._reencrypt(widened, on_step)
            on_step("committed")
            # Credentials written by another process since (under an old key) move too.
            self._reencrypt(widened, None, only_stale=True)
            # Encrypted checkpoints are not rewritten: the keys they were written with stay
            # (behind the new one, which encrypts from now on) so old conversations still open.
            kept = ring.keys if _checkpoints_encrypted() else ()
            write_key_file(path, (new, *kept))
            on_step("key-file-final")
        logger.info("rotated the key of %d credential(s); %s holds the new key", count, path)
        return RotationReport(
            count, ring.origin, len(ring.keys) - len(kept), key_id(new), kept_keys=len(kept)
        )

    def _rotate_env(self, ring: KeyRing, on_step: Callable[[RotationStep], None]) -> RotationReport:
        self._require_readable(ring, action="nothing was changed")
        if len(ring.keys) < 2:
            raise VaultError(
                f"{KEY_ENV} holds one key and cannot be rewritten from here: make a new key "
                f"with `smart-inbox credentials new-key`, set {KEY_ENV}=NEW,OLD and run "
                "`smart-inbox credentials rotate-key` again"
            )
        count = self._reencrypt(ring, on_step)
        on_step("committed")
        self._reencrypt(ring, None, only_stale=True)
        logger.info("re-encrypted %d credential(s) under the first key of %s", count, KEY_ENV)
        return RotationReport(count, ring.origin, 0, key_id(ring.keys[0]))

    def _reencrypt(
        self,
        ring: KeyRing,
        on_step: Callable[[RotationStep], None] | None,
        *,
        only_stale: bool = False,
    ) -> int:
        """Re-encrypt under `ring.keys[0]` in one transaction; retried if a row changes under it.

        Each row is updated only if its token is still the one read, so a value set by another
        process meanwhile is never overwritten with the old one.
        """
        new_id = key_id(ring.keys[0])
        for _attempt in range(5):
            with Session(self.engine) as session:
                rows = list(session.exec(select(StoredCredential)))
                if only_stale:
                    rows = [row for row in rows if row.key_id != new_id]
                blocked = unreadable_rows(rows, ring)
                if blocked:
                    raise wrong_key(blocked, ring, action="nothing was changed")
                conflict = False
                for number, row in enumerate(rows):
                    token = encrypt_credential(
                        row.name, decrypt_credential(row, ring), ring.keys[0]
                    )
                    changed = session.exec(
                        update(StoredCredential)
                        .where(col(StoredCredential.name) == row.name)
                        .where(col(StoredCredential.token) == row.token)
                        .values(token=token, key_id=new_id)
                    ).rowcount
                    if not changed:
                        conflict = True
                        break
                    if number == 0 and on_step is not None:
                        session.flush()
                        on_step("mid-transaction")
                if conflict:
                    session.rollback()
                    continue
                session.commit()
                return len(rows)
        raise VaultError("credentials kept changing during the rotation; run it again")

    def _has_credentials(self) -> bool:
        with Session(self.engine) as session:
            return bool(session.exec(select(func.count()).select_from(StoredCredential)).one())

    def _keys(self, *, stored: bool) -> KeyRing:
        return credential_ring(self.home, stored=stored)

    def _require_readable(self, ring: KeyRing, *, action: str) -> None:
        with Session(self.engine) as session:
            rows = list(session.exec(select(StoredCredential)))
        blocked = unreadable_rows(rows, ring)
        if blocked:
            raise wrong_key(blocked, ring, action=action)
