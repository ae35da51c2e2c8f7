"""What counts as the user's: exact values they typed, their configuration, the product's ids.

Typed values are read out of the user's turns with the same readers as the arguments, once,
and compared in canonical form: an address the user typed is trusted as that address, never
as a substring (`lena@partner-example.co` is not `lena@partner-example.com`), and a number
the user typed is trusted as those digits, never inside a longer one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from graph.provenance.addresses import canonical_address, domain_of
from graph.provenance.domains import domain_doubt, in_domains
from graph.provenance.urls import WEB_SCHEMES, parse_url
from graph.provenance.values import (
    AMOUNT,
    DIGIT_GROUPS,
    PHONE,
    Value,
    digits_of,
    token_key,
    value_key,
    values_in_text,
)

NOT_YOURS = "you did not type it in this conversation and it is not in your configuration"
DIGIT_KINDS = frozenset({"phone", "code", "number", "amount", "account"})


@dataclass(frozen=True)
class Trust:
    """What counts as coming from the user."""

    user_texts: tuple[str, ...]
    """Everything the user typed in this thread."""
    addresses: frozenset[str] = frozenset()
    """The user's own and allow-listed addresses."""
    domains: frozenset[str] = frozenset()
    """Allow-listed domains: their addresses and links (and their subdomains') are trusted."""
    configured: frozenset[str] = frozenset()
    """Other destinations the configuration names (Slack channels), as tokens."""
    product_ids: frozenset[str] = frozenset()
    """Ids the product made in this thread (the thread, its calls, its evidence)."""

    @cached_property
    def own_addresses(self) -> frozenset[str]:
        """The configured addresses in canonical form."""
        return frozenset(filter(None, (canonical_address(a) for a in self.addresses)))

    @cached_property
    def protected(self) -> frozenset[str]:
        """Domains a lookalike of which is named as one: trusted ones and the user's own."""
        return frozenset(self.domains) | {domain_of(a) for a in self.own_addresses}

    @cached_property
    def typed(self) -> frozenset[tuple[str, str]]:
        """(family, key) of every value in the user's words: addresses, links, digits, tokens."""
        found: set[tuple[str, str]] = set()
        for text in self.user_texts:
            for value in values_in_text("", text):
                family = "digits" if value.kind in DIGIT_KINDS else value.kind
                found.add((family, value.key))
            for pattern in (AMOUNT, PHONE, DIGIT_GROUPS):
                found |= {("digits", digits_of(m.group(0))) for m in pattern.finditer(text)}
            found |= {("digits", run) for run in re.findall(r"\d+", text)}
            found |= {("token", token_key(word)) for word in text.split()}
        return frozenset(item for item in found if item[1])

    def typed_token(self, value: str) -> bool:
        """Whether the user typed this id, channel or key as a word of its own."""
        key = token_key(value)
        return bool(key) and (("token", key) in self.typed or key in self.configured)

    def with_addresses(self, extra: set[str]) -> Trust:
        """The same trust, with these addresses the user's to use for one call."""
        return Trust(
            user_texts=self.user_texts,
            addresses=self.addresses | extra,
            domains=self.domains,
            configured=self.configured,
            product_ids=self.product_ids,
        )

    def doubt(self, value: Value) -> str:
        """Why this value is not the user's ('' when it is)."""
        if value.malformed:
            return (
                "it cannot be read as a plain list of addresses, so mail servers may read "
                "it differently"
            )
        if value.kind == "address":
            return self._address_doubt(value.value)
        if value.kind == "url":
            return self._url_doubt(value.value)
        if value.kind in DIGIT_KINDS:
            key = value_key(value.kind, value.value)
            typed = ("digits", key) in self.typed or ("account", key) in self.typed
            return "" if typed else NOT_YOURS
        trusted = self.typed_token(value.value) or token_key(value.value) in self.product_ids
        return "" if trusted else NOT_YOURS

    def _address_doubt(self, text: str) -> str:
        address = canonical_address(text)
        if not address:
            return "it is not a valid address"
        if address in self.own_addresses:
            return ""
        suspicious = domain_doubt(domain_of(address), self.protected)
        if suspicious:
            return suspicious
        if in_domains(domain_of(address), self.domains) or ("address", address) in self.typed:
            return ""
        return NOT_YOURS

    def _url_doubt(self, text: str) -> str:
        parsed = parse_url(text)
        typed = ("url", parsed.canonical) in self.typed
        if parsed.scheme not in WEB_SCHEMES:
            return "" if typed else f"it is a {parsed.scheme or 'schemeless'}: link, not a web page"
        if not all(parsed.hosts):
            return "its host cannot be read as a domain name"
        for host in parsed.hosts:
            suspicious = domain_doubt(host, self.protected)
            if suspicious:
                return suspicious
        if all(in_domains(host, self.domains) for host in parsed.hosts) or typed:
            return ""
        if len(parsed.hosts) > 1:
            return f"browsers and servers read its host differently ({', '.join(parsed.hosts)})"
        where = f"it goes to {parsed.hosts[0]}"
        if parsed.user_info:
            where += " (the part before `@` is a user name, not the site)"
        return f"{where}; {NOT_YOURS}"
