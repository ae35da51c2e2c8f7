"""Signals found on the zs-* to zv-* mail (money, a hard week, invitations, strangers writing
in), each with an input that walks around it.
"""

from __future__ import annotations

import dataclasses

from graph.engines.triage.reading import asks_a_question
from tests.unit.triage.owner_mail import OWNER, PROFILE, ROBOT, mail, triage

SIGNED = {
    **ROBOT,
    "Authentication-Results": "mx.lumenhive.com; dkim=pass header.d=northline-fs.com; "
    "spf=pass smtp.mailfrom=northline-fs.com; dmarc=pass header.from=northline-fs.com",
}


def test_a_strangers_price_for_their_own_offer_is_a_pitch() -> None:
    for subject, body in (
        (
            "Your Senior Backend Engineer ad",
            "Hi Priya, we make 60-second hiring videos. We can shoot at your office in one "
            "morning, EUR 2,400 all-in. Want to see a few examples?",
        ),
        (
            "Contract SRE available",
            "Hi Priya, I have three contract SRE engineers available now, EUR 600/day. "
            "Let me know if you'd like CVs.",
        ),
        (
            "Penetrationstest für warehouse-api",
            "Sehr geehrte Frau Raman, wir bieten bis zum 31.12. ein Festpreisangebot an: "
            "API-Penetrationstest 6.900 EUR netto. Passt Ihnen ein kurzes Gespräch?",
        ),
        (
            "WBSO 2027",
            "Beste Priya, wij verzorgen de volledige WBSO-aanvraag op no cure, no pay-basis. "
            "Zullen we even bellen?",
        ),
    ):
        row = triage(mail(subject, body, sender="sales@vendor-example.eu"))
        assert (row.decision, row.category) == ("ignore", "spam_or_cold"), subject


def test_the_same_price_in_a_quote_answering_the_owner_is_no_pitch() -> None:
    # The walk-around: a vendor she asked answers her mail with the same words.
    asked = "<ask-1@lumenhive.com>"
    profile = dataclasses.replace(PROFILE, sent_ids=frozenset({asked}))
    quote = dataclasses.replace(
        mail(
            "Re: contract SRE for December",
            "Hi Priya, as discussed: two engineers available now, EUR 600/day. Shall I book "
            "the intake for Monday?",
            sender="callum@stratton-it.example",
        ),
        in_reply_to=asked,
    )
    row = triage(quote, profile)
    assert row.decision == "respond" and row.category != "spam_or_cold"


def test_a_buyer_asking_for_a_ballpark_is_no_pitch() -> None:
    prospect = mail(
        "Demande d'information - API entrepôt",
        "Bonjour Madame Raman, je me permets de vous écrire directement. Nous étudions des "
        "solutions comme la vôtre. Quel est l'ordre de grandeur du prix pour 3 entrepôts ?",
        sender="n.rousseau@transports-example.fr",
    )
    row = triage(prospect)
    assert row.decision == "respond" and row.category != "spam_or_cold"
    # The walk-around: a seller's own opener with no buyer's question stays cold.
    seller = mail(
        "Partenariat",
        "Bonjour Madame Raman, je me permets de vous écrire directement : nous aidons les "
        "entreprises de logistique à réduire leurs coûts. Un appel de 15 minutes ?",
        sender="contact@agence-example.fr",
    )
    assert triage(seller).decision == "ignore"


def test_a_bill_behind_a_link_dressed_as_another_brand_is_suspicious_though_signed() -> None:
    bill = mail(
        "FINAL NOTICE: Invoice INV-88213 past due",
        "Dear Customer, invoice INV-88213 (EUR 7,845.00) remains unpaid. View the invoice "
        "(SharePoint): https://northline-fs-my.sharepoint-docs.com/INV88213",
        sender="ar-notify@northline-fs.com",
        headers=SIGNED,
    )
    row = triage(bill)
    assert row.suspicious and row.decision == "ignore"
    # The walk-around: the same signed bill linking to its own domain is a bill, not a phish.
    own = dataclasses.replace(
        bill, body=bill.body.replace("northline-fs-my.sharepoint-docs.com", "northline-fs.com")
    )
    assert not triage(own).suspicious


def test_a_strangers_password_protected_archive_is_a_lure() -> None:
    body = (
        "Dear Priya, I apply for the Senior Backend Engineer role. My CV is too large for "
        "email: https://cv-share-docs.example/d/cv.zip Password to open the archive: Lumen2026"
    )
    row = triage(mail("Application - CV", body, sender="lars.cv@gmail.com"))
    assert row.suspicious and row.decision == "ignore"
    # The walk-around: a colleague sharing a protected archive is no stranger.
    colleague = triage(mail("Logs", body, sender="mateo@lumenhive.com"))
    assert not colleague.suspicious


