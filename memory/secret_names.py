"""The credential names the integrations ask for, and the environment variables that hold them.

A table of its own, read by the lookup that serves them (`memory.secrets`) and by the scrubber
that masks the variables' values wherever they appear (`memory.redaction`).
"""

from __future__ import annotations

SECRET_VARIABLES = {
    "jira.api_token": "JIRA_API_TOKEN",
    "slack.bot_token": "SLACK_BOT_TOKEN",
    "teams.webhook_url": "TEAMS_WEBHOOK_URL",
    "hubspot.token": "HUBSPOT_TOKEN",
    "imap.password": "IMAP_PASSWORD",
    "caldav.password": "CALDAV_PASSWORD",
    "smtp.password": "SMTP_PASSWORD",
}
"""The credential names the integrations ask for, and the variables that hold them by default."""
