"""Reply tracking in the chat: who owes the user a reply, who waits on them, and the nudge card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graph.context import Context
from graph.grounding import citations_in
from graph.services import build_services
from tests.unit.answer_fixtures import ask, context_for
from tests.unit.mail.reply_mail import (
    BOB,
    CONTRACT,
    EXPORT,
    LIST_POST,
    ME,
    PDF,
    QUESTION_FOR_DANA,
    RECENT,
    ROOM,
    write_reply_mailbox,
)


@pytest.fixture(autouse=True)
def _signed_as_dana(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMART_INBOX_USER_NAME", "Dana Whitfield")
    for name in ("SMART_INBOX_SIGNATURE", "SMTP_FROM", "SMTP_URL", "SMART_INBOX_AWAITING_DAYS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def dana(tmp_path: Path) -> Context:
    return context_for(write_reply_mailbox(tmp_path / "mbox"), tmp_path / "home", ME)


def _answer(result: dict[str, Any]) -> str:
    return str(result["messages"][-1].content)


async def test_the_tool_lists_questions_people_owe_an_answer_to(dana: Context) -> None:
    await ask(dana, "what is new?")  # a chat turn fetches and triages the mailbox
    tools = build_services(dana).tools
    result = await tools.invoke("list_awaiting_their_reply", {"limit": 30})
    assert [m["id"] for m in result["messages"]] == [CONTRACT, EXPORT], "oldest first"
    assert result["messages"][0]["to"] == BOB
    assert "waiting on bob.stone@acme.example for 5 day(s)" in result["content"]
    for left_out in (PDF, LIST_POST, RECENT, "room-2@northwind.example"):
        assert left_out not in result["content"]
    only_bob = await tools.invoke("list_awaiting_their_reply", {"person": "Bob"})
    assert [m["id"] for m in only_bob["messages"]] == [CONTRACT]


async def test_a_longer_wait_is_a_setting(dana: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    await ask(dana, "what is new?")
    monkeypatch.setenv("SMART_INBOX_AWAITING_DAYS", "5")
    result = await build_services(dana).tools.invoke("list_awaiting_their_reply", {})
    assert [m["id"] for m in result["messages"]] == [CONTRACT]
    monkeypatch.setenv("SMART_INBOX_AWAITING_DAYS", "soon")
    with pytest.raises(Exception, match="SMART_INBOX_AWAITING_DAYS must be a whole number"):
        await build_services(dana).tools.invoke("list_awaiting_their_reply", {})


@pytest.mark.parametrize(
    "question", ["who hasn't got back to me?", "who owes me a reply?", "what am I waiting on?"]
)
async def test_who_owes_me_a_reply_is_answered_with_citations(dana: Context, question: str) -> None:
    result = await ask(dana, question)
    text = _answer(result)
    assert text.startswith("2 people owe you a reply (2 conversations), oldest question first:")
    assert citations_in(text) == [CONTRACT, EXPORT]
    bob = next(line for line in text.splitlines() if CONTRACT in line)
    assert "Could you send me the signed contract by Friday?" in bob
    assert "— bob.stone@acme.example, you asked on " in bob, "Bob never wrote: no name known"
    assert "__interrupt__" not in result


async def test_who_is_waiting_on_me_still_lists_what_needs_a_reply(dana: Context) -> None:
    text = _answer(await ask(dana, "who is waiting on me?"))
    assert QUESTION_FOR_DANA in citations_in(text)
    assert CONTRACT not in citations_in(text)
    assert ROOM not in citations_in(text), "Dana answered it"


async def test_nudge_bob_proposes_a_follow_up_quoting_the_question(dana: Context) -> None:
    result = await ask(dana, "nudge Bob")
    [pending] = result["__interrupt__"]
    [request] = pending.value
    assert request["action_request"]["action"] == "save_draft"
    args = request["action_request"]["args"]
    assert args["in_reply_to_id"] == CONTRACT
    assert args["to"] == BOB
    assert args["body"].startswith("Hi Bob,\n\nI am following up on my message of ")
    assert "“Could you send me the signed contract by Friday?”" in args["body"]
    assert args["body"].endswith("Could you let me know when you have a moment?\n\nBest,\nDana")
    card = request["description"]
    assert BOB in card and "Re: Signed contract" in card


async def test_follow_up_with_helena_in_her_thread(dana: Context) -> None:
    result = await ask(dana, "follow up with Helena")
    [pending] = result["__interrupt__"]
    args = pending.value[0]["action_request"]["args"]
    assert args["in_reply_to_id"] == EXPORT
    assert "“bitte schick mir den Rechnungsexport für November.”" in args["body"]


async def test_nothing_awaited_from_someone_is_said_and_nothing_is_drafted(dana: Context) -> None:
    result = await ask(dana, "nudge Camille")
    assert "__interrupt__" not in result, "Camille answered: nothing to follow up"
    assert _answer(result).startswith("Nothing is awaited from Camille:")
