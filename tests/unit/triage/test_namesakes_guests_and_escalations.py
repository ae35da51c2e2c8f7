"""Signals found on the q-*, r-* and s-* mail, each with an input that walks around it.

A customer who shares a colleague's name, a host inviting the owner onto their show, an
introduction, an offer held until a date, a customer's escalation with the owner on Cc, a
colleague's update on Cc, and "no need to reply" limited to a time.
"""

from __future__ import annotations

import dataclasses

from graph.engines.triage.profile import MailboxProfile
from tests.unit.triage.owner_mail import OWNER, mail, triage

PROFILE = MailboxProfile(
    owner_addresses=(OWNER,),
    known_domains=frozenset({"nordkap.example"}),
    colleague_names=frozenset({"ingrid solberg"}),
)
SIGNED = (
    "mx.example; spf=pass smtp.mailfrom={d}; dkim=pass header.d={d}; dmarc=pass header.from={d}"
)


def _cc(email: object) -> object:
    """The same message with the owner on Cc, someone else in To."""
    return dataclasses.replace(email, to=("henrik@nordkap.example",), cc=(OWNER,))  # type: ignore[type-var]


# A customer who shares a colleague's name, writing from an address that has written before.

EXPORT = (
    "Hello,\n\nThe weekly billing export failed again. Our invoicing run is Monday 07:00 and we "
    "need the export before then. Please confirm you have received this.\n\nIngrid Solberg\n"
)


def _from_ingrid(sender: str) -> object:
    email = mail("Export failing again", EXPORT, sender=sender)
    domain = sender.split("@", 1)[1]
    headers = {"Authentication-Results": SIGNED.format(d=domain)}
    return dataclasses.replace(email, from_name="Ingrid Solberg", headers=headers)


def test_a_customers_namesake_of_a_colleague_who_wrote_before_is_no_impostor() -> None:
    sender = "ingrid.solberg@nordkap.example"
    profile = dataclasses.replace(PROFILE, history={sender: 4})
    row = triage(_from_ingrid(sender), profile)
    assert (row.suspicious, row.decision) == ("", "respond")


def test_a_colleagues_name_from_free_mail_or_a_first_message_is_still_an_impostor() -> None:
    # Walks around the check: the name from an address with no history, or from free mail.
    first = dataclasses.replace(PROFILE, history={"ingrid.solberg@nordkap.example": 1})
    assert triage(_from_ingrid("ingrid.solberg@nordkap.example"), first).suspicious
    freemail = dataclasses.replace(PROFILE, history={"ingrid.solberg@gmail.example": 4})
    assert triage(_from_ingrid("ingrid.solberg@gmail.example"), freemail).suspicious


# A host inviting the owner onto their show, with a pitch's "15-min call" in it.


def test_a_hosts_invitation_onto_their_show_is_answered() -> None:
    row = triage(
        mail(
            "podcast?",
            "Hi Priya,\n\nI host Shipping Logs, a small podcast about software in logistics. "
            "Joris mentioned your backfill talk. It's a 45-minute remote conversation in "
            "January. No prep beyond a 15-min call.\n\nWould you be up for it?\n\nGreta\n",
            sender="greta@shippinglogs.example",
        )
    )
    assert (row.decision, row.category) == ("respond", "other")


def test_a_paid_placement_on_a_show_is_still_cold() -> None:
    # Walks around the check: the same invitation selling a package.
    row = triage(
        mail(
            "Feature you on our podcast",
            "Hi Priya,\n\nWe'd love to feature you as a guest for an episode of Logistics "
            "Leaders. Guest packages start at EUR 900 and include promotion to 40k listeners. "
            "Would you be up for it? Book a 15-min call here.\n",
            sender="bookings@leaders-media.example",
        )
    )
    assert (row.decision, row.category) == ("ignore", "spam_or_cold")


def test_a_speaking_package_is_a_pitch_no_speaker_fee_is_not() -> None:
    pitch = "Speaking packages start at EUR 4,900 and include a keynote slot. Reply to secure it."
    honest = "There is no speaker fee, and no cost of any kind to speak. Would you give a talk?"
    assert triage(mail("Speak at Summit", pitch, sender="partners@summit.example")).decision == (
        "ignore"
    )
    assert triage(mail("Speak at our meetup", honest, sender="eva@meetup.example")).decision == (
        "respond"
    )


# Asks without a question: an introduction, an offer held until a date, a colleague checking.


def test_introductions_offers_held_and_checks_with_the_owner_are_answered() -> None:
    for body in (
        "Priya, Nikhil - meet each other! Nikhil builds dock scheduling. I'll leave it to you two.",
        "Attached is our quote. The slot in January is held until 4 December.",
        "Hierbij de offerte. We houden de januariplanning tot 4 december voor jullie vast.",
        "Rafael asked for Slack access a bit earlier. I said I'd check with you.",
    ):
        assert triage(mail("hi", body, sender="bart@friend.example")).decision == "respond", body


# A colleague's update on Cc, and a customer's escalation on Cc.


