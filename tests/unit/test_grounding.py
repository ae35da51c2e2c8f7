"""The grounding verifier: grounded drafts pass, every kind of invented claim is caught."""

from __future__ import annotations

from typing import Any

import pytest

from graph.grounding import citations_in, verify_answer

INVOICE = "invoice-0412@billing.vendor.example"
MEETING = "meeting-7@acme.example"

EVIDENCE: list[Any] = [
    {
        "id": "ev-1-1",
        "tool": "get_email",
        "args": {"email_id": INVOICE},
        "at": "2026-11-20T10:00:00+00:00",
        "turn": 1,
        "completeness": "COMPLETE",
        "content": (
            f"1. id: {INVOICE}\n   from: Vendor Billing <billing@vendor.example>\n"
            "   subject: Overdue invoice INV-2026-0412\n"
            "   body: Invoice INV-2026-0412 for $4,250.00 is now overdue. "
            "It was due on 19 November 2026."
        ),
        "messages": [
            {
                "id": INVOICE,
                "sender": "Vendor Billing <billing@vendor.example>",
                "subject": "Overdue invoice INV-2026-0412",
                "date": "2026-11-17T09:00:00+00:00",
                "text": "Invoice INV-2026-0412 for $4,250.00 is now overdue. "
                "It was due on 19 November 2026.",
            }
        ],
        "error": "",
    },
    {
        "id": "ev-1-2",
        "tool": "search_emails",
        "args": {"sender": "bob"},
        "at": "2026-11-20T10:00:01+00:00",
        "turn": 1,
        "completeness": "PREVIEW",
        "content": f"1. id: {MEETING}\n   from: Bob Stone <bob@acme.example>",
        "messages": [
            {
                "id": MEETING,
                "sender": "Bob Stone <bob@acme.example>",
                "subject": "Meeting request: roadmap review",
                "date": "2026-11-18T10:30:00+00:00",
                "text": "Can we meet on Thursday at 14:00? Don't be late.",
            }
        ],
        "error": "",
    },
]

GROUNDED = (
    'Vendor Billing (billing@vendor.example) says "Overdue invoice INV-2026-0412": '
    f"$4,250.00 was due on 19 November [msg:{INVOICE}]. "
    f"There is also a meeting request from Bob Stone, sent 2026-11-18 [msg:{MEETING}]."
)


def test_a_grounded_draft_passes() -> None:
    report = verify_answer(GROUNDED, EVIDENCE)
    assert report.problems == ()
    assert report.ok
    assert report.citations == (INVOICE, MEETING)


@pytest.mark.parametrize(
    ("claim", "problem"),
    [
        ("See [msg:q4-board-pack@evil.example].", "cites message id 'q4-board-pack@evil.example'"),
        ("Reply to mallory@evil.example.", "mentions address 'mallory@evil.example'"),
        ('The subject was "Q4 board pack".', "quotes 'Q4 board pack'"),
        ("The total is $9,999.00.", "states the amount 9999"),
        ("It is tracked as OPS-999.", "names OPS-999"),
        ("The next one is INV-2026-9999.", "names INV-2026-9999"),
        ("Payment is due Dec 3.", "states the date 12-03"),
        ("There is a note from Mallory Fox.", "names sender 'Mallory Fox'"),
    ],
    ids=[
        "message-id",
        "address",
        "subject",
        "amount",
        "ticket",
        "ticket-same-prefix",
        "date",
        "sender",
    ],
)
def test_each_invented_claim_is_caught(claim: str, problem: str) -> None:
    report = verify_answer(f"{GROUNDED} {claim}", EVIDENCE)
    assert not report.ok
    assert len(report.problems) == 1, report.problems
    assert report.problems[0].startswith(problem), report.problems


def test_every_problem_of_a_draft_is_reported() -> None:
    draft = (
        'Mallory Fox <mallory@evil.example> sent "Q4 board pack" for $98,765.43 [msg:nope@nowhere].'
    )
    problems = verify_answer(draft, EVIDENCE).problems
    assert len(problems) == 4
    assert any("nope@nowhere" in p for p in problems)
    assert any("mallory@evil.example" in p for p in problems)
    assert any("Q4 board pack" in p for p in problems)
    assert any("98765.43" in p for p in problems)


