"""Checkpoint payloads encrypted at rest (AES-GCM): mail in the state is unreadable without the key.

`SMART_INBOX_ENCRYPT_STATE=1` turns it on. Every payload the checkpointer stores (checkpoints,
channel values, pending writes) then goes through `CheckpointSerializer`, which serialises it
with the strict serializer and encrypts the bytes with a key from `memory.keys` (derived for
the purpose `checkpoints`). The stored type tag becomes `aesgcm:<inner type>`; the payload is

    b"SIC1" | key id (8 bytes) | nonce (12 bytes, random) | ciphertext and GCM tag

with the magic, the key id and the inner type tag bound as associated data, so a payload moved
under another type tag or key id fails to decrypt. The key id (a hash of the key) picks the
key among those in use, newest first: after a key rotation old checkpoints still load and new
ones are written with the new key.

With encryption on, a payload that is not encrypted is refused, never read: a row written by
someone without the key, or left from before encryption was turned on, cannot slip plaintext
state into a conversation. With it off, new payloads are written in plaintext and encrypted
ones written earlier are still decrypted when a key is at hand.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from langgraph.checkpoint.serde.base import SerializerProtocol

if TYPE_CHECKING:
    # Imported when a key is loaded or a checkpoint decrypted: see `memory.keys`.
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ENCRYPT_ENV = "SMART_INBOX_ENCRYPT_STATE"
TYPE_PREFIX = "aesgcm:"
MAGIC = b"SIC1"
KEY_ID_BYTES = 8
NONCE_BYTES = 12
KEY_PURPOSE = "checkpoints"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


class StateEncryptionError(RuntimeError):
    """A checkpoint payload that must not or cannot be read: the message says which and why."""


def encryption_wanted(environ: dict[str, str] | None = None) -> bool:
    """Whether `SMART_INBOX_ENCRYPT_STATE` asks for encrypted checkpoints.

    Raises:
        StateEncryptionError: the value is neither a yes nor a no.

    """
    raw = (os.environ if environ is None else environ).get(ENCRYPT_ENV, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise StateEncryptionError(f"{ENCRYPT_ENV} must be 1 or 0 (true/false), not {raw!r}")


def key_id(key: bytes) -> bytes:
    """The public name of a key: a hash of it, so the key itself never has to be stored."""
    return hashlib.sha256(b"smart-inbox checkpoint key id\0" + key).digest()[:KEY_ID_BYTES]


class CheckpointSerializer(SerializerProtocol):
    """The checkpointer's serializer: the strict one, wrapped in AES-GCM when `encrypt` is on.

    `keys` (32-byte AES keys, newest first) may be a function, called the first time a key is
    needed, so a plaintext installation never loads or creates a key.
    """

    def __init__(
        self,
        inner: SerializerProtocol,
        *,
        encrypt: bool,
        keys: Sequence[bytes] | Callable[[], Sequence[bytes]] | None = None,
    ) -> None:
        self.inner = inner
        self.encrypt = encrypt
        self._keys_source = keys
        self._keys: dict[bytes, AESGCM] | None = None
        self._newest: bytes | None = None
        if encrypt and keys is None:
            raise ValueError("encrypted checkpoints need keys")
        if not callable(keys) and keys is not None:
            self._load(keys)

    # -- keys -------------------------------------------------------------------------------------

    def _load(self, keys: Iterable[bytes]) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        ciphers: dict[bytes, AESGCM] = {}
        for key in keys:
            if len(key) != 32:
                raise ValueError("checkpoint keys are 32 bytes (AES-256)")
            ciphers.setdefault(key_id(key), AESGCM(key))
        if not ciphers:
            raise ValueError("no checkpoint key")
        self._keys = ciphers
        self._newest = next(iter(ciphers))

    def _ciphers(self) -> dict[bytes, AESGCM]:
        if self._keys is None:
            source = self._keys_source
            if source is None:
                raise StateEncryptionError(
                    "this checkpoint is encrypted and no key is configured: set "
                    "SMART_INBOX_KEY (or restore the key file) to read it"
                )
            self._load(source() if callable(source) else source)
        assert self._keys is not None
        return self._keys

    # -- the protocol ---------------------------------------------------------------------------

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        """Serialise `obj`; encrypted when encryption is on."""
        if isinstance(obj, SealedValue):
            obj = obj.value
        type_tag, data = self.inner.dumps_typed(obj)
        if not self.encrypt:
            return type_tag, data
        ciphers = self._ciphers()
        assert self._newest is not None
        header = MAGIC + self._newest
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = ciphers[self._newest].encrypt(nonce, bytes(data), _aad(header, type_tag))
        return TYPE_PREFIX + type_tag, header + nonce + sealed

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """Deserialise a stored payload, decrypting it first; plaintext is refused when on."""
        type_tag, payload = data
        if not type_tag.startswith(TYPE_PREFIX):
            if self.encrypt:
                raise StateEncryptionError(
                    f"refusing to read a checkpoint that is not encrypted (type {type_tag!r}) "
                    f"while {ENCRYPT_ENV} is on: it was written without encryption or by "
                    "someone without the key"
                )
            return self.inner.loads_typed(data)
        inner_type = type_tag[len(TYPE_PREFIX) :]
        return self.inner.loads_typed((inner_type, self._decrypt(inner_type, bytes(payload))))

    def _decrypt(self, inner_type: str, payload: bytes) -> bytes:
        from cryptography.exceptions import InvalidTag

        header_length = len(MAGIC) + KEY_ID_BYTES
        if len(payload) < header_length + NONCE_BYTES + 16 or not payload.startswith(MAGIC):
            raise StateEncryptionError("an encrypted checkpoint is damaged (bad header)")
        header = payload[:header_length]
        wanted = header[len(MAGIC) :]
        cipher = self._ciphers().get(wanted)
        if cipher is None:
            raise StateEncryptionError(
                f"a checkpoint is encrypted with a key that is not configured (key id "
                f"{wanted.hex()}): SMART_INBOX_KEY or the key file must hold that key"
            )
        nonce = payload[header_length : header_length + NONCE_BYTES]
        try:
            return cipher.decrypt(
                nonce, payload[header_length + NONCE_BYTES :], _aad(header, inner_type)
            )
        except InvalidTag:
            raise StateEncryptionError(
                f"a checkpoint encrypted with key {wanted.hex()} fails its integrity check: "
                "it was altered or is damaged"
            ) from None

    def with_msgpack_allowlist(self, extra_allowlist: Iterable[Any]) -> CheckpointSerializer:
        """The same serializer over an inner one that also revives `extra_allowlist` types."""
        widen = getattr(self.inner, "with_msgpack_allowlist", None)
        if widen is None:
            return self
        inner = widen(extra_allowlist)
        if inner is self.inner:
            return self
        clone = CheckpointSerializer(inner, encrypt=self.encrypt, keys=self._keys_source)
        clone._keys, clone._newest = self._keys, self._newest
        return clone


class SealedValue:
    """A plain value (text, number) the PostgreSQL checkpointer must store as an encrypted blob.

    That checkpointer keeps strings and numbers of the state inline in its JSONB column, where
    no serializer sees them; wrapped in this, they are serialised (and encrypted) like the rest.
    """

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _aad(header: bytes, inner_type: str) -> bytes:
    return header + b"\0" + inner_type.encode()
