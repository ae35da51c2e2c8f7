"""Plans for the work tools: Jira issues and comments, Slack and Teams posts, CRM records.

The CRM is Salesforce when it is set up (or named: "add her to Salesforce"), else HubSpot.

Each names the mail it is about by id (the tool reads it), found first by a search when the
user names only its sender.
"""

from __future__ import annotations

import re
from typing import Any

from graph.engines.base import ProposedCall, ToolPlanRequest
from graph.engines.intents.phrases import pattern
from graph.engines.intents.user_words import clean, keywords, mail_or_search, said
from graph.state import MessageRef
from tools.language.addresses import ADDRESS

NOT_PROJECTS = frozenset({"UTF", "ISO", "SHA", "MD", "RFC", "TLS", "SSL", "HTTP", "INV", "PO"})
"""Prefixes of things in mail that look like issue keys and are not (UTF-8, INV-2026)."""
_ISSUE_KEY = pattern("issue_key")
_JIRA_SEARCH = pattern("jira_search")
_CHANNEL = re.compile(r"(?<![\w&])#(?P<name>[a-z0-9][\w-]{0,79})", re.IGNORECASE)


def jira_lookup(request: ToolPlanRequest) -> list[ProposedCall]:
    """Issues the user names, else the ones the message they point to mentions."""
    keys = _ISSUE_KEY.findall(request.user_text)
    if not keys:
        for message in request.focus:
            found = _ISSUE_KEY.findall(f"{message['subject']}\n{message['text']}")
            keys += [k for k in found if k.split("-")[0] not in NOT_PROJECTS]
    return [ProposedCall("jira_get_issue", {"issue_key": k}) for k in list(dict.fromkeys(keys))[:3]]


def jira_comment(request: ToolPlanRequest) -> list[ProposedCall]:
    """A comment on the issue named, with the words after its key (or said)."""
    key = _ISSUE_KEY.search(request.user_text)
    if key is None:
        return []
    args: dict[str, Any] = {"issue_key": key.group(0)}
    # "comment on NW-12: deployed" / "comment on NW-12 that it is deployed"
    rest = re.sub(r"^[\s:,-]*(?:that\s+|with\s+)?", "", request.user_text[key.end() :])
    text = said(request) or rest.strip().strip("\"'“”")
    if text:
        args["text"] = text
    if request.focus:
        args["email_id"] = request.focus[0]["id"]
    return [ProposedCall("jira_add_comment", args)] if len(args) > 1 else []


def jira_issue_args(message: MessageRef) -> dict[str, Any]:
    """A Jira issue about a message: its id, with type and priority from its triage if known."""
    args: dict[str, Any] = {"email_id": message["id"]}
    kind = {"bug_report": "Bug", "feature_request": "Story"}.get(message.get("category", ""))
    priority = {"high": "High", "normal": "Medium", "low": "Low"}.get(message.get("priority", ""))
    if kind:
        args["issue_type"] = kind
    if priority:
        args["priority"] = priority
    return args


def jira_create(request: ToolPlanRequest) -> list[ProposedCall]:
    """An issue about the mail meant, else one with the words said as its summary."""
    target, first = mail_or_search(request)
    if first:
        return first
    words = said(request)
    if target is not None:
        args = jira_issue_args(target)
        if words:
            args["details"] = words
        return [ProposedCall("jira_create_issue", args)]
    return [ProposedCall("jira_create_issue", {"summary": words})] if words else []


def jira_search(request: ToolPlanRequest) -> list[ProposedCall]:
    """A Jira search for the words asked about."""
    match = _JIRA_SEARCH.search(request.user_text)
    if match is None:
        return []
    query = next(g for g in (match.group("q"), match.group("q2"), match.group("q3")) if g)
    query = keywords(query) or clean(query)
    return [ProposedCall("jira_search", {"query": query, "limit": 10})] if query else []


def slack(request: ToolPlanRequest) -> list[ProposedCall]:
    """A Slack post of the mail meant and/or the words said, to the channel named."""
    target, first = mail_or_search(request)
    if first:
        return first
    args: dict[str, Any] = {}
    channel = _CHANNEL.search(request.user_text)
    if channel:
        args["channel"] = "#" + channel.group("name")
    words = said(request)
    if words:
        args["text"] = words
    if target is not None:
        args["email_id"] = target["id"]
    if not (words or target):
        return []
    return [ProposedCall("slack_post_message", args)]


def teams(request: ToolPlanRequest) -> list[ProposedCall]:
    """A Teams post of the mail meant and/or the words said."""
    target, first = mail_or_search(request)
    if first:
        return first
    args: dict[str, Any] = {}
    words = said(request)
    if words:
        args["text"] = words
    if target is not None:
        args["email_id"] = target["id"]
    return [ProposedCall("teams_post_message", args)] if args else []


def _salesforce(request: ToolPlanRequest) -> bool:
    """Whether the CRM meant is Salesforce: named, or set up and HubSpot not named."""
    text = request.user_text.lower()
    if "salesforce" in text:
        return True
    offered = {tool.name for tool in request.tools}
    return "hubspot" not in text and "salesforce_create_lead" in offered


def crm(request: ToolPlanRequest) -> list[ProposedCall]:
    """A lead (a HubSpot contact) for the address typed, else for the sender of the mail meant."""
    tool = "salesforce_create_lead" if _salesforce(request) else "hubspot_create_contact"
    address = ADDRESS.search(request.user_text)
    if address:
        return [ProposedCall(tool, {"email": address.group(0)})]
    target, first = mail_or_search(request)
    if first:
        return first
    return [ProposedCall(tool, {"email_id": target["id"]})] if target else []


def crm_lookup(request: ToolPlanRequest) -> list[ProposedCall]:
    """The CRM contact of the address typed, or of the mail in focus."""
    tool = "salesforce_find_contact" if _salesforce(request) else "hubspot_find_contact"
    address = ADDRESS.search(request.user_text)
    if address:
        return [ProposedCall(tool, {"email": address.group(0)})]
    if request.focus:
        return [ProposedCall(tool, {"email_id": request.focus[0]["id"]})]
    return []


def crm_log(request: ToolPlanRequest) -> list[ProposedCall]:
    """The mail meant, logged as an activity on its sender's Salesforce contact or lead."""
    target, first = mail_or_search(request)
    if first:
        return first
    return [ProposedCall("salesforce_log_email", {"email_id": target["id"]})] if target else []
