"""A video meeting sent from a person's calendar, and a colleague's asks put as statements."""

from __future__ import annotations

from graph.engines.triage.profile import MailboxProfile
from tests.unit.triage.owner_mail import OWNER, mail, triage

VENDOR = "jan@securify.example"
PROFILE = MailboxProfile(
    owner_addresses=(OWNER,),
    known_people=frozenset({VENDOR}),
    known_domains=frozenset({"securify.example"}),
    written_domains=frozenset({"securify.example"}),
)
TEAMS_BLOCK = (
    "________________________________________________________________________________\n"
    "Microsoft Teams-vergadering\nDeelnemen op uw computer, mobiele app of ruimteapparaat\n"
    "Klik hier om deel te nemen aan de vergadering<https://teams.example/l/meetup-join/19>\n"
    "Vergadering-id: 374 118 902 551\nWachtwoordcode: q7Bh4M\n"
)


def test_a_vendors_teams_meeting_is_an_invitation_to_answer() -> None:
    row = triage(
        mail(
            "Scoping pentest warehouse-api",
            "Hoi Priya,\n\nZoals besproken een korte scopingsessie. Sander sluit aan.\n\n"
            "Groet,\nJan\n\n" + TEAMS_BLOCK,
            sender=VENDOR,
        ),
        PROFILE,
    )
    assert row.decision == "respond"
    assert row.category == "meeting_request"


def test_a_webinar_mailing_with_a_zoom_block_is_not_an_invitation() -> None:
    # Walks around the check: the same block in a mass mailing's webinar announcement.
    row = triage(
        mail(
            "Live webinar: scaling Postgres",
            "Join us on Thursday for a live session with our CTO.\n\nJoin Zoom Meeting\n"
            "https://zoom.example/j/123\nMeeting ID: 812 3344 5566\n\nUnsubscribe: "
            "https://vendor.example/u\n",
            sender="events@vendor.example",
            headers={
                "List-Unsubscribe": "<https://vendor.example/u>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Precedence": "bulk",
            },
        ),
        PROFILE,
    )
    assert row.decision == "ignore"


def test_a_strangers_pitch_with_a_zoom_block_is_cold() -> None:
    # Walks around the check: a pitch sent as a meeting to join is pushed, like a fake "Re:".
    row = triage(
        mail(
            "15 minutes on Thursday?",
            "Hi Priya,\n\nWe help logistics teams cut cloud costs. I put 15 minutes in for us.\n\n"
            "Join Zoom Meeting\nhttps://zoom.example/j/99\nMeeting ID: 991 2345 6789\n",
            sender="alex@growthly.example",
        ),
        PROFILE,
    )
    assert row.decision == "ignore"
    assert row.category == "spam_or_cold"


def test_a_colleagues_request_for_numbers_in_dutch_is_an_ask() -> None:
    row = triage(
        mail(
            "Sinterklaasborrel 4 december",
            "Hoi Priya,\n\nIk heb van elk team twee dingen nodig: met hoeveel mensen jullie "
            "komen, en of jullie een gedicht voordragen.\n\nGraag vóór woensdag 25 november.\n",
            sender="femke@lumenhive.com",
        ),
        MailboxProfile(owner_addresses=(OWNER,)),
    )
    assert row.decision == "respond"


def test_a_managers_terse_deliverable_with_a_deadline_is_an_ask() -> None:
    row = triage(
        mail(
            "Nordkap RCA",
            "Priya - one consolidated RCA by Wed EOD. Exec review moved to Thu 9:00. One page, "
            "customer-safe.\n\nD\n",
            sender="daniel@lumenhive.com",
        ),
        MailboxProfile(owner_addresses=(OWNER,)),
    )
    assert row.decision == "respond"


def test_a_colleagues_fyi_with_a_date_asks_nothing() -> None:
    # Walks around the check: a colleague's note with a deadline that is not the owner's.
    row = triage(
        mail(
            "FYI: release window",
            "FYI, the 2.19 release goes out by Friday; nothing needed from your team.\n",
            sender="jonas@lumenhive.com",
        ),
        MailboxProfile(owner_addresses=(OWNER,)),
    )
    assert row.decision == "notify"


