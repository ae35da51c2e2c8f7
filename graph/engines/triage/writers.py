"""Who wrote a message: a person or a program, to the owner or to many, known or not.

The decision (`decision.py`) turns on it as much as on the words: the same "please confirm"
asks the owner from a colleague, and every subscriber from a mailing. Read from the headers,
the sender's address and the mailbox's profile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graph.engines.triage.profile import MailboxProfile
from graph.engines.triage.reading import header, visible_body
from graph.engines.triage.rulebook import RuleBook
from graph.engines.triage.senders import base_domain, domain_of
from tools.language.addresses import ADDRESS
from tools.mail.model import Email

_ROBOT_FLAGS = frozenset({"automated", "tool", "shop_sender"})
_BULK_FLAGS = frozenset({"bulk", "template_footer", "outreach_tool"})
"""Not `mass_sender`: people write from info@ and events@ too; headers and footers tell."""
_FORWARD_PREFIXES = ("fw:", "fwd:", "fw :", "fwd :", "wg:", "tr:", "doorst:", "vs:", "rv:")
PAID_BY_ITSELF = frozenset({"receipt", "auto_payment"})
"""Paid already, or to be taken without the reader (a direct debit, the card on file)."""
_BULK_PRECEDENCE_RE = re.compile(r"\b(bulk|list|junk)\b")
_STAND_IN_CHARS = 4000
"""The start of an automatic reply searched for a stand-in's address."""


@dataclass(frozen=True)
class Writer:
    """Who wrote a message, as far as its headers and the owner's mail tell."""

    robot: bool
    """Sent by a program: automated headers or sender, a developer tool, a shop."""
    bulk: bool
    """Sent to many: list headers, a bulk mailer, an unsubscribe footer."""
    known: bool
    """A colleague, someone the owner has written to, or an answer to the owner's mail."""
    direct: bool
    """The owner is in `To` (not only Cc or a list); true when the owner is unknown."""
    answers_owner: bool = False
    """It replies to a message the owner sent (on a mailing list too)."""
    known_org: bool = False
    """It comes from the domain of someone the owner writes to (a customer, a partner, a school)."""
    blind: bool = False
    """The owner is in neither `To` nor `Cc`: a blind copy, as each of a group gets it (a party
    invitation, a teacher writing to the parents)."""
    group_list: bool = False
    """Sent to a group's own list: a `List-Id` without an unsubscribe link (a club, a class, a
    team), which marketing mail must carry."""
    unsubscribe: bool = False
    """It carries a `List-Unsubscribe` header: sent to a list of subscribers."""
    marketing: bool = False
    """Sent to a marketing list: a one-click unsubscribe (`List-Unsubscribe-Post`) with
    `Precedence: bulk`, what bulk senders add to mail sent to a whole list of subscribers."""
    to_owner: bool = False
    """The owner is in `To` itself (`direct` counts an answer to the owner's mail on Cc too)."""

    @property
    def person(self) -> bool:
        """A human writing: not a program, and not a mass mailing unless it answers the owner."""
        return not self.robot and (not self.bulk or self.answers_owner)


def is_auto_reply(email: Email, flags: set[str]) -> bool:
    """An out-of-office or other automatic answer.

    Not a person's answer to one: "Re: Automatic reply: recording of your talk".
    """
    submitted = header(email, "Auto-Submitted").casefold()
    answered = (email.subject or "").casefold().lstrip().startswith(REPLY_PREFIXES)
    return (
        ("auto_reply" in flags and not answered)
        or "auto-replied" in submitted
        or bool(header(email, "X-Autoreply") or header(email, "X-Autorespond"))
    )


def names_a_stand_in(email: Email) -> bool:
    """Whether an automatic reply gives another address to write to ("please contact …")."""
    sender = (email.from_addr or "").casefold()
    text = visible_body((email.body or "")[:_STAND_IN_CHARS])
    return any(a.casefold().rstrip(".") != sender for a in ADDRESS.findall(text))


def is_bounce(email: Email, flags: set[str]) -> bool:
    """A delivery failure report."""
    sender = (email.from_addr or "").casefold()
    return (
        "bounce" in flags
        or sender.startswith(("mailer-daemon@", "postmaster@"))
        or bool(header(email, "X-Failed-Recipients"))
    )


def says_it_is_a_program(email: Email, flags: set[str]) -> bool:
    """A program's own headers or address (`Auto-Submitted`, a no-reply or tool sender, a shop).

    Not the envelope alone: cold outreach is sent by mailing systems too, yet it is a pitch.
    """
    submitted = header(email, "Auto-Submitted").casefold()
    return bool(flags & _ROBOT_FLAGS) or (bool(submitted) and submitted != "no")


def is_forward(email: Email) -> bool:
    """A message passing on another one ("Fwd:", "WG:", "TR:", "Doorst:")."""
    subject = (email.subject or "").casefold().lstrip()
    return subject.startswith(_FORWARD_PREFIXES)


