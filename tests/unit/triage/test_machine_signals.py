"""Signals that tell a program's mail from a person's, each with the mail that walks around it."""

from __future__ import annotations

import dataclasses

from graph.engines.triage import triage_by_rules
from graph.engines.triage.profile import MailboxProfile
from graph.engines.triage.senders import sent_by_a_mailing_system
from graph.engines.triage.verdict import UNSURE_BELOW
from tests.unit.triage.owner_mail import OWNER, PRIVATE, RULES_ALONE, mail
from tools.mail.model import Email

PROFILE = MailboxProfile(owner_addresses=(OWNER, PRIVATE))


def decision(email: Email) -> str:
    """The rules' own decision (`RULES_ALONE`): these tests check what the rules read."""
    return triage_by_rules(email, profile=PROFILE, rules=RULES_ALONE).decision


# A per-message return address (VERP) is a sending system's, not a person's.

STATEMENT = (
    "Hello,\n"
    "Your statement for November is ready. Total: 212.40 EUR.\n"
    "See every line of it on your dashboard.\n"
)


def test_a_per_message_return_address_is_a_mailing_system() -> None:
    for envelope in (
        "<bounces+88213-ab12-priya=lumenhive.com@em.hostly.example>",
        "<0100019b2d7e4c11-7f3e@mail.hostly.example>",
    ):
        sent = mail(
            "November statement",
            STATEMENT,
            sender="billing-team@hostly.example",
            headers={"Return-Path": envelope},
        )
        assert sent_by_a_mailing_system(sent), envelope
        assert not triage_by_rules(sent, profile=PROFILE).from_person, envelope


def test_a_pitch_sent_through_a_mailing_system_is_still_cold() -> None:
    pitch = mail(
        "Quick question, Priya",
        "Hi Priya, who at Lumenhive owns outbound pipeline? We help teams like yours book 3x "
        "more meetings. Open to a 15-minute call next week?",
        sender="brandon@growthly.example",
        headers={"Return-Path": "<bounce-7731@outreach.growthly.example>"},
    )
    row = triage_by_rules(pitch, profile=PROFILE)
    assert (row.category, row.decision) == ("spam_or_cold", "ignore")


def test_the_same_envelope_from_the_writer_or_a_forwarder_is_a_person() -> None:
    own = mail(
        "Lunch?",
        "Free on Thursday?",
        sender="marta@example.org",
        headers={"Return-Path": "<marta@example.org>"},
    )
    forwarded = mail(
        "Lunch?",
        "Free on Thursday?",
        sender="marta@example.org",
        headers={"Return-Path": "<SRS0=x7Qa=TY=example.org=marta@forward.example>"},
    )
    on_a_list = mail(
        "Re: pooling question",
        "Which setting did you change? Could you post it?",
        sender="marta@example.org",
        headers={
            "Return-Path": "<dev-bounces+priya=lumenhive.com@lists.example>",
            "List-Id": "<dev.lists.example>",
        },
    )
    auto_forwarded = mail(
        "Lunch?",
        "Free on Thursday?",
        sender="marta@example.org",
        headers={"Return-Path": "<priya.raman+caf_=priya=lumenhive.com@fastmail.com>"},
    )
    for email in (own, forwarded, on_a_list, auto_forwarded):
        assert not sent_by_a_mailing_system(email), email.headers
    assert decision(own) == "respond"
    assert decision(forwarded) == "respond"
    assert decision(auto_forwarded) == "respond"


def test_someone_the_owner_knows_sending_through_a_mailing_system_is_a_person() -> None:
    customer = mail(
        "Webhook retries",
        "Hi Priya, could you check why our webhook retries stopped on Tuesday?",
        sender="ingrid@customer.example",
        headers={"Return-Path": "<bounce-884412@mail.crm.example>"},
    )
    knows_her = MailboxProfile(
        owner_addresses=(OWNER, PRIVATE), known_people=frozenset({"ingrid@customer.example"})
    )
    assert not triage_by_rules(customer, profile=PROFILE).from_person
    row = triage_by_rules(customer, profile=knows_her)
    assert row.from_person
    assert row.decision == "respond"


# A message that says a program wrote it is a program's, unless a person passes it on.

AUTOMATED = (
    "Your parcel 3SABC123 was delivered to the pick-up point on Main Street 4.\n"
    "Collect it within 7 days with the code 4411.\n"
    "This is an automated message, please do not reply to this email.\n"
)


def test_mail_that_says_it_is_automated_is_a_program() -> None:
    notice = mail(
        "Your parcel is at the pick-up point", AUTOMATED, sender="service@parcels.example"
    )
    row = triage_by_rules(notice, profile=PROFILE)
    assert not row.from_person
    assert row.decision == "notify"


