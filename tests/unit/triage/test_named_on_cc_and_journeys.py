"""Signals found on the zzw-* to zzz-* mail (four languages, the developer's inbox, travelling
to speak, threads), each with an input that walks around it.
"""

from __future__ import annotations

import dataclasses

from tests.unit.triage.owner_mail import OWNER, PROFILE, mail, triage
from tools.mail.model import Email

NAMED = dataclasses.replace(
    PROFILE,
    owner_names=frozenset({"priya raman"}),
    known_people=frozenset({"karen.holt@brightwater-example.com"}),
    known_domains=frozenset({"brightwater-example.com"}),
)
"""A mailbox that knows the owner's name and a customer she writes to."""


def _on_cc(subject: str, body: str) -> Email:
    """The customer's mail to the owner's colleague, the owner on Cc."""
    email = mail(
        subject, body, sender="karen.holt@brightwater-example.com", to="ruth@lumenhive.com"
    )
    return dataclasses.replace(email, cc=(OWNER,))


def test_the_owner_on_cc_turned_to_by_name_is_asked() -> None:
    for body in (
        "Hi Ruth, thanks for the call. Two things before legal signs:\n\n1. The credit is "
        "agreed.\n\n2. Priya - the 15-minute notification. Could you send Ruth a paragraph for "
        "Annex C by Friday?",
        "Hi Ruth, summary below.\n\nPriya, could you confirm whether the fix makes the 2.19 "
        "release on 16 Feb?\n\nThanks, Karen",
    ):
        assert triage(_on_cc("RE: Renewal 2027 - proposal", body), NAMED).decision == "respond"


def test_the_owner_on_cc_of_an_ask_to_someone_else_is_told() -> None:
    # The walk-around: the same thread asking only the colleague, her name in passing.
    told = _on_cc(
        "RE: Renewal 2027 - proposal",
        "Hi Ruth, could you send the order form by Friday? As Priya explained in November, the "
        "on-call engineer emails our ops address directly.",
    )
    assert triage(told, NAMED).decision == "notify"


def test_a_hotels_directions_and_a_talks_length_are_no_call() -> None:
    for subject, body in (
        (
            "Your reservation AT-27-01893 - 8-11 Feb",
            "Dear Ms Raman, we are pleased to confirm your reservation, made on your behalf by "
            "LX Systems 2027. Getting here: by taxi from the airport about 20 minutes.",
        ),
        (
            "LX Systems 2027 - your talk",
            "Dear Priya, your talk is on Tuesday 9 February, 11:40-12:20 (30 min talk + 10 min "
            "Q&A), in Sala Tejo. The programme is online.",
        ),
    ):
        row = triage(mail(subject, body, sender="reservas@alfama-example.pt"))
        assert row.category != "spam_or_cold" and row.decision != "ignore", subject


def test_a_strangers_minutes_next_week_are_still_a_call() -> None:
    # The walk-around: a stranger's "20 minutes" to be spent on a call with them.
    pitch = mail(
        "Quick question",
        "Hi Priya, I came across Lumenhive on LinkedIn. Do you have 20 minutes next week to see "
        "how we cut warehouse costs by 30%? I'm in Amsterdam, 20 minutes by taxi from you.",
        sender="sam@cloudsaver-example.io",
    )
    assert triage(pitch).decision == "ignore"


SCHOOL = dataclasses.replace(PROFILE, known_domains=frozenset({"regenboog-example.nl"}))
"""A mailbox whose owner writes to her son's school."""
SCHOOL_LIST = {"List-Id": "<ouders.regenboog-example.nl>", "List-Unsubscribe": "<https://x>"}


def test_a_schools_newsletter_with_asks_to_every_parent_is_news() -> None:
    newsletter = mail(
        "Nieuwsbrief februari",
        "Beste ouders, op 3 maart is er een studiedag. Graag inschrijven voor de "
        "oudergesprekken voor 20 februari. Vergeet niet de gymtas mee te geven.",
        sender="info@regenboog-example.nl",
        headers=SCHOOL_LIST,
    )
    assert triage(newsletter, SCHOOL).decision == "notify"


def test_the_same_schools_own_sign_up_mail_is_the_parents_to_do() -> None:
    # The walk-around: the same ask in a mail of its own, not a newsletter.
    signup = mail(
        "Oudergesprekken groep 6: graag inschrijven voor 20 februari",
        "Beste ouders, graag inschrijven voor de oudergesprekken voor 20 februari via de app.",
        sender="info@regenboog-example.nl",
        headers=SCHOOL_LIST,
    )
    assert triage(signup, SCHOOL).decision == "respond"
