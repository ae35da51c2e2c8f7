"""Club and team mail: "afmelden" in a footer or a rota, and a shift the owner is put down for."""

from __future__ import annotations

from tests.unit.triage.owner_mail import PRIVATE, mail, triage

ROTA = (
    "Beste ouders van JO10-2,\n\nHierbij het rijschema voor de uitwedstrijden. Za 28/11 uit bij "
    "Zaandam, verzamelen 8:15, rijders: Priya, Ruud, Sevgi.\n\nKun je niet op jouw zaterdag? "
    "Ruil dan zelf en laat het mij uiterlijk donderdag weten. Afmelden voor de wedstrijd zelf "
    "graag ook via mij, niet via de trainer.\n\nSportieve groet,\nHakim\n"
)


def test_a_team_managers_rota_to_all_parents_is_answered() -> None:
    row = triage(
        mail(
            "Rijschema uitwedstrijden JO10-2",
            ROTA,
            sender="hakim.bouzid@gmail.com",
            to="undisclosed-recipients:;",
        )
    )
    assert row.decision == "respond"


def test_a_dutch_mailings_footer_link_is_still_an_unsubscribe() -> None:
    # Walks around the narrowing: the footer's own "Afmelden | Voorkeuren" line.
    row = triage(
        mail(
            "De beste deals van deze week",
            "Tot 40% korting op winterjassen. Bekijk de aanbiedingen in onze webshop.\n\n"
            "Afmelden | Voorkeuren wijzigen\n",
            sender="nieuws@winkel.example",
            to=PRIVATE,
        )
    )
    assert row.decision == "ignore"


def test_a_pitch_that_says_reply_abmelden_is_still_a_template() -> None:
    row = triage(
        mail(
            "Ihre Karriereseite",
            "Guten Tag Frau Raman,\n\nwir gestalten Karriereseiten für Tech-Unternehmen. Hätten "
            "Sie diese Woche 15 Minuten für ein kurzes Gespräch?\n\nSie möchten keine weiteren "
            'E-Mails erhalten? Antworten Sie einfach mit "Abmelden".\n',
            sender="lea@pixel-agentur.example",
        )
    )
    assert row.decision == "ignore"


def test_a_clubs_bar_shift_for_the_owner_is_shown() -> None:
    row = triage(
        mail(
            "Je bent ingedeeld: bardienst zaterdag 28 november 12:00-14:30",
            "Hoi Priya,\n\nJe bent ingedeeld voor een bardienst: zaterdag 28 november, 12:00 - "
            "14:30, clubhuis.\n\nKun je niet? Ruil dan zelf via de app.\n",
            sender="vrijwilligers@hockeyclub.example",
            to=PRIVATE,
            headers={"Auto-Submitted": "auto-generated", "Precedence": "bulk"},
        )
    )
    assert row.decision == "notify"


def test_a_shops_schedule_for_its_sale_is_not_a_shift() -> None:
    # Walks around the check: "scheduled" said of a marketing mailing's sale, not of the owner.
    row = triage(
        mail(
            "Our winter sale is scheduled for Friday",
            "The winter sale is scheduled for Friday: 30% off all jackets. Shop early!\n\n"
            "Unsubscribe: https://shop.example/u\n",
            sender="news@shop.example",
            to=PRIVATE,
            headers={
                "List-Unsubscribe": "<https://shop.example/u>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Precedence": "bulk",
            },
        )
    )
    assert row.decision == "ignore"


def test_the_buildings_water_shut_off_is_shown() -> None:
    row = triage(
        mail(
            "Mededeling: watertoevoer afgesloten donderdag 26 november 09:00-13:00",
            "Geachte bewoners,\n\nIn verband met het vervangen van de hoofdkraan wordt de "
            "watertoevoer van het complex afgesloten op donderdag 26 november van 09:00 tot 13:00."
            "\n\nMet vriendelijke groet,\nVvE Beheer\n",
            sender="mededelingen@vvebeheer.example",
            to=PRIVATE,
            headers={"Precedence": "bulk"},
        )
    )
    assert row.decision == "notify"


def test_an_overdue_task_in_a_hiring_tool_asks_the_owner_to_act() -> None:
    row = triage(
        mail(
            "Scorecard due: Thijs Bakker - Platform Engineer",
            "Hi Priya,\n\nYour scorecard for Thijs Bakker (interview on Tue 24 Nov) is overdue. "
            "The debrief is on Thu 26 Nov 11:00.\n\nSubmit scorecard: https://ats.example/s/1\n",
            sender="no-reply@ats.example",
            headers={"Auto-Submitted": "auto-generated"},
        )
    )
    assert row.decision == "respond"


def test_a_shops_water_bottle_sale_is_not_a_shut_off() -> None:
    # Walks around the check: "water" and "afgesloten" far apart in a shop's mailing.
    row = triage(
        mail(
            "Deze week: waterflessen in de aanbieding",
            "Waterflessen met 30% korting. De actie is afgesloten zodra de voorraad op is. "
            "Bekijk de aanbiedingen in onze webshop.\n\nAfmelden | Voorkeuren\n",
            sender="nieuws@winkel.example",
            to=PRIVATE,
            headers={
                "List-Unsubscribe": "<https://winkel.example/u>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Precedence": "bulk",
            },
        )
    )
    assert row.decision == "ignore"
