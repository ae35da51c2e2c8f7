"""The offline engine's words for reply tracking: who owes the user, who waits on them, nudges."""

from __future__ import annotations

from typing import Any

import pytest

from graph.engines.base import ToolPlanRequest
from graph.engines.followup_answers import awaited_answer
from graph.engines.intents.matcher import plan_from_intents
from tools.mail.conversation_tools import CONVERSATION_TOOLS
from tools.mail.tools import MAIL_TOOLS

TOOLS = [*MAIL_TOOLS, *CONVERSATION_TOOLS]
AWAITED = ("list_awaiting_their_reply", {"limit": 30})
NEEDS_REPLY = ("list_awaiting_reply", {"limit": 30})


def plan(text: str, evidence: list[Any] | None = None) -> tuple[str, list[Any]]:
    request = ToolPlanRequest(
        mode="chat", user_text=text, conversation=[], focus=[],
        turn_evidence=evidence or [], tools=TOOLS, sender="Dana Whitfield <dana@x.example>",
    )  # fmt: skip
    intent, calls = plan_from_intents(request)
    return intent, [(c.name, c.args) for c in calls]


@pytest.mark.parametrize(
    "text",
    [
        "who hasn't got back to me?",
        "Who owes me a reply?",
        "what am I waiting on?",
        "who haven't replied to me yet?",
        "I'm still waiting to hear back from someone, who?",
    ],
)
def test_who_owes_the_user_a_reply(text: str) -> None:
    assert plan(text) == ("awaiting_their_reply", [AWAITED])


@pytest.mark.parametrize(
    "text",
    [
        "who is waiting on me?",
        "who is waiting on a reply from me?",
        "which mails haven't I answered?",
    ],
)
def test_who_waits_on_the_user_stays_needs_reply(text: str) -> None:
    assert plan(text) == ("awaiting_reply", [NEEDS_REPLY])


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("nudge Bob", "Bob"),
        ("follow up with Helena", "Helena"),
        ("please follow-up with Helena Brandt", "Helena Brandt"),
        ("chase jonas@fernhill.example", "jonas@fernhill.example"),
        ("remind Camille about the PDF", "Camille"),
    ],
)
def test_a_nudge_first_looks_for_what_that_person_owes(text: str, who: str) -> None:
    assert plan(text) == (
        "nudge",
        [("list_awaiting_their_reply", {"person": who, "limit": 5})],
    )


def _found(*messages: dict[str, Any]) -> list[Any]:
    return [
        {
            "id": "ev-1-1", "tool": "list_awaiting_their_reply", "args": {"person": "Bob"},
            "at": "2026-11-20T10:00:00+00:00", "turn": 1, "completeness": "PREVIEW",
            "content": "", "messages": list(messages), "error": "",
        }
    ]  # fmt: skip


def test_then_drafts_the_follow_up_in_that_conversation_or_nothing() -> None:
    asked = {
        "id": "q1@x.example",
        "sender": "Dana Whitfield <dana@x.example>",
        "subject": "Signed contract",
        "date": "2026-11-16T09:00:00+00:00",
        "text": "Hi Bob,\n\nCould you send me the signed contract?\n\nThanks,\nDana",
        "to": "Bob Stone <bob@y.example>",
    }
    intent, [(tool, args)] = plan("nudge Bob", _found(asked))
    assert (intent, tool) == ("nudge", "save_draft")
    assert args["in_reply_to_id"] == "q1@x.example"
    assert args["to"] == "Bob Stone <bob@y.example>"
    assert "my message of Mon 16 Nov 2026" in args["body"]
    assert "“Could you send me the signed contract?”" in args["body"]
    assert plan("nudge Bob", _found()) == ("nudge", []), "nothing awaited: nothing drafted"


def test_a_nudge_needs_someone_named() -> None:
    assert plan("nudge them")[1] == []
    assert plan("follow up with him")[1] == []


def test_the_answer_says_when_nothing_is_awaited() -> None:
    [anyone] = _found()
    anyone["args"] = {"limit": 30}
    assert awaited_answer(anyone).startswith("Nobody owes you a reply: no question of yours")
    [bob] = _found()
    assert awaited_answer(bob).startswith("Nothing is awaited from Bob: no question of yours")
