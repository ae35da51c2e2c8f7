"""A stranger applying for a job is answered; a pitch sent as an invitation and a lapsing
renewal are read for what they are."""

from __future__ import annotations

from tests.unit.triage.owner_mail import ROBOT, mail, triage

APPLICATION = (
    "Hello Priya,\n\nI came across your talk at the Gophers meetup. I'm a backend engineer in "
    "Lisbon (five years of Go and Kafka) and I am applying for the Senior Backend Engineer "
    "role on your team. My CV is attached. Would you be open to a quick call of 10 minutes "
    "about what you look for?\n\nRui"
)


def test_a_strangers_job_application_asks_for_an_answer() -> None:
    row = triage(
        mail("Application: Senior Backend Engineer", APPLICATION, sender="rui@mail.example")
    )
    assert row.decision == "respond"
    assert row.category != "spam_or_cold"


def test_an_agency_offering_its_candidates_cvs_is_still_a_pitch() -> None:
    # Walks around the check: an agency names CVs and "apply" too, but it sells its people.
    row = triage(
        mail(
            "Senior Go developers available now",
            "Hi Priya,\n\nWe help companies like yours scale their teams: our agency has three "
            "senior Go developers available immediately, EUR 90 per hour. I am applying for a "
            "slot in your calendar: can I send you their CVs? Book a call: "
            "https://cal.example/mark\n\nMark, account manager",
            sender="mark@devs-for-hire.example",
        )
    )
    assert row.decision == "ignore"
    assert row.category == "spam_or_cold"


INVITE = (
    "Invitation from an unknown sender\n\nQuick intro: Quorra x Lumenhive\n"
    "When: Tue 24 Nov 2026 15:00 - 15:20 (CET)\n"
    "Hi Priya, I put 20 minutes in your calendar to show how our platform helps teams like yours "
    "cut cloud costs by 30%. If the time doesn't work, pick another one here: "
    "https://cal.example/quorra\n"
)


def test_a_pitch_sent_as_a_calendar_invitation_is_cold() -> None:
    row = triage(
        mail("Invitation: Quick intro: Quorra x Lumenhive", INVITE, sender="sam@quorra.example")
    )
    assert row.decision == "ignore"


def test_a_strangers_plain_invitation_is_still_an_invitation() -> None:
    # Walks around the check: an invitation from someone new that sells nothing is answered.
    row = triage(
        mail(
            "Invitation: Pentest scoping call",
            "Pentest scoping call\nWhen: Wed 25 Nov 2026 10:00 - 10:45 (CET)\n"
            "Agenda: scope, test accounts, dates. Jan will join from our side.",
            sender="planning@pentest-partner.example",
        )
    )
    assert row.decision == "respond"


def test_a_renewal_that_could_not_be_paid_asks_the_reader_to_act() -> None:
    for subject, body in (
        (
            "Your domain renewal failed",
            "The automatic renewal of example-family.org failed: the card on file has expired. "
            "Add a valid payment method before 4 December or the domain will lapse.",
        ),
        (
            "Actie vereist: verlenging van uw domeinnaam",
            "De automatische verlenging van uw domeinnaam is niet gelukt: uw creditcard is "
            "verlopen. Voeg een geldige betaalmethode toe.",
        ),
    ):
        row = triage(mail(subject, body, sender="billing@registrar.example", headers=ROBOT))
        assert row.decision == "respond", subject
