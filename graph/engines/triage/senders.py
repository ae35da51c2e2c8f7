"""Who a message is from, compared with the mailbox owner: colleague, VIP, stranger, imitator.

The same words mean different things from a colleague and from a look-alike domain, so these
flags feed the combinations in `rules/combos.toml` and the priority.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence

from graph.engines.triage.reading import header
from graph.engines.triage.rulebook import RuleBook
from tools.mail.model import Email

_DIGIT_FOR_LETTER_RE = re.compile(r"[a-z][01][a-z]")
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "ne"})


def domain_of(address: str) -> str:
    """The lower-cased domain of an address, '' when it has none."""
    return address.rsplit("@", 1)[1].strip().lower() if "@" in address else ""


def base_domain(domain: str) -> str:
    """The registrable part of a domain: `mail.eu.example.co.uk` -> `example.co.uk`."""
    labels = [label for label in domain.split(".") if label]
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _imitation_flags(base: str, owner_domains: frozenset[str], flags: set[str]) -> None:
    """Flag a stranger's domain that imitates the owner's or swaps a letter for a digit."""
    label = base.split(".")[0]
    if any(
        owner.split(".")[0] in label for owner in owner_domains if len(owner.split(".")[0]) >= 4
    ):
        flags.add("owner_lookalike")  # "northwind-secure.example" next to "northwind.example"
    if _DIGIT_FOR_LETTER_RE.search(label):
        flags.add("digit_domain")  # "mai1box", "paypa1"


_PER_MESSAGE_ENVELOPE_RE = re.compile(r"=|\d{4}|[0-9a-f]{16}")
"""A return address made for one message or one recipient (VERP): the recipient's address
(`bounces+priya=example.com@`) or a long number or hash in its mailbox name."""
_ENVELOPE_RE = re.compile(r"smtp\.mailfrom=([^\s;]+@[^\s;]+)")


def envelope_sender(email: Email) -> str:
    """Where bounces go (`Return-Path`, else the `smtp.mailfrom` checked on arrival); ''."""
    path = header(email, "Return-Path").strip().strip("<>").strip()
    if not path:
        found = _ENVELOPE_RE.search(header(email, "Authentication-Results"))
        path = found.group(1) if found else ""
    return path.casefold()


def sent_by_a_mailing_system(email: Email) -> bool:
    """Whether the envelope is a sending system's per-message address, not the writer's.

    A person's mail program returns bounces to the person; a system that sends mail by the
    thousand gives every message or recipient its own return address to tell which one
    bounced. A mailing list does that for the people writing to it too, so a message with a
    `List-Id` is not judged by its envelope, nor is a forwarder's rewriting (SRS) of it.
    """
    if header(email, "List-Id"):
        return False
    envelope = envelope_sender(email)
    if "@" not in envelope or envelope == (email.from_addr or "").casefold():
        return False
    mailbox = envelope.rsplit("@", 1)[0]
    if mailbox.startswith(("srs0=", "srs1=")) or "+caf_=" in mailbox:
        return False  # a forwarder's rewriting (SRS, a mailbox's auto-forward), not a mailing
    return bool(_PER_MESSAGE_ENVELOPE_RE.search(mailbox))


def _brand_with_addon(base: str, genuine: str) -> bool:
    """Whether a domain is a brand's name with a hyphenated add-on (`dropbox-signature.example`).

    A brand sends from its own name, not from one made to look like it.
    """
    segments = base.split(".")[0].split("-")
    return len(segments) > 1 and genuine in segments


_DISTINCT_BRAND_CHARS = 6
"""A brand name this long is no everyday word (`sharepoint`, `docusign`; not `ing` or `apple`)."""


_Brands = tuple[tuple[re.Pattern[str], str], ...]
"""`RuleBook.brands`: (a brand's name in a display name, what its genuine domain contains)."""


@functools.lru_cache(maxsize=8)
def _distinct_brands(brands: _Brands) -> frozenset[str]:
    return frozenset(genuine for _, genuine in brands if len(genuine) >= _DISTINCT_BRAND_CHARS)


def _dressed_as_brand(base: str, brands: frozenset[str]) -> bool:
    """A domain whose name is a brand's with an add-on (`sharepoint-filedrop.com`).

    Whatever the display name says (a name in parentheses is a comment, which mail programs
    drop): a brand sends from its own domain, not from one that wears its name.
    """
    segments = base.split(".")[0].split("-")
    return len(segments) > 1 and any(segment in brands for segment in segments)


_LINK_HOST_RE = re.compile(r"\bhttps?://([a-z0-9.-]+)", re.IGNORECASE)
_LINKS_READ = 50


def link_hosts(text: str) -> list[str]:
    """The hosts of the first links in `text`, lower-cased."""
    if "://" not in text:  # no link (`https?://`, in any case) at all
        return []
    found = itertools.islice(_LINK_HOST_RE.finditer(text), _LINKS_READ)
    return [match.group(1).casefold().strip(".") for match in found]


def dressed_link(text: str, brands: frozenset[str]) -> bool:
    """A link to a host dressed as one of `brands`' sites on someone else's domain.

    `marktplaats.gelijk-oversteken-nl.com` (the brand as a subdomain of another domain) and
    `mijn-belastingdienst-teruggaaf.nl` (the brand with add-ons as the domain's name); never
    the brand's own domain or its subdomains (`click.paypal.com`).
    """
    return any(_dressed_host(host, brands) for host in link_hosts(text))


@functools.lru_cache(maxsize=4096)
def _dressed_host(host: str, brands: frozenset[str]) -> bool:
    """`dressed_link` for one link's host: the same hosts come back in mail after mail."""
    base = base_domain(host)
    if _dressed_as_brand(base, brands):
        return True
    if any(brand in base.split(".")[0] for brand in brands):
        return False  # the brand's own domain (or one only containing its name)
    outside = host[: -len(base)].split(".") if host.endswith(base) else []
    return any(label in brands for label in outside)


@functools.lru_cache(maxsize=4096)
def _brand_claims(sender_name: str, sender_domain: str, brands: _Brands) -> tuple[bool, bool]:
    """(a brand the display name claims is not the domain's, the domain adds on to one).

    The first raises `brand_spoof`, the second `brand_addon`. One sender writes many
    messages: the brands' names are searched once per display name and domain.
    """
    claimed = [genuine for name_re, genuine in brands if name_re.search(sender_name)]
    base = base_domain(sender_domain)
    spoof = any(genuine not in sender_domain for genuine in claimed)
    return spoof, any(_brand_with_addon(base, genuine) for genuine in claimed)


FREE_MAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "proton.me",
        "protonmail.com",
        "fastmail.com",
        "hey.com",
        "zoho.com",
        "mail.com",
        "yandex.com",
        "orange.fr",
        "free.fr",
        "libero.it",
        "ziggo.nl",
        "kpnmail.nl",
    }
)
"""Domains anyone can get an address on: knowing one person there says nothing of the rest."""


