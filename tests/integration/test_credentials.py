"""`smart-inbox credentials` end to end, each call in its own process: storing, listing, deleting,
a wrong key, and a rotation killed (SIGKILL) after each of its steps."""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from memory.db import AppDatabase
from memory.key_rotation import CRASH_IN_ROTATION
from memory.keys import KEY_ENV, key_path
from memory.vault import CredentialVault
from tests.integration.cli_runner import run_cli

pytestmark = pytest.mark.integration

SECRETS = {
    "jira.api_token": "ATATT3-cli-jira-4f1d9c",
    "slack.bot_token": "slack-cli-bot-77aa01",
    "imap.password:dana@imap.northwind.example": "Pässwort mit Leerzeichen 42",
}


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)


def store(home: Path, name: str, value: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli(home, "credentials", "set", name, "--stdin", stdin=value + "\n", env=env)


def stored_values(home: Path) -> dict[str, str | None]:
    """Every credential as a fresh reader sees it, with the key file as it is now."""
    vault = CredentialVault(AppDatabase(f"sqlite:///{home / 'app.db'}"), home)
    return {name: vault.get(name) for name in SECRETS}


def key_lines(home: Path) -> list[str]:
    return key_path(home).read_text().split()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    for name, value in SECRETS.items():
        store(tmp_path, name, value)
    return tmp_path


def test_set_list_delete(tmp_path: Path) -> None:
    first = store(tmp_path, "jira.api_token", "first-value-abc")
    assert first.stdout.strip() == "stored jira.api_token"
    assert "generated the key file" in first.stderr and "keep a copy" in first.stderr
    again = store(tmp_path, "jira.api_token", "second-value-def")
    assert again.stdout.strip() == "replaced jira.api_token"
    assert again.stderr == "", "the key file is announced only once"
    store(tmp_path, "slack.bot_token", "xyz-slack-1")

    rows = json.loads(run_cli(tmp_path, "credentials", "list", "--json").stdout)
    assert [row["name"] for row in rows] == ["jira.api_token", "slack.bot_token"]
    assert {row["key"] for row in rows} == {"current"}
    assert set(rows[0]) == {"name", "created_at", "updated_at", "key"}
    table = run_cli(tmp_path, "credentials", "list").stdout
    assert "jira.api_token" in table and "current" in table
    assert "second-value" not in table and "xyz-slack" not in table

    assert run_cli(tmp_path, "credentials", "delete", "slack.bot_token").stdout.strip() == (
        "deleted slack.bot_token"
    )
    missing = run_cli(tmp_path, "credentials", "delete", "slack.bot_token", check=False)
    assert missing.returncode == 2
    assert missing.stderr == "smart-inbox: no credential 'slack.bot_token'\n"
    assert stored_values(tmp_path)["jira.api_token"] == "second-value-def"


def test_the_key_file_is_0600_and_refused_when_others_can_read_it(home: Path) -> None:
    assert stat.S_IMODE(key_path(home).stat().st_mode) == 0o600
    key_path(home).chmod(0o644)
    refused = run_cli(home, "credentials", "list", check=False)
    assert refused.returncode == 0, "listing names needs no key"
    assert "unknown" in refused.stdout
    for args in (("rotate-key",), ("set", "crm.api_key", "--stdin")):
        failed = run_cli(home, "credentials", *args, check=False, stdin="v\n")
        assert failed.returncode == 2
        assert "chmod 600" in failed.stderr and len(failed.stderr.splitlines()) == 1
    key_path(home).chmod(0o600)
    assert stored_values(home) == SECRETS


def test_a_value_is_never_an_argument_nor_read_from_a_pipe_unasked(tmp_path: Path) -> None:
    as_argument = run_cli(tmp_path, "credentials", "set", "jira.api_token", "v", check=False)
    assert as_argument.returncode == 2 and "unrecognized arguments" in as_argument.stderr
    piped = run_cli(tmp_path, "credentials", "set", "jira.api_token", check=False, stdin="v\n")
    assert piped.returncode == 2
    assert piped.stderr == (
        "smart-inbox: standard input is not a terminal: pass --stdin to read the value from it\n"
    )
    empty = run_cli(tmp_path, "credentials", "set", "jira.api_token", "--stdin", check=False)
    assert empty.returncode == 2 and "no value for jira.api_token" in empty.stderr
    bad = run_cli(tmp_path, "credentials", "set", "JIRA", "--stdin", check=False, stdin="v\n")
    assert bad.returncode == 2 and "bad credential name" in bad.stderr
    assert json.loads(run_cli(tmp_path, "credentials", "list", "--json").stdout) == []


def test_new_key_prints_a_fresh_fernet_key(tmp_path: Path) -> None:
    first = run_cli(tmp_path, "credentials", "new-key").stdout.strip()
    second = run_cli(tmp_path, "credentials", "new-key").stdout.strip()
    assert first != second
    assert Fernet(first.encode()).decrypt(Fernet(first.encode()).encrypt(b"x")) == b"x"
    assert not key_path(tmp_path).exists(), "printing a key stores nothing"


def test_a_wrong_key_is_one_clear_line_and_loses_nothing(home: Path) -> None:
    wrong = run_cli(home, "credentials", "new-key").stdout.strip()
    key_file = key_path(home).read_bytes()
    listed = json.loads(run_cli(home, "credentials", "list", "--json", env={KEY_ENV: wrong}).stdout)
    assert {row["key"] for row in listed} == {"not held"}
    refusals = (
        (("rotate-key",), None),
        (("set", "crm.api_key", "--stdin"), "v\n"),
        (("set", "jira.api_token", "--stdin"), "v\n"),
    )
    for args, stdin in refusals:
        failed = run_cli(home, "credentials", *args, check=False, env={KEY_ENV: wrong}, stdin=stdin)
        assert failed.returncode == 2, failed.stderr
        [line] = failed.stderr.splitlines()
        assert KEY_ENV in line and "does not hold" in line
        assert wrong not in line and key_file.decode().strip() not in line
    assert key_path(home).read_bytes() == key_file
    assert stored_values(home) == SECRETS, "readable again with the right key"


def test_a_set_under_the_wrong_key_is_refused_while_one_credential_is_still_readable(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [old] = key_lines(home)
    new = run_cli(home, "credentials", "new-key").stdout.strip()
    store(home, "crm.api_key", "under the new key", **{KEY_ENV: f"{new},{old}"})
    before = rows(home)
    for name in ("jira.api_token", "crm.api_key", "teams.webhook_url"):
        refused = run_cli(
            home,
            "credentials",
            "set",
            name,
            "--stdin",
            check=False,
            env={KEY_ENV: new},
            stdin="x\n",
        )
        assert refused.returncode == 2, refused.stderr
        [line] = refused.stderr.splitlines()
        assert f"which {KEY_ENV} does not hold" in line
        assert "use the key they were stored with" in line
        assert "`smart-inbox credentials delete NAME`" in line
        assert line.endswith(f"{name} was not stored")
        assert refused.stdout == ""
    assert rows(home) == before, "no row was written or touched"
    monkeypatch.setenv(KEY_ENV, f"{new},{old}")
    assert stored_values(home) == SECRETS


def rows(home: Path) -> list[tuple[str, ...]]:
    """Every stored row, straight from the table."""
    with sqlite3.connect(home / "app.db") as connection:
        return connection.execute("SELECT * FROM credential ORDER BY name").fetchall()


def test_rotate_key_with_the_key_file(home: Path) -> None:
    [old] = key_lines(home)
    result = json.loads(run_cli(home, "credentials", "rotate-key", "--json").stdout)
    assert result["reencrypted"] == len(SECRETS)
    assert result["key_source"] == str(key_path(home))
    [new] = key_lines(home)
    assert new != old
    assert stored_values(home) == SECRETS
    text = run_cli(home, "credentials", "rotate-key").stdout
    assert "replace your backup" in text


def test_rotate_key_with_the_environment(tmp_path: Path) -> None:
    old = run_cli(tmp_path, "credentials", "new-key").stdout.strip()
    new = run_cli(tmp_path, "credentials", "new-key").stdout.strip()
    for name, value in SECRETS.items():
        store(tmp_path, name, value, **{KEY_ENV: old})
    alone = run_cli(tmp_path, "credentials", "rotate-key", check=False, env={KEY_ENV: old})
    assert alone.returncode == 2 and "NEW,OLD" in alone.stderr
    rotated = run_cli(tmp_path, "credentials", "rotate-key", env={KEY_ENV: f"{new},{old}"})
    assert "you may now remove the other key(s)" in rotated.stdout
    rows = json.loads(run_cli(tmp_path, "credentials", "list", "--json", env={KEY_ENV: new}).stdout)
    assert {row["key"] for row in rows} == {"current"}, "the old key is no longer needed"
    assert not key_path(tmp_path).exists()


@pytest.mark.parametrize(
    "step", ["new-key-written", "mid-transaction", "committed", "key-file-final"]
)
def test_a_rotation_killed_after_any_step_leaves_every_credential_readable(
    home: Path, step: str
) -> None:
    [old] = key_lines(home)
    killed = run_cli(home, "credentials", "rotate-key", check=False, env={CRASH_IN_ROTATION: step})
    assert killed.returncode == -9, killed.stderr  # SIGKILL: no clean-up ran
    keys = key_lines(home)
    if step == "key-file-final":
        assert len(keys) == 1 and keys[0] != old
    else:
        assert keys[1:] == [old] and keys[0] != old, "the new key in front of the old one"
    assert stored_values(home) == SECRETS, f"every credential readable after a kill at {step}"

    finished = run_cli(home, "credentials", "rotate-key")
    assert "re-encrypted 3 credential(s)" in finished.stdout
    assert len(key_lines(home)) == 1
    assert stored_values(home) == SECRETS


def test_rotation_keeps_the_keys_encrypted_conversations_were_written_with(
    tmp_path: Path,
) -> None:
    encrypted = {"SMART_INBOX_ENCRYPT_STATE": "1"}
    asked = json.loads(run_cli(tmp_path, "ask", "any invoices?", "--json", env=encrypted).stdout)
    store(tmp_path, "jira.api_token", SECRETS["jira.api_token"], **encrypted)
    before = key_path(tmp_path).read_bytes().split()
    rotated = json.loads(
        run_cli(tmp_path, "credentials", "rotate-key", "--json", env=encrypted).stdout
    )
    after = key_path(tmp_path).read_bytes().split()
    assert rotated["kept_keys"] == len(before) and rotated["dropped_keys"] == 0
    assert after[1:] == before and after[0] not in before, "new key first, the old ones kept"
    shown = run_cli(
        tmp_path, "history", "--thread", asked["thread_id"], "--json", env=encrypted
    ).stdout
    assert "any invoices?" in shown, "the conversation written before the rotation still opens"
    assert stored_values(tmp_path)["jira.api_token"] == SECRETS["jira.api_token"]
