"""Who owes the user a reply: their own question is the newest word, and days went by."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tools.mail.conversations import group_conversations
from tools.mail.model import QUOTE_END, QUOTE_START, Email
from tools.mail.reply_tracking import (
    AwaitingDaysError,
    awaited_from,
    awaiting_days,
    awaiting_their_reply,
    not_people,
)

ME = "me@acme.example"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def mine(
    message_id: str, body: str, *, to: tuple[str, ...] = ("bob@acme.example",), **fields: Any
) -> Email:
    values: dict[str, Any] = {
        "id": message_id,
        "source": "maildir:/x",
        "folder": "Sent",
        "key": message_id,
        "from_name": "Me",
        "from_addr": ME,
        "to": to,
        "subject": "Contract",
        "date": ago(5),
        "body": body,
    }
    values.update(fields)
    return Email(**values)


def theirs(message_id: str, body: str, **fields: Any) -> Email:
    values: dict[str, Any] = {
        "id": message_id,
        "source": "maildir:/x",
        "folder": "INBOX",
        "key": message_id,
        "from_name": "Bob Stone",
        "from_addr": "bob@acme.example",
        "to": (ME,),
        "subject": "Re: Contract",
        "date": ago(4),
        "body": body,
    }
    values.update(fields)
    return Email(**values)


def awaited(*emails: Email, days: int = 3) -> list[str]:
    conversations = group_conversations(emails, own=(ME,))
    found = awaiting_their_reply(
        conversations, own=(ME,), now=NOW, days=days, automated=not_people(emails)
    )
    return [a.email.id for a in found]


def test_a_terse_english_question_waits_after_three_days_not_before() -> None:
    assert awaited(mine("q", "Signed yet?")) == ["q"]
    assert awaited(mine("q", "Signed yet?", date=ago(2))) == [], "two days is not yet overdue"
    assert awaited(mine("q", "Signed yet?", date=ago(2)), days=1) == ["q"]
    assert awaited(mine("q", "ok")) == [], "a one-liner that asks nothing waits on nobody"


def test_german_and_french_requests_without_a_question_mark_wait() -> None:
    german = mine(
        "de",
        "Hallo Jonas,\n\nbitte schick mir den Export bis Freitag.\n\nGruß",
        to=("jonas@fernhill.example",),
    )
    french = mine(
        "fr",
        "Bonjour Camille,\n\nmerci de m'envoyer le PDF final.\n\nCordialement",
        to=("camille@lumen.example",),
        subject="PDF",
    )
    assert sorted(awaited(german, french)) == ["de", "fr"]


def test_a_question_inside_a_longer_update_waits() -> None:
    body = (
        "Quick update: the migration finished last night and the dashboards look normal.\n"
        "The invoices job ran twice, which we fixed this morning.\n"
        "Could you confirm the numbers on your side match ours?\n"
        "I'll close the ticket after that."
    )
    assert awaited(mine("u", body)) == ["u"]


def test_a_question_only_in_the_quoted_part_does_not_count() -> None:
    body = f"Noted, thanks.\n{QUOTE_START}\n> Can you send me the signed copy?\n{QUOTE_END}"
    assert awaited(mine("q", body)) == []


def test_an_answer_ends_the_wait_and_a_thank_you_closes_it() -> None:
    question = mine("q", "Can you send the signed contract?", date=ago(9))
    answer = theirs("a", "Attached.", in_reply_to="q", date=ago(8))
    thanks = mine("t", "Great, thank you!", in_reply_to="a", subject="Re: Contract", date=ago(7))
    assert awaited(question, answer) == []
    assert awaited(question, answer, thanks) == [], "the user's thank-you asks nothing more"
    again = mine("n", "One more thing: is the annex signed too?", in_reply_to="a", date=ago(6))
    assert awaited(question, answer, again) == ["n"], "a new question after the answer waits"


def test_an_out_of_office_reply_is_no_answer() -> None:
    question = mine("q", "Can you send the signed contract?", date=ago(9))
    away = theirs(
        "ooo", "I am out of office until Monday.", in_reply_to="q", date=ago(9),
        headers={"Auto-Submitted": "auto-replied"},
    )  # fmt: skip
    assert awaited(question, away) == ["q"]


def test_a_reply_from_someone_not_asked_ends_the_wait() -> None:
    question = mine("q", "Bob, can you send the contract?", cc=("carol@acme.example",))
    carol = theirs(
        "c", "Bob is travelling, I'll chase him.", from_name="Carol", from_addr="carol@acme.example",
        in_reply_to="q", to=(ME, "bob@acme.example"),
    )  # fmt: skip
    assert awaited(question, carol) == [], "the conversation moved on: a person has to judge it"


def test_a_mailing_list_that_asks_is_never_awaited() -> None:
    post = theirs(
        "l1", "Can everyone fill in the survey?", from_addr="ann@acme.example",
        to=("dev@lists.acme.example",), headers={"List-Id": "<dev.lists.acme.example>"},
        subject="Survey",
    )  # fmt: skip
    reply = mine(
        "m1",
        "Is the survey anonymous?",
        to=("dev@lists.acme.example",),
        in_reply_to="l1",
        subject="Re: Survey",
    )
    assert awaited(post, reply) == [], "a list conversation"
    # A new question to the list's address, in its own conversation, waits on nobody either.
    fresh = mine(
        "m2", "Who runs the build server?", to=("dev@lists.acme.example",), subject="Build"
    )
    assert awaited(post, fresh) == []


def test_an_automated_sender_with_a_personal_name_is_no_person() -> None:
    pitch = theirs(
        "p", "Hi! Can we book 15 minutes to show you our product?", from_name="Sarah Miller",
        from_addr="sarah@mail.growthly.example", headers={"List-Unsubscribe": "<mailto:u@x>"},
        subject="Quick question",
    )  # fmt: skip
    answer = mine(
        "m",
        "Can you remove me from this list?",
        to=("sarah@mail.growthly.example",),
        in_reply_to="p",
        subject="Re: Quick question",
    )
    assert awaited(pitch, answer) == []
    robot = mine(
        "r", "Can you reset my password?", to=("noreply@shop.example",), subject="Password"
    )
    assert awaited(robot) == [], "a role mailbox is nobody to wait on"


def test_to_people_counts_the_people_only() -> None:
    email = mine("q", "Can you both sign?", to=("bob@acme.example", "noreply@acme.example", ME))
    found = awaiting_their_reply(group_conversations([email]), own=(ME,), now=NOW)
    assert [a.waiting_on for a in found] == [("bob@acme.example",)]
    assert found[0].days == 5


def test_drafts_are_not_the_newest_word() -> None:
    question = mine("q", "Can you send the contract?", date=ago(6))
    draft = mine("d", "Any news?", folder="Drafts", in_reply_to="q", date=ago(1))
    assert awaited(question, draft) == ["q"]


def test_who_is_named_by_a_word_of_their_name_or_address() -> None:
    question = mine("q", "Can you sign?", to=("b.stone@acme.example",))
    helena = mine("h", "Kannst du das prüfen?", to=("helena@fernhill.example",), subject="Prüfung")
    found = awaiting_their_reply(group_conversations([question, helena]), own=(ME,), now=NOW)
    names = {"b.stone@acme.example": "Bob Stone"}
    assert [a.email.id for a in awaited_from(found, "Bob", names=names)] == ["q"]
    assert [a.email.id for a in awaited_from(found, "helena")] == ["h"]
    assert awaited_from(found, "Kim", names=names) == []


def test_the_days_setting() -> None:
    assert awaiting_days({}) == 3
    assert awaiting_days({"SMART_INBOX_AWAITING_DAYS": "7"}) == 7
    assert awaiting_days({"SMART_INBOX_AWAITING_DAYS": "0"}) == 0
    with pytest.raises(AwaitingDaysError, match="SMART_INBOX_AWAITING_DAYS must be a whole number"):
        awaiting_days({"SMART_INBOX_AWAITING_DAYS": "three"})
