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

import functools
import re
import unicodedata
from collections.abc import Iterable

from graph.engines.triage.profile import MailboxProfile
from graph.engines.triage.reading import header
from graph.engines.triage.senders import base_domain, domain_of, link_hosts
from graph.engines.triage.writers import pretends_a_thread
from tools.language.addresses import ADDRESS
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
_HEADER_FROM_RE = re.compile(r"\bheader\.from\s*=\s*([a-z0-9.-]+)")
_LOGIN_HOST_RE = re.compile(r"login|verify|secure|account|signin|reset")
"""The login words of `rules/flags.toml`'s `login_host` links."""
_RISKY_FLAGS = frozenset(
    {"credential", "link", "bank_change", "money_request", "gift_card", "wire_request", "threat"}
)
"""Content that matters when the sender's domain is not authenticated."""
_ASKING_FLAGS = frozenset(
    {"credential", "bank_change", "money_request", "gift_card", "wire_request", "secrecy"}
    | {"billing_claim"}  # an invoice to approve or pay
)
"""What a fraudster wearing a colleague's name asks for; a colleague on a new address asks
for other things too."""
_GENUINE_FLAGS = {
    "lookalike": "a look-alike of a known brand's name",
    "owner_lookalike": "a domain imitating your own",
    "digit_domain": "a domain with digits for letters",
    "brand_addon": "a brand's name with an add-on as the sender's domain",
    "brand_spoof": "a brand's name from a domain that is not the brand's",
    "ip_link": "a link to a raw address or a throw-away domain",
    "brand_link": "a link dressed as a brand's site on another domain",
}

_OWN_SERVICE_MATTERS = frozenset({"bank_change", "wire_request", "credential", *_GENUINE_FLAGS})
"""Flags whose warning a service's own mail (`_own_service`) is spared."""

_DOMAIN_FLAGS = frozenset({"lookalike", "owner_lookalike", "digit_domain", "brand_addon"})
"""What the sender's own domain or name pretends, which a signature of that domain cannot clear."""
_BILLS = frozenset({"billing_claim", "overdue"})
"""An invoice to pay, or one said to be overdue."""


def _unicode(label: str) -> str:
    """A label as people see it: `xn--lumenhve-yhh` decoded to its Unicode form."""
    if label.startswith("xn--"):
        try:
            return label.encode("ascii").decode("idna")
        except UnicodeError:
            return label
    return label


def skeleton(label: str) -> str:
    """A domain label reduced to what it looks like: `1umenhlve`, `lumеnhive` -> `lumenhive`."""
    text = unicodedata.normalize("NFKC", _unicode(label)).casefold().translate(_CONFUSABLE)
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
    label = _unicode(sender_base.split(".")[0])
    if len(label) < 4:
        return ""
    shape = skeleton(label)
    for real in genuine:
        if not real or real == sender_base:
            continue
        real_label = real.split(".")[0]
        if len(real_label) == 3 and label.startswith(real_label + "-"):
            return real  # "bol-terugbetaling.info" next to "bol.com"
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


def authentication(email: Email) -> dict[str, str]:
    """The receiving server's verdicts (`spf`, `dkim`, `dmarc`); empty when it gave none."""
    return dict(_AUTH_RESULT_RE.findall(header(email, "Authentication-Results").casefold()))


def login_links_home(email: Email, flags: set[str]) -> bool:
    """Whether a program's signed notice links only to its own domain's login pages.

    `myaccount.google.com` in Google's own security alert (DMARC passed for its domain, a
    no-reply sender) is the service's page. A host wearing a login word on another domain, in
    mail not signed for its sender's domain, or from a person, stays suspicious; so does one
    beyond the links read.
    """
    sender_base = base_domain(domain_of((email.from_addr or "").casefold()))
    if not sender_base or not flags & {"tool", "automated"}:
        return False
    if authentication(email).get("dmarc") != "pass":
        return False
    hosts = [host for host in link_hosts(email.body or "") if _LOGIN_HOST_RE.search(host)]
    return bool(hosts) and all(base_domain(host) == sender_base for host in hosts)


def authentication_failure(results: dict[str, str]) -> str:
    """What the receiving server says failed, '' when nothing did."""
    if results.get("dmarc") == "fail":
        return "the sender's domain failed DMARC"
    if results.get("spf") in ("fail", "softfail") and results.get("dkim") in (None, "fail", "none"):
        return "the sender failed SPF and was not signed"
    return ""


