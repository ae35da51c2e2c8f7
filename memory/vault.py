"""The credential vault: the tokens and passwords of the inbox's integrations, encrypted at rest.

Integrations (Jira, Slack, Teams, a CRM, webhooks, IMAP and SMTP accounts) need secrets that
must survive restarts but never sit on disk in the clear. They live in the app database's
`credential` table, each value encrypted with Fernet under the key ring of `memory.keys`
(`SMART_INBOX_KEY`, else the 0600 key file `secret.key` in the data directory); the first key
encrypts, every key of the ring decrypts (`MultiFernet`), which is what makes rotation safe.

Names are not secret, values are: a name may appear in logs, errors and `credentials list`; a
value never leaves this module except as the return value of `get` and `secret`, and every value
read is remembered by `memory.redaction`, which masks it wherever a service repeats it.

Naming convention, `SERVICE.FIELD[:ACCOUNT]`, lower-case service and field:

| name | what |
| --- | --- |
| `jira.api_token` | Jira Cloud API token (the user name stays in the configuration) |
| `slack.bot_token` | Slack bot token (`xoxb-…`) |
| `teams.webhook_url` | Microsoft Teams incoming-webhook URL (the URL is the secret) |
| `hubspot.token` | HubSpot private app's access token |
| `webhook.secret:NAME` | HMAC signing secret of the outgoing webhook NAME |
| `imap.password:USER@HOST` | password (or app password) of one IMAP account (`imap.password` for any) |
| `caldav.password` | the CalDAV account's password |
| `smtp.password:USER@HOST` | password of the `SMTP_URL` login USER at HOST (`smtp.password` for any) |
| `groq.api_key` | the Groq API key (used when `GROQ_API_KEY` is unset) |

Integrations read them through `memory.secrets.secret_lookup`: the stored value if there is one,
else the environment variable (so a deployment may keep using `JIRA_API_TOKEN` and the like),
else None. The Groq engine is the exception: `GROQ_API_KEY` first, then the stored key
(`graph.engines.groq_api_key`).

Rotation (`rotate_key`) with the key file: a new key is written into the file in front of the
old ones, every credential is re-encrypted under it in one transaction, and only then is the
file rewritten with the new key alone. A crash at any point leaves every credential readable
with what the file holds. With `SMART_INBOX_KEY` the environment cannot be rewritten: the user
puts `NEW,OLD` into it, `rotate_key` re-encrypts everything under NEW, and OLD may then go.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import delete, func, update
from sqlmodel import Field, Session, SQLModel, col, select

from memory.keys import (
    KEY_ENV,
    KEY_FILE,
    KeyRing,
    KeySourceError,
    derive_key,
    generate_key,
    key_path,
    load_keys,
    write_key_file,
)
from memory.redaction import remember_secret

if TYPE_CHECKING:
    from memory.db import AppDatabase

logger = logging.getLogger(__name__)

NAME_PATTERN = re.compile(
    r"[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9][a-z0-9_-]*)+(?::[^\s\x00-\x1f\x7f]{1,200})?"
)
"""`SERVICE.FIELD[:ACCOUNT]`: `jira.api_token`, `imap.password:dana@imap.example.com`."""
MAX_NAME_LENGTH = 255
MAX_VALUE_LENGTH = 64 * 1024
"""Characters of one value: far above any token or password, far below a mistaken file paste."""

CRASH_IN_ROTATION = "SMART_INBOX_CRASH_IN_ROTATION"
"""Fault injection for the rotation crash tests only: set to a `RotationStep` and the process
kills itself (SIGKILL, no clean-up) right after that step."""

RotationStep = Literal["new-key-written", "mid-transaction", "committed", "key-file-final"]
"""Points of a rotation: the key file holds [new, old…]; one credential re-encrypted but not
committed; every credential re-encrypted and committed; the key file holds [new] alone."""

KeyState = Literal["current", "older", "not held", "unknown"]
"""Under which key of the ring a credential is: the first, another one, none, or no ring."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class StoredCredential(SQLModel, table=True):
    """One credential: its name in the clear, its value as a Fernet token."""

    __tablename__ = "credential"

    name: str = Field(primary_key=True, max_length=MAX_NAME_LENGTH)
    """`SERVICE.FIELD[:ACCOUNT]`; not secret."""
    token: str
    """Fernet token of the JSON `{"name": …, "value": …}` (the name inside binds the value to
    its row: a token copied into another row does not decrypt as that credential)."""
    key_id: str = Field(max_length=32)
    """Fingerprint of the key that encrypted it (`key_id`): says which key is needed, never
    the key."""
    created_at: str = Field(default_factory=_now)
    updated_at: str = Field(default_factory=_now)
    """When the value was last set (a rotation re-encrypts, it does not update)."""


