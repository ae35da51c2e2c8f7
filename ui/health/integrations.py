"""The checks of Jira, Slack, Teams, HubSpot, Salesforce and each webhook: one light request each.

Jira: who am I (`/rest/api/3/myself`); Slack: `auth.test`; HubSpot: one contact listed;
Salesforce: the org's limits (`/services/data/vXX.X/limits`, the token refreshed once on a 401,
as any use would); Teams and webhook receivers: a `HEAD` (any answer but a server error means
they are there).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from tools.health.model import Check, Probe, Verdict
from tools.health.probes import HttpProbe, http_verdict
from tools.integrations.salesforce_api import INTEGRATION as SALESFORCE
from tools.integrations.salesforce_api import SalesforceEnv, bearer
from tools.integrations.webhooks import DELIVERY_TOOL
from tools.toolkit import ToolFailure, Toolkit

Lowering = Callable[[Toolkit, Probe], Probe]
"""Wraps a probe so that an action of the toolkit that cannot run makes it `degraded`."""

LABELS = {
    "jira": "Jira",
    "slack": "Slack",
    "teams": "Teams",
    "hubspot": "HubSpot",
    "salesforce": SALESFORCE,
}


def _probe(name: str, env: Any) -> HttpProbe:
    host = LABELS[name]
    if name == "jira":
        return HttpProbe("GET", env.url("/rest/api/3/myself"), env.headers, shown=host)
    if name == "slack":
        auth = {"Authorization": f"Bearer {env.token}"}
        return HttpProbe("POST", f"{env.api_url}/auth.test", auth, shown=host)
    if name == "hubspot":
        url = f"{env.api_url}/crm/v3/objects/contacts?limit=1"
        return HttpProbe("GET", url, env.headers, shown=host)
    return HttpProbe("HEAD", env.webhook_url, shown=host, reachable_is_enough=True)


def _side_effects(kit: Toolkit) -> tuple[str, ...]:
    return tuple(n for n in kit.names if n not in kit.read_only)


def integration_checks(
    kits: Mapping[str, Toolkit], timeout: float, lowered: Lowering
) -> list[Check]:
    """One check per integration, then one per webhook endpoint."""
    checks: list[Check] = []
    for name in LABELS:
        kit = kits.get(name)
        if kit is None:
            continue
        tools = _side_effects(kit)
        if kit.missing:
            broken = "cannot be read" in kit.missing
            down = functools.partial(_down, kit.missing) if broken else None
            checks.append(Check(name, "integration", down, kit.missing, timeout, tools))
            continue
        if name == "salesforce":
            probe = lowered(kit, functools.partial(salesforce_verdict, kit.env, timeout))
        else:
            probe = lowered(kit, functools.partial(http_verdict, _probe(name, kit.env), timeout))
        checks.append(Check(name, "integration", probe, "", timeout, tools))
    webhooks = kits.get("webhooks")
    endpoints = () if webhooks is None or webhooks.env is None else webhooks.env.endpoints
    if not endpoints:
        why = webhooks.missing if webhooks is not None else "no webhook endpoint"
        return [*checks, Check("webhooks", "webhook", None, why or "no webhook endpoint")]
    for endpoint in endpoints:
        head = HttpProbe("HEAD", endpoint.url, shown=endpoint.host, reachable_is_enough=True)
        check = functools.partial(http_verdict, head, timeout)
        checks.append(
            Check(f"webhook {endpoint.name}", "webhook", check, "", timeout, (DELIVERY_TOOL,))
        )
    return checks


async def _down(reason: str) -> Verdict:
    return Verdict("down", reason)


async def salesforce_verdict(env: SalesforceEnv, timeout: float) -> Verdict:
    """The org's limits read once; a 401 (an expired session) refreshes the token once.

    A grant that cannot be refreshed is `down`, with the command that connects it again.
    """
    try:
        for fresh in (False, True):
            token, base = await bearer(env, fresh=fresh)
            auth = {"Authorization": f"Bearer {token}"}
            probe = HttpProbe("GET", f"{base}/limits", auth, shown=SALESFORCE)
            verdict = await http_verdict(probe, timeout)
            if not (verdict.state == "down" and "(401)" in verdict.reason):
                break
    except ToolFailure as err:
        return Verdict("down", str(err))
    return verdict
