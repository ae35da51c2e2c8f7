"""The values a call would carry somewhere: found by what an argument is and what its text holds.

No argument is skipped for its name. An argument's name says how its whole value is read
(a recipient list, a link, a channel or chat, an id, an amount); every text, whatever its
name, is also searched for addresses, links, phone numbers, codes, IBANs and amounts.
Names are read as words (`summary` is not `sum`, `email_id` is an id, not an address).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graph.provenance.addresses import (
    addresses_in_text,
    canonical_address,
    decoded,
    parse_address_list,
)
from graph.provenance.urls import parse_url, urls_in_text


@dataclass(frozen=True)
class Value:
    """One value a call would use, with where it is and what kind it is."""

    arg: str
    """Where: an argument path (`to`, `attendees`, `args.chat_id`) or a field of what is written."""
    kind: str
    """address, url, phone, code, number, account, amount, channel, chat, ticket, id or message."""
    value: str
    """As the call would use it (the address a server is given, the link as written)."""
    malformed: bool = False
    """No reader agrees on what it is (an address list with a part that is no address)."""

    @property
    def key(self) -> str:
        """The value in the form it is compared in (canonical address, link, digits, token)."""
        return value_key(self.kind, self.value)


ADDRESS_WORDS = frozenset(
    """to cc bcc recipient recipients email emails mail address addresses from sender reply
    attendee attendees invitee invitees guest guests participant participants organizer
    mailto""".split()
)
URL_WORDS = frozenset(
    "url urls uri link links href webhook endpoint callback redirect website site".split()
)
ID_WORDS = frozenset("id ids key keys uid uuid".split())
OPAQUE_KINDS = {
    "channel": "channel", "channels": "channel", "chat": "chat", "room": "chat",
    "conversation": "chat", "group": "chat", "account": "account",
    "iban": "account", "swift": "account", "bic": "account", "routing": "account",
    "wallet": "account", "card": "account", "user": "id", "username": "id", "handle": "id",
    "target": "id", "destination": "id", "phone": "phone", "mobile": "phone", "sms": "phone",
    "whatsapp": "phone", "fax": "phone", "number": "number", "issue": "ticket",
    "ticket": "ticket",
}  # fmt: skip
"""Words of an argument's name that make its whole value a destination or a reference."""
AMOUNT_WORDS = frozenset("amount amounts price total sum payment cost fee".split())
MESSAGE_WORDS = frozenset("email mail message msg".split())
NOT_DESTINATIONS = frozenset(
    "all type types date time name names count format mode subject".split()
)
"""Last words that make a name about something else (`reply_all`, `from_date`, `sender_name`)."""
STRICT_RECIPIENTS = frozenset("to cc bcc recipient recipients attendee attendees".split())


