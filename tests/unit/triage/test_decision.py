"""Respond / notify / ignore, the phishing warning and the mailbox profile, with their traps."""

from __future__ import annotations

import pytest

from graph.engines.triage import triage_by_rules
from graph.engines.triage.phishing import imitated_domain, skeleton
from graph.engines.triage.profile import MailboxProfile, build_profile, infer_owner
from tools.mail.model import SENT, Email

OWNER = "priya@lumenhive.com"


def mail(
    subject: str,
    body: str,
    *,
    sender: str = "someone@example.org",
    name: str = "",
    to: tuple[str, ...] = (OWNER,),
    headers: dict[str, str] | None = None,
    folder: str = "INBOX",
    message_id: str = "",
    in_reply_to: str = "",
) -> Email:
    return Email(
        id=f"m-{abs(hash((subject, sender, body))) % 10**8}",
        source="test",
        folder=folder,
        key=subject,
        from_name=name,
        from_addr=sender,
        to=to,
        subject=subject,
        date="2026-11-20T10:00:00+01:00",
        body=body,
        headers=headers or {},
        message_id=message_id,
        in_reply_to=in_reply_to,
    )


SENT_MAIL = [
    mail(
        "lunch?",
        "Free on Thursday?",
        sender=OWNER,
        to=("karen.holt@brightwater.example",),
        folder=SENT,
        message_id="<s1@lumenhive.com>",
    ),
    mail(
        "intro",
        "Hi Omar, nice to meet you.",
        sender=OWNER,
        to=("omar@gmail.com",),
        folder=SENT,
        message_id="<s2@lumenhive.com>",
    ),
]
COLLEAGUE = mail(
    "hi", "Weekly numbers attached.", sender="daniel@lumenhive.com", name="Daniel Okafor"
)
PROFILE = build_profile([*SENT_MAIL, COLLEAGUE])


def test_the_owner_comes_from_the_sent_folder_else_the_top_recipient() -> None:
    assert infer_owner(SENT_MAIL) == (OWNER,)
    inbox = [mail(f"m{i}", "x") for i in range(4)] + [mail("cc", "x", to=("other@x.org",))]
    assert infer_owner(inbox) == (OWNER,)
    assert infer_owner(inbox, ["Me@Example.org "]) == ("me@example.org",)
    assert infer_owner([]) == ()


def test_known_people_are_who_the_owner_wrote_to_or_who_answered() -> None:
    reply = mail(
        "re: intro", "Thanks!", sender="new@startup.example", in_reply_to="<s2@lumenhive.com>"
    )
    profile = build_profile([*SENT_MAIL, reply])
    assert profile.knows("karen.holt@brightwater.example")
    assert profile.knows("new@startup.example")
    assert not profile.knows("stranger@startup.example")
    assert "brightwater.example" in profile.known_domains
    assert "gmail.com" not in profile.known_domains  # free mail says nothing of its other users
    assert "daniel okafor" in PROFILE.colleague_names


@pytest.mark.parametrize(
    ("subject", "body", "sender", "want"),
    [
        (
            "quick question about the API docs",
            "Hey, is the /v2 export paginated?",
            "mateo@lumenhive.com",
            "respond",
        ),
        ("numbers", "FYI the weekly numbers are in the sheet.", "daniel@lumenhive.com", "notify"),
        (
            "Interested in speaking?",
            "We are putting together DevDays Lisbon; would you be "
            "interested in giving a talk on data pipelines?",
            "events@devdays.example",
            "respond",
        ),
    ],
)
def test_a_person_who_asks_gets_respond(subject: str, body: str, sender: str, want: str) -> None:
    assert triage_by_rules(mail(subject, body, sender=sender), profile=PROFILE).decision == want


def test_a_colleague_asking_is_never_cold_even_without_configuration() -> None:
    colleague = mail(
        "quick question",
        "Do you have 15 minutes to walk me through the API docs?",
        sender="lena@lumenhive.com",
    )
    learned = build_profile([*SENT_MAIL, colleague])
    row = triage_by_rules(colleague, profile=learned)
    assert row.category != "spam_or_cold"
    assert row.decision == "respond"


