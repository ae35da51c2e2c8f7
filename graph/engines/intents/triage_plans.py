"""The plan for teaching triage in words: "this is not cold", "mail from X is low".

The correction goes on an approval card (`correct_triage`), so the person sees the rule before
it is kept. The message it is about is the one in focus, else the newest from the sender named
(found by a search first).
"""

from __future__ import annotations

import re
from typing import Any

from graph.engines.base import ProposedCall, ToolPlanRequest
from graph.engines.intents.phrases import pattern
from graph.engines.intents.user_words import clean, draft_target, ran

_CORRECTION = pattern("correction")
_DOMAIN = re.compile(r"^@?[\w-]+(?:\.[\w-]+)+$")

VALUES: dict[str, dict[str, str]] = {
    "cold": {"decision": "ignore", "category": "spam_or_cold"},
    "spam": {"decision": "ignore", "category": "spam_or_cold"},
    "junk": {"decision": "ignore", "category": "spam_or_cold"},
    "phishing": {"decision": "ignore", "category": "spam_or_cold"},
    "newsletter": {"decision": "ignore", "category": "newsletter", "priority": "low"},
    "marketing": {"decision": "ignore", "category": "newsletter", "priority": "low"},
    "noise": {"decision": "ignore", "priority": "low"},
    "unimportant": {"decision": "ignore", "priority": "low"},
    "important": {"decision": "notify", "priority": "high"},
    "urgent": {"decision": "respond", "priority": "high"},
    "respond": {"decision": "respond"},
    "notify": {"decision": "notify"},
    "ignore": {"decision": "ignore"},
    "high": {"priority": "high"},
    "normal": {"priority": "normal"},
    "low": {"priority": "low"},
}
"""What a word of the user's sets."""
NOT_VALUES: dict[str, dict[str, str]] = {
    "cold": {"decision": "notify", "category": "other"},
    "spam": {"decision": "notify", "category": "other"},
    "junk": {"decision": "notify", "category": "other"},
    "newsletter": {"decision": "notify", "category": "other"},
    "marketing": {"decision": "notify", "category": "other"},
    "important": {"decision": "ignore", "priority": "low"},
    "urgent": {"priority": "normal"},
}
"""What "not <word>" sets."""
ALWAYS = {"decision": "notify", "priority": "high"}
NEVER = {"decision": "ignore", "priority": "low"}


def _wanted(found: re.Match[str]) -> dict[str, str]:
    groups = {k: v for k, v in found.groupdict().items() if v}
    if "always" in groups:
        return dict(ALWAYS)
    if "never" in groups:
        return dict(NEVER)
    value = next((v for k, v in groups.items() if k.startswith("value")), "")
    word = value.casefold().replace("a newsletter", "newsletter").split()
    key = next((w for w in reversed(word) if w in VALUES), "")
    table = NOT_VALUES if "negated" in groups or "not" in word else VALUES
    return dict(table.get(key, {}))


def correct_triage(request: ToolPlanRequest) -> list[ProposedCall]:
    """A `correct_triage` call for the message meant, with what the user's words set."""
    found = _CORRECTION.search(request.user_text)
    if found is None:
        return []
    args: dict[str, Any] = _wanted(found)
    if not args:
        return []
    who = next((clean(v) for k, v in found.groupdict().items() if k.startswith("who") and v), "")
    target = request.focus[0] if request.focus and not who else None
    if target is None and who:
        if not ran(request, "search_emails"):
            return [ProposedCall("search_emails", {"sender": who.lstrip("@"), "limit": 5})]
        target = draft_target(request)
        if _DOMAIN.match(who):
            args["scope"] = "domain"
    if target is None:
        return []
    return [ProposedCall("correct_triage", {"email_id": target["id"], **args})]
