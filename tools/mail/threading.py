"""Mail threaded the way mail clients do it (JWZ), plus the provider's own threads where given.

One container per Message-ID; parents come from `References` (all of them, in order), then
`In-Reply-To`; a message referred to but not in the mailbox is an empty container that still
holds its replies together; a link that would close a loop is not made. Then two careful rules:
a thread id from the provider (Gmail `threadId`, Microsoft 365 `conversationId`) decides the
conversation of every message that carries one, and messages with the same subject (reply
prefixes removed) join when they share a participant other than the user. Pure and close to
linear: the caller reads the mailbox and passes the messages in.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from types import MappingProxyType

from tools.mail.model import Email

_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|wg|sv|tr|antw|rif|res|enc|vs)\s*(?:\[\d+\])?\s*[:：]\s*)+", re.I
)


def without_reply_prefix(subject: str) -> str:
    """The subject as its conversation started it: no "Re:", "AW:" or "Fwd:" in front."""
    return _REPLY_PREFIX.sub("", subject or "").strip()


def normalised_subject(subject: str) -> str:
    """The subject without reply and forward prefixes, spaces collapsed, case folded."""
    return " ".join(without_reply_prefix(subject).split()).casefold()


def sent_at(email: Email) -> datetime:
    """The message's date as an aware instant (the oldest possible when it has none)."""
    try:
        value = datetime.fromisoformat(email.date)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def sent_instant(email: Email) -> int:
    """`sent_at` as microseconds since 1970: the same order, in one small int.

    A sort key of a whole inbox: an aware date read from text is three objects (the date, its
    offset and the offset's time zone), and every key is held until the sort ends.
    """
    return (sent_at(email) - _EPOCH) // _MICROSECOND


NO_PARENTS: Mapping[str, str] = MappingProxyType({})
"""The `parents` of every thread where no message answers another: most of a large mailbox's
threads are one message, and one shared empty map is not one dict each."""


@dataclass(frozen=True, slots=True)
class Thread:
    """The messages of one conversation, in the order they were sent, and who answers whom.

    Slotted: a whole inbox is threaded at once, tens of thousands of these.
    """

    emails: tuple[Email, ...]
    parents: Mapping[str, str]
    """Message id → id of the message of this thread it answers, by its headers (the nearest
    one up the chain that is in the mailbox); messages that start the thread are not keys."""


class _UnionFind:
    """Disjoint sets over strings, with path halving: near-constant time per operation."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        parent = self.parent
        parent.setdefault(item, item)
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def join(self, a: str, b: str) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[root_b] = root_a


class _Containers:
    """The JWZ containers: one per Message-ID seen, a message in it or not, and its parent."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.message: dict[str, Email] = {}
        # Which containers may be in one tree: a superset (a re-parented container keeps its old
        # set), so "different sets" proves a link closes no loop without walking up the tree.
        self._reach = _UnionFind()

    def placed(self) -> None:
        """Every message is placed: the loop check's sets are not needed any more."""
        self._reach = _UnionFind()

    def link(self, child: str, parent: str) -> bool:
        """Make `parent` the parent of `child` unless that closes a loop; whether it did."""
        if child == parent:
            return False
        if self._reach.find(child) == self._reach.find(parent) and self._above(child, parent):
            return False
        self.parent[child] = parent
        self._reach.join(parent, child)
        return True

    def _above(self, ancestor: str, node: str) -> bool:
        """Whether `ancestor` is `node` or one of its ancestors (the tree has no loop)."""
        current: str | None = node
        while current is not None:
            if current == ancestor:
                return True
            current = self.parent.get(current)
        return False

    def place(self, email: Email) -> str:
        """Put `email` in its container and link it to the messages it names; its key."""
        mid = email.reply_reference or email.id
        holder = self.message.get(mid)
        if holder is None:
            key = mid
        else:  # a duplicate Message-ID: the first holder keeps the id
            key = email.id if email.id not in self.message else f"{email.id}#{len(self.message)}"
        self.message[key] = email
        if holder is not None and _same_message(holder, email):
            self.link(key, mid)  # another copy of one message (INBOX and Sent, say)
            return key
        chain = _parent_chain(email, mid)
        for parent, child in pairwise(chain):
            if child not in self.parent:
                self.link(child, parent)
        if chain and self.parent.get(key) != chain[-1]:
            # Its own headers say who its parent is, over what other messages' References said.
            old = self.parent.pop(key, None)
            if not self.link(key, chain[-1]) and old is not None:
                self.parent[key] = old
        return key


def _same_message(first: Email, second: Email) -> bool:
    """Whether two messages with one Message-ID are copies of one message, not a false claim."""
    if first.digest and first.digest == second.digest:
        return True
    return bool(first.from_addr) and first.from_addr == second.from_addr


def _parent_chain(email: Email, own_id: str) -> list[str]:
    """The ids `email` names as its ancestors, oldest first, In-Reply-To last, each once."""
    chain = [ref for ref in email.references if ref]
    if email.in_reply_to and (not chain or chain[-1] != email.in_reply_to):
        chain.append(email.in_reply_to)
    # An id named twice keeps its last place (the nearer one); a message is not its own parent.
    last = {ref: n for n, ref in enumerate(chain)}
    return [ref for n, ref in enumerate(chain) if last[ref] == n and ref != own_id]


def _people(email: Email) -> set[str]:
    return {a for a in (email.from_addr, email.reply_to, *email.to, *email.cc) if a}


