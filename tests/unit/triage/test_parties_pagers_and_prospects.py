"""Signals found on the zg-*, zh-* and zi-* mail and the dev mail beside it, each with an input
that walks around it.
"""

from __future__ import annotations

import dataclasses

from graph.engines.triage.profile import MailboxProfile
from graph.engines.triage.rulebook import default_rules
from tests.unit.triage.owner_mail import OWNER, PROFILE, ROBOT, mail, triage
from tools.mail.model import Email

ALL_STAFF = {"List-Id": "<all.lumenhive.com>"}
"""The company's own all-staff list."""


def _program(subject: str, body: str, sender: str) -> Email:
    """A program's mail to the owner with a mailing's unsubscribe link, as services send."""
    unsubscribe = {"List-Unsubscribe": f"<https://{sender.rpartition('@')[2]}/u>"}
    return mail(subject, body, sender=sender, headers={**ROBOT, **unsubscribe})


def _flags(text: str) -> set[str]:
    """The phrase flags `text` raises, lower-cased as the scorer reads it."""
    lowered = text.casefold()
    return {rule.flag for rule in default_rules().flags if rule.pattern.regex.search(lowered)}


def _party(to: str, body: str) -> Email:
    return mail(
        "Winter party 18 Dec + office closed 24 Dec - 1 Jan",
        body,
        sender="office@lumenhive.com",
        to=to,
        headers=ALL_STAFF if to != OWNER else None,
    )


def test_an_all_staff_partys_rsvp_is_shown_one_written_to_the_owner_is_answered() -> None:
    body = "Hi all, the winter party is on 18 Dec. Please RSVP by Friday. The office is closed.\n"
    assert triage(_party("all@lumenhive.com", body)).decision == "notify"
    # Walks around the check: the same RSVP asked of the owner alone wants her answer.
    assert triage(_party(OWNER, body)).decision == "respond"
    # And an all-staff mail with a real task and a date is still work.
    task = "Managers: please submit your team's holiday rota by Friday. RSVP for the party too.\n"
    assert triage(_party("all@lumenhive.com", task)).decision == "respond"


def _answer(subject: str, body: str, *, thread: str) -> Email:
    reply = mail(subject, body, sender="joris@dataops.example")
    return dataclasses.replace(reply, in_reply_to=thread, references=(thread,))


def test_a_reply_to_the_owners_question_does_not_ask_it_back() -> None:
    sent = "<sent-1@lumenhive.com>"
    profile = dataclasses.replace(PROFILE, sent_ids=frozenset({sent}))
    subject = "Re: DataOps Amsterdam 2027 - would you be interested?"
    fine = _answer(subject, "Great title! A co-speaker is absolutely fine.\n", thread=sent)
    assert triage(fine, profile).decision == "notify"
    # Walks around the check: a question in the reply's own words is asked of her.
    asks = _answer(subject, "Great title! Could you send both bios?\n", thread=sent)
    assert triage(asks, profile).decision == "respond"
    # And a stranger's "Re:" that answers nothing of hers keeps the subject's question.
    stranger = _answer(subject, "Great title! A co-speaker is fine.\n", thread="<x@else.example>")
    assert triage(stranger, profile).decision == "respond"


def _run_failed(workflow: str, body: str) -> Email:
    return mail(
        f"[lumenhive/warehouse-api] Run failed: {workflow} - main (a81f2c7)",
        body,
        sender="notifications@github.com",
        headers={**ROBOT, "List-Id": "<warehouse-api.lumenhive.github.com>"},
    )


def test_a_nightly_test_runs_failure_is_skipped_a_deploys_is_not() -> None:
    nightly = _run_failed("nightly-integration", "The nightly-integration workflow failed.\n")
    assert triage(nightly).decision == "ignore"
    # Walks around the check: a nightly run that deploys, restores a backup or touches
    # production is shown.
    for workflow in ("nightly-deploy", "nightly-backup-verify", "nightly-prod-smoke"):
        assert triage(_run_failed(workflow, "The workflow failed.\n")).decision == "notify"
    assert triage(_run_failed("CI", "The CI workflow failed.\n")).decision == "notify"