def name_words(name: str) -> list[str]:
    """An argument's name as lower-case words: `inReplyToId` and `in_reply_to_id` alike."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def role_of(name: str) -> tuple[str, str]:
    """How an argument's whole value is read: (role, kind); role '' means text only.

    The last word says what a compound name is (`issue_key` is a key, `issue_type` a type);
    any address or link word makes the rest a destination (`reply_to`, `webhook_url`).
    """
    words = name_words(name)
    if not words:
        return "", ""
    if words[-1] in ID_WORDS:
        kind = next((OPAQUE_KINDS[w] for w in words if w in OPAQUE_KINDS), "id")
        if any(w in MESSAGE_WORDS for w in words):
            kind = "message"
        return "id", kind
    if words[-1] in OPAQUE_KINDS:
        return "id", OPAQUE_KINDS[words[-1]]
    if words[-1] in AMOUNT_WORDS:
        return "amount", "amount"
    if words[-1] in NOT_DESTINATIONS:
        return "", ""
    if any(w in ADDRESS_WORDS for w in words):
        return "address", "address"
    if any(w in URL_WORDS for w in words):
        return "url", "url"
    return "", ""


# -- numbers ------------------------------------------------------------------------------

DATES = re.compile(
    r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"
    r"|\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b|\b\d{4}/\d{2}/\d{2}\b"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[-–]\s?\d{1,2}:\d{2})?\b"
)
"""Dates and times, which are not codes or phone numbers."""
IBAN = re.compile(
    r"\b[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]{4}){2,7}(?:[ -]?[A-Za-z0-9]{1,4})?\b"
    r"|\b[A-Za-z]{2}\d{2}[A-Za-z0-9]{11,30}\b"
)
CURRENCY = r"(?:USD|EUR|GBP|CHF|JPY|INR|CAD|AUD|dollars?|euros?|pounds?|francs?)"
AMOUNT = re.compile(
    rf"(?:[$€£¥₹]|\b(?:USD|EUR|GBP|CHF|JPY|INR|CAD|AUD)\b)\s?\d[\d,.' ]*\d"
    rf"|(?:[$€£¥₹]|\b(?:USD|EUR|GBP|CHF|JPY|INR|CAD|AUD)\b)\s?\d"
    rf"|\b\d[\d,.' ]*\d?\s?{CURRENCY}\b",
    re.IGNORECASE,
)
PHONE = re.compile(
    r"(?<![\w@+])(?:\+|00)\d[\d ().-]{5,}\d(?![\w@])|(?<![\w@])\(\d{1,5}\)[\d .-]{5,}\d(?![\w@])"
)
CODE_WORD = re.compile(
    r"\b(?:code|pin|otp|passcode|password|token|verification)\b\W{0,3}(?:is\W{1,3})?"
    r"(?P<code>(?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{2,14}[A-Za-z0-9])",
    re.IGNORECASE,
)
DIGIT_GROUPS = re.compile(
    r"(?<![\w.,@-])(?:"
    r"[A-Za-z]{1,3}-\d{5,8}"
    r"|\d{3,4}(?:[ -]\d{3,4}){2,}"
    r"|\d{3}[ -]\d{3}"
    r"|\d{5,}"
    r")(?![\w@-])"
)
"""Codes and numbers: `482913`, `731 904`, `731-904`, `G-731904`, `7730 2291 0045` (not
`INV-2026-0412` or `501-1000`, which are references and ranges)."""


def digits_of(text: str) -> str:
    """The digits of a number as compared: `12,400.00` and `12 400` are both `12400`."""
    text = re.sub(r"(?<=\d)[ ,.'’](?=\d{3}\b)", "", text)
    text = re.sub(r"[.,]00\b", "", text)
    return re.sub(r"\D", "", text)


def iban_ok(text: str) -> bool:
    """Whether the text is an IBAN whose ISO 13616 check digits agree (any case, any spaces)."""
    compact = re.sub(r"[\s-]", "", text).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _longest_iban(text: str) -> str:
    """The longest prefix of a candidate (dropping trailing groups) that is a valid IBAN."""
    groups = re.split(r"([ -])", text)
    for end in range(len(groups), 0, -1):
        candidate = "".join(groups[:end]).strip(" -")
        if iban_ok(candidate):
            return candidate
    return ""


def _numbers(text: str) -> Iterator[tuple[str, str]]:
    """IBANs, amounts, phones and codes in text (dates and times left out), in that order."""
    rest = DATES.sub(" ", text)
    for match in IBAN.finditer(rest):
        found = _longest_iban(match.group(0))
        if found:
            yield "account", found
            rest = rest.replace(found, " ")
    for kind, pattern in (("amount", AMOUNT), ("phone", PHONE)):
        for match in pattern.finditer(rest):
            value = match.group(0).strip().rstrip(".,")
            if kind == "phone" and len(re.sub(r"\D", "", value)) < 7:
                continue
            yield kind, value
        rest = pattern.sub(" ", rest)
    for match in CODE_WORD.finditer(rest):
        yield "code", match.group("code")
    for match in DIGIT_GROUPS.finditer(rest):
        value = match.group(0)
        count = len(re.sub(r"\D", "", value))
        if count >= 5:
            yield ("code" if count <= 8 else "number"), value


def values_in_text(arg: str, text: str) -> Iterator[Value]:
    """Every sensitive value inside one text: links first (an address in a link is the link)."""
    for candidate in dict.fromkeys((text, decoded(text))):
        rest = candidate
        for url, (start, end) in urls_in_text(candidate):
            yield Value(arg, "url", url)
            rest = rest[:start] + " " * (end - start) + rest[end:]
        for address in addresses_in_text(rest):
            if canonical_address(address):
                yield Value(arg, "address", address)
        rest = re.sub(r"\S+@\S+", " ", rest)
        for kind, value in _numbers(rest):
            yield Value(arg, kind, value)


# -- arguments ------------------------------------------------------------------------------


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, int | float):
        yield path, str(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def arg_role(path: str) -> str:
    """The role of the argument at a path (`email_ids[0]` is an id, `args.to` a recipient)."""
    return role_of(_leaf_name(path))[0]


def _leaf_name(path: str) -> str:
    return re.sub(r"\[\d+\]$", "", path).rsplit(".", 1)[-1]


def whole_values(path: str, text: str) -> Iterator[Value]:
    """What an argument's whole value is, by its name (nothing for a plain text argument)."""
    role, kind = role_of(_leaf_name(path))
    if role == "address":
        strict = bool(set(name_words(_leaf_name(path))) & STRICT_RECIPIENTS)
        parsed = parse_address_list(text, recipient=strict)
        for address in parsed.delivered:
            yield Value(path, "address", address)
        if parsed.malformed:
            yield Value(path, "address", text, malformed=True)
    elif role == "url" and text.strip():
        yield Value(path, "url", text.strip())
    elif role == "id" and text.strip():
        yield Value(path, kind, text.strip())
    elif role == "amount" and re.search(r"\d", text):
        yield Value(path, "amount", text.strip())


def sensitive_values(args: Mapping[str, Any]) -> list[Value]:
    """Every value of the arguments that needs a source the user trusts, each once."""
    found: dict[tuple[str, str, str], Value] = {}
    for name, value in args.items():
        for path, text in _strings(value, name):
            whole = list(whole_values(path, text))
            # An id is checked whole (message ids look like addresses); other text is searched.
            inside = [] if arg_role(path) == "id" else values_in_text(path, text)
            for item in (*whole, *inside):
                found.setdefault(
                    (item.arg, item.kind if not item.malformed else "!", item.key), item
                )
    return list(found.values())


# -- comparison -----------------------------------------------------------------------------


def value_key(kind: str, value: str) -> str:
    """The form a value is compared in: exact, after normalising only what does not change it."""
    if kind == "address":
        return canonical_address(value) or value.strip().casefold()
    if kind == "url":
        return parse_url(value).canonical
    if kind == "account" and iban_ok(value):
        return re.sub(r"[\s-]", "", value).upper()
    if kind in ("phone", "code", "number", "amount", "account"):
        return digits_of(value) or value.strip().casefold()
    return token_key(value)


def token_key(value: str) -> str:
    """An id or a channel as compared: `#Ops`, `ops` and `@ops` are one channel."""
    return value.strip().strip(".,;:!?()[]{}<>\"'`").lstrip("#@").casefold()
