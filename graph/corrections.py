"""The user's triage corrections: stored, turned into rules and examples, applied on every run.

Every way of correcting a row (the chat, the triage view, `smart-inbox triage correct`, the
LangGraph server API through the chat) ends in `correct`: it stores the correction with the
mailbox's data (`memory.triage_preferences`), rewrites that message's triage at once, and
forgets the cached triage of the other messages the new rule covers, so the next triage run
applies it to them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from graph.engines.triage.learning import Correction, Learner, Scope
from graph.engines.triage.profile import MailboxProfile, build_profile, infer_owner
from graph.engines.triage.scorer import triage_by_rules
from graph.engines.triage.verdict import RuleTriage
from memory.db import AppDatabase
from memory.mail_tables import TriageRecord
from memory.triage_preferences import TriagePreference, TriagePreferences
from prompts import as_data
from tools.language.categories import (
    CATEGORIES,
    DECISIONS,
    PRIORITIES,
    Category,
    Priority,
    TriageDecision,
)
from tools.mail.conversations import OWN_FOLDERS
from tools.mail.model import DRAFTS, SENT, Email
from tools.mail.sent_folder import cached_sent_mail

SENT_FOR_PROFILE = 2_000
"""Sent messages the profile learns known people from (the newest)."""
OWN_MAIL = OWN_FOLDERS | {SENT, DRAFTS}
"""Folders whose mail from the owner's address the owner wrote (what the server keeps there)."""
EXAMPLES_FOR_MODEL = 5
"""The user's newest rules, and their newest corrected messages, a model is shown."""
EXAMPLE_SUBJECT_CHARS = 100
_NOT_IN_A_KEY = re.compile(r"[^\w@.+\-]")
"""An address, a domain, a list id or a Message-ID needs none of these: a key came from mail,
so what it shows a model is cut down to those characters (no spaces, no markers, no prose)."""


class CorrectionError(ValueError):
    """A correction that cannot be stored: an unknown value, nothing to change, no message."""


def as_correction(stored: TriagePreference) -> Correction:
    """A stored correction as the learner uses it."""
    return Correction(
        scope=stored.scope,  # type: ignore[arg-type]
        key=stored.key,
        decision=stored.decision or None,  # type: ignore[arg-type]
        priority=stored.priority or None,  # type: ignore[arg-type]
        category=stored.category or None,  # type: ignore[arg-type]
        words=stored.words,
        email_id=stored.email_id,
    )


def load_learner(db: AppDatabase) -> Learner:
    """The learner over every stored correction, oldest first."""
    return Learner([as_correction(p) for p in TriagePreferences(db).all()])


def mailbox_profile(
    db: AppDatabase, source: str, emails: Sequence[Email], configured: Sequence[str]
) -> MailboxProfile:
    """What the mailbox says about its owner: its Sent folder(s) and the messages at hand.

    The Sent folder is the one cached with the source (a Maildir's `.Sent`) and the separate
    Sent folder a fetch for the triage synced and recorded (an IMAP account's, each account's
    in an inbox of several: `tools.mail.sent_folder.cached_sent_mail`), read from the cache
    only. A message at hand from the owner's address outside the user's own folders is left
    out: anyone can write any `From`, so it is neither sent mail nor mail received.
    """
    sent = db.list_emails(source=source, folder=SENT, limit=SENT_FOR_PROFILE)
    sent += cached_sent_mail(db, source, SENT_FOR_PROFILE)
    owners = set(infer_owner([*sent, *emails], configured))
    at_hand = [
        e for e in emails if e.folder in OWN_MAIL or e.from_addr.casefold().strip() not in owners
    ]
    return build_profile([*sent, *at_hand], configured)


def covered_by(scope: str, key: str) -> str:
    """What a rule covers, in words: `mail from the sender x@y.z`, `the message ID only`."""
    sender, _, skeleton = key.partition(" ")
    return {
        "template": (
            f"mail from {sender} whose subject starts like {skeleton!r}"
            if skeleton
            else f"mail of one kind from {sender}"
        ),
        "sender": f"mail from the sender {key}",
        "person": f"mail from {key}, never hidden nor called cold",
        "domain": f"mail from the domain {key}",
        "list": f"mail on the list {key}",
        "message": f"the message {key} only",
    }.get(scope, f"mail from the {scope} {key}")


def rule_says(
    scope: str, key: str, decision: str | None, priority: str | None, category: str | None
) -> str:
    """A rule in words: `mail from the sender x@y.z: decision ignore, priority low`."""
    sets = ", ".join(
        f"{name} {value}"
        for name, value in (("decision", decision), ("priority", priority), ("category", category))
        if value
    )
    return f"{covered_by(scope, key)}: {sets}"


