"""Corrections from the triage list: a row's decision, priority or category, made the user's rule.

The list sends what the person chose, for one message (a conversation's row corrects the
message whose triage it shows; an opened row's lines correct their own); the correction is
stored with the mailbox's data by `graph.corrections.correct` (the same path as the chat, the
command line and the API), the message's row is read back as the triage now says and put into
its conversation's row, and the list element is rewritten in the chat's history, so the row
shows the correction again after a reload, a reopened chat and a restart.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import tzinfo
from typing import Any, cast

import chainlit as cl

from graph.corrections import CorrectionError, correct, covered_by, mailbox_profile
from graph.engines.triage.learning import Scope
from graph.services import Services
from memory.mail_tables import TriageRecord
from tools.calendar.settings import user_time_zone
from ui.chat import render
from ui.chat.agent import AGENT
from ui.chat.chainlit_calls import data_layer

logger = logging.getLogger(__name__)

SCOPES: dict[str, Scope | None] = {"": None, "sender": "sender", "domain": "domain", "list": "list"}
"""What a correction's rule covers, as the list names it ('' is the rule `correct` makes by
default: automated mail's template, else its list, else its sender (a person not known yet: a
rule that lifts their mail); a known person's message only)."""
FIELDS = ("decision", "priority", "category")
STATE = ("priority", "category", "action", "reason", "decision", "unsure", "byYou", "fix")
"""What a conversation's row takes from the message whose triage it shows."""


def corrected(
    services: Services,
    email_id: str,
    wanted: dict[str, str],
    scope: str,
    zone: tzinfo | None,
    was: dict[str, str] | None = None,
) -> tuple[render.TriageRow, str]:
    """Store the correction of one message of this chat's mailbox; its row and note.

    The row is as it reads now; the note, read under it, says what the stored rule covers.

    `was` is what the row showed: a message whose triage an earlier rule set aside (it is
    triaged again at the next run) shows what was chosen over it until then.
    """
    if scope not in SCOPES:
        raise CorrectionError(f"a rule covers the sender, the domain or the list, not {scope!r}")
    email = services.db.get_email(email_id)
    if email is None or email.source != services.source:
        raise CorrectionError(f"message {email_id} is not in this mailbox (triage it again)")
    profile = mailbox_profile(
        services.db, services.source, [email], services.context.user_addresses
    )
    stored = correct(
        services.db,
        email,
        profile,
        **{name: wanted.get(name) or None for name in FIELDS},
        scope=SCOPES[scope],
        origin="view",
    )
    record = services.db.triage_for([email.id]).get(email.id)
    if record is None:
        shown = {**(was or {}), **{name: value for name, value in wanted.items() if value}}
        record = TriageRecord(
            email_id=email.id,
            priority=shown.get("priority") or "normal",
            category=shown.get("category") or "other",
            action="none",
            reason="your rule; triaged in full at the next run",
            engine="you",
            decision=shown.get("decision") or "notify",
        )
    return render.triage_row(email, record, zone), _note(stored.scope, stored.key)


def _note(scope: str, key: str) -> str:
    """What the person reads under the row once the correction is stored."""
    if scope == "message":
        return (
            "Saved as your rule for this message only: you know its sender, so their other"
            " mail is not covered (it teaches the engine by example)."
        )
    covers = covered_by(scope, key)
    return f"Saved as your rule for {covers}; the other messages it covers follow it next triage."


def merged_row(conversation: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    """A conversation's row (props) with one of its messages' rows as corrected.

    The message's line is replaced; when it is the message the row's state comes from, the
    row takes its new triage (a warning from any message stays; no reply on an answered row).
    """
    if message["id"] == (conversation.get("triaged") or conversation.get("id")):
        state = {name: message[name] for name in STATE if name in message}
        if not conversation.get("answered") and not conversation.get("warning"):
            state["replyTo"] = message.get("replyTo", "")
    else:
        state = {}
    lines = [
        _without_note(message) if line.get("id") == message["id"] else line
        for line in conversation.get("messages") or []
    ]
    return {**conversation, **state, "messages": lines}


def _without_note(row: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name != "note"}


def with_corrected_row(
    props: dict[str, Any], shown: dict[str, Any], expanded: bool
) -> dict[str, Any]:
    """The list's props with one row replaced, moved into its decision's group, still in view.

    The sort is stable: the other rows keep their order, and the corrected one takes the place
    its old position gives it among its new group's rows. It stays on the first screen (or the
    whole list stays open, when the person had opened it).
    """
    rows = [shown if r.get("id") == shown["id"] else r for r in props.get("rows") or []]
    rows.sort(key=render.row_place)  # stable: the others keep their order
    at = next((n for n, r in enumerate(rows) if r.get("id") == shown["id"]), 0)
    first = len(rows) if expanded else max(int(props.get("first") or 0), at + 1)
    return {**props, "rows": rows, "first": min(first, len(rows))}


async def _rewrite_list(
    element_id: str, row_id: str, message: dict[str, Any], expanded: bool
) -> dict[str, Any] | None:
    """Put the corrected message into its row of the list kept with this chat (and on screen).

    Returns that row as it reads now, or None when the list or the row is not found.
    """
    layer = data_layer()
    thread_id = cl.context.session.thread_id
    stored = await layer.get_element(thread_id, element_id) if layer is not None else None
    if stored is None:
        logger.warning("triage list %s not found in chat %s", element_id, thread_id)
        return None
    props = dict(stored.get("props") or {})
    row = next((r for r in props.get("rows") or [] if r.get("id") == row_id), None)
    if row is None:
        logger.warning("row %s not found in triage list %s", row_id, element_id)
        return None
    shown = {**merged_row(row, message), "note": message.get("note", "")}
    props = with_corrected_row(props, shown, expanded)
    element = cl.CustomElement(
        id=element_id,
        for_id=stored.get("forId") or "",
        thread_id=thread_id,
        name=str(stored.get("name") or "TriageList"),
        props=props,
        display=cast(Any, stored.get("display") or "inline"),
    )
    await element.update()  # type: ignore[no-untyped-call]
    return shown


async def correct_from_list(payload: dict[str, Any]) -> dict[str, Any]:
    """A row's correction from the triage list: stored, then the row as it reads now.

    The payload names the message (`email_id`) and its conversation's row (`row_id`, and
    the row itself as `conversation`, used when the list is not kept). The answer is
    `{"ok": True, "row", "note"}` with that conversation's row as it reads now, or
    `{"ok": False, "error"}` with a line that says what was wrong; nothing is stored then.
    """
    wanted = {name: str(payload.get(name) or "") for name in FIELDS}
    scope = str(payload.get("scope") or "")
    services = await AGENT.services()
    zone = await asyncio.to_thread(user_time_zone)
    try:
        was = {name: str(value) for name, value in (payload.get("was") or {}).items()}
        row, note = await asyncio.to_thread(
            corrected, services, str(payload.get("email_id", "")), wanted, scope, zone, was
        )
    except CorrectionError as err:
        return {"ok": False, "error": f"Not saved: {err}."}
    message = row.as_props()
    row_id = str(payload.get("row_id") or message["id"])
    conversation = payload.get("conversation")
    client = conversation if isinstance(conversation, dict) else {"id": row_id}
    stored = await _rewrite_list(
        str(payload.get("element_id", "")),
        row_id,
        {**message, "note": note},
        bool(payload.get("expanded")),
    )
    shown = stored or merged_row({**message, **client}, message)
    return {"ok": True, "row": {**shown, "note": note}, "note": note}
