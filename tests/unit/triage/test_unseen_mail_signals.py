"""Signals found on mail the rules had not seen: pitches that sell a list, a fee or a video,
programs' round-ups and hand-overs, and senders dressed as a brand or a colleague.

Each signal has mail written for it and the mail that walks around it.
"""

from __future__ import annotations

from graph.engines.triage.profile import MailboxProfile
from tests.unit.triage.owner_mail import OWNER, ROBOT, mail, triage
from tools.mail.model import Email

SIGNED = "mx.example; dkim=pass header.d={d}; spf=pass smtp.mailfrom={d}; dmarc=pass"


# A stranger selling a list, a fee-based service or a video made for the reader is cold.


def test_a_stranger_selling_a_list_a_fee_or_a_video_is_cold() -> None:
    pitches = (
        "Would you be interested in acquiring an email list of 9,000 fleet managers?\n"
        "Let me know the region and I'll send counts.",
        "Wir haben zwei Senior-Entwickler im Pool. Unser Honorar liegt bei 20% des Gehalts.",
        "Made this short video for your team showing how Shipwise would cut your API errors: "
        "https://shipwise.example/v/7",
        "We place senior engineers in three weeks.\n"
        "If you don't want to hear from me again, reply 'remove'.",
    )
    for body in pitches:
        row = triage(mail("Quick one", f"Hi Priya,\n{body}\nTom", sender="tom@seller.example"))
        assert (row.category, row.decision) == ("spam_or_cold", "ignore"), body


def test_a_stranger_showing_a_problem_or_offering_a_cv_is_not_cold() -> None:
    letters = (
        "I made a short video showing how the export fails: https://files.example/v/2\n"
        "Could you have a look?",
        "Ich habe Ihre Stelle gesehen. Darf ich Ihnen meinen Lebenslauf zusenden?",
    )
    for body in letters:
        row = triage(mail("Export", f"Hi Priya,\n{body}\nAnna", sender="anna.k@post.example"))
        assert row.decision == "respond", body


# A program's round-up of a period is read at leisure, even when it relays people.


def test_a_weekly_summary_that_relays_mentions_is_ignored() -> None:
    summary = mail(
        "Your weekly summary for Acme",
        "3 issues were assigned to you, 2 people mentioned you and 5 reviews are waiting.\n",
        sender="notifications@tracker.example",
        headers=ROBOT,
    )
    assert triage(summary).decision == "ignore"


def test_a_mention_outside_a_round_up_is_still_relayed() -> None:
    mention = mail(
        "Noor mentioned you in WAPI-12",
        "Noor mentioned you: can you check the retry policy?\n",
        sender="notifications@tracker.example",
        headers=ROBOT,
    )
    assert triage(mention).decision == "respond"


def test_a_dutch_monthly_overview_is_a_digest() -> None:
    overview = mail(
        "Je maandoverzicht van november staat klaar",
        "Bekijk je uitgaven van november in de app.\n",
        sender="no-reply@bank.example",
        headers=ROBOT,
    )
    assert triage(overview).decision == "ignore"


# Something handed to the reader by a program: a signature, an escalation, their own task due.


def test_a_program_handing_the_reader_work_is_respond() -> None:
    for subject, body in (
        ("Bitte unterzeichnen: Rahmenvertrag", "Bitte unterzeichnen Sie das Dokument."),
        ("[INC-9] You've been escalated to: API errors", "The on-call did not acknowledge."),
        ("Reminder: your self-review is due 4 December", "Open the form to start."),
    ):
        handed = mail(subject, body, sender="notifications@work.example", headers=ROBOT)
        assert triage(handed).decision == "respond", subject


def test_a_program_telling_what_others_must_do_is_not_respond() -> None:
    told = mail(
        "Reminder: Q4 reviews",
        "Managers: the self-reviews of your reports open on Monday.\n",
        sender="notifications@work.example",
        headers=ROBOT,
    )
    assert triage(told).decision != "respond"


# A failed payment of a service the owner uses asks to pay, whatever its words' category.


def test_a_tools_failed_payment_naming_a_bank_transfer_is_respond() -> None:
    failed = mail(
        "Payment failed: update your payment details",
        "We could not charge your card. Update it today or pay by bank transfer; "
        "your site becomes read-only in 7 days.\n",
        sender="billing@am.atlassian.com",
        headers={**ROBOT, "Authentication-Results": SIGNED.format(d="am.atlassian.com")},
    )
    row = triage(failed)
    assert (row.suspicious, row.decision) == ("", "respond")


def test_a_strangers_urgent_bank_transfer_is_still_fraud() -> None:
    fraud = mail(
        "Payment",
        "Please make an urgent bank transfer of 9,800 EUR today, I am in a meeting.\n",
        sender="director@payments-office.example",
    )
    assert triage(fraud).suspicious


