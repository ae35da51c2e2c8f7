"""JWZ threading, provider thread ids, and the adversaries: long References, loops, duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tools.mail.conversations import group_conversations
from tools.mail.model import Email
from tools.mail.threading import NO_PARENTS, sent_at, sent_instant, thread_messages

ME = "me@acme.example"
START = datetime(2026, 11, 16, 9, tzinfo=UTC)


def mail(email_id: str, minute: int = 0, **fields: Any) -> Email:
    values: dict[str, Any] = {
        "id": email_id,
        "message_id": email_id,
        "source": "maildir:/x",
        "folder": "INBOX",
        "key": email_id,
        "from_addr": "bob@acme.example",
        "to": (ME,),
        "subject": f"Topic {email_id}",
        "date": (START + timedelta(minutes=minute)).isoformat(),
        "body": "Can we meet?",
    }
    values.update(fields)
    return Email(**values)


def threads(emails: list[Email], own: tuple[str, ...] = (ME,)) -> list[list[str]]:
    """Each conversation's message ids, oldest first; conversations by their first id."""
    return sorted([e.id for e in c.emails] for c in group_conversations(emails, own))


def test_replies_to_a_message_not_in_the_mailbox_are_one_conversation() -> None:
    first = mail("b", 1, references=("gone",), subject="x")
    second = mail("c", 2, in_reply_to="gone", subject="y", from_addr="kim@acme.example")
    assert threads([first, second]) == [["b", "c"]]


def test_parents_come_from_references_in_order_then_in_reply_to() -> None:
    root = mail("a", 0)
    middle = mail("b", 1, references=("a",))
    # Names a missing message between b and itself: its nearest message above is b.
    leaf = mail("c", 2, references=("a", "b", "lost"))
    other = mail("d", 3, references=("a",), in_reply_to="b")
    (conversation,) = group_conversations([leaf, other, middle, root])
    assert dict(conversation.parents) == {"b": "a", "c": "b", "d": "b"}
    assert [e.id for e in conversation.emails] == ["a", "b", "c", "d"]


def test_a_loop_is_broken_and_both_messages_stay_one_conversation() -> None:
    a = mail("a", 0, references=("b",))
    b = mail("b", 1, references=("a",))
    (conversation,) = group_conversations([a, b])
    assert len(conversation.emails) == 2
    assert len(conversation.parents) == 1, "one of the two links closes the loop"


def test_a_message_that_names_itself_as_parent_starts_its_own_thread() -> None:
    selfish = mail("s", 0, in_reply_to="s", references=("s", "s"))
    (conversation,) = group_conversations([selfish])
    assert conversation.parents == {}


def test_a_duplicate_message_id_from_the_same_sender_is_a_copy_from_another_a_claim() -> None:
    original = mail("m", 0, subject="Budget")
    copy = mail("m#1", 1, message_id="m", folder="Archive", subject="Budget")
    claim = mail("m#2", 2, message_id="m", from_addr="x@phish.example", subject="Invoice")
    reply = mail("r", 3, in_reply_to="m", from_addr="kim@acme.example", subject="Re: Budget")
    assert threads([claim, reply, copy, original]) == [["m", "m#1", "r"], ["m#2"]]


def test_the_message_the_cache_gave_the_id_holds_it_even_when_a_claim_is_older() -> None:
    backdated = mail("m#9", -60, message_id="m", from_addr="x@phish.example", subject="Pay")
    original = mail("m", 0)
    reply = mail("r", 1, in_reply_to="m", from_addr="kim@acme.example", subject="Sure")
    assert threads([backdated, original, reply]) == [["m", "r"], ["m#9"]]


def test_a_forged_in_reply_to_from_a_stranger_joins_by_header_but_not_by_subject() -> None:
    ask = mail("a", 0, subject="Roadmap", to=(ME, "kim@acme.example"))
    by_header = mail("h", 1, in_reply_to="a", from_addr="x@phish.example", subject="Pay now")
    by_subject = mail("s", 2, subject="Re: Roadmap", from_addr="y@phish.example")
    assert threads([ask, by_header, by_subject]) == [["a", "h"], ["s"]]


def test_five_thousand_references_each_way_pick_the_nearest_parent() -> None:
    """How long it takes is `bench/threading.py`'s (an adversary row), not a test's."""
    refs = tuple(f"ref{n}@x" for n in range(5000))
    root = mail("ref0@x", 0)
    long = mail("long", 1, references=refs)
    backwards = mail("back", 2, references=tuple(reversed(refs)))
    (conversation,) = group_conversations([root, long, backwards])
    assert conversation.parents["long"] == "ref0@x"
    assert conversation.parents["back"] == "ref0@x", "its nearest message up the chain"