def test_a_schools_app_posting_for_a_school_the_owner_writes_to_is_shown() -> None:
    profile = dataclasses.replace(PROFILE, written_domains=frozenset({"regenboog-amsterdam.nl"}))

    def post(name: str) -> Email:
        message = mail(
            "Nieuw bericht in Groep 6: Hulpouders gezocht voor schaatsen",
            "Beste ouders, voor het schaatsen op 10 december zoeken we nog hulpouders.\n",
            sender="noreply@socialschools.eu",
            headers={**ROBOT, "List-Unsubscribe": "<https://app.socialschools.eu/settings>"},
        )
        return dataclasses.replace(message, from_name=name)

    assert triage(post("Groep 6 - De Regenboog via Social Schools"), profile).decision == "notify"
    # Walks around the check: a school the owner never wrote to, and the school's name
    # outside a relay's "via", are a mailing as before.
    assert triage(post("Groep 6 - De Zonnebloem via Social Schools"), profile).decision == "ignore"
    assert not profile.relays_a_known_org("Regenboog Acties")
    assert not MailboxProfile().relays_a_known_org("De Regenboog via Social Schools")


def test_a_clubs_called_off_training_is_a_change_of_plans() -> None:
    assert "calendar_update" in _flags("AFGELAST: training JO10-3 woensdag 25 november")
    assert "calendar_update" in _flags("Training fällt heute aus")
    assert "calendar_update" in _flags("Zwemles gaat vandaag niet door")
    # Walks around the check: the same words in a sentence that cancels nothing of hers.
    assert "calendar_update" not in _flags("Training schedule for the winter")


def test_a_prospect_asking_the_price_is_no_pitch_a_seller_asking_it_is() -> None:
    stranger = "t.wojcik@vistula-logistics.example"
    prospect = mail(
        "warehouse-api - question about integration and price",
        "We have a big problem: stock updates come only every 30 minutes by SFTP.\n"
        "1. Can we send events from our own WMS?\n2. How do you charge - per warehouse?\n"
        "3. Is there a trial or sandbox to test?\n"
        "If you are not the right person, please forward this to your colleague.\n",
        sender=stranger,
    )
    row = triage(prospect)
    assert row.decision == "respond" and row.category != "spam_or_cold"
    assert "rate_minutes" in _flags("stock updates only every 30 minutes")
    # Walks around the check: a seller who asks the price of nothing but sells is cold.
    seller = mail(
        "quick question",
        "We help companies like yours cut support tickets by 40% increase in deflection. "
        "What is your pricing model today? Are you the right person?\n",
        sender="brandon@quotient.example",
    )
    assert triage(seller).decision == "ignore"
    # And a call's length is still a pitch's line where no rate is named.
    assert {"call_minutes"} <= _flags("grab 30 minutes next week?") - {"rate_minutes"}
    minutes = mail("intro", "Could we do 30 minutes next week?\n", sender="x@vendor.example")
    rate = mail("intro", "Could we sync every 30 minutes?\n", sender="x@vendor.example")
    assert triage(minutes).reason != triage(rate).reason


def test_a_pagers_wait_is_no_call_a_pitchs_call_stays_one() -> None:
    # "no ack after 15 min" on an incident read as a pitch's "15 minutes" (cold_line).
    for wait in ("Escalation: Sun-hee Park (no ack after 15 min)", "restarts within 10 minutes"):
        assert "rate_minutes" in _flags(wait)
    incident = mail(
        "[PagerDuty] TRIGGERED #8821: sync lag > 5 min",
        "Incident #8821 TRIGGERED\nEscalation: Sun-hee Park (no ack after 15 min)\n",
        sender="no-reply@pagerduty.example",
        headers=ROBOT,
    )
    row = triage(incident)
    assert row.category != "spam_or_cold" and "cold" not in row.reason
    # Walks around it: a pitch that asks for 15 minutes and names a wait elsewhere loses
    # the call's length, but its other lines still make it cold.
    pitch = mail(
        "quick question",
        "We help teams like yours cut on-call noise by 40%. Most customers see results after "
        "10 minutes of setup. Could I grab 15 minutes next week to show you?\n",
        sender="brandon@quotient.example",
    )
    assert triage(pitch).decision == "ignore"


def test_a_recruiters_right_person_is_not_a_hunt_for_one() -> None:
    assert "pitch_call" not in _flags("they would stretch for the right person")
    assert "pitch_call" in _flags("feel free to forward to the right person on your team")
    assert "pitch_call" in _flags("are you the right person to talk to about this?")


