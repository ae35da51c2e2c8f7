"""Provenance flags: which arguments of a side-effecting call did not come from the user.

Mail is data, never instructions, so a recipient, link, chat channel, ticket, phone number,
account or amount that only a message (or the engine) supplied is flagged: the person
deciding sees where it came from, and no policy level lets such a call run without asking.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypedDict

from graph.state import Evidence


class Flag(TypedDict):
    """One untrusted value in a call's arguments."""

    arg: str
    """The argument (a path such as `to` or `to[1]`)."""
    kind: str
    """address, url, phone, account, amount, channel, ticket or number."""
    value: str
    seen_in: str
    """Where the value was seen: `msg:<id>`, an evidence id, or empty when nowhere."""
    reason: str


@dataclass(frozen=True)
class Trust:
    """What counts as coming from the user."""

    user_texts: tuple[str, ...]
    """Everything the user typed in this thread."""
    addresses: frozenset[str] = frozenset()
    """The user's own and allow-listed addresses (lower case)."""
    domains: frozenset[str] = frozenset()
    """Allow-listed domains (lower case)."""

    def typed(self, needle: str) -> bool:
        """Whether the user typed this text (case-insensitive)."""
        folded = needle.casefold()
        return any(folded in text.casefold() for text in self.user_texts)

    def trusts(self, kind: str, value: str) -> bool:
        """Whether a value of this kind is the user's."""
        if kind == "address":
            address = value.lower()
            return (
                address in self.addresses
                or _in_domains(address.rpartition("@")[2], self.domains)
                or self.typed(address)
            )
        if kind == "url":
            host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value.lower()).split("/")[0]
            host = host.split("@")[-1].split(":")[0]
            return _in_domains(host, self.domains) or self.typed(value.rstrip("/"))
        if kind in ("channel", "ticket"):
            # `#ops` and `ops` are the same channel; a name must stand alone, not inside a word.
            name = re.escape(value.strip().lstrip("#@"))
            pattern = rf"(?<![\w-])[#@]?{name}(?![\w-])"
            return bool(name) and any(
                re.search(pattern, text, re.IGNORECASE) for text in self.user_texts
            )
        if kind in ("phone", "account", "amount", "number"):
            digits = _number_core(value)
            return bool(digits) and any(
                re.search(rf"(?<!\d){re.escape(digits)}(?!\d)", _digits_text(text))
                for text in self.user_texts
            )
        return self.typed(value)


def _in_domains(host: str, domains: Iterable[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains if d)


def _digits_text(text: str) -> str:
    # "12,400.00" and "12 400" both become "12400" so typed amounts match arguments.
    return re.sub(r"(?<=\d)[ ,.'’](?=\d{3}\b)", "", text).replace(".00", "")


def _number_core(value: str) -> str:
    return re.sub(r"\D", "", _digits_text(value))


ARG_KINDS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"^(to|cc|bcc|recipients?|emails?|address(es)?|from|reply_to|sender|attendees?)$"
        ),
        "address",
    ),
    (re.compile(r"(url|link|href|webhook|endpoint)"), "url"),
    (re.compile(r"channel"), "channel"),
    (re.compile(r"(issue_key|ticket)"), "ticket"),
    (re.compile(r"(phone|mobile|sms|whatsapp)"), "phone"),
    (re.compile(r"(account|iban|swift|bic|routing|wallet)"), "account"),
    (re.compile(r"(amount|price|total|sum|payment)"), "amount"),
]
"""Arguments whose whole value is sensitive, by name."""

VALUE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("url", re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)),
    ("address", re.compile(r"\b[\w.+'-]+@[\w-]+(?:\.[\w-]+)+\b")),
    (
        "amount",
        re.compile(
            r"(?:[$€£¥₹]\s?\d[\d,. ]*\d|\d[\d,. ]*\d?\s?(?:USD|EUR|GBP|CHF|JPY|INR|dollars|euros))",
            re.IGNORECASE,
        ),
    ),
    ("account", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b")),
    ("phone", re.compile(r"(?<![\w@])\+?\d[\d ().-]{6,}\d(?![\w@])")),
    ("number", re.compile(r"(?<![\w@.-])\d{5,12}(?![\w@-])")),
]
"""Sensitive values inside any text argument (a body, a description), in matching order."""

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")

