"""Threading and reply tracking of a large mailbox with realistic threads: time and peak memory.

Builds `--n` messages (10,000 by default) in memory, as the mail cache hands them to the tools:
newsletters that reuse one subject week after week, tool notifications that thread under an
issue the mailbox never had, and conversations between the user and a few people whose sizes
follow a long tail (most a handful of messages, a few over fifty), with the user's replies in
Sent and the headers real clients write: full `References` mostly, some only `In-Reply-To`,
some trimmed `References`, a few none at all (threaded by subject). Then it times:

1. `group_conversations` (`tools.mail.threading`), the median of `--repeats` runs;
2. needs reply (`awaiting_reply`) and awaiting reply (`awaiting_their_reply`) over those
   conversations;
3. the same mailbox with each adversary added: a `References` of 5,000 ids, a ring of messages
   that name each other, 1,000 messages claiming one Message-ID, a 5,000-deep reply chain;
4. the Python heap peak of one threading run (tracemalloc) and the process's peak RSS.

Parsing is not in it (`bench.triage_throughput` measures fetch and parse): the input is
what `read_mailbox` gets from the cache. Run alone: `python -m bench.threading --n 2000`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import current_rss_mib, fmt_ms, log, max_rss_mib, table
from bench.mailgen import COMPANIES, FIRST, LAST, OWNER, WORDS
from tools.mail.conversations import awaiting_reply, group_conversations
from tools.mail.model import Email
from tools.mail.reply_tracking import awaiting_their_reply

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
LISTS = ("digest", "news", "updates", "weekly", "release-notes", "security-bulletin")
TOOLS = ("jira", "github", "ci", "calendar-noreply")
HEADER_STYLES = (("full", 80), ("in-reply-to only", 10), ("trimmed", 5), ("none", 5))
"""How a reply names its parent, and how often (percent)."""


class RealisticMailbox:
    """A deterministic generator of threaded mail as the cache holds it."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.emails: list[Email] = []
        self.kinds: Counter[str] = Counter()
        self.people = [
            f"{first.lower()}.{last.lower()}@{company}.example"
            for first, last, company in zip(
                self.rng.choices(FIRST, k=300),
                self.rng.choices(LAST, k=300),
                self.rng.choices(COMPANIES, k=300),
                strict=True,
            )
        ]

    def _words(self, n: int) -> str:
        return " ".join(self.rng.choices(WORDS, k=n))

    def _add(self, sender: str, when: datetime, **fields: Any) -> Email:
        number = len(self.emails)
        message_id = f"{number}.{self.rng.getrandbits(32):08x}@{sender.split('@')[1]}"
        email = Email(
            id=message_id,
            message_id=message_id,
            source="maildir:bench",
            folder="Sent" if sender == OWNER else "INBOX",
            key=str(number),
            from_addr=sender,
            date=when.isoformat(),
            **fields,
        )
        self.emails.append(email)
        return email

    def _start(self) -> datetime:
        return NOW - timedelta(minutes=self.rng.randrange(180 * 24 * 60))

    def newsletter(self) -> None:
        name = self.rng.choice(LISTS)
        sender = f"{name}@{self.rng.choice(COMPANIES[:4])}.example"
        self._add(
            sender,
            self._start(),
            to=(OWNER,),
            subject=f"Your {name} this week",  # the same subject every week
            headers={"List-Id": f"<{name}.list>", "List-Unsubscribe": "<mailto:u@x.example>"},
            body=self._words(60),
        )
        self.kinds["newsletter"] += 1

    def notification(self) -> None:
        tool = self.rng.choice(TOOLS)
        issue = self.rng.randrange(400)
        self._add(
            f"{tool}@acme.example",
            self._start(),
            to=(OWNER,),
            subject=f"[PROJ-{issue}] {self._words(4)}",
            # Like GitHub: every notification names the issue, which is never a message.
            references=(f"issue-{issue}@{tool}.acme.example",),
            headers={"Auto-Submitted": "auto-generated"},
            body=self._words(30),
        )
        self.kinds["notification"] += 1

    def conversation(self) -> None:
        size = min(80, int(self.rng.paretovariate(1.4)))
        others = self.rng.sample(self.people, self.rng.randint(1, 4))
        subject = self._words(self.rng.randint(2, 6)).capitalize()
        when = self._start()
        sender = self.rng.choice(others)
        root = self._add(
            sender, when, to=(OWNER, *others[1:]), subject=subject, body=self._question()
        )
        thread = [root]
        for _ in range(size - 1):
            parent = thread[-1] if self.rng.random() < 0.8 else self.rng.choice(thread)
            when += timedelta(minutes=self.rng.randrange(5, 3 * 24 * 60))
            sender = OWNER if self.rng.random() < 0.3 else self.rng.choice(others)
            thread.append(self._reply(sender, when, parent, others, subject))
        self.kinds["conversation"] += 1
        self.kinds["messages in conversations"] += size

    def _reply(
        self, sender: str, when: datetime, parent: Email, others: list[str], subject: str
    ) -> Email:
        chain = (*parent.references, parent.message_id)
        style = self.rng.choices(
            [s for s, _ in HEADER_STYLES], weights=[w for _, w in HEADER_STYLES]
        )[0]
        self.kinds[f"reply headers: {style}"] += 1
        headers: dict[str, Any] = {
            "full": {"in_reply_to": parent.message_id, "references": chain},
            "in-reply-to only": {"in_reply_to": parent.message_id},
            "trimmed": {"in_reply_to": parent.message_id, "references": chain[:1] + chain[-3:]},
            "none": {},
        }[style]
        recipients = tuple(a for a in (OWNER, *others) if a != sender)
        return self._add(
            sender, when, to=recipients, subject=f"Re: {subject}", body=self._question(), **headers
        )

    def _question(self) -> str:
        text = self._words(25).capitalize() + "."
        return text + " Can you review it by Friday?" if self.rng.random() < 0.4 else text

    def build(self, n: int) -> list[Email]:
        """At least `n` messages (a conversation is not cut), then exactly `n`."""
        makers = (self.newsletter, self.notification, self.conversation)
        while len(self.emails) < n:
            self.rng.choices(makers, weights=(25, 20, 55))[0]()
        return self.emails[:n]


