"""Signals found on the zzs-* to zzv-* mail (money and admin, an incident week, the people she
manages, the personal address), each with an input that walks around it.
"""

from __future__ import annotations

import dataclasses

from tests.unit.triage.owner_mail import PROFILE, ROBOT, answering_owner, mail, triage

SHOP = dataclasses.replace(PROFILE, known_domains=frozenset({"bol.com"}))
"""A mailbox whose owner has written to the shop (a return, a question)."""
MAILING = {
    "List-Unsubscribe": "<https://news.bol.com/unsubscribe>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    "Precedence": "bulk",
}
"""A marketing list's headers: a one-click unsubscribe and bulk precedence."""


def test_a_shops_sale_in_dutch_is_skipped_though_the_owner_buys_there() -> None:
    sale = mail(
        "Laatste kans: tot 50% korting in de Wintersale",
        "De Wintersale eindigt zondag. Tot 50% korting op speelgoed, elektronica en meer.\n\n"
        "Afmelden voor deze nieuwsbrief: https://news.bol.com/unsubscribe",
        sender="nieuwsbrief@news.bol.com",
        headers=MAILING,
    )
    assert triage(sale, SHOP).decision == "ignore"


def test_the_same_shops_refund_is_not_a_sale() -> None:
    # The walk-around: the shop the owner deals with, about her own order.
    refund = mail(
        "Je terugbetaling is verwerkt",
        "Hoi Priya, we hebben je retour ontvangen. Het bedrag van EUR 89,00 voor de "
        "bureaustoel staat binnen 3 werkdagen op je rekening.",
        sender="klantenservice@bol.com",
        headers=ROBOT,
    )
    assert triage(refund, SHOP).decision != "ignore"


def test_a_statement_for_the_tax_return_is_worth_seeing() -> None:
    for subject, body, sender in (
        (
            "Uw jaaroverzicht 2026 staat klaar",
            "Uw jaaroverzicht 2026 staat voor u klaar in Mijn ING: de saldi en de rente van uw "
            "rekeningen. Handig voor uw belastingaangifte.",
            "noreply@ing.nl",
        ),
        (
            "Je giftenoverzicht 2026",
            "Dank je wel voor je steun. Jouw giften in 2026: EUR 240,00. Je gift is aftrekbaar "
            "voor de inkomstenbelasting.",
            "donateurs@vluchtelingenwerk.nl",
        ),
    ):
        assert triage(mail(subject, body, sender=sender, headers=ROBOT)).decision == "notify"


def test_a_banks_year_in_numbers_is_still_a_mailing() -> None:
    # The walk-around: the bank's own round-up of the year, with nothing to keep.
    numbers = mail(
        "Jouw 2026 in cijfers",
        "Je betaalde 1.204 keer met je pas en spaarde 12% meer dan in 2025. Bekijk je jaar "
        "in de app!\n\nAfmelden: https://ing.nl/afmelden",
        sender="nieuws@ing.nl",
        headers={"List-Unsubscribe": "<https://ing.nl/afmelden>"},
    )
    assert triage(numbers).decision == "ignore"


def test_a_parent_teacher_meeting_to_book_is_the_parents_to_do() -> None:
    signup = mail(
        "Inschrijving geopend: oudergesprekken groep 6",
        "De inschrijving voor de oudergesprekken van groep 6 is geopend. Inschrijven kan tot "
        "woensdag 27 januari. Kies een tijd: https://app.socialschools.eu/conversations/88412",
        sender="noreply@socialschools.eu",
        headers={**ROBOT, "List-Unsubscribe": "<https://app.socialschools.eu/unsubscribe>"},
    )
    assert triage(signup).decision == "respond"


def test_a_school_newsletter_mentioning_the_meetings_is_news() -> None:
    # The walk-around: the meetings named in a newsletter's body, not its subject.
    newsletter = mail(
        "Nieuwsbrief januari",
        "Beste ouders, in februari zijn de oudergesprekken; de inschrijving volgt. Op 3 "
        "februari is er een studiedag. Veel leesplezier!\n\nAfmelden: https://school/afmelden",
        sender="noreply@socialschools.eu",
        headers={**ROBOT, "List-Unsubscribe": "<https://app.socialschools.eu/unsubscribe>"},
    )
    assert triage(newsletter).decision != "respond"


def test_a_friends_payment_request_through_an_app_is_to_pay() -> None:
    tikkie = mail(
        "Bart de Vries heeft je een Tikkie gestuurd",
        "Hoi Priya, Bart de Vries heeft je een Tikkie gestuurd. Bedrag: EUR 21,75. "
        "Omschrijving: lunch woensdag. Betaal via iDEAL: https://tikkie.me/pay/Bart/kR4m81",
        sender="noreply@tikkie.me",
        headers=ROBOT,
    )
    assert triage(tikkie).decision == "respond"


def test_a_payment_request_from_a_throwaway_domain_is_not_to_pay() -> None:
    # The walk-around: the same words behind a look-alike of the app, asking for a login.
    fake = mail(
        "Bart de Vries heeft je een Tikkie gestuurd",
        "Bart de Vries heeft je een Tikkie gestuurd. Bevestig eerst je rekening: log in met je "
        "bankgegevens via https://tikkie-betaalverzoek.top/login",
        sender="service@tikkie-betaalverzoek.top",
    )
    row = triage(fake)
    assert row.decision != "respond"


def test_a_colleague_paging_the_owner_through_an_incident_tool_asks_her() -> None:
    page = mail(
        "[PagerDuty] Responder request: Incident #7712 [warehouse-api] Ingest lag",
        "Sun-hee Park has requested your help as a responder on an incident.\n\nMessage from "
        "Sun-hee Park: 'Need you for customer comms.'\n\nAccept: https://x.pagerduty.com/accept",
        sender="no-reply@pagerduty.com",
        headers=ROBOT,
    )
    assert triage(page).decision == "respond"
    # The walk-around: the same tool saying the incident is over.
    resolved = mail(
        "[PagerDuty] RESOLVED: Incident #7712 [warehouse-api] Ingest lag",
        "Incident #7712 was resolved by Sun-hee Park after 3h 31m.",
        sender="no-reply@pagerduty.com",
        headers=ROBOT,
    )
    assert triage(resolved).decision != "respond"


def test_a_customers_formal_request_under_the_contract_is_to_answer() -> None:
    formal, profile = answering_owner(
        mail(
            "INC 19 January - RCA and service credit under section 9.2",
            "Dear Priya, under section 9.2 of our agreement we request a written root-cause "
            "analysis within five business days, i.e. by Tuesday 26 January.",
            sender="henrik.dahl@nordkapfreight-example.no",
        )
    )
    assert triage(formal, profile).decision == "respond"
    # The walk-around: a stranger's pitch that "requests" a meeting is still a pitch.
    pitch = mail(
        "Quick question",
        "Hi Priya, we help logistics platforms cut cloud costs by 40%. We request a 15-minute "
        "call next week. Worth a quick chat?",
        sender="sam@cloudsaver-example.io",
    )
    assert triage(pitch).decision == "ignore"
