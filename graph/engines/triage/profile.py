"""Who the mailbox belongs to and whom they know, learned from the mailbox itself.

Real mail is judged by relationships as much as by words: a question from someone the owner has
written to is never cold outreach, and a display name that claims a colleague from an outside
address is a warning. The profile is built from the stored mail (the Sent folder above all):

- the owner: the configured addresses (`SMART_INBOX_USER_EMAILS`), else the `From` of the Sent
  folder, else the address most of the mail is sent to;
- known people: everyone the owner has written to (To and Cc of sent mail), and everyone who
  answered a message the owner sent;
- colleague names: the display names seen on the owner's own domain;
- history: how many messages each sender has sent.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from graph.engines.triage.senders import FREE_MAIL, base_domain, domain_of
from tools.mail.model import SENT, Email

_DUTIES = (
    r"rijders|chauffeurs?|rijden|rijschema|drivers?|driving|carpool|fahrer|fahrdienst|fahren|bardienst|"
    r"bar duty|bar shift|fruit|kleding wassen|wasbeurt|aan de beurt|rota|roster|corvee"
)
"""The duties of a club's or a class's rota a family is put down for, as its lines name them."""
_NAME_WORD = re.compile(r"[^\W\d_][^\W\d_'-]*")
"""A word of a person's name: letters, with a hyphen or an apostrophe inside ("o'brien")."""
_TEAM_WORDS = frozenset(
    "team comms notes office mail delivery system subsystem support security helpdesk people "
    "platform engineering finance careers status weekly news noreply".split()
)
"""Words of a company's senders' names that are no person's: "Platform Team", "Office Amsterdam"."""
_REFERRAL_WORDS = (
    "intro",
    "suggest",
    "right person",
    "best person",
    "right contact",
    "best contact",
    "gave me",
    "m'a ",
    "m’a ",
    "gaf m",
    "heeft m",
    "hat mir",
    "passed",
    "pointed me",
    "referred",
    "conseil",
    "advice",
    "recommend",
    "empfehlung",
    "anraten",
    "aanraden",
    "advies",
    "recomendaci",
    "sugerencia",
)
"""A word each of `MailboxProfile._referred`'s forms holds."""
_HANDED_OVER = ("escalated", "reassigned", "assigned", "handed over")
"""The words that hand work to someone by name: "escalated to Priya Raman"."""


