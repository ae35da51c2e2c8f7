"""Adapters to the work services a mail can lead to: Jira, Slack, Teams, HubSpot, webhooks."""
