"""Who owns each chat's graph thread, recorded by the product itself.

The chat's thread id is chosen by the browser, and Chainlit's own thread rows go when a chat is
deleted; the graph's state (a pending reply, the evidence) is kept by the checkpointer under an
id made from it. Without a record of its own, someone who connected with a deleted chat's id
would be shown its owner's card and could approve it. Every connect, resume and decision of the
chat checks this record; a deleted chat's id stays locked, so it is never reused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel

if TYPE_CHECKING:
    from memory.db import AppDatabase


def graph_thread_id(chat_id: str) -> str:
    """The graph's thread id of a chat of the chat UI."""
    return f"ui-{chat_id}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ChatOwner(SQLModel, table=True):
    """One graph thread of the chat and the user it belongs to."""

    __tablename__ = "chat_owner"

    thread_id: str = Field(primary_key=True)
    """The graph's thread id (`ui-<chat id>`)."""
    owner: str
    """The chat user's name."""
    created_at: str = Field(default_factory=_now)
    deleted_at: str = ""
    """When the chat was deleted; its id is locked from then on."""


class ChatAccessError(PermissionError):
    """The chat belongs to another user, or was deleted."""


class ChatOwners:
    """Claims and checks of chat threads against the app database (blocking)."""

    def __init__(self, db: AppDatabase) -> None:
        self.engine = db.engine

    def claim(self, thread_id: str, user: str) -> None:
        """Make `user` the owner of a new thread, or check they own an existing one.

        Raises:
            ChatAccessError: another user owns it, or it was deleted.

        """
        with Session(self.engine) as session:
            row = session.get(ChatOwner, thread_id)
            if row is None:
                session.add(ChatOwner(thread_id=thread_id, owner=user))
                try:
                    session.commit()
                    return
                except IntegrityError:  # claimed at the same moment by another connection
                    session.rollback()
                    row = session.get(ChatOwner, thread_id)
            _check(row, thread_id, user)

    def check(self, thread_id: str, user: str) -> None:
        """Refuse unless `user` owns this existing, undeleted thread.

        Raises:
            ChatAccessError: nobody claimed it, another user owns it, or it was deleted.

        """
        with Session(self.engine) as session:
            _check(session.get(ChatOwner, thread_id), thread_id, user)

    def delete(self, thread_id: str) -> None:
        """Lock a deleted chat's thread for good (recorded even if it was never claimed)."""
        with Session(self.engine) as session:
            row = session.get(ChatOwner, thread_id)
            if row is None:
                row = ChatOwner(thread_id=thread_id, owner="")
            if not row.deleted_at:
                row.deleted_at = _now()
            session.add(row)
            session.commit()


def _check(row: ChatOwner | None, thread_id: str, user: str) -> None:
    if row is None:
        raise ChatAccessError(f"no chat {thread_id!r}")
    if row.deleted_at:
        raise ChatAccessError("this chat was deleted")
    if row.owner != user:
        raise ChatAccessError("this chat belongs to another user")