def _claims_colleague(
    email: Email, profile: MailboxProfile, sender_base: str, flags: set[str]
) -> bool:
    """A colleague's display name (or an address of the company's) on an outside address.

    Tools that relay a colleague ("Mateo (via GitHub)") are not claims; nor is a namesake at a
    customer or a partner who has written from that address before (a domain the owner writes
    to, and mail from the address besides this one).
    """
    name = (email.from_name or "").casefold().strip()
    if not name or sender_base in profile.owner_domains or not profile.owner_domains:
        return False
    if flags & {"tool", "automated"}:
        return False
    sender = (email.from_addr or "").casefold().strip()
    if sender_base in profile.known_domains and profile.history.get(sender, 0) >= 2:
        return False
    if name in profile.colleague_names:
        return True
    return any(f"@{domain}" in name for domain in profile.owner_domains)


def suspicion(email: Email, profile: MailboxProfile, flags: set[str], known_sender: bool) -> str:
    """Why this message looks like phishing or fraud, '' when it does not."""
    sender = (email.from_addr or "").casefold()
    sender_base = base_domain(domain_of(sender))
    hidden = _hidden_address(email, profile)
    if hidden:
        return hidden
    imitated = _imitation(profile, sender_base)
    if imitated:
        return f"the sender's domain imitates {imitated}"
    if _claims_colleague(email, profile, sender_base, flags) and flags & _ASKING_FLAGS:
        return "a colleague's name on an outside address, asking for money, a login or secrecy"
    results = authentication(email)
    failed = authentication_failure(results)
    if failed and not _a_pitch_softly_failed(results, flags):
        return failed
    # Read the body's links only where a service's own mail is told apart from fraud.
    own = bool(flags & _OWN_SERVICE_MATTERS) and _own_service(email, results, sender_base, profile)
    said = _asks_for_fraud(flags, known_sender or own)
    if said:
        return said
    if "billing_claim" in flags and not known_sender and pretends_a_thread(email, forwards=False):
        return "a made-up reply thread asking to pay an invoice"
    signed = results.get("dmarc") == "pass" or results.get("dkim") == "pass"
    risky = flags & _RISKY_FLAGS
    if "looks_cold" in flags:
        risky -= {"link"}  # a pitch's link books a call; a login or a payment would still count
    if results and not signed and risky and not known_sender:
        return "the sender's domain is not authenticated and it asks for a login, money or a click"
    for flag, meaning in _GENUINE_FLAGS.items():
        # A domain dressed as another's stays that, whoever signed it; a signed service's own
        # notice may carry short links and login words, which are its job (a host relayed
        # through it, such as a booking's "secure." message link, is too), but not a bill to
        # pay behind a link dressed as another brand's site ("View Invoice (SharePoint)" on
        # `sharepoint-docs.com`): the sender signing its own domain says nothing of that link.
        # Nor a gift card, a login or a bill behind a throw-away domain's link, sent through a
        # calendar or mail service that signs whatever its users send.
        dressed = (flag == "brand_link" and bool(flags & _BILLS)) or (
            flag == "ip_link" and bool(flags & {"gift_card", "credential", *_BILLS})
        )
        if flag in flags and (
            flag in _DOMAIN_FLAGS
            or dressed
            or not (own or (signed and flags & {"tool", "automated"}))
        ):
            return meaning
    return ""


def _hidden_address(email: Email, profile: MailboxProfile) -> str:
    """A From with no address of its own, one written into its name instead.

    `=?utf-8?q?Chlo=C3=A9_Martin_=3Cchloe=40lumenhive=2Ecom=3E?=` decodes to a name that shows
    an address, yet the message has none to answer (the trick of the "Mailsploit" spoofs). It
    is a warning when the address shown is the owner's company's or a contact's, unless the
    receiving server vouched for that domain (`dmarc=pass header.from=` it).
    """
    if email.from_addr:
        return ""
    shown = ADDRESS.search(email.from_name or "")
    if not shown:
        return ""
    domain = base_domain(domain_of(shown.group(0).casefold()))
    if domain not in profile.owner_domains and domain not in profile.known_domains:
        return ""
    results = header(email, "Authentication-Results").casefold()
    vouched = authentication(email).get("dmarc") == "pass" and any(
        base_domain(found) == domain for found in _HEADER_FROM_RE.findall(results)
    )
    return "" if vouched else f"an address of {domain} written into the sender's name"


