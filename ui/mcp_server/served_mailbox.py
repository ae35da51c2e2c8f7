"""The one mailbox our MCP server serves: its cache kept current and triaged by the rules.

The server triages with the offline rules and the user's corrections, so a client sees the
same decisions and priorities as the chat without a model; a message triaged before (by the
rules, a model or the user) keeps its triage.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field

from sqlmodel import Session, select

from graph.context import Context
from graph.corrections import load_learner, mailbox_profile
from graph.engines.triage.scorer import triage_by_rules
from memory.db import AppDatabase, open_database
from memory.mail_tables import StoredEmail, TriageRecord
from memory.paths import app_database_url, data_dir
from memory.secrets import secret_lookup
from tools.mail.mailbox import MailboxEnv, open_mailbox_env, sending_problem
from tools.mail.model import Email
from tools.mail.smtp_settings import smtp_settings_from_env
from tools.mail.sync import SyncResult, sync_source
from tools.toolkit import ToolFailure

logger = logging.getLogger(__name__)

TRIAGE_ENGINE = "rules"


@dataclass
class ServedMailbox:
    """The one mailbox a server serves, with what its tools need to reach it."""

    env: MailboxEnv
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def refresh(self) -> SyncResult:
        """Fetch what is new and triage it; blocking, so tools call it in a thread.

        The sync cursor makes this a few `stat` calls when the mailbox has not changed.
        """
        # One refresh at a time: concurrent calls would read and triage the same new mail twice.
        with self._lock:
            result = sync_source(self.env.db, self.env.source, secrets=self.env.secrets)
            triage_new_mail(self.env.db, self.env.source, owner_addresses=self.env.user_addresses)
        return result

    def find(self, email_id: str) -> Email:
        """The message with this id in this mailbox; raises `ToolFailure` when there is none."""
        # Looked up by source too: a data directory may cache other mailboxes, not served here.
        wanted = email_id.strip().strip("<>").strip()
        with Session(self.env.db.engine) as session:
            row = session.exec(
                select(StoredEmail)
                .where(StoredEmail.source == self.env.source, StoredEmail.id == wanted)
                .limit(1)
            ).first()
        if row is None:
            raise ToolFailure(f"no message with id {email_id!r} in this mailbox")
        return Email.from_dict(json.loads(row.data))


def triage_new_mail(
    db: AppDatabase, source: str, *, owner_addresses: tuple[str, ...] = ()
) -> list[TriageRecord]:
    """Triage, with the offline rules and the user's corrections, every new message of `source`.

    As the chat's triage does: the user's own rules first, then the generic ones, each row with
    its decision, any phishing warning and whether the rules are unsure. Messages triaged before
    (by the rules or by a model) keep their triage.
    """
    ids = db.untriaged_ids(source)
    if not ids:
        return []
    emails = db.emails_by_ids(ids)
    profile = mailbox_profile(db, source, emails, owner_addresses)
    learner = load_learner(db)
    records = []
    for email in emails:
        rules = learner.apply(email, triage_by_rules(email, profile=profile), profile)
        records.append(
            TriageRecord(
                email_id=email.id,
                priority=rules.priority,
                category=rules.category,
                action=rules.action,
                reason=rules.reason,
                confidence=rules.confidence,
                engine=TRIAGE_ENGINE,
                decision=rules.decision,
                suspicious=rules.suspicious,
                unsure=rules.unsure,
            )
        )
    db.save_triage(records)
    logger.info("triaged %d new message(s) of %s", len(records), source)
    return records


def open_mailbox(*, inbox: str, home: str) -> ServedMailbox:
    """Open the database under `home` and bring the cache and triage of `inbox` up to date.

    Raises:
        MailSourceError: the inbox cannot be opened or listed.
        SmtpConfigError: `SMTP_URL` (or `SMTP_CA_FILE`, `SMTP_TIMEOUT`) is set but unusable.

    """
    user_addresses = Context(inbox=inbox, home=home).user_addresses
    directory = data_dir(home)
    db = open_database(app_database_url(directory))
    secrets = secret_lookup(db, directory)
    smtp = smtp_settings_from_env(secrets=secrets)
    env = open_mailbox_env(
        db, inbox, directory, user_addresses=user_addresses, smtp=smtp, secrets=secrets
    )
    mailbox = ServedMailbox(env)
    result = mailbox.refresh()
    logger.info(
        "serving %s (%d new message(s) fetched%s)",
        mailbox.env.source,
        len(result.new),
        f", {len(result.errors)} unreadable" if result.errors else "",
    )
    problem = sending_problem(mailbox.env)
    if smtp is not None and problem:
        logger.warning("SMTP_URL is set, but %s", problem)
    return mailbox