class VaultError(Exception):
    """Something about a credential the user can fix; the message is one line, never a value."""


class VaultKeyError(VaultError):
    """Credentials are encrypted under a key the ring does not hold (a wrong or missing key)."""


@dataclass(frozen=True)
class CredentialInfo:
    """What `credentials list` shows: never the value."""

    name: str
    created_at: str
    updated_at: str
    key: KeyState
    """`current` (first key), `older` (another key of the ring: `rotate-key` moves it),
    `not held` (no key of the ring: the wrong key) or `unknown` (no key available)."""

    def as_dict(self) -> dict[str, str]:
        """Plain dict for `--json`."""
        return {
            "name": self.name,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "key": self.key,
        }


@dataclass(frozen=True)
class RotationReport:
    """What `rotate_key` did."""

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
    from memory.state_encryption import encryption_wanted

    return encryption_wanted()


def key_id(key: bytes) -> str:
    """A short fingerprint of a Fernet key, derived one way with HKDF: safe to show and store."""
    return derive_key(key, "credential key id")[:6].hex()


def check_name(name: str) -> str:
    """Return `name` if it follows `SERVICE.FIELD[:ACCOUNT]`, else raise `VaultError`."""
    if len(name) > MAX_NAME_LENGTH or not NAME_PATTERN.fullmatch(name):
        raise VaultError(
            f"bad credential name {name[:80]!r}: use SERVICE.FIELD or SERVICE.FIELD:ACCOUNT in "
            "lower case, e.g. jira.api_token or imap.password:dana@imap.example.com"
        )
    return name


def _crash_if_asked(step: RotationStep) -> None:
    if os.environ.get(CRASH_IN_ROTATION) == step:
        os.kill(os.getpid(), signal.SIGKILL)


