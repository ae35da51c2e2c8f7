"""Recipient lists read the way the mail server will read them, before anything is checked.

An address argument is parsed by every reader that may see it, and each address any of them
finds is checked: the RFC 5322 parser of `email.headerregistry` (quoted local parts,
comments, groups such as `undisclosed:;`, encoded words in display names, obsolete routes),
the older `email.utils.getaddresses` the SMTP client and the calendar use on the text, and
the header the mail tools really build (split at `,` and `;`, written into a message and
read back, as sending does). Taking the union means a trick one reader falls for and another
does not is still seen. Python 3.11 has no `strict=` for `getaddresses`, and its lenient
parse is exactly what the sending side does, so it is kept as one of the readers rather than
trusted alone. A value no reader can take as a list of addresses is itself flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.errors import InvalidHeaderDefect, NonPrintableDefect
from email.header import decode_header, make_header
from email.headerregistry import AddressHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import getaddresses

from graph.provenance.domains import canonical_domain

_HEADERS = HeaderRegistry()
QUOTED_ADDRESS = re.compile(
    r'"(?P<local>[^"\r\n]{1,64})"@(?P<domain>\[[^\]\s]+\]|[\w-]+(?:\.[\w-]+)+\.?)'
)
ADDRESS_CHAIN = re.compile(r"[^\s<>()\[\],;:\"`]*@[^\s<>()\[\],;:\"`]+")
"""Text with one or more `@`: `user@trusted.example@evil.example` is two candidate addresses."""
DOT_ATOM = re.compile(r"^[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*$")
ENCODED_WORD = re.compile(r"=\?[\w-]+\?[bqBQ]\?[^?\s]*\?=")


@dataclass(frozen=True)
class AddressList:
    """What an address argument delivers to."""

    delivered: tuple[str, ...]
    """The addresses a mail server may be given, as the readers wrote them, each once."""
    malformed: bool
    """Part of the value is not an address list any reader agrees on."""


def canonical_address(address: str) -> str:
    """An address as compared: local part case-folded, domain in its DNS form; '' if none.

    Quotes that change nothing are dropped (`"archive"@x` is `archive@x`).
    """
    local, at, domain = address.strip().strip("<>").rpartition("@")
    if not at or not local:
        return ""
    if local.startswith('"') and local.endswith('"') and DOT_ATOM.match(local[1:-1]):
        local = local[1:-1]
    host = canonical_domain(domain)
    return f"{local.casefold()}@{host}" if host else ""


def domain_of(address: str) -> str:
    """The canonical domain of a canonical address."""
    return address.rpartition("@")[2]


def decoded(text: str) -> str:
    """The text with RFC 2047 encoded words decoded (as a reader of the header would)."""
    if not ENCODED_WORD.search(text):
        return text
    try:
        return str(make_header(decode_header(text)))
    except (UnicodeError, LookupError, ValueError):
        return text


def addresses_in_text(text: str) -> list[str]:
    """Every address-like token of free text, as written (quoted local parts included)."""
    found = [m.group(0) for m in QUOTED_ADDRESS.finditer(text)]
    rest = QUOTED_ADDRESS.sub(" ", text)
    for chain in ADDRESS_CHAIN.finditer(rest):
        parts = chain.group(0).split("@")
        for local, domain in zip(parts, parts[1:], strict=False):
            found.append(local.lstrip("'") + "@" + domain.rstrip(".,;:!?'"))
    return list(dict.fromkeys(found))


def _registry_reading(text: str) -> tuple[list[str], bool]:
    header = _HEADERS("To", text)
    assert isinstance(header, AddressHeader)  # the registry maps `To` to an address header
    found: list[str] = []
    for address in header.addresses:
        if address.domain:
            found.append(address.addr_spec)
        elif "@" in address.username:
            # An encoded word or quoted string standing alone: sending unquotes it into an address.
            found.append(address.username)
    bad = any(isinstance(d, InvalidHeaderDefect | NonPrintableDefect) for d in header.defects)
    return found, bad


def _sent_reading(text: str) -> list[str]:
    """The addresses sending would use: split as the mail tools split, written, read back."""
    parts = [p.strip() for p in re.split(r"[,;]", text) if p.strip()]
    message = EmailMessage()
    try:
        message["To"] = ", ".join(parts)
    except ValueError:
        return []  # a line break: the tool cannot build the header, so nothing is sent
    return [a for _, a in getaddresses([str(v) for v in message.get_all("To", [])]) if a]


def parse_address_list(value: str, *, recipient: bool = True) -> AddressList:
    """Every address any reader finds in an address argument, and whether it is malformed.

    `recipient`: the argument names recipients (`to`, `attendees`), so a non-empty value
    with no address at all is malformed rather than merely empty.
    """
    text = value.replace("\r", " ").replace("\n", " ")
    whole, bad_whole = _registry_reading(text)
    split, bad_split = _registry_reading(text.replace(";", ","))
    readings = [*whole, *split]
    readings += [a for _, a in getaddresses([text.replace(";", ",")]) if a]
    readings += _sent_reading(text)
    delivered: dict[str, str] = {}
    malformed = (bad_whole and bad_split) or text != value
    for candidate in readings:
        canonical = canonical_address(candidate)
        if canonical:
            delivered.setdefault(canonical, candidate)
        elif candidate.strip():
            malformed = True
    if recipient and text.strip() and not delivered and not re.fullmatch(r"[\w\s-]*:\s*;", text):
        malformed = True
    if not recipient and "@" not in text and not ENCODED_WORD.search(text):
        malformed = False
    return AddressList(delivered=tuple(delivered.values()), malformed=malformed)
