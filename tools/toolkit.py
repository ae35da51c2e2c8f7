"""Native tools come in toolkits, each with its own injected environment and configuration.

Mail, the calendar, Jira, Slack, Teams, webhooks, HubSpot and Salesforce are toolkits. A toolkit
is data the registry reads: which tools it has, the environment `act` injects into them (never
visible to the model), which of them only read, why it cannot run here (not
configured), and how a call of one of its tools is shown on an approval card.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from langchain_core.tools import BaseTool

from tools.mail.compose import own_words

if TYPE_CHECKING:
    from memory.db import AppDatabase
    from memory.mail_tables import TriageRecord
    from tools.mail.model import Email

TOOL_TIMEOUT_SECONDS = 30.0
"""How long one native tool may run, unless its toolkit bounds its own time (HTTP toolkits)."""


class ToolResult(TypedDict):
    """What a native tool returns: text for the answer step plus the messages it is about."""

    completeness: str
    content: str
    messages: list[dict[str, Any]]


class ToolFailure(Exception):
    """A tool could not do what was asked; the message is shown to the user as is."""


def text_result(text: str, **extra: Any) -> ToolResult:
    """A complete, text-only result; `extra` keys (such as structured `data`) ride along.

    The extra keys are kept in the side-effect ledger with the result, so a later step can
    build on what really happened (a webhook event from a reply that was really sent).
    """
    return {"completeness": "COMPLETE", "content": text, "messages": [], **extra}  # type: ignore[typeddict-item]


@dataclass(frozen=True)
class ActionPreview:
    """What a call will really do, worked out by code from its arguments, for the approval card."""

    title: str
    fields: tuple[tuple[str, str], ...] = ()
    """Label and value pairs: where it goes, what kind, which mail it is about."""
    content: str = ""
    """The text that will be sent, in full."""
    notes: tuple[str, ...] = ()
    """Things the person deciding should know (a Reply-To used as the contact's address)."""


Preview = Callable[[str, dict[str, Any]], ActionPreview | None]
"""A toolkit's card writer: (tool name, arguments) → preview.

Synchronous (it may read the database).
"""
Refusal = Callable[[str, dict[str, Any], Mapping[str, frozenset[str]]], str]
"""A toolkit's check of one call before any card: (tool name, arguments, each MCP server's
tools in the catalogue) → why it cannot run here, or '' when it can. Cheap: no I/O."""


@dataclass(frozen=True)
class Toolkit:
    """A group of native tools sharing one injected environment."""

    name: str
    tools: Sequence[BaseTool]
    read_only: frozenset[str] = frozenset()
    env: Any = None
    """Injected as the tools' `env` argument at call time; never shown to the model."""
    missing: str = ""
    """Why the toolkit is not configured here (then its tools are absent); empty when it is."""
    unavailable: Mapping[str, str] = field(default_factory=dict)
    """Single tools that cannot run here, with why (sending without `SMTP_URL`)."""
    hidden: frozenset[str] = frozenset()
    """Tools only code proposes (webhook deliveries): never offered to an engine."""
    levels: Mapping[str, int] = field(default_factory=dict)
    """Default approval levels that differ from the rule (0 read-only, 1 everything else)."""
    timeout: float | None = TOOL_TIMEOUT_SECONDS
    """Seconds a call may take; None when the toolkit bounds its own time (HTTP retries)."""
    preview: Preview | None = None
    refuses: Refusal | None = None
    """Says why one call cannot run (a mailbox account that does not exist), before any card:
    the call is then not put to anyone, and running it fails with the same line."""
    answers: Mapping[str, str] = field(default_factory=dict)
    """Tools whose call answers a message of the mailbox, with the argument holding its id
    (an event answering a meeting request): the sender of a message the user pointed to is
    theirs to address, as for a reply."""

    @property
    def names(self) -> list[str]:
        """Every tool of the toolkit, configured or not."""
        return [t.name for t in self.tools]


def mail_with_triage(db: AppDatabase, email_id: str) -> tuple[Email, TriageRecord | None]:
    """A message of the mailbox and its triage; `ToolFailure` when there is no such message."""
    email = db.get_email(email_id)
    if email is None:
        raise ToolFailure(f"no message with id {email_id!r} in the mailbox")
    return email, db.triage_for([email.id]).get(email.id)


def mail_excerpt(email: Email, limit: int = 4000) -> str:
    """The sender's own words (no quoted history, no signature), cut at `limit` characters."""
    text = own_words(email)
    if len(text) > limit:
        text = text[:limit].rstrip() + f"\n[… {len(text) - limit} more characters in the mail]"
    return text


def mail_link(template: str, email: Email) -> str:
    """A link that opens the message in the user's mail client, from `MAIL_LINK_URL`, or ''."""
    if not template:
        return ""
    from urllib.parse import quote

    return template.replace("{id}", quote(email.id, safe=""))