def adversaries(base: Sequence[Email]) -> dict[str, list[Email]]:
    """The mailbox with each hostile shape added."""

    def hostile(mid: str, minute: int, **fields: Any) -> Email:
        values: dict[str, Any] = {
            "id": mid,
            "message_id": mid,
            "source": "maildir:bench",
            "folder": "INBOX",
            "key": mid,
            "from_addr": "x@hostile.example",
            "to": (OWNER,),
            "subject": "Re: hello",
            "date": (NOW + timedelta(minutes=minute)).isoformat(),
        }
        return Email(**(values | fields))

    real = base[len(base) // 2].message_id
    refs = tuple(f"r{n}@hostile.example" for n in range(5000))
    return {
        "`References` of 5,000 ids (twice, once reversed)": [
            hostile("long1", 0, references=refs),
            hostile("long2", 1, references=tuple(reversed(refs))),
        ],
        "a ring of 1,000 messages, each naming the next": [
            hostile(f"ring{n}", n, references=(f"ring{(n + 1) % 1000}",)) for n in range(1000)
        ],
        "1,000 messages claiming one real Message-ID": [
            hostile(f"{real}#{n}", n, message_id=real, references=(real,)) for n in range(1000)
        ],
        "a reply chain 5,000 deep": [
            hostile(f"deep{n}", n, in_reply_to=f"deep{n - 1}" if n else "") for n in range(5000)
        ],
    }


def _median_time(fn: Callable[[], Any], repeats: int) -> tuple[tuple[float, float], Any]:
    """(median, fastest) seconds of `repeats` runs, and the last run's value."""
    times, value = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - started)
    return (statistics.median(times), min(times)), value


def _ms(seconds: tuple[float, float]) -> str:
    """`median (fastest)` in milliseconds."""
    return f"{fmt_ms(seconds[0] * 1000)} ({fmt_ms(seconds[1] * 1000)})"


