"""The offline engine's answers on the demo inbox read like an assistant wrote them, and stay grounded."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from graph.builder import build_graph
from graph.context import Context
from graph.grounding import citations_in, verify_answer
from graph.services import build_services
from tests.unit.answer_fixtures import DANA, DEMO, ask, context_for, copy_mailbox
from tools.mail.conversations import group_conversations, without_reply_prefix

CHECKOUT_REPORT = "CAM1ee7Lk.inc-checkout-500@mail.northwind.example"
CHECKOUT_UPDATE = "CAM1ee7Lk.inc-checkout-500.upd1@mail.northwind.example"
HELENA_LATEST = "CAH7pK2z1Qq8WvN+sso-timeline-2@mail.brightpath.example"
HEADCOUNT = "CAR4f0rt1z.board-headcount@mail.northwind.example"
SOFIA = "CAF9s0fia.Q1road.20261116@mail.northwind.example"
ITEM = re.compile(r"^\d+\. ", re.MULTILINE)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Context:
    root = tmp_path_factory.mktemp("demo")
    return context_for(copy_mailbox(DEMO, root / "inbox"), root / "home", DANA)


@pytest.fixture(scope="module")
def mailbox(demo: Context) -> dict[str, Any]:
    """Each message's conversation and triage, worked out here independently of the answers."""
    import asyncio

    asyncio.run(ask(demo, "what is new?"))  # fetches and triages the demo inbox once
    services = build_services(demo)
    emails = services.db.list_emails(source=services.source, limit=500)
    conversation = {
        e.id: c.key for c in group_conversations(emails, demo.user_addresses) for e in c.emails
    }
    triage = services.db.triage_for([e.id for e in emails])
    return {
        "conversation": conversation,
        "priority": {i: t.priority for i, t in triage.items()},
        "category": {i: t.category for i, t in triage.items()},
        "subjects": {e.id: e.subject for e in emails},
    }


def _answer(result: dict[str, Any]) -> str:
    text = result["messages"][-1].text
    report = verify_answer(text, result["evidence"])
    assert report.ok, report.problems
    assert result.get("answer_note", "") == "", "the answer was not replaced by the safe one"
    return str(text)


async def test_attention_is_one_short_cited_item_per_conversation(
    demo: Context, mailbox: dict[str, Any]
) -> None:
    text = _answer(await ask(demo, "what needs my attention today?"))
    items = [line for line in text.splitlines() if ITEM.match(line)]
    cited = citations_in(text)
    assert all(len(citations_in(item)) == 1 for item in items), "every item cites its message"
    assert len(cited) == len(items)
    conversations = [mailbox["conversation"][i] for i in cited]
    assert len(set(conversations)) == len(conversations), "one item per conversation"
    urgent = {c for i, c in mailbox["conversation"].items() if mailbox["priority"].get(i) == "high"}
    assert set(conversations) == urgent, "every conversation with high-priority mail, no other"
    assert CHECKOUT_REPORT not in cited and CHECKOUT_UPDATE in cited, "the newest stands for it"
    # Short: the ids behind the citations are links in the chat, not text to read.
    assert len(re.sub(r"\[msg:[^\]]+\]", "[msg]", text)) < 1200, text
    assert len(text) < 1600
    # Who wants what by when, in their words, not rule explanations.
    assert "priority because" not in text and "subject reports" not in text
    checkout = next(item for item in items if CHECKOUT_UPDATE in item)
    assert "Marcus Lee (2 messages)" in checkout
    assert "“Next step: I want to fail orders-db over to the replica at 11:35 CET" in checkout
    helena = next(item for item in items if HELENA_LATEST in item)
    assert "Helena Park (3 messages)" in helena and "by Friday 20 November" in helena


