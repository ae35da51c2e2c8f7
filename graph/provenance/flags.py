"""Flags: each value a call would use that did not come from the user, with where it came from.

A call is looked at whole: its arguments (every one, whatever its name), the recipients the
mail server will really be given (what a reply or a reply-all adds included), and what the
call copies out of a mail it names by id (a ticket, a post, a CRM record).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypedDict

from graph.provenance.addresses import canonical_address, domain_of
from graph.provenance.domains import domain_doubt
from graph.provenance.trust import NOT_YOURS, Trust
from graph.provenance.values import Value, sensitive_values, token_key, values_in_text
from graph.state import Evidence
from tools.language.dates import WEEKDAY_NAMES


class Flag(TypedDict):
    """One untrusted value of a call."""

    arg: str
    """Where: an argument path (`to`, `to[1]`), or what a mail adds (`reply_all (Cc)`)."""
    kind: str
    """address, url, phone, code, number, account, amount, channel, chat, ticket, id or message."""
    value: str
    seen_in: str
    """Where the value was seen: `msg:<id>`, an evidence id, or empty when nowhere."""
    reason: str


@dataclass(frozen=True)
class SourceMail:
    """A message of the mailbox that a call names by id, as far as provenance needs it."""

    id: str
    from_addr: str
    from_name: str = ""
    reply_to: str = ""
    subject: str = ""
    text: str = ""
    """The sender's own words."""
    label: str = ""
    """The triage's words when it took the message for spam or a scam, else ''."""
    chosen: bool = False
    """The user pointed to this message (see `user_chose`)."""

    @property
    def recipient(self) -> str:
        """Where a reply goes: Reply-To when set, else the sender."""
        return self.reply_to or self.from_addr

    @cached_property
    def values(self) -> frozenset[str]:
        """Keys of every sensitive value the message holds (headers and words)."""
        texts = (self.from_addr, self.reply_to, self.subject, self.text)
        return frozenset(v.key for t in texts for v in values_in_text("", t))


@dataclass(frozen=True)
class CallView:
    """A proposed call as the approval step worked it out."""

    args: Mapping[str, Any]
    mails: Mapping[str, SourceMail] = field(default_factory=dict)
    """Messages of the mailbox the arguments name by id."""
    by_code: bool = False
    """Proposed by the product's own code (triage, events, follow-up detection), not an engine:
    the ids in it are ones the product made."""
    answers: tuple[str, str] = ("", "")
    """(argument, message id) when the tool itself addresses the message's sender (a reply)."""
    recipients: tuple[Value, ...] = ()
    """Recipients the mail server will be given beyond the arguments (a reply-all's Cc)."""
    written: tuple[tuple[str, str, bool], ...] = ()
    """(label, text, destination) of what the call writes beyond its arguments: a ticket's
    description, or a field naming where it goes (a CRM contact's address)."""
    opaque: bool = False
    """What the tool does with a message it names is unknown (an MCP tool): all of it may go."""


# -- which message the user chose -----------------------------------------------------------

REFERRING = re.compile(
    r"\b(?:from|to|with|for|by|of|cc|invite|tell|ask|answer|thank|email|mail|ping|meet|call)"
    r"\s+(?P<who>[^\W\d_][\w'’.-]*)|(?P<own>\b[^\W\d_][\w-]*)['’]s\b",
    re.IGNORECASE,
)
NOT_NAMES = frozenset(
    """the a an me my mine us our you your him her his them their it its this that these those
    all everyone everybody someone somebody anyone nobody each every any some what which who
    today tomorrow yesterday week month now later here there slack teams jira hubspot crm
    salesforce calendar inbox mail email""".split()
) | frozenset(WEEKDAY_NAMES)
NAME_WORD = re.compile(r"[^\W\d_]{2,}")

COPIED_KINDS = frozenset({"address", "url", "code", "account", "phone", "number"})
"""What a call must not copy out of a mail unseen: where to write or click, and secrets."""

SendersNamed = Callable[[str], frozenset[str]]
"""Every sender address in the mailbox that goes by a name word (canonical addresses)."""


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def names_typed(texts: Iterable[str]) -> frozenset[str]:
    """Names the user refers to someone by: `from Sofia`, `reply to Bob`, `Ana's request`."""
    found: set[str] = set()
    for text in texts:
        for match in REFERRING.finditer(text):
            word = _fold(match.group("who") or match.group("own") or "")
            word = re.sub(r"['’]s$", "", word).strip(".'’-")
            if word and word not in NOT_NAMES and NAME_WORD.fullmatch(word):
                found.add(word)
    return frozenset(found)


