"""A cold pitch from a badly configured bulk sender is cold outreach, not phishing."""

from __future__ import annotations

from graph.engines.triage.verdict import RuleTriage
from tests.unit.triage.owner_mail import mail, triage

PITCH = (
    "Hi,\n\nWould you be interested in acquiring the Logistics Summit 2027 Attendees List? "
    "Total counts: 8,942 contacts with name, title, email and phone.\n\nLet me know if you're "
    "interested and I will get back to you with the pricing.\n\nRegards,\nSophia\n\n"
    'If you don\'t wish to receive further emails, please reply with "Leave Out".\n'
)


def pitch(spf: str, body: str = PITCH) -> RuleTriage:
    return triage(
        mail(
            "Logistics Summit 2027 attendees",
            body,
            sender="sophia@eventdata.example",
            headers={
                "Authentication-Results": f"mx.example; dkim=none; spf={spf} "
                "smtp.mailfrom=eventdata.example; dmarc=none header.from=eventdata.example"
            },
        )
    )


def test_a_list_sellers_pitch_with_a_soft_spf_failure_is_cold() -> None:
    row = pitch("softfail")
    assert row.suspicious == ""
    assert row.category == "spam_or_cold"
    assert row.decision == "ignore"


def test_a_hard_spf_failure_stays_suspicious() -> None:
    # Walks around the exception: the same pitch from a server its domain forbids.
    row = pitch("fail")
    assert row.suspicious
    assert row.decision == "ignore"


def test_a_pitch_that_asks_for_a_login_stays_suspicious() -> None:
    # Walks around the exception: a pitch dressed up to harvest a password.
    body = PITCH + "\nTo see a sample, verify your account and confirm your password here.\n"
    row = pitch("softfail", body)
    assert row.suspicious


def test_a_signed_services_storage_warning_is_a_notice_not_spam() -> None:
    row = triage(
        mail(
            "Your storage is almost full",
            "Your storage is almost full.\n\nYou have used 4.8 GB of your 5 GB. When your storage "
            "is full, your photos won't be uploaded and files won't sync across devices.\n\n"
            "Upgrade your storage: https://cloud.example/settings/storage\n",
            sender="noreply@email.cloud.example",
            headers={
                "Authentication-Results": "mx.example; dkim=pass header.i=@email.cloud.example; "
                "spf=pass smtp.mailfrom=cloud.example; dmarc=pass header.from=email.cloud.example",
            },
        )
    )
    assert row.suspicious == ""
    assert row.category == "notification"


def test_a_pitch_with_a_programs_header_is_still_a_pitch() -> None:
    # Walks around the check: a cold-email tool stamping its pitches "auto-generated".
    row = triage(
        mail(
            "Quick question",
            "Hi Priya,\n\nWe help logistics teams cut cloud costs by 40%. Are you the right person "
            "to talk to about this? Worth a 15-minute chat next week?\n",
            sender="alex@growthly.example",
            headers={"Auto-Submitted": "auto-generated"},
        )
    )
    assert row.category == "spam_or_cold"
    assert row.decision == "ignore"