def run(n: int = 10_000, repeats: int = 5) -> dict[str, Any]:
    """Measure; returns the numbers and a Markdown section under `markdown`."""
    r: dict[str, Any] = {"n": n, "repeats": repeats}
    log(f"generating {n} messages ...")
    generator = RealisticMailbox(seed=2026)
    emails = generator.build(n)
    r["kinds"] = generator.kinds
    r["rss_before_mib"] = current_rss_mib()
    own = (OWNER,)
    log("threading ...")
    r["thread_s"], conversations = _median_time(lambda: group_conversations(emails, own), repeats)
    sizes = sorted(len(c.emails) for c in conversations)
    r["conversations"] = len(conversations)
    r["largest"] = sizes[-1]
    r["singles"] = sum(1 for s in sizes if s == 1)
    log("reply tracking ...")
    r["needs_s"], needs = _median_time(
        lambda: awaiting_reply(conversations, own=own, actions={}, categories={}, replied={}),
        repeats,
    )
    r["needs"] = len(needs)
    r["awaiting_s"], found = _median_time(
        lambda: awaiting_their_reply(conversations, own=own, now=NOW), repeats
    )
    r["awaiting"] = len(found)
    log("adversaries ...")
    r["adversaries"] = {}
    for name, extra in adversaries(emails).items():
        mailbox = [*emails, *extra]
        seconds, threaded = _median_time(lambda m=mailbox: group_conversations(m, own), repeats)
        r["adversaries"][name] = (len(extra), seconds, len(threaded))
    log("memory ...")
    tracemalloc.start()
    group_conversations(emails, own)
    r["heap_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    r["maxrss_mib"] = max_rss_mib()
    r["markdown"] = _markdown(r)
    return r


def _markdown(r: dict[str, Any]) -> str:
    n, kinds = r["n"], r["kinds"]
    in_conversations = kinds["messages in conversations"]
    rows = [
        [
            "threading (`group_conversations`)",
            _ms(r["thread_s"]),
            f"{r['conversations']:,} conversations, the largest {r['largest']} messages, "
            f"{r['singles']:,} of one message",
        ],
        [
            "needs reply (`awaiting_reply`)",
            _ms(r["needs_s"]),
            f"{r['needs']:,} conversations wait on the user",
        ],
        [
            "awaiting reply (`awaiting_their_reply`)",
            _ms(r["awaiting_s"]),
            f"{r['awaiting']:,} conversations wait on someone else",
        ],
    ]
    hostile = table(
        ["the mailbox plus", "messages added", "threading (ms): median (fastest)", "conversations"],
        [
            [name, f"{added:,}", _ms(seconds), f"{count:,}"]
            for name, (added, seconds, count) in r["adversaries"].items()
        ],
    )
    styles = ", ".join(
        f"{k.removeprefix('reply headers: ')} {v:,}"
        for k, v in sorted(kinds.items())
        if k.startswith("reply headers")
    )
    return f"""## Threading and reply tracking of {n:,} messages

{n:,} messages built in memory as the mail cache hands them to the tools (parsing is measured
under "Fetch and triage throughput"). Newsletters reusing one subject per list:
{kinds["newsletter"]:,}. Tool notifications threaded under issues the mailbox never had:
{kinds["notification"]:,}. Conversations between the user and one to four people, sizes with a
long tail, the user's replies in Sent: {kinds["conversation"]:,} ({in_conversations:,} messages).
Replies name their parent as clients do: {styles}. Median and fastest of {r["repeats"]} runs each
(the machine is shared: the fastest run is the one least disturbed).

{table(["step", "time (ms): median (fastest)", "result"], rows)}

The same mailbox with one adversary added each time:

{hostile}

Memory: the Python heap peak of one threading run is {r["heap_peak_mib"]:.1f} MiB
(tracemalloc); the process peaked at {r["maxrss_mib"]:.0f} MiB RSS, the messages included.
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="messages to generate")
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement")
    args = parser.parse_args(argv)
    print(run(args.n, args.repeats)["markdown"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