def _own_service(
    email: Email, results: dict[str, str], sender_base: str, profile: MailboxProfile
) -> bool:
    """A service's own mail, such as a password reset the owner asked for ("expires in 30 min").

    Its domain passed DMARC, every link goes to that domain, and the mailbox has had its mail
    before. A new look-alike domain can pass DMARC too, but it has no history here.
    """
    if results.get("dmarc") != "pass" or not sender_base:
        return False
    hosts = link_hosts(email.body or "")
    if not hosts or any(base_domain(host) != sender_base for host in hosts):
        return False
    return profile.mail_from_domain(sender_base) >= 2


def _a_pitch_softly_failed(results: dict[str, str], flags: set[str]) -> bool:
    """A cold pitch whose only fault is a soft SPF failure, and that asks for nothing risky.

    Bulk senders of cold outreach often send from servers their domain does not list; that is
    spam, which the cold-outreach rules already skip. A hard SPF or DMARC failure, or a pitch
    that asks for a login, money or new bank details, stays suspicious.
    """
    return (
        "looks_cold" in flags
        and results.get("spf") == "softfail"
        and results.get("dmarc") != "fail"
        and not flags & (_RISKY_FLAGS - {"link"})
    )


def _imitation(profile: MailboxProfile, sender_base: str) -> str:
    """The owner's or a contact's domain the sender's imitates ('' for none).

    Contacts' domains count only where mail has come from them (a typo the owner once sent to
    is not a company), and a domain the owner writes to is never an imitation itself; one only
    known because its mail answered the owner's can be (a look-alike replying in a real thread).
    """
    if not sender_base or sender_base in profile.written_domains:
        return ""
    domains = (
        profile.owner_domains,
        profile.written_domains,
        profile.sending_domains,
        profile.known_domains,
    )
    return _imitation_among(sender_base, *domains, tuple(map(id, domains)))


@functools.lru_cache(maxsize=4096)
def _imitation_among(
    sender_base: str,
    owner_domains: frozenset[str],
    written_domains: frozenset[str],
    sending_domains: frozenset[str],
    known_domains: frozenset[str],
    identity: tuple[int, ...],
) -> str:
    """`_imitation` for one sender's domain and the profile's domains.

    One sender writes many messages, and a profile's sets are the same objects for a whole run
    (a frozenset keeps its hash), so the comparisons with every known domain are made once per
    sender's domain. `identity` (the sets' ids, alive while the cache holds them) keeps equal
    sets of another profile apart: the first imitated domain found follows a set's own order.
    """
    written = [*owner_domains, *(written_domains & sending_domains)]
    imitated = imitated_domain(sender_base, written, owner_domains)
    if imitated or sender_base in known_domains:
        return imitated
    answered = [  # known by answering only, and not look-alikes of the written ones themselves
        d
        for d in sorted(known_domains & sending_domains)
        if not imitated_domain(d, written, owner_domains)
    ]
    return imitated_domain(sender_base, answered, owner_domains)


def _asks_for_fraud(flags: set[str], known_sender: bool) -> str:
    """The fraud a message's words ask for, '' for none."""
    if {"gift_card", "buy_or_codes"} <= flags and ({"request", "urgency", "secrecy"} & flags):
        return "asks for gift cards"
    if "bank_change" in flags and not known_sender:
        return "asks to pay into new bank details"
    if "wire_request" in flags and ({"secrecy", "urgency"} & flags) and not known_sender:
        if "tool" not in flags:  # a service the owner uses names a bank transfer to pay it
            return "an urgent, confidential transfer"
    if "credential" in flags and "link" in flags and ({"threat", "urgency"} & flags):
        if not known_sender and not ({"tool"} & flags):
            return "asks for a login under time pressure"
    if "new_number" in flags and flags & {"urgency", "money_request"} and not known_sender:
        return "a relative's 'new number' from an unknown address, asking for help in a hurry"
    if "reply_to_mismatch" in flags and "money_request" in flags:
        return "answers go elsewhere and it asks for money"
    if "archive_password" in flags and "link" in flags and not known_sender:
        return "a stranger's password-protected archive behind a link"
    return ""
