"""Signals found on the zzc-* to zzh-* mail (the run-up to the holidays, accounts and security,
customers across the world, back from a week off, life outside the day job, hiring), each
with an input that walks around it.
"""

from __future__ import annotations

import dataclasses

from tests.unit.triage.owner_mail import PROFILE, answering_owner, mail, triage

COLLEAGUES = dataclasses.replace(
    PROFILE,
    colleague_names=frozenset({"chloé martin", "platform team", "lumenhive it"}),
)
"""A mailbox whose colleagues include Chloé Martin, and two senders that are no person."""


def test_a_stranger_a_colleague_sent_is_no_cold_outreach() -> None:
    for subject, body in (
        (
            "Rafale de webhooks après notre maintenance",
            "Bonjour Madame Raman, je me permets de vous écrire directement, sur les conseils "
            "de Chloé Martin. Vos serveurs nous ont renvoyé 40 000 webhooks en trois minutes. "
            "Existe-t-il une limitation configurable ? Pouvez-vous répondre avant le 19 ?",
        ),
        (
            "Intégration API pour nos entrepôts",
            "Bonjour Madame Raman, je me permets de vous contacter directement : votre collègue "
            "Chloé Martin m'a donné votre nom au salon SITL. Votre API accepte-t-elle des "
            "événements envoyés en lot ? Où sont hébergées les données ?",
        ),
        (
            "Re: Intro: Haoyun <> Lumenhive engineering",
            "Dear Priya, thank you Chloé for introduce us. Chloé said you are the right person "
            "for our technical questions. Could your team do a workshop with our developers? "
            "Which dates in January would suit you?",
        ),
    ):
        row = triage(mail(subject, body, sender="it@shipper-example.cn"), COLLEAGUES)
        assert row.category != "spam_or_cold" and row.decision == "respond", subject


def test_a_referral_claimed_by_someone_who_sells_stays_cold() -> None:
    # The walk-around: the same name dropped into a pitch that offers services.
    pitch = mail(
        "Chloé suggested I reach out",
        "Hi Priya, Chloé suggested I reach out. We help logistics platforms cut their cloud "
        "bill by 40% with no code changes. Worth a quick 15-minute call next week?",
        sender="sam@cloudsaver-example.io",
    )
    assert triage(pitch, COLLEAGUES).decision == "ignore"
    # Nor does a sender's name that is no person's (a team, a tool) count as a referrer.
    team = mail(
        "Quick intro",
        "Hi Priya, your platform team suggested I reach out about your roadmap. Are you the "
        "right person to talk to about API observability? Open to a quick chat?",
        sender="kyle@observa-example.com",
    )
    assert triage(team, COLLEAGUES).decision == "ignore"


def test_a_beg_bounty_is_cold_and_a_real_report_is_not() -> None:
    beg = mail(
        "Critical Vulnerability Found In Your Website",
        "Hello Team, I am a security researcher. I found a critical vulnerability: missing "
        "DMARC record, attackers can do email spoofing of your domain. I hope you will reward "
        "me with a bounty according to the severity. Please let me know your bounty policy.",
        sender="whitehat.researcher@gmail.com",
    )
    row = triage(beg)
    assert (row.decision, row.category) == ("ignore", "spam_or_cold")
    # The walk-around: a researcher with a real finding who also asks about a bounty.
    real = mail(
        "Cross-tenant read in /v2/shipments/{id}/events",
        "Hi, with our own key GET /v2/shipments/48812297/events returns events of another "
        "tenant. Repro steps below. Do you have a bug bounty program? Either way, could you "
        "tell me when it is fixed?",
        sender="a.researcher@proton.me",
    )
    assert triage(real).decision == "respond"


def test_nothing_needed_from_you_is_worth_knowing_only() -> None:
    colleague = "noor@lumenhive.com"
    done = mail(
        "Rafael signed!",
        "Hi both, the signed contract came back this morning. I've kicked off onboarding. "
        "Nothing needed from you right now - I'll send the first-week schedule in January.",
        sender=colleague,
    )
    assert triage(done).decision == "notify"
    # The walk-around: nothing needed in one place, but an ask all the same.
    ask = mail(
        "Onboarding",
        "Hi Priya, nothing needed from you in Workday. Could you approve Rafael's laptop "
        "order today?",
        sender=colleague,
    )
    assert triage(ask).decision == "respond"


