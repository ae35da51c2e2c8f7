"""What a triage run proposes to do about the mail it just classified, whatever the engine.

Deterministic, from the triage alone, and only through integrations that are configured:

| triage | proposal |
| --- | --- |
| bug report | a Jira issue of type Bug (priority from the triage) |
| feature request | a Jira issue of type Story |
| bug report or feature request naming an issue of our projects (NW-12) | the mail as a comment on that issue, not a duplicate |
| sales inquiry | a HubSpot contact (lead) for the sender |
| high priority | a Slack post to `SLACK_CHANNEL` and a Teams post |

Each proposal waits on an approval card like any other call. Only newly triaged mail gets
proposals, at most `MAX_PROPOSALS` per run, most important first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from graph.engines.base import ProposedCall
from graph.state import TriageRow
from tools.jira import ISSUE_TYPE_BY_CATEGORY, PRIORITY_BY_TRIAGE, JiraEnv, issue_keys
from tools.mail.compose import own_words
from tools.mail.model import Email
from tools.registry import ToolRegistry
from tools.slack import SlackEnv

MAX_PROPOSALS = 10
"""Proposals per triage run; a first triage of a big mailbox must not bury the user in cards."""
NO_ACTION_CATEGORIES = frozenset({"spam_or_cold", "newsletter"})


def _jira_call(row: TriageRow, email: Email | None, env: JiraEnv) -> ProposedCall:
    if email is not None:
        keys = issue_keys(f"{email.subject}\n{own_words(email)}", env.settings.project_keys)
        if keys:
            return ProposedCall("jira_add_comment", {"issue_key": keys[0], "email_id": row["id"]})
    args = {
        "email_id": row["id"],
        "issue_type": ISSUE_TYPE_BY_CATEGORY[row["category"]],
        "priority": PRIORITY_BY_TRIAGE.get(row["priority"], ""),
    }
    return ProposedCall("jira_create_issue", {k: v for k, v in args.items() if v})


def triage_proposals(
    rows: Iterable[TriageRow], emails: Mapping[str, Email], tools: ToolRegistry
) -> list[ProposedCall]:
    """Every proposal for these triage rows (before the `MAX_PROPOSALS` cut), in row order."""
    jira = tools.toolkit("jira")
    slack = tools.toolkit("slack")
    jira_env = jira.env if jira is not None and not jira.missing else None
    slack_env = slack.env if slack is not None and not slack.missing else None
    hubspot = tools.configured("hubspot")
    teams = tools.configured("teams")
    calls: list[ProposedCall] = []
    for row in rows:
        if row.get("error") or row["category"] in NO_ACTION_CATEGORIES:
            continue
        mail_id = row["id"]
        if isinstance(jira_env, JiraEnv) and row["category"] in ISSUE_TYPE_BY_CATEGORY:
            calls.append(_jira_call(row, emails.get(mail_id), jira_env))
        if hubspot and row["category"] == "sales_inquiry":
            calls.append(ProposedCall("hubspot_create_contact", {"email_id": mail_id}))
        if row["priority"] == "high":
            if isinstance(slack_env, SlackEnv) and slack_env.channel:
                calls.append(ProposedCall("slack_post_message", {"email_id": mail_id}))
            if teams:
                calls.append(ProposedCall("teams_post_message", {"email_id": mail_id}))
    return calls
