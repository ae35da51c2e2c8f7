"""The health of every part as a table of plain text (the command line and the chat)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tools.health.model import TROUBLE, PartHealth

HEADERS = ("part", "state", "latency", "since", "reason")


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def rows(parts: Sequence[PartHealth]) -> list[tuple[str, ...]]:
    """One row of text cells per part."""
    table: list[tuple[str, ...]] = []
    for part in parts:
        latency = "" if part.latency_ms is None else f"{part.latency_ms:.0f} ms"
        reason = part.reason
        if part.state not in ("ok", "not configured") and part.last_success is not None:
            reason += f" (last ok {_when(part.last_success)})"
        since = "" if part.state == "not configured" else _when(part.since)
        table.append((part.part, part.state, latency, since, reason))
    return table


def health_table(parts: Sequence[PartHealth]) -> str:
    """Aligned columns, the reason last and unbounded."""
    body = rows(parts)
    widths = [max(len(r[i]) for r in [HEADERS, *body]) for i in range(len(HEADERS) - 1)]
    lines = []
    for row in [HEADERS, *body]:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def trouble_line(parts: Sequence[PartHealth]) -> str:
    """One sentence naming the parts that are down or degraded, or '' when none is."""
    named = [f"{p.part} is {p.state} ({p.reason})" for p in parts if p.state in TROUBLE]
    return "Not working now: " + "; ".join(named) + "." if named else ""
