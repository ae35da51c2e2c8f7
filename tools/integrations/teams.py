"""Microsoft Teams: post an Adaptive Card to a channel's incoming webhook.

Both kinds of Teams webhook take the same `{"type": "message", "attachments": [card]}` body:
an Office 365 connector answers `200` with the text `1` (any other text is a failure it
reports with a 200), a Workflows webhook answers `202 Accepted`. The webhook URL is itself
the credential, so it is looked up like a secret and never shown or logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Annotated, Any

from langchain_core.tools import InjectedToolArg, tool

from memory.db import AppDatabase
from memory.secrets import SecretLookup
from tools.api_requests import ApiRequest, send
from tools.http import HttpSettings, HttpSettingsError, register_secret_url, service_url
from tools.toolkit import (
    ActionPreview,
    ToolFailure,
    Toolkit,
    ToolResult,
    mail_link,
    mail_with_triage,
    text_result,
)

logger = logging.getLogger(__name__)

INTEGRATION = "Teams"
TEXT_LIMIT = 4000
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"


@dataclass(frozen=True)
class TeamsEnv:
    """What the Teams tool needs at run time; the webhook URL is a secret."""

    webhook_url: str = field(repr=False)
    db: AppDatabase = field(repr=False)
    mail_link: str = ""
    http: HttpSettings = field(default_factory=HttpSettings)


@dataclass(frozen=True)
class TeamsPost:
    """The card a `teams_post_message` call posts, exactly as it will be sent."""

    title: str
    text: str
    facts: list[tuple[str, str]]
    link: str = ""

    def payload(self) -> dict[str, Any]:
        """The webhook body: a message carrying one Adaptive Card."""
        body: list[dict[str, Any]] = [
            {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "text": self.title}
        ]
        if self.text:
            body.append({"type": "TextBlock", "text": self.text, "wrap": True})
        if self.facts:
            body.append(
                {
                    "type": "FactSet",
                    "facts": [{"title": name, "value": value} for name, value in self.facts],
                }
            )
        card: dict[str, Any] = {
            "$schema": CARD_SCHEMA,
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": body,
        }
        if self.link:
            card["actions"] = [
                {"type": "Action.OpenUrl", "title": "Open the mail", "url": self.link}
            ]
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": None,
                    "content": card,
                }
            ],
        }


def _cut(text: str, limit: int = TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plan_post(env: TeamsEnv, args: Mapping[str, Any]) -> TeamsPost:
    """Title, text and facts from the arguments and the mail."""
    text = _cut(str(args.get("text") or "").strip())
    email_id = str(args.get("email_id") or "").strip()
    if not email_id:
        if not text:
            raise ToolFailure("a Teams message needs text or the id of a mail to post about")
        return TeamsPost(title="Smart Inbox", text=text, facts=[])
    email, triage = mail_with_triage(env.db, email_id)
    title = f"{triage.priority.capitalize()}-priority mail" if triage else "Mail"
    facts = [
        ("From", email.sender),
        ("Subject", email.subject or "(no subject)"),
        ("Received", email.date or "unknown"),
    ]
    if triage is not None:
        facts.append(("Triage", f"{triage.priority} · {triage.category}: {triage.reason}"))
    link = mail_link(env.mail_link, email)
    if not link:
        facts.append(("Message-ID", email.id))
    return TeamsPost(title=title, text=text, facts=facts, link=link)


def explain(response: Any) -> str:
    """Teams answers errors as plain text."""
    return " ".join(response.text.split())[:200] or "(no details)"


@tool
async def teams_post_message(
    text: str = "",
    email_id: str = "",
    *,
    env: Annotated[TeamsEnv, InjectedToolArg],
) -> ToolResult:
    """Post a message to the configured Microsoft Teams channel, optionally about a mail by its id."""  # noqa: E501 — the model reads it as one line
    post = await asyncio.to_thread(plan_post, env, {"text": text, "email_id": email_id})
    request = ApiRequest(
        integration=INTEGRATION,
        method="POST",
        url=env.webhook_url,
        action="post the message",
        json=post.payload(),
        headers={"Content-Type": "application/json"},
    )
    response = await send(request, env.http, explain=explain)
    body = response.text.strip()
    if response.status_code == 200 and body not in ("1", ""):
        # A connector reports some failures (a card too large, throttling) as a 200.
        raise ToolFailure(f"Teams could not post the message: {explain(response)}")
    result = "Posted to the Teams channel."
    if email_id:
        result += f" [msg:{email_id}]"
    return text_result(result, data={"status": response.status_code})


TEAMS_TOOLS = [teams_post_message]


def preview(env: TeamsEnv, name: str, args: dict[str, Any]) -> ActionPreview | None:
    """The card of a Teams post: everything the message will say."""
    if name != "teams_post_message":
        return None
    post = plan_post(env, args)
    lines = [post.title, *([post.text] if post.text else [])]
    lines += [f"{label}: {value}" for label, value in post.facts]
    if post.link:
        lines.append(f"Button: Open the mail ({post.link})")
    return ActionPreview(
        title="Post to Microsoft Teams",
        fields=(("Channel", "the channel of TEAMS_WEBHOOK_URL"),),
        content="\n".join(lines),
    )


def teams_toolkit(
    db: AppDatabase,
    secrets: SecretLookup,
    http: HttpSettings,
    environ: Mapping[str, str],
    mail_link_template: str = "",
) -> Toolkit:
    """The Teams tool, or the toolkit absent with what to set."""
    base = Toolkit(name="teams", tools=TEAMS_TOOLS, timeout=None)
    raw = secrets("teams.webhook_url")
    if not raw:
        return replace(
            base,
            missing="Teams is not configured: set the incoming webhook URL (TEAMS_WEBHOOK_URL)",
        )
    try:
        url = service_url("TEAMS_WEBHOOK_URL", raw)
    except HttpSettingsError as err:
        logger.warning("Teams is left out: %s", err)
        return replace(base, missing=f"Teams is not configured: {err}")
    register_secret_url(url)
    env = TeamsEnv(webhook_url=url, db=db, mail_link=mail_link_template, http=http)
    return replace(base, env=env, preview=lambda name, args: preview(env, name, args))
