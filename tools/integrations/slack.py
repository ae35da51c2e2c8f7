"""Slack (Web API `chat.postMessage`): post a message with blocks to a channel.

A post about a mail carries the mail as blocks: who sent it, its subject, when, its triage
and a link or Message-ID. Everything taken from mail is escaped, so a subject cannot ping
`@channel` or fake a link. A scheduled meeting can be announced in `SLACK_MEETINGS_CHANNEL`
by the hidden `slack_announce_meeting`, which only code proposes, built from the event the
calendar really stored (the side-effect ledger), never from anyone's words.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Annotated, Any

import httpx
from langchain_core.tools import InjectedToolArg, tool

from memory.db import AppDatabase
from memory.ledger import SideEffectLedger
from memory.mail_tables import TriageRecord
from memory.secrets import SecretLookup
from tools.api_requests import ApiRequest, json_of, send
from tools.http import HttpSettings, HttpSettingsError, service_url
from tools.toolkit import (
    ActionPreview,
    ToolFailure,
    Toolkit,
    ToolResult,
    mail_link,
    mail_with_triage,
    text_result,
)

if TYPE_CHECKING:
    from tools.mail.model import Email

logger = logging.getLogger(__name__)

INTEGRATION = "Slack"
DEFAULT_API_URL = "https://slack.com/api"
TEXT_LIMIT = 3000
"""Characters of one section block's text (Slack's limit)."""
ERROR_HINTS = {
    "channel_not_found": "no such channel, or the app cannot see it: check the channel name",
    "not_in_channel": "the app is not in that channel: invite it with /invite @your-app",
    "is_archived": "the channel is archived",
    "invalid_auth": "the bot token is not valid (slack.bot_token / SLACK_BOT_TOKEN)",
    "not_authed": "no bot token was sent (slack.bot_token / SLACK_BOT_TOKEN)",
    "token_revoked": "the bot token was revoked",
    "account_inactive": "the bot token belongs to a deleted user or workspace",
    "missing_scope": "the app needs the chat:write scope",
    "msg_too_long": "the message is too long",
    "no_text": "the message is empty",
    "restricted_action": "the workspace does not let the app post there",
}


@dataclass(frozen=True)
class SlackEnv:
    """What the Slack tool needs at run time, injected by `act`; the token is never shown."""

    api_url: str
    channel: str
    """`SLACK_CHANNEL`: where posts go when the call names no channel."""
    token: str = field(repr=False)
    db: AppDatabase = field(repr=False)
    mail_link: str = ""
    http: HttpSettings = field(default_factory=HttpSettings)
    meetings_channel: str = ""
    """`SLACK_MEETINGS_CHANNEL`: where scheduled meetings are announced; empty: they are not."""


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: `&`, `<` and `>`, so mail text cannot mention or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int = TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mail_blocks(
    email: Email, triage: TriageRecord | None, link_template: str
) -> list[dict[str, Any]]:
    """A mail as blocks: subject and sender, triage fields, and its link or Message-ID."""
    subject = escape(email.subject or "(no subject)")
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _cut(f"*{subject}*\nfrom {escape(email.sender)}")},
            "fields": [
                {"type": "mrkdwn", "text": f"*Received*\n{escape(email.date or 'unknown')}"},
            ],
        }
    ]
    if triage is not None:
        blocks[0]["fields"].append(
            {"type": "mrkdwn", "text": f"*Triage*\n{triage.priority} · {triage.category}"}
        )
    link = mail_link(link_template, email)
    where = f"<{link}|Open the mail>" if link else f"Message-ID `{escape(email.id)}`"
    context = f"{escape(triage.reason)} · {where}" if triage is not None else where
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(context)}]})
    return blocks


def meeting_blocks(
    title: str, start: str, end: str = "", attendees: list[str] | None = None, link: str = ""
) -> list[dict[str, Any]]:
    """A scheduled meeting as blocks (for a calendar toolkit's `meeting_scheduled` posts)."""
    when = f"{start} – {end}" if end else start
    fields = [{"type": "mrkdwn", "text": f"*When*\n{escape(when)}"}]
    if attendees:
        fields.append({"type": "mrkdwn", "text": "*With*\n" + escape(", ".join(attendees))})
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Meeting scheduled"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _cut(f"*{escape(title)}*")},
            "fields": fields,
        },
    ]
    if link:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{link}|Open the event>"}],
            }
        )
    return blocks


@dataclass(frozen=True)
class SlackPost:
    """The message a `slack_post_message` call posts, exactly as it will be sent."""

    channel: str
    text: str
    """The notification text (also what clients without blocks show), before escaping."""
    blocks: list[dict[str, Any]]

    def payload(self) -> dict[str, Any]:
        """The `chat.postMessage` body."""
        return {
            "channel": self.channel,
            "text": escape(self.text),
            "blocks": self.blocks,
            "unfurl_links": False,
            "unfurl_media": False,
        }


