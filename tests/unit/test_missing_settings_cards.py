"""A setting an action needs is named when its card is made, never only after Approve.

Outside the bundled demo (a copy of it is just a Maildir) with no mail settings: the card, or
the answer for a call that cannot run at all, says what is missing and how to set it."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from graph.approval import approval_request
from graph.builder import build_graph
from graph.context import DEMO_INBOX, Context
from graph.nodes.request_approval import review_call
from graph.services import Services, build_services
from graph.state import State, ToolCallRequest
from tools.mail.sync import sync_source
from ui.mcp_server.served_mailbox import triage_new_mail

SOFIA_ID = "CAF9s0fia.Q1road.20261116@mail.northwind.example"
SOFIA = "sofia.marchetti@northwind.example"
ME = "me@acme.example"
SETTINGS = (
    "SMTP_URL SMTP_FROM SMTP_PASSWORD SMART_INBOX_USER_EMAILS INBOX SMART_INBOX_HOME "
    "SMART_INBOX_TZ CALDAV_URL"
).split()
HOW_SMTP_URL = "set SMTP_URL to your mail server (smtp[s]://user@host[:port])"
HOW_FROM = "set SMTP_FROM to your address (or SMART_INBOX_USER_EMAILS to your addresses)"


@pytest.fixture(autouse=True)
def no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SMART_INBOX_TZ", "Europe/Berlin")


def services_on(inbox: Path, home: Path, **context: Any) -> Services:
    built = build_services(
        Context(model="rules", inbox=f"maildir:{inbox}", home=str(home), **context)
    )
    sync_source(built.db, built.source)
    triage_new_mail(built.db, built.source, owner_addresses=built.context.user_addresses)
    return built


@pytest.fixture
def copy_of_the_demo(tmp_path: Path) -> Path:
    return shutil.copytree(DEMO_INBOX, tmp_path / "inbox")


def call(name: str, **args: Any) -> ToolCallRequest:
    return {"id": f"call-{name}", "name": name, "args": args, "proposed_by": "rules"}


def typed(*words: str) -> State:
    return {"messages": [HumanMessage(w) for w in words], "evidence": []}


def description(services: Services, request: ToolCallRequest, text: str) -> str:
    review = review_call(services, typed(text), request)
    assert not review.runs_without_asking, "this call is put on a card"
    return str(approval_request(review)["description"])


def event_args() -> dict[str, str]:
    start = (datetime.now() + timedelta(days=9)).replace(hour=10, minute=0, second=0)
    return {
        "title": "Q1 roadmap",
        "start": start.strftime("%Y-%m-%dT%H:%M"),
        "end": (start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"),
        "attendees": f"Sofia Marchetti <{SOFIA}>",
        "in_reply_to_id": SOFIA_ID,
    }


def test_a_draft_card_names_the_missing_from_and_smtp(
    copy_of_the_demo: Path, tmp_path: Path
) -> None:
    services = services_on(copy_of_the_demo, tmp_path / "home")
    text = description(
        services,
        call("save_draft", in_reply_to_id=SOFIA_ID, body="Thursday works"),
        "reply to the one from Sofia saying Thursday works",
    )
    assert "- **From:** (no address)" in text
    assert f"- **Note:** The draft will have no From address: {HOW_FROM}" in text
    assert f"- **Note:** Only a draft: sending needs what is missing here ({HOW_SMTP_URL}" in text


def test_an_event_card_names_smtp_url_before_approve(
    copy_of_the_demo: Path, tmp_path: Path
) -> None:
    services = services_on(copy_of_the_demo, tmp_path / "home", user_addresses=(ME,))
    text = description(
        services, call("create_calendar_event", **event_args()), "book the first slot for Sofia"
    )
    assert text.startswith("### Schedule “Q1 roadmap” and invite 1 attendee"), "still the event"
    assert f"- **Attendees:** Sofia Marchetti <{SOFIA}>" in text
    assert (
        "- **Note:** This call will fail: invitations cannot be sent: SMTP_URL is not set, so no "
        "event will be created (an event without attendees needs no mail); to invite, "
        f"{HOW_SMTP_URL}"
    ) in text


def test_a_reply_card_names_a_missing_smtp_password(
    copy_of_the_demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_URL", "smtp://me%40acme.example@127.0.0.1:2525")  # never reached
    services = services_on(copy_of_the_demo, tmp_path / "home")
    text = description(
        services,
        call("reply_to_email", email_id=SOFIA_ID, body="Thursday works"),
        "reply to the one from Sofia saying Thursday works",
    )
    assert "- **From:** me@acme.example" in text
    assert (
        "- **Note:** This will fail until it is fixed: no password for user 'me@acme.example': "
        "store it with `smart-inbox credentials set smtp.password:me@acme.example@127.0.0.1` "
        "(or set SMTP_PASSWORD)"
    ) in text


def test_a_reply_card_on_the_demo_says_nothing_leaves_the_machine(tmp_path: Path) -> None:
    services = services_on(DEMO_INBOX, tmp_path)
    text = description(
        services,
        call("reply_to_email", email_id=SOFIA_ID, body="Thursday works"),
        "reply to the one from Sofia saying Thursday works",
    )
    assert "- **From:** Dana Whitfield <dana@northwind.example>" in text
    assert f"- **To:** {SOFIA}" in text
    assert (
        "- **Note:** Nothing leaves this machine: the bundled demo delivers to its local outbox "
        f"({tmp_path / 'demo-outbox'}); set SMTP_URL to send for real."
    ) in text


async def test_an_event_that_cannot_run_at_all_is_answered_with_every_missing_setting(
    copy_of_the_demo: Path, tmp_path: Path
) -> None:
    context = Context(model="rules", inbox=f"maildir:{copy_of_the_demo}", home=str(tmp_path))
    services = services_on(copy_of_the_demo, tmp_path)
    request = call("create_calendar_event", **event_args())
    review = review_call(services, typed("book the first slot for Sofia"), request)
    assert review.runs_without_asking, "nothing can happen, so nobody is asked to approve it"
    assert "set SMTP_FROM or SMART_INBOX_USER_EMAILS" in review.unavailable
    assert HOW_SMTP_URL in review.unavailable

    graph = build_graph(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "t"}}
    for words in ("propose times for the meeting request from Sofia", "schedule the first one"):
        result = await graph.ainvoke(
            {"messages": [HumanMessage(words)], "mode": "chat"}, config=config, context=context
        )
    assert not (await graph.aget_state(config)).interrupts
    [tried] = result["executed"]
    assert (tried["action"], tried["status"]) == ("create_calendar_event", "error")
    answer = result["messages"][-1].text
    assert "The create_calendar_event call failed: creating calendar events needs your address" in (
        answer
    )
    assert "set SMTP_FROM or SMART_INBOX_USER_EMAILS" in answer and HOW_SMTP_URL in answer
