"""A mailing sent through a platform for an organisation the owner writes to is its news."""

from __future__ import annotations

from graph.engines.triage.profile import MailboxProfile
from graph.engines.triage.verdict import RuleTriage
from tests.unit.triage.owner_mail import OWNER, PRIVATE, ROBOT, mail, triage

SCHOOL = "regenboog-amsterdam.example"
PROFILE = MailboxProfile(
    owner_addresses=(OWNER, PRIVATE),
    known_people=frozenset({f"m.visser@{SCHOOL}", "lena@lumenhive.com"}),
    written_domains=frozenset({SCHOOL, "lumenhive.com"}),
)
"""The owner has written to her child's teacher and to a colleague."""


def newsletter(list_id: str, sender: str = "noreply@schoolplatform.example") -> RuleTriage:
    return triage(
        mail(
            "Nieuwsbrief november - Sinterklaas, studiedag en luizencontrole",
            "Beste ouders,\n\nOp 4 december vieren we Sinterklaas. Vrijdag 11 december is er "
            "een studiedag: de kinderen zijn dan vrij.\n\nAfmelden: https://schoolplatform.example\n",
            sender=sender,
            to=PRIVATE,
            headers={
                **ROBOT,
                "List-Id": list_id,
                "List-Unsubscribe": "<https://schoolplatform.example/settings>",
                "Precedence": "bulk",
            },
        ),
        PROFILE,
    )


def test_a_schools_newsletter_through_a_platform_is_shown() -> None:
    row = newsletter("<nieuwsbrief.regenboog-amsterdam.schoolplatform.example>")
    assert row.decision == "notify"


def test_the_same_mailing_for_an_unknown_school_is_skipped() -> None:
    row = newsletter("<nieuwsbrief.zonnebloem-utrecht.schoolplatform.example>")
    assert row.decision == "ignore"


def test_a_name_inside_a_longer_label_does_not_count() -> None:
    # Walks around the check: the known name only as part of a longer label.
    row = newsletter("<nieuwsbrief.not-regenboog-amsterdam-news.schoolplatform.example>")
    assert row.decision == "ignore"


def test_the_owners_own_company_in_a_list_id_is_not_news() -> None:
    # A notifications list of her own company's repositories names `lumenhive`: that says
    # nothing about whether the mail is worth seeing.
    github = "lumenhive/warehouse-api <warehouse-api.lumenhive.github.example>"
    assert not PROFILE.lists_for_a_known_org(github)
    assert PROFILE.lists_for_a_known_org("<nieuwsbrief.regenboog-amsterdam.schoolplatform.example>")


def test_a_known_name_in_the_list_id_does_not_quiet_a_phishing_check() -> None:
    row = triage(
        mail(
            "Betaal de ouderbijdrage vandaag",
            "Beste ouder,\n\nUw account wordt geblokkeerd. Log in op "
            "http://regenboog-amsterdam.school-login.example/verify en bevestig uw "
            "wachtwoord vandaag nog.\n",
            sender="admin@regenboog-amsterdarn.example",
            to=PRIVATE,
            headers={"List-Id": "<nieuwsbrief.regenboog-amsterdam.schoolplatform.example>"},
        ),
        PROFILE,
    )
    assert row.suspicious
    assert row.decision == "ignore"
