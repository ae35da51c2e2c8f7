"""The audit log of every tool call, and the redaction of everything the app database keeps.

The log and the side-effect ledger (`memory.ledger`) live in the app database and hold only
values passed through `redact`, so neither the log, the ledger nor the database file ever
carries a password, key or token a call was given, or one a service repeated in its answer.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, TypedDict, get_args

from sqlalchemy import Connection, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from memory.audit_tables import AuditRecord
from memory.commits import UNCOUNTED
from memory.redaction import scrub
from memory.upsert import upsert_statement

if TYPE_CHECKING:
    from memory.db import AppDatabase

logger = logging.getLogger(__name__)

REDACTED = "[REDACTED]"

SECRET_KEY = re.compile(
    r"(?:^|_)(?:passwords?|passwd|pwd|secrets?|token|api_?key|authorization|cookies?"
    r"|credentials?|private_?key|client_?secret)(?:_|$)"
)
"""A dict key whose value is secret, matched against the key in snake case (`X-Api-Key`,
`accessToken` and `smtp_password` all match; `max_tokens` does not)."""

SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        "url password",
        re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s:/?#@]*:)[^\s/?#]+@"),
        rf"\1{REDACTED}@",
    ),
    ("bearer token", re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*"), rf"\1 {REDACTED}"),
    (
        "basic credentials",
        re.compile(r"(?i)\b(basic)\s+(?=[A-Za-z0-9+/]*\d)[A-Za-z0-9+/]{16,}=*"),
        rf"\1 {REDACTED}",
    ),
    ("atlassian api token", re.compile(r"\bATATT[A-Za-z0-9_\-=]{20,}"), REDACTED),
    ("hubspot token", re.compile(r"\bpat-[a-z]{2,4}\d?-[0-9a-f-]{20,}"), REDACTED),
    (
        "signed url",
        re.compile(r"(?i)([?&](?:sig|signature|token|key|secret)=)[^&\s#]+"),
        rf"\1{REDACTED}",
    ),
    ("groq key", re.compile(r"\bgsk_[A-Za-z0-9]{20,}"), REDACTED),
    ("slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), REDACTED),
    ("github token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,})"), REDACTED),
    ("aws access key id", re.compile(r"\bAKIA[0-9A-Z]{16}\b"), REDACTED),
    ("sk- key", re.compile(r"\bsk-[A-Za-z0-9_\-]{20,}"), REDACTED),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), REDACTED),
)
"""(name, pattern, replacement) for secrets recognisable inside any text."""

DETAIL_LIMIT = 2000
"""Characters of an audit row's detail that are kept."""

AuditDecision = Literal["auto", "accept", "edit", "response", "ignore", "pending"]
AuditOutcome = Literal["ok", "error", "not_run", "unknown", "pending"]
DECISIONS: frozenset[str] = frozenset(get_args(AuditDecision))
OUTCOMES: frozenset[str] = frozenset(get_args(AuditOutcome))
LEVELS = frozenset({0, 1, 2})


def redact(value: Any) -> Any:
    """A deep copy of `value` with every secret replaced by `[REDACTED]`.

    Values under secret-looking keys are replaced whole; in every string, the secrets this
    process knows by value (`memory.redaction`, with their encodings) and then the patterns of
    `SECRET_PATTERNS` are. Dicts, lists and tuples are copied as they are walked (a tuple
    comes back a plain tuple); other values are returned as they are.
    """
    if isinstance(value, str):
        value = scrub(value)
        for _name, pattern, replacement in SECRET_PATTERNS:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, Mapping):
        return {
            key: REDACTED if _is_secret_key(key) else redact(item) for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, tuple):
        return tuple(redact(item) for item in value)
    return value


def _is_secret_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower()
    return bool(SECRET_KEY.search(re.sub(r"[^a-z0-9]+", "_", snake)))