def test_mass_mail_is_ignored_and_alerts_notify() -> None:
    newsletter = mail(
        "This week in data",
        "Ten links about Postgres.\nUnsubscribe here.",
        sender="news@weekly.example",
        headers={"List-Unsubscribe": "<https://weekly.example/u>"},
    )
    alert = mail(
        "[Datadog] CPU above 95% on api-3",
        "Alert triggered: CPU usage high.",
        sender="alerts@datadoghq.com",
        headers={"Auto-Submitted": "auto-generated"},
    )
    assert triage_by_rules(newsletter, profile=PROFILE).decision == "ignore"
    assert triage_by_rules(alert, profile=PROFILE).decision == "notify"


def test_an_automated_request_to_act_is_respond() -> None:
    reminder = mail(
        "Reminder: submit your expense report",
        "You have 3 outstanding expenses "
        "from November. Please submit your expense report by Friday.",
        sender="no-reply@expensify.com",
        headers={"Auto-Submitted": "auto-generated"},
    )
    assert triage_by_rules(reminder, profile=PROFILE).decision == "respond"


def test_out_of_office_and_bounces() -> None:
    ooo = mail(
        "Automatic reply: roadmap",
        "I am out of the office until Monday.",
        sender="aisha@lumenhive.com",
        headers={"Auto-Submitted": "auto-replied"},
    )
    bounce = mail(
        "Undeliverable: lunch?",
        "Your message could not be delivered.",
        sender="MAILER-DAEMON@mx.example.org",
    )
    assert triage_by_rules(ooo, profile=PROFILE).decision == "ignore"
    # The owner's mail did not arrive: worth seeing, never skipped (see test_asks_and_mailings.py).
    assert triage_by_rules(bounce, profile=PROFILE).decision == "notify"


def test_a_known_person_is_never_cold() -> None:
    pitchy = mail(
        "quick call?",
        "I came across a tool that helps companies like yours. Book a call with me? 15 minutes.",
        sender="karen.holt@brightwater.example",
    )
    stranger = mail(
        "quick call?",
        "I came across a tool that helps companies like yours. Book a call with me? 15 minutes.",
        sender="sdr@growthly.example",
    )
    assert triage_by_rules(pitchy, profile=PROFILE).decision != "ignore"
    assert triage_by_rules(stranger, profile=PROFILE).category == "spam_or_cold"


def test_one_pitch_to_the_owner_alone_is_cold_and_a_friends_invitation_is_not() -> None:
    seo = mail(
        "Your site's rankings",
        "Hi Priya, we help SaaS companies double organic traffic with white-hat backlinks. "
        "Can I send over a short audit?",
        sender="mark.seo.expert@gmail.com",
    )
    referral = mail(
        "security questionnaires",
        "Hi Priya, who handles security questionnaires at your company? If that's not you, "
        "would you mind pointing me to the right person?",
        sender="ben@trustgate.example",
    )
    friend = mail(
        "long time!",
        "We finally moved to Lisbon and we'd love to have you visit in May. Are you free?",
        sender="ines.costa@gmail.com",
    )
    newsletter = mail(
        "Department news, March",
        "Cleanroom training is mandatory for new lab users: booking link on the intranet.",
        sender="news@physics.example.edu",
        headers={"List-Unsubscribe": "<mailto:leave@physics.example.edu>"},
    )
    for pitch in (seo, referral):
        row = triage_by_rules(pitch, profile=PROFILE)
        assert (row.category, row.decision) == ("spam_or_cold", "ignore"), pitch.subject
    assert triage_by_rules(friend, profile=PROFILE).decision != "ignore"
    assert triage_by_rules(newsletter, profile=PROFILE).category != "spam_or_cold"


def test_a_bump_is_cold_unless_it_answers_the_owners_own_mail() -> None:
    text = "I haven't heard back, so just following up: worth a look?"
    own_sequence = mail(
        "Re: engineering metrics",
        text,
        sender="jake@devmetrics.example",
        in_reply_to="<seq-3.jake@devmetrics.example>",
    )
    answering = mail(
        "Re: lunch?",
        "Just following up on my last note: is Thursday still good?",
        sender="sam@newcontact.example",
        in_reply_to="<s1@lumenhive.com>",
    )
    assert triage_by_rules(own_sequence, profile=PROFILE).decision == "ignore"
    row = triage_by_rules(answering, profile=PROFILE)
    assert row.category != "spam_or_cold" and row.decision != "ignore"


