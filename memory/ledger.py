"""The ledger that keeps a side effect from running twice, and the progress of what it sends.

A side-effecting call is claimed in the app database before it runs and closed after it, so a
call interrupted by a crash is known to have an unknown outcome instead of being run again
blindly; each message the call sends keeps one Message-ID and Date for every attempt. Like the
audit log (`memory.audit`), the ledger holds only redacted values.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, get_args

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from memory.audit import redacted_json
from memory.audit_tables import LedgerEntry, OutgoingMessage

if TYPE_CHECKING:
    from memory.db import AppDatabase

logger = logging.getLogger(__name__)

FinalStatus = Literal["done", "failed", "skipped"]
"""How a claimed call ends; until then its ledger status is `started`."""
SendStage = Literal["prepared", "envelope", "data", "data_sent", "accepted", "copied"]
"""How far one outgoing message got, in the order an attempt goes through them:

- `prepared`: its Message-ID and Date are recorded; nothing has gone to a server yet.
- `envelope`: the session with the server is open (logged in); the sender and the recipients
  are being named. The server holds no message: it drops the transaction if the session ends.
- `data`: the server said it is ready for the message (354) and it is being transmitted; from
  here on the server may hold all of it.
- `data_sent`: the whole message and its end mark were handed to the connection; the server's
  answer had not been read.
- `accepted`: the server answered that it took the message (250); the demo's local outbox has
  it (its delivery is one atomic rename).
- `copied`: a copy was kept in the Sent folder.

