"""Signals found on a third round of unseen mail: a stranger asking for help with their own work,
an agency hiring out its developers, alerts the reader set up, money paid out to the reader, and
a sender's domain that wears a brand's name.

Each signal has mail written for it and the mail that walks around it.
"""

from __future__ import annotations

from tests.unit.triage.owner_mail import ROBOT, mail, triage

STUDENT = (
    "Dear Ms. Raman,\n"
    "My name is Karim Haddad and I'm a second-year MSc Computer Science student at TU Delft. "
    "I'm starting my thesis (supervised by dr. Anouk Verbeek) on correctness of event-sourced "
    "inventory systems.\nI found the Lumenhive engineering blog post about replaying yard "
    "events after a schema change. Would you be willing to do a 20-30 minute interview some "
    "time in December or January? I can come to Amsterdam or do it online.\n"
    "I completely understand if you don't have the time. In that case, if anyone on your team "
    "would be willing instead, I'd be very grateful for a pointer.\nKind regards,\nKarim Haddad"
)


def test_a_student_asking_for_an_interview_is_shown_not_skipped() -> None:
    subject = "MSc thesis on event-sourced inventory - 20 minutes of your time?"
    row = triage(mail(subject, STUDENT, sender="k.haddad@student.tudelft.nl"))
    assert row.decision != "ignore"
    assert row.unsure or row.decision == "respond"


def test_a_pitch_that_calls_itself_research_still_sells() -> None:
    # The walk-around: a seller claiming research, with an offer beside it, is cold all the same.
    pitch = (
        "Hi Priya,\nI'm a researcher at Shipwise. We help companies like yours cut API errors by "
        "40% - our clients include three of the top 10 3PLs.\n"
        "Worth a 15 min call next week?\nTom"
    )
    row = triage(mail("Quick question", pitch, sender="tom@shipwise.example"))
    assert (row.category, row.decision) == ("spam_or_cold", "ignore")


def test_an_agency_hiring_out_its_developers_is_cold() -> None:
    pitch = (
        "Hi Priya,\nWe are a software company with 120+ developers. We provide dedicated Golang, "
        "React and DevOps developers on an hourly basis.\nKindly let me know if you have any "
        "requirement, I will share profiles within 24 hours.\nAnil"
    )
    row = triage(mail("Golang developers", pitch, sender="anil.dev@gmail.com"))
    assert row.decision == "ignore"


def test_a_colleague_asking_for_dedicated_developers_is_not_cold() -> None:
    ask = (
        "Hi Priya,\nFor the Q1 plan, could we get two dedicated React and Go developers on the "
        "yard project? If you have any requirements for the profiles, tell me by Friday.\nDaniel"
    )
    row = triage(mail("Q1 staffing", ask, sender="daniel@lumenhive.com"))
    assert row.decision == "respond"


BUDGET = (
    "You requested that we alert you when the actual cost of your prod budget is greater than "
    "90% for the current month.\nBudgeted amount: EUR 42,000.00\nActual amount: EUR 37,912.40\n"
)


def test_an_alert_the_reader_set_up_is_shown() -> None:
    row = triage(
        mail("Budget notification", BUDGET, sender="no-reply@budgets.example", headers=ROBOT)
    )
    assert row.decision == "notify"


def test_a_shop_promising_to_alert_is_not_an_alert() -> None:
    # The walk-around: "we'll alert you when it ships" is a shop's promise, not a threshold.
    promise = "Thanks for your order! We'll alert you when it ships.\nOrder total: EUR 24.99\n"
    row = triage(mail("Order confirmed", promise, sender="no-reply@shop.example", headers=ROBOT))
    assert row.category != "urgent_incident" and row.priority != "high"


def test_an_expense_report_paid_out_is_a_receipt() -> None:
    paid = (
        'Good news! Marco reimbursed your report "Rotterdam visit" for EUR 64.30.\n'
        "The money should arrive in your account within 1-3 business days.\n"
    )
    row = triage(mail("Reimbursed", paid, sender="concierge@expenses.example", headers=ROBOT))
    assert row.decision == "ignore"


def test_an_expense_report_sent_back_still_asks() -> None:
    returned = (
        'Marco returned your report "Rotterdam visit": the taxi receipt is missing. '
        "Please add it and submit the report again by Friday.\n"
    )
    row = triage(
        mail("Report returned", returned, sender="concierge@expenses.example", headers=ROBOT)
    )
    assert row.decision == "respond"


SHARE = (
    "Marco Bianchi shared a file with you\n"
    '"Priya, final numbers per team before they go to the board, please check yours today."\n'
    "Open: https://lumenhive-my.sharepoint-filedrop.example/personal/marco/Doc.aspx\n"
)