def test_a_forward_of_automated_mail_is_still_a_person() -> None:
    forward = mail(
        "Fwd: Your parcel is at the pick-up point",
        "Could you pick this up on your way home?\n\n" + AUTOMATED,
        sender="tom.devries@fastmail.com",
    )
    row = triage_by_rules(forward, profile=PROFILE)
    assert row.from_person
    assert row.decision == "respond"


def test_a_colleague_quoting_the_words_is_still_a_person() -> None:
    colleague = mail(
        "Alert wording",
        'Should the alert say "This is an automated message, please do not reply to this '
        'email"? What do you think?',
        sender="jonas@lumenhive.com",
    )
    assert triage_by_rules(colleague, profile=PROFILE).from_person
    assert decision(colleague) == "respond"


# Money that moves by itself (a direct debit, the card on file) is a receipt in advance.

DEBIT = (
    "Dear member,\n"
    "On or around 1 December we will collect 11.50 EUR by direct debit for the December fee.\n"
    "Mandate reference: SWIM-00418.\n"
)


def test_a_direct_debit_notice_from_a_program_is_ignore() -> None:
    for body in (
        DEBIT,
        "Your card on file will be charged 49.00 EUR on 1 December for your plan.\n",
        "Op of rond 1 december schrijven wij het volgende bedrag af: 11,50 EUR (incasso).\n",
    ):
        notice = mail(
            "December fee",
            body,
            sender="members@swimclub.example",
            headers={"Auto-Submitted": "auto-generated"},
        )
        assert decision(notice) == "ignore", body


def test_a_direct_debit_that_failed_is_not_ignored() -> None:
    failed = mail(
        "December fee",
        DEBIT.replace("we will collect", "we could not collect")
        + "The direct debit could not be collected: your payment failed.\n",
        sender="members@swimclub.example",
        headers={"Auto-Submitted": "auto-generated"},
    )
    assert decision(failed) != "ignore"


def test_a_person_mentioning_a_direct_debit_is_not_ignored() -> None:
    partner = mail(
        "gym",
        "The gym will be charged automatically from now on, by direct debit. OK with you?",
        sender="tom.devries@fastmail.com",
        to=PRIVATE,
    )
    assert decision(partner) == "respond"


# A person's mail to the owner's private address, about nothing else the rules know, is personal.


def test_a_person_writing_to_the_private_address_is_personal() -> None:
    note = mail(
        "zaterdag",
        "Hoi! Zullen we zaterdag samen naar de markt? Groetjes, Eva",
        sender="eva.jansen@hotmail.example",
        to=PRIVATE,
    )
    row = triage_by_rules(note, profile=PROFILE)
    assert row.category == "personal"
    assert row.confidence >= UNSURE_BELOW


def test_the_same_mail_to_the_work_address_or_from_a_program_is_not() -> None:
    work = mail(
        "zaterdag",
        "Hoi! Zullen we zaterdag samen naar de markt? Groetjes, Eva",
        sender="eva.jansen@hotmail.example",
    )
    program = mail(
        "Your weekly summary",
        "You have 3 new photos in your album.",
        sender="noreply@photos.example",
        to=PRIVATE,
    )
    assert triage_by_rules(work, profile=PROFILE).category != "personal"
    assert triage_by_rules(program, profile=PROFILE).category != "personal"


# The cold-outreach and phishing rules' category is as sure as those rules, not the words.


def test_a_category_set_by_the_cold_rules_is_not_unsure_for_lack_of_words() -> None:
    bump = mail(
        "Re: your warehouse API",
        "Hi Priya, we help logistics teams ship integrations twice as fast. Do you have 15 "
        "minutes on Tuesday for a call?",
        sender="sam@growthly.example",
    )
    row = triage_by_rules(bump, profile=PROFILE)
    assert (row.category, row.decision) == ("spam_or_cold", "ignore")
    assert not row.unsure


def test_a_stranger_asking_without_a_pitch_keeps_the_words_doubt() -> None:
    asked = mail(
        "Question about your API",
        "Hi Priya, I read your post on rate limits. Which limiter did you use in the end?",
        sender="sam@growthly.example",
    )
    row = triage_by_rules(asked, profile=PROFILE)
    assert row.category != "spam_or_cold"
    assert row.decision == "respond"


# A program saying something waits on the reader (an approval, a signature, an assignment).