def read_writer(email: Email, profile: MailboxProfile, flags: set[str]) -> Writer:
    """Who wrote this message: a robot, a mass mailing, someone known, to the owner directly."""
    robot = says_it_is_a_program(email, flags)
    bulk = bool(flags & _BULK_FLAGS) or bool(header(email, "List-Id"))
    sender = (email.from_addr or "").casefold()
    answers = profile.answers_owner(email, by_domain=True)
    known = "colleague" in flags or profile.knows(sender) or profile.answers_owner(email)
    if "mass_envelope" in flags and not known:
        robot = True  # a sending system's envelope; someone the owner knows may use one too
    paid = bool(flags & PAID_BY_ITSELF)
    if "billing_sender" in flags and paid and not known and "request" not in flags:
        robot = True  # billing@'s receipt or direct debit is a system's; a person asking is not
    if "automated_text" in flags and not known and not is_forward(email):
        robot = True  # "this is an automated message": said of itself, not of mail it carries
    owners = set(profile.owner_addresses)
    to_owner = any(a.casefold() in owners for a in email.to)
    direct = answers or not owners or to_owner
    org = base_domain(domain_of(sender)) in profile.known_domains
    group = bool(header(email, "List-Id")) and (
        not header(email, "List-Unsubscribe") or (_discussion_list(email) and not to_owner)
    )
    blind = bool(owners) and not any(a.casefold() in owners for a in (*email.to, *email.cc))
    marketing = bool(header(email, "List-Unsubscribe-Post")) and bool(
        _BULK_PRECEDENCE_RE.search(header(email, "Precedence").casefold())
    )
    unsubscribe = bool(header(email, "List-Unsubscribe"))
    return Writer(
        robot, bulk, known, direct, answers, org, blind, group, unsubscribe, marketing, to_owner
    )


def _discussion_list(email: Email) -> bool:
    """A discussion list's post (Google Groups, Mailman).

    `Precedence: list` and no marketing one-click unsubscribe; the caller checks that it is
    addressed to the list, as a post is, not to each reader, as a newsletter is.
    """
    return header(email, "Precedence").casefold().strip() == "list" and not header(
        email, "List-Unsubscribe-Post"
    )


REPLY_PREFIXES = ("re:", "re :", "aw:")


def pretends_a_thread(email: Email, *, forwards: bool = True) -> bool:
    """A subject that answers (or, with `forwards`, passes on) a message with no thread behind it.

    Many mail programs send a forward without `In-Reply-To`, so only a reply says for sure.
    """
    subject = (email.subject or "").casefold().lstrip()
    prefixes = REPLY_PREFIXES + (("fw:", "fwd:") if forwards else ())
    return subject.startswith(prefixes) and not (email.in_reply_to or email.references)


def sent_as_a_sequence(email: Email, writer: Writer) -> bool:
    """A stranger's one-to-one mail sent by a sales-sequencing tool, its unsubscribe link added.

    From a person's own address ("Ryan Cole <ryan.cole@...>": the local part starts with the
    first name), to the owner alone, with `List-Unsubscribe` but no `List-Id`: one person's
    mail to one reader, not a newsletter, though the tool makes it look like a mailing.
    """
    if not writer.unsubscribe or writer.known or not writer.to_owner or header(email, "List-Id"):
        return False
    if len(email.to) + len(email.cc) != 1:
        return False
    names = (email.from_name or "").casefold().split()
    local = (email.from_addr or "").casefold().partition("@")[0]
    return len(names) >= 2 and len(names[0]) >= 3 and local.startswith(names[0])


def answers_in_thread(email: Email, profile: MailboxProfile) -> bool:
    """A reply ("Re:") to a message the owner sent, her subject kept."""
    subject = (email.subject or "").casefold().lstrip()
    return subject.startswith(REPLY_PREFIXES) and profile.answers_owner(email, by_domain=True)


def to_private_address(email: Email, profile: MailboxProfile, rules: RuleBook) -> bool:
    """Whether the message is written to one of the owner's free-mail (private) addresses."""
    private = {
        owner
        for owner in profile.owner_addresses
        if any(r.flag == "freemail" and r.pattern.search(owner) for r in rules.senders)
    }
    return any(a.casefold() in private for a in (*email.to, *email.cc))


PITCH_SIGNS = frozenset({"pitch_offer", "pitch_call", "cold_line", "outreach_tool", "pitch_hint"})
"""The ways a stranger's mail pitches (`decision.looks_cold` counts them)."""
_PITCHING = PITCH_SIGNS | {"pitch_bump"}
"""A stranger's words that would make their mail cold: only then is a referral looked for."""
_NOT_TALK = frozenset({"payment_failed", "amount_due", "billing_claim", "digest"})
"""A tool's bill or digest, which names the owner's handle without anyone talking to her."""


def owner_named(
    profile: MailboxProfile, flags: set[str], text: str, writer: Writer, listed: bool
) -> None:
    """Flag the owner named in the lower-cased words `text`.

    Turned to on a list, @-mentioned in a developer tool, handed work, asked to RSVP (in mail
    written to her), or put down on a rota, or turned to on a help desk's ticket; and a stranger
    sent to her by a colleague.
    """
    # On a list, or on Cc of a person's mail to someone else: "@Priya Raman - any chance you
    # could share ...?", "Priya - could you confirm to Henrik ...?"
    aside = listed or not (writer.direct or writer.blind)
    if aside and not writer.robot and not writer.marketing and profile.turns_to_owner(text):
        flags.add("turns_to_owner")
    # A developer tool relaying a colleague's "@priya-raman can you sign off?"; not its bill's
    # or its digest's "Hi @priyaraman".
    tool = writer.robot and "tool" in flags and not flags & _NOT_TALK
    if tool and profile.mentions_owner(text):
        flags.add("relayed_person")
    if "help_desk" in flags and profile.turns_to_owner(text):
        flags.add("relayed_person")  # a customer on a ticket: "Priya, I'm adding you directly"
    if profile.assigned_to_owner(text):  # "TRIGGERED #8821 ... escalated to Priya Raman"
        flags.add("action_required")
    if "rsvp" in flags and writer.to_owner:
        flags.add("action_required")  # asked for her own answer, not a whole company's
    if not writer.known and flags & _PITCHING and profile.referred_by_colleague(text):
        flags.add("referred")  # "Chloé said you are the right person": sent by a colleague
    if profile.on_rota(text):  # "Rijders: fam. Bakker, fam. De Vries/Raman"
        flags.update(("rostered", "turns_to_owner") if listed else ("rostered",))