def test_a_website_forms_visitor_is_relayed_and_answered() -> None:
    form = mail(
        "New form submission on lumenhive.com: Technical question",
        "You have a new form submission on lumenhive.com\n\nName: Katrin Vogel\n"
        "Message:\nGibt es eine On-Premise-Variante? Unterstützen Sie EDIFACT?\n",
        sender="no-reply-forms@forms.example",
        headers=ROBOT,
    )
    assert triage(form).decision == "respond"
    # Walks around the check: a form that relays a pitch is skipped.
    spam = dataclasses.replace(
        form,
        body="You have a new form submission\n\nMessage:\nWe help companies like yours rank "
        "higher with SEO and backlinks. Worth a quick chat?\n",
    )
    assert triage(spam).decision == "ignore"


def test_a_pager_escalating_to_the_owner_by_a_table_is_hers() -> None:
    profile = dataclasses.replace(PROFILE, owner_names=frozenset({"priya raman"}))
    page = mail(
        "[PagerDuty ALERT] You have 1 TRIGGERED Incident (4812)",
        "You have 1 TRIGGERED incident.\nService:  warehouse-api (prod)\n"
        "Escalated to:       Priya Raman (level 2, after 15 minutes)\n",
        sender="no-reply@pagerduty.example",
        headers=ROBOT,
    )
    assert triage(page, profile).decision == "respond"
    # Walks around the check: escalated to someone else is shown, not hers to answer.
    other = dataclasses.replace(page, body=page.body.replace("Priya Raman", "Sun-hee Park"))
    assert triage(other, profile).decision == "notify"


def test_work_counted_out_by_a_tool_and_approvals_are_the_owners() -> None:
    for text in (
        "Reminder: 2 reviews still to write - H2 2026 performance cycle",
        "4 manager reviews due 27 November",
        "Manager reviews close Friday 27 November",
        "2 transactions need a receipt",
        "You have 3 expense reports to approve",
    ):
        assert _flags(text) & {"action_required", "approval_ask", "owed_work"}, text
    approvals = _program(
        "You have 3 expense reports to approve",
        "Lena, Mateo and Jonas submitted expense reports. Approve or reject them before 30 Nov.\n",
        "concierge@expenses.example",
    )
    assert triage(approvals).decision == "respond"
    # Walks around the check: a mailing's "2 reviews" of products asks nothing of her.
    assert not _flags("Read 2 reviews of the new headphones") & {"action_required", "owed_work"}


def test_a_sales_sequence_from_a_persons_address_is_cold_a_newsletter_is_not() -> None:
    unsubscribe = {"List-Unsubscribe": "<https://t.tracepilot.example/unsub/88123>"}
    pitch = mail(
        "quick question, Priya",
        "Would it make sense to compare notes on how you trace webhook latency?\n",
        sender="ryan.cole@tracepilot.example",
        headers=unsubscribe,
    )
    pitch = dataclasses.replace(pitch, from_name="Ryan Cole")
    row = triage(pitch)
    assert (row.decision, row.category) == ("ignore", "spam_or_cold")
    # Walks around the check: the same words from a newsletter's address are a mailing's.
    news = dataclasses.replace(pitch, from_addr="news@tracepilot.example", from_name="Tracepilot")
    assert triage(news).category != "spam_or_cold"


def test_a_networks_relay_of_a_strangers_pitch_is_cold() -> None:
    relayed = _program(
        'Brandon sent you a message: "Reducing escalations at Lumenhive"',
        "Brandon sent you a message.\nI came across Lumenhive - would it make sense to grab "
        "15 minutes next week?\n",
        "messages-noreply@network.example",
    )
    assert triage(relayed).category == "spam_or_cold"
    # Walks around the check: a colleague's relayed message is no pitch.
    colleague = dataclasses.replace(
        relayed,
        subject="Mateo sent you a message",
        body="Mateo sent you a message.\nCan you look at the export fix before standup?\n",
    )
    assert triage(colleague).category != "spam_or_cold"


def _github(body: str) -> Email:
    return mail(
        "Re: [lumenhive/warehouse-api] WAPI-2297: async export jobs - design + rollout plan",
        body,
        sender="notifications@github.com",
        to="warehouse-api@noreply.github.com",
        headers={
            **ROBOT,
            "List-Id": "<warehouse-api.lumenhive.github.com>",
            "List-Unsubscribe": "<https://github.com/notifications/unsubscribe>",
        },
    )


