"""How urgent a triaged message is and what to do with it, beyond its category's defaults.

`rules/categories.toml` gives each category its usual priority and action; the exceptions below
depend on several signals at once (an overdue bill, a meeting proposed for tomorrow, a blocked
customer with a deadline), so they are written out here, each with the reason it gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from graph.engines.triage.dates import days_until_proposed
from graph.engines.triage.phrases import Phrase
from tools.language.categories import Action, Category, Priority

MEETING_SOON_DAYS = 3
"""A meeting proposed within this many days of `now` is high priority."""

_OUTAGE_CATEGORIES: frozenset[Category] = frozenset(
    {"urgent_incident", "bug_report", "notification", "other"}
)
_MONEY_FLAGS = frozenset({"price_change", "payment_failed", "billing_sender", "paid_out"})
"""What makes a message about the reader's money: a price or premium changing, a payment failed
or paid out, a billing department writing."""
_FILED_AS_MONEY: frozenset[Category] = frozenset(
    {"notification", "newsletter", "other", "personal"}
)
_A_PROGRAMS: frozenset[Category] = frozenset({"notification", "newsletter"})


def filed_under(category: Category, flags: set[str]) -> Category:
    """The category a row shows: `billing` for a notice, mailing or note about the reader's money.

    Its priority and action stay those of the category its words and sender gave (a shop's
    receipt is archived as a notice is; a premium's change is read as news is): only what it
    is filed under changes. A receipt counts in a program's mail only: a colleague's note that
    "receipts must be uploaded within 14 days" is about a policy. On the dev part 304 messages
    are labelled billing; before this, 122 of them were filed as notifications (a receipt, an
    insurer's new premium, a failed card payment); this puts 76 more rows in the labelled
    category.
    """
    money = bool(flags & _MONEY_FLAGS) or ("receipt" in flags and category in _A_PROGRAMS)
    return "billing" if money and category in _FILED_AS_MONEY else category


def _in_days(days: int) -> str:
    return {0: "for today", 1: "for tomorrow"}.get(days, f"in {days} days")


def _decided_by_category(
    category: Category, flags: set[str], text: str, hits: set[Phrase], reference: date | None
) -> tuple[Priority, list[str]] | None:
    """The priority one signal settles for this category (with why), else None."""
    if "outage" in flags and category in _OUTAGE_CATEGORIES:
        return "high", ["outage or security incident"]
    if category == "billing":
        if "overdue" in flags:
            return "high", ["overdue"]
        if "payment_failed" in flags:
            return "high", ["payment failed"]
        if "receipt" in flags and "amount_due" not in flags:
            return "low", ["already paid"]
    if category == "meeting_request":
        days = days_until_proposed(text, hits, reference)
        if days is not None and days <= MEETING_SOON_DAYS:
            return "high", [f"proposed {_in_days(days)}"]
    if category == "other" and "fyi" in flags and "vip" not in flags:
        return "low", ["no action needed"]
    return None


def _pressure(category: Category, flags: set[str], header_says: list[str]) -> tuple[int, list[str]]:
    """Points towards high priority, and the plain words for each."""
    points = 0
    why: list[str] = []
    if "blocked" in flags and category == "bug_report":
        points += 2
        why.append("customer blocked")
    if "deadline" in flags:
        points += 1
        why.append("deadline")
    if "high_importance" in flags:
        points += 1
        why.append(header_says[0] if header_says else "marked important")
    if "vip" in flags:
        points += 1
        why.append("from a VIP")
    elif category == "other" and {"request", "unknown_sender"} <= flags:
        points += 1
        why.append("from outside the company")
    return points, why


def priority_for(
    category: Category,
    usual: Mapping[Category, Priority],
    flags: set[str],
    text: str,
    hits: set[Phrase],
    reference: date | None,
    header_says: list[str],
) -> tuple[Priority, list[str]]:
    """The priority and, when it differs from the category's `usual` one, why (short phrases).

    Bulk mail and spam keep their default (low) whatever they say; a spending alert (a budget or
    cost threshold crossed) is normal: worth seeing, but not an outage; an outage is high in any
    category that can carry one; an incident or a robot otherwise keeps its default; billing is
    high when overdue or a payment failed and low for a receipt; a meeting is high when proposed
    within `MEETING_SOON_DAYS`; an FYI is low. Otherwise two of these make it high: a blocked
    customer (counts twice, bug reports only), a deadline, a high-importance header, a VIP
    sender, a direct request from outside the company (`other` only).
    """
    base = usual[category]
    if category in ("newsletter", "spam_or_cold"):
        return base, []
    if category == "notification" and {"alert", "spend"} <= flags:
        return "normal", ["spending past a threshold you set"]
    if category in ("urgent_incident", "notification") and "outage" not in flags:
        return base, []
    decided = _decided_by_category(category, flags, text, hits, reference)
    if decided is not None:
        return decided
    points, why = _pressure(category, flags, header_says)
    return ("high", why) if points >= 2 else (base, [])


def action_for(category: Category, usual: Mapping[Category, Action], flags: set[str]) -> Action:
    """The category's `usual` action, with these exceptions.

    - billing: an overdue notice -> `reply` (confirm payment or dispute it); a receipt with
      nothing left to pay -> `archive`; other invoices -> `none` (paid through the usual
      process, not by mail);
    - other: an FYI -> `none`; a question or request -> `reply`; anything else -> `none`;
    - meeting_request: an update or cancellation of a meeting on the calendar -> `none`
      (nothing is left to schedule).

    Notifications are always archived, even when they ask for a review or name you as
    assignee: the work happens in the tool, and replying to a robot reaches nobody.
    """
    if category == "billing":
        if "overdue" in flags:
            return "reply"
        if "receipt" in flags and "amount_due" not in flags:
            return "archive"
    if category == "other" and "request" in flags and "fyi" not in flags:
        return "reply"
    if category == "meeting_request" and "calendar_update" in flags:
        return "none"
    return usual[category]