def test_a_domain_wearing_a_brands_name_is_suspicious_without_the_name() -> None:
    # A display name in parentheses is a comment, which parsers drop: the domain alone tells.
    fake = mail("Marco shared a file", SHARE, sender="no-reply@sharepoint-filedrop.com")
    row = triage(fake)
    assert row.suspicious and row.decision == "ignore"


def test_a_brand_sending_from_its_own_domain_or_a_short_word_is_not() -> None:
    own = SHARE.replace("sharepoint-filedrop.example", "sharepoint.com")
    real = mail("Marco shared a file", own, sender="no-reply@sharepoint.com")
    assert not triage(real).suspicious
    # A short brand name is an everyday word too: `ing-bouw` is a builder, not the bank.
    builder = mail("Offerte dakkapel", "Hierbij de offerte.\n", sender="info@ing-bouw.example")
    assert not triage(builder).suspicious


def test_a_link_dressed_as_a_brands_site_is_suspicious_from_a_signed_person() -> None:
    scam = (
        "Hallo,\nIk heb al betaald via Marktplaats. Klik op de link om de 75 euro te ontvangen:\n"
        "https://marktplaats.gelijk-oversteken-nl.com/ontvangen?id=TX-55821\nGroetjes Kim"
    )
    row = triage(mail("Kinderfiets", scam, sender="kim.v@gmail.com"))
    assert row.suspicious and row.decision == "ignore"
    refund = "Teruggave aanvragen: https://mijn-belastingdienst-teruggaaf.nl/digid/login\n"
    assert triage(mail("Teruggave", refund, sender="info@tax.example")).suspicious


def test_links_to_a_brands_own_site_are_not() -> None:
    # The walk-around of the check above: the brand's own domain and its subdomains.
    for link in (
        "https://www.marktplaats.nl/v/fietsen/123",
        "https://click.paypal.com/track?id=1",
        "https://mijn.belastingdienst.nl/",
    ):
        row = triage(mail("Je advertentie", f"Bekijk: {link}\n", sender="anna@post.example"))
        assert not row.suspicious, link


def test_a_google_photos_album_link_is_no_throwaway_link() -> None:
    album = (
        "Sorry, took forever to sort these. Album:\nhttps://photos.app.goo.gl/qP7xWv3kLmN2sR8t9\n"
        "Amma insisted on the matching kurta photo.\nA"
    )
    row = triage(mail("diwali pics", album, sender="anand.r@gmail.com"))
    assert not row.suspicious and row.decision != "ignore"
    # A bare shortener still hides where it goes.
    hidden = "Your account is on hold, verify now: https://goo.gl/xY12ab\n"
    assert triage(mail("Account on hold", hidden, sender="help@acc.example")).suspicious


LISTED = {"List-Unsubscribe": "<mailto:unsubscribe@news.example>"}


def test_a_mailings_call_to_act_is_said_to_every_subscriber() -> None:
    appeal = "Doneer vandaag en verdubbel je gift! Please register now for our gala.\n"
    row = triage(mail("Black Friday", appeal, sender="news@charity.example", headers=LISTED))
    assert row.decision != "respond"


def test_a_mailings_bill_or_failed_payment_is_still_the_readers() -> None:
    failed = "We could not charge your card for your November subscription. Please pay now.\n"
    row = triage(mail("Payment failed", failed, sender="billing@saas.example", headers=LISTED))
    assert row.decision == "respond"


def test_a_dutch_failed_direct_debit_and_a_flight_to_accept_ask_the_reader() -> None:
    debit = (
        "Het is ons niet gelukt om het bedrag voor je abonnement af te schrijven. Betaal het "
        "openstaande bedrag voor 8 december.\n"
    )
    row = triage(
        mail(
            "Betaling van je abonnement is niet gelukt",
            debit,
            sender="noreply@rail.example",
            headers=ROBOT,
        )
    )
    assert row.decision == "respond"
    flight = (
        "Your flight has been changed.\nWhat do you need to do?\n- If the new flight suits you, "
        "please accept it in My Trip.\n"
    )
    row = triage(
        mail("Your flight has changed", flight, sender="noreply@air.example", headers=ROBOT)
    )
    assert row.decision == "respond"


def test_an_organiser_saying_there_is_no_cost_is_not_a_pitch() -> None:
    invite = (
        "Dear Priya,\nI'm the programme chair of a practitioners' conference in Rotterdam. A member "
        "of our committee suggested your name. We would like to invite you to give a 30-minute "
        "talk on 14 April. There is no speaker fee, and there is no cost of any kind to speak.\n"
        "Could you let me know by 4 December whether you're interested?\nSabine"
    )
    row = triage(mail("Speaking invitation", invite, sender="sabine@conference.example"))
    assert row.decision == "respond"