@functools.lru_cache(maxsize=64)
def _owner_domains(owner_addresses: tuple[str, ...]) -> frozenset[str]:
    """The registrable domains of the owner's company (the same for a whole mailbox).

    Not a free-mail provider's: an owner writing from `fastmail.com` makes nobody else there a
    colleague (as `MailboxProfile.owner_domains`).
    """
    bases = (base_domain(domain_of(a.casefold())) for a in owner_addresses if "@" in a)
    return frozenset(base for base in bases if base not in FREE_MAIL)


def sender_flags(
    email: Email,
    sender: str,
    owner_addresses: Sequence[str],
    vip_senders: Sequence[str],
    rules: RuleBook,
    flags: set[str],
) -> bool:
    """Add the flags that compare the sender with the owner; return whether it is a colleague."""
    sender_domain = domain_of(sender)
    owner_domains = _owner_domains(tuple(owner_addresses))
    vip = {v.casefold().strip() for v in vip_senders}
    base = base_domain(sender_domain) if sender_domain else ""
    is_vip = bool(sender) and (sender in vip or f"@{sender_domain}" in vip or sender_domain in vip)
    colleague = bool(base) and base in owner_domains
    if sent_by_a_mailing_system(email):
        flags.add("mass_envelope")
    if is_vip:
        flags.add("vip")
    if colleague:
        flags.add("colleague")
    if not (is_vip or colleague):
        flags.add("unknown_sender")
    if base and not colleague:
        _imitation_flags(base, owner_domains, flags)
    reply_to_domain = domain_of((email.reply_to or "").casefold())
    if reply_to_domain and base and base_domain(reply_to_domain) != base:
        flags.add("reply_to_mismatch")
    brands = _distinct_brands(rules.brands)
    if sender_domain:
        sender_name = (email.from_name or "").casefold()
        spoof, addon = _brand_claims(sender_name, sender_domain, rules.brands)
        if spoof:
            flags.add("brand_spoof")
        if addon or _dressed_as_brand(base, brands):
            flags.add("brand_addon")
    if dressed_link(email.body or "", brands):
        flags.add("brand_link")
    return colleague
