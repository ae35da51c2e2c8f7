"""Run-time configuration of the graph: one `Context`, each field falling back to the environment.

Through the LangGraph server a run's context arrives as JSON (or not at all), so `Context`
accepts the JSON shapes of its fields and `context_from` turns whatever a run carries into one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from tools.mail.demo import DEMO_INBOX


def default_model() -> str:
    """`MODEL`, else `auto`: Groq when a Groq key is found, else the offline rules engine.

    Whether a key is found (`GROQ_API_KEY`, or `groq.api_key` in the vault) is decided where
    the engine is built, in a thread: a default factory may run on the event loop, where the
    vault (a database, a key file) must not be read.
    """
    return os.environ.get("MODEL") or "auto"


def _addresses(value: str | Iterable[str]) -> tuple[str, ...]:
    parts = value.split(",") if isinstance(value, str) else value
    return tuple(p.strip().lower() for p in parts if p and p.strip())


def _env_list(name: str) -> tuple[str, ...]:
    return _addresses(os.environ.get(name, ""))


def _default_inbox() -> str:
    return os.environ.get("INBOX") or f"maildir:{DEMO_INBOX}"


def _default_home() -> str:
    return os.environ.get("SMART_INBOX_HOME") or ".smart-inbox"


def _default_max_steps() -> int:
    return int(os.environ.get("SMART_INBOX_MAX_STEPS") or 5)


@dataclass(kw_only=True)
class Context:
    """Settings of one run; pass your own to override the environment."""

    model: str = field(
        default_factory=default_model,
        metadata={
            "description": "Engine spec: auto (Groq when a Groq key is set or stored, else "
            "rules) | rules | groq:<model> | replay:<file.jsonl> (MODEL)."
        },
    )
    inbox: str = field(
        default_factory=_default_inbox,
        metadata={
            "description": "Mail source spec: maildir:PATH, imap://user@host[:port]/FOLDER or "
            "mcp:NAME (INBOX); the bundled demo inbox by default (worked on as a copy in the "
            "data directory)."
        },
    )
    home: str = field(
        default_factory=_default_home,
        metadata={"description": "Data directory for the databases (SMART_INBOX_HOME)."},
    )
    max_steps: int = field(
        default_factory=_default_max_steps,
        metadata={"description": "Tool-selection rounds allowed per turn (SMART_INBOX_MAX_STEPS)."},
    )
    user_addresses: tuple[str, ...] = field(
        default_factory=lambda: _env_list("SMART_INBOX_USER_EMAILS"),
        metadata={
            "description": "The user's own addresses, comma-separated (SMART_INBOX_USER_EMAILS); "
            "on the bundled demo, its owner's when neither this nor SMTP_FROM is set."
        },
    )

    def __post_init__(self) -> None:
        # Through the server a run's context is JSON, perhaps from a form left blank: lists stand
        # for tuples, numbers may come as text, and an empty value means the configured default.
        for name, default in (("model", default_model), ("inbox", _default_inbox),
                              ("home", _default_home)):  # fmt: skip
            value = getattr(self, name)
            if value is None or value == "":
                setattr(self, name, default())
            elif not isinstance(value, str):
                raise ValueError(f"context field {name} must be a string, not {value!r}")
        steps: Any = self.max_steps  # typed int, but JSON may bring text, null or ""
        if steps is None or steps == "":
            steps = _default_max_steps()
        try:
            self.max_steps = int(steps)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"context field max_steps must be a whole number, not {steps!r}"
            ) from err
        self.user_addresses = _addresses(self.user_addresses or ())


CONTEXT_FIELDS = frozenset(f.name for f in fields(Context))


def context_from(value: Context | Mapping[str, Any] | None) -> Context:
    """The run's `Context`: as given, built from a dict (unknown keys ignored), or the defaults."""
    if isinstance(value, Context):
        return value
    if value is None:
        return Context()
    if not isinstance(value, Mapping):
        raise TypeError(f"a run's context must be an object, not {type(value).__name__}")
    return Context(**{k: v for k, v in value.items() if k in CONTEXT_FIELDS})
