"""`smart-inbox triage correct` and `smart-inbox rules`: the user's own triage rules.

A correction is kept in the app database with the mailbox's data; every later triage applies
it before the generic rules (`graph.corrections`). Here it is made, listed and removed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict, dataclass
from typing import Any

from graph.context import Context
from graph.corrections import CorrectionError, as_correction, mailbox_profile, rule_says
from graph.corrections import correct as store_correction
from graph.services import Services, build_services
from memory.db import open_database
from memory.mail_tables import TriageRecord
from memory.paths import app_database_url, data_dir
from memory.triage_preferences import TriagePreference, TriagePreferences
from tools.mail.model import Email
from ui.cli.errors import UserError
from ui.cli.settings import load_context, one_line_errors

SHOWN = ("decision", "priority", "category", "action")
"""The triage fields shown before and after a correction."""


@dataclass(frozen=True)
class CorrectionDone:
    """One stored correction: the message's triage before and after, and the rule it made."""

    email: Email
    before: TriageRecord | None
    after: TriageRecord | None
    rule: TriagePreference
    again: list[str]
    """The other messages the rule covers, whose triage the next run redoes."""


def rule_text(rule: TriagePreference) -> str:
    """What a rule says, e.g. `mail from the sender x@y.z: decision ignore`."""
    return rule_says(rule.scope, rule.key, rule.decision, rule.priority, rule.category)


def rule_row(rule: TriagePreference) -> dict[str, Any]:
    """A rule as `rules list --json` prints it (its example's words left out)."""
    row = asdict(rule)
    del row["words"]
    return row


@one_line_errors
async def correct(args: argparse.Namespace) -> int:
    """`triage correct ID`: store the correction, show what changed and the rule it made."""
    context = await asyncio.to_thread(load_context, args)
    services = await asyncio.to_thread(build_services, context)
    try:
        done = await asyncio.to_thread(_correct, services, args)
    except CorrectionError as err:
        raise UserError(str(err)) from err
    if getattr(args, "json", False):
        print(json.dumps(correction_json(done), ensure_ascii=False, indent=2))
        return 0
    print("\n".join(correction_lines(done)))
    return 0


def _correct(services: Services, args: argparse.Namespace) -> CorrectionDone:
    db, source = services.db, services.source
    email = db.get_email(args.id)
    if email is None or email.source != source:
        raise UserError(f"no message with id {args.id!r} in this mailbox (see smart-inbox triage)")
    shown = [other for other, _ in db.triaged_emails(source)]
    profile = mailbox_profile(db, source, shown, services.context.user_addresses)
    before = db.triage_for([email.id]).get(email.id)
    stored = store_correction(
        db,
        email,
        profile,
        decision=args.decision,
        priority=args.priority,
        category=args.category,
        scope=args.scope,
        origin="cli",
    )
    rule = as_correction(stored)
    again = [other.id for other in shown if other.id != email.id and rule.matches(other)]
    after = db.triage_for([email.id]).get(email.id)
    return CorrectionDone(email, before, after, stored, again)


def correction_lines(done: CorrectionDone) -> list[str]:
    """What `triage correct` prints: the message, each field before and after, the rule."""
    lines = [f"corrected {done.email.id}: {done.email.sender}: {done.email.subject}"]
    for name in SHOWN:
        old = getattr(done.before, name) if done.before else "(not triaged yet)"
        new = getattr(done.after, name) if done.after else "(at the next triage)"
        lines.append(f"  {name}: {old} -> {new}" if old != new else f"  {name}: {new} (unchanged)")
    lines.append(f"rule {done.rule.id}: {rule_text(done.rule)}")
    if done.again:
        lines.append(
            f"{len(done.again)} other message(s) it covers are triaged again by the next "
            "smart-inbox triage"
        )
    lines.append(f"(undo: smart-inbox rules remove {done.rule.id})")
    return lines


def correction_json(done: CorrectionDone) -> dict[str, Any]:
    """What `triage correct --json` prints."""
    return {
        "id": done.email.id,
        "before": _fields(done.before),
        "after": _fields(done.after),
        "rule": {**rule_row(done.rule), "text": rule_text(done.rule)},
        "triaged_again": done.again,
    }


def _fields(record: TriageRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {name: getattr(record, name) for name in (*SHOWN, "suspicious", "unsure", "engine")}


@one_line_errors
async def rules(args: argparse.Namespace) -> int:
    """`rules list` or `rules remove ID`."""
    if args.rules_command == "remove":
        return await _remove(args)
    db = await asyncio.to_thread(open_database, app_database_url(data_dir()))
    stored = await asyncio.to_thread(TriagePreferences(db).all)
    if args.json:
        print(json.dumps([rule_row(rule) for rule in stored], ensure_ascii=False, indent=2))
        return 0
    print(rules_table(stored))
    return 0


async def _remove(args: argparse.Namespace) -> int:
    context = Context(**({"inbox": args.inbox} if args.inbox else {}))
    services = await asyncio.to_thread(build_services, context)
    again = await asyncio.to_thread(remove_rule, services, args.id)
    if again is None:
        raise UserError(f"no rule with id {args.id} (see smart-inbox rules list)")
    print(f"removed rule {args.id}")
    if again:
        print(
            f"{len(again)} message(s) it covered are triaged again by the next smart-inbox triage"
        )
    return 0


def remove_rule(services: Services, rule_id: int) -> list[str] | None:
    """Remove one rule and forget the triage it made in this mailbox; None when there is none.

    The message it was made from and the others it covers are triaged again by the next run,
    without it.
    """
    db = services.db
    store = TriagePreferences(db)
    stored = next((rule for rule in store.all() if rule.id == rule_id), None)
    if stored is None or not store.remove(rule_id):
        return None
    rule = as_correction(stored)
    covered = [
        email.id
        for email, _ in db.triaged_emails(services.source)
        if email.id == stored.email_id or rule.matches(email)
    ]
    db.forget_triage(covered)
    return covered


def rules_table(stored: list[TriagePreference]) -> str:
    """`rules list` as text: one line a rule, oldest first."""
    if not stored:
        return (
            "no rules yet: smart-inbox triage correct ID --decision D (or --priority, --category)"
        )
    lines = [f"{'ID':>4}  {'MADE AT':<25}  {'IN':<4}  RULE"]
    lines += [
        f"{rule.id:>4}  {rule.created_at:<25}  {rule.origin:<4}  {rule_text(rule)}"
        for rule in stored
    ]
    return "\n".join(lines)
