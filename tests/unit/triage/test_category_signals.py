"""The general signals behind a message's category, each with the mail that walks around it."""

from __future__ import annotations

from tests.unit.triage.owner_mail import mail, triage

# A calendar's invitation, update or cancellation is about a meeting, whatever its words say.

PARTY = (
    "Family day at the office: bring the kids, there is cake, a magician and a birthday\n"
    "song for the company's tenth year. Partners welcome too!\n"
    "Going? Yes - Maybe - No\n"
    "Invitation from a calendar. You are receiving this because you are an attendee.\n"
)


def test_a_calendar_invitation_to_a_party_is_a_meeting() -> None:
    invite = mail(
        "Invitation: Family day 2026 @ Fri 11 Dec 2026 17:00 - 21:00 (CET)",
        PARTY,
        sender="noor@lumenhive.com",
    )
    row = triage(invite)
    assert (row.category, row.decision) == ("meeting_request", "respond")


def test_a_cancelled_meeting_is_a_meeting_with_nothing_to_schedule() -> None:
    cancelled = mail(
        "Cancelled event: Design crit @ Tue 1 Dec 2026 14:00 - 15:00 (CET)",
        "This event has been cancelled and removed from your calendar.\n"
        "Invitation from a calendar. You are receiving this because you are an attendee.\n",
        sender="ilse@lumenhive.com",
    )
    row = triage(cancelled)
    assert (row.category, row.action, row.decision) == ("meeting_request", "none", "notify")


def test_a_mailing_that_calls_itself_an_invitation_is_no_meeting() -> None:
    webinar = mail(
        "Invitation: scaling Kafka consumers, a live webinar",
        "Join our engineers live on 9 December. Save your seat: https://ev.example.com/k\n"
        "Unsubscribe from event mail.\n",
        sender="events@streamvendor.example",
        headers={"List-Unsubscribe": "<https://ev.example.com/u/1>"},
    )
    assert triage(webinar).category != "meeting_request"


def test_an_answer_to_an_invitation_is_not_made_a_meeting() -> None:
    accepted = mail(
        "Accepted: Design crit @ Tue 1 Dec 2026 14:00 - 15:00 (CET)",
        "Ilse de Wit has accepted this invitation.\nInvitation from a calendar\n",
        sender="ilse@lumenhive.com",
    )
    row = triage(accepted)
    assert row.category != "meeting_request" and row.decision == "ignore"


# An unsubscribe link says how a message was sent, not what it is about.

LISTED = {"List-Unsubscribe": "<https://app.example/u/1>", "Precedence": "bulk"}


def test_a_programs_notice_with_an_unsubscribe_link_is_a_notification() -> None:
    notice = mail(
        "You appeared in 14 searches",
        "People at 3 companies looked at your profile.\nManage your email preferences.\n",
        sender="notifications-noreply@network.example",
        headers=LISTED,
    )
    assert triage(notice).category == "notification"


def test_a_programs_promotion_or_a_writers_newsletter_stays_a_newsletter() -> None:
    sale = mail(
        "Black Friday: 40% off every plan",
        "Last chance: upgrade this weekend. Unsubscribe.\n",
        sender="no-reply@app.example",
        headers=LISTED,
    )
    essay = mail(
        "Issue #31: why on-call rotations fail",
        "This week I wrote about on-call rotations. Unsubscribe.\n",
        sender="kate@kateswriting.example",
        headers=LISTED,
    )
    assert triage(sale).category == "newsletter"
    assert triage(essay).category == "newsletter"