def test_a_colleagues_at_mention_in_a_developer_tool_is_an_ask_of_the_owner() -> None:
    profile = dataclasses.replace(PROFILE, owner_names=frozenset({"priya raman"}))
    ask = _github("@priya-raman can you sign off on the rollout plan? Need a yes/no by Monday.\n")
    assert triage(ask, profile).decision == "respond"
    # Walks around the check: the same thread without her handle, or with another's, is the
    # team's, and a tool's bill that greets her by handle is no colleague talking.
    assert triage(_github("@mateo can you sign off on the plan?\n"), profile).decision != "respond"
    assert not profile.mentions_owner("mail priya@lumenhive.com about it")
    assert profile.mentions_owner("thanks @priyaraman, that fixed it")


def test_a_stranger_reporting_the_owners_product_broken_is_no_pitch() -> None:
    report = mail(
        "webhook signatures failing since yesterday - who should I talk to?",
        "Since yesterday our endpoint rejects most of your calls: the HMAC signature does not "
        "match. It is not working since 16:00. We opened a ticket but haven't heard back yet. "
        "Is there someone who could look at this today?\n",
        sender="r.hoekstra@koeltransport.example",
    )
    row = triage(report)
    assert (row.decision, row.category) == ("respond", "bug_report")
    # Walks around the check: a "your site is broken" that sells a fix is cold.
    pitch = mail(
        "your checkout is broken on mobile",
        "Your checkout is not working since the last release on mobile. We help companies like "
        "yours fix this in a week - worth a quick call?\n",
        sender="growth@agency.example",
    )
    assert triage(pitch).decision == "ignore"


def test_reviews_a_tool_counts_out_are_hers_through_its_unsubscribe_link() -> None:
    reminder = _program(
        "Reminder: 3 manager reviews due Friday 27 November",
        "Manager reviews are due this Friday. You have 3 reviews still to submit.\n",
        "notifications@reviews.example",
    )
    assert triage(reminder).decision == "respond"
    # Walks around the check: a shop's "reviews" of its products owe her nothing.
    shop = dataclasses.replace(
        reminder, subject="Read 3 reviews of the new headphones", body="See what buyers say.\n"
    )
    assert triage(shop).decision != "respond"


def test_a_customer_who_says_so_and_names_a_ticket_is_no_pitch() -> None:
    customer = mail(
        "Webhook signatures failing since Tuesday (ticket #18467)",
        "Apologies for writing to you directly. We are a fairly new Lumenhive customer. Since "
        "Tuesday our receiver rejects about 30% of your webhook calls. We raised ticket #18467 "
        "with your support but only got the automatic confirmation. Could you point us to the "
        "right person?\n",
        sender="k.jansen@veldhuis.example",
    )
    row = triage(customer)
    assert row.decision == "respond" and row.category != "spam_or_cold"
    # Walks around the check: a seller who claims to be a customer and sells is cold.
    seller = mail(
        "quick question",
        "We are a long-time customer of logistics APIs ourselves. We help companies like yours "
        "cut webhook costs by 40% increase in throughput - are you the right person?\n",
        sender="sam@growthco.example",
    )
    assert triage(seller).decision == "ignore"


def test_a_three_letter_shops_name_before_a_hyphen_is_an_imitation() -> None:
    profile = dataclasses.replace(
        PROFILE,
        written_domains=frozenset({"bol.com"}),
        sending_domains=frozenset({"bol.com"}),
        known_domains=frozenset({"bol.com"}),
    )

    def refund(sender: str) -> Email:
        return mail(
            "Terugbetaling bestelling 4192288731 - bevestig uw gegevens",
            "Uw terugbetaling van EUR 89,99 staat klaar. Bevestig uw IBAN via iDEAL (EUR 0,01).\n",
            sender=sender,
        )

    assert triage(refund("service@bol-terugbetaling.info"), profile).suspicious
    # Walks around the check: the shop itself, and a name that only starts with its letters.
    assert not triage(refund("klantenservice@bol.com"), profile).suspicious
    assert not triage(refund("support@bolt-rides.example"), profile).suspicious


