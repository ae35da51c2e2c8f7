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
