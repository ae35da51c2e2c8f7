"""Whether a message looks like phishing or fraud, and the plain reason why.

A suspicious message is never offered a reply, a link, a ticket or a lead, and every view warns.
The checks, each one a reason on its own:

- the sender's domain imitates the owner's, a known contact's or a brand's (a letter swapped,
  `rn` for `m`, a look-alike character from another script, a hyphenated add-on);
- a display name that claims a colleague (or the owner's company) from an outside address;
- failed authentication (`Authentication-Results`: DMARC fail, or SPF and DKIM both failing),
  or a brand's name on mail no domain of that brand signed;
- a request for gift cards, a change of bank details, or an urgent, secret transfer;
- a credential request with a link under a threat or time pressure (the rules' combination).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from graph.engines.triage.profile import FREE_MAIL, MailboxProfile
from graph.engines.triage.senders import base_domain, domain_of
from tools.mail.model import Email

_CONFUSABLE = str.maketrans(
    {
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "х": "x",
        "у": "y",
        "і": "i",
        "ј": "j",
        "ԁ": "d",
        "ɡ": "g",
        "ո": "n",
        "ı": "i",
        "0": "o",
        "1": "l",
        "3": "e",
        "5": "s",
        "!": "i",
    }
)
_DIGRAPHS = (("rn", "m"), ("vv", "w"), ("cl", "d"), ("ii", "u"))
_AUTH_RESULT_RE = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)")
_NAME_WORD_RE = re.compile(r"[^\W\d_]+")
_GENUINE_FLAGS = {
    "lookalike": "a look-alike of a known brand's name",
    "owner_lookalike": "a domain imitating your own",
    "digit_domain": "a domain with digits for letters",
    "brand_spoof": "a brand's name from a domain that is not the brand's",
    "ip_link": "a link to a raw address or a throw-away domain",
}


def skeleton(label: str) -> str:
    """A domain label reduced to what it looks like: `1umenhlve`, `lumеnhive` -> `lumenhive`."""
    text = unicodedata.normalize("NFKC", label).casefold().translate(_CONFUSABLE)
    for pair, single in _DIGRAPHS:
        text = text.replace(pair, single)
    return text.replace("l", "i").replace("-", "")


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether two strings differ by one substitution, insertion, deletion or neighbour swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diffs) == 1 or (
            len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def imitated_domain(
    sender_base: str, genuine: Iterable[str], own: frozenset[str] = frozenset()
) -> str:
    """The genuine domain `sender_base` imitates, '' when it imitates none.

    The same name under another ending (`acme.de` beside `acme.com`) is often the same company,
    except for the owner's own domains (`own`): a colleague never writes from a second one.
    """
    label = sender_base.split(".")[0]
    if len(label) < 4:
        return ""
    shape = skeleton(label)
    for real in genuine:
        if not real or real == sender_base:
            continue
        real_label = real.split(".")[0]
        if len(real_label) < 4:
            continue
        real_shape = skeleton(real_label)
        if label == real_label:
            if real in own:
                return real
            continue
        if shape == real_shape or (len(real_label) >= 5 and _one_edit_apart(label, real_label)):
            return real
        if len(real_label) >= 5 and label.startswith(real_label + "-"):
            return real  # "lumenhive-hr" next to "lumenhive"
    return ""


def authentication_failure(email: Email) -> str:
    """What the receiving server's `Authentication-Results` say failed, '' when nothing did."""
    header = next(
        (v for k, v in (email.headers or {}).items() if k.lower() == "authentication-results"),
        "",
    )
    results = dict(_AUTH_RESULT_RE.findall(header.casefold()))
    if results.get("dmarc") == "fail":
        return "the sender's domain failed DMARC"
    if results.get("spf") in ("fail", "softfail") and results.get("dkim") in (None, "fail", "none"):
        return "the sender failed SPF and was not signed"
    return ""


def _claims_colleague(email: Email, profile: MailboxProfile, sender_base: str) -> bool:
    """A display name that is a colleague's (or the owner's company's) on an outside address."""
    name = (email.from_name or "").casefold().strip()
    if not name or sender_base in profile.owner_domains or not profile.owner_domains:
        return False
    if name in profile.colleague_names:
        return True
    words = set(_NAME_WORD_RE.findall(name))
    return any(domain.split(".")[0] in words for domain in profile.owner_domains)


def suspicion(email: Email, profile: MailboxProfile, flags: set[str], known_sender: bool) -> str:
    """Why this message looks like phishing or fraud, '' when it does not."""
    sender = (email.from_addr or "").casefold()
    sender_base = base_domain(domain_of(sender))
    genuine = [*profile.owner_domains, *profile.known_domains]
    imitated = imitated_domain(sender_base, genuine, profile.owner_domains) if sender_base else ""
    if imitated:
        return f"the sender's domain imitates {imitated}"
    if _claims_colleague(email, profile, sender_base):
        return "a colleague's name on an outside address"
    failed = authentication_failure(email)
    if failed:
        return failed
    if "gift_card" in flags and ({"request", "urgency", "secrecy"} & flags):
        return "asks for gift cards"
    if "bank_change" in flags and not known_sender:
        return "asks to pay into new bank details"
    if "wire_request" in flags and ({"secrecy", "urgency"} & flags) and not known_sender:
        return "an urgent, confidential transfer"
    if {"credential", "link"} <= flags and ({"threat", "urgency"} & flags) and not known_sender:
        return "asks for a login under time pressure"
    if "reply_to_mismatch" in flags and "money_request" in flags and sender_base not in FREE_MAIL:
        return "answers go elsewhere and it asks for money"
    for flag, said in _GENUINE_FLAGS.items():
        if flag in flags:
            return said
    return ""
