"""Signals found on the u-* and v-* mail, each with an input that walks around it.

The personal side of an inbox: family asking plainly, the "hi mum" scam, a reference asked for
a friend, a neighbour's "5 min verderop", a payment that did not go through, a claim waiting on
papers, and a free-mail provider that makes nobody a colleague.
"""

from __future__ import annotations

import dataclasses

from graph.engines.triage.profile import MailboxProfile
from graph.engines.triage.rulebook import default_rules
from tests.unit.triage.owner_mail import OWNER, PRIVATE, ROBOT, mail, triage

PROFILE = MailboxProfile(owner_addresses=(OWNER, PRIVATE))


def _flags(text: str) -> set[str]:
    """The phrase flags `text` raises, lower-cased as the scorer reads it."""
    lowered = text.casefold()
    return {rule.flag for rule in default_rules().flags if rule.pattern.regex.search(lowered)}


def _personal(body: str, sender: str = "vikram.raman@outlook.example") -> str:
    return triage(mail("hi", body, sender=sender, to=PRIVATE), PROFILE).decision


def test_family_and_neighbours_asking_plainly_are_answered() -> None:
    for body in (
        "Appa slipped last night, he's OK. Call me when you see this.",
        "appa wants to book tickets tell us the dates you are coming reply soon prices going up",
        "de vlek wordt groter weet je al wanneer die loodgieter komt",
        "Priya - Ana is moving to Amsterdam and has 1000 questions. I'll leave you to it!",
        "Wil je een vervangende stoel of je geld terug? Laat het me weten.",
    ):
        assert _personal(body) == "respond", body


def test_the_hi_mum_scam_is_suspicious_a_real_relatives_ask_is_not() -> None:
    scam = mail(
        "Kanna this is my new number",
        "Kanna my phone fell in water, this is my new whatsapp number. Message me on whatsapp "
        "only. Can you send 1,850 euro to the account below, I will give back. Please do it "
        "today.\nIBAN: GB29 NWBK 6016 1331 9268 19\nDon't tell Vikram he will worry.\nAmma\n",
        sender="lakshmi.raman.help@gmail.example",
        to=PRIVATE,
    )
    scam = dataclasses.replace(scam, reply_to="lakshmi.amma@proton.example")
    row = triage(scam, PROFILE)
    assert (row.decision, bool(row.suspicious)) == ("ignore", True)
    # Walks around the check: a mother asking for a call and dates, no money, no new number.
    real = "called you twice no answer are you ok. tell us the dates you are coming. amma"
    assert _personal(real, sender="lakshmi.raman@yahoo.example") == "respond"


def test_a_reference_check_for_a_friend_is_answered_a_recruiters_pitch_is_cold() -> None:
    reference = mail(
        "Reference check - Lucía Ferrer",
        "Dear Priya,\n\nLucía Ferrer has given your name as a reference for the Senior Backend "
        "role we are recruiting for on behalf of our client. Would you have 15 minutes for a "
        "short call this week?\n\nMarta, TalentBridge Recruiting\n",
        sender="marta@talentbridge.example",
    )
    pitch = dataclasses.replace(
        reference,
        subject="Senior Backend candidates",
        body="Dear Priya,\n\nI'm a recruiter working on behalf of our client base of senior "
        "engineers. Open to a quick call about hiring? Worth a 15 minutes chat?\n",
    )
    assert triage(reference).decision == "respond"
    assert triage(pitch).decision == "ignore"


def test_minutes_away_are_no_pitch_a_minutes_call_is() -> None:
    # A call's length is `call_minutes`, which the scorer makes a cold-outreach line.
    assert "call_minutes" not in _flags("we wonen maar 5 min verderop")
    assert "call_minutes" not in _flags("sorry, running 10 minutes late")
    assert "call_minutes" in _flags("can I grab 15 minutes next week to show you our platform?")


def test_a_payment_that_did_not_go_through_is_a_task_a_plans_name_is_no_premium() -> None:
    failed = mail(
        "Your payment didn't go through",
        "We tried to charge your card for your Premium Family plan (EUR 21.99), but the payment "
        "didn't go through. Update your payment details by 27 November.\n",
        sender="no-reply@music.example",
        headers=ROBOT,
    )
    assert triage(failed).decision == "respond"
    assert "price_change" not in _flags("for your premium family plan")
    assert "price_change" in _flags("your annual premium will change to eur 312")


def test_papers_a_claim_waits_on_and_a_schools_payment_request_are_tasks() -> None:
    for subject, body in (
        ("Uw schademelding - aanvullende informatie nodig", "Wij hebben uw melding ontvangen."),
        ("Betaalverzoek ouderbijdrage", "Bedrag: EUR 65,00. Uiterlijk betalen: 15 december."),
    ):
        row = triage(mail(subject, body, sender="noreply@portal.example", headers=ROBOT))
        assert row.decision == "respond", subject


def test_a_free_mail_provider_makes_nobody_a_colleague() -> None:
    # The owner's private address is at a free-mail provider; a stranger there is no colleague.
    owner = MailboxProfile(owner_addresses=(OWNER, "priya.raman@gmail.com"))
    pitch = mail(
        "quick question",
        "Hi Priya, I came across Lumenhive. We help companies like yours cut cloud costs. Open "
        "to a quick call next week?\n",
        sender="growth.hacker@gmail.com",
    )
    row = triage(pitch, owner)
    assert (row.category, row.decision) == ("spam_or_cold", "ignore")
    # Walks around the check: the company's own domain still makes a colleague.
    colleague = dataclasses.replace(pitch, from_addr="jonas@lumenhive.com")
    assert triage(colleague, owner).decision != "ignore"


# A From whose only address is written into its name (the "Mailsploit" trick).


def _hidden(auth: str) -> object:
    email = mail("prep for tomorrow", "Do you want me on the call?\n", sender="")
    headers = {"Authentication-Results": auth} if auth else {}
    return dataclasses.replace(
        email, from_name="Chloé Martin <chloe@lumenhive.com>", headers=headers
    )


def test_a_colleagues_address_hidden_in_the_name_is_a_warning_unless_vouched_for() -> None:
    vouched = (
        "mx.example; spf=pass smtp.mailfrom=lumenhive.com; dmarc=pass header.from=lumenhive.com"
    )
    assert triage(_hidden(vouched), PROFILE).suspicious == ""
    # Walks around the check: no server's word, or its word for another domain.
    assert "written into the sender's name" in triage(_hidden(""), PROFILE).suspicious
    elsewhere = "mx.example; spf=pass smtp.mailfrom=x.example; dmarc=pass header.from=x.example"
    assert triage(_hidden(elsewhere), PROFILE).suspicious
