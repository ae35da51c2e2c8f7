"""Where a conversation stands: its newest word from someone else decides, the user's own reply
makes it answered, and one suspicious message warns for all of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from memory.mail_tables import TriageRecord
from tools.mail.conversation_triage import (
    ME,
    by_importance,
    conversation_triage,
    most_important,
    state_ref,
)
from tools.mail.conversations import group_conversations, sent_at
from tools.mail.model import Email

ME_ADDRESS = "dana@northwind.example"


def mail(
    key: str, subject: str, sender: str, when: str, *, answers: str = "", **more: Any
) -> Email:
    name, address = sender.split(" <")
    values: dict[str, Any] = {
        "id": f"{key}@mail.example",
        "source": "maildir:/inbox",
        "folder": "INBOX",
        "key": key,
        "from_name": name,
        "from_addr": address.rstrip(">"),
        "to": [ME_ADDRESS],
        "subject": subject,
        "date": f"2026-11-{when}:00+01:00",
        "body": f"{subject} body",
        "in_reply_to": f"{answers}@mail.example" if answers else "",
        "references": [f"{answers}@mail.example"] if answers else [],
    }
    values.update(more)
    return Email(**values)


def record(email: Email, priority: str, decision: str, **more: Any) -> TriageRecord:
    values: dict[str, Any] = {
        "email_id": email.id,
        "priority": priority,
        "category": "urgent_incident" if priority == "high" else "other",
        "action": "notify_team" if priority == "high" else "none",
        "reason": f"{priority} because",
        "decision": decision,
    }
    values.update(more)
    return TriageRecord(**values)


INCIDENTS = [
    pytest.param(
        ("URGENT: checkout API returning 500s", "Marcus Lee <marcus@northwind.example>"),
        ("Re: URGENT: checkout API returning 500s", "Marcus Lee <marcus@northwind.example>"),
        id="english, a colleague",
    ),
    pytest.param(
        ("DRINGEND: Zahlungen schlagen fehl", "Jens Krüger <jens@firma.example>"),
        ("AW: DRINGEND: Zahlungen schlagen fehl", "Jens Krüger <jens@firma.example>"),
        id="german, a customer",
    ),
    pytest.param(
        ("[FIRING:1] HighErrorRate checkout", "Alertmanager <alerts@monitoring.example>"),
        ("Re: [FIRING:1] HighErrorRate checkout", "Ops Bot <ops@monitoring.example>"),
        id="an alert, then a bot's all clear",
    ),
]


@pytest.mark.parametrize(("alarm", "resolved"), INCIDENTS)
def test_an_incident_reads_as_its_resolved_update(
    alarm: tuple[str, str], resolved: tuple[str, str]
) -> None:
    first = mail("inc-1", *alarm, "20T10:00")
    update = mail("inc-2", *resolved, "20T11:30", answers="inc-1")
    other = mail("other", "Lunch?", "Priya Nair <priya@mail.example>", "20T12:00")
    triage = {
        first.id: record(first, "high", "respond"),
        update.id: record(update, "low", "notify", reason="resolved, nothing to do"),
        other.id: record(other, "normal", "respond"),
    }
    states = conversation_triage([update, other, first], triage, [ME_ADDRESS])
    [incident] = [s for s in states if len(s.emails) == 2]
    assert incident.standing == update and incident.latest == update
    assert incident.record is not None and incident.record.priority == "low"
    assert incident.record.reason == "resolved, nothing to do"
    assert incident.key == first.id and not incident.answered
    assert not incident.needs_you, "the alarm is over: it no longer needs the user"
    assert [s.latest.id for s in states] == [other.id, update.id], "newest conversation first"


def test_a_conversation_the_user_wrote_last_in_is_answered() -> None:
    asked = mail("q-1", "Pilot figures?", "Tomás Rivera <tomas@northwind.example>", "18T09:00")
    reply = mail(
        "q-2",
        "Re: Pilot figures?",
        f"Dana Whitfield <{ME_ADDRESS}>",
        "18T10:00",
        answers="q-1",
        folder="Sent",
        to=["tomas@northwind.example"],
    )
    triage = {asked.id: record(asked, "high", "respond")}
    [state] = conversation_triage([asked, reply], triage, [ME_ADDRESS])
    assert state.answered and state.standing == asked and state.latest == reply
    assert state.people == ["Tomás Rivera", ME]
    assert not state.needs_you
    ref = state_ref(state)
    assert ref["id"] == reply.id and ref["answered"] is True and ref["thread_size"] == 2
    # They wrote again after the user: open again.
    again = mail(
        "q-3", "Re: Pilot figures?", "Tomás Rivera <tomas@northwind.example>", "18T11:00",
        answers="q-2",
    )  # fmt: skip
    triage[again.id] = record(again, "normal", "respond")
    [state] = conversation_triage([asked, reply, again], triage, [ME_ADDRESS])
    assert not state.answered and state.standing == again


def test_a_reply_sent_from_here_answers_it_and_a_draft_does_not() -> None:
    asked = mail("r-1", "Contract draft", "Claire Dubois <claire@kestrel.example>", "19T09:00")
    draft = mail(
        "r-2", "Re: Contract draft", f"Dana Whitfield <{ME_ADDRESS}>", "19T10:00",
        answers="r-1", folder="Drafts",
    )  # fmt: skip
    triage = {asked.id: record(asked, "normal", "respond")}
    [state] = conversation_triage([asked, draft], triage, [ME_ADDRESS])
    assert not state.answered, "a draft is not a reply"
    sent = {asked.id: datetime.fromisoformat("2026-11-19T12:00:00+01:00")}
    [state] = conversation_triage([asked, draft], triage, [ME_ADDRESS], sent)
    assert state.answered


def test_one_phishing_message_warns_for_the_whole_conversation() -> None:
    invoice = mail("p-1", "Invoice CL-1187", "Copperleaf <accounts@copperleaf.example>", "17T09:00")
    fraud = mail(
        "p-2", "RE: Invoice CL-1187", "Copperleaf <accounts@copperleaf.example>", "17T12:00"
    )
    thanks = mail(
        "p-3", "Re: Invoice CL-1187", "Copperleaf <accounts@copperleaf.example>", "17T15:00",
        answers="p-1",
    )  # fmt: skip
    triage = {
        invoice.id: record(invoice, "normal", "notify"),
        fraud.id: record(fraud, "low", "ignore", suspicious="asks to pay into new bank details"),
        thanks.id: record(thanks, "normal", "notify"),
    }
    [state] = conversation_triage([invoice, fraud, thanks], triage, [ME_ADDRESS])
    assert len(state.emails) == 3 and state.standing == thanks
    assert state.warning == "asks to pay into new bank details"
    assert [e.id for e, _ in state.suspicious] == [fraud.id]
    assert state_ref(state)["suspicious"] == "asks to pay into new bank details"


def test_unreadable_mail_stands_alone_and_own_only_threads_are_left_out() -> None:
    broken = mail("x-1", "Scan", "Scanner <scan@northwind.example>", "16T09:00", error="bad MIME")
    mine = mail("x-2", "Question", f"Dana Whitfield <{ME_ADDRESS}>", "16T10:00", folder="Sent")
    states = conversation_triage([broken, mine], {}, [ME_ADDRESS])
    assert [(s.standing.id, len(s.emails)) for s in states] == [(broken.id, 1)]
    assert states[0].record is None


def test_the_conversations_that_need_the_user_come_first() -> None:
    low = mail("o-1", "Newsletter", "News <news@list.example>", "21T09:00")
    high = mail("o-2", "Outage", "Marcus Lee <marcus@northwind.example>", "20T09:00")
    triage = {low.id: record(low, "low", "ignore"), high.id: record(high, "high", "respond")}
    states = by_importance(conversation_triage([low, high], triage, [ME_ADDRESS]))
    assert [s.latest.id for s in states] == [high.id, low.id]


def test_conversations_come_in_the_order_their_threads_are_grouped_in_ties_included() -> None:
    # The states are made thread by thread, not from `group_conversations`' list: the order
    # is still that one, where conversations whose newest messages share a time keep theirs.
    emails = [
        mail(f"k{n}", f"Topic {n}", f"P{n} <p{n}@x.example>", f"{10 + n % 4}T09:00")
        for n in range(40)
    ]
    emails += [
        mail(f"r{n}", f"Re: Topic {n}", f"P{n} <p{n}@x.example>", "20T09:00", answers=f"k{n}")
        for n in range(0, 40, 3)
    ]
    triage = {e.id: record(e, "normal", "read") for e in emails}
    states = conversation_triage(emails, triage, [ME_ADDRESS])
    grouped = group_conversations(emails, [ME_ADDRESS])
    assert [s.emails for s in states] == [c.emails for c in grouped]
    assert len({sent_at(s.latest) for s in states}) < len(states), "ties are tested"
    assert not hasattr(states[0], "__dict__")


def test_the_most_important_few_are_the_first_of_the_whole_order() -> None:
    # Same priorities and same times, answered or not: ties keep the order of the whole sort.
    emails = [
        mail(f"k{n}", f"Topic {n}", f"P{n} <p{n}@x.example>", f"{10 + n % 3}T09:00")
        for n in range(30)
    ]
    emails += [
        mail(f"a{n}", f"Re: Topic {n}", f"Dana <{ME_ADDRESS}>", "20T09:00", answers=f"k{n}")
        for n in range(0, 30, 4)
    ]
    levels = ("high", "normal", "low")
    triage = {e.id: record(e, levels[n % 3], "read") for n, e in enumerate(emails)}
    states = conversation_triage(emails, triage, [ME_ADDRESS])
    whole = by_importance(states)
    assert {s.needs_you for s in whole} == {True, False} and any(s.answered for s in whole)
    for count in (0, 1, 5, 17, len(states), len(states) + 3):
        assert most_important(states, count) == whole[:count]
