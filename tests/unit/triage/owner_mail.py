"""One message to the mailbox's owner, and its triage, as the triage signal tests write them."""

from __future__ import annotations

import dataclasses

from bench.triage_eval import rules_alone
from graph.engines.triage import triage_by_rules
from graph.engines.triage.profile import MailboxProfile
from graph.engines.triage.verdict import RuleTriage
from tools.mail.model import Email

OWNER = "priya@lumenhive.com"
PRIVATE = "priya.raman@fastmail.com"
PROFILE = MailboxProfile(owner_addresses=(OWNER,))
"""The mailbox profile that knows only the owner's work address."""
ROBOT = {"Auto-Submitted": "auto-generated"}
"""The header of a program's mail."""
RULES_ALONE = rules_alone()
"""The shipped rules without the model of labelled mail (`prior.py`): a signal test checks
what the rules read; the model's second opinion is tested in `test_prior.py` and measured on
the corpus."""


def triage(email: Email, profile: MailboxProfile = PROFILE) -> RuleTriage:
    """The rules' own triage of `email` in a mailbox of `profile` (`RULES_ALONE`)."""
    return triage_by_rules(email, profile=profile, rules=RULES_ALONE)


def mail(
    subject: str,
    body: str,
    *,
    sender: str = "someone@example.org",
    to: str = OWNER,
    headers: dict[str, str] | None = None,
) -> Email:
    return Email(
        id=f"m-{abs(hash((subject, sender, body, to))) % 10**8}",
        source="test",
        folder="INBOX",
        key=subject,
        from_addr=sender,
        to=(to,),
        subject=subject,
        date="2026-11-20T10:00:00+01:00",
        body=body,
        headers=headers or {},
    )


def answering_owner(
    email: Email, profile: MailboxProfile = PROFILE
) -> tuple[Email, MailboxProfile]:
    """`email` as an answer to a message the owner sent, and a profile whose Sent folder has it."""
    sent = f"<sent-{email.id}@lumenhive.com>"
    answer = dataclasses.replace(email, in_reply_to=sent)
    return answer, dataclasses.replace(profile, sent_ids=profile.sent_ids | {sent})