class CredentialVault:
    """The credentials of one data directory, in its app database.

    The key ring is read afresh for every operation, so a long-running process (the chat, the
    server) follows a rotation made by `smart-inbox credentials rotate-key`. Every method is
    synchronous; async code calls them through `asyncio.to_thread`.
    """

    def __init__(self, db: AppDatabase, home: Path) -> None:
        self.engine = db.engine
        self.home = Path(home)

    # -- reading ------------------------------------------------------------

    def get(self, name: str) -> str | None:
        """The value of credential `name`, or None if none is stored.

        Raises:
            VaultKeyError: the value is under a key the ring does not hold (nothing changes).
            VaultError: the stored value is damaged.
            KeySourceError: no usable key (a malformed key, a key file others can read).

        """
        check_name(name)
        with Session(self.engine) as session:
            row = session.get(StoredCredential, name)
        if row is None:
            logger.debug("no credential %s", name)
            return None
        value = _decrypt(row, self._keys(stored=True))
        remember_secret(name, value)
        logger.debug("read credential %s", name)
        return value

    def secret(self, name: str, env_var: str | None = None) -> str | None:
        """The stored value of `name`, else the environment variable `env_var`, else None.

        A stored value that cannot be read is an error, never silently replaced by the
        environment's: the user would not know which secret is in use.
        """
        value = self.get(name)
        if value is not None:
            return value
        if env_var:
            return os.environ.get(env_var) or None
        return None

    def names(self) -> list[CredentialInfo]:
        """Every stored credential's name, times and key state, by name; never a value.

        Needs no key: without one (or with a broken one) the key state is `unknown`.
        """
        with Session(self.engine) as session:
            rows = list(session.exec(select(StoredCredential).order_by(col(StoredCredential.name))))
        try:
            ids = [key_id(key) for key in load_keys(self.home, create=False).keys] if rows else []
        except KeySourceError:
            ids = []
        return [
            CredentialInfo(row.name, row.created_at, row.updated_at, _key_state(row.key_id, ids))
            for row in rows
        ]

    # -- writing ------------------------------------------------------------

    def set(self, name: str, value: str) -> bool:
        """Store `value` as credential `name`, replacing any; True if it is new.

        Refused while any credential, this one included, is under a key this ring does not
        hold: a wrong key would otherwise leave the vault split between two keys, or quietly
        move a credential to the wrong one. A value damaged under a key of the ring may be set
        again: that is its repair.

        Raises:
            VaultError: a bad name or an empty or oversized value.
            VaultKeyError: the ring does not hold the key of some stored credential.
            KeySourceError: no usable key.

        """
        check_name(name)
        if not value:
            raise VaultError(f"{name}: the value is empty (to remove it: credentials delete)")
        if len(value) > MAX_VALUE_LENGTH:
            raise VaultError(f"{name}: the value is longer than {MAX_VALUE_LENGTH} characters")
        with _key_file_lock(self.home), Session(self.engine) as session:
            rows = list(session.exec(select(StoredCredential)))
            ring = self._keys(stored=bool(rows))
            held = {key_id(key) for key in ring.keys}
            blocking = [
                row for row in _unreadable(rows, ring) if row.name != name or row.key_id not in held
            ]
            if blocking:
                raise _wrong_key(blocking, ring, action=f"{name} was not stored")
            existing = next((row for row in rows if row.name == name), None)
            token = _encrypt(name, value, ring.keys[0])
            if existing is None:
                session.add(StoredCredential(name=name, token=token, key_id=key_id(ring.keys[0])))
            else:
                existing.token = token
                existing.key_id = key_id(ring.keys[0])
                existing.updated_at = _now()
                session.add(existing)
            session.commit()
        logger.info("%s credential %s", "stored" if existing is None else "replaced", name)
        return existing is None

    def delete(self, name: str) -> bool:
        """Remove credential `name`; False if there was none.

        Needs no key: a credential whose key is lost can still be removed.
        """
        check_name(name)
        with Session(self.engine) as session:
            removed = session.exec(
                delete(StoredCredential).where(col(StoredCredential.name) == name)
            ).rowcount
            session.commit()
        if removed:
            logger.info("deleted credential %s", name)
        return bool(removed)

    def unreadable(self) -> list[str]:
        """Names of the credentials the current ring cannot decrypt."""
        with Session(self.engine) as session:
            rows = list(session.exec(select(StoredCredential)))
        if not rows:
            return []
        return [row.name for row in _unreadable(rows, self._keys(stored=True))]

    # -- rotation -----------------------------------------------------------

    def rotate_key(
        self, *, on_step: Callable[[RotationStep], None] = _crash_if_asked
    ) -> RotationReport:
        """Re-encrypt every credential under a new key; never leaves one unreadable.

        With the key file: write [new, old…] atomically; re-encrypt every credential under
        new in one transaction; rewrite the file as [new]. With `SMART_INBOX_KEY`: it must
        already hold `NEW,OLD…`; everything is re-encrypted under its first key and the user
        then drops the others. `on_step` runs after each step (the crash tests kill the
        process there).

        Raises:
            VaultKeyError: some credential cannot be read with the ring (nothing changes).
            VaultError: `SMART_INBOX_KEY` holds a single key.
            KeySourceError: no usable key.

        """
        ring = self._keys(stored=self._has_credentials())
        if ring.from_env:
            return self._rotate_env(ring, on_step)
        path = key_path(self.home)
        with _key_file_lock(self.home):
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
                unreadable = _unreadable(rows, ring)
                if unreadable:
                    raise _wrong_key(unreadable, ring, action="nothing was changed")
                conflict = False
                for number, row in enumerate(rows):
                    token = _encrypt(row.name, _decrypt(row, ring), ring.keys[0])
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

    # -- keys ---------------------------------------------------------------

    def _has_credentials(self) -> bool:
        with Session(self.engine) as session:
            return bool(session.exec(select(func.count()).select_from(StoredCredential)).one())

    def _keys(self, *, stored: bool) -> KeyRing:
        """The ring; a key file is generated only while no credential needs an existing key."""
        try:
            return load_keys(self.home, create=not stored)
        except KeySourceError as err:
            if (
                stored
                and not os.environ.get(KEY_ENV, "").strip()
                and not key_path(self.home).exists()
            ):
                raise KeySourceError(
                    f"the vault holds credentials but {key_path(self.home)} is missing: restore "
                    f"it from your backup or set {KEY_ENV} to the key they were stored with"
                ) from err
            raise

    def _require_readable(self, ring: KeyRing, *, action: str) -> None:
        with Session(self.engine) as session:
            rows = list(session.exec(select(StoredCredential)))
        unreadable = _unreadable(rows, ring)
        if unreadable:
            raise _wrong_key(unreadable, ring, action=action)


