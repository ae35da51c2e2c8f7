"""What can be said of mail an interrupted send was carrying: delivered, likely, maybe, not sent.

A retry must not send twice, so before asking the person, Sent and the demo outbox are
searched and the recorded stage is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from memory.audit_tables import OutgoingMessage
from memory.ledger import SendStage
from tools.mail.mailbox import MailboxEnv
from tools.mail.maildir import INBOX, MaildirSource
from tools.mail.source_protocol import MailSourceError
from tools.mail.sources import parse_source_spec

Verdict = Literal["delivered", "likely", "maybe", "not_sent"]
"""What can be said of a message whose send was interrupted, surest delivery first."""
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
VERDICT_WORDS: dict[str, str] = {
    "delivered": "delivered",
    "likely": "most likely delivered",
    "maybe": "may have been delivered",
    "not_sent": "not sent",
}


@dataclass(frozen=True)
class SentTrace:
    """What can be seen of one message an interrupted call was sending, and what follows."""

    message_id: str
    recipients: tuple[str, ...]
    stage: SendStage
    """The furthest stage an attempt recorded (`memory.ledger.SendStage`)."""
    stage_at: str
    attempts: int
    in_sent: bool | None
    """Whether a copy with its Message-ID is in Sent; None when Sent could not be searched."""
    in_outbox: bool | None = None
    """Whether the demo's local outbox holds it; None where there is none (or it is unreadable)."""
    problems: tuple[str, ...] = ()
    """Why a place could not be searched."""

    @property
    def verdict(self) -> Verdict:
        """Delivered, most likely, maybe or not: from where it was seen, else from its stage.

        The outbox is the demo's server and takes a message in one rename, so it answers
        outright. A Sent copy is written only after the server's 250. Without either, the
        stage says whether the server can hold the whole message.
        """
        if self.in_outbox is not None:
            return "delivered" if self.in_outbox else "not_sent"
        if self.in_sent or self.stage in ("accepted", "copied"):
            return "delivered"
        if self.stage == "data_sent":
            return "likely"
        if self.stage == "data":
            return "maybe"
        return "not_sent"

    def explain(self) -> str:
        """What was found and why it means what `verdict` says, in a sentence or three."""
        if self.in_outbox:
            found = "It is in the local demo outbox: it was delivered there."
        elif self.in_outbox is not None:
            found = (
                "It is not in the local demo outbox, which takes a message whole or not at all: "
                "it was not delivered."
            )
        elif self.in_sent:
            found = (
                "A copy with this Message-ID is in your Sent folder, which is written only "
                "after the server accepts a message: it was delivered."
            )
        else:
            seen = "No copy in Sent." if self.in_sent is False else "Sent could not be searched."
            found = f"{seen} {STAGE_FINDINGS[self.stage].format(at=self.stage_at)}"
        if self.attempts > 1:
            found += f" ({self.attempts} attempts began; this is as far as any of them got.)"
        if self.problems:
            found += f" (Could not search: {'; '.join(self.problems)}.)"
        return found


STAGE_FINDINGS: dict[str, str] = {
    "prepared": (
        "The process stopped before its session with the mail server was ready (while "
        "connecting or logging in at the latest): it was not sent."
    ),
    "envelope": (
        "The exchange stopped after connecting, while naming the sender and recipients, before "
        "the message itself was transmitted: the server never had it, so it was not sent."
    ),
    "data": (
        "The exchange stopped while the message was being transmitted to the server ({at}): it "
        "may or may not have been delivered."
    ),
    "data_sent": (
        "The whole message was handed to the server ({at}), but the exchange stopped before "
        "its answer (250) was received: it was most likely delivered."
    ),
    "accepted": "The server accepted it (answered 250) at {at}: it was delivered.",
    "copied": "The server accepted it and a copy was kept in Sent at {at}: it was delivered.",
}
"""What each recorded stage means for the message, when it was not seen anywhere."""


def traces_summary(traces: Sequence[SentTrace]) -> str:
    """`<id> to a@x: delivered; <id2> to b@y: not sent`: what was found, in one line."""
    return "; ".join(
        f"{t.message_id} to {', '.join(t.recipients) or '(nobody)'}: {VERDICT_WORDS[t.verdict]}"
        for t in traces
    )


def trace_sends(env: MailboxEnv, messages: Sequence[OutgoingMessage]) -> list[SentTrace]:
    """Look for each message an interrupted call was sending: in Sent and in the demo outbox.

    Blocking (reads the Maildir or asks the IMAP server). A place that cannot be searched is
    named in the trace, never an error: the person must be asked either way.
    """
    if not messages:
        return []
    ids = [m.message_id for m in messages]
    problems: list[str] = []
    in_sent: dict[str, str] | None = None
    try:
        in_sent = parse_source_spec(env.source, secrets=env.secrets).find_sent(ids)
    except MailSourceError as err:
        problems.append(f"Sent: {err}")
    in_outbox: dict[str, str] | None = None
    if env.smtp is None and env.outbox is not None:
        try:
            in_outbox = (
                MaildirSource(env.outbox, f"maildir:{env.outbox}").find_message_ids(INBOX, ids)
                if env.outbox.is_dir()
                else {}
            )
        except MailSourceError as err:
            problems.append(f"the local demo outbox: {err}")
    return [
        SentTrace(
            message_id=m.message_id,
            recipients=tuple(m.recipient_list()),
            stage=m.stage,  # type: ignore[arg-type]
            stage_at=m.stage_at,
            attempts=m.attempts,
            in_sent=None if in_sent is None else m.message_id in in_sent,
            in_outbox=None if in_outbox is None else m.message_id in in_outbox,
            problems=tuple(problems),
        )
        for m in messages
    ]