@pytest.mark.parametrize(
    ("sender", "free"),
    [
        ("aws-billing@email.amazon.com", False),
        ("noreply@email.apple.com", False),
        ("news@mail.example-shop.com", False),
        ("someone@gmail.com", True),
        ("someone@yahoo.co.uk", True),
        ("someone@mail.com", True),
    ],
)
def test_free_mail_is_the_providers_own_domain_not_a_subdomain_word(
    sender: str, free: bool
) -> None:
    from graph.engines.triage import scorer
    from graph.engines.triage.rulebook import default_rules

    seen = scorer._read(mail("hello", "hello", sender=sender), default_rules())
    scorer._weigh_sender(sender, default_rules(), seen)
    assert ("freemail" in seen.flags) is free


@pytest.mark.parametrize(
    ("fake", "real"),
    [
        ("lumenhlve.com", "lumenhive.com"),
        ("lumenhive-hr.com", "lumenhive.com"),
        ("lumenhive.co", "lumenhive.com"),
        ("lumеnhive.com", "lumenhive.com"),  # Cyrillic е
        ("brightwaterr.example", "brightwater.example"),
        ("rnicrosoft.com", "microsoft.com"),
    ],
)
def test_look_alike_domains_are_caught(fake: str, real: str) -> None:
    assert imitated_domain(fake, [real], frozenset({"lumenhive.com"})) == real


@pytest.mark.parametrize(
    ("domain", "genuine"),
    [
        ("github.com", "gitlab.com"),
        ("stripe.com", "stripe.com"),
        ("brightwater.de", "brightwater.example"),  # another ending of a contact's company
        ("abc.io", "abd.io"),  # too short to tell
        ("lumen.io", "lumenhive.com"),
    ],
)
def test_unrelated_or_same_domains_are_not_look_alikes(domain: str, genuine: str) -> None:
    assert imitated_domain(domain, [genuine], frozenset({"lumenhive.com"})) == ""


def test_skeleton_folds_the_usual_tricks() -> None:
    assert skeleton("rnicros0ft") == skeleton("microsoft")
    assert skeleton("paypa1") == skeleton("paypal")


@pytest.mark.parametrize(
    ("subject", "body", "sender", "name", "headers", "why"),
    [
        (
            "Invoice",
            "Please see the attached invoice.",
            "billing@lumenhlve.com",
            "",
            {},
            "imitates lumenhive.com",
        ),
        (
            "quick favour",
            "Are you at your desk? I need you to buy gift cards for a client.",
            "daniel.okafor.ceo@gmail.com",
            "Daniel Okafor",
            {},
            "colleague's name",
        ),
        (
            "Payment",
            "Our bank details have changed, please pay the invoice to the new IBAN.",
            "accounts@supplier.example",
            "",
            {},
            "bank details",
        ),
        (
            "Your parcel",
            "Pay the customs fee here.",
            "info@dhl-parcel.example",
            "DHL",
            {
                "Authentication-Results": "mx.lumenhive.com; spf=fail smtp.mailfrom=dhl-parcel.example;"
                " dkim=none; dmarc=fail header.from=dhl-parcel.example"
            },
            "",
        ),
        (
            "Mailbox full",
            "Your mailbox will be suspended within 24 hours. Verify your password "
            "here: https://mail-verify.example/login",
            "admin@mailhost.example",
            "",
            {},
            "login",
        ),
    ],
)
def test_phishing_is_suspicious_and_gets_nothing_done(
    subject: str, body: str, sender: str, name: str, headers: dict[str, str], why: str
) -> None:
    row = triage_by_rules(
        mail(subject, body, sender=sender, name=name, headers=headers), profile=PROFILE
    )
    assert row.suspicious
    assert why in row.suspicious
    assert row.decision == "ignore"
    assert row.action in ("archive", "none")


def test_the_words_of_phishing_from_a_known_sender_over_signed_mail_are_not_suspicious() -> None:
    # The adversary's mirror: the same words are real when a known customer writes them.
    row = triage_by_rules(
        mail(
            "New bank details",
            "Our bank details have changed from 1 December; please call "
            "me to verify before paying.",
            sender="karen.holt@brightwater.example",
            headers={"Authentication-Results": "mx; spf=pass; dkim=pass; dmarc=pass"},
        ),
        profile=PROFILE,
    )
    assert not row.suspicious
    assert row.decision != "ignore"


