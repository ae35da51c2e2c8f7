"""How many transactions this process has committed to its app databases.

A value read from the database and kept for a moment (a whole inbox's conversations, made by
a first triage and listed by `smart-inbox triage` right after) is still what the database
holds when no commit has been made since: `commits_made()` is read when it is kept and again
when it is used. Another process's writes are not counted; a list read a moment earlier would
miss them just the same. A connection whose commits change no mail, triage or inbox state
(the audit log's record of reads) says so with the execution option `UNCOUNTED`.
"""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

UNCOUNTED = "commits_change_no_mail"
"""`connection.execution_options(**{UNCOUNTED: True})`: its commits are not counted."""

_counter = itertools.count(1)
_made = 0


def _count(connection: Any) -> None:
    global _made
    if not connection.get_execution_options().get(UNCOUNTED):
        _made = next(_counter)


def count_commits(engine: Engine) -> Engine:
    """`engine`, each of whose commits is counted from now on."""
    event.listen(engine, "commit", _count)
    return engine


def commits_made() -> int:
    """How many commits the counted engines of this process have made."""
    return _made
