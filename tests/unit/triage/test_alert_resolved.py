"""A monitor's "resolved" is one step lower than its alert; an incident people worked on stays."""

from __future__ import annotations

from tests.unit.triage.owner_mail import ROBOT, mail, triage

FIRING = (
    "Alert firing: checkout-api error rate > 5% on prod-us-2 for 5 minutes.\n"
    "Current value: 7.4%. Runbook: https://wiki.example/runbooks/checkout-errors\n"
)
RECOVERED = (
    "Recovered: checkout-api error rate back to 0.3% (threshold 5%).\n"
    "Triggered 02:10 UTC, recovered 02:16 UTC (duration 6m).\n"
    "https://monitor.example/monitors/5512\n"
)


def test_an_alert_that_recovered_by_itself_is_safe_to_skip() -> None:
    row = triage(
        mail(
            "[Recovered] checkout-api error rate > 5% on prod-us-2",
            RECOVERED,
            sender="alerts@monitor.example",
            headers=ROBOT,
        )
    )
    assert (row.category, row.decision) == ("notification", "ignore")
    assert row.priority != "high"
    assert "alert resolved" in row.reason


def test_the_same_alert_while_it_fires_is_still_worth_seeing() -> None:
    row = triage(
        mail(
            "[Triggered] checkout-api error rate > 5% on prod-us-2",
            FIRING,
            sender="alerts@monitor.example",
            headers=ROBOT,
        )
    )
    assert row.decision == "notify"
    assert "alert resolved" not in row.reason


def test_an_uptime_monitor_back_up_is_skipped_too() -> None:
    row = triage(
        mail(
            "Monitor is UP: status.example.com",
            "status.example.com is back up after 4 minutes of downtime.\nCause: timeout.",
            sender="notifications@uptime.example",
            headers=ROBOT,
        )
    )
    assert row.decision == "ignore"


def test_an_incident_people_resolved_and_wrote_up_is_still_worth_reading() -> None:
    row = triage(
        mail(
            "[Pager] RESOLVED: Incident #812 - payments 5xx rate > 5%",
            "Incident #812 has been resolved.\nResolved by: Ana Souza\nDuration: 2h 10m\n"
            "Resolution note: a bad config push; rolled back, root cause in the doc.\n",
            sender="no-reply@pager.example",
            headers=ROBOT,
        )
    )
    assert row.decision == "notify"


def test_a_person_writing_resolved_in_the_subject_is_not_a_monitor() -> None:
    # Walks around the check: a colleague's subject says "[RESOLVED]" and asks for something.
    row = triage(
        mail(
            "[RESOLVED] the staging outage - can you sign off the postmortem by Friday?",
            "Hi, staging is back. Could you review and sign off the postmortem doc by Friday?\n"
            "Thanks, Ana",
            sender="ana.souza@lumenhive.com",
        )
    )
    assert row.decision == "respond"


def test_not_resolved_and_unresolved_say_the_alert_is_still_on() -> None:
    for subject in (
        "Incident #813 not resolved - escalating to level 2",
        "Unresolved: payments 5xx rate > 5% for 30 minutes",
    ):
        row = triage(mail(subject, FIRING, sender="no-reply@pager.example", headers=ROBOT))
        assert row.decision != "ignore", subject
        assert "alert resolved" not in row.reason, subject


def test_a_phishing_mail_dressed_as_a_resolved_alert_is_still_suspicious() -> None:
    row = triage(
        mail(
            "[RESOLVED] Your mailbox storage issue - verify your password to restore mail",
            "Your mailbox was restored. Verify your password within 24 hours or your account "
            "will be suspended: http://lumenhive-mail.verify-login.top/restore\n",
            sender="it-support@lumenhive-helpdesk.example",
            headers=ROBOT,
        )
    )
    assert row.suspicious
    assert row.decision == "ignore"
