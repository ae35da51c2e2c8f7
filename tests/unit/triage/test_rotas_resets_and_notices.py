"""Signals found on three more authors' unseen mail, each with an input that walks around it.

A club's rota naming the owner's family, a password reset she asked for, a service's own
security notice, a new premium, a colleague's out-of-office, a billing system's receipt, a
company announcement for information, a known shop's promotion, and asks said plainly.
"""

from __future__ import annotations

import dataclasses

from graph.engines.triage.phishing import login_links_home
from graph.engines.triage.profile import MailboxProfile
from graph.engines.triage.rulebook import default_rules
from tests.unit.triage.owner_mail import OWNER, PRIVATE, ROBOT, mail, triage

PROFILE = MailboxProfile(owner_addresses=(OWNER, PRIVATE), owner_names=frozenset({"priya raman"}))
CLUB = {"List-Id": "<ouders-d3.hockeyclub.example>"}
SIGNED = (
    "mx.example; spf=pass smtp.mailfrom={d}; dkim=pass header.d={d}; dmarc=pass header.from={d}"
)


# A club's rota that puts the owner's family down for a duty.


def test_a_rota_naming_her_family_on_a_group_list_with_an_ask_is_answered() -> None:
    row = triage(
        mail(
            "Rijden zaterdag + wie kan er nog?",
            "Hoi ouders,\n\nZaterdag uit, verzamelen 8:15. Volgens het schema zijn aan de "
            "beurt: fam. Jansen, fam. De Vries/Raman, fam. El Idrissi.\n\nGraag even reply-all "
            "of het lukt.\n\nJeroen\n",
            sender="jeroen@ziggo.example",
            to="ouders-d3@hockeyclub.example",
            headers=CLUB,
        ),
        PROFILE,
    )
    assert row.decision == "respond"


def test_a_club_systems_rota_naming_her_is_shown() -> None:
    row = triage(
        mail(
            "Programma za 28 nov",
            "Wedstrijd 09:00, verzamelen 07:45.\n\nRijders: Raman (Arjun), Jansen (Sem)\n"
            "Fruit: El Idrissi\n",
            sender="noreply@club-app.example",
            to=PRIVATE,
            headers={"Precedence": "bulk", **ROBOT},
        ),
        PROFILE,
    )
    assert row.decision == "notify"


def test_her_surname_off_the_duty_line_or_in_an_address_is_no_rota() -> None:
    # Walks around the check: the surname elsewhere, inside an address, or as part of a longer
    # name on the duty's line.
    assert not PROFILE.on_rota("rijders: fam. jansen, fam. bakker\n\ngroeten, t. raman")
    assert not PROFILE.on_rota("drivers: write to raman@club.example if you can")
    assert not PROFILE.on_rota("drivers: fam. ramanathan, fam. bakker")
    assert PROFILE.on_rota("drivers: fam. bakker, fam. de vries/raman")
    assert PROFILE.on_rota("volgens het rijschema rijden deze keer:\n\n  - priya (arjun)\n")
    assert not PROFILE.on_rota("fruit: fam. bakker\n\nthanks priya for the cake!")
    assert not MailboxProfile(owner_addresses=(OWNER,)).on_rota("drivers: fam. raman")


# A password reset the owner asked for: worth seeing, not a task.


RESET = (
    "Hi Priya,\n\nSomeone (hopefully you) requested a password reset for your account.\n\n"
    "Reset password: https://www.figma.example/reset_password?token=6c3d\n\n"
    "This link expires in 1 hour. If you didn't request this, you can ignore this email.\n"
)


def test_a_reset_she_asked_for_is_shown_not_a_task() -> None:
    # Signed for its domain, which has written to her before (`phishing._own_service`).
    email = mail(
        "Reset your password",
        RESET,
        sender="no-reply@figma.example",
        headers={"Authentication-Results": SIGNED.format(d="figma.example")},
    )
    known = dataclasses.replace(PROFILE, history={"no-reply@figma.example": 3})
    row = triage(email, known)
    assert (row.decision, row.suspicious) == ("notify", "")


def test_a_reset_that_says_to_secure_the_account_is_not_told_to_be_ignored() -> None:
    # Walks around the check: "if you didn't request this, secure your account" is a warning.
    told = "If you didn't request this, you can ignore this email."
    warned = "If you didn't request this, secure your account now."
    assert "nothing_to_do" in _flags(told)
    assert "nothing_to_do" not in _flags(warned)


# A service's own security notice, its link on its own domain.


def _notice(sender: str, link: str, auth: str) -> object:
    return mail(
        "Security alert",
        "Lumenhive Gantt was granted access to your Google Account\n\npriya@lumenhive.com\n\n"
        f"If you did not grant access, check this activity.\n\nCheck activity: {link}\n",
        sender=sender,
        headers={"Authentication-Results": auth},
    )


