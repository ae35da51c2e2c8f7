"""The approval policy: how much consent each tool needs, kept as data in the data directory.

Levels: 0 read-only (runs without asking), 1 confirm (the default for anything with a side
effect, and for any tool the policy does not know), 2 autonomous (runs without asking, but
only where configured and never when a provenance flag is raised).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

READ_ONLY, CONFIRM, AUTONOMOUS = 0, 1, 2
LEVEL_NAMES = {READ_ONLY: "read-only", CONFIRM: "confirm", AUTONOMOUS: "autonomous"}
POLICY_FILE = "policy.json"


class PolicyError(ValueError):
    """A policy file or a policy change that cannot be used; the message names the file."""


@dataclass(frozen=True)
class ApprovalPolicy:
    """Levels per tool and per MCP server, and the contacts the user trusts."""

    tools: Mapping[str, int] = field(default_factory=dict)
    """Explicit levels by tool name; they win over everything else."""
    servers: Mapping[str, int] = field(default_factory=dict)
    """Levels for every tool of an MCP server, by server name."""
    trusted_addresses: frozenset[str] = frozenset()
    """Addresses the user trusts as recipients (lower case)."""
    trusted_domains: frozenset[str] = frozenset()
    """Domains whose addresses and links the user trusts (lower case, no leading dot)."""

    def level_for(self, tool: str, *, default: int = CONFIRM, server: str | None = None) -> int:
        """The level of one tool: explicit, else its server's, else the tool's own default.

        The default comes from the tool catalogue: 0 for tools that only read (native ones, or
        MCP tools marked `readOnlyHint`), 2 for MCP tools in the server's `autoApprove`, else 1.
        """
        if tool in self.tools:
            return self.tools[tool]
        if server is not None and server in self.servers:
            return self.servers[server]
        return default

    def to_json(self) -> dict[str, Any]:
        """The file's shape."""
        return {
            "tools": dict(sorted(self.tools.items())),
            "servers": dict(sorted(self.servers.items())),
            "trusted": {
                "addresses": sorted(self.trusted_addresses),
                "domains": sorted(self.trusted_domains),
            },
        }


def policy_path(home: Path) -> Path:
    """Where the policy lives in the data directory."""
    return home / POLICY_FILE


def _level(value: Any, where: str, path: Path) -> int:
    if isinstance(value, bool) or value not in (READ_ONLY, CONFIRM, AUTONOMOUS):
        raise PolicyError(f"{path}: {where} must be 0, 1 or 2, not {value!r}")
    return int(value)


def _names(value: Any, where: str, path: Path) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{path}: {where} must be a list of strings")
    return frozenset(v.strip().lower().lstrip("@.") for v in value if v.strip())


def _levels(raw: Any, key: str, path: Path) -> dict[str, int]:
    if not isinstance(raw, dict):
        raise PolicyError(f"{path}: {key!r} must be an object of name: level")
    return {str(name): _level(level, f"{key}.{name}", path) for name, level in raw.items()}


def load_policy(path: Path) -> ApprovalPolicy:
    """Read the policy file; a missing file is the default policy, a broken one an error."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return ApprovalPolicy()
    except OSError as err:
        raise PolicyError(f"{path}: cannot read the policy file: {err.strerror}") from err
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise PolicyError(
            f"{path}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})"
        ) from err
    if not isinstance(raw, dict):
        raise PolicyError(f"{path}: must hold a JSON object")
    unknown = set(raw) - {"tools", "servers", "trusted"}
    if unknown:
        raise PolicyError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}")
    trusted = raw.get("trusted", {})
    if not isinstance(trusted, dict) or set(trusted) - {"addresses", "domains"}:
        raise PolicyError(f"{path}: 'trusted' must be {{'addresses': [...], 'domains': [...]}}")
    return ApprovalPolicy(
        tools=_levels(raw.get("tools", {}), "tools", path),
        servers=_levels(raw.get("servers", {}), "servers", path),
        trusted_addresses=_names(trusted.get("addresses", []), "trusted.addresses", path),
        trusted_domains=_names(trusted.get("domains", []), "trusted.domains", path),
    )


def save_policy(path: Path, policy: ApprovalPolicy) -> None:
    """Write the policy atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".policy-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(policy.to_json(), handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def with_level(
    policy: ApprovalPolicy, tool: str, level: int, *, read_only_tools: Iterable[str]
) -> ApprovalPolicy:
    """The policy with one tool's level changed; level 0 is only for tools that only read."""
    if level not in LEVEL_NAMES:
        raise PolicyError(f"level must be 0, 1 or 2, not {level}")
    if level == READ_ONLY and tool not in set(read_only_tools):
        raise PolicyError(
            f"{tool} has side effects, so it cannot be level 0 (read-only); "
            "use 2 to let it run without asking"
        )
    return ApprovalPolicy(
        tools={**policy.tools, tool: level},
        servers=policy.servers,
        trusted_addresses=policy.trusted_addresses,
        trusted_domains=policy.trusted_domains,
    )


def with_trusted(policy: ApprovalPolicy, value: str, *, trust: bool = True) -> ApprovalPolicy:
    """The policy with an address (`name@host`) or a domain (`host` or `@host`) (un)trusted."""
    item = value.strip().lower()
    if not item or any(c.isspace() for c in item):
        raise PolicyError(f"not an address or a domain: {value!r}")
    is_address = "@" in item.lstrip("@")
    addresses, domains = set(policy.trusted_addresses), set(policy.trusted_domains)
    target = addresses if is_address else domains
    name = item if is_address else item.lstrip("@.")
    if trust:
        target.add(name)
    else:
        target.discard(name)
    return ApprovalPolicy(
        tools=policy.tools,
        servers=policy.servers,
        trusted_addresses=frozenset(addresses),
        trusted_domains=frozenset(domains),
    )
