"""Mail about the reader's money is filed as billing; its priority and action stay as they were."""

from __future__ import annotations

from graph.engines.triage import triage_by_rules
from graph.engines.triage.priority import filed_under
from tests.unit.triage.owner_mail import OWNER
from tests.unit.triage.owner_mail import mail as owner_mail
from tools.mail.model import Email


def mail(subject: str, body: str, sender: str, **headers: str) -> Email:
    """`owner_mail.mail` with the headers given as keywords."""
    return owner_mail(subject, body, sender=sender, headers=headers)


def test_an_insurers_new_premium_and_a_shops_receipt_are_billing() -> None:
    premium = mail(
        "Uw nieuwe premie voor 2027",
        "Beste mevrouw Raman, vanaf 1 januari 2027 wordt uw maandpremie EUR 148,20 "
        "(was EUR 139,75). U hoeft niets te doen.",
        "noreply@zilverenkruis.nl",
    )
    receipt = mail(
        "Your receipt from Fastmail #2291-4410",
        "Receipt. Amount paid: USD 60.00. Paid with Visa ending 4242. Thank you.",
        "no-reply@fastmail.com",
        **{"Auto-Submitted": "auto-generated"},
    )
    for email in (premium, receipt):
        row = triage_by_rules(email, owner_addresses=(OWNER,))
        assert row.category == "billing", email.subject


def test_only_the_category_changes() -> None:
    receipt = mail(
        "Je bestelling bij Thuisbezorgd",
        "Bedankt voor je bestelling. Betaald: EUR 23,40 met iDEAL. Bon: 88213.",
        "noreply@thuisbezorgd.nl",
        **{"Auto-Submitted": "auto-generated"},
    )
    row = triage_by_rules(receipt, owner_addresses=(OWNER,))
    assert row.category == "billing"
    assert filed_under("notification", {"receipt"}) == "billing"
    assert filed_under("notification", set()) == "notification"
    # The same priority and action as the notice the receipt was read as.
    assert (row.priority, row.action, row.decision) == ("low", "archive", "ignore")


def test_a_colleagues_policy_note_naming_receipts_is_not_billing() -> None:
    # The walk-around: "receipt" in a colleague's words is a policy, not a receipt.
    note = mail(
        "Updated travel & expense policy from 1 December",
        "Hi everyone, our travel policy changes. Receipts must be uploaded within 14 days. "
        "No action is needed from you right now.",
        "people@lumenhive.com",
        **{"List-Id": "All staff <all.lumenhive.com>"},
    )
    assert triage_by_rules(note, owner_addresses=(OWNER,)).category == "other"
    assert filed_under("other", {"receipt"}) == "other"
    assert filed_under("other", {"price_change"}) == "billing"


def test_a_fake_payment_failure_stays_suspicious_and_cold() -> None:
    phish = mail(
        "Payment failed: update your billing details",
        "Your payment failed. Update your card within 24 hours or your account will be "
        "suspended: http://fastmail-billing-update.com/login",
        "billing@fastmail-account-billing.com",
    )
    row = triage_by_rules(phish, owner_addresses=(OWNER,))
    assert row.suspicious and row.category == "spam_or_cold"
    # Filing never reaches a cold or suspicious row.
    assert filed_under(row.category, {"payment_failed"}) == "spam_or_cold"