def test_a_strangers_meeting_put_in_the_calendar_is_cold() -> None:
    hold = mail(
        "Priya - Thursday 15 mins?",
        "Hi Priya, I went ahead and put a placeholder on your calendar for Thursday at 10:00 "
        "to show you how ShipMetrics gives engineering teams API observability. If that time "
        "doesn't work, grab another one here: https://shipmetrics.chilipiper.com/book/kyle",
        sender="kyle.henderson@shipmetrics-example.com",
    )
    assert triage(hold).decision == "ignore"
    # The walk-around: a colleague's placeholder is work.
    ours = mail(
        "Retro",
        "Hi Priya, I put a placeholder on your calendar for the incident retro on Thursday. "
        "Can you bring the timeline?",
        sender="mateo@lumenhive.com",
    )
    assert triage(ours).decision == "respond"


def test_a_german_headhunters_call_is_cold() -> None:
    headhunter = mail(
        "Vertraulich: Head of Engineering (m/w/d), München",
        "Sehr geehrte Frau Raman, Ihr Profil ist mir bei der Recherche für ein vertrauliches "
        "Mandat aufgefallen. Hätten Sie in den nächsten Tagen Zeit für ein kurzes, "
        "unverbindliches Telefonat von 15 Minuten?",
        sender="s.kroeger@kroeger-partner-example.de",
    )
    assert triage(headhunter).decision == "ignore"


def test_a_help_desk_escalating_to_the_owner_by_team_and_name_needs_her() -> None:
    owner_named = dataclasses.replace(PROFILE, owner_names=frozenset({"priya raman"}))
    body = (
        "Your request (18640) has been escalated to: Engineering - warehouse-api (Priya Raman)\n"
        "Internal note: 502/504 on /v2/shipments since 07:40, the customer's scanners queue. "
        "Please can someone pick this up ASAP."
    )
    headers = {"Auto-Submitted": "auto-generated"}
    escalated = mail(
        "[Support] Re: [URGENT] 502/504", body, sender="support@desk.example", headers=headers
    )
    assert triage(escalated, owner_named).decision == "respond"
    # The walk-around: escalated to someone else, the owner only named in brackets after.
    other = body.replace("(Priya Raman)", "(Mateo Alvarez, cc Priya Raman)")
    elsewhere = mail(
        "[Support] Re: [URGENT] 502/504", other, sender="support@desk.example", headers=headers
    )
    assert triage(elsewhere, owner_named).decision != "respond"


def test_an_agencys_candidate_for_the_owners_vacancy_is_a_pitch() -> None:
    agency = mail(
        "Kandidaat voor uw vacature Backend Engineer",
        "Beste Priya, ik zag dat Lumenhive op zoek is naar een Backend Engineer. Ik heb op dit "
        "moment een zeer sterke kandidaat die direct beschikbaar is. Het geanonimiseerde "
        "profiel stuur ik je graag toe. Zullen we deze week even bellen?",
        sender="sander@werving-example.nl",
    )
    assert triage(agency).decision == "ignore"
    # The walk-around: a candidate applying in person is no agency.
    applicant = mail(
        "Sollicitatie Backend Engineer",
        "Beste Priya, ik zag dat Lumenhive op zoek is naar een Backend Engineer en wil graag "
        "solliciteren. Mijn cv zit in de bijlage. Wanneer hoor ik iets?",
        sender="jeroen.devries@example-mail.nl",
    )
    assert triage(applicant).decision != "ignore"


def test_an_ask_for_the_owners_word_is_an_ask() -> None:
    colleague = "mateo@lumenhive.com"
    signoff = mail(
        "One thing that needs you: removing the sync export path",
        "Hi Priya, PR #2368 removes the old synchronous export path. Our deprecation policy "
        "says EM sign-off. If you're OK with it, Chloé sends the notice this week.",
        sender=colleague,
    )
    assert triage(signoff).decision == "respond"
    teacher = mail(
        "Re: even over Arjun",
        "Beste Priya en Tom, het gaat beter met Arjun. Ik zou graag kort met jullie praten, "
        "dinsdag of donderdag na schooltijd. Laat maar weten wat jullie past.",
        sender="m.visser@school-example.nl",
    )
    assert triage(teacher).decision == "respond"
    # The walk-around: the writer's own promise to say more is no ask.
    update = mail(
        "Re: even over Arjun",
        "Beste Priya en Tom, het gaat beter met Arjun in de pauzes. Ik houd het in de gaten en "
        "laat het weten als er weer iets is.",
        sender="m.visser@school-example.nl",
    )
    assert triage(update).decision == "notify"