def test_a_reply_chain_five_thousand_deep_is_threaded_without_recursion() -> None:
    """Far deeper than Python's recursion limit; how fast it goes is `bench/threading.py`'s."""
    chain = [mail("c0", 0)] + [
        mail(f"c{n}", n, in_reply_to=f"c{n - 1}", references=tuple(f"c{k}" for k in range(n)))
        for n in range(1, 300)
    ]
    chain += [mail(f"d{n}", 300 + n, in_reply_to=f"d{n - 1}" if n else "c299") for n in range(4700)]
    (conversation,) = group_conversations(list(reversed(chain)))
    assert len(conversation.emails) == 5000 and len(conversation.parents) == 4999


def test_the_provider_thread_id_wins_over_headers_and_subjects() -> None:
    a = mail("a", 0, thread_id="T1", subject="Lunch")
    # The provider put b in another thread although it names a.
    b = mail("b", 1, thread_id="T2", in_reply_to="a", subject="Re: Lunch")
    # And c with a although nothing in its headers says so.
    c = mail("c", 2, thread_id="T1", subject="Different")
    # A message without one (a local copy) joins the thread of the message it answers.
    d = mail("d", 3, in_reply_to="b", subject="Re: Lunch")
    # The same subject and sender do not pull a provider thread into a local one.
    e = mail("e", 4, subject="Lunch")
    assert threads([a, b, c, d, e]) == [["a", "c"], ["b", "d"], ["e"]]


def test_the_same_thread_id_in_two_sources_is_two_threads() -> None:
    a = mail("a", 0, thread_id="T1", source="mcp:gmail")
    b = mail("b", 1, thread_id="T1", source="mcp:outlook")
    assert threads([a, b]) == [["a"], ["b"]]


def test_ten_thousand_messages_in_two_thousand_threads() -> None:
    """Every message lands in its own thread of five; the time is `bench/threading.py`'s."""
    emails = []
    for t in range(2000):
        root = f"t{t}"
        emails.append(mail(root, t, subject=f"Thread {t % 300}", from_addr=f"p{t % 97}@x.example"))
        for r in range(1, 5):
            emails.append(
                mail(
                    f"{root}.{r}",
                    t + r,
                    subject=f"Re: Thread {t % 300}",
                    from_addr=f"p{(t + r) % 97}@x.example",
                    in_reply_to=f"{root}.{r - 1}" if r > 1 else root,
                    references=(root, *(f"{root}.{k}" for k in range(1, r))),
                )
            )
    result = thread_messages(emails, (ME,))
    assert sum(len(t.emails) for t in result) == 10_000
    assert sorted(len(t.emails) for t in result) == [5] * 2000


def test_only_a_subject_two_messages_share_joins_and_blank_subjects_never_do() -> None:
    # Every message shares Bob; only the two "Budget" ones are one conversation by subject.
    unique = [mail(f"u{n}", n, subject=f"Distinct {n}") for n in range(50)]
    budget = [mail("b1", 60, subject="Budget"), mail("b2", 61, subject="RE: budget")]
    blank = [mail("e1", 70, subject=""), mail("e2", 71, subject="Re:")]
    found = threads([*unique, *budget, *blank])
    assert ["b1", "b2"] in found
    assert ["e1"] in found and ["e2"] in found, "an empty subject is no shared topic"
    assert len(found) == 50 + 1 + 2


def test_a_thread_where_no_message_answers_another_shares_one_empty_parents_map() -> None:
    # A large mailbox's threads are mostly one message: neither a dict nor a __dict__ each.
    found = thread_messages([mail("a", 0), mail("b", 1), mail("c", 2, in_reply_to="b")], (ME,))
    alone = [t for t in found if len(t.emails) == 1]
    assert [t.emails[0].id for t in alone] == ["a"]
    assert alone[0].parents is NO_PARENTS
    assert [dict(t.parents) for t in found if len(t.emails) == 2] == [{"c": "b"}]
    assert not any(hasattr(t, "__dict__") for t in found)


def test_the_instant_sorts_as_the_date_does_across_offsets_and_missing_dates() -> None:
    dates = [
        "2026-11-16T09:00:00+01:00",
        "2026-11-16T08:00:00+00:00",  # the same instant as the one above
        "2026-11-16T08:00:00.000001+00:00",
        "2026-11-16T02:59:59-05:00",
        "2026-11-16T09:00:00",  # no offset: read as UTC
        "",
        "not a date",
        "1970-01-01T00:00:00+00:00",
    ]
    emails = [mail(f"d{n}", date=date) for n, date in enumerate(dates)]
    for a in emails:
        for b in emails:
            assert (sent_instant(a) < sent_instant(b)) == (sent_at(a) < sent_at(b))
            assert (sent_instant(a) == sent_instant(b)) == (sent_at(a) == sent_at(b))
