"""Chat threads stay their owner's: claimed on first use, checked after, locked once deleted."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory.chat_owners import ChatAccessError, ChatOwners, graph_thread_id
from memory.db import open_database


@pytest.fixture
def owners(tmp_path: Path) -> ChatOwners:
    return ChatOwners(open_database(f"sqlite:///{tmp_path / 'app.db'}"))


def test_the_first_user_owns_a_new_thread_and_keeps_it(owners: ChatOwners) -> None:
    thread = graph_thread_id("0a1b")
    owners.claim(thread, "alice")
    owners.claim(thread, "alice")  # a reload, a resume, a button: still hers
    owners.check(thread, "alice")
    with pytest.raises(ChatAccessError, match="belongs to another user"):
        owners.claim(thread, "bob")
    with pytest.raises(ChatAccessError, match="belongs to another user"):
        owners.check(thread, "bob")


def test_a_deleted_chat_is_locked_for_everyone_for_good(owners: ChatOwners) -> None:
    thread = graph_thread_id("0a1b")
    owners.claim(thread, "alice")
    owners.delete(thread)
    for user in ("alice", "bob"):
        with pytest.raises(ChatAccessError, match="deleted"):
            owners.claim(thread, user)
    owners.delete(thread)  # deleting twice is not an error
    with pytest.raises(ChatAccessError, match="deleted"):
        owners.check(thread, "alice")


def test_a_chat_deleted_before_anyone_claimed_it_cannot_be_claimed(owners: ChatOwners) -> None:
    thread = graph_thread_id("never-used")
    owners.delete(thread)
    with pytest.raises(ChatAccessError, match="deleted"):
        owners.claim(thread, "bob")


def test_checking_an_unknown_thread_is_refused(owners: ChatOwners) -> None:
    with pytest.raises(ChatAccessError, match="no chat"):
        owners.check(graph_thread_id("nobody"), "alice")
