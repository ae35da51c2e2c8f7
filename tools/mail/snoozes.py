"""Snoozed conversations come back: due ones move to the inbox again, marked woken.

`wake_snoozed` runs on every fetch (and so in every scheduled triage run), with the clock
passed in; the wake times live in the app database, so a snooze survives restarts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from memory.db import AppDatabase
from memory.inbox_store import InboxStore, moved_in_cache
from tools.mail.inbox_ops import GONE, MailboxOperations, MessageOutcome
from tools.mail.source_protocol import MailSourceError
from tools.toolkit import ToolFailure

logger = logging.getLogger(__name__)


def wake_snoozed(
    db: AppDatabase,
    source: str,
    operations: Callable[[], MailboxOperations],
    now: datetime,
) -> list[MessageOutcome]:
    """Move the snoozes due at `now` back to INBOX and mark them woken; returns what moved.

    `operations` opens the mailbox only when something is due (a fetch with nothing to wake
    costs one query). A message that cannot be moved back now (the server is down) stays
    snoozed and is tried again on the next fetch; one that is gone is reported and the snooze
    is woken without it, so nothing waits forever.

    Raises:
        MailSourceError: the mailbox cannot be reached.

    """
    store = InboxStore(db)
    due = store.due(source, now)
    if not due:
        return []
    ops = operations()
    inbox = ops.folder_for("inbox", create=False)
    woken: list[MessageOutcome] = []
    for snooze in due:
        emails = db.emails_by_ids(list(snooze.message_ids))
        outcomes = ops.move(emails, inbox) if emails else []
        for email, outcome in zip(emails, outcomes, strict=True):
            if outcome.ok and outcome.to_folder != email.folder:
                moved_in_cache(db, source, email.key, outcome.to_folder, outcome.key)
        retry = [o for o in outcomes if not o.ok and o.detail != GONE]
        if retry:
            logger.warning(
                "%s: snoozed message(s) could not come back yet: %s",
                source,
                "; ".join(o.line() for o in retry),
            )
            continue
        store.set_state(snooze.id, "woken", at=now)
        woken.extend(outcomes)
    logger.info("%s: %d snoozed message(s) woke up", source, sum(o.ok for o in woken))
    return woken


def wake_quietly(
    db: AppDatabase, source: str, operations: Callable[[], MailboxOperations], now: datetime
) -> str:
    """`wake_snoozed`, its failure as one line ('' when none) so a fetch still goes on."""
    try:
        wake_snoozed(db, source, operations, now)
    except (MailSourceError, ToolFailure) as err:
        logger.warning("snoozed mail could not be woken: %s", err)
        return f"snoozed mail could not be woken: {err}"
    return ""
