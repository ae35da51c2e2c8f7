"""Asks a mail program wrapped across lines, polite asks in German, and direct debits that failed."""

from __future__ import annotations

from graph.engines.triage.profile import MailboxProfile
from tests.unit.triage.owner_mail import OWNER, ROBOT, mail, triage

PARTNER = MailboxProfile(
    owner_addresses=(OWNER,), known_people=frozenset({"henrik@nordkap.example"})
)
"""A mailbox whose owner has written to Henrik at a partner."""


def test_an_ask_split_by_the_senders_line_wrap_is_still_an_ask() -> None:
    row = triage(
        mail(
            "Lumenhive / Nordkap - export limits",
            "Hi Priya,\n\nTo save you the trouble I've sent the invitation from our side. Please\n"
            "forward to Mateo.\n\nHenrik\n",
            sender="henrik@nordkap.example",
        ),
        PARTNER,
    )
    assert row.decision == "respond"


def test_a_paragraph_break_still_ends_a_phrase() -> None:
    # Walks around the unwrapping: two paragraphs that happen to end "please" and start
    # "forward" are not one ask. Only a single line break inside a paragraph is joined.
    row = triage(
        mail(
            "Lumenhive / Nordkap - export limits",
            "Hi Priya,\n\nThanks, no need to do anything, please\n\n"
            "forward-looking notes follow next month.\n\nHenrik\n",
            sender="henrik@nordkap.example",
        ),
        PARTNER,
    )
    assert row.decision == "notify"


def test_if_you_could_look_is_an_ask() -> None:
    row = triage(
        mail(
            "Re: talk abstract",
            "Here it is, as promised. The deadline is Tuesday, so if you could look before\n"
            "Monday that would be great.\n\nMateo\n",
            sender="henrik@nordkap.example",
        ),
        PARTNER,
    )
    assert row.decision == "respond"


def test_a_german_landlords_request_for_a_deposit_is_answered() -> None:
    row = triage(
        mail(
            "AW: Anfrage Ferienwohnung",
            "Sehr geehrte Frau Raman,\n\ndie Wohnung ist noch frei. Zur verbindlichen Buchung "
            "bitten wir um eine Anzahlung von 30 % innerhalb von 7 Tagen. Für den Gästebeitrag "
            "bräuchten wir noch das Alter Ihres Sohnes.\n\nMonika Brenner\n",
            sender="buchung@haus-bergblick.example",
        )
    )
    assert row.decision == "respond"


def test_a_dutch_direct_debit_that_bounced_is_not_skipped() -> None:
    row = triage(
        mail(
            "We konden je factuur van oktober niet afschrijven",
            "Beste mevrouw Raman,\n\nOp 19 november hebben we geprobeerd je factuur van je\n"
            "rekening af te schrijven, maar dat is niet gelukt. Bedrag: EUR 38,40.\n",
            sender="noreply@vervoer.example",
            headers={**ROBOT, "List-Unsubscribe": "<https://vervoer.example/u>"},
        )
    )
    assert row.decision != "ignore"


def test_a_german_bounced_direct_debit_is_not_skipped() -> None:
    row = triage(
        mail(
            "Ihre Lastschrift",
            "Guten Tag,\n\nleider konnten wir den Betrag von 19,99 EUR nicht abbuchen. Bitte "
            "prüfen Sie Ihre Bankverbindung.\n",
            sender="service@verlag.example",
            headers=ROBOT,
        )
    )
    assert row.decision != "ignore"


def test_a_direct_debit_announced_is_not_a_failed_one() -> None:
    # Walks around the check: the same words for a debit that will simply happen.
    row = triage(
        mail(
            "Je factuur van november",
            "Beste mevrouw Raman,\n\nWe schrijven het bedrag van EUR 38,40 rond 25 november af "
            "van je rekening. Je hoeft niets te doen.\n",
            sender="noreply@vervoer.example",
            headers={**ROBOT, "List-Unsubscribe": "<https://vervoer.example/u>"},
        )
    )
    assert row.decision != "respond"


def test_an_error_trackers_new_crash_is_shown() -> None:
    row = triage(
        mail(
            "[Tracker] WAREHOUSE-API-4KQ - KeyError: 'site_id'",
            "New issue\n\nKeyError: 'site_id'\nProject: warehouse-api\nEnvironment: production\n"
            "First seen: Nov 26, 2026 07:58 UTC\nEvents: 1,284 in the last 20 minutes\n\n"
            "You are receiving this email because you are a member of the team.\n",
            sender="noreply@tracker.example",
            headers={
                "List-Id": "<warehouse-api.tracker.example>",
                "List-Unsubscribe": "<https://tracker.example/settings>",
            },
        )
    )
    assert row.decision == "notify"


def test_a_newsletter_about_an_exception_is_still_a_newsletter() -> None:
    # Walks around the check: a marketing mailing that names an exception in its subject.
    row = triage(
        mail(
            "Weekly tips: how to never see TypeError: undefined again",
            "This week in our newsletter: five patterns for safer code, our new course, and a "
            "20% discount for subscribers.\n\nUnsubscribe: https://tips.example/u\n",
            sender="news@tips.example",
            headers={
                "List-Unsubscribe": "<https://tips.example/u>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Precedence": "bulk",
            },
        )
    )
    assert row.decision == "ignore"
