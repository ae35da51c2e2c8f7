"""Asks people type in a hurry, reports of a fault, bounces and marketing lists' calls to act.

Each signal has mail written for it and the mail that walks around it.
"""

from __future__ import annotations

import dataclasses

from graph.engines.triage import triage_by_rules
from graph.engines.triage.profile import MailboxProfile
from tests.unit.triage.owner_mail import OWNER, PRIVATE, mail
from tools.mail.model import Email

PROFILE = MailboxProfile(owner_addresses=(OWNER, PRIVATE))


def decision(email: Email) -> str:
    return triage_by_rules(email, profile=PROFILE).decision


# The asks of someone typing fast, and the polite ones in the conditional.


def test_a_hurried_ask_is_respond() -> None:
    hurried = mail(
        "deploy notes",
        "can u check the deploy notes before fri, not sure about step 4\n\nm",
        sender="mirte@lumenhive.com",
    )
    assert decision(hurried) == "respond"


def test_a_conditional_thanks_in_advance_is_an_ask() -> None:
    for ask in ("I would be very grateful", "I'd really appreciate it"):
        letter = mail(
            "After the interview",
            f"Dear Priya,\nIf you could tell me when a decision is expected, {ask}.\nOlga",
            sender="olga.petrova.dev@proton.me",
        )
        assert decision(letter) == "respond", ask


def test_thanks_for_what_was_done_asks_nothing() -> None:
    thanks = mail(
        "thanks!",
        "Priya, I really appreciate the samples you sent over last week. Thanks again!\nOlga",
        sender="olga.petrova.dev@proton.me",
    )
    assert decision(thanks) == "notify"


# A person telling the owner that something stopped working asks for a fix.


def test_a_fault_reported_to_the_owner_is_respond() -> None:
    for words in ("the nightly export doesn't work anymore", "de export werkt niet meer"):
        report = mail(
            "export",
            f"Hello Priya,\nsince yesterday {words}, all three depots get empty files.\nKees",
            sender="kees.brouwer71@gmail.com",
        )
        assert decision(report) == "respond", words


def test_a_day_that_does_not_work_for_someone_is_no_fault() -> None:
    told = mail(
        "lunch",
        "Hi Priya, Thursday doesn't work for me after all, I'll be in Utrecht. Enjoy!\n"
        "If the other room doesn't work, the team can use mine.\nRahul",
        sender="rahul.m@gmail.example",
    )
    assert decision(told) == "notify"


def test_a_fault_on_copy_or_from_a_program_is_not_respond() -> None:
    copied = mail(
        "export",
        "Hi Ahmed,\nthe nightly export doesn't work anymore since yesterday.\nKees",
        sender="kees.brouwer71@gmail.com",
        to="ahmed@lumenhive.com",
    )
    copied = Email(**{**copied.__dict__, "cc": (OWNER,)})
    program = mail(
        "Your webhook stopped working",
        "The endpoint returned 500 for 24 hours and was paused.\n",
        sender="no-reply@hooks.example",
        headers={"Auto-Submitted": "auto-generated"},
    )
    assert decision(copied) == "notify"
    assert decision(program) != "respond"


# A bounce: the owner's mail did not arrive, unless the server is still trying. Worth seeing
# either way; most of the corpus's authors do not count it as mail to answer (nine to four).

BOUNCE = "This is the mail system.\nYour message could not be delivered to {to}.\n{why}\n"


def test_a_failed_delivery_of_the_owners_mail_is_notify() -> None:
    failed = mail(
        "Undelivered Mail Returned to Sender",
        BOUNCE.format(to="anna@school.exmaple", why="Host or domain name not found."),
        sender="mailer-daemon@mx.mail.example",
    )
    assert decision(failed) == "notify"


def test_a_delayed_delivery_is_only_notify() -> None:
    delayed = mail(
        "Delivery Status Notification (Delay)",
        BOUNCE.format(to="anna@school.example", why="Temporary problem; we will retry for 2 days."),
        sender="mailer-daemon@mx.mail.example",
    )
    assert decision(delayed) == "notify"


# A marketing list's "act now" is said to every subscriber.

MARKETING = {
    "List-Unsubscribe": "<https://mail.example/u/1>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    "Precedence": "bulk",
}
ACT = (
    "Action required: confirm your spot",
    "Confirm your finalist place by 4 December: finalist packages from 3,950 GBP.\n"
    "Unsubscribe from these emails.\n",
)


def test_a_marketing_lists_call_to_act_is_not_respond() -> None:
    promo = mail(*ACT, sender="team@awards.example", headers=MARKETING)
    assert decision(promo) == "ignore"


def test_the_same_call_from_a_service_to_its_customer_is_respond() -> None:
    notice = mail(
        *ACT, sender="no-reply@awards.example", headers={"Auto-Submitted": "auto-generated"}
    )
    assert decision(notice) == "respond"
    # With an unsubscribe link it goes to a list of subscribers: from an organisation the owner
    # writes to it is still theirs to act on; from one they never wrote to, it is a mailing's.
    listed = mail(*ACT, sender="team@awards.example", headers={"List-Unsubscribe": "<u>"})
    customer = dataclasses.replace(PROFILE, known_domains=frozenset({"awards.example"}))
    assert triage_by_rules(listed, profile=customer).decision == "respond"
    assert decision(listed) != "respond"


# A marketing list's reminders and changes are said to every subscriber.

TRIAL = (
    "Your Pro trial ends in 3 days",
    "Your trial ends on Friday and your workspace moves to the free plan; nothing is lost.\n"
    "Upgrade now and keep every feature. Unsubscribe from these emails.\n",
)


def test_a_marketing_lists_trial_ending_is_ignored() -> None:
    upsell = mail(*TRIAL, sender="billing@apitool.example", headers=MARKETING)
    assert decision(upsell) == "ignore"


def test_a_trial_ending_told_to_the_customer_or_by_a_partner_is_notify() -> None:
    told = mail(
        *TRIAL, sender="billing@apitool.example", headers={"Auto-Submitted": "auto-generated"}
    )
    partner = mail(*TRIAL, sender="billing@apitool.example", headers=MARKETING)
    knows_them = MailboxProfile(
        owner_addresses=(OWNER,), known_domains=frozenset({"apitool.example"})
    )
    assert decision(told) == "notify"
    assert triage_by_rules(partner, profile=knows_them).decision == "notify"
