"""The key source: environment first, else a 0600 key file made once; derived keys per purpose."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from memory.keys import (
    KEY_ENV,
    KeySourceError,
    derive_key,
    generate_key,
    key_path,
    load_keys,
    write_key_file,
)


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)


def test_a_key_file_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    ring = load_keys(tmp_path)
    path = key_path(tmp_path)
    assert ring.origin == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keys(tmp_path).keys == ring.keys, "the second load reads the same key"
    token = Fernet(ring.keys[0]).encrypt(b"secret")
    assert Fernet(load_keys(tmp_path).keys[0]).decrypt(token) == b"secret"


def test_no_key_file_is_made_when_not_asked(tmp_path: Path) -> None:
    with pytest.raises(KeySourceError, match="no key"):
        load_keys(tmp_path, create=False)
    assert not key_path(tmp_path).exists()


def test_the_environment_wins_and_may_hold_old_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new, old = generate_key(), generate_key()
    monkeypatch.setenv(KEY_ENV, f"{new.decode()}, {old.decode()}")
    ring = load_keys(tmp_path)
    assert ring.keys == (new, old)
    assert ring.from_env
    assert not key_path(tmp_path).exists(), "no file is written when the environment has the key"


def test_a_malformed_key_is_a_clear_error_that_never_shows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "not-a-key-at-all")
    with pytest.raises(KeySourceError) as caught:
        load_keys(tmp_path)
    assert KEY_ENV in str(caught.value)
    assert "not-a-key-at-all" not in str(caught.value)


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    load_keys(tmp_path)
    os.chmod(key_path(tmp_path), 0o644)
    with pytest.raises(KeySourceError, match="chmod 600"):
        load_keys(tmp_path)


def test_an_empty_key_file_is_an_error_not_a_new_key(tmp_path: Path) -> None:
    path = key_path(tmp_path)
    path.write_bytes(b"\n")
    path.chmod(0o600)
    with pytest.raises(KeySourceError, match="holds no key"):
        load_keys(tmp_path)
    assert path.read_bytes() == b"\n", "nothing was overwritten"


def test_the_key_file_is_replaced_whole(tmp_path: Path) -> None:
    load_keys(tmp_path)
    keys = (generate_key(), generate_key())
    write_key_file(key_path(tmp_path), keys)
    assert load_keys(tmp_path).keys == keys
    assert stat.S_IMODE(key_path(tmp_path).stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"], "no temporary file is left"


def test_derived_keys_are_stable_and_differ_by_purpose() -> None:
    key = generate_key()
    assert derive_key(key, "checkpoints") == derive_key(key, "checkpoints")
    assert len(derive_key(key, "checkpoints")) == 32
    assert derive_key(key, "checkpoints") != derive_key(key, "vault")
    assert derive_key(key, "checkpoints") != derive_key(generate_key(), "checkpoints")