IDENTIFIER_ARG = re.compile(r"(^|_)ids?$")
"""Arguments holding message or record ids: references, not values to send anywhere."""


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def sensitive_values(args: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Every `(arg, kind, value)` in the arguments that needs a source we trust."""
    found: list[tuple[str, str, str]] = []
    for name, value in args.items():
        if IDENTIFIER_ARG.search(name.lower()):
            continue
        kind = next((k for pattern, k in ARG_KINDS if pattern.search(name.lower())), None)
        for path, text in _strings(value, name):
            values = list(_extract(text))
            if kind is not None:
                # Parts of a recipient list, or the whole value when no pattern finds one.
                typed = [(k, v) for k, v in values if k == kind] or (
                    [(kind, part.strip()) for part in re.split(r"[,;]", text) if part.strip()]
                )
                found.extend((path, k, v) for k, v in typed)
            else:
                found.extend((path, k, v) for k, v in values)
    return list(dict.fromkeys(found))


def _extract(text: str) -> Iterator[tuple[str, str]]:
    rest = text
    for kind, pattern in VALUE_PATTERNS:
        for match in pattern.finditer(rest):
            value = match.group(0).strip().rstrip(".,;:")
            if kind == "phone" and (len(re.sub(r"\D", "", value)) < 7 or ISO_DATE.match(value)):
                continue
            yield kind, value
        # A value is reported once, under its first kind (an address inside a URL is the URL).
        rest = pattern.sub(" ", rest)


def seen_in(value: str, evidence: Iterable[Evidence]) -> str:
    """The newest message or tool result that shows this value, or '' when none does."""
    folded = value.casefold()
    for record in reversed(list(evidence)):
        for message in record["messages"]:
            fields = (message["text"], message["sender"], message["subject"])
            if any(folded in field.casefold() for field in (*fields, message.get("reply_to", ""))):
                return f"msg:{message['id']}"
        if folded in record["content"].casefold():
            return f"{record['id']} ({record['tool']})"
    return ""


def flags_for(args: dict[str, Any], trust: Trust, evidence: Iterable[Evidence]) -> list[Flag]:
    """A flag for each sensitive value of the arguments that the user did not supply."""
    records = list(evidence)
    flags: list[Flag] = []
    for arg, kind, value in sensitive_values(args):
        if trust.trusts(kind, value):
            continue
        where = seen_in(value, records)
        reason = f"this {kind} in `{arg}` was not typed by you and is not in your configuration"
        reason += f"; it was seen in {where}" if where else "; the engine supplied it"
        flags.append({"arg": arg, "kind": kind, "value": value, "seen_in": where, "reason": reason})
    return flags


@dataclass(frozen=True)
class ReplyTarget:
    """The message a reply answers, as the mailbox has it."""

    id: str
    from_addr: str
    from_name: str
    reply_to: str
    subject: str

    @property
    def recipient(self) -> str:
        """Where a reply goes: Reply-To when set, else the sender."""
        return self.reply_to or self.from_addr


def user_chose(target: ReplyTarget, trust: Trust, focus: Iterable[str] = ()) -> bool:
    """Whether the user pointed to this message: a follow-up reference, its id, or its sender."""
    if target.id in set(focus) or trust.typed(target.id) or trust.typed(target.from_addr):
        return True
    words = re.findall(r"[^\W\d_]{3,}", target.from_name)
    return any(
        re.search(rf"(?<!\w){re.escape(w.casefold())}(?!\w)", text.casefold())
        for w in words
        for text in trust.user_texts
    )


def reply_flags(
    arg: str, target: ReplyTarget, trust: Trust, focus: Iterable[str] = ()
) -> list[Flag]:
    """Flags for a reply whose recipient the tool derives from the message itself.

    Replying to a message the user pointed to (a follow-up reference, its sender's name or
    address, or its id typed in this thread) is not flagged. A `Reply-To` that differs from
    the sender is, unless the user trusts that address.
    """
    flags: list[Flag] = []
    where = f"msg:{target.id}"
    chosen = user_chose(target, trust, focus)
    if not chosen and not trust.trusts("address", target.recipient):
        flags.append(
            {
                "arg": arg,
                "kind": "address",
                "value": target.recipient,
                "seen_in": where,
                "reason": "the reply goes to the sender of a message you did not point to",
            }
        )
    differs = target.reply_to and target.reply_to.lower() != target.from_addr.lower()
    if differs and not trust.trusts("address", target.reply_to):
        flags.append(
            {
                "arg": arg,
                "kind": "address",
                "value": target.reply_to,
                "seen_in": where,
                "reason": (
                    f"the message's Reply-To ({target.reply_to}) differs from its sender "
                    f"({target.from_addr}): the reply would go to {target.reply_to}"
                ),
            }
        )
    return flags
