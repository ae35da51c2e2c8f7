"""The newest-first walk of a search returns exactly the list ranking every match would.

Random mailboxes (a small vocabulary, so words repeat across parts; dates spread over weeks,
some equal, some in the future, missing, unreadable or naming a 45th day) and random queries,
on both databases: each search runs with tiny windows (so the walk stops early, reads the older
matches of some parts only, or goes on to the next window) and with none (every match ranked
at once), and the two lists must be equal, order included.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import pytest

from memory import search_walk
from memory.db import AppDatabase
from memory.mail_model import Attachment, Email
from memory.search import search_stored
from memory.search_query import parse_query
from tests.conftest import Backend

pytestmark = pytest.mark.integration

SOURCE = "maildir:walk"
TODAY = date(2026, 6, 15)
WORDS = ("alpha", "alps", "beta", "budget", "review", "draft", "gamma", "delta")
SENDERS = (("Alpha Team", "team@alpha.example"), ("Beta Corp", "news@beta.example"), ("", "x@y.z"))
FILES = ("alpha.pdf", "budget.xlsx", "review.ics", "notes.txt")
ODD_DATES = ("", "soon", "2026-06-45T09:00:00+00:00", "2026-13-02T09:00:00+00:00")


def _text(rng: random.Random, most: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, most)))


def _date(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return rng.choice(ODD_DATES)
    day = TODAY + timedelta(days=rng.choice((rng.randint(-3, 3), rng.randint(-400, 0))))
    return f"{day.isoformat()}T{rng.choice(('08', '12'))}:00:00+00:00"


def mailbox(seed: int, count: int = 90) -> list[Email]:
    rng = random.Random(seed)
    return [
        Email(
            id=f"w{seed}-{n:03d}",
            source=SOURCE,
            folder=rng.choice(("INBOX", "INBOX", "Archive", "Drafts")),
            key=f"k{n}",
            from_name=(sender := rng.choice(SENDERS))[0],
            from_addr=sender[1],
            subject=_text(rng, 3),
            date=_date(rng),
            body=_text(rng, 6),
            attachments=tuple(
                Attachment(name, "application/octet-stream", 1)
                for name in rng.sample(FILES, rng.randint(0, 2))
            ),
        )
        for n in range(count)
    ]


def query(rng: random.Random) -> str:
    terms = [
        rng.choice((*WORDS, "alp", "bud", '"budget review"')) for _ in range(rng.randint(1, 2))
    ]
    extra = rng.choice(
        ("", "", "from:alpha", "attachment:pdf", "folder:archive", "after:2026-05-20",
         "before:2026-06-10", "after:2026-05-01 before:2026-06-14")
    )  # fmt: skip
    return " ".join([*terms, extra]).strip()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_walk_returns_what_ranking_every_match_returns(
    backend: Backend, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = AppDatabase(backend.config.app_url)
    db.add_emails(mailbox(seed))
    stops: list[tuple[tuple[str, ...], ...]] = []
    needed = search_walk.parts_needed

    def recorded(score: float, newest: float) -> tuple[tuple[str, ...], ...]:
        stops.append(needed(score, newest))
        return stops[-1]

    monkeypatch.setattr(search_walk, "parts_needed", recorded)
    rng = random.Random(seed)
    compared = 0
    for _ in range(60):
        parsed = parse_query(query(rng))
        for limit in (1, 3, 8):
            options = {"source": SOURCE, "limit": limit, "today": TODAY}
            walked = search_stored(db.engine, parsed, first_window=2, **options)  # type: ignore[arg-type]
            whole = search_stored(db.engine, parsed, first_window=0, **options)  # type: ignore[arg-type]
            assert walked == whole, (parsed, limit)
            compared += len(whole)
    assert compared > 300
    # The walk read some parts only after a window (`test_search_walk` in the unit tests
    # checks which parts each score needs).
    assert any(needs and ("body",) not in needs for needs in stops)


def test_an_undated_message_that_outscores_the_newest_is_found(backend: Backend) -> None:
    db = AppDatabase(backend.config.app_url)
    newest = [
        Email(id=f"new{n}", source=SOURCE, folder="INBOX", key=f"n{n}", subject="weekly", body="budget",
              date=f"{TODAY.isoformat()}T0{n}:00:00+00:00")
        for n in range(5)
    ]  # fmt: skip
    undated = Email(
        id="old", source=SOURCE, folder="INBOX", key="old", subject="budget", from_name="budget"
    )
    db.add_emails([*newest, undated])
    parsed = parse_query("budget")
    found = search_stored(db.engine, parsed, source=SOURCE, limit=2, today=TODAY, first_window=2)
    assert [json.loads(data)["id"] for data in found] == ["old", "new4"]


def test_the_walk_stops_when_nothing_unread_can_make_the_list(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = AppDatabase(backend.config.app_url)
    everywhere = [
        Email(id=f"top{n}", source=SOURCE, folder="INBOX", key=f"t{n}", subject="alpha", from_name="alpha",
              body="alpha", date=f"{TODAY.isoformat()}T1{n}:00:00+00:00",
              attachments=(Attachment("alpha.pdf", "application/pdf", 1),))
        for n in range(3)
    ]  # fmt: skip
    older = [
        Email(id=f"old{n}", source=SOURCE, folder="INBOX", key=f"o{n}", subject="alpha", body="alpha",
              date=f"{TODAY - timedelta(days=90 + n)}T10:00:00+00:00")
        for n in range(4)
    ]  # fmt: skip
    db.add_emails([*everywhere, *older])
    reads: list[search_walk.Window] = []
    walk = search_walk.best_matches

    def counted(read, day_at, *rest, **options):  # type: ignore[no-untyped-def]
        def reading(window: search_walk.Window) -> list[search_walk.Hit]:
            reads.append(window)
            return read(window)  # type: ignore[no-any-return]

        return walk(reading, day_at, *rest, **options)

    module = "postgres" if backend.name == "postgresql" else "sqlite"
    monkeypatch.setattr(f"memory.search_{module}.best_matches", counted)
    parsed = parse_query("alpha")
    found = search_stored(db.engine, parsed, source=SOURCE, limit=2, today=TODAY, first_window=3)
    assert [json.loads(data)["id"] for data in found] == ["top2", "top1"]
    assert [window.since is not None for window in reads] == [False, True]
    assert reads[0].odd
