"""Encrypted checkpoint payloads: AES-GCM over the strict serializer, refusal of plaintext, rotation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from memory.checkpointer import checkpoint_serializer, strict_serializer
from memory.keys import KEY_ENV, derive_key, generate_key
from memory.state_encryption import (
    MAGIC,
    TYPE_PREFIX,
    CheckpointSerializer,
    SealedValue,
    StateEncryptionError,
    encryption_wanted,
    key_id,
)

PHRASE = "the failover to the replica at 11:35"
VALUE: dict[str, Any] = {
    "messages": [HumanMessage("what does it say?"), AIMessage(f"It says {PHRASE}.")],
    "evidence": [{"id": "e1", "content": f"Next step: {PHRASE} unless you object."}],
    "turn": 3,
}


def aes_key() -> bytes:
    return derive_key(generate_key(), "checkpoints")


def sealing(*keys: bytes) -> CheckpointSerializer:
    return CheckpointSerializer(strict_serializer(), encrypt=True, keys=list(keys))


def test_a_payload_round_trips_and_carries_no_plaintext() -> None:
    serde = sealing(aes_key())
    type_tag, payload = serde.dumps_typed(VALUE)
    assert type_tag == TYPE_PREFIX + "msgpack"
    assert payload.startswith(MAGIC)
    assert PHRASE.encode() not in payload
    assert b"what does it say" not in payload
    assert serde.loads_typed((type_tag, payload)) == VALUE


def test_plaintext_does_contain_the_phrase() -> None:
    """The check above could fail: without encryption the phrase is in the bytes."""
    type_tag, payload = CheckpointSerializer(strict_serializer(), encrypt=False).dumps_typed(VALUE)
    assert type_tag == "msgpack"
    assert PHRASE.encode() in payload


def test_each_payload_gets_a_fresh_nonce() -> None:
    serde = sealing(aes_key())
    assert serde.dumps_typed(VALUE)[1] != serde.dumps_typed(VALUE)[1]


def test_plaintext_is_refused_when_encryption_is_on() -> None:
    plain = strict_serializer().dumps_typed(VALUE)
    with pytest.raises(StateEncryptionError, match="not encrypted"):
        sealing(aes_key()).loads_typed(plain)
    with pytest.raises(StateEncryptionError, match="not encrypted"):
        sealing(aes_key()).loads_typed(("null", b""))


def test_encrypted_payloads_still_load_when_encryption_is_turned_off() -> None:
    key = aes_key()
    stored = sealing(key).dumps_typed(VALUE)
    reader = CheckpointSerializer(strict_serializer(), encrypt=False, keys=lambda: [key])
    assert reader.loads_typed(stored) == VALUE
    assert reader.loads_typed(strict_serializer().dumps_typed(VALUE)) == VALUE
    keyless = CheckpointSerializer(strict_serializer(), encrypt=False)
    with pytest.raises(StateEncryptionError, match="no key is configured"):
        keyless.loads_typed(stored)


def test_a_wrong_key_is_a_clear_error() -> None:
    stored = sealing(aes_key()).dumps_typed(VALUE)
    with pytest.raises(StateEncryptionError, match="key that is not configured"):
        sealing(aes_key()).loads_typed(stored)


def test_rotation_reads_old_payloads_and_writes_with_the_new_key() -> None:
    old, new = aes_key(), aes_key()
    before = sealing(old).dumps_typed(VALUE)
    rotated = sealing(new, old)
    assert rotated.loads_typed(before) == VALUE
    after = rotated.dumps_typed(VALUE)
    assert after[1][len(MAGIC) : len(MAGIC) + 8] == key_id(new)
    with pytest.raises(StateEncryptionError, match="not configured"):
        sealing(old).loads_typed(after)


@pytest.mark.parametrize("where", ["body", "key id", "type"])
def test_tampering_fails_the_integrity_check(where: str) -> None:
    key = aes_key()
    serde = sealing(key)
    type_tag, payload = serde.dumps_typed(VALUE)
    if where == "body":
        payload = payload[:-5] + bytes([payload[-5] ^ 1]) + payload[-4:]
    elif where == "type":
        type_tag = TYPE_PREFIX + "json"
    else:
        other = aes_key()
        payload = MAGIC + key_id(other) + payload[len(MAGIC) + 8 :]
        serde = sealing(key, other)
    with pytest.raises(StateEncryptionError, match="integrity check"):
        serde.loads_typed((type_tag, payload))


def test_a_truncated_payload_is_a_clear_error() -> None:
    with pytest.raises(StateEncryptionError, match="damaged"):
        sealing(aes_key()).loads_typed((TYPE_PREFIX + "msgpack", b"SIC1short"))


def test_sealed_plain_values_round_trip_as_themselves() -> None:
    serde = sealing(aes_key())
    stored = serde.dumps_typed(SealedValue(f"note: {PHRASE}"))
    assert PHRASE.encode() not in stored[1]
    assert serde.loads_typed(stored) == f"note: {PHRASE}"


def test_widening_the_allowlist_keeps_encryption() -> None:
    key = aes_key()
    widened = sealing(key).with_msgpack_allowlist([("graph.state", "Anything")])
    assert isinstance(widened, CheckpointSerializer) and widened.encrypt
    stored = widened.dumps_typed(VALUE)
    assert stored[0].startswith(TYPE_PREFIX)
    assert sealing(key).loads_typed(stored) == VALUE


@pytest.mark.parametrize(
    ("raw", "wanted"),
    [("1", True), ("true", True), ("ON", True), ("0", False), ("", False), ("no", False)],
)
def test_the_switch(raw: str, wanted: bool) -> None:
    assert encryption_wanted({"SMART_INBOX_ENCRYPT_STATE": raw}) is wanted


def test_a_malformed_switch_is_a_clear_error() -> None:
    with pytest.raises(StateEncryptionError, match="must be 1 or 0"):
        encryption_wanted({"SMART_INBOX_ENCRYPT_STATE": "maybe"})


def test_the_serializer_uses_the_key_source_of_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fernet = generate_key()
    monkeypatch.setenv(KEY_ENV, fernet.decode())
    stored = checkpoint_serializer(tmp_path, encrypt=True).dumps_typed(VALUE)
    assert stored[1][len(MAGIC) : len(MAGIC) + 8] == key_id(derive_key(fernet, "checkpoints"))
    monkeypatch.setenv(KEY_ENV, f"{generate_key().decode()},{fernet.decode()}")
    assert checkpoint_serializer(tmp_path, encrypt=True).loads_typed(stored) == VALUE
    assert not (tmp_path / "secret.key").exists(), "no key file when the key is in the environment"


def test_without_encryption_no_key_file_is_made(tmp_path: Path) -> None:
    serde = checkpoint_serializer(tmp_path, encrypt=False)
    serde.loads_typed(serde.dumps_typed(VALUE))
    assert not (tmp_path / "secret.key").exists()
    with pytest.raises(StateEncryptionError, match="encrypted, and no key"):
        serde.loads_typed(sealing(aes_key()).dumps_typed(VALUE))
