"""Calendar mail that only its structure gives away as an invitation.

A calendar's invitation usually says so in its subject with the time ("Invitation: X @ Thu 26
Nov 2026 13:00", which `rules/flags.toml` reads). Some do not: "Invitation: X" with the time
on a "When:" line or in an attached calendar file, and an invitation sent from Outlook or
Teams, whose subject is only the meeting's title and whose body carries the video meeting's
block ("Microsoft Teams meeting", "Join Zoom Meeting", "Meeting ID: ...").
"""

from __future__ import annotations

from graph.engines.triage.writers import Writer
from tools.mail.model import Email


def a_calendar_invitation(email: Email, flags: set[str], writer: Writer) -> bool:
    """An invitation from a calendar that its subject alone does not give away.

    "Invitation: X" without a time, with its "When:" line or its calendar file; or a video
    meeting's block (Teams, Zoom, Meet) in a person's own mail to the owner, which a calendar
    sends with no "Invitation:" in its subject at all.
    """
    if "invitation_subject" in flags and ("calendar_when" in flags or carries_a_calendar(email)):
        return True
    return "meeting_link" in flags and writer.person and writer.direct and not writer.bulk


def carries_a_calendar(email: Email) -> bool:
    """Whether a calendar file (`text/calendar`, `.ics`) is attached."""
    return any(
        a.content_type == "text/calendar" or a.filename.casefold().endswith(".ics")
        for a in email.attachments
    )
