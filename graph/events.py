"""Which webhook events are due in this run, as delivery calls only code proposes.

- `email_classified`: the mail newly triaged in a triage run (unreadable messages are left out);
- `reply_sent`: a `reply_to_email` call of this turn that really sent its reply;
- `meeting_scheduled`: a calendar tool's create call that really created its event (any tool
  mapped to the event in `tools.integrations.webhooks.EVENT_OF_TOOL`).

Only events some endpoint subscribed to are proposed. The delivery tool builds each payload
from what really happened (the mailbox, the side-effect ledger), never from a model's words.

Announcements work the same way: a meeting really scheduled is proposed as a Slack post to
`SLACK_MEETINGS_CHANNEL` (a card, level 1) when Slack is set up with that channel.
"""

from __future__ import annotations

from graph.engines.base import ProposedCall
from graph.state import State
from tools.integrations.slack import MEETING_ANNOUNCEMENT, SCHEDULING_TOOL, SlackEnv
from tools.integrations.webhooks import DELIVERY_TOOL, EVENT_OF_TOOL, WebhooksEnv
from tools.registry import ToolRegistry


def may_make_events(state: State) -> bool:
    """Whether a call done this turn is one `due_events` or `due_announcements` look for.

    From the tables alone, before asking whether anyone subscribed: a turn that only read
    things makes no event.
    """
    return any(
        done["action"] in EVENT_OF_TOOL or done["action"] == SCHEDULING_TOOL
        for done in state.get("executed") or []
    )


def due_events(state: State, tools: ToolRegistry, thread_id: str) -> list[ProposedCall]:
    """Delivery calls for the events of this run that endpoints subscribed to."""
    kit = tools.toolkit("webhooks")
    if kit is None or kit.missing or not isinstance(kit.env, WebhooksEnv):
        return []
    env: WebhooksEnv = kit.env
    calls: list[ProposedCall] = []
    if state.get("mode") == "triage" and env.subscribed("email_classified"):
        rows = state.get("triage") or []
        ids = [row["id"] for row in rows if not row.get("error")]
        # The run's rows are capped; mail fetched beyond them was classified too.
        shown = {row["id"] for row in rows}
        ids += [i for i in state.get("new_email_ids") or [] if i not in shown]
        if ids:
            calls.append(
                ProposedCall(DELIVERY_TOOL, {"event": "email_classified", "email_ids": ids})
            )
    for done in state.get("executed") or []:
        event = EVENT_OF_TOOL.get(done["action"])
        if event and done["status"] == "ok" and env.subscribed(event):
            args = {"event": event, "thread_id": thread_id, "call_id": done["call_id"]}
            calls.append(ProposedCall(DELIVERY_TOOL, args))
    return calls


def due_announcements(state: State, tools: ToolRegistry, thread_id: str) -> list[ProposedCall]:
    """Slack posts of the meetings this turn really scheduled, when a channel is set for them."""
    kit = tools.toolkit("slack")
    if kit is None or kit.missing or not isinstance(kit.env, SlackEnv):
        return []
    if not kit.env.meetings_channel:
        return []
    return [
        ProposedCall(MEETING_ANNOUNCEMENT, {"thread_id": thread_id, "call_id": done["call_id"]})
        for done in state.get("executed") or []
        if done["action"] == SCHEDULING_TOOL and done["status"] == "ok"
    ]
