"""The bundled demo with no settings: its owner is the user, it is worked on as a copy in the
data directory, and the mail it sends lands in a local outbox. Any other Maildir (a copy of the
demo included) stays as it was: no owner, no outbox."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from email import message_from_bytes
from pathlib import Path

import pytest

from graph.context import Context
from graph.engines.base import ToolPlanRequest
from graph.engines.intents.matcher import plan_from_intents
from graph.services import build_services
from memory.db import open_database
from tools.mail.compose import new_message
from tools.mail.delivery import deliver
from tools.mail.demo import (
    DEMO_INBOX,
    DemoInboxError,
    demo_owner,
    demo_working_copy,
    is_demo_inbox,
)
from tools.mail.mailbox import MailboxEnv, open_mailbox_env
from tools.mail.sync import sync_source
from tools.mail.tools import MAIL_TOOLS, list_outbox
from tools.toolkit import ToolFailure

DANA = "dana@northwind.example"
DANA_FROM = f"Dana Whitfield <{DANA}>"
SOFIA = "sofia.marchetti@northwind.example"
SOFIA_ID = "CAF9s0fia.Q1road.20261116@mail.northwind.example"
SETTINGS = ("SMTP_URL", "SMTP_FROM", "SMART_INBOX_USER_EMAILS", "INBOX", "SMART_INBOX_HOME")


@pytest.fixture(autouse=True)
def no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file under `folder` (hidden folders included) and a hash of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def demo_env(home: Path, **kwargs: object) -> MailboxEnv:
    db = open_database(f"sqlite:///{home / 'app.db'}")
    options: dict[str, object] = {"user_addresses": (), "smtp": None, "environ": {}}
    options.update(kwargs)
    return open_mailbox_env(db, f"maildir:{DEMO_INBOX}", home, **options)  # type: ignore[arg-type]


def test_the_owner_is_read_from_the_demo_data() -> None:
    owner = demo_owner()
    assert (owner.name, owner.address) == ("Dana Whitfield", DANA)
    assert owner.sender == DANA_FROM
    readme = (DEMO_INBOX / "README.md").read_text("utf-8")
    assert f"{owner.name} <{owner.address}>" in readme, "owner.json and the README agree"


def test_the_bundled_demo_is_the_demo_and_a_copy_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert is_demo_inbox(f"maildir:{DEMO_INBOX}")
    assert is_demo_inbox(f"maildir:{DEMO_INBOX}/")
    monkeypatch.chdir(DEMO_INBOX.parent.parent)
    assert is_demo_inbox("maildir:data/demo-inbox"), "relative to the current directory"
    assert is_demo_inbox("maildir:./data/../data/demo-inbox")
    copy = shutil.copytree(DEMO_INBOX, tmp_path / "copy")
    assert not is_demo_inbox(f"maildir:{copy}")
    link = tmp_path / "link"
    link.symlink_to(DEMO_INBOX)
    assert is_demo_inbox(f"maildir:{link}"), "a link to the bundled folder is the bundled folder"
    assert not is_demo_inbox("imap://dana@mail.northwind.example/INBOX")
    assert not is_demo_inbox("mcp:gmail")
    assert not is_demo_inbox("maildir:")


def test_with_no_settings_the_demo_has_its_owner_and_an_outbox(tmp_path: Path) -> None:
    before = fingerprint(DEMO_INBOX)
    env = demo_env(tmp_path)
    assert env.sender == DANA_FROM
    assert env.user_addresses == (DANA,)
    assert env.outbox == tmp_path / "demo-outbox"
    assert env.source == f"maildir:{(tmp_path / 'demo-inbox').resolve()}"
    copy = tmp_path / "demo-inbox"
    assert sorted(p.name for p in copy.iterdir()) == [".Sent", "cur", "new", "tmp"]
    for part in ("cur", "new", ".Sent/cur"):
        assert fingerprint(copy / part) == fingerprint(DEMO_INBOX / part), "byte for byte"
    assert list((copy / "tmp").iterdir()) == []
    assert fingerprint(DEMO_INBOX) == before


def test_explicit_settings_win_over_the_demo_owner(tmp_path: Path) -> None:
    from_setting = demo_env(tmp_path, environ={"SMTP_FROM": "Ops <ops@northwind.example>"})
    assert from_setting.sender == "Ops <ops@northwind.example>"
    assert from_setting.user_addresses == ()
    addresses = demo_env(tmp_path, user_addresses=("me@acme.example", "me2@acme.example"))
    assert addresses.sender == "me@acme.example"
    assert addresses.user_addresses == ("me@acme.example", "me2@acme.example")
    assert addresses.outbox == tmp_path / "demo-outbox", "the outbox is the demo's either way"


@pytest.mark.parametrize("owner_file", ["copied", "forged"])
def test_another_maildir_never_gets_an_owner_or_an_outbox(tmp_path: Path, owner_file: str) -> None:
    inbox = shutil.copytree(DEMO_INBOX, tmp_path / "inbox")
    if owner_file == "forged":
        (inbox / "owner.json").write_text(
            json.dumps({"name": "Mallory", "address": "mallory@evil.example"}), "utf-8"
        )
    assert (inbox / "owner.json").is_file()
    db = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    env = open_mailbox_env(
        db, f"maildir:{inbox}", tmp_path, user_addresses=(), smtp=None, environ={}
    )
    assert (env.sender, env.user_addresses, env.outbox) == ("", (), None)
    assert env.source == f"maildir:{inbox.resolve()}"
    assert not (tmp_path / "demo-inbox").exists()


def test_the_working_copy_is_made_once_and_kept(tmp_path: Path) -> None:
    first = demo_working_copy(tmp_path)
    marker = first / "cur" / "kept-by-the-user:2,S"
    marker.write_bytes(b"From: a@b.example\n\nhello\n")
    assert demo_working_copy(tmp_path) == first
    assert marker.is_file(), "an existing copy is used, never copied over"


def test_processes_making_the_copy_at_once_end_with_one(tmp_path: Path) -> None:
    made: list[Path] = []
    errors: list[BaseException] = []

    def make() -> None:
        try:
            made.append(demo_working_copy(tmp_path))
        except BaseException as err:  # noqa: BLE001 — collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=make) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert made == [tmp_path / "demo-inbox"] * 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-inbox"], "no staging left over"


def test_a_copy_that_cannot_be_made_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "demo-inbox").write_text("a file where the copy should go")
    with pytest.raises(DemoInboxError, match="the demo inbox cannot be copied to"):
        demo_working_copy(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-inbox"], "no staging left over"


def test_a_reply_from_the_demo_lands_in_the_outbox_with_a_sent_copy(tmp_path: Path) -> None:
    env = demo_env(tmp_path)
    sync_source(env.db, env.source)
    message = new_message(sender=env.sender, to=[SOFIA], subject="Re: Q1", body="Thursday works")
    delivery = deliver(env, message)
    assert delivery.text.startswith(
        f"Delivered to the local demo outbox ({tmp_path / 'demo-outbox'}) for {SOFIA}, "
    )
    assert delivery.text.endswith("set SMTP_URL to send for real.")
    assert delivery.receipt.recipients == [SOFIA]
    [delivered] = (tmp_path / "demo-outbox" / "cur").iterdir()
    received = message_from_bytes(delivered.read_bytes())
    assert received["From"] == DANA_FROM
    assert received["To"] == SOFIA
    assert received["Message-ID"] == delivery.receipt.message_id
    bundled = {p.name for p in (DEMO_INBOX / ".Sent" / "cur").iterdir()}
    [sent_copy] = [
        p for p in (tmp_path / "demo-inbox" / ".Sent" / "cur").iterdir() if p.name not in bundled
    ]
    assert sent_copy.read_bytes() == delivered.read_bytes()
    assert delivery.sent_copy_key and delivery.sent_copy_key in sent_copy.name


def test_a_message_without_recipients_is_not_delivered(tmp_path: Path) -> None:
    env = demo_env(tmp_path)
    message = new_message(sender=env.sender, to=[], subject="x", body="y")
    with pytest.raises(ToolFailure, match="no recipients"):
        deliver(env, message)
    assert not (tmp_path / "demo-outbox").exists()


async def test_list_outbox_shows_what_was_delivered_newest_first(tmp_path: Path) -> None:
    env = demo_env(tmp_path)
    empty = await list_outbox.ainvoke({"env": env})
    assert "is empty: nothing has been sent yet" in empty["content"]
    sync_source(env.db, env.source)
    for subject in ("First", "Second"):
        message = new_message(sender=env.sender, to=[SOFIA], subject=subject, body=subject * 3)
        del message["Date"]
        message["Date"] = f"Mon, 23 Nov 2026 {'09' if subject == 'First' else '10'}:00:00 +0000"
        deliver(env, message)
    listed = await list_outbox.ainvoke({"env": env, "limit": 5})
    text = listed["content"]
    assert text.startswith(f"2 message(s) in the local demo outbox ({tmp_path / 'demo-outbox'})")
    assert text.index("subject: Second") < text.index("subject: First")
    assert f"from: {DANA_FROM}" in text and f"to: {SOFIA}" in text
    assert [row["subject"] for row in listed["data"]["messages"]] == ["Second", "First"]


async def test_list_outbox_elsewhere_says_there_is_none(tmp_path: Path) -> None:
    env = MailboxEnv(db=open_database(f"sqlite:///{tmp_path / 'app.db'}"), source="maildir:/x")
    with pytest.raises(ToolFailure, match="only the bundled demo inbox has one"):
        await list_outbox.ainvoke({"env": env})


def test_services_on_the_demo_agree_on_who_the_user_is(tmp_path: Path) -> None:
    context = Context(model="rules", inbox=f"maildir:{DEMO_INBOX}", home=str(tmp_path))
    services = build_services(context)
    assert services.context.user_addresses == (DANA,), "triage and provenance see the owner"
    assert services.tools.env.sender == DANA_FROM
    assert services.source == f"maildir:{(tmp_path / 'demo-inbox').resolve()}"
    for name in ("send_email", "reply_to_email", "list_outbox", "create_calendar_event"):
        assert name in services.tools.names() and name not in services.tools.unavailable
    assert services.tools.is_read_only("list_outbox")
    assert services.tools.default_level("list_outbox") == 0


def test_outside_the_demo_sending_and_the_outbox_are_unavailable_with_what_to_set(
    tmp_path: Path,
) -> None:
    inbox = shutil.copytree(DEMO_INBOX, tmp_path / "inbox")
    services = build_services(
        Context(model="rules", inbox=f"maildir:{inbox}", home=str(tmp_path / "home"))
    )
    tools = services.tools
    assert "send_email" not in tools.names() and "list_outbox" not in tools.names()
    why = tools.unavailable["reply_to_email"]
    assert why.startswith(
        "sending is unavailable: SMTP_URL is not set and no From address is known"
    )
    assert "set SMTP_URL to your mail server (smtp[s]://user@host[:port])" in why
    assert "set SMTP_FROM to your address (or SMART_INBOX_USER_EMAILS" in why
    assert tools.unavailable["list_outbox"].startswith("there is no local outbox")
    assert services.context.user_addresses == ()
    message = new_message(sender="", to=[SOFIA], subject="x", body="y")
    with pytest.raises(ToolFailure, match="SMTP_URL is not set and no From address is known"):
        deliver(tools.env, message)
    assert not (tmp_path / "home" / "demo-outbox").exists()
    assert fingerprint(inbox / ".Sent") == fingerprint(DEMO_INBOX / ".Sent"), "no copy kept"


def test_smtp_without_a_from_address_is_unavailable_before_any_card(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_URL", "smtp://127.0.0.1:2525")  # no login: no address from it
    inbox = shutil.copytree(DEMO_INBOX, tmp_path / "inbox")
    tools = build_services(
        Context(model="rules", inbox=f"maildir:{inbox}", home=str(tmp_path / "home"))
    ).tools
    why = tools.unavailable["send_email"]
    assert "SMTP_URL is not set" not in why
    assert why.startswith("sending is unavailable: no From address is known")


def plan(text: str) -> tuple[str, list[tuple[str, dict[str, object]]]]:
    request = ToolPlanRequest(
        mode="chat", user_text=text, conversation=[], focus=[], turn_evidence=[], tools=MAIL_TOOLS
    )
    intent, calls = plan_from_intents(request)
    return intent, [(c.name, c.args) for c in calls]


@pytest.mark.parametrize(
    "text",
    [
        "show the outbox",
        "what's in my outbox?",
        "what did I send?",
        "What have I sent today",
        "show me the mail I sent",
        "list sent emails",
    ],
)
def test_offline_phrasings_of_the_outbox(text: str) -> None:
    assert plan(text) == ("outbox", [("list_outbox", {"limit": 10})])


def test_a_reply_that_mentions_sending_is_still_a_reply() -> None:
    intent, _ = plan("reply to the one from Sofia saying what I sent was wrong")
    assert intent == "reply"
    intent, _ = plan("send an email to bob@acme.example saying show the outbox")
    assert intent == "send"


def test_the_copy_holds_the_demos_sent_folder(tmp_path: Path) -> None:
    copy = demo_working_copy(tmp_path)
    sent = sorted(p.name for p in (copy / ".Sent" / "cur").iterdir())
    assert sent == sorted(p.name for p in (DEMO_INBOX / ".Sent" / "cur").iterdir())
    assert len(sent) == 2 and (copy / ".Sent" / "tmp").is_dir()


async def test_who_owes_dana_a_reply_on_the_demo_names_people_as_text(tmp_path: Path) -> None:
    from tests.unit.answer_fixtures import DANA, ask, context_for

    (tmp_path / "home").mkdir()
    context = context_for(demo_working_copy(tmp_path / "home"), tmp_path / "home", DANA)
    answer = str((await ask(context, "who hasn't got back to me?"))["messages"][-1].content)
    assert "2 people owe you a reply" in answer
    assert "Tomás Rivera" in answer and "Owen Gallagher" in answer
    assert "=?utf-8?" not in answer
    nudge = await ask(context, "nudge Tomás", thread="n")
    [pending] = nudge["__interrupt__"]
    [request] = pending.value
    assert request["action_request"]["action"] == "save_draft"
    args = request["action_request"]["args"]
    assert args["to"] == "Tomás Rivera <tomas.rivera@northwind.example>"
    assert args["body"].startswith("Hi Tomás,\n\nI am following up on my message of ")
