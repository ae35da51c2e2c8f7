"""What the chat says of the parts' health: in its welcome, on a card, and when asked."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from tools.health.model import TROUBLE, PartHealth
from ui.health.checks import DatabaseDown, check_everything
from ui.health.table import rows, trouble_line
from ui.health.watch import latest_health

HEALTH_WORDS = re.compile(
    r"^\s*(how\s+(are|is)\s+(my|the)\s+(integrations?|connections?|services?|servers?)"
    r"|(is\s+)?(everything|it\s+all)\s+(working|up|ok|okay)"
    r"|health(\s+check)?|what\s+is\s+(down|broken))\s*[?.!]*\s*$",
    re.IGNORECASE,
)
"""Questions the chat answers with the health table itself, without a graph turn."""


def welcome_note(parts: Sequence[PartHealth] | None = None) -> str:
    """A line for the welcome naming what is down or degraded, or ''."""
    return trouble_line(latest_health() if parts is None else parts)


def health_note(request: Mapping[str, Any], parts: Sequence[PartHealth] | None = None) -> str:
    """A line for an approval card whose action needs a part in trouble, or ''."""
    action = str((request.get("action_request") or {}).get("action") or "")
    found = latest_health() if parts is None else parts
    troubled = [p for p in found if p.state in TROUBLE and action in p.tools]
    if not troubled:
        return ""
    said = "; ".join(f"{p.part} is {p.state}: {p.reason}" for p in troubled)
    return f"\n\n⚠ This action depends on a part that is not working now ({said})."


def health_markdown(parts: Sequence[PartHealth]) -> str:
    """The table as Markdown, the parts in trouble named first."""
    cells = [
        "| part | state | latency | since | reason |",
        "| --- | --- | --- | --- | --- |",
        *("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows(parts)),
    ]
    head = trouble_line(parts) or "Every part that is set up works."
    return head + "\n\n" + "\n".join(cells)


async def health_answer() -> str:
    """Check every part now and say how each is."""
    try:
        parts, _ = await check_everything()
    except DatabaseDown as down:
        parts = down.parts
    return health_markdown(parts)