def test_a_services_signed_security_notice_linking_home_is_shown() -> None:
    email = _notice(
        "no-reply@accounts.google.example",
        "https://myaccount.google.example/notifications",
        SIGNED.format(d="google.example"),
    )
    row = triage(email)
    assert login_links_home(email, {"automated"})
    assert (row.decision, row.suspicious) == ("notify", "")
    assert row.category != "spam_or_cold"


def test_a_login_host_elsewhere_unsigned_or_from_a_person_still_counts() -> None:
    # Walks around the check: the same notice linking to another domain, not signed for its
    # domain, or from a person's address.
    away = _notice(
        "no-reply@accounts.google.example",
        "https://myaccount.google-security.example/notifications",
        SIGNED.format(d="google.example"),
    )
    unsigned = _notice(
        "no-reply@accounts.google.example",
        "https://myaccount.google.example/notifications",
        "mx.example; spf=pass smtp.mailfrom=google.example; dmarc=none",
    )
    person = _notice(
        "jan@google.example",
        "https://myaccount.google.example/notifications",
        SIGNED.format(d="google.example"),
    )
    assert not login_links_home(away, {"automated"})
    assert not login_links_home(unsigned, {"automated"})
    assert not login_links_home(person, set())
    assert triage(unsigned).suspicious


# What the owner pays changes: shown, even when the insurer offers a change before a date.


def test_a_new_premium_with_an_offer_to_change_is_shown_not_a_task() -> None:
    row = triage(
        mail(
            "Uw nieuwe polis voor 2027",
            "Beste mevrouw Raman,\n\nUw maandpremie wordt EUR 168,20 (was EUR 154,95). Wilt u "
            "iets wijzigen aan uw aanvullende verzekering? Dat kan tot en met 31 december.\n",
            sender="noreply@insurer.example",
            to=PRIVATE,
            headers=ROBOT,
        ),
        PROFILE,
    )
    assert row.decision == "notify"


def test_a_new_price_whose_payment_failed_is_still_a_task() -> None:
    # Walks around the check: a price change beside a failed payment asks for money.
    row = triage(
        mail(
            "Wijziging in de kosten van uw pakket",
            "Per 1 februari wordt uw pakket EUR 3,95 per maand. Your payment failed: please "
            "update your card to keep your account.\n",
            sender="noreply@bank.example",
            headers=ROBOT,
        )
    )
    assert row.decision == "respond"


# An out-of-office: a colleague's is on the team's calendar; an outsider's stand-in matters.

OOO = "I am out of the office until 30 November. For urgent matters please contact {who}.\n"


def test_a_colleagues_out_of_office_is_skipped_an_outsiders_is_shown() -> None:
    headers = {"Auto-Submitted": "auto-replied"}
    colleague = mail(
        "Automatic reply: sprint review",
        OOO.format(who="jonas@lumenhive.com"),
        sender="lena@lumenhive.com",
        headers=headers,
    )
    customer = mail(
        "Automatic reply: QBR",
        OOO.format(who="ops@brightwater.example"),
        sender="karen@brightwater.example",
        headers=headers,
    )
    assert triage(colleague).decision == "ignore"
    assert triage(customer).decision == "notify"


# billing@'s receipt or direct debit is a billing system's; a person there asking is a person.


def test_a_billing_addresses_direct_debit_is_skipped() -> None:
    row = triage(
        mail(
            "Ihre Rechnung 2026-11",
            "Sehr geehrte Frau Raman,\n\nanbei Ihre Rechnung über EUR 42,35. Der Betrag wird "
            "von Ihrer Kreditkarte automatisch abgebucht. (charged automatically)\n",
            sender="billing@hosting.example",
        )
    )
    assert row.decision == "ignore"


def test_a_person_at_a_billing_address_asking_is_answered() -> None:
    # Walks around the check: billing@ with a question about the same debit.
    row = triage(
        mail(
            "Your invoice 2026-11",
            "Hi Priya,\n\nThe amount will be charged automatically, but could you confirm the "
            "VAT number we should print on it?\n\nMarta, billing\n",
            sender="billing@hosting.example",
        )
    )
    assert row.decision == "respond"


# The company's announcement: a deadline makes it work, unless it says it is for information.


