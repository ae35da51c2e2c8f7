"""Signals found on the y-* mail, each with an input that walks around it."""

from __future__ import annotations

import dataclasses

from graph.engines.triage.profile import MailboxProfile
from graph.engines.triage.rulebook import default_rules
from tests.unit.triage.owner_mail import ROBOT, mail, triage


def _flags(text: str) -> set[str]:
    """The phrase flags `text` raises, lower-cased as the scorer reads it."""
    lowered = text.casefold()
    return {rule.flag for rule in default_rules().flags if rule.pattern.regex.search(lowered)}


def test_a_final_reminder_of_a_switch_off_is_no_overdue_bill() -> None:
    sunset = mail(
        "Final reminder: Webhooks API v2 will be switched off on 1 December",
        "Your organisation still received 312,540 v2 webhook deliveries last week. On 1 December "
        "v2 endpoints will return 410 Gone.\n",
        sender="developers@partner.example",
        headers={"List-Unsubscribe": "<https://partner.example/u>"},
    )
    row = triage(sunset)
    assert (row.decision, row.category) != ("respond", "billing")
    assert "service_change" in _flags(sunset.subject)
    # Walks around the check: a final reminder of an invoice is still overdue.
    assert "overdue" in _flags("Final reminder for invoice INV-2207")
    assert "overdue" not in _flags("Final reminder: the survey closes Friday")


def test_an_applicants_own_note_and_asks_for_comments_and_approval_are_answered() -> None:
    for sender, body in (
        (
            "seun@proton.example",
            "I applied for the Backend Engineer role via your careers page last week and "
            "wanted to send a short note directly. CV attached in case it helps.",
        ),
        ("jonas@lumenhive.com", "Design doc is up. Would be great to have your comments first."),
        ("jan@vendor.example", "Bijgaand de offerte. Graag akkoord voor 4 december."),
        ("yusuf@lumenhive.com", "Your new YubiKey is at reception. Please enrol it before 1 Dec."),
        ("femke@podcast.example", "Would you come on for 40 minutes in January? Groetjes"),
    ):
        assert triage(mail("hi", body, sender=sender)).decision == "respond", body


def test_a_report_that_a_review_is_done_is_no_ask() -> None:
    # Walks around the check: "marked your review complete" reports, it does not ask.
    assert "request" not in _flags("done, k.vos removed. marked your review complete. ty!")


def test_a_scheduling_brands_name_on_another_domain_is_suspicious() -> None:
    phish = mail(
        "New Event: Karen Holt - 30 Minute Meeting",
        "A new event has been scheduled.\nView shared document "
        "<https://calendly-events.example/view/doc?login=microsoft>\n",
        sender="notifications@calendly-events.example",
        headers=ROBOT,
    )
    phish = dataclasses.replace(phish, from_name="Calendly")
    row = triage(phish)
    assert (row.decision, bool(row.suspicious)) == ("ignore", True)


def test_dutch_and_german_asks_of_the_x_and_w_mail() -> None:
    assert "request" in _flags("wir bitten um eine kurzfristige rückmeldung, ob der fix kommt")
    assert "request" in _flags("je zou de timestamp doorsturen van het stuk met het dashboard")
    assert "request" in _flags(
        "om de slot vast te houden hebben we uiterlijk 4 december een getekende "
        "opdrachtbevestiging nodig"
    )
    assert "action_required" in _flags("om de melding te beoordelen hebben wij nog nodig:")
    # Walks around the checks: the same words that tell, not ask.
    assert "request" not in _flags("je zou denken dat het vanzelf gaat")
    assert "action_required" not in _flags("dat hebben wij niet meer nodig, dank je")


def test_a_rides_proof_of_payment_is_skipped_a_failed_charge_is_not() -> None:
    robot = {"Auto-Submitted": "auto-generated"}
    ride = mail(
        "Your Thursday evening trip",
        "Thanks for riding, Priya\nTotal EUR 21,40\nTrip fare EUR 18,90\nBooking fee EUR 2,50\n",
        sender="noreply@rides.example",
        headers=robot,
    )
    month = mail(
        "Je reisoverzicht van oktober",
        "Je reisoverzicht staat klaar. Totaal: EUR 47,80. Het bedrag wordt rond 24 november "
        "afgeschreven.\n",
        sender="noreply@trains.example",
        headers=robot,
    )
    assert triage(ride).decision == "ignore"
    assert triage(month).decision == "ignore"
    # Walks around the check: the same ride whose charge failed asks for a new card.
    failed = dataclasses.replace(
        ride, body=ride.body + "We couldn't charge your card. Payment failed: update it now.\n"
    )
    assert triage(failed).decision == "respond"


