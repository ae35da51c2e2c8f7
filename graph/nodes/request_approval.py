"""`request_approval`: the policy clears what it may; a person decides everything else.

No side effect happens here: the node re-runs from its start when the graph resumes, so
everything before an `interrupt()` is recomputed the same way (the audit rows it writes
are keyed by call and simply rewritten).
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import replace
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.config import get_config
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from graph.approval import Review, approval_request, edited_args, read_responses
from graph.approval_audit import audit_decisions, audit_pending
from graph.context import Context
from graph.evidence_bodies import whole_evidence
from graph.inbox_cards import (
    INBOX_ACTIONS,
    NAMES_ONLY,
    UNDO_TOOL,
    ConversationLine,
    emptied,
    inbox_review,
    narrowed_args,
    suspicious_flags,
)
from graph.provenance import (
    CallView,
    Flag,
    SendersNamed,
    SourceMail,
    Trust,
    Value,
    call_flags,
    sender_words,
    sensitive_values,
    user_chose,
)
from graph.provenance.addresses import canonical_address
from graph.provenance.values import arg_role, token_key
from graph.reply_checks import reply_notes_now
from graph.services import Services, services_for
from graph.state import Decision, State, ToolCallRequest
from memory.audit import AuditLog
from tools.mail.compose import own_words
from tools.mail.outgoing import MailAction, plan_mail_action
from tools.registry import ToolRegistry
from tools.toolkit import ActionPreview

MAX_EDIT_ROUNDS = 5
"""How often one call may be edited into new flags and asked about again in one step."""


def current_thread_id() -> str:
    """The thread of the running graph ('' when it runs without a checkpointer)."""
    try:
        return str(get_config().get("configurable", {}).get("thread_id") or "")
    except RuntimeError:
        return ""


CODE_PROPOSERS = frozenset({"triage", "events", "detect_follow_up"})
"""Who proposes calls in code: the ids in their calls are ones the product made."""
SUSPECT_CATEGORIES = frozenset({"spam_or_cold"})
"""Triage categories that mean "a scam or unsolicited": named when a call uses such a mail."""
DESTINATION_FIELDS = frozenset({"to", "cc", "bcc", "email", "attendees", "recipients"})
"""Card fields that say where a call delivers (a CRM contact's `email`), not what it says."""
NAME_SCAN_LIMIT = 5000
"""Messages read to learn which senders go by a name the user used."""


def trust_of(services: Services, state: State) -> Trust:
    """What counts as the user's: their words in this thread, their configuration, our ids."""
    texts = tuple(str(m.text) for m in state.get("messages") or [] if isinstance(m, HumanMessage))
    made = {current_thread_id()}
    made |= {d["call_id"] for d in state.get("decisions") or []}
    made |= {e["call_id"] for e in state.get("executed") or []}
    made |= {e["id"] for e in state.get("evidence") or []}
    return Trust(
        user_texts=texts,
        addresses=frozenset(services.context.user_addresses) | services.policy.trusted_addresses,
        domains=services.policy.trusted_domains,
        configured=configured_destinations(services.tools),
        product_ids=frozenset(token_key(i) for i in made if i),
    )


def configured_destinations(tools: ToolRegistry) -> frozenset[str]:
    """Destinations named by configuration rather than by anyone's words (`SLACK_CHANNEL`)."""
    found = set()
    for kit in tools.toolkits:
        for attribute in ("channel", "meetings_channel"):
            value = getattr(kit.env, attribute, "")
            if isinstance(value, str) and value.strip():
                found.add(token_key(value))
    return frozenset(found)


def senders_named(services: Services) -> SendersNamed:
    """Which sender addresses of the mailbox go by a name word (cached for one review)."""

    @functools.cache
    def lookup(word: str) -> frozenset[str]:
        emails = services.db.list_emails(
            source=services.tools.env.source, sender=word, limit=NAME_SCAN_LIMIT
        )
        return frozenset(
            canonical_address(e.from_addr)
            for e in emails
            if word in sender_words(e.from_name, e.from_addr)
        )

    return lookup


def named_mails(
    services: Services, state: State, call: ToolCallRequest, trust: Trust
) -> dict[str, SourceMail]:
    """The messages of the mailbox a call names by id, and whether the user chose each."""
    focus = list(state.get("focus") or [])
    names = senders_named(services)
    found: dict[str, SourceMail] = {}
    for value in sensitive_values(call["args"]):
        if arg_role(value.arg) != "id" or value.value in found:
            continue
        email = services.db.get_email(value.value)
        if email is None:
            continue
        triage = services.db.triage_for([email.id]).get(email.id)
        label = ""
        if triage is not None and triage.category in SUSPECT_CATEGORIES:
            label = f"{triage.category} ({triage.reason})"
        mail = SourceMail(
            id=email.id,
            from_addr=email.from_addr,
            from_name=email.from_name,
            reply_to=email.reply_to,
            subject=email.subject,
            text=own_words(email),
            label=label,
        )
        # A call the user asked for themselves (a suggested action they pressed) names its mail.
        chosen = (
            call["proposed_by"] == "user"
            or call["name"] in NAMES_ONLY
            or user_chose(mail, trust, focus, names)
        )
        found[value.value] = replace(mail, chosen=chosen)
    return found


def call_view(
    call: ToolCallRequest,
    mails: dict[str, SourceMail],
    action: MailAction | None,
    preview: ActionPreview | None,
    *,
    opaque: bool,
    hidden: bool,
) -> CallView:
    """The call as provenance judges it: arguments, real recipients, what it copies.

    What a hidden tool writes is not searched for copied values: only the product's code
    proposes it, its destination is configuration and its content a fixed shape (a webhook
    event the user subscribed to, the announcement of a meeting they accepted).
    """
    args = call["args"]
    answers = ("", "")
    recipients: list[Value] = []
    if action is not None:
        original = action.reply_of
        derived = original is not None and not args.get("to")
        if derived:
            arg = "email_id" if call["name"] == "reply_to_email" else "in_reply_to_id"
            answers = (arg, str(args.get(arg) or ""))
        else:
            recipients += [Value("to", "address", a) for a in action.to]
        cc_arg = "cc" if args.get("cc") else "reply_all"
        recipients += [Value(f"{cc_arg} (Cc)", "address", a) for a in action.cc]
    written: list[tuple[str, str, bool]] = []
    if preview is not None and not hidden:
        written += [
            (f"the “{label}” field", text, label.casefold() in DESTINATION_FIELDS)
            for label, text in preview.fields
        ]
        written.append(("the content", preview.content, False))
    return CallView(
        args=args,
        mails=mails,
        by_code=call["proposed_by"] in CODE_PROPOSERS,
        answers=answers,
        recipients=tuple(recipients),
        written=tuple(written),
        opaque=opaque and bool(mails),
    )


def address_arguments(args: dict[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each recipient argument with the addresses a server will be given, for the card."""
    found: dict[str, list[str]] = {}
    for value in sensitive_values(args):
        if value.kind == "address" and not value.malformed and arg_role(value.arg) == "address":
            found.setdefault(value.arg, []).append(value.value)
    return tuple((arg, tuple(addresses)) for arg, addresses in found.items())


def review_call(services: Services, state: State, call: ToolCallRequest) -> Review:
    """Level, flags and the resolved mail action of one call (reads the database)."""
    tools = services.tools
    side_effect = not tools.is_read_only(call["name"])
    level = services.policy.level_for(
        call["name"],
        default=tools.default_level(call["name"]),
        server=tools.server_of(call["name"]),
    )
    held: list[Flag] = []
    if tools.suspended(call["name"]):
        held = [
            {
                "arg": "",
                "kind": "changed_definition",
                "value": call["name"],
                "seen_in": f"mcp:{tools.server_of(call['name'])}",
                "reason": tools.suspended(call["name"]),
            }
        ]
    unavailable = tools.unavailable.get(call["name"], "") or tools.refusal(
        call["name"], call["args"]
    )
    if unavailable:
        return Review(call, level, side_effect, flags=[], unavailable=unavailable)
    if not side_effect:
        return Review(call=call, level=level, side_effect=False, flags=held)
    trust = trust_of(services, state)
    action = plan_mail_action(services.tools.env, call["name"], call["args"])
    preview = tools.preview(call["name"], call["args"]) if action is None else None
    mails = named_mails(services, state, call, trust)
    opaque = action is None and preview is None and tools.server_of(call["name"]) is not None
    view = call_view(
        call, mails, action, preview, opaque=opaque, hidden=tools.is_hidden(call["name"])
    )
    flags = held + call_flags(view, trust, whole_evidence(state.get("evidence") or []))
    flags += suspicious_flags(services.db, call["name"], call["args"])
    notes: tuple[str, ...] = ()
    if action is not None and action.reply_of is not None:
        notes = tuple(reply_notes_now(action.reply_of, str(call["args"].get("body") or "")))
    conversations: tuple[ConversationLine, ...] = ()
    reverses: tuple[str, ...] = ()
    if call["name"] in INBOX_ACTIONS or call["name"] == UNDO_TOOL:
        evidence = whole_evidence(state.get("evidence") or [])
        conversations, reverses = inbox_review(tools.env, call["name"], call["args"], evidence)
    return Review(
        call=call,
        level=level,
        side_effect=True,
        flags=flags,
        action=action,
        preview=preview,
        recipients=address_arguments(call["args"]) if action is None else (),
        notes=notes,
        conversations=conversations,
        reverses=reverses,
    )


def _decision(review: Review, kind: Any, args: dict[str, Any], by: str, text: str = "") -> Decision:
    call = review.call
    return {
        "call_id": call["id"],
        "action": call["name"],
        "args": args,
        "type": kind,
        "feedback": text,
        "by": by,
        "level": review.level,
        "flags": [dict(flag) for flag in review.flags],
    }


def _new_flags(review: Review, shown: list[Flag]) -> bool:
    seen = {(f["arg"], f["value"]) for f in shown}
    return any((f["arg"], f["value"]) not in seen for f in review.flags)


async def request_approval(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Clear calls by policy; ask about the rest together, one interrupt per round."""
    services = await services_for(runtime)
    audit, thread = AuditLog(services.db), current_thread_id()
    proposed = state.get("proposed_calls") or []
    reviews = await _reviews(services, state, audit, thread)
    decided: dict[str, tuple[Decision, ToolCallRequest | None]] = {}
    proposed_by_id = {c["id"]: c for c in proposed}
    pending = [r for r in reviews if not r.runs_without_asking]
    for review in reviews:
        if review.runs_without_asking:
            decided[review.call["id"]] = (
                _decision(review, "auto", review.call["args"], "policy"),
                review.call,
            )
    rounds = 0
    while pending:
        answers = read_responses(
            interrupt([approval_request(r) for r in pending]), [r.call for r in pending]
        )
        still: list[Review] = []
        for review in pending:
            answer = answers.get(review.call["id"])
            if answer is None:
                still.append(review)
                continue
            kind, call = answer["type"], review.call
            if kind == "edit":
                proposed_args = proposed_by_id[call["id"]]["args"]
                args = narrowed_args(proposed_args, edited_args(answer.get("args"), call["args"]))
                call = {**call, "args": args}
                if emptied(args):  # every row dropped: nothing is left to run
                    decided[call["id"]] = (_decision(review, "ignore", args, "user"), None)
                    continue
                again = await asyncio.to_thread(review_call, services, state, call)
                if _new_flags(again, review.flags) and rounds < MAX_EDIT_ROUNDS:
                    still.append(again)  # an edit that brings in an untrusted value is asked again
                    continue
                review = again
            text = str(answer.get("args") or "") if kind == "response" else ""
            runs = call if kind in ("accept", "edit") else None
            decision = _decision(review, kind, call["args"], "user", text)
            if kind == "edit":
                decision["proposed_args"] = dict(proposed_by_id[call["id"]]["args"])
            decided[call["id"]] = (decision, runs)
        pending, rounds = still, rounds + 1
    decisions = [decided[c["id"]][0] for c in proposed if c["id"] in decided]
    approved = [run for c in proposed if c["id"] in decided and (run := decided[c["id"]][1])]
    if any(d["type"] != "auto" for d in decisions):
        await asyncio.to_thread(audit_decisions, audit, thread, decisions)
    return {
        "approved_calls": approved,
        "proposed_calls": [],
        "decisions": (state.get("decisions") or []) + decisions,
    }


async def _reviews(services: Services, state: State, audit: AuditLog, thread: str) -> list[Review]:
    """Every proposed call reviewed and, where it needs one now, its audit row written.

    Reads are reviewed on the event loop (the policy and the tool list are in memory) and, when
    the policy lets them all through, nothing goes to the database here (`graph.approval_audit`);
    anything else is reviewed off the loop, since a side effect's review reads the mailbox.
    """
    proposed = state.get("proposed_calls") or []
    if not all(services.tools.is_read_only(c["name"]) for c in proposed):
        return await asyncio.to_thread(_review_and_audit, services, state, audit, thread)
    reviews = [review_call(services, state, c) for c in proposed]
    if not all(r.runs_without_asking for r in reviews):
        await asyncio.to_thread(audit_pending, audit, thread, reviews)
    return reviews


def _review_and_audit(
    services: Services, state: State, audit: AuditLog, thread: str
) -> list[Review]:
    """Review every proposed call and record each in the audit log (blocking: the database)."""
    reviews = [review_call(services, state, c) for c in state.get("proposed_calls") or []]
    audit_pending(audit, thread, reviews)
    return reviews