async def test_the_summary_is_the_incidents_key_sentences_not_its_subjects(
    demo: Context, mailbox: dict[str, Any]
) -> None:
    result = await ask(demo, "summarize the checkout incident")
    text = _answer(result)
    assert [e["action"] for e in result["executed"]][0] == "search_emails"
    assert "get_conversation" in [e["action"] for e in result["executed"]]
    for sentence in (
        "It started right after the 10:30 deploy of checkout-api v5.12.0",
        "Impact so far: ~2,300 failed checkouts, 14 support tickets",
        "The rollback to v5.11.3 finished at 10:58, but the error rate only dropped to ~12%.",
        "Next step: I want to fail orders-db over to the replica at 11:35 CET unless you object.",
    ):
        assert sentence in text, sentence
    lines = text.splitlines()
    bullets = [line for line in lines if line.startswith("- ")]
    assert len(bullets) >= 4
    assert all("“" in b and citations_in(b) for b in bullets), "each line quotes and cites"
    subjects = {without_reply_prefix(s) for s in mailbox["subjects"].values()}
    assert not [b for b in bullets if any(s and s in b for s in subjects)], "no line is a subject"
    assert {CHECKOUT_REPORT, CHECKOUT_UPDATE} <= set(citations_in(text))
    assert "previews" not in text, "built from the whole thread"


async def test_who_waits_on_a_reply_lists_people_not_newsletters(
    demo: Context, mailbox: dict[str, Any]
) -> None:
    text = _answer(await ask(demo, "who is waiting on a reply from me?"))
    assert "did not look anything up" not in text and "SMTP_URL" not in text
    cited = citations_in(text)
    assert {HEADCOUNT, HELENA_LATEST} <= set(cited)
    robots = {"newsletter", "notification", "spam_or_cold"}
    assert not [i for i in cited if mailbox["category"].get(i) in robots], cited
    assert text.splitlines()[0].endswith("most important first:")
    assert re.search(r"^…and \d+ more", text, re.MULTILINE), "long lists say what is left out"


async def test_a_reply_in_sent_takes_its_conversation_off_the_waiting_list(
    tmp_path: Path,
) -> None:
    inbox = copy_mailbox(DEMO, tmp_path / "inbox")
    sent = inbox / ".Sent" / "cur"
    sent.mkdir(parents=True, exist_ok=True)  # the demo ships two sent questions
    (sent / "1795200000.M1P1.dana:2,S").write_text(
        "From: Dana Whitfield <dana@northwind.example>\n"
        "To: rafael.ortiz@northwind.example\n"
        "Subject: Re: Need engineering headcount numbers for the board deck by Mon 09:00\n"
        "Date: Sat, 21 Nov 2026 10:00:00 +0100\n"
        "Message-ID: <dana-headcount@northwind.example>\n"
        f"In-Reply-To: <{HEADCOUNT}>\n\nTable below.\n",
        encoding="utf-8",
    )
    context = context_for(inbox, tmp_path / "home", DANA)
    text = _answer(await ask(context, "who is waiting on a reply from me?"))
    assert HEADCOUNT not in citations_in(text)
    assert HELENA_LATEST in citations_in(text)


async def test_a_reply_to_a_meeting_request_is_a_mail_and_its_card_notices_the_day(
    demo: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMART_INBOX_USER_NAME", "Dana Whitfield")
    monkeypatch.delenv("SMART_INBOX_SIGNATURE", raising=False)
    result = await ask(demo, "reply to the meeting request from Sofia and say Thursday works")
    [pending] = result["__interrupt__"]
    [request] = pending.value
    args = request["action_request"]["args"]
    assert args["body"] == "Hi Sofia,\n\nThursday works.\n\nBest,\nDana"
    assert args.get("in_reply_to_id", args.get("email_id")) == SOFIA
    card = request["description"]
    assert "**Note:** Your reply names “Thursday”, which Sofia did not propose" in card


async def test_summarising_the_first_item_summarises_its_whole_conversation(demo: Context) -> None:
    graph = build_graph(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "first"}}
    for text in ("what needs my attention today?", "summarize the first one"):
        result = await graph.ainvoke({"messages": [HumanMessage(text)]}, config, context=demo)
    text = _answer(result)
    assert text.startswith("Summary of “URGENT: checkout API returning 500s in production” — 2")
    assert {CHECKOUT_REPORT, CHECKOUT_UPDATE} <= set(citations_in(text))
