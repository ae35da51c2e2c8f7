"""What a triage run proposes to do about the mail it just classified, whatever the engine.

Deterministic, from the triage alone, and only through integrations that are configured:

- bug report: a Jira issue of type Bug (priority from the triage);
- feature request: a Jira issue of type Story;
- bug report or feature request naming an issue of our projects (NW-12): the mail as a
  comment on that issue, not a duplicate;
- sales inquiry: a lead for the sender in the CRM: Salesforce when `SMART_INBOX_CRM` names a
  Salesforce account, else a HubSpot contact;
- high priority: a Slack post to `SLACK_CHANNEL` and a Teams post;
- meeting request: its slots (`propose_meeting_slots`, read-only, for the summary); then,
  when a time the mail asked for is free, the event at that time with an invitation.

Each proposal with a side effect waits on an approval card like any other call. Only newly
triaged mail gets proposals, at most `MAX_PROPOSALS` cards per run, most important first;
slots are read for at most `MAX_PROPOSALS` meeting requests, before any card is shown.

The triage books only a time the sender asked for: another free time would be a
counter-proposal, the user's to choose in the chat ("book the second slot"), and the calendar
file may not be the user's real calendar.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from graph.engines.base import ProposedCall
from graph.state import Evidence, TriageRow
from tools.calendar.offered_slots import OfferedSlots, offered_slots
from tools.integrations.jira_issues import (
    ISSUE_TYPE_BY_CATEGORY,
    PRIORITY_BY_TRIAGE,
    JiraEnv,
    issue_keys,
)
from tools.integrations.slack import SlackEnv
from tools.mail.compose import own_words
from tools.mail.model import Email
from tools.registry import ToolRegistry

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


MEETING_REQUEST = "meeting_request"
OFFER_TOOL = "propose_meeting_slots"
EVENT_TOOL = "create_calendar_event"


def slot_offers(evidence: Iterable[Evidence]) -> dict[str, OfferedSlots | None]:
    """The slots offered in these results, by the meeting request (None: no offer to book from).

    None when the offer failed, or when its result carries no structured data (evidence from
    before results carried it): then no event card is proposed, and the slots stay in the
    summary for the user to pick in the chat.
    """
    found: dict[str, OfferedSlots | None] = {}
    for record in evidence:
        email_id = str(record["args"].get("email_id") or "")
        if record["tool"] == OFFER_TOOL and email_id:
            found[email_id] = None if record["error"] else offered_slots(record.get("data"))
    return found


def _event_call(
    email_id: str, offer: OfferedSlots, booked: list[tuple[datetime, datetime]]
) -> ProposedCall | None:
    """The event at the first free time the mail asked for, clear of the run's other cards."""
    for slot in offer.slots:
        clear = all(slot.end <= start or end <= slot.start for start, end in booked)
        if slot.asked_for and clear:
            booked.append((slot.start, slot.end))
            args = {"title": offer.title, "start": slot.start_text, "end": slot.end_text}
            if offer.attendees:
                args["attendees"] = offer.attendees
            return ProposedCall(EVENT_TOOL, {**args, "in_reply_to_id": email_id})
    return None


def _crm_lead_tool(tools: ToolRegistry) -> str:
    """Where a sales inquiry's lead goes: Salesforce when it is set up, else HubSpot ('': none)."""
    if tools.configured("salesforce"):
        return "salesforce_create_lead"
    return "hubspot_create_contact" if tools.configured("hubspot") else ""


def triage_proposals(
    rows: Sequence[TriageRow],
    emails: Mapping[str, Email],
    tools: ToolRegistry,
    evidence: Iterable[Evidence] = (),
) -> list[ProposedCall]:
    """Every proposal for these triage rows (before the `MAX_PROPOSALS` cut), in row order.

    `evidence` is this run's results: a meeting request whose slots are not there yet gets a
    `propose_meeting_slots` call; one whose slots are gets its event card (if any).
    """
    offers = slot_offers(evidence)
    offered = set(tools.names())
    meetings = [
        row["id"] for row in rows if not row.get("error") and row["category"] == MEETING_REQUEST
    ][:MAX_PROPOSALS]
    booked: list[tuple[datetime, datetime]] = []
    jira = tools.toolkit("jira")
    slack = tools.toolkit("slack")
    jira_env = jira.env if jira is not None and not jira.missing else None
    slack_env = slack.env if slack is not None and not slack.missing else None
    crm_tool = _crm_lead_tool(tools)
    teams = tools.configured("teams")
    calls: list[ProposedCall] = []
    for row in rows:
        if row.get("error") or row["category"] in NO_ACTION_CATEGORIES:
            continue
        mail_id = row["id"]
        if isinstance(jira_env, JiraEnv) and row["category"] in ISSUE_TYPE_BY_CATEGORY:
            calls.append(_jira_call(row, emails.get(mail_id), jira_env))
        if crm_tool and row["category"] == "sales_inquiry":
            calls.append(ProposedCall(crm_tool, {"email_id": mail_id}))
        if row["priority"] == "high":
            if isinstance(slack_env, SlackEnv) and slack_env.channel:
                calls.append(ProposedCall("slack_post_message", {"email_id": mail_id}))
            if teams:
                calls.append(ProposedCall("teams_post_message", {"email_id": mail_id}))
        if mail_id in meetings and OFFER_TOOL in offered:
            if mail_id not in offers:
                calls.append(ProposedCall(OFFER_TOOL, {"email_id": mail_id}))
            elif EVENT_TOOL in offered and (offer := offers[mail_id]) is not None:
                event = _event_call(mail_id, offer, booked)
                if event is not None:
                    calls.append(event)
    return calls