def test_the_z_mail_an_agencys_cvs_a_quotes_validity_and_a_letter_waiting() -> None:
    pitch = mail(
        "Priya, scale your team fast?",
        "Hello Priya,\n\nSaw Lumenhive is hiring. Senior Go developers from Poland in 2 weeks, "
        "40% below Amsterdam cost.\n\nCan I send 3 CVs matching your stack?\n",
        sender="oleksandr@devsquad.example",
    )
    assert triage(pitch).decision == "ignore"
    # Walks around the check: a candidate's own CV is an application, not an agency's offer.
    own = dataclasses.replace(
        pitch,
        subject="Backend role",
        body="Hello Priya, I applied for the backend role. Can I send my CV directly?\n",
    )
    assert triage(own).decision == "respond"
    quote = "Hierbij de offerte. Offerte is 30 dagen geldig. Laat maar weten als je vragen hebt."
    assert "request" in _flags(quote)
    waiting = mail(
        "U heeft een nieuw bericht in uw Berichtenbox",
        "U heeft een nieuw bericht ontvangen in uw Berichtenbox van de Belastingdienst. Wij "
        "sturen nooit links naar inlogpagina's.\n",
        sender="noreply@overheid.example",
        headers={**ROBOT, "Precedence": "bulk"},
    )
    assert triage(waiting).decision == "notify"


def test_a_quote_in_her_own_thread_waits_on_her_a_quote_out_of_nowhere_does_not() -> None:
    profile = MailboxProfile(
        owner_addresses=("priya@lumenhive.com",), sent_ids=frozenset({"q1@lumenhive.com"})
    )
    quote = mail(
        "RE: Pentest - offerte",
        "Hoi Priya,\n\nZoals besproken in de bijlage onze offerte voor de pentest. 12 dagen, EUR "
        "15.840 excl. btw.\n\nGroet,\nJan\n",
        sender="jan@vendor.example",
    )
    asked = dataclasses.replace(quote, in_reply_to="q1@lumenhive.com")
    assert triage(asked, profile).decision == "respond"
    # Walks around the check: the same quote answering nothing of hers is no ask.
    assert triage(quote, profile).decision != "respond"


def test_an_applicant_via_the_careers_page_is_answered_an_agencys_cv_is_cold() -> None:
    applicant = mail(
        "Backend engineer role",
        "Hi Priya,\n\nI applied via the careers page for the Backend Engineer role two weeks ago "
        "but haven't heard back, so I hope it's ok to write directly. CV attached.\n\nKofi\n",
        sender="kofi.mensah@gmail.example",
    )
    agency = dataclasses.replace(
        applicant,
        body="Hi Priya,\n\nWe represent several senior Go engineers. CV attached of our best "
        "candidate. Worth a quick call this week?\n",
    )
    assert triage(applicant).decision == "respond"
    assert triage(agency).decision == "ignore"


def test_a_new_time_proposed_is_answered_a_bare_accept_is_not() -> None:
    counter = mail(
        "New Time Proposed: Nordkap / Lumenhive - export fix",
        "Henrik Dahl has proposed a new time for this meeting:\nWhen: Thursday 26 November "
        "15:00-16:00\nCurrent: Thursday 26 November 14:00-15:00\n",
        sender="henrik@nordkap.example",
    )
    accepted = dataclasses.replace(counter, subject="Accepted: Nordkap / Lumenhive", body="")
    assert triage(counter).decision == "respond"
    assert triage(accepted).decision != "respond"


def test_a_networks_relayed_pitch_is_skipped_a_relayed_question_is_not() -> None:
    relay = {"List-Unsubscribe": "<https://network.example/u>", **ROBOT}
    pitch = mail(
        'Brandon sent you a message: "Reducing escalations"',
        "Brandon Hale\nSenior AE at Escalyze\n\nHi Priya - teams like yours use Escalyze to "
        "predict escalations. Would you be open to a 20-min demo?\n\nView message: "
        "https://network.example/messaging/1\n",
        sender="messages-noreply@network.example",
        headers=relay,
    )
    question = dataclasses.replace(
        pitch,
        subject='Sofie sent you a message: "school question"',
        body="Sofie Lindqvist\n\nHi Priya - Ana asks which school you chose for Arjun. Could you "
        "send me its name?\n\nView message: https://network.example/messaging/2\n",
    )
    assert triage(pitch).decision == "ignore"
    assert triage(question).decision != "ignore"
