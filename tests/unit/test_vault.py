"""The credential vault: round trips, wrong keys that lose nothing, and rotation that never strands a
credential, whichever step it stops at."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlmodel import Session, select

from memory.credential_cipher import VaultError, VaultKeyError, key_id
from memory.credential_table import StoredCredential
from memory.db import AppDatabase
from memory.key_rotation import RotationStep
from memory.keys import KEY_ENV, KeySourceError, generate_key, key_path, load_keys, write_key_file
from memory.vault import CredentialVault, check_name

SECRETS = {
    "jira.api_token": "ATATT3xFfGF0-jira-vault-test-4412",
    "slack.bot_token": "xoxb-vault-unit-0000-aaaa",
    "imap.password:dana@imap.northwind.example": "Pässwörd with spaces ✓",
}


class Interrupted(Exception):
    """Stands in for a crash at one step of a rotation."""


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)


@pytest.fixture
def db(tmp_path: Path) -> AppDatabase:
    return AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")


@pytest.fixture
def vault(db: AppDatabase, tmp_path: Path) -> CredentialVault:
    return CredentialVault(db, tmp_path)


@pytest.fixture
def filled(vault: CredentialVault) -> CredentialVault:
    for name, value in SECRETS.items():
        vault.set(name, value)
    return vault


def tokens(db: AppDatabase) -> dict[str, tuple[str, str]]:
    """Each row's stored token and key id, straight from the table."""
    with Session(db.engine) as session:
        return {row.name: (row.token, row.key_id) for row in session.exec(select(StoredCredential))}


def values(vault: CredentialVault) -> dict[str, str | None]:
    return {name: vault.get(name) for name in SECRETS}


def file_keys(home: Path) -> tuple[bytes, ...]:
    return load_keys(home, create=False).keys


# -- storing and reading -------------------------------------------------------------------


def test_every_app_database_has_the_credential_table(tmp_path: Path) -> None:
    # In a fresh interpreter that imports only the database module, as every command does.
    path = tmp_path / "fresh.db"
    code = f"from memory.db import AppDatabase; AppDatabase('sqlite:///{path}')"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    with sqlite3.connect(path) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(credential)")]
    assert columns == ["name", "token", "key_id", "created_at", "updated_at"]


def test_a_value_comes_back_and_is_stored_encrypted(
    vault: CredentialVault, db: AppDatabase
) -> None:
    assert vault.set("jira.api_token", "first-value-1234") is True
    assert vault.get("jira.api_token") == "first-value-1234"
    assert vault.set("jira.api_token", "second-value-5678") is False, "replaced, not created"
    assert vault.get("jira.api_token") == "second-value-5678"
    [(token, stored_id)] = tokens(db).values()
    assert "second-value" not in token and "first-value" not in token
    assert stored_id == key_id(file_keys(vault.home)[0])


def test_every_value_round_trips(filled: CredentialVault) -> None:
    assert values(filled) == SECRETS
    assert filled.get("crm.api_key") is None


def test_names_come_with_times_and_key_state_never_values(filled: CredentialVault) -> None:
    infos = filled.names()
    assert [info.name for info in infos] == sorted(SECRETS)
    for info in infos:
        assert info.key == "current"
        assert info.created_at and info.updated_at >= info.created_at
        assert not set(info.as_dict().values()) & set(SECRETS.values())


def test_delete_removes_one_credential(filled: CredentialVault) -> None:
    assert filled.delete("slack.bot_token") is True
    assert filled.delete("slack.bot_token") is False
    assert filled.get("slack.bot_token") is None
    assert filled.get("jira.api_token") == SECRETS["jira.api_token"]


@pytest.mark.parametrize(
    "name",
    ["jira", "Jira.api_token", "jira.", ".token", "jira api.token", "jira.token:", "a.b:x y", ""],
)
def test_a_bad_name_is_refused(vault: CredentialVault, name: str) -> None:
    with pytest.raises(VaultError, match="bad credential name"):
        vault.set(name, "value")


@pytest.mark.parametrize(
    "name",
    ["jira.api_token", "webhook.secret:deploy-hook", "imap.password:dana@imap.example.com:993"],
)
def test_the_naming_convention_is_accepted(name: str) -> None:
    assert check_name(name) == name


def test_an_empty_or_huge_value_is_refused(vault: CredentialVault) -> None:
    with pytest.raises(VaultError, match="empty"):
        vault.set("jira.api_token", "")
    with pytest.raises(VaultError, match="longer than"):
        vault.set("jira.api_token", "x" * 70_000)
    assert vault.names() == []