def test_an_invitation_subject_without_a_time_is_a_persons_invitation() -> None:
    # "Einladung: Podcast ..." is an invitation to a podcast, not a calendar event pushed on her.
    row = triage(
        mail(
            'Einladung: Podcast "Lieferkette" - Folge über Echtzeit-Lagerdaten?',
            "Hallo Priya,\n\nLena Fischer hat mir von deinem Vortrag erzählt. Ich mache den "
            "Podcast seit 2022 und fände eine Folge mit dir spannend. Hättest du grundsätzlich "
            "Lust?\n\nStefan\n",
            sender="stefan@podcast.example",
        ),
        MailboxProfile(owner_addresses=(OWNER,)),
    )
    assert row.decision == "respond"


def test_a_calendar_invitation_names_its_time() -> None:
    row = triage(
        mail(
            "Invitation: Q1 planning offsite @ Thu 26 Nov 2026 13:00 - 15:00 (CET)",
            "Daniel Okafor has invited you to Q1 planning offsite.\n",
            sender="daniel@lumenhive.com",
        ),
        MailboxProfile(owner_addresses=(OWNER,)),
    )
    assert row.decision == "respond"
    assert row.category == "meeting_request"


def test_someone_late_telling_the_team_to_start_is_shown_not_answered() -> None:
    row = triage(
        mail(
            "10 min late",
            "train stuck before duivendrecht, start standup without me pls\n",
            sender="sunhee@lumenhive.com",
        ),
        MailboxProfile(owner_addresses=(OWNER,)),
    )
    assert row.decision == "notify"


def test_starting_without_them_does_not_hide_a_real_question() -> None:
    # Walks around the check: the same words beside a question for the owner.
    row = triage(
        mail(
            "late for standup",
            "train stuck, start standup without me. Can you send me the Nordkap numbers before "
            "the 11:00 call?\n",
            sender="sunhee@lumenhive.com",
        ),
        MailboxProfile(owner_addresses=(OWNER,)),
    )
    assert row.decision == "respond"


def test_an_office_managers_ask_of_every_lead_is_an_ask() -> None:
    row = triage(
        mail(
            "Sinterklaas borrel 4 dec - dieetwensen per team",
            "Hi all,\n\nThe caterer needs numbers per team by Wednesday 12:00. Could each lead "
            "reply with the number of people coming and any dietary requirements.\n\nFemke\n",
            sender="office@lumenhive.com",
            to="leads@lumenhive.com",
        ),
        MailboxProfile(owner_addresses=(OWNER,)),
    )
    assert row.decision == "respond"


def test_a_careers_forms_message_from_an_applicant_is_answered() -> None:
    row = triage(
        mail(
            "[Careers] New message via 'Contact the hiring manager' - Senior Backend Engineer",
            "A visitor submitted the contact form on lumenhive.com/careers.\n\nName: Oksana\n\n"
            "Message:\nDear Priya, I applied for the senior backend role two weeks ago. Is it "
            "still open?\n\nThank you,\nOksana\n",
            sender="no-reply@forms.example",
            headers={"Auto-Submitted": "auto-generated"},
        ),
        MailboxProfile(owner_addresses=(OWNER,)),
    )
    assert row.decision == "respond"


def test_a_forms_receipt_of_the_owners_own_submission_asks_nothing() -> None:
    # Walks around the check: a form's confirmation that the owner's message arrived.
    row = triage(
        mail(
            "We received your message",
            "Thanks! You submitted the contact form on our site. We will get back to you "
            "within two working days.\n",
            sender="no-reply@shop.example",
            headers={"Auto-Submitted": "auto-generated"},
        ),
        MailboxProfile(owner_addresses=(OWNER,)),
    )
    assert row.decision != "respond"