def test_new_bank_details_from_a_stranger_are_fraud_in_every_language() -> None:
    for subject, body in (
        (
            "Factuur 2026-1183 / gewijzigde bankgegevens",
            "Geachte heer/mevrouw, onze bankgegevens zijn per direct gewijzigd. Wij verzoeken u "
            "de openstaande factuur (EUR 2.184,50) vandaag over te maken naar ons nieuwe "
            "rekeningnummer.",
        ),
        (
            "Rechnung 4471: neue Bankverbindung",
            "Sehr geehrte Damen und Herren, bitte überweisen Sie den offenen Betrag der Rechnung "
            "4471 ab sofort auf unsere neue Bankverbindung.",
        ),
        (
            "Facture 88-12 : nouvelles coordonnées bancaires",
            "Bonjour, veuillez noter nos nouvelles coordonnées bancaires pour le règlement de la "
            "facture 88-12, à payer avant vendredi.",
        ),
    ):
        row = triage(mail(subject, body, sender="administratie@teamwear-sport.example"))
        assert row.decision == "ignore" and row.suspicious, subject
    # The walk-around: the same invoice from the sender with no new account is a bill.
    bill = mail(
        "Factuur 2026-1183",
        "Geachte heer/mevrouw, hierbij de factuur 2026-1183 voor de trainersjassen "
        "(EUR 2.184,50), te betalen binnen 14 dagen.",
        sender="administratie@teamwear-sport.example",
    )
    assert not triage(bill).suspicious
    # Nor is a treasurer's warning that quotes the fraud's words.
    warning = mail(
        "Fwd: Factuur 2026-1183 - akkoord?",
        "Hoi Priya, hierbij de factuur van Teamwear Sport. Ik heb even jouw akkoord nodig. LET "
        'OP: er gaat een nepmail rond met "gewijzigde bankgegevens" voor deze factuur. Hun '
        "rekeningnummer is niet veranderd.",
        sender="penningmeester@hockeyclub-example.nl",
    )
    row = triage(warning)
    assert not row.suspicious and row.decision == "respond"


def test_a_formal_dutch_ask_to_confirm_is_an_ask() -> None:
    landlord = mail(
        "RE: lekkage badkamer [#2026-4471]",
        "Geachte mevrouw Raman, de monteur komt donderdag tussen 08:00 en 12:00 uur. Wij "
        "verzoeken u deze afspraak te bevestigen door op deze e-mail te antwoorden.",
        sender="technisch@vastgoedbeheer-example.nl",
    )
    assert triage(landlord).decision == "respond"


def test_a_user_whose_purchasing_needs_an_invoice_is_a_buyer() -> None:
    buyer = mail(
        "gs1go - support commercial ?",
        "Bonjour Madame Raman, je me permets de vous écrire directement. Nous utilisons gs1go "
        "en production. Seriez-vous disponible pour un contrat de support annuel ? Notre "
        "service achats a besoin d'une facture. Un appel de 30 minutes en janvier ?",
        sender="camille.lefevre@vasseur-logistique.example",
    )
    assert triage(buyer).decision == "respond"
    # The walk-around: the same opener selling a service is a pitch.
    seller = mail(
        "Support pour vos applications",
        "Bonjour Madame Raman, je me permets de vous écrire directement. Nous aidons les "
        "entreprises de logistique à maintenir leurs applications. Un appel de 30 minutes ?",
        sender="contact@agence-example.fr",
    )
    assert triage(seller).decision == "ignore"


def test_a_relatives_new_number_from_an_unknown_address_is_fraud() -> None:
    scam = mail(
        "my new number",
        "Hi Priya, this is Karthik, my phone fell in water. This is my new number +44 7418 "
        "339 206, please message me on WhatsApp. I need small help urgently. Please dont "
        "call Amma and Appa about this.",
        sender="karthikraman.help@gmail.com",
    )
    row = triage(scam)
    assert row.decision == "ignore" and row.suspicious
    # The walk-around: the brother's own address, which the owner writes to, is him.
    brother = "karthik.raman@gmail.com"
    known = dataclasses.replace(PROFILE, known_people=frozenset({brother}))
    real = dataclasses.replace(scam, from_addr=brother)
    assert not triage(real, known).suspicious


def test_a_work_tools_name_on_another_domain_is_phishing() -> None:
    for subject, body, sender in (
        (
            "Action needed: reimbursement of EUR 486.20 failed",
            "Expensify. Reimbursement failed. Hi Priya, your bank rejected the transfer. "
            "Please update your bank account within 3 business days: "
            "https://expensify-payments.net/reimbursement/update",
            "no-reply@expensify-payments.net",
        ),
        (
            "Action Required: 3 approvals on hold - verify your MFA",
            "Dear User, your Salesforce session could not be verified. To release your "
            "approvals and avoid account suspension, re-verify your identity within 12 hours. "
            "Verify Now <https://lumenhive-my-salesforce.sf-verify-access.com/login>",
            "security-noreply@sf-verify-access.com",
        ),
        (
            "Uw pakket wacht op betaling (€ 1,99)",
            "PostNL. Beste klant, uw pakket kon niet worden bezorgd vanwege openstaande "
            "invoerkosten. Openstaand bedrag: € 1,99. Betaal binnen 48 uur: "
            "https://postnl-bezorging.info-track.top/betalen/3SPNL48120937",
            "noreply@info-track.top",
        ),
    ):
        row = triage(
            mail(subject, body, sender=sender, headers={"Auto-Submitted": "auto-generated"})
        )
        assert row.decision == "ignore" and row.suspicious, subject
    # The walk-around: the tool's own notice from its own domain.
    own = mail(
        "Your report was reimbursed",
        "Expensify. Your report 'Oslo - Nordkap visit' of EUR 486.20 was reimbursed. "
        "https://www.expensify.com/reports/R00xK7Q2",
        sender="concierge@expensify.com",
        headers={"Auto-Submitted": "auto-generated"},
    )
    assert not triage(own).suspicious