def test_a_colleagues_update_with_a_date_on_cc_is_shown_in_to_it_is_a_task() -> None:
    update = mail(
        "Re: peak season + API limits",
        "Hi Karen, the new limit is live on your tenant. Your deadline for the load test is Friday.\n",
        sender="jonas@lumenhive.com",
    )
    # An answer in the owner's thread: `direct`, though she is only on Cc.
    update = dataclasses.replace(update, in_reply_to="<sent-7@lumenhive.com>")
    assert triage(_cc(update), PROFILE).decision == "notify"
    ask = dataclasses.replace(update, body="Priya, one page on the limits by Wed EOD please.\n")
    assert triage(ask, PROFILE).decision == "respond"


def test_a_customers_escalation_with_the_owner_on_cc_is_answered() -> None:
    body = (
        "Chloe, our exports are failing again and we are blocked: invoicing runs Monday 07:00. "
        "This is urgent.\n\nIngrid\n"
    )
    customer = mail("Exports failing again", body, sender="ingrid@nordkap.example")
    assert triage(_cc(customer), PROFILE).decision == "respond"
    # Walks around the check: the same words from a stranger's domain, or a colleague's.
    stranger = dataclasses.replace(customer, from_addr="ops@elsewhere.example")
    colleague = dataclasses.replace(customer, from_addr="chloe@lumenhive.com")
    assert triage(_cc(stranger), PROFILE).decision == "notify"
    assert triage(_cc(colleague), PROFILE).decision == "notify"


# "No need to reply" limited to a time or a place still leaves the ask standing.


def test_no_need_to_reply_tonight_leaves_the_question() -> None:
    asked = "Could you write down what the new role would mean? No need to reply tonight.\n"
    told = "Thanks for Friday, I feel calmer about it now. No need to reply.\n"
    assert triage(mail("after our walk", asked, sender="jonas@lumenhive.com")).decision == (
        "respond"
    )
    assert triage(mail("after our walk", told, sender="jonas@lumenhive.com")).decision == ("notify")


# The t-* mail: money paid out, a reset told as such, a duty, work handed over by name.


def test_an_expense_report_paid_out_closes_its_task_missing_receipts_do_not() -> None:
    robot = {"Auto-Submitted": "auto-generated"}
    paid = mail(
        'Your report "Nov taxis" has been reimbursed',
        'Good news! Your expense report "Nov taxis" (EUR 86.20) was reimbursed by Lumenhive.\n',
        sender="concierge@expenses.example",
        headers=robot,
    )
    missing = dataclasses.replace(
        paid,
        subject="3 missing receipts",
        body="Your expense report is missing 3 receipts. Please submit them before 30 Nov.\n",
    )
    assert triage(paid).decision == "ignore"
    assert triage(missing).decision == "respond"  # walks around it: "receipts" missing


def test_a_reset_told_as_requested_is_shown_an_expiring_password_is_a_task() -> None:
    # Signed for its domain, which has written to her before (`phishing._own_service`).
    robot = {
        "Auto-Submitted": "auto-generated",
        "Authentication-Results": SIGNED.format(d="sso.example"),
    }
    known = dataclasses.replace(PROFILE, history={"noreply@sso.example": 3})
    reset = mail(
        "Password reset",
        "A password reset request was made for your account from Chrome on macOS.\n"
        "Reset password: https://sso.example/reset/ZkE1\nThis link expires in 1 hour.\n",
        sender="noreply@sso.example",
        headers=robot,
    )
    expiring = dataclasses.replace(
        reset, body="Your password expires in 3 days. Action required: change it now.\n"
    )
    assert (triage(reset, known).decision, triage(reset, known).suspicious) == ("notify", "")
    assert triage(expiring, known).decision == "respond"  # walks around it: nothing requested


def test_work_escalated_to_her_by_name_is_hers() -> None:
    named = dataclasses.replace(PROFILE, owner_names=frozenset({"priya raman"}))
    incident = mail(
        "[PagerDuty] TRIGGERED #8821: sync lag > 5 min - escalated to Priya Raman",
        "Incident #8821 TRIGGERED\nEscalation: Sun-hee Park (no ack after 15 min)\n",
        sender="no-reply@pagerduty.example",
        headers={"Auto-Submitted": "auto-generated"},
    )
    someone_else = dataclasses.replace(
        incident, subject="[PagerDuty] TRIGGERED #8821: sync lag - escalated to Priyanka Shah"
    )
    assert triage(incident, named).decision == "respond"
    assert not named.assigned_to_owner(someone_else.subject.casefold())


def test_a_clubs_duty_for_you_an_offer_that_holds_and_an_applicants_question() -> None:
    duty = mail(
        "Bardienst zaterdag",
        "Volgens het rooster heeft u zaterdag 28 november bardienst van 09:00 tot 11:30.\n",
        sender="jeugd@club.example",
        headers={"Precedence": "bulk", "Auto-Submitted": "auto-generated"},
    )
    assert triage(duty).decision == "notify"
    for body in (
        "Attached is our quote. The slot holds until 4 December, after that January fills up.",
        "I applied for the Senior Backend role last week. I wanted to ask whether it has on-call.",
    ):
        assert triage(mail("hi", body, sender="jan@vendor.example")).decision == "respond", body