Each stage is written before the step it names begins (`accepted` and `copied` after theirs
ended), so a process that dies is never recorded further along than it really got."""
SEND_STAGES: tuple[SendStage, ...] = get_args(SendStage)
CRASH_AT_SEND_STAGE = "SMART_INBOX_CRASH_AT_SEND_STAGE"
"""Fault injection for the recovery tests: the name of a stage at which the sending process
kills itself, right after the stage is recorded (inside the SMTP exchange for most)."""
FINAL_STATUSES: frozenset[str] = frozenset(get_args(FinalStatus))


def args_digest(args: Mapping[str, Any]) -> str:
    """The sha256 of the canonical JSON of a call's (redacted) arguments.

    Redacted first so that the digest cannot be used to confirm a guessed secret.
    """
    canonical = redacted_json(dict(args), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SideEffectLedger:
    """At most once: a call is claimed (durably) before its side effect runs.

    `begin` is the only way to claim a call, and the primary key makes the claim atomic
    between threads and processes. A `started` row whose call never finished means the
    outcome is unknown: the side effect may or may not have happened.
    """

    def __init__(self, db: AppDatabase) -> None:
        self.engine = db.engine

    def begin(
        self, thread_id: str, call_id: str, tool: str, args: Mapping[str, Any]
    ) -> LedgerEntry | None:
        """Claim the call: None if it is now ours to run, else the entry already recorded.

        The `started` row is committed before this returns, so it is on disk before the side
        effect runs.
        """
        digest = args_digest(args)
        for _attempt in range(3):
            with Session(self.engine) as session:
                session.add(
                    LedgerEntry(thread_id=thread_id, call_id=call_id, tool=tool, args_digest=digest)
                )
                try:
                    session.commit()
                    return None
                except IntegrityError:
                    session.rollback()
            existing = self.get(thread_id, call_id)
            if existing is not None:
                if existing.args_digest != digest:
                    logger.warning(
                        "call %s in thread %s was recorded with other arguments", call_id, thread_id
                    )
                return existing
            # Released between our insert and our read: try to claim it again.
        raise RuntimeError(f"could not claim call {call_id} in thread {thread_id}")

    def finish(
        self,
        thread_id: str,
        call_id: str,
        status: FinalStatus,
        result: Mapping[str, Any],
    ) -> None:
        """Close a `started` call with its status and (redacted) result."""
        if status not in FINAL_STATUSES:
            raise ValueError(f"a call finishes done, failed or skipped, not {status!r}")
        with Session(self.engine) as session:
            changed = session.exec(
                update(LedgerEntry)
                .where(col(LedgerEntry.thread_id) == thread_id)
                .where(col(LedgerEntry.call_id) == call_id)
                .where(col(LedgerEntry.status) == "started")
                .values(status=status, finished_at=_now(), result=redacted_json(dict(result)))
            ).rowcount
            session.commit()
        if not changed:
            raise self._not_started(thread_id, call_id)

    def get(self, thread_id: str, call_id: str) -> LedgerEntry | None:
        """The entry of a call, or None if it was never claimed."""
        with Session(self.engine) as session:
            return session.get(LedgerEntry, (thread_id, call_id))

    def unfinished(self, thread_id: str | None = None) -> list[LedgerEntry]:
        """Calls still `started`: running now, or interrupted with an unknown outcome."""
        stmt = select(LedgerEntry).where(LedgerEntry.status == "started")
        if thread_id is not None:
            stmt = stmt.where(LedgerEntry.thread_id == thread_id)
        with Session(self.engine) as session:
            return list(session.exec(stmt.order_by(col(LedgerEntry.started_at))).all())

    def settle_unknown(self, thread_id: str, call_id: str, *, retry: bool, found: str = "") -> None:
        """Decide a `started` call whose outcome is unknown.

        `retry=True` deletes the claim so the next `begin` may run the call again (the
        messages it was sending keep their rows: a retry sends them with the same Message-ID);
        `retry=False` marks it `skipped` so it is never run, with `found` (what was seen of it
        when the person was asked) as its result. Settling a call already settled the same way
        does nothing; settling one that finished is an error.
        """
        with Session(self.engine) as session:
            if retry:
                stmt: Any = delete(LedgerEntry)
            else:
                stmt = update(LedgerEntry).values(
                    status="skipped",
                    finished_at=_now(),
                    result=redacted_json({"found": found} if found else {}),
                )
            changed = session.exec(
                stmt.where(col(LedgerEntry.thread_id) == thread_id)
                .where(col(LedgerEntry.call_id) == call_id)
                .where(col(LedgerEntry.status) == "started")
            ).rowcount
            session.commit()
        if changed:
            return
        entry = self.get(thread_id, call_id)
        if (entry is None and retry) or (entry and entry.status == "skipped" and not retry):
            return
        raise self._not_started(thread_id, call_id, entry)

    def prepare_message(
        self,
        thread_id: str,
        call_id: str,
        part: str,
        *,
        message_id: str,
        date: str,
        recipients: Sequence[str],
    ) -> OutgoingMessage:
        """Record that an attempt to send one of a call's messages begins; returns its row.

        The first attempt's `message_id` and `date` are stored and returned to every later
        one, whatever it passes: a retry sends the same message. Committed before it returns,
        so the Message-ID is on disk before anything connects to a server.
        """
        key = (thread_id, call_id, part)
        for attempt in range(2):
            with Session(self.engine) as session:
                row = session.get(OutgoingMessage, key)
                if row is None:
                    row = OutgoingMessage(
                        thread_id=thread_id,
                        call_id=call_id,
                        part=part,
                        message_id=message_id,
                        date=date,
                        recipients=json.dumps(list(recipients), ensure_ascii=False),
                    )
                else:
                    row.attempts += 1
                session.add(row)
                try:
                    session.commit()
                except IntegrityError:
                    # Another writer created the row first: the second pass counts on it.
                    if attempt:
                        raise
                    continue
                session.refresh(row)
                return row
        raise AssertionError("unreachable")  # pragma: no cover

    def reach(self, thread_id: str, call_id: str, part: str, stage: SendStage) -> None:
        """Record that a message got to `stage`; a stage never replaces a further one."""
        if stage not in SEND_STAGES:
            raise ValueError(f"unknown send stage {stage!r}; expected one of {SEND_STAGES}")
        with Session(self.engine) as session:
            row = session.get(OutgoingMessage, (thread_id, call_id, part))
            if row is None:
                raise LookupError(
                    f"message {part or '(the only one)'} of call {call_id} in thread "
                    f"{thread_id} was never prepared"
                )
            if SEND_STAGES.index(stage) > _stage_rank(row.stage):
                row.stage, row.stage_at = stage, _now()
                session.add(row)
                session.commit()

    def messages(self, thread_id: str, call_id: str) -> list[OutgoingMessage]:
        """The messages a call prepared, in the order of their parts."""
        stmt = (
            select(OutgoingMessage)
            .where(OutgoingMessage.thread_id == thread_id, OutgoingMessage.call_id == call_id)
            .order_by(col(OutgoingMessage.part))
        )
        with Session(self.engine) as session:
            return list(session.exec(stmt).all())

    def _not_started(
        self, thread_id: str, call_id: str, entry: LedgerEntry | None = None
    ) -> LookupError | ValueError:
        entry = entry or self.get(thread_id, call_id)
        if entry is None:
            return LookupError(f"call {call_id} in thread {thread_id} was never started")
        return ValueError(f"call {call_id} in thread {thread_id} is {entry.status}, not started")


def _stage_rank(stage: str) -> int:
    return SEND_STAGES.index(stage) if stage in SEND_STAGES else -1  # type: ignore[arg-type]


@dataclass(frozen=True)
class ClaimedCall:
    """The side-effecting call `act` claimed and is running: its messages are recorded under it.

    Set for the duration of the call (`running`), so the mail code deep inside a tool can
    record each message's Message-ID and progress without the tool's arguments (which the
    model sees) carrying any of it.
    """

    ledger: SideEffectLedger
    thread_id: str
    call_id: str

    def prepare(
        self, part: str, *, message_id: str, date: str, recipients: Sequence[str]
    ) -> OutgoingMessage:
        """`SideEffectLedger.prepare_message` for this call (blocking)."""
        row = self.ledger.prepare_message(
            self.thread_id,
            self.call_id,
            part,
            message_id=message_id,
            date=date,
            recipients=recipients,
        )
        _crash_if_asked("prepared")
        return row

    def reach(self, part: str, stage: SendStage) -> None:
        """`SideEffectLedger.reach` for this call (blocking)."""
        self.ledger.reach(self.thread_id, self.call_id, part, stage)
        _crash_if_asked(stage)


_RUNNING_CALL: ContextVar[ClaimedCall | None] = ContextVar("running_call", default=None)


def running_call() -> ClaimedCall | None:
    """The call being run by `act` in this context (threads started from it included), or None."""
    return _RUNNING_CALL.get()


@contextmanager
def running(call: ClaimedCall) -> Iterator[ClaimedCall]:
    """Make `call` the running call inside the block (and the tasks and threads it starts)."""
    token = _RUNNING_CALL.set(call)
    try:
        yield call
    finally:
        _RUNNING_CALL.reset(token)


def _crash_if_asked(stage: SendStage) -> None:
    if os.environ.get(CRASH_AT_SEND_STAGE) == stage:
        logger.warning("%s=%s: the process kills itself now", CRASH_AT_SEND_STAGE, stage)
        os.kill(os.getpid(), signal.SIGKILL)
