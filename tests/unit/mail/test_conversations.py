"""Threading mail into conversations, and who is waiting on the user's reply."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tools.mail.conversations import (
    awaiting_reply,
    from_a_person,
    group_conversations,
    normalised_subject,
)
from tools.mail.model import Email

ME = "me@acme.example"


def mail(message_id: str, **fields: Any) -> Email:
    values: dict[str, Any] = {
        "id": message_id,
        "source": "maildir:/x",
        "folder": "INBOX",
        "key": message_id,
        "from_name": "Bob Stone",
        "from_addr": "bob@acme.example",
        "to": (ME,),
        "subject": "Roadmap review",
        "date": "2026-11-16T09:00:00+00:00",
        "body": "Can we meet on Thursday?",
    }
    values.update(fields)
    return Email(**values)


def keys(conversations: list[Any]) -> list[list[str]]:
    return [[e.id for e in c.emails] for c in conversations]


def test_reply_prefixes_in_several_languages_are_one_subject() -> None:
    assert normalised_subject("Re: AW: Fwd:  Roadmap  review") == "roadmap review"
    assert normalised_subject("SV: roadmap review") == normalised_subject("Roadmap review")
    assert normalised_subject("Re-thinking the roadmap") == "re-thinking the roadmap"


def test_headers_thread_messages_even_when_the_subject_changed() -> None:
    first = mail("a", date="2026-11-16T09:00:00+00:00")
    second = mail("b", subject="Other words", in_reply_to="a", date="2026-11-16T10:00:00+00:00")
    third = mail("c", references=("a", "b"), subject="", date="2026-11-16T11:00:00+00:00")
    alone = mail("d", subject="Lunch?", from_addr="kim@acme.example", date="2026-11-15")
    assert keys(group_conversations([third, alone, first, second])) == [["a", "b", "c"], ["d"]]


def test_same_subject_joins_people_who_write_to_each_other_but_not_strangers() -> None:
    ask = mail("a", to=(ME, "kim@acme.example"))
    answer = mail(
        "b", subject="Re: Roadmap review", from_addr="kim@acme.example", date="2026-11-17"
    )
    stranger = mail(
        "c", subject="RE: Roadmap review", from_addr="x@phish.example", date="2026-11-18"
    )
    threads = keys(group_conversations([ask, answer, stranger], own=(ME,)))
    assert ["a", "b"] in threads
    assert ["c"] in threads, "sharing only the user is no conversation"


def test_a_question_from_a_person_waits_until_the_user_answers() -> None:
    question = mail("q1")
    conversations = group_conversations([question])
    waiting = awaiting_reply(conversations, own=(ME,), actions={}, categories={}, replied={})
    assert [w.email.id for w in waiting] == ["q1"]

    sent = mail(
        "r1", folder="Sent", from_addr=ME, in_reply_to="q1", date="2026-11-16T12:00:00+00:00"
    )
    answered = group_conversations([question, sent])
    assert awaiting_reply(answered, own=(ME,), actions={}, categories={}, replied={}) == []


def test_a_new_question_after_the_users_answer_waits_again() -> None:
    messages = [
        mail("q1"),
        mail("r1", folder="Sent", from_addr=ME, in_reply_to="q1", date="2026-11-16T12:00+00:00"),
        mail("q2", in_reply_to="r1", body="And Friday?", date="2026-11-17T08:00:00+00:00"),
    ]
    waiting = awaiting_reply(
        group_conversations(messages), own=(ME,), actions={}, categories={}, replied={}
    )
    assert [w.email.id for w in waiting] == ["q2"]


def test_a_reply_sent_from_here_counts_as_an_answer() -> None:
    conversations = group_conversations([mail("q1")])
    replied = {"q1": datetime.fromisoformat("2026-11-16T10:00:00+00:00")}
    assert (
        awaiting_reply(conversations, own=(ME,), actions={}, categories={}, replied=replied) == []
    )


def test_robots_lists_shared_mailboxes_and_statements_wait_on_nobody() -> None:
    newsletter = mail("n", headers={"List-Id": "<news.example>"}, body="Want to learn more?")
    robot = mail("r", from_addr="noreply@shop.example", subject="Your order?")
    billing = mail("b", from_addr="billing@vendor.example", subject="Invoice", body="Pay?")
    statement = mail("s", subject="FYI", body="The office is closed on Friday.")
    not_to_me = mail("t", subject="Team", to=("team@acme.example",), body="Anyone free?")
    triaged_spam = mail("x", subject="Quick question", from_addr="sam@cold.example")
    waiting = awaiting_reply(
        group_conversations([newsletter, robot, billing, statement, not_to_me, triaged_spam]),
        own=(ME,),
        actions={},
        categories={"x": "spam_or_cold"},
        replied={},
    )
    assert waiting == []
    assert not from_a_person(triaged_spam, "spam_or_cold")
    assert from_a_person(statement)


def test_a_statement_the_triage_says_to_answer_waits() -> None:
    statement = mail("s", subject="Dinner on Sunday", body="Dinner is at 7 at Mum's.")
    waiting = awaiting_reply(
        group_conversations([statement]),
        own=(ME,),
        actions={"s": "reply"},
        categories={"s": "personal"},
        replied={},
    )
    assert [w.email.id for w in waiting] == ["s"]
