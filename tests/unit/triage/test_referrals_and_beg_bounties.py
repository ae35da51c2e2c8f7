"""Signals found on the zzc-* to zze-* mail (the run-up to the holidays, accounts and security,
customers across the world), each with an input that walks around it.
"""

from __future__ import annotations

import dataclasses

from tests.unit.triage.owner_mail import PROFILE, mail, triage

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
