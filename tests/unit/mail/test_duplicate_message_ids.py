"""Two messages with one Message-ID: both kept, both triaged, and neither shadows the other.

A forged mail can reuse the Message-ID of a genuine one and claim any Date. The copy cached
first keeps the Message-ID as its id; every later copy gets one of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.runtime import Runtime
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from graph.context import Context
from graph.engines.triage import triage_by_rules
from graph.grounding import evidence_ids, verify_answer
from graph.nodes.classify import classify
from graph.nodes.fetch import fetch
from graph.services import services_for
from memory.db import AppDatabase
from memory.email_ids import disambiguated_id
from memory.mail_tables import StoredEmail
from tools.mail.compose import reply_message
from tools.mail.maildir import MaildirSource
from tools.mail.model import Email

SHARED_ID = "q4-invoice-7781@billing.vendor.example"
GENUINE_KEY = "1781000100.M100P1.testhost"
FORGED_KEY = "1700000000.M1P1.testhost"  # sorts before the genuine key
GENUINE = f"""\
From: Vendor Billing <billing@vendor.example>
To: me@acme.example
Subject: Invoice 7781 for November
Date: Mon, 16 Nov 2026 09:00:00 +0000
Message-ID: <{SHARED_ID}>

Invoice 7781 for $1,200.00 is attached. Payment is due on 30 November.
"""
FORGED = f"""\
From: Vendor Billing <billing@vendor-payments.example>
To: me@acme.example
Subject: Invoice 7781 for November: new bank details
Date: Fri, 20 Nov 2026 09:00:00 +0000
Message-ID: <{SHARED_ID}>