def test_a_company_notice_for_information_with_a_date_is_shown() -> None:
    notice = mail(
        "Heads-up: phishing mails pretending to be Daniel",
        "FYI: several of you received gift-card requests from a fake Daniel this week. Just "
        "delete them. The new mail filter goes live by Friday.\n",
        sender="security@lumenhive.com",
        to="all@lumenhive.com",
        headers={"List-Id": "<all.lumenhive.com>"},  # the company's own list
    )
    task = dataclasses.replace(
        notice,
        subject="Calibration: scores due Friday",
        body="Managers: submit your calibration scores by Friday 17:00 in the HR tool.\n",
    )
    assert triage(notice).decision == "notify"
    assert triage(task).decision == "respond"


# A known shop's promotion is marketing, though the owner has written to the shop.


def test_a_known_shops_promotion_is_skipped_its_news_without_a_mailing_is_shown() -> None:
    known = MailboxProfile(owner_addresses=(OWNER,), known_domains=frozenset({"shop.example"}))
    promo = mail(
        "Black Friday: tot 50% korting",
        "Alleen dit weekend: tot 50% korting op duizenden artikelen. Shop nu!\n"
        "https://shop.example/black-friday\n",
        sender="nieuwsbrief@shop.example",
        headers={
            "List-Unsubscribe": "<https://shop.example/u/1>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Precedence": "bulk",
        },
    )
    news = dataclasses.replace(promo, headers={"List-Unsubscribe": "<https://shop.example/u/1>"})
    assert triage(promo, known).decision == "ignore"
    # Walks around the check: the same words without a marketing list's headers.
    assert triage(news, known).decision == "notify"


# Asks said plainly.


def test_plain_asks_of_family_colleagues_and_friends_are_answered() -> None:
    for sender, body in (
        ("amma@gmail.example", "Appa's 70th is on 9 January. Please tell us the dates soon.\n"),
        ("sunhee@lumenhive.com", "Fix is small, but I want your ok before I run it in prod.\n"),
        ("aisha@lumenhive.com", "PR is up. No rush, just want your eyes on the wording.\n"),
        ("bart@gmail.example", "Ilse, meet Priya. I'll let you two take it from here.\n"),
    ):
        assert triage(mail("hi", body, sender=sender)).decision == "respond", body


def test_having_her_ok_already_is_no_ask() -> None:
    # Walks around the check: "we have your go-ahead" reports, it does not ask.
    body = "We have your go-ahead from last week, so the migration runs tonight.\n"
    assert "request" not in _flags(body)


def _flags(body: str) -> set[str]:
    """The phrase flags `body` raises, lower-cased as the scorer reads it."""
    text = body.casefold()
    return {rule.flag for rule in default_rules().flags if rule.pattern.regex.search(text)}


# An offer waiting on the owner's word: a quote she asked for, a renewal's options.


def test_a_quote_held_until_a_date_is_answered() -> None:
    for body in (
        "As discussed, attached is the quote for the pentest. I can only hold the January slot "
        "until Friday 4 December. A signed copy of the quote is enough to book it.\n",
        "Your contract renews on 15 December. Option A, B or C: I can send the order form for "
        "whichever you prefer. If I don't hear back, it auto-renews as Option A.\n",
        "Zoals besproken de offerte. Als je vóór 4 december bevestigt, houd ik de week vast.\n",
    ):
        assert triage(mail("Re: quote", body, sender="jan@vendor.example")).decision == "respond"


def test_a_pitch_that_will_follow_up_is_still_cold() -> None:
    # Walks around the check: a sales pitch's "if I don't hear back" asks nothing of a customer.
    row = triage(
        mail(
            "quick question",
            "Hi Priya, I came across Lumenhive and noticed you're scaling. We help companies like "
            "yours cut cloud costs by 30%. Worth a 15-minute call? If I don't hear back, I'll "
            "follow up next week.\n\nUnsubscribe: reply STOP",
            sender="sdr@growthly.example",
        )
    )
    assert (row.category, row.decision) == ("spam_or_cold", "ignore")


# The owner's parcel on its way, though the carrier sends it with an unsubscribe header.


def test_a_parcel_on_its_way_is_shown_a_shops_promotion_is_not() -> None:
    carrier = {"List-Unsubscribe": "<https://carrier.example/u/1>", **ROBOT}
    parcel = mail(
        "Je pakket van Coolblue komt vandaag",
        "Goed nieuws! Je pakket van Coolblue wordt vandaag bezorgd tussen 13:15 en 15:45.\n",
        sender="noreply@carrier.example",
        headers=carrier,
    )
    # Walks around the check: a shop's marketing list saying "your order" to every subscriber.
    promo = mail(
        "Your order is waiting: 20% off this weekend",
        "Your order is arriving soon? Shop more: 20% off everything this weekend!\n",
        sender="deals@shop.example",
        headers={
            "List-Unsubscribe": "<https://shop.example/u/1>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Precedence": "bulk",
        },
    )
    assert triage(parcel).decision == "notify"
    assert triage(promo).decision == "ignore"
