"""Run-time configuration of the graph: one `Context`, each field falling back to the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_GROQ_MODEL = "groq:llama-3.3-70b-versatile"
DEMO_INBOX = Path(__file__).resolve().parent.parent / "data" / "demo-inbox"


def default_model() -> str:
    """`MODEL`, else Groq when `GROQ_API_KEY` is set, else the offline rules engine."""
    if os.environ.get("MODEL"):
        return os.environ["MODEL"]
    return DEFAULT_GROQ_MODEL if os.environ.get("GROQ_API_KEY") else "rules"


def _env_list(name: str) -> tuple[str, ...]:
    return tuple(p.strip().lower() for p in os.environ.get(name, "").split(",") if p.strip())


@dataclass(kw_only=True)
class Context:
    """Settings of one run; pass your own to override the environment."""

    model: str = field(
        default_factory=default_model,
        metadata={
            "description": "Engine spec: rules | groq:<model> | replay:<file.jsonl> (MODEL)."
        },
    )
    inbox: str = field(
        default_factory=lambda: os.environ.get("INBOX") or f"maildir:{DEMO_INBOX}",
        metadata={
            "description": "Mail source spec: maildir:PATH, imap://user@host[:port]/FOLDER or "
            "mcp:NAME (INBOX); the demo inbox by default."
        },
    )
    home: str = field(
        default_factory=lambda: os.environ.get("SMART_INBOX_HOME") or ".smart-inbox",
        metadata={"description": "Data directory for the databases (SMART_INBOX_HOME)."},
    )
    max_steps: int = field(
        default_factory=lambda: int(os.environ.get("SMART_INBOX_MAX_STEPS") or 5),
        metadata={"description": "Tool-selection rounds allowed per turn (SMART_INBOX_MAX_STEPS)."},
    )
    user_addresses: tuple[str, ...] = field(
        default_factory=lambda: _env_list("SMART_INBOX_USER_EMAILS"),
        metadata={
            "description": "The user's own addresses, comma-separated (SMART_INBOX_USER_EMAILS)."
        },
    )