def preferences_text(learner: Learner, limit: int = EXAMPLES_FOR_MODEL) -> str:
    """The user's rules as lines a model can read (the newest `limit`), '' when none.

    A rule's key came from mail (a sender, a list id), and these lines are the model's
    instructions, so the key is shown only as the characters an address or an id has.
    """
    lines = []
    for item in learner.corrections[-limit:]:
        # a template's subject skeleton came from mail: the model is shown its address only
        shown = item.key.partition(" ")[0] if item.scope == "template" else item.key
        key = _NOT_IN_A_KEY.sub("", shown)[:200]
        said = rule_says(item.scope, key, item.decision, item.priority, item.category)
        lines.append(f"- {said}")
    return "\n".join(lines)


def examples_text(db: AppDatabase, learner: Learner, limit: int = EXAMPLES_FOR_MODEL) -> str:
    """The user's newest corrected messages as data lines for a model, '' when none is cached.

    Each line is the sender's address, the subject (cut to `EXAMPLE_SUBJECT_CHARS`, no marker
    left in it: `prompts.as_data`) and what the user said it is. The caller puts them in the
    message part of the prompt, between markers, as mail is: a subject is the sender's words,
    never instructions.
    """
    wanted = [c for c in learner.corrections if c.email_id][-limit:]
    emails = {e.id: e for e in db.emails_by_ids([c.email_id for c in wanted])}
    lines = []
    for item in wanted:
        email = emails.get(item.email_id)
        if email is None or email.error:
            continue
        subject = as_data(" ".join((email.subject or "").split()))
        sets = ", ".join(
            f"{name} {value}"
            for name, value in (
                ("decision", item.decision),
                ("priority", item.priority),
                ("category", item.category),
            )
            if value
        )
        sender = _NOT_IN_A_KEY.sub("", email.from_addr or "")[:200]
        lines.append(f"- from {sender}, subject {subject[:EXAMPLE_SUBJECT_CHARS]!r}: {sets}")
    return "\n".join(lines)


def _checked(
    decision: str | None, priority: str | None, category: str | None
) -> tuple[TriageDecision | None, Priority | None, Category | None]:
    for name, value, allowed in (
        ("decision", decision, DECISIONS),
        ("priority", priority, PRIORITIES),
        ("category", category, CATEGORIES),
    ):
        if value and value not in allowed:
            raise CorrectionError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    if not (decision or priority or category):
        raise CorrectionError("say what to change: a decision, a priority or a category")
    return decision or None, priority or None, category or None  # type: ignore[return-value]


def correct(
    db: AppDatabase,
    email: Email,
    profile: MailboxProfile,
    *,
    decision: str | None = None,
    priority: str | None = None,
    category: str | None = None,
    scope: Scope | None = None,
    origin: str = "cli",
) -> TriagePreference:
    """Store the user's correction of one message and apply it to that message now."""
    wanted = _checked(decision, priority, category)
    correction = Correction.of(
        email, profile, decision=wanted[0], priority=wanted[1], category=wanted[2], scope=scope
    )
    if not correction.key:
        raise CorrectionError(f"message {email.id} has no sender to make a rule for")
    stored = TriagePreferences(db).add(
        scope=correction.scope,
        key=correction.key,
        decision=wanted[0] or "",
        priority=wanted[1] or "",
        category=wanted[2] or "",
        words=correction.words,
        email_id=email.id,
        origin=origin,
    )
    current = db.triage_for([email.id]).get(email.id)
    before = (
        _as_rule_triage(current)
        if current is not None
        else triage_by_rules(email, profile=profile)  # its triage was forgotten by a rule
    )
    updated = load_learner(db).apply(email, before, profile)  # every rule, the new one last
    db.save_triage([_as_record(email.id, updated)])
    covered = [
        other.id
        for other, _ in db.triaged_emails(email.source)
        if other.id != email.id and correction.matches(other)
    ]
    db.forget_triage(covered)
    return stored


def _as_rule_triage(record: TriageRecord) -> RuleTriage:
    return RuleTriage(
        record.priority,  # type: ignore[arg-type]
        record.category,  # type: ignore[arg-type]
        record.action,  # type: ignore[arg-type]
        record.reason,
        record.confidence,
        record.decision,  # type: ignore[arg-type]
        1.0,
        record.suspicious,
    )


def _as_record(email_id: str, row: RuleTriage) -> TriageRecord:
    return TriageRecord(
        email_id=email_id,
        priority=row.priority,
        category=row.category,
        action=row.action,
        reason=row.reason,
        confidence=row.confidence,
        engine="you",
        decision=row.decision,
        suspicious=row.suspicious,
        unsure=False,
    )