def plan_post(env: SlackEnv, args: Mapping[str, Any]) -> SlackPost:
    """Channel, text and blocks from the arguments and the mail."""
    channel = str(args.get("channel") or "").strip() or env.channel
    if not channel:
        raise ToolFailure("no Slack channel given, and SLACK_CHANNEL is not set")
    text = str(args.get("text") or "").strip()
    email_id = str(args.get("email_id") or "").strip()
    blocks: list[dict[str, Any]] = []
    if text:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(escape(text))}})
    if email_id:
        email, triage = mail_with_triage(env.db, email_id)
        label = f"{triage.priority.capitalize()}-priority mail" if triage else "Mail"
        summary = f"{label} from {email.sender}: {email.subject or '(no subject)'}"
        blocks = [
            {"type": "header", "text": {"type": "plain_text", "text": _cut(label, 150)}},
            *blocks,
            *mail_blocks(email, triage, env.mail_link),
        ]
        text = f"{text}\n{summary}" if text else summary
    if not text:
        raise ToolFailure("a Slack message needs text or the id of a mail to post about")
    return SlackPost(channel=channel, text=_cut(text), blocks=blocks)


def blocks_as_text(blocks: list[dict[str, Any]]) -> str:
    """What the blocks say, as Slack shows it, line by line (for the approval card)."""
    lines: list[str] = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            lines.append(block["text"]["text"])
        lines += [f["text"] for f in block.get("fields") or []]
        lines += [e.get("text", "") for e in block.get("elements") or []]
    text = "\n".join(lines)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def explain(response: httpx.Response) -> str:
    """Slack's `{"ok": false, "error": ...}` with a hint, or the body."""
    try:
        body = response.json()
    except ValueError:
        return " ".join(response.text.split())[:200] or "(no details)"
    code = str(body.get("error", "")) if isinstance(body, dict) else ""
    hint = ERROR_HINTS.get(code)
    return f"{code} ({hint})" if hint else code or str(body)[:200]


@dataclass(frozen=True)
class MeetingPost:
    """The announcement of one stored calendar event, and the key that makes it happen once."""

    post: SlackPost
    claim: tuple[str, str]
    """(ledger thread, ledger call) claimed before posting: the channel and the event's UID."""


def plan_meeting_post(env: SlackEnv, args: Mapping[str, Any]) -> MeetingPost:
    """The announcement of the event a `create_calendar_event` call really created (blocking)."""
    if not env.meetings_channel:
        raise ToolFailure("SLACK_MEETINGS_CHANNEL is not set: meetings are not announced")
    thread, call = str(args.get("thread_id") or ""), str(args.get("call_id") or "")
    entry = SideEffectLedger(env.db).get(thread, call)
    if entry is None or entry.status != "done" or entry.tool != SCHEDULING_TOOL:
        raise ToolFailure(f"no meeting was scheduled in call {call!r}: nothing to announce")
    data = dict(entry.result_dict().get("data") or {})
    title = str(data.get("title") or "(no title)")
    when = str(data.get("when") or data.get("start") or "")
    attendees = [str(a) for a in data.get("attendees") or []]
    blocks = meeting_blocks(title, when, attendees=attendees)
    post = SlackPost(
        channel=env.meetings_channel, text=f"Meeting scheduled: {title}, {when}", blocks=blocks
    )
    event = str(data.get("uid") or f"{thread}/{call}")
    return MeetingPost(post, (f"slack-meetings:{env.meetings_channel}", event))


def announced_before(env: SlackEnv, meeting: MeetingPost) -> bool:
    """Whether this event was already announced (or its announcement started) in the channel."""
    return SideEffectLedger(env.db).get(*meeting.claim) is not None


async def _post(env: SlackEnv, post: SlackPost) -> dict[str, Any]:
    """Send one `chat.postMessage`; Slack's `ok: false` is a `ToolFailure` with a hint."""
    request = ApiRequest(
        integration=INTEGRATION,
        method="POST",
        url=f"{env.api_url}/chat.postMessage",
        action=f"post the message to {post.channel}",
        json=post.payload(),
        headers={
            "Authorization": f"Bearer {env.token}",
            "Content-Type": "application/json; charset=utf-8",
        },
    )
    response = await send(request, env.http, explain=explain)
    body: dict[str, Any] = json_of(response, request)
    if not body.get("ok"):
        raise ToolFailure(
            f"Slack could not post the message to {post.channel}: {explain(response)}"
        )
    return body


