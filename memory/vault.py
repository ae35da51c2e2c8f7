"""The credential vault: the tokens and passwords of the inbox's integrations, encrypted at rest.

Integrations (Jira, Slack, Teams, a CRM, webhooks, IMAP and SMTP accounts) need secrets that
must survive restarts but never sit on disk in the clear. They live in the app database's
`credential` table, each value encrypted with Fernet under the key ring of `memory.keys`
(`SMART_INBOX_KEY`, else the 0600 key file `secret.key` in the data directory); the first key
encrypts, every key of the ring decrypts (`MultiFernet`), which is what makes rotation safe.

Names are not secret, values are: a name may appear in logs, errors and `credentials list`; a
value never leaves the vault (this module, `memory.credential_cipher`, `memory.key_rotation`)
except as the return value of `get` and `secret`, and every value read is remembered by
`memory.redaction`, which masks it wherever a service repeats it.

Naming convention, `SERVICE.FIELD[:ACCOUNT]`, lower-case service and field:

| name | what |
| --- | --- |
| `jira.api_token` | Jira Cloud API token (the user name stays in the configuration) |
| `slack.bot_token` | Slack bot token (`xoxb-…`) |
| `teams.webhook_url` | Microsoft Teams incoming-webhook URL (the URL is the secret) |
| `hubspot.token` | HubSpot private app's access token |
| `webhook.secret:NAME` | HMAC signing secret of the outgoing webhook NAME |
| `imap.password:USER@HOST` | password (or app password) of one IMAP account |
| `caldav.password` | the CalDAV account's password |
| `smtp.password:USER@HOST` | password of the `SMTP_URL` login USER at HOST |
| `groq.api_key` | the Groq API key (used when `GROQ_API_KEY` is unset) |
| `oauth.account:NAME` | a connected account (`accounts add`): tokens, expiry, scopes, address |
| `oauth.client_id:PROVIDER` | the user's own OAuth app at a provider (and `client_secret`) |

`imap.password` and `smtp.password` without an account serve any account.

Integrations read them through `memory.secrets.secret_lookup`: the stored value if there is one,
else the environment variable (so a deployment may keep using `JIRA_API_TOKEN` and the like),
else None. The Groq engine is the exception: `GROQ_API_KEY` first, then the stored key
(`graph.engines.groq_api_key`).

Rotation (`rotate_key`) moves every credential to a new key without ever leaving one
unreadable: `memory.key_rotation` says how.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import delete
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
from memory.credential_table import MAX_NAME_LENGTH, StoredCredential
from memory.db import AppDatabase, open_database
from memory.key_rotation import KeyRotation, RotationReport, RotationStep
from memory.keys import KeyRing, KeySourceError, key_file_lock, load_keys
from memory.paths import app_database_url, data_dir
from memory.redaction import remember_secret

logger = logging.getLogger(__name__)

NAME_PATTERN = re.compile(
    r"[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9][a-z0-9_-]*)+(?::[^\s\x00-\x1f\x7f]{1,200})?"
)
"""`SERVICE.FIELD[:ACCOUNT]`: `jira.api_token`, `imap.password:dana@imap.example.com`."""
MAX_VALUE_LENGTH = 64 * 1024
"""Characters of one value: far above any token or password, far below a mistaken file paste."""

KeyState = Literal["current", "older", "not held", "unknown"]
"""Under which key of the ring a credential is: the first, another one, none, or no ring."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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


def check_name(name: str) -> str:
    """Return `name` if it follows `SERVICE.FIELD[:ACCOUNT]`, else raise `VaultError`."""
    if len(name) > MAX_NAME_LENGTH or not NAME_PATTERN.fullmatch(name):
        raise VaultError(
            f"bad credential name {name[:80]!r}: use SERVICE.FIELD or SERVICE.FIELD:ACCOUNT in "
            "lower case, e.g. jira.api_token or imap.password:dana@imap.example.com"
        )
    return name


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
        value = decrypt_credential(row, self._keys(stored=True))
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
        with key_file_lock(self.home), Session(self.engine) as session:
            rows = list(session.exec(select(StoredCredential)))
            ring = self._keys(stored=bool(rows))
            held = {key_id(key) for key in ring.keys}
            blocking = [
                row
                for row in unreadable_rows(rows, ring)
                if row.name != name or row.key_id not in held
            ]
            if blocking:
                raise wrong_key(blocking, ring, action=f"{name} was not stored")
            existing = next((row for row in rows if row.name == name), None)
            token = encrypt_credential(name, value, ring.keys[0])
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
        return [row.name for row in unreadable_rows(rows, self._keys(stored=True))]

    # -- rotation and keys --------------------------------------------------

    def rotate_key(
        self, *, on_step: Callable[[RotationStep], None] | None = None
    ) -> RotationReport:
        """Re-encrypt every credential under a new key; never leaves one unreadable.

        `memory.key_rotation.KeyRotation.run` says how, what `on_step` is for and what it raises.
        """
        return KeyRotation(self.engine, self.home).run(on_step)

    def _keys(self, *, stored: bool) -> KeyRing:
        """The ring; a key file is generated only while no credential needs an existing key."""
        return credential_ring(self.home, stored=stored)


def _key_state(stored_id: str, ring_ids: Sequence[str]) -> KeyState:
    if not ring_ids:
        return "unknown"
    if stored_id == ring_ids[0]:
        return "current"
    return "older" if stored_id in ring_ids else "not held"


def open_vault(home: str | os.PathLike[str] | None = None) -> CredentialVault:
    """The vault of the data directory `home` (default `SMART_INBOX_HOME`), in its app database."""
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