def thread_messages(emails: Iterable[Email], own: Collection[str] = ()) -> list[Thread]:
    """Thread `emails` (unreadable ones left out) into conversations, each oldest first.

    `own` are the user's addresses: sharing only the user (every mail of the inbox does)
    does not make two same-subject messages one conversation. In an inbox of several accounts
    each account's mail is threaded on its own: a conversation belongs to one account, the one
    its replies go out from.
    """
    by_account: dict[str, list[Email]] = {}
    for email in emails:
        by_account.setdefault(email.account, []).append(email)
    if len(by_account) > 1:
        return [t for part in by_account.values() for t in _thread_account(part, own)]
    return _thread_account(next(iter(by_account.values()), []), own)


def _thread_account(emails: Iterable[Email], own: Collection[str]) -> list[Thread]:
    # The message the mail cache gave a Message-ID to (the first to arrive) holds that id here
    # too; then oldest first, as the messages were written. Each date is parsed once.
    dated = sorted(((sent_instant(e), e) for e in emails if not e.error), key=_arrival_order)
    mail = [email for _, email in dated]
    containers = _Containers()
    keys = [containers.place(email) for email in mail]
    containers.placed()
    # Oldest first within each conversation (the copies and claims sorted last come back in).
    # Only that order is kept of the dates, let go before the tables below are made.
    oldest_first = [key for _, key in sorted(zip((when for when, _ in dated), keys, strict=True))]
    del dated
    members = _members(containers, keys, mail, own, oldest_first)
    del oldest_first
    nearest = _NearestMessage(containers)
    threads = []
    # Each conversation's list of keys is let go once its thread is made.
    for root in list(members):
        group = members.pop(root)
        inside = set(group)
        parents = {}
        for key in group:
            above = nearest.above(key)
            if above in inside:
                parents[containers.message[key].id] = containers.message[above].id
        emails_of = tuple(containers.message[key] for key in group)
        threads.append(Thread(emails_of, parents or NO_PARENTS))
    return threads


def _members(
    containers: _Containers,
    keys: Sequence[str],
    mail: Sequence[Email],
    own: Collection[str],
    oldest_first: Iterable[str],
) -> dict[str, list[str]]:
    """The container keys of each conversation, oldest first, by the key of one of them.

    The joins' own tables are let go when this returns, before the threads are made.
    """
    groups = _UnionFind()
    for child, parent in containers.parent.items():
        email = containers.message.get(child)
        if email is None or not email.thread_id:  # the provider placed its own messages
            groups.join(parent, child)
    first_of_thread: dict[tuple[str, str], str] = {}
    for key, email in zip(keys, mail, strict=True):
        if email.thread_id:
            groups.join(first_of_thread.setdefault((email.source, email.thread_id), key), key)
    _join_by_subject(groups, keys, mail, own)
    members: dict[str, list[str]] = {}
    for key in oldest_first:
        members.setdefault(groups.find(key), []).append(key)
    return members


def _arrival_order(pair: tuple[int, Email]) -> tuple[bool, int, str]:
    """Messages holding their own Message-ID first, then the copies and claims; oldest first."""
    when, email = pair
    return (email.id != (email.reply_reference or email.id), when, email.id)


def _join_by_subject(
    groups: _UnionFind, keys: Sequence[str], mail: Sequence[Email], own: Collection[str]
) -> None:
    """Join conversations with the same subject that share a sender or another participant.

    Not conversations the provider threaded: its answer stands. Each message is matched
    through its participants, not against every other message of the subject, so a subject
    a thousand newsletters share costs a thousand steps, not a million.
    """
    provider = {groups.find(key) for key, email in zip(keys, mail, strict=True) if email.thread_id}
    provider_threaded = bool(provider)
    mine = {a.lower() for a in own}
    # A subject only one message has joins nothing: only those of two or more are matched, so
    # a large mailbox of distinct subjects keeps no mark of their participants. Counted by hash:
    # a collision only matches a subject that had no need to be, and changes no answer.
    counts = Counter(hash(normalised_subject(email.subject)) for email in mail)
    seen: dict[tuple[str, str, str], str] = {}
    for key, email in zip(keys, mail, strict=True):
        subject = normalised_subject(email.subject)
        if not subject or counts[hash(subject)] < 2:
            continue
        if provider_threaded and groups.find(key) in provider:
            continue
        marks = [("from", email.from_addr)]
        marks += [("person", person) for person in _people(email) - mine]
        for kind, value in marks:
            other = seen.setdefault((subject, kind, value), key)
            if other != key:
                groups.join(other, key)


class _NearestMessage:
    """The nearest container above one that holds a message, remembered for empty ones."""

    def __init__(self, containers: _Containers) -> None:
        self._containers = containers
        self._known: dict[str, str | None] = {}

    def above(self, key: str) -> str | None:
        """The key of the nearest ancestor of `key` that holds a message, or None."""
        parent, message = self._containers.parent, self._containers.message
        path: list[str] = []
        current = parent.get(key)
        found: str | None = None
        while current is not None:
            if current in message:
                found = current
                break
            if current in self._known:
                found = self._known[current]
                break
            path.append(current)
            current = parent.get(current)
        for empty in path:
            self._known[empty] = found
        return found


def by_date(threads: Sequence[Thread]) -> list[Thread]:
    """The threads newest first (by their newest message; each is oldest first already)."""
    return sorted(threads, key=lambda t: sent_instant(t.emails[-1]), reverse=True)
