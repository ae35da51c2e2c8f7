"""Domains as the resolver sees them, and domains made to look like the ones the user trusts.

Trust is given to exact domains (and their subdomains) only. Before any comparison a host is
brought to the form DNS uses (IDNA: NFKC, case folded, punycode, no trailing dot), so an
upper-case, full-width or trailing-dot spelling of a trusted domain is that domain, and
anything else is not. Lookalikes are named on the card, and never trusted because the user
typed them: a pasted `nоrthwind.example` (Cyrillic `о`) is still flagged.

Confusables: a small map of the Cyrillic and Greek letters and the digit and letter pairs
that pass for Latin ones (after NFKD, marks dropped), not the whole Unicode `confusables.txt`:
enough to name the lookalike of a handful of trusted domains, with no extra dependency.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

CONFUSABLE_LETTERS = str.maketrans(
    {
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
        "ј": "j", "ѕ": "s", "ԁ": "d", "ӏ": "l", "һ": "h", "ԛ": "q", "ԝ": "w", "ɡ": "g",
        "ο": "o", "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ρ": "p", "τ": "t",
        "υ": "u", "χ": "x", "ı": "i", "ℓ": "l", "0": "o", "1": "l", "i": "l", "|": "l",
    }
)  # fmt: skip
"""Letters that pass for Latin ones in a domain (`i` and `1` both read as `l`)."""
CONFUSABLE_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))
"""Pairs of letters that read as one."""
LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")


def canonical_domain(host: str) -> str:
    """The domain in the form DNS uses (`xn--` labels, lower case, no trailing dot), or ''.

    '' means the text is not a usable domain (an empty label, a space, a `%`, an `@`):
    such a host is never trusted.
    """
    text = host.strip().rstrip(".")
    if not text:
        return ""
    if text.startswith("[") and text.endswith("]"):
        return text.lower()  # an address literal: compared as written
    try:
        ascii_form = text.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return ""
    labels = ascii_form.split(".")
    if len(labels) < 2 or not all(LABEL.match(label) for label in labels):
        return ""
    return ascii_form


def unicode_domain(domain: str) -> str:
    """The domain as a person reads it (punycode labels decoded where they decode)."""
    labels = []
    for label in domain.split("."):
        try:
            labels.append(
                label.encode("ascii").decode("idna") if label.startswith("xn--") else label
            )
        except UnicodeError:
            labels.append(label)
    return ".".join(labels)


def in_domains(domain: str, domains: Iterable[str]) -> bool:
    """Whether the domain is one of `domains` or a subdomain of one (exact labels only)."""
    return bool(domain) and any(domain == d or domain.endswith("." + d) for d in domains if d)


def skeleton(domain: str) -> str:
    """What a domain looks like: marks dropped, confusable letters and pairs folded."""
    text = unicodedata.normalize("NFKD", unicode_domain(domain).casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.translate(CONFUSABLE_LETTERS)
    for pair, single in CONFUSABLE_PAIRS:
        text = text.replace(pair, single)
    return text


def lookalike_of(domain: str, protected: Iterable[str]) -> str:
    """The protected domain this one is made to look like, or '' (itself, or unlike any).

    A subdomain of a lookalike (`login.nоrthwind.example`) looks like the domain too.
    """
    if not domain:
        return ""
    protected = [p for p in protected if p]
    if in_domains(domain, protected):
        return ""
    labels = domain.split(".")
    for candidate in protected:
        count = len(candidate.split("."))
        tail = ".".join(labels[-count:])
        if len(labels) >= count and skeleton(tail) == skeleton(candidate):
            return candidate
    return ""


def scripts_of(domain: str) -> list[str]:
    """The scripts the letters of each label use, for labels that mix more than one."""
    mixed = []
    for label in unicode_domain(domain).split("."):
        scripts = {unicodedata.name(c, "UNKNOWN").split()[0] for c in label if c.isalpha()}
        if len(scripts) > 1:
            mixed.append(" and ".join(sorted(s.title() for s in scripts)))
    return mixed


def domain_doubt(domain: str, protected: Iterable[str]) -> str:
    """Why a domain is suspicious in itself (a lookalike, mixed scripts), or ''."""
    like = lookalike_of(domain, protected)
    if like:
        return f"{unicode_domain(domain)} looks like {like} but is a different domain"
    mixed = scripts_of(domain)
    if mixed:
        return f"{unicode_domain(domain)} mixes {mixed[0]} letters"
    return ""