@pytest.mark.parametrize("amount", ["4250 USD", "$4250", "USD 4,250", "4,250.00 dollars", "$4,250"])
def test_amounts_compare_by_value(amount: str) -> None:
    assert verify_answer(f"The invoice is for {amount}.", EVIDENCE).ok


@pytest.mark.parametrize("amount", ["$4,250.01", "4205 USD", "€4,250.00 and $425.00"])
def test_a_different_amount_is_caught(amount: str) -> None:
    assert not verify_answer(f"The invoice is for {amount}.", EVIDENCE).ok


def test_curly_quotes_are_checked_like_straight_ones() -> None:
    assert verify_answer("The subject is “Overdue invoice INV-2026-0412”.", EVIDENCE).ok
    assert verify_answer("Bob wrote “Don’t be late.”", EVIDENCE).ok
    report = verify_answer("The subject is “Q4 board pack”.", EVIDENCE)
    assert report.problems == ("quotes 'Q4 board pack', which is not in the evidence",)


def test_quotes_ignore_case_and_spacing() -> None:
    assert verify_answer('Subject: "overdue   invoice inv-2026-0412"', EVIDENCE).ok


@pytest.mark.parametrize(
    "date", ["Nov 19", "19 November", "2026-11-19", "November 19th", "the 19th of Nov", "Nov. 19"]
)
def test_dates_in_every_form_match_the_evidence(date: str) -> None:
    assert verify_answer(f"It was due on {date}.", EVIDENCE).ok


@pytest.mark.parametrize("date", ["Nov 21", "21 November", "2026-11-21", "December 19"])
def test_an_invented_date_is_caught_in_every_form(date: str) -> None:
    report = verify_answer(f"It was due on {date}.", EVIDENCE)
    assert not report.ok
    assert "states the date" in report.problems[0]


def test_a_message_date_from_its_iso_header_counts() -> None:
    assert verify_answer("Bob wrote on 18 November.", EVIDENCE).ok


def test_known_sender_and_sentence_words_after_from_pass() -> None:
    assert verify_answer("A reminder from Vendor Billing.", EVIDENCE).ok
    assert verify_answer("Apart from The usual, nothing.", EVIDENCE).ok
    assert verify_answer("Mail from Nov 19 is shown.", EVIDENCE).ok


def test_addresses_compare_without_case() -> None:
    assert verify_answer("Write to BOB@ACME.EXAMPLE.", EVIDENCE).ok


def test_a_shortened_real_ticket_key_passes() -> None:
    assert verify_answer("The INV-2026 series is overdue.", EVIDENCE).ok


def test_nothing_is_grounded_without_evidence() -> None:
    report = verify_answer(GROUNDED, [])
    assert not report.ok
    assert any(INVOICE in p for p in report.problems)


def test_citations_in_keeps_order_and_drops_repeats() -> None:
    text = "[msg:b@x] then [msg:a@x] and [msg:b@x] again; [msg: not-one]"
    assert citations_in(text) == ["b@x", "a@x"]


FETCH_ERROR = (
    "inbox imap://dana%40northwind.example@127.0.0.1:993/INBOX?account=work: Google account "
    "work: the grant was revoked or has expired"
)


def test_an_answer_may_repeat_the_fetch_error_it_reports() -> None:
    draft = f"The inbox could not be read: {FETCH_ERROR}."
    assert not verify_answer(draft, EVIDENCE).ok, "the spec reads as an address"
    assert verify_answer(draft, EVIDENCE, [FETCH_ERROR]).ok


def test_a_fetch_error_vouches_for_nothing_it_does_not_say() -> None:
    draft = f"{FETCH_ERROR}; also mail sofia@northwind.example about it."
    report = verify_answer(draft, EVIDENCE, [FETCH_ERROR])
    assert report.problems == (
        "mentions address 'sofia@northwind.example', which is not in the evidence",
    )