Our bank details have changed. Please wire the $1,200.00 to the new account today.
"""


def deliver(maildir: Path, key: str, raw: str) -> None:
    (maildir / "new" / key).write_text(raw, encoding="utf-8")


async def fetch_and_classify(runtime: Runtime[Context]) -> tuple[dict[str, Any], dict[str, Any]]:
    fetched = await fetch({}, runtime)
    return fetched, await classify({**fetched}, runtime)  # type: ignore[typeddict-item]


async def test_a_later_forged_copy_gets_its_own_id_and_both_are_triaged(
    runtime: Runtime[Context], maildir: Path
) -> None:
    deliver(maildir, GENUINE_KEY, GENUINE)
    await fetch_and_classify(runtime)
    # The forged copy arrives later, claims a later Date and a key that sorts first.
    deliver(maildir, FORGED_KEY, FORGED)
    fetched, classified = await fetch_and_classify(runtime)

    services = await services_for(runtime)
    db = services.db
    forged_id = disambiguated_id(SHARED_ID, services.source, FORGED_KEY)
    assert fetched["new_email_ids"] == [forged_id]
    genuine = db.get_email(SHARED_ID)
    forged = db.get_email(forged_id)
    assert genuine is not None and genuine.from_addr == "billing@vendor.example"
    assert forged is not None and forged.from_addr == "billing@vendor-payments.example"
    assert genuine.message_id == forged.message_id == SHARED_ID
    assert [e.key for e in db.emails_with_message_id(SHARED_ID)] == [GENUINE_KEY, FORGED_KEY]

    triage = db.triage_for([SHARED_ID, forged_id])
    assert set(triage) == {SHARED_ID, forged_id}
    assert [row["id"] for row in classified["triage"]] == [forged_id]
    # Each copy is triaged on its own content.
    owners = runtime.context.user_addresses
    for email in (genuine, forged):
        rules = triage_by_rules(email, owner_addresses=owners)
        assert (triage[email.id].category, triage[email.id].reason) == (
            rules.category,
            rules.reason,
        )
    assert triage[SHARED_ID].reason != triage[forged_id].reason


async def test_citations_and_replies_reach_the_copy_they_name(
    runtime: Runtime[Context], maildir: Path
) -> None:
    deliver(maildir, GENUINE_KEY, GENUINE)
    deliver(maildir, FORGED_KEY, FORGED)
    # Both in one fetch: neither can claim to be first.
    _, classified = await fetch_and_classify(runtime)
    services = await services_for(runtime)
    db = services.db
    genuine_id = disambiguated_id(SHARED_ID, services.source, GENUINE_KEY)
    forged_id = disambiguated_id(SHARED_ID, services.source, FORGED_KEY)
    assert db.get_email(SHARED_ID) is None, "an id shared by two messages names neither"
    genuine, forged = db.get_email(genuine_id), db.get_email(forged_id)
    assert genuine is not None and forged is not None
    assert (genuine.key, forged.key) == (GENUINE_KEY, FORGED_KEY)

    # Citations: the triage evidence lists both, each under its own id, and citing one is
    # grounded.
    evidence = classified["evidence"]
    assert {genuine_id, forged_id} <= evidence_ids(evidence)
    report = verify_answer(f"The invoice from billing@vendor.example [msg:{genuine_id}].", evidence)
    assert not [p for p in report.problems if "cites" in p]

    # Replies: each goes to its own sender, threaded under the shared Message-ID.
    for email, sender in (
        (genuine, "billing@vendor.example"),
        (forged, "billing@vendor-payments.example"),
    ):
        reply = reply_message(email, sender="me@acme.example", body="Thanks.")
        assert reply["To"] == sender
        assert reply["In-Reply-To"] == f"<{SHARED_ID}>"


def message(key: str, raw: str, source: str = "maildir:test") -> Email:
    from tools.mail.mime import parse_email

    return parse_email(raw.encode(), source=source, folder="INBOX", key=key)


@pytest.fixture
def db(tmp_path: Path) -> Any:
    database = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    yield database
    database.engine.dispose()


def test_a_copy_that_claims_an_older_date_still_cannot_take_the_id(db: AppDatabase) -> None:
    [genuine] = db.add_emails([message(GENUINE_KEY, GENUINE)])
    older = FORGED.replace("Fri, 20 Nov 2026", "Sun, 01 Nov 2026")
    [forged] = db.add_emails([message(FORGED_KEY, older)])
    assert genuine.id == SHARED_ID
    assert forged.id == disambiguated_id(SHARED_ID, "maildir:test", FORGED_KEY)
    got = db.get_email(SHARED_ID)
    assert got is not None and got.key == GENUINE_KEY
    # A later third copy, in another source, gets an id of its own too.
    [third] = db.add_emails([message("k3", FORGED, source="maildir:other")])
    assert third.id == disambiguated_id(SHARED_ID, "maildir:other", "k3")


def test_storing_a_message_again_keeps_its_id(db: AppDatabase) -> None:
    db.add_emails([message(GENUINE_KEY, GENUINE)])
    [forged] = db.add_emails([message(FORGED_KEY, FORGED)])
    assert db.add_emails([forged]) == [forged]
    assert db.add_emails([message(FORGED_KEY, FORGED)])[0].id == forged.id
    assert db.add_emails([message(GENUINE_KEY, GENUINE)])[0].id == SHARED_ID


def test_identical_copies_without_a_message_id_get_ids_of_their_own(db: AppDatabase) -> None:
    raw = "From: a@b.example\nSubject: no id\n\nsame bytes\n"
    first, second = db.add_emails([message("k1", raw), message("k2", raw)])
    assert first.id != second.id
    assert first.id.startswith("sha256:") and second.id.startswith(first.id.split("#")[0])
    assert first.message_id == second.message_id == ""
    assert reply_message(first, sender="me@acme.example", body="x")["In-Reply-To"] is None


def test_the_database_refuses_a_second_message_with_an_id(db: AppDatabase) -> None:
    db.add_emails([message(GENUINE_KEY, GENUINE)])
    with Session(db.engine) as session, pytest.raises(IntegrityError):
        session.add(StoredEmail(source="maildir:x", key="k", id=SHARED_ID, data="{}"))
        session.commit()


def test_a_message_id_that_looks_like_a_disambiguated_id_gets_the_long_form(
    db: AppDatabase,
) -> None:
    db.add_emails([message(GENUINE_KEY, GENUINE)])
    short = disambiguated_id(SHARED_ID, "maildir:test", FORGED_KEY)
    # A message whose own Message-ID is the id the forged copy would get.
    squatter = GENUINE.replace(SHARED_ID, short).replace("Invoice 7781", "Squatter")
    [taken] = db.add_emails([message("k9", squatter)])
    assert taken.id == short
    [forged] = db.add_emails([message(FORGED_KEY, FORGED)])
    assert forged.id == disambiguated_id(SHARED_ID, "maildir:test", FORGED_KEY, long=True)


def test_a_maildir_sync_reports_the_ids_it_stored(tmp_path: Path, db: AppDatabase) -> None:
    root = tmp_path / "mbox"
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    deliver(root, GENUINE_KEY, GENUINE)
    source = MaildirSource(root, f"maildir:{root}")
    assert [e.id for e in source.sync(db).new] == [SHARED_ID]
    deliver(root, FORGED_KEY, FORGED)
    source.settle_seconds = 0
    new = source.sync(db).new
    assert [e.id for e in new] == [disambiguated_id(SHARED_ID, source.spec, FORGED_KEY)]
