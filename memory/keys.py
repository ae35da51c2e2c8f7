"""The one key source for everything encrypted at rest: the credential vault and the checkpoints.

Keys are Fernet keys (url-safe base64 of 32 bytes). They come from `SMART_INBOX_KEY` (one key,
or several separated by commas: the first encrypts, every one decrypts), else from the key file
`SMART_INBOX_HOME/secret.key` (one key per line, same order), generated with mode 0600 the first
time it is needed. Other ciphers (AES-GCM for checkpoints) use keys derived from these with HKDF,
one per purpose, so one secret serves every use without two uses sharing a key.
"""

from __future__ import annotations

import fcntl
import logging
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# `cryptography` (its OpenSSL bindings: several MiB) is imported where a key is made, read
# or derived: a command on a data directory without keys or secrets never loads it.

logger = logging.getLogger(__name__)

KEY_ENV = "SMART_INBOX_KEY"
KEY_FILE = "secret.key"


class KeySourceError(Exception):
    """No usable key: the message says where the key was looked for and what is wrong."""


@dataclass(frozen=True)
class KeyRing:
    """The keys in use, newest first, and where they came from."""

    keys: tuple[bytes, ...]
    """Fernet keys; `keys[0]` encrypts, every one of them may decrypt."""
    origin: str
    """`SMART_INBOX_KEY` or the key file's path: named in errors, never the key itself."""

    @property
    def from_env(self) -> bool:
        """True when the keys come from the environment (they cannot be rewritten by us)."""
        return self.origin == KEY_ENV

    def derived(self, purpose: str) -> tuple[bytes, ...]:
        """32-byte keys for another cipher, one per Fernet key, in the same order."""
        return tuple(derive_key(key, purpose) for key in self.keys)


def generate_key() -> bytes:
    """A new random Fernet key."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key()


def derive_key(key: bytes, purpose: str) -> bytes:
    """A 32-byte key for `purpose` (e.g. `checkpoints`), derived from a Fernet key with HKDF."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"smart-inbox key derivation",
        info=purpose.encode(),
    ).derive(key)


def key_path(home: Path) -> Path:
    """Where the generated key file lives in the data directory."""
    return home / KEY_FILE


def _parse(text: str, origin: str, separator: str) -> tuple[bytes, ...]:
    from cryptography.fernet import Fernet

    parts = [p.strip() for p in text.split(separator)]
    keys = tuple(p.encode() for p in parts if p and not p.startswith("#"))
    if not keys:
        raise KeySourceError(f"{origin} holds no key")
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise KeySourceError(
                f"{origin}: key {number} is not a Fernet key (32 bytes, url-safe base64); "
                "make one with `smart-inbox credentials new-key`"
            ) from None
    return keys


def load_keys(home: Path, *, create: bool = True) -> KeyRing:
    """The key ring: `SMART_INBOX_KEY` if set, else the key file (made when missing and `create`).

    Raises:
        KeySourceError: the key is malformed, the key file is readable by other users, or
            there is no key and `create` is false.

    """
    if os.environ.get(KEY_ENV, "").strip():
        return KeyRing(_parse(os.environ[KEY_ENV], KEY_ENV, ","), KEY_ENV)
    path = key_path(home)
    if not path.exists():
        if not create:
            raise KeySourceError(f"no key: set {KEY_ENV} or create {path}")
        _create_key_file(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeySourceError(
            f"{path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`"
        )
    return KeyRing(
        _parse(path.read_text(encoding="ascii", errors="replace"), str(path), "\n"), str(path)
    )


def _create_key_file(path: Path) -> None:
    """Write a new key, 0600 from the first byte; a concurrent creator's key wins if first."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(generate_key() + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    logger.info(
        "generated a new key file at %s (keep a copy: without it nothing can be read)", path
    )


def write_key_file(path: Path, keys: tuple[bytes, ...]) -> None:
    """Replace the key file atomically (a crash leaves the old file or the new one, never half)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret-", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(b"".join(key + b"\n" for key in keys))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@contextmanager
def key_file_lock(home: Path) -> Iterator[None]:
    """Writers of the vault and of the key file take turns while the keys come from the file.

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
