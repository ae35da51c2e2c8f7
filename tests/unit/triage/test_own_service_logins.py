"""A service's own password reset, from a domain the mailbox knows, is not phishing."""

from __future__ import annotations

from collections import Counter

from graph.engines.triage.profile import MailboxProfile
from graph.engines.triage.verdict import RuleTriage
from tests.unit.triage.owner_mail import OWNER, mail, triage

SIGNED = (
    "mx.example; spf=pass smtp.mailfrom={d}; dkim=pass header.d={d}; dmarc=pass header.from={d}"
)


def reset(domain: str, link_host: str, history: dict[str, int]) -> RuleTriage:
    profile = MailboxProfile(owner_addresses=(OWNER,), history=Counter(history))
    return triage(
        mail(
            "Reset your password",
            "Hi Priya,\n\nSomeone (hopefully you) asked to reset your password. Use the link "
            f"below to choose a new one. It expires in 30 minutes, so act now.\n\n"
            f"https://{link_host}/users/password/edit?token=Xq2v9hKp3Lr\n",
            sender=f"no-reply@{domain}",
            headers={"Authentication-Results": SIGNED.format(d=domain)},
        ),
        profile,
    )


def test_a_reset_from_a_service_the_mailbox_knows_is_not_suspicious() -> None:
    row = reset("reviews.example", "lumenhive.reviews.example", {"no-reply@reviews.example": 3})
    assert row.suspicious == ""


def test_the_same_reset_from_a_new_domain_is_suspicious() -> None:
    # Walks around the check: a fresh domain signs its own mail and links to itself.
    row = reset("reviews-login.example", "reviews-login.example", {})
    assert row.suspicious


def test_a_known_domains_reset_linking_elsewhere_is_suspicious() -> None:
    # Walks around the check: a known, signed sender whose link goes to another domain.
    row = reset("reviews.example", "password-portal.example", {"no-reply@reviews.example": 3})
    assert row.suspicious


def test_a_hosts_message_through_a_booking_site_it_signs_is_answered() -> None:
    profile = MailboxProfile(owner_addresses=(OWNER,), history=Counter({"n@booking.example": 2}))
    row = triage(
        mail(
            "Sophie sent you a message about your booking",
            'Reply to your host\n\nSophie\n"Hello Priya! Could you tell me around what time you '
            'arrive? If you come by car please tell me."\n\n'
            "Reply: https://secure.booking.example/messages/conversation/6612993\n",
            sender="6612993.4417882@guest.booking.example",
            headers={"Authentication-Results": SIGNED.format(d="booking.example")},
        ),
        profile,
    )
    assert row.suspicious == ""
    assert row.decision == "respond"


def test_a_secure_looking_link_on_a_strangers_domain_is_still_suspicious() -> None:
    # Walks around the check: the same message from a domain the mailbox has never seen.
    row = triage(
        mail(
            "Sophie sent you a message about your booking",
            'Reply to your host\n\nSophie\n"Hello Priya! Could you tell me around what time you '
            'arrive? Please confirm your card on the link."\n\n'
            "Reply: https://secure.bookings-guest.example/messages/conversation/6612993\n",
            sender="host@bookings-guest.example",
            headers={"Authentication-Results": SIGNED.format(d="bookings-guest.example")},
        ),
        MailboxProfile(owner_addresses=(OWNER,)),
    )
    assert row.suspicious
