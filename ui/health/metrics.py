"""The server's `GET /metrics`, in the Prometheus text format.

Health states, check latencies, tool calls and failures by tool (from the audit log), and
approvals waiting for a person.
"""

from __future__ import annotations

from collections.abc import Sequence

from tools.health.model import STATES, PartHealth

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**pairs: str) -> str:
    return "{" + ",".join(f'{k}="{_label(v)}"' for k, v in pairs.items()) + "}"


def _family(name: str, kind: str, text: str) -> list[str]:
    return [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]


def metrics_text(
    parts: Sequence[PartHealth], calls: Sequence[tuple[str, str, int]], pending: int
) -> str:
    """Every family, each with its HELP and TYPE lines."""
    lines = _family(
        "smart_inbox_health_state", "gauge", "1 for the state a part is in, 0 for the others."
    )
    for part in parts:
        for state in STATES:
            labels = _labels(part=part.part, kind=part.kind, state=state)
            lines.append(f"smart_inbox_health_state{labels} {int(part.state == state)}")
    lines += _family(
        "smart_inbox_health_check_seconds", "gauge", "How long the last check of a part took."
    )
    for part in parts:
        if part.latency_ms is not None:
            labels = _labels(part=part.part)
            lines.append(f"smart_inbox_health_check_seconds{labels} {part.latency_ms / 1000:.6f}")
    lines += _family(
        "smart_inbox_tool_calls_total", "counter", "Tool calls in the audit log, by outcome."
    )
    for tool, outcome, count in calls:
        lines.append(f"smart_inbox_tool_calls_total{_labels(tool=tool, outcome=outcome)} {count}")
    lines += _family(
        "smart_inbox_tool_failures_total", "counter", "Tool calls that ended in an error."
    )
    for tool, outcome, count in calls:
        if outcome == "error":
            lines.append(f"smart_inbox_tool_failures_total{_labels(tool=tool)} {count}")
    lines += _family(
        "smart_inbox_approvals_pending", "gauge", "Tool calls waiting for a person's decision."
    )
    lines.append(f"smart_inbox_approvals_pending {pending}")
    return "\n".join(lines) + "\n"
