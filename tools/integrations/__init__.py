"""Adapters to the work services a mail can lead to: Jira, Slack, Teams, CRMs, webhooks.

The CRMs are HubSpot and Salesforce.
"""