def test_a_prospect_asking_roughly_what_it_costs_is_answered() -> None:
    prospect = mail(
        "Is warehouse-api something for a 2-site 3PL?",
        "Is there a connector for our WMS? Roughly what does it cost? If this is the wrong "
        "inbox, I'd be grateful if you could forward it to the right person.\n",
        sender="pieter@claeslogistics.example",
    )
    assert triage(prospect).decision == "respond"
    assert "buyer_ask" in _flags("what are your rates for a small warehouse?")
    # Walks around the check: "what it cost us" tells, it does not ask the price.
    assert "buyer_ask" not in _flags("you would not believe what it cost us last year")


def test_the_street_outside_closed_for_works_is_worth_seeing() -> None:
    letter = _program(
        "Werkzaamheden Tweede Oosterparkstraat 30 november - 11 december",
        "Bewonersbrief. De straat is afgesloten voor autoverkeer. Parkeren in dit deel van de "
        "straat is niet mogelijk vanaf maandag 30 november.\n",
        "noreply@city.example",
    )
    assert triage(letter).decision == "notify"
    assert "service_change" in _flags("road works on your street next week")
    # Walks around the check: a shop "closed" for the holidays changes nothing she runs.
    assert "service_change" not in _flags("our store is closed on sunday")


def test_the_owners_own_visa_card_is_no_gift_card() -> None:
    assert "gift_card" not in _flags("your visa card ending 4417 has expired")
    assert "gift_card" in _flags("buy 5 visa gift cards and send me the codes")
    assert "gift_card" in _flags("get me two steam cards")


def test_a_managers_name_on_gmail_asking_for_discretion_is_fraud() -> None:
    profile = dataclasses.replace(PROFILE, colleague_names=frozenset({"daniel okafor"}))
    favour = mail(
        "quick favour",
        "Are you available? I need you to handle something discreetly for me before month "
        "end. Don't mention it to anyone yet. Reply with your WhatsApp number.\n",
        sender="daniel.okafor.lh@gmail.example",
    )
    favour = dataclasses.replace(favour, from_name="Daniel Okafor")
    assert triage(favour, profile).suspicious
    # Walks around the check: the same name from outside asking only for a time is not fraud.
    plain = dataclasses.replace(favour, body="Could we move our 1:1 to Thursday?\n")
    assert not triage(plain, profile).suspicious


def test_a_customer_writing_politely_in_french_is_no_pitch() -> None:
    customer = mail(
        "Retard de synchronisation des stocks le 18/11 - sommes-nous concernés ?",
        "Je me permets de vous écrire directement. Je suis responsable des systèmes chez "
        "Transports Lemoine, client de warehouse-api depuis mars. S'agit-il d'un incident "
        "connu ?\n",
        sender="m.garnier@transports.example",
    )
    assert triage(customer).decision == "respond"
    # Walks around the check: the same courtesy before an offer of services is a pitch.
    pitch = mail(
        "Partenariat",
        "Je me permets de vous écrire. Nous sommes client de nombreux outils ; nous aidons les "
        "entreprises comme la vôtre. We help companies like yours cut costs by 30% increase "
        "in margin - worth a quick call?\n",
        sender="contact@agence.example",
    )
    assert triage(pitch).decision == "ignore"


def test_customers_in_the_plural_and_their_ticket_say_who_they_are() -> None:
    for text in (
        "nous sommes clients de lumenhive depuis septembre",
        "wir sind kunden seit märz",
        "notre ticket au support (#18311) n'avance pas",
    ):
        assert "says_customer" in _flags(text), text
    # Walks around the check: a vendor's "our customers" speaks of its own.
    assert "says_customer" not in _flags("our customers include dhl and maersk")


def test_a_stranded_relatives_money_request_with_replies_elsewhere_is_fraud() -> None:
    plea = mail(
        "kun je me helpen",
        "Ik moet vandaag een dringende betaling doen van 1.450 euro maar mijn bankpas werkt "
        "niet. Ik betaal het je morgen terug. Antwoord alleen via mail a.u.b.\n",
        sender="ineke.devries@kpnmail.example",
    )
    hijacked = dataclasses.replace(plea, reply_to="ineke.devries1956@outlook.example")
    assert triage(hijacked).suspicious
    # Walks around the check: the same words with replies going to the sender are hers to
    # judge, not flagged as fraud by the words alone.
    assert not triage(plea).suspicious
    assert "money_request" in _flags("i'll pay you back on monday, promise")
