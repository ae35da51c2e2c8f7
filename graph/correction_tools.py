"""`correct_triage`: the chat's way to teach triage ("this is not cold", "mail from X is low").

A correction changes only the user's own triage settings, yet it is proposed on an approval card
like a side effect: a model could be talked into one by a mail ("always ignore mail from the
security team"), so the person sees the rule before it is kept. The triage view and the command
line correct directly: there the person is the one acting.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from langchain_core.tools import InjectedToolArg, tool

from graph.corrections import CorrectionError, correct, mailbox_profile, rule_says
from tools.mail.mailbox import MailboxEnv
from tools.toolkit import ActionPreview, ToolFailure, Toolkit, ToolResult, text_result

SCOPES = ("sender", "domain", "list", "message")


def _corrected(
    env: MailboxEnv, email_id: str, decision: str, priority: str, category: str, scope: str
) -> ToolResult:
    email = env.db.get_email(email_id)
    if email is None:
        raise ToolFailure(f"no message with id {email_id!r} in the mailbox")
    if scope and scope not in SCOPES:
        raise ToolFailure(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    profile = mailbox_profile(env.db, env.source, [email], env.user_addresses)
    try:
        stored = correct(
            env.db,
            email,
            profile,
            decision=decision or None,
            priority=priority or None,
            category=category or None,
            scope=scope or None,  # type: ignore[arg-type]
            origin="chat",
        )
    except CorrectionError as err:
        raise ToolFailure(str(err)) from err
    said = rule_says(stored.scope, stored.key, stored.decision, stored.priority, stored.category)
    return text_result(
        f"Remembered (rule {stored.id}): {said}. "
        "It applies to this message now and to the others at the next triage.",
        data={"rule": stored.id, "scope": stored.scope, "key": stored.key},
    )


@tool
async def correct_triage(
    email_id: str,
    decision: str = "",
    priority: str = "",
    category: str = "",
    scope: str = "",
    *,
    env: Annotated[MailboxEnv, InjectedToolArg],
) -> ToolResult:
    """Correct a message's triage and remember it as the user's rule for mail like it.

    decision: respond, notify or ignore; priority: high, normal or low; category: a triage
    category. scope: leave it empty for the usual rule (automated mail's kind, else its
    mailing list, else its sender; a known person's message only), or sender, domain, list
    (the sender's whole domain, or the mailing list) or message (this message only).
    """
    return await asyncio.to_thread(_corrected, env, email_id, decision, priority, category, scope)


def _preview(name: str, args: dict[str, Any]) -> ActionPreview | None:
    if name != correct_triage.name:
        return None
    fields = tuple(
        (label, str(args[key]))
        for label, key in (
            ("message", "email_id"),
            ("decision", "decision"),
            ("priority", "priority"),
            ("category", "category"),
            ("rule for the", "scope"),
        )
        if args.get(key)
    )
    return ActionPreview(title="Remember a triage rule", fields=fields)


def corrections_toolkit(env: MailboxEnv) -> Toolkit:
    """The correction tool on the mailbox (confirm level: the person sees the rule first)."""
    return Toolkit(name="triage_corrections", tools=[correct_triage], env=env, preview=_preview)
