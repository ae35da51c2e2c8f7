"""The tables of the chat history, which Chainlit's SQLAlchemy data layer reads and writes.

They live in the app database and are created by its migrations (`memory.migrations`), so the
chat UI, the command line and every other process see one schema, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

CHAT_TABLES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "users": (
        ("id", "TEXT", "PRIMARY KEY"),
        ("identifier", "TEXT", "NOT NULL UNIQUE"),
        ("createdAt", "TEXT", ""),
        ("metadata", "TEXT", "NOT NULL DEFAULT '{}'"),
    ),
    "threads": (
        ("id", "TEXT", "PRIMARY KEY"),
        ("createdAt", "TEXT", ""),
        ("name", "TEXT", ""),
        ("userId", "TEXT", ""),
        ("userIdentifier", "TEXT", ""),
        ("tags", "TEXT", ""),
        ("metadata", "TEXT", ""),
    ),
    "steps": (
        ("id", "TEXT", "PRIMARY KEY"),
        ("name", "TEXT", "NOT NULL"),
        ("type", "TEXT", "NOT NULL"),
        ("threadId", "TEXT", "NOT NULL"),
        ("parentId", "TEXT", ""),
        ("streaming", "BOOLEAN", "NOT NULL DEFAULT FALSE"),
        ("waitForAnswer", "BOOLEAN", ""),
        ("isError", "BOOLEAN", ""),
        ("metadata", "TEXT", ""),
        ("tags", "TEXT", ""),
        ("input", "TEXT", ""),
        ("output", "TEXT", ""),
        ("createdAt", "TEXT", ""),
        ("command", "TEXT", ""),
        ("modes", "TEXT", ""),
        ("start", "TEXT", ""),
        ("end", "TEXT", ""),
        ("generation", "TEXT", ""),
        ("showInput", "TEXT", ""),
        ("language", "TEXT", ""),
        ("defaultOpen", "BOOLEAN", ""),
        ("autoCollapse", "BOOLEAN", ""),
    ),
    "elements": (
        ("id", "TEXT", "PRIMARY KEY"),
        ("threadId", "TEXT", ""),
        ("type", "TEXT", ""),
        ("url", "TEXT", ""),
        ("chainlitKey", "TEXT", ""),
        ("name", "TEXT", "NOT NULL"),
        ("display", "TEXT", ""),
        ("objectKey", "TEXT", ""),
        ("size", "TEXT", ""),
        ("page", "INTEGER", ""),
        ("language", "TEXT", ""),
        ("forId", "TEXT", ""),
        ("mime", "TEXT", ""),
        ("props", "TEXT", ""),
        ("autoPlay", "BOOLEAN", ""),
        ("playerConfig", "TEXT", ""),
    ),
    "feedbacks": (
        ("id", "TEXT", "PRIMARY KEY"),
        ("forId", "TEXT", "NOT NULL"),
        ("threadId", "TEXT", ""),
        ("value", "INTEGER", "NOT NULL"),
        ("comment", "TEXT", ""),
    ),
}
"""Chainlit's tables as (column, SQL type, constraints), from what `SQLAlchemyDataLayer` and
the step, message and element dicts it stores use. Ids and JSON are TEXT (the data layer
stores lists and dicts as JSON text on both databases); flags are BOOLEAN, which PostgreSQL
needs for the Python booleans Chainlit passes and SQLite stores as 0/1 (older SQLite files
have INTEGER there, which behaves the same). Relations are not declared as foreign keys: the
data layer deletes a thread's steps, elements and feedback itself."""

CHAT_INDEXES = {
    "ix_threads_userId": ("threads", "userId"),
    "ix_steps_threadId": ("steps", "threadId"),
    "ix_elements_threadId": ("elements", "threadId"),
    "ix_feedbacks_forId": ("feedbacks", "forId"),
}
"""The lookups the data layer makes: a user's threads, a thread's steps and elements."""


def ensure_chat_tables(conn: Connection) -> None:
    """Create the chat tables, any column they lack, and their indexes; idempotent.

    Runs inside a migration's transaction. Tables made by older versions keep their rows;
    a missing column is added without constraints (existing rows get NULL).
    """
    quote = conn.dialect.identifier_preparer.quote
    for table, columns in CHAT_TABLES.items():
        definitions = ", ".join(
            f"{quote(name)} {kind} {constraints}".rstrip() for name, kind, constraints in columns
        )
        conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {quote(table)} ({definitions})")
        present = {column["name"] for column in inspect(conn).get_columns(table)}
        for name, kind, _ in columns:
            if name not in present:
                conn.exec_driver_sql(f"ALTER TABLE {quote(table)} ADD COLUMN {quote(name)} {kind}")
    for index, (table, column) in CHAT_INDEXES.items():
        conn.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {quote(index)} ON {quote(table)} ({quote(column)})"
        )