# A brand's name with an add-on as the domain is not the brand, however well it is signed.


def test_a_brand_with_an_add_on_domain_is_suspicious_even_signed() -> None:
    fake = mail(
        'Northwind sent you "Renewal 2027" to sign',
        "Review and sign: https://dropbox-signature.example/s/8\n",
        sender="no-reply@dropbox-signature.example",
        headers={"Authentication-Results": SIGNED.format(d="dropbox-signature.example")},
    )
    fake = Email(**{**fake.__dict__, "from_name": "Dropbox Sign"})
    assert triage(fake).suspicious


def test_the_brands_own_domain_is_not_suspicious() -> None:
    real = mail(
        'Northwind sent you "Renewal 2027" to sign',
        "Review and sign: https://dropbox.example/s/8\n",
        sender="no-reply@dropbox.example",
        headers={**ROBOT, "Authentication-Results": SIGNED.format(d="dropbox.example")},
    )
    real = Email(**{**real.__dict__, "from_name": "Dropbox Sign"})
    assert not triage(real).suspicious


# A colleague's name on an outside address pushing an invoice is fraud.

COLLEAGUES = MailboxProfile(owner_addresses=(OWNER,), colleague_names=frozenset({"lena fischer"}))
INVOICE = (
    "Hi, approve this invoice today pls, the supplier is waiting. Invoice attached, 4,870 EUR."
)


def test_a_colleagues_name_from_outside_with_an_invoice_is_suspicious() -> None:
    fake = mail("approve this today", INVOICE, sender="lena.fischer.work@outlook.example")
    fake = Email(**{**fake.__dict__, "from_name": "Lena Fischer"})
    assert triage(fake, COLLEAGUES).suspicious


def test_the_colleague_herself_with_an_invoice_is_not() -> None:
    real = mail("approve this today", INVOICE, sender="lena@lumenhive.com")
    real = Email(**{**real.__dict__, "from_name": "Lena Fischer"})
    row = triage(real, COLLEAGUES)
    assert (row.suspicious, row.decision) == ("", "respond")


def test_a_share_via_a_tools_name_on_an_add_on_domain_is_suspicious() -> None:
    share = 'Noor shared "Q4 bonus allocations.xlsx" with you'
    fake = mail(share, "Open: https://x.example/f", sender="no-reply@sharepoint-files.example")
    real = mail(share, "Open: https://x.example/f", sender="no-reply@sharepointonline.example")
    fake = Email(**{**fake.__dict__, "from_name": "Noor via SharePoint"})
    real = Email(**{**real.__dict__, "from_name": "Noor (via SharePoint Online)"})
    assert triage(fake).suspicious
    assert not triage(real).suspicious


# Thanks for a payment or an order, in the inbox's other languages: paid already.


def test_thanks_for_an_order_in_dutch_or_german_is_a_receipt() -> None:
    for subject, body in (
        ("Bedankt voor je bestelling bij Pizzeria Oost", "Totaal: 23,40 EUR, betaald met iDEAL."),
        ("Danke für Ihre Bestellung", "Summe: 23,40 EUR. Wir liefern in 30 Minuten."),
    ):
        order = mail(subject, body, sender="noreply@food.example", headers=ROBOT)
        assert triage(order).decision == "ignore", subject


def test_an_order_that_still_needs_paying_is_not_a_receipt() -> None:
    unpaid = mail(
        "Bedankt voor je bestelling - betaling mislukt",
        "Je betaling is mislukt. Betaal binnen 24 uur, anders vervalt je bestelling.",
        sender="noreply@food.example",
        headers=ROBOT,
    )
    assert triage(unpaid).decision != "ignore"


# A made-up reply thread that asks to pay an invoice is fraud.

OVERDUE = "Hello,\nAs discussed, invoice 2026-0918 (12,400 EUR) is overdue. Please pay today.\n"


def test_a_strangers_reply_with_no_thread_pushing_an_invoice_is_suspicious() -> None:
    fake = mail("RE: RE: Open invoice 2026-0918", OVERDUE, sender="accounts@supplier-nl.example")
    assert triage(fake).suspicious


def test_a_real_reply_or_a_forward_of_an_invoice_is_not() -> None:
    real = mail("RE: Open invoice 2026-0918", OVERDUE, sender="accounts@supplier-nl.example")
    real = Email(**{**real.__dict__, "in_reply_to": "<m-77@lumenhive.com>"})
    forward = mail("Fwd: Open invoice 2026-0918", OVERDUE, sender="accounts@supplier-nl.example")
    assert not triage(real).suspicious
    assert not triage(forward).suspicious
