"""The reply lists under the triage view: who waits on the user, and whose reply the user awaits.

Shown after every triage run as their own element (`FollowupLists`), each list folded
under its heading and count. A row of the awaiting list offers a follow-up: it asks the chat
to "follow up with" that person, which proposes a draft on an approval card.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, tzinfo
from typing import Any

import chainlit as cl
from langchain_core.messages import HumanMessage

from tools.mail.conversations import sender_name
from tools.mail.followups import FollowupRow, Followups, read_followups
from tools.mail.mailbox import MailboxEnv
from tools.mail.reply_tracking import AwaitingDaysError
from tools.toolkit import ToolFailure
from ui.chat import render
from ui.chat.agent import owned
from ui.chat.chainlit_calls import say
from ui.chat.turn import run

NUDGE_ACTION = "followup_nudge"


def followup_row(row: FollowupRow, zone: tzinfo | None) -> dict[str, Any]:
    """One conversation of a list as the element shows it."""
    moment = render.local_time(row.date, zone)
    return {
        "id": row.id,
        "who": ", ".join(row.waiting_on) if row.waiting_on else sender_name(row.sender),
        "person": row.waiting_on[0] if row.waiting_on else "",
        "subject": row.subject or "(no subject)",
        "age": "today" if row.age_days == 0 else f"{row.age_days}d",
        "day": render.day_label(moment) if moment else "",
        "url": render.mail_url(row.id),
    }


def followup_props(lists: Followups, zone: tzinfo | None) -> dict[str, Any]:
    """The element's props: both lists, and the waiting time the awaiting list uses."""
    return {
        "needs": [followup_row(r, zone) for r in lists.needs_reply],
        "awaited": [followup_row(r, zone) for r in lists.awaiting_reply],
        "days": lists.awaiting_days,
    }


async def show_followups(mailbox: MailboxEnv, zone: tzinfo | None) -> None:
    """Both reply lists as one element; a list that cannot be read is said in one line."""
    try:
        lists = await asyncio.to_thread(read_followups, mailbox, datetime.now(UTC))
    except (AwaitingDaysError, ToolFailure) as err:
        await say(f"The reply lists could not be read: {err}")
        return
    await say(
        f"**Replies:** {len(lists.needs_reply)} need yours, "
        f"{len(lists.awaiting_reply)} awaited from others.",
        elements=[cl.CustomElement(name="FollowupLists", props=followup_props(lists, zone))],
    )


@cl.action_callback(NUDGE_ACTION)
@owned
async def on_nudge(action: cl.Action) -> None:
    """A row's "Follow up": the chat proposes a follow-up to that person, on a card."""
    person = str(action.payload.get("person", "")).strip()
    if person:
        await run({"messages": [HumanMessage(f"follow up with {person}")], "mode": "chat"})
