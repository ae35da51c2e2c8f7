"""A partner's proposal is no cold pitch; a declined card is no declined invitation."""

from __future__ import annotations

from dataclasses import replace

from graph.engines.triage.profile import build_profile
from tests.unit.triage.owner_mail import OWNER, ROBOT, mail, triage
from tools.mail.model import SENT

PITCH = (
    "Hi Priya,\n\nWe'd like to run a joint webinar with your team in January: 15 minutes "
    "each and Q&A, we handle registration and promotion. Would you be up for a quick call "
    "to plan it? Book a time here: https://meet.example/mirela\n\nMirela"
)


def _profile_writing_to(address: str) -> object:
    sent = replace(
        mail("Sync notes", "Notes from today attached.", sender=OWNER, to=address), folder=SENT
    )
    return build_profile([sent], configured=[OWNER])


def test_a_partners_colleague_proposing_something_is_not_cold() -> None:
    profile = _profile_writing_to("nadia@stackline.example")
    row = triage(mail("Joint webinar idea", PITCH, sender="mirela@stackline.example"), profile)
    assert row.category != "spam_or_cold"
    assert row.decision == "respond"


def test_the_same_pitch_from_a_stranger_or_free_mail_is_still_cold() -> None:
    # Walks around the check: the owner writes to someone on gmail, which says nothing of the
    # next gmail sender; and a stranger's company is no partner.
    profile = _profile_writing_to("friend@gmail.com")
    for sender in ("growth.team.44@gmail.com", "mirela@webinar-leads.example"):
        row = triage(mail("Joint webinar idea", PITCH, sender=sender), profile)
        assert row.category == "spam_or_cold", sender
        assert row.decision != "respond", sender  # free mail: shown, marked unsure, at most


def test_a_card_payment_declined_is_not_an_answer_to_an_invitation() -> None:
    row = triage(
        mail(
            "Declined: USD 1,254.00 at CodeHost, Inc.",
            "A payment with your company card was declined.\nMerchant: CodeHost, Inc.\n"
            "Reason: above the single-payment limit. Ask an admin to raise the limit.",
            sender="notifications@cards.example",
            headers=ROBOT,
        )
    )
    assert row.decision == "respond"


def test_a_declined_invitation_is_still_noise() -> None:
    row = triage(
        mail(
            "Declined: Architecture review @ Thu 26 Nov 2026 14:00 - 15:00 (CET)",
            "Jonas Weber has declined this invitation.\nArchitecture review\n"
            "When: Thu 26 Nov 2026 14:00 - 15:00 (CET)",
            sender="jonas@lumenhive.com",
            headers=ROBOT,
        )
    )
    assert row.decision == "ignore"
