"""A budget or cost alert is money worth seeing, not an incident; an outage that names money is."""

from __future__ import annotations

from tests.unit.triage.owner_mail import ROBOT, mail, triage

BUDGET = (
    "You requested that we alert you when the ACTUAL Cost associated with your\n"
    "search-prod budget is greater than 80.00% of 4,000.00 for the current month.\n"
    "Budget Name: search-prod\nAlert Threshold: > 80.00%\nACTUAL Amount: $3,388.10\n"
)


def test_a_budget_alert_on_a_production_account_is_a_notification_of_normal_priority() -> None:
    row = triage(
        mail(
            "Budgets: search-prod has exceeded your alert threshold",
            BUDGET,
            sender="no-reply@budgets.cloudhost.example",
            headers=ROBOT,
        )
    )
    assert (row.category, row.priority, row.decision) == ("notification", "normal", "notify")
    assert "spending alert" in row.reason
    assert "production" not in row.reason


def test_a_cost_anomaly_is_a_spending_alert_too() -> None:
    row = triage(
        mail(
            "Cost anomaly detected in account 7731",
            "We detected a cost anomaly: EC2 spend in prod is 3.1x the expected amount.\n"
            "Total impact: $912. Review the anomaly in the console.",
            sender="anomaly@costs.cloudhost.example",
            headers=ROBOT,
        )
    )
    assert (row.category, row.decision) == ("notification", "notify")
    assert row.priority != "high"


def test_an_outage_alert_that_names_a_spend_limit_is_still_an_incident() -> None:
    # Walks around the check: the alert is about a service down, and the service happens to be
    # the spend-limit API. An outage is never demoted to a spending notice.
    row = triage(
        mail(
            "[FIRING] spend limit API down in production",
            "Alert firing: the spend limit service in production is down and returning 503s\n"
            "for all customers since 09:12. On-call, please acknowledge.",
            sender="alerts@pager.example",
            headers=ROBOT,
        )
    )
    assert row.category == "urgent_incident"
    assert row.priority == "high"
    assert "spending" not in row.reason