def test_a_program_saying_something_waits_on_the_reader_is_respond() -> None:
    for subject, body in (
        (
            "Timesheet week 47",
            "Kim Bos submitted a timesheet for your approval.\nApprove or reject: ",
        ),
        ("Contract", "Alex Ruiz sent you a document to review and sign.\nOpen the document."),
        ("[Pager] #88 api latency", "You have been assigned an incident: api latency above 2s."),
        ("Reviews closing", "Two of your reviews are still in draft. The cycle closes on Friday."),
    ):
        notice = mail(subject, body, sender="no-reply@tools.example")
        assert decision(notice) == "respond", subject


def test_the_same_tool_telling_it_was_done_is_not_respond() -> None:
    for subject, body in (
        ("Timesheet week 47", "Your manager approved your timesheet for week 47."),
        ("Contract", "All parties have signed the document. A copy is attached."),
    ):
        notice = mail(subject, body, sender="no-reply@tools.example")
        assert decision(notice) != "respond", subject


# A flaw found in what the owner runs is an alert; a round-up of a period is not.


def test_a_vulnerable_dependency_or_a_new_error_is_notify() -> None:
    for subject, body in (
        ("[acme/api] Dependabot alert", "1 vulnerable dependency: lxml, high severity.\n"),
        ("[api] TypeError: 'NoneType'", "New issue in api (production)\n312 events.\n"),
    ):
        alert = mail(subject, body, sender="notifications@bugs.example", headers=LIST)
        assert decision(alert) == "notify", subject


def test_a_link_to_a_page_about_vulnerabilities_is_no_alert() -> None:
    bump = mail(
        "[acme/api] Bump requests from 2.31 to 2.32",
        "Bumps requests. See https://docs.example.com/managing-security-vulnerabilities/about\n",
        sender="notifications@bugs.example",
        headers=LIST,
    )
    assert decision(bump) == "ignore"


LIST = {"List-Id": "<api.acme.bugs.example>", "Precedence": "bulk"}
DIGEST = "Monitors triggered: 14 (+3)\nMost noisy: CPU > 85% (9 alerts)\nLog volume 1.8 TB\n"


def test_a_weekly_digest_counting_alerts_is_ignore() -> None:
    for subject in ("Your weekly digest: acme", "Monthly report for acme"):
        digest = mail(subject, DIGEST, sender="no-reply@monitor.example", headers=LIST)
        assert decision(digest) == "ignore", subject


def test_an_alert_or_a_failure_without_digest_in_the_subject_still_shows() -> None:
    alert = mail("[Triggered] CPU > 85% on worker", DIGEST, sender="no-reply@monitor.example")
    failed = mail(
        "Your weekly digest: acme",
        "Payment failed for your plan: please update your card.\n",
        sender="no-reply@monitor.example",
        headers=LIST,
    )
    assert decision(alert) == "notify"
    assert decision(failed) != "ignore"


# Planned maintenance or an end of support for something the owner runs is notify.


def test_a_planned_change_to_what_the_owner_runs_is_notify() -> None:
    for body in (
        "Scheduled maintenance of your database cluster on 3 March, 02:00-04:00 UTC.",
        "Version 15.8 reaches end of support on 31 March; instances will be upgraded.",
    ):
        notice = mail(
            "About your database",
            body + "\nManage preferences | Unsubscribe",
            sender="no-reply@cloud.example",
        )
        assert decision(notice) == "notify", body


def test_the_same_mailing_without_a_change_is_ignore() -> None:
    promo = mail(
        "About your database",
        "Meet our new serverless tier: 20% off this month.\nManage preferences | Unsubscribe",
        sender="no-reply@cloud.example",
    )
    assert decision(promo) == "ignore"


# Gift cards asked for in other languages are the same fraud.


def test_a_gift_card_ask_in_dutch_is_suspicious() -> None:
    ask = mail(
        "klein verzoekje",
        "Kun je 4 cadeaukaarten van 50 euro kopen en mij de codes mailen? Ik betaal je terug.",
        sender="juf.marieke@gmail.com",
        to=PRIVATE,
    )
    row = triage_by_rules(ask, profile=PROFILE)
    assert row.suspicious
    assert row.decision == "ignore"


def test_a_gift_card_mentioned_without_an_ask_is_not() -> None:
    thanks = mail(
        "bedankt!",
        "Dank voor de cadeaukaart voor de juf, ze was er heel blij mee.",
        sender="eva.jansen@hotmail.example",
        to=PRIVATE,
    )
    assert not triage_by_rules(thanks, profile=PROFILE).suspicious


# A person writing to a group's own list (no unsubscribe link) is the group's news, not marketing.

CLUB = (
    "Beste ouders,\nDoor onderhoud aan het veld vervalt de training zaterdag.\nDe jeugdcommissie\n"
)


