"""Chat history in the app database, through the data layer calls Chainlit itself makes.

The data-layer tests run twice: on the SQLite file and on a real PostgreSQL server.
"""

from __future__ import annotations

import importlib
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from memory.db import AppDatabase
from memory.mail_tables import TriageRecord
from memory.paths import app_database_url
from tests.conftest import Backend
from tools.mail.model import Email

pytestmark = pytest.mark.integration

CHAT_TABLE_NAMES = {"users", "threads", "steps", "elements", "feedbacks"}


@pytest.fixture(scope="module")
def persistence(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """`ui.chat.persistence`, imported with Chainlit's app root in a temp folder.

    Importing Chainlit writes a `.chainlit` config folder into its app root (the working
    directory by default); this keeps it out of the source tree.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHAINLIT_APP_ROOT", str(tmp_path_factory.mktemp("chainlit-root")))
        yield importlib.import_module("ui.chat.persistence")


@pytest.fixture
def home(backend: Backend, persistence: ModuleType) -> Path:
    persistence.ensure_chat_tables(backend.home)
    return backend.home


def query(backend: Backend, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows of a query on the app database, read past the data layer."""
    engine = create_engine(backend.config.app_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


@pytest.fixture
async def layer(home: Path, persistence: ModuleType) -> AsyncIterator[Any]:
    data_layer = persistence.create_data_layer(home)
    yield data_layer
    await data_layer.close()


def in_chat(thread_id: str) -> None:
    """Enter a Chainlit context for `thread_id`, as a request handler of the server does."""
    from chainlit.context import ChainlitContext, context_var
    from chainlit.session import HTTPSession

    session = HTTPSession(id=str(uuid.uuid4()), client_type="webapp", thread_id=thread_id)
    context_var.set(ChainlitContext(session))


async def new_user(layer: Any, name: str) -> Any:
    from chainlit.user import User

    user = await layer.create_user(User(identifier=name, metadata={"provider": "credentials"}))
    assert user is not None
    return user


async def save_chat(layer: Any, user: Any, thread_id: str) -> list[str]:
    """A chat as the UI makes one: named thread, a question, a tool step, an answer."""
    import chainlit as cl

    in_chat(thread_id)
    await layer.update_thread(
        thread_id,
        name="Any invoices?",
        user_id=user.id,
        metadata={"chat_profile": "inbox"},
        tags=["inbox", "billing"],
    )
    question = cl.Message(
        content="Any invoices?",
        author=user.identifier,
        type="user_message",
        modes={"engine": "rules"},
        created_at="2026-11-20T10:00:00.000001Z",
    )
    tool = cl.Step(name="search_mail", type="tool", thread_id=thread_id, tags=["read-only"])
    tool.input, tool.output = '{"query": "invoice"}', "1 message"
    tool.created_at = "2026-11-20T10:00:01.000001Z"
    answer = cl.Message(
        content="One overdue invoice: INV-2026-0412 [msg:invoice-0412@billing.vendor.example]",
        author="Assistant",
        tags=["grounded"],
        metadata={"cited": ["invoice-0412@billing.vendor.example"]},
        created_at="2026-11-20T10:00:02.000001Z",
    )
    for step in (question.to_dict(), tool.to_dict(), answer.to_dict()):
        await layer.create_step(step)
    return [question.id, tool.id, answer.id]


def columns(db_file: Path, table: str) -> list[str]:
    with sqlite3.connect(db_file) as db:
        return [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]


def table_names(db_file: Path) -> set[str]:
    with sqlite3.connect(db_file) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


# -- the tables ---------------------------------------------------------------------------------


def test_chat_history_lives_in_the_app_database(tmp_path: Path, persistence: ModuleType) -> None:
    url = persistence.chat_database_url(tmp_path)
    assert url == f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    assert url.split(":///", 1)[1] == app_database_url(tmp_path).split(":///", 1)[1]


def test_tables_are_created_once_and_kept(tmp_path: Path, persistence: ModuleType) -> None:
    home = tmp_path / "home"
    persistence.ensure_chat_tables(home)
    db_file = home / "app.db"
    with sqlite3.connect(db_file) as db:
        db.execute("INSERT INTO users (id, identifier) VALUES ('u1', 'alice')")
    persistence.ensure_chat_tables(home)

    assert CHAT_TABLE_NAMES <= table_names(db_file)
    for table, spec in persistence.CHAT_TABLES.items():
        assert columns(db_file, table) == [name for name, _, _ in spec]
    with sqlite3.connect(db_file) as db:
        assert db.execute("SELECT identifier FROM users").fetchall() == [("alice",)]
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        indexes = {
            row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='index'")
        }
    assert set(persistence.CHAT_INDEXES) <= indexes


def test_every_backend_gets_the_same_chat_tables(backend: Backend, persistence: ModuleType) -> None:
    from sqlalchemy import inspect

    persistence.ensure_chat_tables(backend.home)
    engine = create_engine(backend.config.app_url)
    try:
        inspector = inspect(engine)
        for table, spec in persistence.CHAT_TABLES.items():
            present = inspector.get_columns(table)
            assert [c["name"] for c in present] == [name for name, _, _ in spec]
            kinds = {c["name"]: str(c["type"]).upper() for c in present}
            for name, kind, _ in spec:
                assert kinds[name].startswith(kind), (table, name, kinds[name])
        indexes = {
            index["name"]
            for table in persistence.CHAT_TABLES
            for index in inspector.get_indexes(table)
        }
    finally:
        engine.dispose()
    assert set(persistence.CHAT_INDEXES) <= indexes


def test_columns_missing_from_an_older_table_are_added(
    tmp_path: Path, persistence: ModuleType
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with sqlite3.connect(home / "app.db") as db:
        db.execute(
            'CREATE TABLE steps ("id" TEXT PRIMARY KEY, "name" TEXT NOT NULL, "type" TEXT NOT NULL,'
            ' "threadId" TEXT NOT NULL, "streaming" INTEGER NOT NULL, "output" TEXT)'
        )
        db.execute("INSERT INTO steps VALUES ('s1', 'alice', 'user_message', 't1', 0, 'hello')")
    persistence.ensure_chat_tables(home)

    present = set(columns(home / "app.db", "steps"))
    assert {"command", "modes", "defaultOpen", "autoCollapse", "generation"} <= present
    with sqlite3.connect(home / "app.db") as db:
        assert db.execute("SELECT output, modes FROM steps").fetchall() == [("hello", None)]


def test_app_tables_still_work_next_to_the_chat_tables(
    tmp_path: Path, persistence: ModuleType
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    url = f"sqlite:///{home / 'app.db'}"
    email = Email(
        id="invoice-0412@billing.vendor.example",
        source="maildir:test",
        folder="INBOX",
        key="1",
        from_addr="billing@vendor.example",
        subject="Overdue invoice INV-2026-0412",
        date="2026-11-17T09:00:00+00:00",
        body="Invoice INV-2026-0412 is overdue.",
    )
    before = AppDatabase(url)
    before.add_emails([email])
    before.engine.dispose()

    persistence.ensure_chat_tables(home)
    persistence.ensure_chat_tables(home)

    after = AppDatabase(url)
    try:
        assert after.get_email(email.id) == email
        after.save_triage(
            [
                TriageRecord(
                    email_id=email.id,
                    priority="high",
                    category="billing",
                    action="pay",
                    reason="overdue invoice",
                )
            ]
        )
        assert after.triage_for([email.id])[email.id].category == "billing"
        assert [e.id for e in after.list_emails(query="overdue")] == [email.id]
    finally:
        after.engine.dispose()
    assert {"email", "triage", "audit", "ledger"} | CHAT_TABLE_NAMES <= table_names(home / "app.db")


# -- the data layer -----------------------------------------------------------------------------


async def test_a_chat_is_saved_listed_reopened_and_deleted(layer: Any) -> None:
    from chainlit.types import Pagination, ThreadFilter

    alice = await new_user(layer, "alice")
    bob = await new_user(layer, "bob@acme.example")
    fetched = await layer.get_user("alice")
    assert fetched is not None
    assert (fetched.id, fetched.metadata) == (alice.id, {"provider": "credentials"})
    assert await layer.get_user("nobody") is None

    thread_id = str(uuid.uuid4())
    step_ids = await save_chat(layer, alice, thread_id)

    listed = await layer.list_threads(Pagination(first=20), ThreadFilter(userId=alice.id))
    assert [t["id"] for t in listed.data] == [thread_id]
    assert listed.data[0]["name"] == "Any invoices?"
    assert listed.data[0]["tags"] == ["inbox", "billing"]
    assert listed.data[0]["metadata"] == {"chat_profile": "inbox"}
    others = await layer.list_threads(Pagination(first=20), ThreadFilter(userId=bob.id))
    assert others.data == []

    thread = await layer.get_thread(thread_id)
    assert thread is not None
    assert thread["userIdentifier"] == "alice"
    assert [s["id"] for s in thread["steps"]] == step_ids
    question, tool, answer = thread["steps"]
    assert (question["type"], question["output"]) == ("user_message", "Any invoices?")
    assert (tool["type"], tool["input"], tool["output"]) == (
        "tool",
        '{"query": "invoice"}',
        "1 message",
    )
    assert tool["tags"] == ["read-only"]
    assert answer["type"] == "assistant_message"
    assert answer["output"].startswith("One overdue invoice: INV-2026-0412")
    assert answer["tags"] == ["grounded"]
    assert answer["metadata"] == {"cited": ["invoice-0412@billing.vendor.example"]}
    assert answer["streaming"] is False and answer["isError"] is False

    assert await layer.get_thread_author(thread_id) == "alice"

    await layer.delete_thread(thread_id)
    assert await layer.get_thread(thread_id) is None
    emptied = await layer.list_threads(Pagination(first=20), ThreadFilter(userId=alice.id))
    assert emptied.data == []
    with pytest.raises(ValueError, match="Author not found"):
        await layer.get_thread_author(thread_id)


async def test_message_modes_are_kept(layer: Any, backend: Backend) -> None:
    alice = await new_user(layer, "alice")
    thread_id = str(uuid.uuid4())
    question_id = (await save_chat(layer, alice, thread_id))[0]
    stored = query(backend, "SELECT modes FROM steps WHERE id = :id", id=question_id)
    assert stored == [('{"engine": "rules"}',)]


async def test_history_survives_a_restart(home: Path, persistence: ModuleType) -> None:
    from chainlit.types import Pagination, ThreadFilter

    first = persistence.create_data_layer(home)
    alice = await new_user(first, "alice")
    thread_id = str(uuid.uuid4())
    step_ids = await save_chat(first, alice, thread_id)
    await first.close()

    persistence.ensure_chat_tables(home)
    second = persistence.create_data_layer(home)
    try:
        again = await second.get_user("alice")
        assert again is not None and again.id == alice.id
        listed = await second.list_threads(Pagination(first=20), ThreadFilter(userId=alice.id))
        assert [t["id"] for t in listed.data] == [thread_id]
        thread = await second.get_thread(thread_id)
        assert thread is not None
        assert [s["id"] for s in thread["steps"]] == step_ids
        assert await second.get_thread_author(thread_id) == "alice"
    finally:
        await second.close()


async def test_chat_history_and_app_tables_share_the_database(
    backend: Backend, layer: Any, persistence: ModuleType
) -> None:
    alice = await new_user(layer, "alice")
    thread_id = str(uuid.uuid4())
    await save_chat(layer, alice, thread_id)

    app_db = AppDatabase(backend.config.app_url)
    try:
        app_db.set_cursor("maildir:test", "sig", 3)
        cursor = app_db.get_cursor("maildir:test")
        assert cursor is not None and cursor.message_count == 3
    finally:
        app_db.engine.dispose()

    thread = await layer.get_thread(thread_id)
    assert thread is not None and len(thread["steps"]) == 3


async def test_feedback_and_favourites_round_trip(layer: Any) -> None:
    from chainlit.types import Feedback

    alice = await new_user(layer, "alice")
    thread_id = str(uuid.uuid4())
    answer_id = (await save_chat(layer, alice, thread_id))[2]

    await layer.upsert_feedback(Feedback(forId=answer_id, value=1, threadId=thread_id))
    thread = await layer.get_thread(thread_id)
    assert thread is not None
    assert thread["steps"][2]["feedback"]["value"] == 1

    step = await layer.get_step(answer_id)
    assert step is not None and step["tags"] == ["grounded"]
    await layer.set_step_favorite(step, True)
    favourites = await layer.get_favorite_steps(alice.id)
    assert [f["id"] for f in favourites] == [answer_id]
    assert favourites[0]["metadata"]["favorite"] is True
    assert favourites[0]["tags"] == ["grounded"]

    await layer.delete_thread(thread_id)
    assert await layer.get_favorite_steps(alice.id) == []


async def test_elements_are_skipped_without_a_file_store(layer: Any, backend: Backend) -> None:
    import chainlit as cl

    alice = await new_user(layer, "alice")
    thread_id = str(uuid.uuid4())
    answer_id = (await save_chat(layer, alice, thread_id))[2]
    element = cl.Text(name="msg:invoice-0412", content="Invoice body", display="side")
    element.for_id = answer_id

    await layer.create_element(element)

    thread = await layer.get_thread(thread_id)
    assert thread is not None and thread["elements"] == []
    assert query(backend, "SELECT COUNT(*) FROM elements") == [(0,)]


async def test_an_element_is_changed_only_within_its_own_chat(layer: Any, backend: Backend) -> None:
    """The browser names the element it updates; another chat's element id changes nothing."""
    import chainlit as cl

    alice, bob = await new_user(layer, "alice"), await new_user(layer, "bob")
    alice_thread, bob_thread = str(uuid.uuid4()), str(uuid.uuid4())
    alice_answer = (await save_chat(layer, alice, alice_thread))[2]
    bob_answer = (await save_chat(layer, bob, bob_thread))[2]

    in_chat(alice_thread)
    element = cl.CustomElement(name="TriageList", props={"rows": ["alice's row"]})
    element.for_id, element.thread_id = alice_answer, alice_thread
    await layer.create_element(element)
    element.props = {"rows": ["alice's row, corrected"]}
    await layer.create_element(element)  # her own update goes through

    in_chat(bob_thread)
    forged = cl.CustomElement(id=element.id, name="TriageList", props={"rows": ["bob was here"]})
    forged.for_id, forged.thread_id = bob_answer, bob_thread
    await layer.create_element(forged)

    rows = query(backend, 'SELECT "threadId", props FROM elements')
    assert rows == [(alice_thread, '{"rows": ["alice\'s row, corrected"]}')]
    bobs = await layer.get_thread(bob_thread)
    assert bobs is not None and bobs["elements"] == []


@pytest.mark.parametrize(
    "thread_id",
    ["x') OR 1=1 --", "a b", "thread'id", "", "a" * 129],
)
async def test_thread_ids_that_could_reach_the_sql_text_are_refused(
    layer: Any, backend: Backend, thread_id: str
) -> None:
    alice = await new_user(layer, "alice")
    in_chat(thread_id or "unused")
    with pytest.raises(ValueError, match="refusing to store a thread"):
        await layer.update_thread(thread_id, name="x", user_id=alice.id)
    with pytest.raises(ValueError, match="refusing to store a thread"):
        await layer.create_step(
            {
                "id": str(uuid.uuid4()),
                "threadId": thread_id,
                "name": "alice",
                "type": "user_message",
                "output": "hi",
                "streaming": False,
            }
        )
    assert query(backend, "SELECT COUNT(*) FROM threads") == [(0,)]
    assert query(backend, "SELECT COUNT(*) FROM steps") == [(0,)]
