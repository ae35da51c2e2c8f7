"""Chat users: scrypt hashes in a 0600 file, verification, and refusals of bad input."""

from __future__ import annotations

import base64
import io
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ui.chat import users
from ui.chat.users import UserStore, UserStoreError, check_password, hash_password, read_password

PASSWORD = "correct horse battery"


@pytest.fixture
def store(tmp_path: Path) -> UserStore:
    return UserStore(tmp_path / "home")


def stored_hash(store: UserStore, name: str) -> str:
    return json.loads(store.path.read_text(encoding="utf-8"))["users"][name]["hash"]


# -- add, verify, replace ---------------------------------------------------------


def test_add_then_verify(store: UserStore) -> None:
    assert not store.has_users()
    assert store.add("alice", PASSWORD) is True
    assert store.verify("alice", PASSWORD)
    assert store.has_users()
    assert store.names() == ["alice"]


def test_wrong_password_is_refused(store: UserStore) -> None:
    store.add("alice", PASSWORD)
    assert not store.verify("alice", PASSWORD + "!")
    assert not store.verify("alice", "")
    assert not store.verify("Alice", PASSWORD), "names are case-sensitive"


def test_unknown_user_is_refused(store: UserStore) -> None:
    assert not store.verify("nobody", PASSWORD), "no file yet"
    store.add("alice", PASSWORD)
    assert not store.verify("bob", PASSWORD)
    assert not store.verify("not a valid name!", PASSWORD)


def test_unknown_user_costs_a_full_check(store: UserStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Work, not seconds: an unknown name runs the same scrypt derivation as a wrong password."""
    store.add("alice", PASSWORD)
    derivations: list[tuple[int, int, int]] = []
    real = users._scrypt

    def counting(salt: bytes, n: int, r: int, p: int, **kwargs: Any) -> Any:
        derivations.append((n, r, p))
        return real(salt, n, r, p, **kwargs)

    monkeypatch.setattr(users, "_scrypt", counting)
    assert not store.verify("alice", "wrong password")
    known = list(derivations)
    derivations.clear()
    assert not store.verify("bob", "wrong password")
    assert derivations == known == [(users.SCRYPT_N, users.SCRYPT_R, users.SCRYPT_P)]


def test_replacing_a_password_keeps_the_user_and_drops_the_old_password(
    store: UserStore,
) -> None:
    store.add("alice", PASSWORD)
    created = json.loads(store.path.read_text())["users"]["alice"]["created"]
    assert store.add("alice", "a brand new secret") is False
    assert store.verify("alice", "a brand new secret")
    assert not store.verify("alice", PASSWORD)
    assert store.names() == ["alice"]
    assert json.loads(store.path.read_text())["users"]["alice"]["created"] == created


def test_several_users_are_independent(store: UserStore) -> None:
    store.add("bob@acme.example", "bobs-password")
    store.add("alice", PASSWORD)
    assert store.names() == ["alice", "bob@acme.example"]
    assert store.verify("bob@acme.example", "bobs-password")
    assert not store.verify("bob@acme.example", PASSWORD)


# -- the file ---------------------------------------------------------------------------


def test_file_is_private(store: UserStore) -> None:
    store.add("alice", PASSWORD)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    store.add("alice", "another password")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert [p.name for p in store.path.parent.iterdir()] == ["users.json"], "no temp file left"


def test_file_holds_only_a_salted_scrypt_hash(store: UserStore) -> None:
    store.add("alice", PASSWORD)
    raw = store.path.read_bytes()
    assert PASSWORD.encode() not in raw
    assert base64.b64encode(PASSWORD.encode()) not in raw
    entry = json.loads(raw)["users"]["alice"]
    assert set(entry) == {"hash", "created"}
    scheme, n, r, p, salt_b64, key_b64 = entry["hash"].split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    salt, key = base64.b64decode(salt_b64), base64.b64decode(key_b64)
    assert len(salt) == 16 and len(key) == 32
    expected = Scrypt(salt=salt, length=32, n=2**14, r=8, p=1).derive(PASSWORD.encode())
    assert key == expected, "the stored key is the scrypt of the password, nothing else"


def test_each_hash_has_its_own_salt(store: UserStore) -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second
    assert check_password(PASSWORD, first) and check_password(PASSWORD, second)


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        '{"users": []}',
        '{"users": {"alice": {"created": "2026-01-01"}}}',
    ],
)
def test_corrupt_file_is_reported_and_left_alone(store: UserStore, content: str) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text(content, encoding="utf-8")
    for attempt in (
        lambda: store.add("bob", PASSWORD),
        lambda: store.verify("alice", PASSWORD),
        store.names,
        store.has_users,
    ):
        with pytest.raises(UserStoreError, match=str(store.path)):
            attempt()
    assert store.path.read_text(encoding="utf-8") == content


def test_damaged_hash_names_the_file(store: UserStore) -> None:
    store.add("alice", PASSWORD)
    data = json.loads(store.path.read_text())
    data["users"]["alice"]["hash"] = "scrypt$16384$8$1$not-base64!$AAAA"
    store.path.write_text(json.dumps(data))
    with pytest.raises(UserStoreError, match=str(store.path)):
        store.verify("alice", PASSWORD)


def test_absurd_scrypt_cost_in_the_file_is_refused() -> None:
    salt = base64.b64encode(bytes(16)).decode()
    with pytest.raises(UserStoreError, match="scrypt parameters"):
        check_password(PASSWORD, f"scrypt${2**30}$8$1${salt}${salt}")


# -- refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["", "a" * 65, "with space", "semi;colon", "slash/name", "ünïcode", "tab\t", "x\n"]
)
def test_bad_names_are_refused(store: UserStore, name: str) -> None:
    with pytest.raises(UserStoreError, match="bad user name"):
        store.add(name, PASSWORD)
    assert not store.path.exists()


@pytest.mark.parametrize("name", ["a", "a" * 64, "alice.smith", "bob_1", "x-y", "me@acme.example"])
def test_good_names_are_accepted(store: UserStore, name: str) -> None:
    assert store.add(name, PASSWORD)
    assert store.verify(name, PASSWORD)


@pytest.mark.parametrize("password", ["", "short", "7-chars"])
def test_short_passwords_are_refused(store: UserStore, password: str) -> None:
    with pytest.raises(UserStoreError, match="at least 8 characters"):
        store.add("alice", password)
    assert not store.path.exists()


def test_eight_characters_are_enough(store: UserStore) -> None:
    assert store.add("alice", "8-chars!")
    assert store.verify("alice", "8-chars!")


# -- reading a password ---------------------------------------------------------------


def test_password_from_stdin_is_one_line_without_its_newline() -> None:
    stream = io.StringIO("  spaces kept  \r\nsecond line\n")
    assert read_password("password: ", stdin=True, stream=stream) == "  spaces kept  "


def test_empty_stdin_is_an_error() -> None:
    with pytest.raises(UserStoreError, match="no password"):
        read_password("password: ", stdin=True, stream=io.StringIO(""))


def test_typed_password_is_asked_twice() -> None:
    prompts: list[str] = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return PASSWORD

    assert read_password("password for alice: ", stdin=False, ask=ask) == PASSWORD
    assert len(prompts) == 2 and prompts[0] == "password for alice: "


def test_typed_passwords_that_differ_are_refused() -> None:
    answers = iter([PASSWORD, PASSWORD + "x"])
    with pytest.raises(UserStoreError, match="differ"):
        read_password("password: ", stdin=False, ask=lambda _prompt: next(answers))