@dataclass(frozen=True)
class MailboxProfile:
    """What the mailbox says about its owner; empty when nothing is known."""

    owner_addresses: tuple[str, ...] = ()
    known_people: frozenset[str] = frozenset()
    """Lower-cased addresses the owner has written to or that answered the owner."""
    known_domains: frozenset[str] = frozenset()
    """Registrable domains of known people, free-mail providers left out."""
    written_domains: frozenset[str] = frozenset()
    """Registrable domains the owner has written to (free mail left out): unlike
    `known_domains`, never one only known because mail from it answered the owner's, which a
    look-alike domain hijacking a thread does too."""
    colleague_names: frozenset[str] = frozenset()
    """Lower-cased display names seen on the owner's own domains."""
    owner_names: frozenset[str] = frozenset()
    """Lower-cased display names the owner sends as (`priya raman`), from the Sent folder."""
    sent_ids: frozenset[str] = frozenset()
    """Message-IDs of the owner's sent mail, so an answer to them is recognised."""
    history: Mapping[str, int] = field(default_factory=dict)
    """Messages received per sender address."""
    sending_domains: frozenset[str] = frozenset()
    """Registrable domains mail has come from."""

    @functools.cached_property
    def owner_domains(self) -> frozenset[str]:
        """The owner's company domains (free-mail providers are nobody's company).

        Read for every message, from addresses that never change: worked out once.
        """
        return frozenset(
            base_domain(domain_of(a)) for a in self.owner_addresses if domain_of(a) not in FREE_MAIL
        )

    @functools.cached_property
    def _written_names(self) -> frozenset[str]:
        """The names of the organisations the owner writes to, her own company's aside.

        `regenboog-amsterdam` of `regenboog-amsterdam.nl`, when long enough to name one (five
        letters or more).
        """
        others = self.written_domains - self.owner_domains  # the owner's own are no news
        return frozenset(name for name in (d.split(".", 1)[0] for d in others) if len(name) >= 5)

    def lists_for_a_known_org(self, list_id: str) -> bool:
        """Whether a mailing list's `List-Id` names an organisation the owner writes to.

        A school's newsletter sent through a platform (`nieuwsbrief.regenboog-amsterdam.
        socialschools.eu`) comes from the platform's address, yet it is the school's news.
        Only a name between dots counts, so `regenboog` alone or `x-regenboog-amsterdam-y`
        does not. Anyone can write a `List-Id`: this makes a mailing worth showing, never a
        sender known or trusted.
        """
        inner = list_id.casefold().rsplit("<", 1)[-1].split(">", 1)[0]
        return not self._written_names.isdisjoint(inner.split("."))

    def relays_a_known_org(self, display_name: str) -> bool:
        """Whether a platform's "X via Y" display name names an organisation the owner writes to.

        A school's app posts as "Groep 6 - De Regenboog via Social Schools" from the platform's
        own address; the school is `regenboog-amsterdam.nl`, which the owner writes to. The
        first word of that name (five letters or more) must stand in the part before " via ".
        Anyone can write a display name: this makes a mailing worth showing, never a sender
        known or trusted.
        """
        relayed, via, _ = display_name.casefold().rpartition(" via ")
        if not via:
            return False
        squashed = re.sub(r"[\W_]+", "", relayed)
        return any(first in squashed for first in self._written_firsts)

    @functools.cached_property
    def _written_firsts(self) -> frozenset[str]:
        """The first word of each `_written_names` (`regenboog`), five letters or more."""
        firsts = (name.split("-", 1)[0] for name in self._written_names)
        return frozenset(first for first in firsts if len(first) >= 5)

    @functools.cached_property
    def _called_names(self) -> str:
        """The owner's full and first names as one alternation, longest first ('' for none)."""
        return "|".join(re.escape(n) for n in self._names_longest_first)

    @functools.cached_property
    def _names_longest_first(self) -> tuple[str, ...]:
        """The owner's full and first names (three letters or more), longest first."""
        names = {n for full in self.owner_names for n in (full, full.split()[0]) if len(n) >= 3}
        return tuple(sorted(names, key=len, reverse=True))

    @functools.cached_property
    def _owner_called(self) -> re.Pattern[str] | None:
        """How a person in a group's thread turns to the owner: a greeting or an @-mention."""
        name = self._called_names
        if not name:
            return None
        return re.compile(
            # At a line's start, after a list's number ("2. Priya - the wording"), if any.
            rf"(?:^|\n)[ \t]*(?:\d{{1,2}}[.)][ \t]+)?"
            rf"(?:(?:hi|hello|hey|dear|hoi|hallo|beste|liebe|lieber|bonjour|"
            rf"salut|hola)[ \t]+)?(?:{name})\b[ \t]*[,:!-]|@(?:{name})\b"
        )

    @functools.cached_property
    def _rota_names(self) -> tuple[str, ...]:
        """The owner's first and family names, of the names they send as (three letters or more)."""
        words = [full.split() for full in self.owner_names]
        names = {word for split in words for word in (*split[:1], *split[-1:])}
        return tuple(sorted((name for name in names if len(name) >= 3), key=len, reverse=True))

    @functools.cached_property
    def _owner_on_rota(self) -> re.Pattern[str] | None:
        """A rota's line naming the owner's family: "Rijders: fam. Bakker, fam. De Vries/Raman"."""
        if not self._rota_names:
            return None
        name = "|".join(re.escape(n) for n in self._rota_names)
        # On the duty's line, or in the list its line opens with a colon ("rijden deze keer:",
        # then "- Priya (Arjun)" a few lines down).
        after = r"(?:[^\n]{0,80}?|[^\n]{0,80}:[ \t]*\n(?:[^\n]{0,60}\n){0,4}?[^\n]{0,40}?)"
        return re.compile(rf"\b(?:{_DUTIES})\b{after}(?<![\w@.])(?:{name})\b(?![@.]\w)")

    def on_rota(self, text: str) -> bool:
        """Whether lower-cased `text` puts the owner's family down for a duty on a rota.

        A club's or a class's list of who drives, serves the bar or brings fruit, naming the
        family by its surname or the owner by first name on the duty's line, or in the list
        that line opens ("rijden deze keer:" then "- Priya (Arjun)"); not a name in an address,
        and not the name elsewhere in the mail.
        """
        rota = self._owner_on_rota
        # Most mail does not name the family at all: looked for as plain text first.
        if rota is None or not any(name in text for name in self._rota_names):
            return False
        return bool(rota.search(text))

    @functools.cached_property
    def _owner_assigned(self) -> re.Pattern[str] | None:
        """Work handed to the owner by name: "escalated to Priya Raman", "assigned to: Priya"."""
        name = self._called_names
        if not name:
            return None
        # A pager's table says it with a colon: "Escalated to:       Priya Raman (level 2)";
        # a help desk names the team first: "escalated to: Engineering - API (Priya Raman)".
        handed = rf"\b(?:{'|'.join(_HANDED_OVER)})[ \t]+to:?[ \t]+(?:[^\n(]{{0,60}}\()?"
        return re.compile(rf"{handed}(?:{name})\b")

    def assigned_to_owner(self, text: str) -> bool:
        """Whether lower-cased `text` hands work to the owner by name (an incident, a ticket)."""
        assigned = self._owner_assigned
        # Read for every message: most name no hand-over at all, looked for as plain text first.
        if assigned is None or not any(word in text for word in _HANDED_OVER):
            return False
        return bool(assigned.search(text))

    @functools.cached_property
    def _owner_handle(self) -> re.Pattern[str] | None:
        """An @-mention of the owner in a developer tool's words: "@priya-raman", "@priya"."""
        names = self._names_longest_first
        if not names:
            return None
        spelled = "|".join(r"[ ._-]?".join(map(re.escape, n.split())) for n in names)
        return re.compile(rf"(?<![\w@])@(?:{spelled})\b")

    def mentions_owner(self, text: str) -> bool:
        """Whether lower-cased `text` @-mentions the owner by a name she sends as."""
        handle = self._owner_handle
        return handle is not None and "@" in text and bool(handle.search(text))

    def turns_to_owner(self, text: str) -> bool:
        """Whether lower-cased `text` turns to the owner by name.

        A greeting at a line's start ("Hi Priya,", "2. Priya - ...") or an @-mention ("@Priya
        Raman"): in a mailing list's thread, or in mail to someone else with the owner on Cc, a
        word to them.
        """
        called = self._owner_called
        return bool(called and called.search(text))

    @functools.cached_property
    def _referred(self) -> re.Pattern[str] | None:
        """A writer saying a colleague of the owner's sent them.

        "Chloé said you are the right person", "sur les conseils de Chloé Martin", "thank you
        Chloé for the introduction".
        """
        # People's names only ("chloé martin", not "lumenhive it" nor "grafana"), and their
        # first names; the owner's own left out.
        labels = {domain.split(".")[0] for domain in self.owner_domains}
        people = [
            full
            for full in self.colleague_names
            if len(words := full.split()) in (2, 3)
            and all(_NAME_WORD.fullmatch(w) for w in words)
            and not (labels | _TEAM_WORDS) & set(words)
        ]
        names = {n for full in people for n in (full, full.split()[0])}
        names = {n for n in names - set(self._names_longest_first) if len(n) >= 3}
        if not names:
            return None
        name = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        return re.compile(
            rf"\bthanks?(?: you)?(?: so much)?,? (?:{name})\b[^.\n]{{0,25}}\bintro"
            rf"|\b(?:{name})\b[^.\n]{{0,30}}\b(?:introduced us|suggested (?:i|that i|we) "
            rf"(?:reach|contact|write|get in touch|e-?mail)|(?:said|told me|mentioned) (?:that )?"
            rf"you(?:.re| are| were| would be) the (?:right|best) (?:person|contact)|gave me your "
            rf"|m.a (?:donné|transmis|communiqué) (?:votre|vos)|(?:gaf|heeft) (?:me|mij) (?:je|uw) "
            rf"|hat mir (?:ihren|ihre|deinen|deine) "
            rf"|passed (?:me |on )?your|pointed me (?:to|towards) you|referred me)"
            rf"|\b(?:sur (?:les )?conseils? de|on (?:the )?(?:advice|suggestion|recommendation) of"
            rf"|at the suggestion of|auf (?:empfehlung|anraten) von|op (?:aanraden|advies) van"
            rf"|por (?:recomendación|sugerencia) de) (?:{name})\b"
            rf"|\b(?:{name})(?:.s) (?:suggestion|advice|recommendation)\b"
        )

    def referred_by_colleague(self, text: str) -> bool:
        """Whether lower-cased `text` says one of the owner's colleagues sent its writer."""
        referred = self._referred
        # The names' alternation is tried at every word of a long text: only where a word of
        # a referral is in it (a few plain searches, each far cheaper).
        if referred is None or not any(word in text for word in _REFERRAL_WORDS):
            return False
        return bool(referred.search(text))

    @functools.cached_property
    def _domain_mail(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for address, count in self.history.items():
            counts[base_domain(domain_of(address))] += count
        return counts

    def mail_from_domain(self, domain: str) -> int:
        """How many received messages came from this registrable domain."""
        return self._domain_mail[domain]

    def knows(self, address: str) -> bool:
        """Whether the owner has written to this address (or it answered the owner)."""
        return address.casefold().strip() in self.known_people

    def answers_owner(self, email: Email, *, by_domain: bool = False) -> bool:
        """Whether the message replies to a message of the owner's Sent folder.

        With `by_domain`, a reply to a Message-ID their company's mail server made counts too.
        That is a hint, not proof: anyone can write such an `In-Reply-To`, so it never
        makes a sender known (and so never quiets a phishing check).
        """
        refs = {email.in_reply_to, *email.references} - {""}
        if refs & self.sent_ids:
            return True
        domains = self.owner_domains if by_domain else frozenset()
        return bool(domains) and any(
            base_domain(ref.rsplit("@", 1)[-1].strip("<> ").casefold()) in domains
            for ref in refs
            if "@" in ref
        )


def infer_owner(emails: Sequence[Email], configured: Sequence[str] = ()) -> tuple[str, ...]:
    """The owner's addresses: configured, else the Sent folder's senders, else the top recipient."""
    if configured:
        return tuple(a.casefold().strip() for a in configured if a.strip())
    senders = Counter(e.from_addr.casefold() for e in emails if e.folder == SENT and e.from_addr)
    if senders:
        return tuple(address for address, _ in senders.most_common(3))
    received = Counter(a.casefold() for e in emails for a in {*e.to, *e.cc})
    if not received:
        return ()
    (top, count), *_ = received.most_common(1)
    return (top,) if count >= max(2, len(emails) // 4) else ()


def build_profile(emails: Iterable[Email], configured: Sequence[str] = ()) -> MailboxProfile:
    """The profile of the mailbox these messages come from."""
    mail = list(emails)
    owners = infer_owner(mail, configured)
    owner_set = set(owners)
    owner_domains = {base_domain(domain_of(a)) for a in owners} - FREE_MAIL
    sent = [e for e in mail if e.folder == SENT or e.from_addr.casefold() in owner_set]
    sent_keys = {id(e) for e in sent}
    known = {a.casefold() for e in sent for a in (*e.to, *e.cc)} - owner_set
    written = frozenset(base_domain(domain_of(a)) for a in known) - FREE_MAIL
    sent_ids = frozenset(e.message_id for e in sent if e.message_id)
    received = [e for e in mail if id(e) not in sent_keys]
    for email in received:
        if {email.in_reply_to, *email.references} & sent_ids and email.from_addr:
            known.add(email.from_addr.casefold())
    colleague_names = {
        e.from_name.casefold().strip()
        for e in received
        if e.from_name and base_domain(domain_of(e.from_addr.casefold())) in owner_domains
    }
    owner_names = {
        e.from_name.casefold().strip()
        for e in sent
        if e.from_name and e.from_addr.casefold() in owner_set
    }
    return MailboxProfile(
        owner_addresses=owners,
        owner_names=frozenset(owner_names),
        known_people=frozenset(known),
        known_domains=frozenset(base_domain(domain_of(a)) for a in known) - FREE_MAIL,
        written_domains=written,
        colleague_names=frozenset(n for n in colleague_names if len(n) >= 4),
        sent_ids=sent_ids,
        history=Counter(e.from_addr.casefold() for e in received if e.from_addr),
        sending_domains=frozenset(
            base_domain(domain_of(e.from_addr.casefold())) for e in received if e.from_addr
        ),
    )


def replace_owner(profile: MailboxProfile | None, owners: Sequence[str]) -> MailboxProfile:
    """The profile with these owner addresses (a bare profile when there is none)."""
    addresses = tuple(a.casefold().strip() for a in owners if a.strip())
    if profile is None:
        return MailboxProfile(owner_addresses=addresses)
    return dataclasses.replace(profile, owner_addresses=addresses)