def test_a_group_list_without_an_unsubscribe_link_is_notify() -> None:
    group = mail(
        "Zaterdag geen training",
        CLUB,
        sender="jeugd@hockeyclub.example",
        to=PRIVATE,
        headers={"List-Id": "<ouders.hockeyclub.example>", "Precedence": "bulk"},
    )
    assert decision(group) == "notify"


def test_a_list_with_an_unsubscribe_link_is_still_mass_mail() -> None:
    marketing = mail(
        "Zaterdag geen training",
        CLUB,
        sender="jeugd@hockeyclub.example",
        to=PRIVATE,
        headers={
            "List-Id": "<ouders.hockeyclub.example>",
            "List-Unsubscribe": "<https://hockeyclub.example/unsubscribe>",
        },
    )
    assert decision(marketing) == "ignore"


# A colleague's mail to the company's own list is an announcement, not a newsletter.

OFFICE = (
    "Hi all,\nThe office kitchen is cleaned on Friday: please take your food out of the fridge "
    "by Thursday evening.\nThanks, Facilities\n"
)
COMPANY_LIST = {"List-Id": "<all.lumenhive.com>", "Precedence": "list"}


def test_a_colleague_on_the_company_list_is_an_announcement() -> None:
    notice = mail(
        "Fridge clean-out Friday", OFFICE, sender="office@lumenhive.com", headers=COMPANY_LIST
    )
    row = triage_by_rules(notice, profile=PROFILE)
    assert row.category == "other"
    assert not row.unsure


def test_the_company_newsletter_from_a_mailing_tool_is_still_a_newsletter() -> None:
    newsletter = mail(
        "Lumenhive monthly newsletter",
        "This month in Lumenhive: new customers, the offsite photos and our blog.\n"
        "Unsubscribe | Manage preferences",
        sender="news@lumenhive.com",
        headers={**COMPANY_LIST, "List-Unsubscribe": "<https://lumenhive.com/unsubscribe>"},
    )
    assert triage_by_rules(newsletter, profile=PROFILE).category == "newsletter"


# A tool passing on what a person did to the owner (an assignment, a post to a class) is shown.


def test_a_tool_relaying_an_assignment_or_a_class_post_is_notify() -> None:
    for subject, body in (
        ("[Tracker] Kim assigned OPS-12 to you", "Kim Bos assigned OPS-12 to Priya Raman.\n"),
        ("Nieuw bericht van groep 6", "Juf Anna heeft een bericht geplaatst in groep 6.\n"),
    ):
        relayed = mail(subject, body, sender="noreply@tools.example", headers=LIST)
        assert decision(relayed) == "notify", subject


def test_the_same_tool_mail_about_nobody_is_still_ignored() -> None:
    robot = mail(
        "[Tracker] OPS-12 moved to Done",
        "OPS-12 was moved to Done by an automation rule.\n",
        sender="noreply@tools.example",
        headers=LIST,
    )
    assert decision(robot) == "ignore"


# An account's security notice is shown even from a mass-mailing system.


def test_a_blocked_sign_in_is_notify() -> None:
    alert = mail(
        "Alert: suspicious login blocked",
        "We blocked a sign-in attempt to kim@lumenhive.com from a new device.\nUnsubscribe",
        sender="alerts-noreply@accounts.example",
    )
    assert decision(alert) == "notify"


def test_a_login_page_promotion_is_not_a_security_notice() -> None:
    promo = mail(
        "Log in faster",
        "Our new passkeys make every login quicker. Try them today.\nUnsubscribe",
        sender="news@accounts.example",
    )
    assert decision(promo) == "ignore"


# What every customer is sent (new terms, a survey) is ignore; asked to act, it is not.


def test_new_terms_or_a_survey_from_a_program_is_ignore() -> None:
    for subject, body in (
        ("Updates to our Terms of Service", "We are updating our Terms of Service from 1 May."),
        ("How are we doing?", "How likely are you to recommend Acme to a colleague? 1 2 3 4 5"),
    ):
        notice = mail(subject, body, sender="no-reply@acme.example")
        assert decision(notice) == "ignore", subject


def test_new_terms_that_ask_the_reader_to_accept_them_are_respond() -> None:
    accept = mail(
        "Updates to our Terms of Service",
        "We are updating our Terms of Service. Action required: accept them by 1 May to keep "
        "your account.",
        sender="no-reply@acme.example",
    )
    assert decision(accept) == "respond"


# A program asking the reader to choose, and a trial that ends.