def sender_words(from_name: str, from_addr: str) -> frozenset[str]:
    """The words a sender goes by: their display name's and their address's local part's."""
    local = from_addr.rpartition("@")[0]
    return frozenset(NAME_WORD.findall(_fold(from_name))) | frozenset(
        NAME_WORD.findall(_fold(local))
    )


def user_chose(
    mail: SourceMail,
    trust: Trust,
    focus: Iterable[str] = (),
    senders_named: SendersNamed | None = None,
) -> bool:
    """Whether the user pointed to this message by an exact reference.

    Exact references: an id follow-up detection resolved from the user's words against the
    messages they were shown (`focus`), the message's id or its sender's address typed by the
    user, or a name the user used for someone (`from Sofia`) that exactly one sender address
    of the whole mailbox goes by, as a whole word of its display name or address. A name two
    addresses share (the real Bob and a lookalike) refers to neither; a word the user merely
    happened to type (`what needs my attention`) refers to nobody; a lookalike of a trusted
    domain is never chosen by name.
    """
    if mail.id in set(focus) or trust.typed_token(mail.id):
        return True
    address = canonical_address(mail.from_addr)
    if not address or domain_doubt(domain_of(address), trust.protected):
        return False
    if ("address", address) in trust.typed:
        return True
    if senders_named is None:
        return False
    words = names_typed(trust.user_texts) & sender_words(mail.from_name, mail.from_addr)
    return any(senders_named(word) == frozenset({address}) for word in sorted(words))


# -- flags ----------------------------------------------------------------------------------


def seen_in(value: str, evidence: Iterable[Evidence], mails: Iterable[SourceMail] = ()) -> str:
    """The message or tool result that shows this value (newest first), or '' when none does."""
    folded = value.casefold()
    for mail in mails:
        if any(
            folded in t.casefold() for t in (mail.text, mail.from_addr, mail.reply_to, mail.subject)
        ):
            return f"msg:{mail.id}"
    for record in reversed(list(evidence)):
        for message in record["messages"]:
            fields = (message["text"], message["sender"], message["subject"])
            if any(folded in f.casefold() for f in (*fields, message.get("reply_to", ""))):
                return f"msg:{message['id']}"
        if folded in record["content"].casefold():
            return f"{record['id']} ({record['tool']})"
    return ""


def _flag(value: Value, reason: str, where: str) -> Flag:
    return {
        "arg": value.arg,
        "kind": value.kind,
        "value": value.value,
        "seen_in": where,
        "reason": reason,
    }


def _argument_reason(value: Value, doubt: str, where: str) -> str:
    reason = f"this {value.kind} in `{value.arg}`: {doubt}"
    if doubt == NOT_YOURS:
        reason += f"; it was seen in {where}" if where else "; the engine supplied it"
    return reason


def _message_flag(value: Value, mail: SourceMail) -> Flag:
    reason = (
        f"you did not point to this message (msg:{mail.id}); the engine chose it, and the "
        "call uses what it says"
    )
    if mail.label:
        reason += f"; the triage took it for {mail.label}"
    return _flag(Value(value.arg, "message", value.value), reason, f"msg:{mail.id}")


def reply_flags(arg: str, target: SourceMail, trust: Trust) -> list[Flag]:
    """Flags for a reply whose recipient the tool takes from the message itself.

    Replying to a message the user chose is not flagged, unless its sender's domain is a
    lookalike. A `Reply-To` that differs from the sender is, unless the user trusts it.
    """
    flags: list[Flag] = []
    where = f"msg:{target.id}"
    recipient = Value(arg, "address", target.recipient)
    doubt = trust.doubt(recipient)
    if doubt and (not target.chosen or doubt != NOT_YOURS):
        # A message the user chose is theirs to answer, unless its sender is a lookalike.
        reason = "the reply goes to the sender of a message you did not point to"
        if target.chosen:
            reason = "the reply goes to the sender of the message you pointed to"
        if doubt != NOT_YOURS:
            reason += f"; {doubt}"
        flags.append(_flag(recipient, reason, where))
    differs = target.reply_to and canonical_address(target.reply_to) != canonical_address(
        target.from_addr
    )
    if differs and trust.doubt(Value(arg, "address", target.reply_to)):
        flags.append(
            _flag(
                Value(arg, "address", target.reply_to),
                f"the message's Reply-To ({target.reply_to}) differs from its sender "
                f"({target.from_addr}): the reply would go to {target.reply_to}",
                where,
            )
        )
    return flags


