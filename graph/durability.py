"""How often a run of the graph saves its state: after every step, or once when it stops.

A run saved after every step (`"sync"`) writes a checkpoint and the channel writes of each of
its node runs before the next begins: eight checkpoints and some thirty-seven writes for one
chat turn, which cost more than all the turn's nodes but `act` together
(`bench/RESULTS.md`, "Chat-turn latency"). That record is what recovery needs when a step can
change the world: a crash while `act` sends must find the decisions that led to it
(`graph.routing.after_act`). A run that can only read needs none of it: a crash loses the turn
(its question is asked again), never a decision or a sent message, because mail, triage rows
and audit rows live in the app database, written as they happen.

So a run is saved once, when it ends or stops for approval (`"exit"`), only when nothing in it
can change the world without a person's yes:

- it starts from a new message or a triage request, not from a person's answers to approval
  cards (`Command(resume=...)`) or from where a crashed run stopped (`None`): those run the
  approved calls;
- no tool is autonomous: the policy sets no tool or server to level 2, and no MCP server's
  configuration auto-approves a tool. Every call with a side effect then stops the run for
  approval, and the stop is saved like any end (the approval, and what `act` does after it,
  run in a resumed run, saved after every step).

Anything that cannot be read for certain (a broken policy or MCP file) saves after every step:
the run itself reports the broken file.

Limits: the files are read when the run starts, so a tool made autonomous while a run is under
way is saved as the run began; an MCP tool that says it only reads (`readOnlyHint`) runs unasked
whatever this decides, so a server that lies about it is not caught here; and the LangGraph
server saves its runs as it is configured to (`langgraph.json`), not by this.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

from graph.policy import AUTONOMOUS, PolicyError, load_policy, policy_path
from tools.mcp.config import McpConfigError, load_mcp_config, mcp_config_path

Durability = Literal["sync", "exit"]
logger = logging.getLogger(__name__)


def may_act_unasked(home: Path) -> bool:
    """Whether any tool may run with a side effect and no approval (blocking: reads two files)."""
    try:
        policy = load_policy(policy_path(home))
        servers = load_mcp_config(mcp_config_path(home))
    except (PolicyError, McpConfigError, OSError) as exc:
        logger.debug("saving after every step: %s", exc)
        return True
    levels = [*policy.tools.values(), *policy.servers.values()]
    return AUTONOMOUS in levels or any(server.auto_approve for server in servers.values())


def turn_durability(payload: Any, home: Path) -> Durability:
    """`"exit"` for a run that starts afresh where no tool is autonomous, else `"sync"`."""
    if not isinstance(payload, dict):
        return "sync"  # approvals being answered, or a crashed run carried on
    return "sync" if may_act_unasked(home) else "exit"