def test_a_person_answering_an_automatic_reply_is_no_automatic_reply() -> None:
    answer, profile = answering_owner(
        mail(
            "Re: Automatic reply: recording of your talk",
            "Ha, got your auto-reply. The recording is edited. Could you give me a thumbs-up "
            "before the 22nd?",
            sender="eva@meetup-example.org",
        )
    )
    assert triage(answer, profile).decision == "respond"
    # The walk-around: the automatic reply itself is still one.
    ooo = mail(
        "Automatic reply: recording of your talk",
        "I'm away until Monday with limited access to email. Could you write to Mateo for "
        "anything urgent?",
        sender="eva@meetup-example.org",
    )
    assert triage(ooo).decision == "ignore"


def test_a_help_desk_answering_the_owners_ticket_is_no_cold_outreach() -> None:
    words = (
        "Hi Priya, this is Marta from TravelPerk support. Two hotel options are on hold until "
        "18:00, the second 5 minutes' walk from the terminal. Worth a quick 15-minute call to "
        "go through them?"
    )
    subject = "Re: [TravelPerk #2219847] KL1156 cancelled - hotel for tonight"
    desk = "##- Please type your reply above this line -##\n\n"
    agent = triage(mail(subject, desk + words, sender="support@travelperk.example"))
    assert agent.category != "spam_or_cold" and agent.decision == "respond"
    # The walk-around: the same words without the help desk's mark read as a pitch.
    pitch = triage(mail("Hotels for your team", words, sender="marta@hotel-deals.example"))
    assert pitch.decision == "ignore"


def test_a_pay_to_enter_award_is_a_pitch() -> None:
    award = mail(
        "Lumenhive shortlisted: Best Warehouse Integration Platform 2027",
        "Dear Priya Raman, congratulations! Lumenhive has been shortlisted. To confirm your "
        "place on the shortlist, please complete your entry before 8 January. The entry and "
        "evaluation fee is EUR 1,950 (excl. VAT). Confirm entry: https://awards.example/confirm",
        sender="awards@awards-example.eu",
        headers={"List-Unsubscribe": "<https://awards.example/unsub>"},
    )
    assert triage(award).decision == "ignore"
    # The walk-around: her talk accepted, answering her submission, with nothing to pay.
    talk, profile = answering_owner(
        mail(
            "Re: Talk proposal",
            "Dear Priya, congratulations! Your talk has been shortlisted for DataOps "
            "Amsterdam. Could you send us a two-line abstract before 8 January?",
            sender="joris@dataops-example.org",
        )
    )
    assert triage(talk, profile).decision == "respond"


def test_a_customer_turning_to_the_owner_on_a_ticket_needs_her() -> None:
    owner_named = dataclasses.replace(PROFILE, owner_names=frozenset({"priya raman"}))
    desk = (
        "##- Please type your reply above this line -##\n\nYou are receiving this because this "
        "ticket was escalated to Engineering (priority: Urgent).\n\nKaren Holt (Brightwater)\n\n"
    )
    ask = "Priya, I'm adding you directly. Stock positions are frozen. I need an ETA.\n"
    headers = {"Auto-Submitted": "auto-generated"}
    subject = "[Lumenhive] Re: Stock positions frozen (#19022)"
    sender = "support@desk.example"
    turned = mail(subject, desk + ask, sender=sender, headers=headers)
    assert triage(turned, owner_named).decision == "respond"
    # The walk-around: the same ticket turning to someone else is only worth seeing.
    other = mail(subject, desk + ask.replace("Priya,", "Mateo,"), sender=sender, headers=headers)
    assert triage(other, owner_named).decision != "respond"


def test_an_offshore_agencys_rates_and_headcount_are_a_pitch() -> None:
    agency = mail(
        "Re: Partnership opportunity",
        "Dear Sir/Madam, as discussed in my previous mail, we are a leading software company "
        "with 250+ skilled developers. We can provide dedicated resources starting from USD "
        "18/hour. Kindly revert back with your requirement so we can schedule a call.",
        sender="sales@codexa-example.in",
    )
    assert triage(agency).decision == "ignore"