def redacted_json(value: Any, **options: Any) -> str:
    """JSON of `value`, redacted; a value JSON cannot encode is kept as its (redacted) text."""
    return json.dumps(
        redact(value), default=lambda obj: redact(str(obj)), ensure_ascii=False, **options
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class AuditLog:
    """One row per tool call, rewritten as the call moves from proposal to outcome.

    A node that re-runs on resume writes the same rows again, so the log never holds
    duplicates of one call.
    """

    def __init__(self, db: AppDatabase) -> None:
        self.engine = db.engine

    def record(
        self,
        *,
        thread_id: str,
        call_id: str,
        tool: str,
        args: Mapping[str, Any],
        level: int,
        flags: Sequence[Mapping[str, Any]],
        decision: AuditDecision,
        decided_by: str,
        outcome: AuditOutcome,
        detail: str = "",
    ) -> None:
        """Write the row of this call (creating or replacing it), with every secret redacted."""
        values = _row_values(
            tool=tool,
            args=args,
            level=level,
            flags=flags,
            decision=decision,
            decided_by=decided_by,
            outcome=outcome,
            detail=detail,
        )
        for attempt in range(2):
            with Session(self.engine) as session:
                row = _audit_row(session, thread_id, call_id)
                if row is None:
                    row = AuditRecord(thread_id=thread_id, call_id=call_id, **values)
                else:
                    row.sqlmodel_update(values)
                session.add(row)
                try:
                    session.commit()
                    return
                except IntegrityError:
                    # Another writer created the row first: the second pass replaces it.
                    if attempt:
                        raise

    def record_reads(self, *, thread_id: str, rows: Sequence[AuditRow]) -> None:
        """Write the whole rows of reads the policy let through: one statement, one commit.

        Each row is created or replaced, redacted as `record` does. A read changes nothing
        outside, so on SQLite its commit does not wait for the disk (`synchronous=NORMAL` for
        this one commit, then the connection's own setting again): a crash of the process loses
        nothing, a power loss may lose these last rows, as it may the checkpoint of the step
        that made them. Rows of calls with side effects, and the ledger, go through `record`
        and `memory.ledger`, which wait for the disk.
        """
        if not rows:
            return
        values = [
            {"thread_id": thread_id, "call_id": row["call_id"], **_row_values(**row["values"])}
            for row in rows
        ]
        with self.engine.connect() as conn:
            conn.execution_options(**{UNCOUNTED: True})  # a record of reads: no mail changed
            restore = _relax_sync(conn)
            try:
                table = AuditRecord.__table__  # type: ignore[attr-defined]
                keys = ("thread_id", "call_id")  # a call's row is replaced, its id kept
                conn.execute(upsert_statement(table, conn.dialect.name, keys, ("id",)), values)
                conn.commit()
            finally:
                _restore_sync(conn, restore)

    def set_outcome(
        self, *, thread_id: str, call_id: str, outcome: AuditOutcome, detail: str = ""
    ) -> bool:
        """Record what came of a call already in the log; False (and a warning) if it is not."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; expected one of {sorted(OUTCOMES)}")
        with Session(self.engine) as session:
            changed = session.exec(
                update(AuditRecord)
                .where(col(AuditRecord.thread_id) == thread_id)
                .where(col(AuditRecord.call_id) == call_id)
                .values(at=_now(), outcome=outcome, detail=_detail(detail))
            ).rowcount
            session.commit()
        if not changed:
            logger.warning("no audit row for call %s in thread %s", call_id, thread_id)
        return bool(changed)

    def entries(
        self, *, thread_id: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Rows as plain dicts, oldest first; with `limit`, only the newest `limit` of them."""
        stmt = select(AuditRecord)
        if thread_id is not None:
            stmt = stmt.where(AuditRecord.thread_id == thread_id)
        stmt = stmt.order_by(col(AuditRecord.id).desc())
        if limit is not None:
            stmt = stmt.limit(limit)
        with Session(self.engine) as session:
            rows = list(session.exec(stmt).all())
        return [
            {**row.model_dump(), "args": json.loads(row.args), "flags": json.loads(row.flags)}
            for row in reversed(rows)
        ]


class AuditRow(TypedDict):
    """One call's row for `AuditLog.record_reads`: its id and `record`'s keyword values."""

    call_id: str
    values: dict[str, Any]


def _row_values(
    *,
    tool: str,
    args: Mapping[str, Any],
    level: int,
    flags: Sequence[Mapping[str, Any]],
    decision: str,
    decided_by: str,
    outcome: str,
    detail: str = "",
) -> dict[str, Any]:
    """An audit row's columns but its keys, checked and redacted."""
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}; expected one of {sorted(DECISIONS)}")
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; expected one of {sorted(OUTCOMES)}")
    if level not in LEVELS:
        raise ValueError(f"policy level must be 0, 1 or 2, not {level!r}")
    return {
        "at": _now(),
        "tool": tool,
        "args": redacted_json(dict(args)),
        "level": level,
        "flags": redacted_json([dict(flag) for flag in flags]),
        "decision": decision,
        "decided_by": decided_by,
        "outcome": outcome,
        "detail": _detail(detail),
    }


def _relax_sync(conn: Connection) -> int | None:
    """On SQLite, the connection's `synchronous` setting, now set to NORMAL; else None."""
    if conn.dialect.name != "sqlite":
        return None
    level = int(conn.exec_driver_sql("PRAGMA synchronous").scalar_one())
    conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
    return level


def _restore_sync(conn: Connection, level: int | None) -> None:
    """Give the connection its `synchronous` setting back; one that cannot be is dropped."""
    if level is None:
        return
    try:
        conn.rollback()  # nothing is left open when it ran; after a failure, what is
        conn.exec_driver_sql(f"PRAGMA synchronous={level}")
        conn.commit()
    except Exception:
        conn.invalidate()  # never back to the pool with writes that skip the disk
        raise


def _audit_row(session: Session, thread_id: str, call_id: str) -> AuditRecord | None:
    return session.exec(
        select(AuditRecord).where(
            AuditRecord.thread_id == thread_id, AuditRecord.call_id == call_id
        )
    ).first()


def _detail(text: str) -> str:
    # Redacted before it is cut, so a cut never leaves the start of a secret behind.
    return str(redact(text))[:DETAIL_LIMIT]