def _mail_named(value: Value, mails: Mapping[str, SourceMail]) -> SourceMail | None:
    if value.kind in ("address", "url") or value.malformed:
        return None
    key = token_key(value.value)
    return next((m for i, m in mails.items() if token_key(i) == key), None)


def _chosen_senders(view: CallView, trust: Trust) -> set[str]:
    """Senders of the messages the user chose: theirs to answer, invite or add, one call long.

    Never a lookalike of a trusted domain, even one the user chose.
    """
    found = {canonical_address(m.from_addr) for m in view.mails.values() if m.chosen}
    return {a for a in found if a and not domain_doubt(domain_of(a), trust.protected)}


def _value_flag(
    value: Value, view: CallView, trust: Trust, evidence: Sequence[Evidence]
) -> Flag | None:
    """The flag of one argument or recipient, or None when it is the user's."""
    mail = _mail_named(value, view.mails)
    if mail is not None:
        trusted = mail.chosen or view.by_code or mail.id == view.answers[1]
        return None if trusted else _message_flag(value, mail)
    doubt = trust.doubt(value)
    if not doubt:
        return None
    where = seen_in(value.value, evidence, view.mails.values())
    return _flag(value, _argument_reason(value, doubt, where), where)


def _copied_flag(
    view: CallView, trust: Trust, value: Value, mail: SourceMail, label: str
) -> Flag | None:
    """The flag of a value the call copies out of a message, or None when it is the user's."""
    doubt = trust.doubt(value)
    if not doubt:
        return None
    reason = f"copied from msg:{mail.id} into {label}: {doubt}"
    if view.opaque:
        reason = f"the tool is given msg:{mail.id} and may copy this from it: {doubt}"
    return _flag(value, reason, f"msg:{mail.id}")


def call_flags(view: CallView, trust: Trust, evidence: Sequence[Evidence]) -> list[Flag]:
    """A flag for each value the call would use that the user did not supply."""
    local = trust.with_addresses(_chosen_senders(view, trust))
    found: list[Flag | None] = []
    checked: set[str] = set()
    brought: dict[str, str] = {}  # the argument that names each message
    for value in sensitive_values(view.args):
        checked.add(value.key)
        mail = _mail_named(value, view.mails)
        if mail is not None:
            brought.setdefault(mail.id, value.arg)
        found.append(_value_flag(value, view, local, evidence))
    for value in view.recipients:
        if value.key not in checked:
            checked.add(value.key)
            found.append(_value_flag(value, view, local, evidence))
    arg, answered = view.answers
    if answered in view.mails:
        found += reply_flags(arg, view.mails[answered], local)
    for value, mail, label, destination in _copied(view, checked):
        if value.key == canonical_address(mail.from_addr) and not destination:
            continue  # who sent the mail, said about the mail: not a value taken from it
        moved = Value(brought.get(mail.id, label), value.kind, value.value)
        found.append(_copied_flag(view, local, moved, mail, label))
    flags: dict[tuple[str, str, str], Flag] = {}
    for flag in filter(None, found):
        key = Value(flag["arg"], flag["kind"], flag["value"]).key
        flags.setdefault((flag["arg"], flag["kind"], key), flag)
    return list(flags.values())


def _copied(view: CallView, checked: set[str]) -> list[tuple[Value, SourceMail, str, bool]]:
    """Values the call writes that come from a message it names, with the message."""
    written = list(view.written)
    if view.opaque:
        written += [
            (f"msg:{m.id}", "\n".join(filter(None, (m.reply_to, m.subject, m.text))), True)
            for m in view.mails.values()
        ]
    ids = {token_key(i) for i in view.mails}
    found: list[tuple[Value, SourceMail, str, bool]] = []
    for label, text, destination in written:
        for value in values_in_text(label, text):
            if (
                value.kind not in COPIED_KINDS
                or value.key in checked
                or token_key(value.value) in ids
            ):
                continue
            mail = next((m for m in view.mails.values() if value.key in m.values), None)
            if mail is not None:
                checked.add(value.key)
                found.append((value, mail, label, destination))
    return found


def flags_for(args: dict[str, Any], trust: Trust, evidence: Iterable[Evidence]) -> list[Flag]:
    """A flag for each value of the arguments alone that the user did not supply."""
    return call_flags(CallView(args=args), trust, list(evidence))
