"""An inbox action's card: Edit only narrows an id list; undo names the newest action left."""

from __future__ import annotations

from typing import Any

from graph.inbox_cards import action_title, emptied, narrowed_args, undoable
from graph.state import Evidence
from ui.chat.list_edit import kept_ids, list_edit_prompt

ROWS = [
    {"id": "a@x", "subject": "CloudHost news", "sender": "CloudHost", "date": "d", "count": 1},
    {"id": "b@x", "subject": "DE Digest #87", "sender": "DE", "date": "d", "count": 2},
    {"id": "c@x", "subject": "Backend #212", "sender": "Backend", "date": "d", "count": 1},
]


def test_an_edit_keeps_only_ids_of_the_proposal_in_its_order() -> None:
    proposed = {"message_ids": ["a@x", "b@x", "c@x"], "until": "2026-12-04T09:00:00+01:00"}
    edited = {"message_ids": ["c@x", "evil@x", "a@x"], "until": "2026-12-05T09:00:00+01:00"}
    assert narrowed_args(proposed, edited) == {
        "message_ids": ["a@x", "c@x"],
        "until": "2026-12-05T09:00:00+01:00",
    }


def test_an_edit_that_leaves_the_list_out_keeps_it_and_a_non_list_keeps_nothing_new() -> None:
    proposed = {"message_ids": ["a@x", "b@x"]}
    assert narrowed_args(proposed, {}) == proposed
    assert narrowed_args(proposed, {"message_ids": "b@x"}) == {"message_ids": ["b@x"]}
    assert narrowed_args(proposed, {"message_ids": {"x": 1}}) == {"message_ids": []}
    assert emptied({"message_ids": []}) and not emptied({"message_ids": ["a@x"]})


def record(tool: str, n: int, error: str = "", **args: Any) -> Evidence:
    return {
        "id": f"ev-{n}",
        "tool": tool,
        "args": args,
        "at": f"2026-12-03T10:0{n}:00+00:00",
        "turn": n,
        "completeness": "COMPLETE",
        "content": "",
        "messages": [],
        "error": error,
    }


def test_undo_reverses_the_newest_action_not_undone_yet() -> None:
    archive = record("archive_conversations", 1, message_ids=["a@x"])
    snooze = record("snooze_conversations", 2, message_ids=["b@x"], until="x")
    failed = record("trash_conversations", 3, error="no such folder", message_ids=["c@x"])
    assert undoable([archive, snooze, failed]) == snooze
    assert undoable([archive, snooze, record("undo_inbox_action", 4)]) == archive
    assert undoable([archive, record("undo_inbox_action", 2)]) is None
    assert undoable([record("search_emails", 1)]) is None


def test_titles_say_what_happens_to_how_many() -> None:
    assert action_title("mark_read", {"read": False}, []) == "Mark mail unread"
    assert action_title("block_sender", {"address": "x@y.example"}, []) == "Block x@y.example"
    assert action_title("undo_inbox_action", {}, []) == "Undo the last inbox action"
    assert action_title("search_emails", {}, []) == ""


def test_the_edit_form_lists_the_rows_and_reads_back_what_to_keep() -> None:
    prompt = list_edit_prompt(ROWS)
    assert "1. CloudHost news — CloudHost" in prompt and "3. Backend #212" in prompt
    assert kept_ids("drop 2", ROWS) == ["a@x", "c@x"]
    assert kept_ids("keep 3", ROWS) == ["c@x"]
    # The lines copied back, one deleted (markdown may have eaten the numbers).
    assert kept_ids("CloudHost news — CloudHost\nBackend #212 — Backend", ROWS) == ["a@x", "c@x"]
    assert kept_ids("1. CloudHost news\n2. DE Digest #87", ROWS) == ["a@x", "b@x"]
    assert kept_ids("drop 7", ROWS) is None
    assert kept_ids("whatever", ROWS) is None