def test_unsure_rows_are_never_archived() -> None:
    rows = [
        triage_by_rules(mail(f"note {i}", text, sender=f"x{i}@list.example"), profile=PROFILE)
        for i, text in enumerate(["ok", "see below", "hm", "thanks all", "weekly update"])
    ]
    assert all(not (r.unsure and r.action == "archive") for r in rows)


def test_a_bare_profile_still_decides() -> None:
    row = triage_by_rules(mail("hello", "Can you call me?"), profile=MailboxProfile())
    assert row.decision == "respond"


def test_a_forged_in_reply_to_on_the_owners_domain_does_not_vouch_for_a_stranger() -> None:
    # A reply to the owner's company's Message-ID reads as a conversation (a list answering
    # the owner's question) but never makes the sender known: a phisher can write that header.
    forged = mail(
        "Re: invoice",
        "Our bank details have changed, please pay the invoice to the new IBAN.",
        sender="accounts@supplier.example",
        in_reply_to="<abc@lumenhive.com>",
    )
    row = triage_by_rules(forged, profile=PROFILE)
    assert "bank details" in row.suspicious
    assert row.decision == "ignore"
    answer = mail(
        "Re: vacuum question",
        "Try raising maintenance_work_mem; does that help?",
        sender="someone@postgres.example",
        headers={"List-Id": "<pgsql-general.lists.postgresql.org>"},
        in_reply_to="<q-1@lumenhive.com>",
    )
    assert triage_by_rules(answer, profile=PROFILE).decision == "respond"


def test_an_out_of_office_with_a_stand_in_is_worth_seeing() -> None:
    headers = {"Auto-Submitted": "auto-replied"}
    plain = mail(
        "Automatic reply: agenda",
        "I am out of the office until Monday and will answer when I am back.",
        sender="julien@partner.example",
        headers=headers,
    )
    stand_in = mail(
        "Automatic reply: agenda",
        "I am away until Friday. For anything urgent please contact Camille "
        "(camille.roux@partner.example).",
        sender="julien@partner.example",
        headers=headers,
    )
    signed = mail(
        "Automatic reply: agenda",
        "I am away until Friday.\n\nJulien Moreau | julien@partner.example",
        sender="julien@partner.example",
        headers=headers,
    )
    assert triage_by_rules(plain, profile=PROFILE).decision == "ignore"
    assert triage_by_rules(stand_in, profile=PROFILE).decision == "notify"
    assert triage_by_rules(signed, profile=PROFILE).decision == "ignore", "their own address"


def test_the_newsletter_of_an_organisation_the_owner_writes_to_is_worth_seeing() -> None:
    def newsletter(sender: str) -> Email:
        return mail(
            "November newsletter",
            "News from the month: the new timetable, the winter fair and the library hours.",
            sender=sender,
            headers={"List-Unsubscribe": "<mailto:leave@list.example>", "Precedence": "bulk"},
        )

    profile = build_profile(
        [
            *SENT_MAIL,
            mail("hi", "See you", sender=OWNER, to=("juf.anna@school.example",), folder=SENT),
        ]
    )
    assert triage_by_rules(newsletter("news@school.example"), profile=profile).decision == "notify"
    assert triage_by_rules(newsletter("news@shop.example"), profile=profile).decision == "ignore"


def test_an_unsigned_pitchs_booking_link_is_cold_but_a_login_is_still_phishing() -> None:
    unsigned = {"Authentication-Results": "mx.lumenhive.com; spf=none; dkim=none"}
    pitch = mail(
        "speaking slot",
        "We help SaaS founders get on stage. Pick a time here: https://book.stagepro.example/priya",
        sender="events@stagepro.example",
        headers=unsigned,
    )
    login = mail(
        "speaking slot",
        "We help SaaS founders get on stage. Confirm your account password to hold your slot: "
        "https://book.stagepro.example/login",
        sender="events@stagepro.example",
        headers=unsigned,
    )
    cold = triage_by_rules(pitch, profile=PROFILE)
    assert (cold.category, cold.decision, cold.suspicious) == ("spam_or_cold", "ignore", "")
    assert triage_by_rules(login, profile=PROFILE).suspicious
