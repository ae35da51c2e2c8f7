"""Who may log in to the chat: user names with scrypt password hashes in `users.json`.

The file lives in the data directory, is readable by its owner only, and is replaced atomically;
a damaged file is reported, never silently overwritten.
"""

from __future__ import annotations

import base64
import binascii
import getpass
import json
import os
import re
import secrets
import sys
import tempfile
import unicodedata
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

USERS_FILE = "users.json"
NAME_PATTERN = re.compile(r"[A-Za-z0-9._@-]{1,64}")
MIN_PASSWORD_LENGTH = 8

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
MAX_SCRYPT_MEMORY = 2**28
"""Most memory (128·N·r bytes) a stored hash may ask for: an edited file cannot exhaust the
server (the parameters above need 16 MiB)."""

_DECOY_SALT = bytes(SALT_BYTES)
_DECOY_KEY = bytes(KEY_BYTES)


class UserStoreError(ValueError):
    """A bad user name or password, or a users file that cannot be read."""


class UserStore:
    """The users file of one data directory."""

    def __init__(self, home: Path) -> None:
        self._home = Path(home)

    @property
    def path(self) -> Path:
        """Where the users live."""
        return self._home / USERS_FILE

    def add(self, name: str, password: str) -> bool:
        """Create a user, or replace an existing user's password; True when created."""
        _check_name(name)
        if len(password) < MIN_PASSWORD_LENGTH:
            raise UserStoreError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
        users = self._load()
        previous = users.get(name)
        created = previous.get("created") if previous else None
        users[name] = {
            "hash": hash_password(password),
            "created": created or datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self._save(users)
        return previous is None

    def verify(self, name: str, password: str) -> bool:
        """Whether `password` is `name`'s.

        An unknown name costs as much time as a wrong password.
        """
        entry = self._load().get(name) if NAME_PATTERN.fullmatch(name) else None
        if entry is None:
            _spend_one_check(password)
            return False
        try:
            return check_password(password, entry["hash"])
        except UserStoreError as err:
            raise UserStoreError(f"{self.path}: user {name!r}: {err}") from err

    def names(self) -> list[str]:
        """Every user name, sorted."""
        return sorted(self._load())

    def has_users(self) -> bool:
        """Whether anyone can log in yet."""
        return bool(self._load())

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as err:
            raise UserStoreError(f"{self.path}: cannot be read ({err})") from err
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as err:
            raise UserStoreError(f"{self.path}: not valid JSON ({err})") from err
        users = raw.get("users") if isinstance(raw, dict) else None
        if not isinstance(users, dict):
            raise UserStoreError(f'{self.path}: expected {{"users": {{NAME: {{...}}}}}}')
        for name, entry in users.items():
            if not (isinstance(entry, dict) and isinstance(entry.get("hash"), str)):
                raise UserStoreError(f"{self.path}: user {name!r} has no password hash")
        return users

    def _save(self, users: dict[str, dict[str, Any]]) -> None:
        self._home.mkdir(parents=True, exist_ok=True, mode=0o700)
        # mkstemp creates the file with mode 0600: the hashes are never readable by others.
        fd, tmp = tempfile.mkstemp(prefix=".users-", suffix=".json", dir=self._home)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"users": dict(sorted(users.items()))}, handle, indent=2)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def hash_password(password: str) -> str:
    """The storable form `scrypt$N$r$p$<salt>$<key>` of a password, with a fresh random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(salt, SCRYPT_N, SCRYPT_R, SCRYPT_P).derive(_encode(password))
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(key)])


def check_password(password: str, stored: str) -> bool:
    """Whether `password` matches a hash made by `hash_password` (constant-time comparison)."""
    salt, key, n, r, p = _parse(stored)
    try:
        _scrypt(salt, n, r, p, length=len(key)).verify(_encode(password), key)
    except InvalidKey:
        return False
    return True


def read_password(
    prompt: str,
    *,
    stdin: bool,
    stream: TextIO | None = None,
    ask: Callable[[str], str] = getpass.getpass,
) -> str:
    """Read a new password: one line of standard input, or typed twice at the terminal.

    `stream` and `ask` stand in for standard input and `getpass` where the caller has its own.
    """
    if stdin:
        line = (stream or sys.stdin).readline()
        if not line:
            raise UserStoreError("no password on standard input")
        return line.removesuffix("\n").removesuffix("\r")
    first = ask(prompt)
    if ask("again: ") != first:
        raise UserStoreError("the two passwords differ")
    return first


def _check_name(name: str) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise UserStoreError(
            f"bad user name {name!r}: use 1 to 64 letters, digits, '.', '_', '-' or '@'"
        )


def _spend_one_check(password: str) -> None:
    """Run a full scrypt check that always fails, so unknown names take as long as known ones."""
    with suppress(InvalidKey):
        _scrypt(_DECOY_SALT, SCRYPT_N, SCRYPT_R, SCRYPT_P).verify(_encode(password), _DECOY_KEY)


def _parse(stored: str) -> tuple[bytes, bytes, int, int, int]:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        raise UserStoreError("password hash is not in the scrypt$N$r$p$salt$key form")
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error) as err:
        raise UserStoreError(f"password hash cannot be read ({err})") from err
    power_of_two = n > 1 and n & (n - 1) == 0
    if not (power_of_two and r > 0 and 0 < p <= 16 and 128 * n * r <= MAX_SCRYPT_MEMORY):
        raise UserStoreError(f"password hash has unusable scrypt parameters N={n} r={r} p={p}")
    if len(salt) < SALT_BYTES or len(key) < 16:
        raise UserStoreError("password hash has a salt or key that is too short")
    return salt, key, n, r, p


def _scrypt(salt: bytes, n: int, r: int, p: int, length: int = KEY_BYTES) -> Scrypt:
    return Scrypt(salt=salt, length=length, n=n, r=r, p=p)


def _encode(password: str) -> bytes:
    # NFC: the same password typed on systems that compose accents differently still matches.
    return unicodedata.normalize("NFC", password).encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
