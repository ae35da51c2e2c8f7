"""Services are built once per process and settings, and rebuilt when what they came from changes."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
from langgraph.runtime import Runtime

from graph.context import Context
from graph.services import CACHE_SIZE, Services, clear_services_cache, services_for
from graph.services.kept import KeptServices, kept_services, services_key, take_readings
from memory.db import close_databases, open_database
from memory.paths import app_database_url
from memory.vault import open_vault
from tests.unit.conftest import MESSAGES, write_maildir
from tools.mcp.config import McpServerConfig
from tools.mcp.hub import McpHub
from tools.mcp.results import McpToolInfo

JIRA_SETTINGS = {
    "JIRA_BASE_URL": "https://site.atlassian.net",
    "JIRA_EMAIL": "me@acme.example",
    "JIRA_PROJECT": "NW",
}


@pytest.fixture
def context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Context:
    for name in ("JIRA_API_TOKEN", "WEBHOOK_URL", "WEBHOOKS_CONFIG", *JIRA_SETTINGS):
        monkeypatch.delenv(name, raising=False)
    inbox = write_maildir(tmp_path / "mbox", MESSAGES)
    return Context(model="rules", inbox=f"maildir:{inbox}", home=str(tmp_path / "home"))


async def _services(context: Context) -> Services:
    return await services_for(Runtime(context=context))


def _same_build(a: Services, b: Services) -> bool:
    return a.tools is b.tools and a.mailbox is b.mailbox and a.db is b.db


async def test_the_same_settings_twice_are_served_the_same_built_services(
    context: Context,
) -> None:
    first = await _services(context)
    again = await _services(Context(**vars(context)))  # equal values, another object
    assert _same_build(first, again)
    assert again.secrets is first.secrets and again.engine is first.engine


async def test_another_context_value_gets_its_own_services(context: Context) -> None:
    first = await _services(context)
    other = await _services(Context(**{**vars(context), "max_steps": context.max_steps + 1}))
    assert not _same_build(first, other) and other.tools is not first.tools
    assert other.context.max_steps == context.max_steps + 1
    assert _same_build(first, await _services(context))


async def test_a_relative_setting_is_kept_per_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for place in ("a", "b"):
        write_maildir(tmp_path / place / "mbox", MESSAGES)
    relative = Context(model="rules", inbox="maildir:mbox", home=str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path / "a")
    in_a = await _services(relative)
    monkeypatch.chdir(tmp_path / "b")
    in_b = await _services(relative)
    assert in_a.source == f"maildir:{tmp_path / 'a' / 'mbox'}"
    assert in_b.source == f"maildir:{tmp_path / 'b' / 'mbox'}"


async def test_a_changed_environment_rebuilds_them(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await _services(context)
    assert not first.tools.configured("jira")
    for name, value in JIRA_SETTINGS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("JIRA_API_TOKEN", "ATATT3xenvironmenttoken")
    rebuilt = await _services(context)
    assert rebuilt.tools is not first.tools and rebuilt.tools.configured("jira")
    assert _same_build(rebuilt, await _services(context))


async def test_a_credential_stored_or_deleted_rebuilds_them(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in JIRA_SETTINGS.items():
        monkeypatch.setenv(name, value)
    vault = open_vault(context.home)
    vault.set("imap.password", "made before the first build, with the key file")
    first = await _services(context)
    assert not first.tools.configured("jira")
    assert _same_build(first, await _services(context))

    vault.set("jira.api_token", "ATATT3xstoredtoken")
    stored = await _services(context)
    assert stored.tools is not first.tools and stored.tools.configured("jira")

    vault.set("jira.api_token", "ATATT3xreplacedinthesamesecond")
    replaced = await _services(context)
    assert replaced.tools is not stored.tools

    vault.delete("jira.api_token")
    deleted = await _services(context)
    assert deleted.tools is not replaced.tools and not deleted.tools.configured("jira")


async def test_a_closed_database_rebuilds_them_on_the_new_handle(context: Context) -> None:
    first = await _services(context)
    close_databases()
    reopened = await _services(context)
    assert reopened.db is not first.db and reopened.tools is not first.tools
    assert reopened.db is open_database(app_database_url(Path(context.home).resolve()))
    assert reopened.db.list_emails(source=reopened.source, limit=1) == []


async def test_a_webhooks_file_written_later_rebuilds_them(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_SECRET", "shared-signing-secret")
    first = await _services(context)
    assert not first.tools.configured("webhooks")
    endpoints = {"endpoints": {"ops": {"url": "https://hooks.example/in"}}}
    (Path(context.home) / "webhooks.json").write_text(json.dumps(endpoints))
    rebuilt = await _services(context)
    assert rebuilt.tools.configured("webhooks")


async def test_a_deleted_demo_copy_is_made_again_for_the_kept_mailbox(tmp_path: Path) -> None:
    demo = Context(model="rules", inbox="", home=str(tmp_path / "home"))
    first = await _services(demo)
    copy = Path(first.source.removeprefix("maildir:"))
    assert copy.is_dir()
    for part in sorted(copy.rglob("*"), reverse=True):
        part.unlink() if part.is_file() else part.rmdir()
    copy.rmdir()
    again = await _services(demo)
    assert copy.is_dir() and (copy / "cur").is_dir()
    assert _same_build(first, again)


async def test_a_policy_edit_is_seen_without_a_rebuild(context: Context) -> None:
    first = await _services(context)
    assert first.policy.level_for("search_emails", default=0) == 0
    policy = {"tools": {"search_emails": 1}}
    (Path(context.home) / "policy.json").write_text(json.dumps(policy))
    edited = await _services(context)
    assert edited.policy.level_for("search_emails", default=0) == 1
    assert _same_build(first, edited)


async def test_at_most_cache_size_sets_are_kept_the_least_recently_used_going(
    context: Context,
) -> None:
    def numbered(steps: int) -> Context:
        return Context(**{**vars(context), "max_steps": steps})

    built = {steps: await _services(numbered(steps)) for steps in range(1, CACHE_SIZE + 1)}
    assert _same_build(built[1], await _services(numbered(1)))  # 1 is now the most recent
    await _services(numbered(CACHE_SIZE + 1))  # one too many: 2 goes
    assert _same_build(built[1], await _services(numbered(1)))
    assert _same_build(built[3], await _services(numbered(3)))
    assert not _same_build(built[2], await _services(numbered(2)))


def test_the_store_holds_at_most_its_size_and_builds_a_key_once_across_threads(
    context: Context,
) -> None:
    home = Path(context.home).resolve()
    home.mkdir(parents=True)
    kept = KeptServices()
    readings = take_readings(home)
    builds: list[int] = []
    gate = threading.Barrier(8)
    placeholder = cast(Services, object())

    def build() -> Services:
        builds.append(1)
        time.sleep(0.05)  # long enough for every other thread to arrive meanwhile
        return placeholder

    def ask() -> None:
        gate.wait()
        assert kept.get(services_key(context, home), readings, build) is placeholder

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1
    for steps in range(1, CACHE_SIZE + 5):
        other = Context(**{**vars(context), "max_steps": steps})
        kept.get(services_key(other, home), readings, build)
    assert len(kept) == CACHE_SIZE


def test_a_failed_build_is_not_kept_and_the_next_call_builds_again(context: Context) -> None:
    home = Path(context.home).resolve()
    home.mkdir(parents=True)
    kept, key, readings = KeptServices(), services_key(context, home), take_readings(home)
    placeholder = cast(Services, object())

    def broken() -> Services:
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError, match="went away"):
        kept.get(key, readings, broken)
    assert len(kept) == 0
    assert kept.get(key, readings, lambda: placeholder) is placeholder
    assert kept.get(key, readings, broken) is placeholder


@dataclass
class FakeHub:
    """What the catalogue reads from a hub: its servers' tools and configurations."""

    infos: list[McpToolInfo]
    configs: dict[str, McpServerConfig] = field(default_factory=dict)

    def tools(self) -> list[McpToolInfo]:
        return list(self.infos)


def _info(name: str) -> McpToolInfo:
    schema: dict[str, Any] = {"type": "object", "properties": {}}
    return McpToolInfo("notes", name, f"{name} a note", schema, {}, fingerprint=name)


def test_mcp_tools_are_added_afresh_on_every_call(context: Context) -> None:
    first = kept_services(context, cast(McpHub, FakeHub([_info("add_note")])))
    second = kept_services(context, cast(McpHub, FakeHub([_info("list_notes")])))
    assert "add_note" in first.tools.names() and "list_notes" not in first.tools.names()
    assert "list_notes" in second.tools.names() and "add_note" not in second.tools.names()
    assert second.tools.toolkits is first.tools.toolkits  # the native part is kept
    assert "add_note" not in kept_services(context).tools.names()


async def test_clearing_the_cache_builds_them_again(context: Context) -> None:
    first = await _services(context)
    clear_services_cache()
    assert not _same_build(first, await _services(context))
