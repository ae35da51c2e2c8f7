"""One message to the mailbox's owner, as the triage signal tests write it."""

from __future__ import annotations

from tools.mail.model import Email

OWNER = "priya@lumenhive.com"
PRIVATE = "priya.raman@fastmail.com"


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