def test_a_help_line_is_no_question_to_the_reader() -> None:
    assert not asks_a_question("sleutel afgeven buiten openingstijden? gebruik de brievenbus.")
    assert not asks_a_question("questions? contact us at help@shop.example")
    assert not asks_a_question("see https://shop.example/?id=4 for the order")
    # The walk-around: a person's question followed by how to answer still asks.
    assert asks_a_question("kan arjun woensdag komen spelen? laat maar weten")
    assert asks_a_question("can you make it? let me know by friday")
    confirmation = mail(
        "Bevestiging afspraak APK maandag 30 november 08:00",
        "Beste mevrouw Raman, hierbij bevestigen wij uw afspraak: maandag 30 november, 08:00. "
        "Sleutel afgeven buiten openingstijden? Gebruik de sleutelbrievenbus naast de deur.",
        sender="planning@autobedrijf-example.nl",
    )
    assert triage(confirmation).decision == "notify"


def test_a_calendar_invitation_to_a_whole_list_is_shown_not_asked() -> None:
    subject = "Invitation: All-Hands - December @ Thu 10 Dec 2026 16:00 - 17:30 (CET) ({to})"
    body = (
        "You have been invited to the following event.\n\nTitle: All-Hands - December\n"
        "When: Thursday 10 Dec 2026 16:00 - 17:30\nJoining info: https://meet.google.com/abc\n"
        "Reply for {to}: Yes / No / Maybe\nInvitation from Google Calendar"
    )
    listed = mail(
        subject.format(to="all@lumenhive.com"),
        body.format(to="all@lumenhive.com"),
        sender="people@lumenhive.com",
        to="all@lumenhive.com",
        headers={**ROBOT, "List-Id": "<all.lumenhive.com>"},
    )
    assert triage(listed).decision == "notify"
    # The walk-around: the same invitation to the owner herself asks her.
    own = mail(
        subject.format(to=OWNER),
        body.format(to=OWNER),
        sender="people@lumenhive.com",
        headers=ROBOT,
    )
    assert triage(own).decision == "respond"


def test_an_answer_to_the_owners_invitation_with_a_note_is_shown() -> None:
    subject = "Accepted: Sprint 24 planning @ Mon 30 Nov 2026 10:00 - 11:30 (CET) ({to})"
    note = 'Lena Fischer said: "Bin erst ab 10:15 da, Zahnarzt um 9 - sorry!"\n\n'
    body = (
        "Lena Fischer has accepted this invitation.\n\n{note}Title: Sprint 24 planning\n"
        "When: Monday 30 Nov 2026 10:00 - 11:30\nInvitation from Google Calendar"
    )

    def answer(with_note: str) -> str:
        email = mail(
            subject.format(to=OWNER),
            body.format(note=with_note),
            sender="lena@lumenhive.com",
            headers=ROBOT,
        )
        return triage(email).decision

    assert answer(note) == "notify"
    # The walk-around: a bare acceptance is noise, as before.
    assert answer("") == "ignore"


def test_a_shops_answer_keeps_the_owners_own_fault_report_as_hers() -> None:
    asked = "<complaint-1@fastmail.com>"
    profile = dataclasses.replace(
        PROFILE,
        owner_addresses=(OWNER, "priya.raman@fastmail.com"),
        sent_ids=frozenset({asked}),
        known_people=frozenset({"klantenservice@shop.example"}),
    )
    answer = dataclasses.replace(
        mail(
            "Re: Bestelling 4192288731 - stoel beschadigd, retourlabel werkt niet",
            "Hoi Priya, wat vervelend! Ik heb het voor je geregeld: er komt kosteloos een "
            "nieuwe stoel, de bezorger neemt de oude mee. Je hoeft verder niets te doen.",
            sender="klantenservice@shop.example",
            to="priya.raman@fastmail.com",
        ),
        in_reply_to=asked,
    )
    assert triage(answer, profile).decision == "notify"
    # The walk-around: a customer's own fresh report of a fault still asks her.
    report = mail(
        "Export werkt niet - stoel in de planning beschadigd",
        "Hoi Priya, de export werkt niet sinds gisteren en we krijgen een foutmelding.",
        sender="planner@brightwater.example",
    )
    assert triage(report).decision == "respond"


def test_a_class_parents_collection_for_a_voucher_is_no_gift_card_fraud() -> None:
    collection = mail(
        "Groep 6: cadeautje voor juf Marieke",
        "Hoi ouders van groep 6, we geven de juf een cadeaubon van de boekhandel namens de "
        "klas. Wil je 5 euro per kind overmaken via deze Tikkie? https://tikkie.me/pay/Kok/8xQ2",
        sender="sanne.kok@hotmail.com",
        to="ouders-groep6@regenboog.example",
    )
    assert not triage(collection).suspicious
    # The walk-around: asking the reader to buy gift cards and send the codes is fraud still.
    fraud = mail(
        "Quick favour",
        "Are you free? I need you to buy 5 Apple gift cards for a client today and send me "
        "the codes. Keep it between us for now.",
        sender="daniel.okafor.office@gmail.com",
    )
    assert triage(fraud).suspicious == "asks for gift cards"
