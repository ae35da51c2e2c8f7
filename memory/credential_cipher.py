"""How one credential is sealed under the key ring, and what a wrong key or a damaged value says.

A value is encrypted with Fernet under the first key of the ring (`memory.keys`), together with
its name, so a token copied into another row does not decrypt as that credential; every key of
the ring decrypts (`MultiFernet`), which is what makes rotation safe. Shared by the vault
(`memory.vault`) and its key rotation (`memory.key_rotation`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from memory.credential_table import StoredCredential
from memory.keys import KEY_ENV, KeyRing, KeySourceError, derive_key, key_path, load_keys


class VaultError(Exception):
    """Something about a credential the user can fix; the message is one line, never a value."""


class VaultKeyError(VaultError):
    """Credentials are encrypted under a key the ring does not hold (a wrong or missing key)."""


def key_id(key: bytes) -> str:
    """A short fingerprint of a Fernet key, derived one way with HKDF: safe to show and store."""
    return derive_key(key, "credential key id")[:6].hex()


def credential_ring(home: Path, *, stored: bool) -> KeyRing:
    """The key ring of the data directory `home`.

    A key file is generated only while no credential needs an existing key (`stored` false).
    """
    try:
        return load_keys(home, create=not stored)
    except KeySourceError as err:
        if stored and not os.environ.get(KEY_ENV, "").strip() and not key_path(home).exists():
            raise KeySourceError(
                f"the vault holds credentials but {key_path(home)} is missing: restore "
                f"it from your backup or set {KEY_ENV} to the key they were stored with"
            ) from err
        raise


def encrypt_credential(name: str, value: str, key: bytes) -> str:
    """The Fernet token of credential `name` holding `value`, under `key`."""
    from cryptography.fernet import Fernet  # imported when a credential is used: see memory.keys

    payload = json.dumps({"name": name, "value": value}, ensure_ascii=False).encode("utf-8")
    return Fernet(key).encrypt(payload).decode("ascii")


def decrypt_credential(row: StoredCredential, ring: KeyRing) -> str:
    """The value of a stored credential; raises `VaultKeyError` or `VaultError` if it cannot be."""
    from cryptography.fernet import Fernet, InvalidToken, MultiFernet

    try:
        payload = MultiFernet([Fernet(key) for key in ring.keys]).decrypt(row.token)
    except InvalidToken:
        ids = {key_id(key) for key in ring.keys}
        if row.key_id in ids:
            raise VaultError(
                f"credential {row.name} is damaged: its key (id {row.key_id}) is in "
                f"{ring.origin} but the stored value does not decrypt; set it again"
            ) from None
        raise wrong_key([row], ring, action="nothing was changed") from None
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


def unreadable_rows(rows: Sequence[StoredCredential], ring: KeyRing) -> list[StoredCredential]:
    """The rows no key of `ring` decrypts."""
    from cryptography.fernet import Fernet, InvalidToken, MultiFernet

    cipher = MultiFernet([Fernet(key) for key in ring.keys])
    bad: list[StoredCredential] = []
    for row in rows:
        try:
            cipher.decrypt(row.token)
        except InvalidToken:
            bad.append(row)
    return bad


def wrong_key(rows: Sequence[StoredCredential], ring: KeyRing, *, action: str) -> VaultKeyError:
    """The error that names the credentials `ring` cannot read, the keys they need, and `action`."""
    names = ", ".join(row.name for row in rows[:5]) + (" …" if len(rows) > 5 else "")
    needed = ", ".join(sorted({row.key_id for row in rows}))
    held = ", ".join(key_id(key) for key in ring.keys)
    return VaultKeyError(
        f"{len(rows)} credential(s) ({names}) are encrypted under key id {needed}, which "
        f"{ring.origin} does not hold (it holds {held}): use the key they were stored with, "
        "or if it is lost remove them with `smart-inbox credentials delete NAME`; "
        f"{action}"
    )