def test_please_choose_by_a_date_is_respond() -> None:
    it = mail(
        "Your laptop is due for refresh",
        "Please choose your replacement model in the portal by 4 December.",
        sender="it@helpdesk.example",
        headers={"Auto-Submitted": "auto-generated"},
    )
    assert decision(it) == "respond"


def test_a_trial_that_ends_is_notify_and_a_trial_offer_is_not() -> None:
    ends = mail(
        "Your Pro trial ends in 3 days",
        "Your trial ends on 27 November; the stack moves to the free tier.\nUnsubscribe",
        sender="noreply@metrics.example",
    )
    offer = mail(
        "Try Pro free for 14 days",
        "Start a free trial of Pro today: more metrics, longer retention.\nUnsubscribe",
        sender="noreply@metrics.example",
    )
    assert decision(ends) == "notify"
    assert decision(offer) == "ignore"


# A stranger's mailing that offers their services is cold outreach, not a newsletter.

AGENCY = (
    "Hi Priya,\nOur clients ship dashboards 40% faster with a dedicated team of our "
    "designers.\nUnsubscribe"
)
MAILING = {"List-Unsubscribe": "<https://agency.example/u>", "Precedence": "bulk"}


def test_a_strangers_mailing_offering_services_is_cold() -> None:
    pitch = mail("Your dashboards", AGENCY, sender="studio@agency.example", headers=MAILING)
    row = triage_by_rules(pitch, profile=PROFILE)
    assert (row.category, row.decision) == ("spam_or_cold", "ignore")


def test_a_partners_mailing_with_an_offer_is_their_news() -> None:
    partner = mail(
        "Stackline news: the new analytics tier",
        "Our customers see their shipments 40% faster with the new analytics tier.\nUnsubscribe",
        sender="news@stackline.example",
        headers=MAILING,
    )
    writes_to_them = MailboxProfile(
        owner_addresses=(OWNER,), known_domains=frozenset({"stackline.example"})
    )
    row = triage_by_rules(partner, profile=writes_to_them)
    assert row.category != "spam_or_cold"
    assert row.decision == "notify"


# The lines of an invitation nobody asked for: a seat saved, "given your role".


def test_a_strangers_saved_seat_given_your_role_is_cold() -> None:
    invite = mail(
        "Priya, I saved you a seat",
        "Hi Priya, I saved you a seat at our roundtable on Thursday. Given your role, I think "
        "you'd get a lot out of it. Confirm here: https://events.example/rt\n"
        "PS - if this isn't relevant, just let me know.",
        sender="olivia@growthly.example",
    )
    row = triage_by_rules(invite, profile=PROFILE)
    assert (row.category, row.decision) == ("spam_or_cold", "ignore")


def test_a_colleague_saying_given_your_role_is_not_cold() -> None:
    asked = mail(
        "Roundtable Thursday",
        "Hi Priya, given your role, could you join the customer roundtable on Thursday?",
        sender="daniel@lumenhive.com",
    )
    row = triage_by_rules(asked, profile=PROFILE)
    assert row.category != "spam_or_cold"
    assert row.decision == "respond"


# A person's blind copy (the owner in neither To nor Cc) asks each of its readers.

PARTY = (
    "Lieve allemaal,\nI'm turning 40! Saturday 12 December from 20:00 at the café.\n"
    "Can you let me know by 1 December if you're coming?\nNoor"
)


def blind(body: str) -> Email:
    email = mail("Turning 40", body, sender="noor.elamrani@gmail.example", to=PRIVATE)
    return dataclasses.replace(email, to=("undisclosed-recipients:;",))


def test_a_blind_copy_that_asks_is_respond() -> None:
    assert decision(blind(PARTY)) == "respond"


def test_a_blind_copy_that_asks_nothing_or_a_cc_that_asks_is_not() -> None:
    told = blind("Lieve allemaal,\nThe photos of Saturday are online. Thanks for coming!\nNoor")
    cc = dataclasses.replace(blind(PARTY), to=("sam@example.org",), cc=(PRIVATE,))
    assert decision(told) == "notify"
    assert decision(cc) == "notify"


def test_a_report_not_submitted_or_reports_to_approve_is_respond() -> None:
    reminder = mail(
        "Expenses close Friday",
        "Dear all,\nPriya: own report not submitted, and 1 report of your team to approve.\n"
        "The close is Friday at 12:00.\nAnouk",
        sender="anouk@lumenhive.com",
    )
    assert decision(reminder) == "respond"


def test_a_report_submitted_and_approved_is_not() -> None:
    done = mail(
        "Expenses close Friday",
        "Dear all,\nEvery report is submitted and approved. The close is Friday at 12:00.\nAnouk",
        sender="anouk@lumenhive.com",
    )
    assert decision(done) == "notify"