@tool
async def slack_post_message(
    text: str = "",
    channel: str = "",
    email_id: str = "",
    *,
    env: Annotated[SlackEnv, InjectedToolArg],
) -> ToolResult:
    """Post a message to a Slack channel (the configured one by default), optionally about a mail by its id."""  # noqa: E501 — the model reads it as one line
    post = await asyncio.to_thread(
        plan_post, env, {"text": text, "channel": channel, "email_id": email_id}
    )
    body = await _post(env, post)
    result = f"Posted to Slack {post.channel} (message ts {body.get('ts', '?')})."
    if email_id:
        result += f" [msg:{email_id}]"
    return text_result(result, data={"channel": body.get("channel"), "ts": body.get("ts")})


@tool
async def slack_announce_meeting(
    thread_id: str,
    call_id: str,
    *,
    env: Annotated[SlackEnv, InjectedToolArg],
) -> ToolResult:
    """Announce a meeting that was scheduled in the meetings channel."""
    meeting = await asyncio.to_thread(
        plan_meeting_post, env, {"thread_id": thread_id, "call_id": call_id}
    )
    post, ledger = meeting.post, SideEffectLedger(env.db)
    # One announcement per event and channel, whichever call (or retry) stored the event.
    earlier = await asyncio.to_thread(ledger.begin, *meeting.claim, MEETING_ANNOUNCEMENT, {})
    if earlier is not None:
        return text_result(
            f"This meeting was already announced in Slack {post.channel} "
            f"({earlier.status}); it was not posted again."
        )
    try:
        body = await _post(env, post)
    except ToolFailure as err:
        await asyncio.to_thread(ledger.finish, *meeting.claim, "failed", {"error": str(err)})
        raise
    await asyncio.to_thread(ledger.finish, *meeting.claim, "done", {"ts": body.get("ts")})
    return text_result(
        f"Announced the meeting in Slack {post.channel} (message ts {body.get('ts', '?')}).",
        data={"channel": body.get("channel"), "ts": body.get("ts")},
    )


SLACK_TOOLS = [slack_post_message, slack_announce_meeting]
MEETING_ANNOUNCEMENT = "slack_announce_meeting"
SCHEDULING_TOOL = "create_calendar_event"
"""The calendar tool whose stored events are announced."""


def preview(env: SlackEnv, name: str, args: dict[str, Any]) -> ActionPreview | None:
    """The card of a Slack post: the channel and everything the message will say."""
    if name == MEETING_ANNOUNCEMENT:
        meeting = plan_meeting_post(env, args)
        notes = (
            ("This meeting was already announced there: nothing will be posted again.",)
            if announced_before(env, meeting)
            else ()
        )
        return ActionPreview(
            title=f"Announce the meeting in Slack {meeting.post.channel}",
            fields=(("Channel", f"{meeting.post.channel} (SLACK_MEETINGS_CHANNEL)"),),
            content=blocks_as_text(meeting.post.blocks),
            notes=notes,
        )
    if name != "slack_post_message":
        return None
    post = plan_post(env, args)
    where = "the channel you named" if args.get("channel") else "SLACK_CHANNEL"
    return ActionPreview(
        title=f"Post to Slack {post.channel}",
        fields=(("Channel", f"{post.channel} ({where})"), ("Notification text", post.text)),
        content=blocks_as_text(post.blocks) or post.text,
    )


def slack_toolkit(
    db: AppDatabase,
    secrets: SecretLookup,
    http: HttpSettings,
    environ: Mapping[str, str],
    mail_link_template: str = "",
) -> Toolkit:
    """The Slack tools, or the toolkit absent with what to set.

    Meetings are announced only where `SLACK_MEETINGS_CHANNEL` says: the alerts channel is
    for high-priority mail, and not everyone wants their meetings posted anywhere.
    """
    base = Toolkit(
        name="slack", tools=SLACK_TOOLS, hidden=frozenset({MEETING_ANNOUNCEMENT}), timeout=None
    )
    token = secrets("slack.bot_token")
    if not token:
        return replace(
            base,
            missing="Slack is not configured: set the bot token (SLACK_BOT_TOKEN) and "
            "SLACK_CHANNEL",
        )
    try:
        api_url = service_url("SLACK_API_URL", environ.get("SLACK_API_URL") or DEFAULT_API_URL)
    except HttpSettingsError as err:
        logger.warning("Slack is left out: %s", err)
        return replace(base, missing=f"Slack is not configured: {err}")
    env = SlackEnv(
        api_url=api_url,
        channel=environ.get("SLACK_CHANNEL", "").strip(),
        token=token,
        db=db,
        mail_link=mail_link_template,
        http=http,
        meetings_channel=environ.get("SLACK_MEETINGS_CHANNEL", "").strip(),
    )
    unavailable = (
        {}
        if env.meetings_channel
        else {MEETING_ANNOUNCEMENT: "set SLACK_MEETINGS_CHANNEL to announce scheduled meetings"}
    )
    return replace(
        base,
        env=env,
        unavailable=unavailable,
        preview=lambda name, args: preview(env, name, args),
    )