def _encrypt(name: str, value: str, key: bytes) -> str:
    payload = json.dumps({"name": name, "value": value}, ensure_ascii=False).encode("utf-8")
    return Fernet(key).encrypt(payload).decode("ascii")


def _decrypt(row: StoredCredential, ring: KeyRing) -> str:
    try:
        payload = MultiFernet([Fernet(key) for key in ring.keys]).decrypt(row.token)
    except InvalidToken:
        ids = {key_id(key) for key in ring.keys}
        if row.key_id in ids:
            raise VaultError(
                f"credential {row.name} is damaged: its key (id {row.key_id}) is in "
                f"{ring.origin} but the stored value does not decrypt; set it again"
            ) from None
        raise _wrong_key([row], ring, action="nothing was changed") from None
    try:
        data = json.loads(payload)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("name") != row.name:
        raise VaultError(
            f"credential {row.name} holds a value stored under another name (the database was "
            "edited); set it again"
        )
    return str(data["value"])


def _unreadable(rows: Sequence[StoredCredential], ring: KeyRing) -> list[StoredCredential]:
    cipher = MultiFernet([Fernet(key) for key in ring.keys])
    bad: list[StoredCredential] = []
    for row in rows:
        try:
            cipher.decrypt(row.token)
        except InvalidToken:
            bad.append(row)
    return bad


def _wrong_key(rows: Sequence[StoredCredential], ring: KeyRing, *, action: str) -> VaultKeyError:
    names = ", ".join(row.name for row in rows[:5]) + (" …" if len(rows) > 5 else "")
    needed = ", ".join(sorted({row.key_id for row in rows}))
    held = ", ".join(key_id(key) for key in ring.keys)
    return VaultKeyError(
        f"{len(rows)} credential(s) ({names}) are encrypted under key id {needed}, which "
        f"{ring.origin} does not hold (it holds {held}): use the key they were stored with, "
        "or if it is lost remove them with `smart-inbox credentials delete NAME`; "
        f"{action}"
    )


def _key_state(stored_id: str, ring_ids: Sequence[str]) -> KeyState:
    if not ring_ids:
        return "unknown"
    if stored_id == ring_ids[0]:
        return "current"
    return "older" if stored_id in ring_ids else "not held"


@contextmanager
def _key_file_lock(home: Path) -> Iterator[None]:
    """Writers of the vault take turns while the keys come from the key file.

    Two rotations at once would each write a key the other drops, and a value encrypted under
    a key a rotation is about to drop would be lost; with `SMART_INBOX_KEY` nothing rewrites
    the keys, so there is nothing to wait for.
    """
    if os.environ.get(KEY_ENV, "").strip():
        yield
        return
    lock = key_path(home).with_name(KEY_FILE + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(lock, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def open_vault(home: str | os.PathLike[str] | None = None) -> CredentialVault:
    """The vault of the data directory `home` (default `SMART_INBOX_HOME`), in its app database."""
    from memory.db import open_database
    from memory.paths import app_database_url, data_dir

    directory = data_dir(home)
    return CredentialVault(open_database(app_database_url(directory)), directory)


def secret(
    name: str, env_var: str | None = None, *, home: str | os.PathLike[str] | None = None
) -> str | None:
    """The credential `name` from the vault, else the environment variable `env_var`, else None.

    The one call integrations need: `secret("jira.api_token", "JIRA_API_TOKEN")`. Synchronous
    (SQLite and a key file): from async code, `await asyncio.to_thread(secret, …)`.

    Raises:
        VaultError: a bad name, or a stored value that cannot be read (wrong key, damage).
        KeySourceError: no usable key while a value is stored.

    """
    return open_vault(home).secret(name, env_var)