def test_secret_prefers_the_vault_then_the_environment(
    vault: CredentialVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIRA_API_TOKEN", "from-the-environment")
    assert vault.secret("jira.api_token", "JIRA_API_TOKEN") == "from-the-environment"
    assert vault.secret("jira.api_token") is None
    vault.set("jira.api_token", "from-the-vault")
    assert vault.secret("jira.api_token", "JIRA_API_TOKEN") == "from-the-vault"
    monkeypatch.setenv("SLACK_BOT_TOKEN", "")
    assert vault.secret("slack.bot_token", "SLACK_BOT_TOKEN") is None


def test_reading_an_empty_vault_makes_no_key_file(vault: CredentialVault) -> None:
    assert vault.get("jira.api_token") is None
    assert vault.names() == []
    assert not key_path(vault.home).exists()


# -- keys ------------------------------------------------------------------------------------


def test_the_first_credential_makes_a_0600_key_file(vault: CredentialVault) -> None:
    vault.set("jira.api_token", "v")
    assert stat.S_IMODE(key_path(vault.home).stat().st_mode) == 0o600


def test_a_key_file_others_can_read_is_refused_and_loses_nothing(
    filled: CredentialVault, db: AppDatabase
) -> None:
    before = tokens(db)
    os.chmod(key_path(filled.home), 0o640)
    with pytest.raises(KeySourceError, match="chmod 600"):
        filled.get("jira.api_token")
    with pytest.raises(KeySourceError, match="chmod 600"):
        filled.set("crm.api_key", "v")
    assert tokens(db) == before
    os.chmod(key_path(filled.home), 0o600)
    assert values(filled) == SECRETS


def test_a_wrong_key_is_a_clear_error_and_loses_nothing(
    filled: CredentialVault, db: AppDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = tokens(db)
    key_file = key_path(filled.home).read_bytes()
    wrong = generate_key()
    monkeypatch.setenv(KEY_ENV, wrong.decode())

    with pytest.raises(VaultKeyError) as caught:
        filled.get("jira.api_token")
    message = str(caught.value)
    assert KEY_ENV in message and "jira.api_token" in message
    assert key_id(file_keys_of(key_file)[0]) in message, "names the key id it needs"
    assert wrong.decode() not in message and key_file.decode().strip() not in message
    with pytest.raises(VaultKeyError, match="crm.api_key was not stored"):
        filled.set("crm.api_key", "a value under the wrong key")
    with pytest.raises(VaultKeyError, match="nothing was changed"):
        filled.rotate_key()
    assert {info.key for info in filled.names()} == {"not held"}
    assert set(filled.unreadable()) == set(SECRETS)
    assert tokens(db) == before, "no row was touched"

    monkeypatch.delenv(KEY_ENV)
    assert values(filled) == SECRETS
    assert filled.get("crm.api_key") is None
    assert key_path(filled.home).read_bytes() == key_file


def file_keys_of(content: bytes) -> list[bytes]:
    return [line for line in content.split(b"\n") if line]


def test_a_wrong_key_file_names_its_path(filled: CredentialVault) -> None:
    write_key_file(key_path(filled.home), (generate_key(),))
    with pytest.raises(VaultKeyError, match=str(key_path(filled.home))):
        filled.get("slack.bot_token")


def test_a_missing_key_file_is_not_silently_replaced(filled: CredentialVault) -> None:
    key_path(filled.home).unlink()
    with pytest.raises(KeySourceError, match="is missing: restore it"):
        filled.get("jira.api_token")
    with pytest.raises(KeySourceError, match="is missing"):
        filled.set("crm.api_key", "v")
    assert not key_path(filled.home).exists(), "no new key that could never read the old ones"
    assert {info.key for info in filled.names()} == {"unknown"}


def test_an_unreadable_credential_is_not_replaced_by_the_environment(
    filled: CredentialVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIRA_API_TOKEN", "from-the-environment")
    monkeypatch.setenv(KEY_ENV, generate_key().decode())
    with pytest.raises(VaultKeyError):
        filled.secret("jira.api_token", "JIRA_API_TOKEN")


def test_an_unreadable_credential_is_not_replaced_under_another_key_but_may_be_deleted(
    vault: CredentialVault, db: AppDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault.set("jira.api_token", "under a lost key")
    before = tokens(db)
    monkeypatch.setenv(KEY_ENV, generate_key().decode())
    with pytest.raises(VaultKeyError, match="credentials delete NAME"):
        vault.set("jira.api_token", "set again under the new key")
    assert tokens(db) == before, "the row keeps its value and its key"
    assert vault.delete("jira.api_token") is True
    assert vault.set("jira.api_token", "set again under the new key") is True
    assert vault.get("jira.api_token") == "set again under the new key"


def test_one_readable_credential_does_not_let_an_unreadable_one_be_replaced(
    vault: CredentialVault, db: AppDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault.set("jira.api_token", "under the key file")
    [old] = file_keys(vault.home)
    new = generate_key().decode()
    monkeypatch.setenv(KEY_ENV, f"{new},{old.decode()}")
    vault.set("slack.bot_token", "under the new key")
    monkeypatch.setenv(KEY_ENV, new)  # the old key dropped before a rotation
    assert vault.get("slack.bot_token") == "under the new key"
    before = tokens(db)
    for name in ("jira.api_token", "slack.bot_token", "crm.api_key"):
        with pytest.raises(VaultKeyError, match=rf"\(jira\.api_token\).*{name} was not stored"):
            vault.set(name, "new value")
    assert tokens(db) == before, "no row was written"


def test_a_token_moved_to_another_row_does_not_decrypt_as_that_credential(
    filled: CredentialVault, db: AppDatabase
) -> None:
    slack_token = tokens(db)["slack.bot_token"][0]
    with Session(db.engine) as session:
        session.execute(
            text("UPDATE credential SET token = :t WHERE name = 'jira.api_token'"),
            {"t": slack_token},
        )
        session.commit()
    with pytest.raises(VaultError, match="stored under another name"):
        filled.get("jira.api_token")


def test_a_damaged_token_is_called_damaged_and_may_be_set_again(
    filled: CredentialVault, db: AppDatabase
) -> None:
    token = tokens(db)["jira.api_token"][0]
    damaged = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with Session(db.engine) as session:
        session.execute(
            text("UPDATE credential SET token = :t WHERE name = 'jira.api_token'"), {"t": damaged}
        )
        session.commit()
    with pytest.raises(VaultError, match="is damaged"):
        filled.get("jira.api_token")
    assert filled.get("slack.bot_token") == SECRETS["slack.bot_token"]
    assert filled.set("jira.api_token", "repaired") is False, "its key is held: a repair"
    assert filled.get("jira.api_token") == "repaired"


# -- rotation with the key file ---------------------------------------------------------


def test_rotation_reencrypts_everything_and_keeps_only_the_new_key(
    filled: CredentialVault, db: AppDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    [old] = file_keys(filled.home)
    before = tokens(db)
    report = filled.rotate_key()
    [new] = file_keys(filled.home)
    assert new != old
    assert report.reencrypted == len(SECRETS) and report.dropped_keys == 1
    assert report.new_key_id == key_id(new)
    after = tokens(db)
    assert {stored_id for _token, stored_id in after.values()} == {key_id(new)}
    assert all(after[name][0] != before[name][0] for name in SECRETS)
    assert values(filled) == SECRETS
    assert stat.S_IMODE(key_path(filled.home).stat().st_mode) == 0o600
    monkeypatch.setenv(KEY_ENV, old.decode())
    with pytest.raises(VaultKeyError):
        filled.get("jira.api_token")


def test_rotation_writes_every_credential_in_one_transaction(
    filled: CredentialVault, db: AppDatabase
) -> None:
    events: list[str] = []

    def on_execute(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE CREDENTIAL"):
            events.append("update")

    def on_commit(_conn: object) -> None:
        events.append("commit")

    event.listen(db.engine, "after_cursor_execute", on_execute)
    event.listen(db.engine, "commit", on_commit)
    try:
        filled.rotate_key()
    finally:
        event.remove(db.engine, "after_cursor_execute", on_execute)
        event.remove(db.engine, "commit", on_commit)
    writes = "".join("u" if e == "update" else "c" for e in events).replace("cc", "c")
    assert "u" * len(SECRETS) + "c" in writes
    assert writes.count("u") == len(SECRETS), (
        "each credential rewritten once, all before one commit"
    )


def _interrupt_at(step: RotationStep) -> Callable[[RotationStep], None]:
    def on_step(reached: RotationStep) -> None:
        if reached == step:
            raise Interrupted(step)

    return on_step


STEPS: list[RotationStep] = ["new-key-written", "mid-transaction", "committed", "key-file-final"]


@pytest.mark.parametrize("step", STEPS)
def test_an_interrupted_rotation_leaves_every_credential_readable(
    filled: CredentialVault, db: AppDatabase, step: RotationStep
) -> None:
    [old] = file_keys(filled.home)
    before = tokens(db)
    with pytest.raises(Interrupted):
        filled.rotate_key(on_step=_interrupt_at(step))

    keys = file_keys(filled.home)
    assert values(filled) == SECRETS, f"readable after stopping at {step}"
    if step in ("new-key-written", "mid-transaction"):
        assert keys[1:] == (old,), "the old key is still in the file"
        assert tokens(db) == before, "nothing committed: the transaction is all or nothing"
        assert {info.key for info in filled.names()} == {"older"}
    else:
        assert {info.key for info in filled.names()} == {"current"}

    filled.rotate_key()
    assert len(file_keys(filled.home)) == 1
    assert values(filled) == SECRETS


def test_a_credential_written_under_the_old_key_during_rotation_moves_too(
    filled: CredentialVault, db: AppDatabase
) -> None:
    from memory.credential_cipher import encrypt_credential as _encrypt

    [old] = file_keys(filled.home)

    def late_writer(step: RotationStep) -> None:
        # Another process that read the key file before the rotation stores a value now.
        if step == "committed":
            with Session(db.engine) as session:
                token = _encrypt("crm.api_key", "late value", old)
                session.add(StoredCredential(name="crm.api_key", token=token, key_id=key_id(old)))
                session.commit()

    filled.rotate_key(on_step=late_writer)
    assert file_keys(filled.home) != (old,) and len(file_keys(filled.home)) == 1
    assert filled.get("crm.api_key") == "late value"


def test_concurrent_rotations_strand_nothing(filled: CredentialVault) -> None:
    errors: list[BaseException] = []

    def rotate() -> None:
        try:
            filled.rotate_key()
        except BaseException as err:  # noqa: BLE001 — collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=rotate) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(file_keys(filled.home)) == 1
    assert values(filled) == SECRETS


def test_rotation_refuses_when_any_credential_is_unreadable(
    filled: CredentialVault, db: AppDatabase
) -> None:
    from memory.credential_cipher import encrypt_credential as _encrypt

    with Session(db.engine) as session:
        foreign = generate_key()
        session.add(
            StoredCredential(
                name="crm.api_key",
                token=_encrypt("crm.api_key", "x", foreign),
                key_id=key_id(foreign),
            )
        )
        session.commit()
    key_file = key_path(filled.home).read_bytes()
    before = tokens(db)
    with pytest.raises(VaultKeyError, match=r"crm\.api_key"):
        filled.rotate_key()
    assert key_path(filled.home).read_bytes() == key_file, "the key file was not touched"
    assert tokens(db) == before


# -- rotation with SMART_INBOX_KEY --------------------------------------------------------


def test_one_environment_key_cannot_be_rotated_here(
    vault: CredentialVault, db: AppDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, generate_key().decode())
    vault.set("jira.api_token", "v")
    before = tokens(db)
    with pytest.raises(VaultError, match="NEW,OLD"):
        vault.rotate_key()
    assert tokens(db) == before
    assert vault.get("jira.api_token") == "v"


def test_the_environment_rotation_moves_everything_to_its_first_key(
    vault: CredentialVault, db: AppDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = generate_key(), generate_key()
    monkeypatch.setenv(KEY_ENV, old.decode())
    for name, value in SECRETS.items():
        vault.set(name, value)
    monkeypatch.setenv(KEY_ENV, f"{new.decode()},{old.decode()}")
    assert {info.key for info in vault.names()} == {"older"}
    report = vault.rotate_key()
    assert (report.reencrypted, report.origin, report.dropped_keys) == (len(SECRETS), KEY_ENV, 0)
    assert {stored_id for _t, stored_id in tokens(db).values()} == {key_id(new)}
    monkeypatch.setenv(KEY_ENV, new.decode())
    assert values(vault) == SECRETS
    assert not key_path(vault.home).exists(), "the environment's keys are never written to disk"


@pytest.mark.parametrize("step", ["mid-transaction", "committed"])
def test_an_interrupted_environment_rotation_loses_nothing(
    vault: CredentialVault, monkeypatch: pytest.MonkeyPatch, step: RotationStep
) -> None:
    old, new = generate_key(), generate_key()
    monkeypatch.setenv(KEY_ENV, old.decode())
    for name, value in SECRETS.items():
        vault.set(name, value)
    monkeypatch.setenv(KEY_ENV, f"{new.decode()},{old.decode()}")
    with pytest.raises(Interrupted):
        vault.rotate_key(on_step=_interrupt_at(step))
    assert values(vault) == SECRETS
