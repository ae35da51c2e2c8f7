"""SQLite's index in two tables (head and body) finds and orders what the query language says.

A small mailbox whose words sit in one part or another (a word in the subject of one message
and the body of the next, a phrase cut across two parts, a sender's word also in a body) is
searched by the product and by a plain Python reading of the rules (`memory.search_query`,
`memory.search_rank`), and the two lists must be equal: a term looked for in one table only, a
part's points read from the wrong table or a phrase allowed across parts shows. Each query runs
by the newest-first walk from a small first window (later reads ask for some parts only) and
by ranking every match; `tests/unit/test_search_index.py` checks the tables' entries.
"""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path

import pytest

from memory.db import AppDatabase
from memory.mail_model import Attachment, Email
from memory.search import search_stored
from memory.search_prefixes import split_words
from memory.search_query import Term, folder_names, parse_query
from memory.search_rank import MAX_POINTS, RELEVANCE_SHARE, day_number, recency
from tests.search_corpus import SOURCE, TODAY

WORDS = ("alpha", "alphabet", "beta", "gamma", "delta", "deltas", "omega", "draft")
QUERIES = (
    "alpha", "alph", '"alpha"', "beta gamma", "gamma beta", '"beta gamma"', '"gamma delta"',
    "delt", "delta omega", "from:alpha", "from:beta gamma", "attachment:delta", "attachment:gam",
    "draft", "draft beta", "omega alph", '"alpha beta" gamma', "zeta", "alpha folder:archive",
)  # fmt: skip


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 3)))


def mailbox(seed: int) -> list[Email]:
    rng = random.Random(seed)
    return [
        Email(
            id=f"m{n:03d}", source=SOURCE, key=f"m{n}",
            folder=rng.choice(("INBOX", "Archive", "Drafts")),
            subject=_text(rng), from_name=_text(rng), from_addr=f"{rng.choice(WORDS)}@x.example",
            attachments=tuple(Attachment(f"{_text(rng)}.pdf", "application/pdf", 1)
                              for _ in range(rng.randint(0, 1))),
            body=_text(rng), date=f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}T09:00",
        )
        for n in range(90)
    ]  # fmt: skip


def parts(email: Email) -> dict[str, list[str]]:
    return {
        "subject": split_words(email.subject),
        "sender": split_words(f"{email.from_name} {email.from_addr}"),
        "attachments": split_words(" ".join(a.filename for a in email.attachments)),
        "body": split_words(email.body),
    }


def occurs(term: Term, words: list[str]) -> bool:
    """Whether the term's words come one after the other in `words` (the last as a prefix)."""
    wanted = split_words(term.text)
    *head, last = wanted
    for at in range(len(words) - len(wanted) + 1):
        here = words[at : at + len(wanted)]
        if here[:-1] == head and (here[-1] == last or not term.exact and here[-1].startswith(last)):
            return True
    return False


def expected(emails: list[Email], query: str, limit: int) -> list[str]:
    """The ids the rules give, best first."""
    parsed = parse_query(query)
    own = {"sender": "sender", "attachment": "attachments"}
    scored = []
    for email in emails:
        found = {
            term: {part for part, words in parts(email).items() if occurs(term, words)}
            & ({own[term.field]} if term.field in own else {*parts(email)})
            for term in parsed.terms
        }
        folder = email.folder.lower()
        if not all(
            found[term] or term.folder_word and folder in folder_names(term.text)
            for term in parsed.terms
        ) or any(folder not in folder_names(name) for name in parsed.folders):
            continue
        hit = set().union(*(found[t] for t in parsed.terms if not t.folder_word))
        points = sum(value for part, value in (("subject", 8), ("sender", 4),
                                                ("attachments", 2), ("body", 1)) if part in hit)  # fmt: skip
        day = day_number(date.fromisoformat(email.date[:10]))
        score = RELEVANCE_SHARE * points / float(MAX_POINTS) + (1 - RELEVANCE_SHARE) * recency(
            day_number(TODAY), day
        )
        scored.append((score, email.date, email.id))
    scored.sort(key=lambda s: s[2])
    scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
    return [email_id for _, _, email_id in scored[:limit]]


def found(db: AppDatabase, query: str, limit: int, first_window: int) -> list[str]:
    options = {"source": SOURCE, "limit": limit, "today": TODAY, "first_window": first_window}
    data = search_stored(db.engine, parse_query(query), **options)  # type: ignore[arg-type]
    return [json.loads(one)["id"] for one in data]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_two_tables_find_what_the_rules_say(tmp_path: Path, seed: int) -> None:
    emails = mailbox(seed)
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    db.add_emails(emails[:40])  # one message at a time: the triggers
    db.add_emails(emails[40:] * 3)  # the same again: the update trigger
    assert not {"draft", "alpha"} - {w for e in emails for w in parts(e)["body"]}
    for query in QUERIES:
        for limit in (3, 50):
            want = expected(emails, query, limit)
            assert found(db, query, limit, 5) == want, (query, limit)
            assert found(db, query, limit, 0) == want, (query, limit)


def test_a_term_found_in_the_head_of_one_and_the_body_of_another(tmp_path: Path) -> None:
    def mail(name: str, day: int, **fields: str) -> Email:
        return Email(id=name, source=SOURCE, key=name, folder="INBOX",
                     date=f"2026-11-{day:02d}T09:00", **fields)  # type: ignore[arg-type]  # fmt: skip

    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    db.add_emails([
        mail("mixed", 1, subject="kestrel", body="osprey"),  # one word in each table
        mail("body", 2, body="kestrel osprey"),
        mail("head", 3, subject="osprey", from_name="kestrel"),
        mail("across", 4, subject="harrier", body="falcon"),  # no phrase across two parts
        mail("sender", 5, from_name="merlin", body="kestrel"),
        mail("rare", 6, body="gyrfalcons", subject="lanneret"),  # words of one table only
    ])  # fmt: skip
    assert sorted(found(db, "kestrel osprey", 50, 0)) == ["body", "head", "mixed"]
    assert found(db, '"harrier falcon"', 50, 0) == []
    assert found(db, "from:kestrel", 50, 0) == ["head"]  # a sender's word in a body is not one
    assert found(db, "from:merlin kestrel", 50, 0) == ["sender"]
    assert found(db, "gyrfalc", 50, 0) == found(db, "lanner", 50, 0) == ["rare"]
    # Points: subject 8 + body 1 for "mixed", body 1 only for "body", 8 + 4 for "head".
    assert found(db, "kestrel osprey", 50, 0) == ["head", "mixed", "body"]
