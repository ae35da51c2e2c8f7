"""The general signals behind respond / notify / ignore, each with the mail that walks around it."""

from __future__ import annotations

from graph.engines.triage import triage_by_rules
from graph.engines.triage.profile import MailboxProfile
from tests.unit.triage.owner_mail import OWNER, mail
from tools.mail.model import Email

PROFILE = MailboxProfile(owner_addresses=(OWNER,))


def decision(email: Email) -> str:
    return triage_by_rules(email, profile=PROFILE).decision


# A question mark in a link's query string asks nothing.

SHARED = (
    "Okke Bakker shared a board with you\n"
    "Roadmap Q1\n"
    "Open: https://boards.example.com/b/8xk2?invite=1&ref=mail\n"
)


def test_a_question_mark_in_a_link_is_not_a_question() -> None:
    share = mail("Okke shared a board with you", SHARED, sender="no-reply@boards.example.com")
    assert decision(share) == "notify"


def test_a_real_question_next_to_a_link_still_asks() -> None:
    asked = mail(
        "Okke shared a board with you",
        SHARED + '"Can you add your estimates before Monday?"',
        sender="no-reply@boards.example.com",
    )
    assert decision(asked) == "respond"


# A writer who says the reader need do nothing is never answered.

NOTICE = (
    "Dear Ms Raman,\n"
    "From 1 March the monthly fee for your parking permit rises from 42.00 to 45.50 EUR.\n"
    "Do you have questions about this change? Call us on weekdays.\n"
)


def test_a_notice_that_needs_nothing_is_notify_not_respond() -> None:
    for footer in ("No action is needed on your part.", "U hoeft niets te doen."):
        notice = mail("Parking permit fee 2027", NOTICE + footer, sender="permits@city.example")
        assert decision(notice) == "notify", footer


def test_the_same_notice_without_that_line_still_asks() -> None:
    asking = mail("Parking permit fee 2027", NOTICE, sender="permits@city.example")
    assert decision(asking) == "respond"


def test_nothing_to_do_never_makes_mass_mail_worth_seeing() -> None:
    promo = mail(
        "Winter deals",
        "Nothing to do: your discount is applied automatically. Unsubscribe here.",
        sender="deals@shop.example",
        headers={"List-Unsubscribe": "<https://shop.example/u>", "Precedence": "bulk"},
    )
    assert decision(promo) == "ignore"


# A polite ask without a question mark is still an ask.


def test_a_polite_ask_without_a_question_mark_is_respond() -> None:
    for ask in (
        "We'd need your signed form by 9 January.",
        "We kindly ask you to return the signed form by 9 January.",
        "Wir bitten Sie, das Formular bis 9. Januar zurückzuschicken.",
    ):
        letter = mail(
            "Volunteer day form", f"Dear Priya,\n{ask}\nBest, Joost", sender="joost@club.example"
        )
        assert decision(letter) == "respond", ask


def test_a_letter_that_only_tells_is_notify() -> None:
    told = mail(
        "Volunteer day",
        "Dear Priya,\nThe volunteer day moved to the sports hall. Thanks for signing up.\nJoost",
        sender="joost@club.example",
    )
    assert decision(told) == "notify"


# A calendar answer: bare is noise, a note is news, a question wants an answer.

DECLINED = "Declined: Design review @ Wed 2 Dec 2026 14:00 - 15:00 (CET) ({owner})"


def calendar_answer(body: str) -> Email:
    return mail(DECLINED.format(owner=OWNER), body, sender="ruben@lumenhive.com")


def test_a_bare_calendar_answer_is_ignored() -> None:
    bare = calendar_answer("Ruben Smit has declined this invitation.\nInvitation from a calendar")
    assert decision(bare) == "ignore"


def test_a_calendar_answer_with_a_note_is_notify() -> None:
    noted = calendar_answer(
        'Ruben Smit has declined this invitation with a note:\n"On leave that week, sorry."'
    )
    assert decision(noted) == "notify"


def test_a_calendar_answer_whose_note_asks_is_respond() -> None:
    asking = calendar_answer(
        'Ruben Smit has declined this invitation with a note:\n"Could we do Thursday instead?"'
    )
    assert decision(asking) == "respond"


# Cold outreach in the inbox's other languages.


def test_a_french_pitch_to_a_stranger_is_cold() -> None:
    pitch = mail(
        "Vos bureaux à Amsterdam",
        "Bonjour Priya,\nJe me permets de vous contacter car nous aménageons des bureaux pour les "
        "équipes tech.\nSeriez-vous disponible pour un échange cette semaine ?\nLouise",
        sender="louise@bureaux-design.example",
    )
    row = triage_by_rules(pitch, profile=PROFILE)
    assert (row.category, row.decision) == ("spam_or_cold", "ignore")


def test_a_french_question_from_a_stranger_without_a_pitch_is_not_cold() -> None:
    asked = mail(
        "Question sur votre API",
        "Bonjour Priya,\nNous utilisons votre API d'export. Pouvez-vous confirmer la limite de "
        "requêtes par minute ?\nMerci, Louise",
        sender="louise@transport.example",
    )
    assert decision(asked) == "respond"
