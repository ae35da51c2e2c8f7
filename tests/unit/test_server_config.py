"""What the LangGraph server is given: langgraph.json, the exported graphs, the server's
environment, a run's context as JSON, schedules, and the README's list of state fields."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from langgraph.runtime import Runtime

from graph.builder import graph, triage_graph
from graph.context import Context, context_from
from graph.nodes.fetch import fetch
from graph.services import services_for
from graph.state import InputState, State, TriageInput
from ui.langgraph_server import (
    GRAPHS,
    OFFLINE,
    ServerError,
    schedule_from_every,
    server_environment,
)

ROOT = Path(__file__).resolve().parents[2]


def test_langgraph_json_names_the_graphs_serve_runs() -> None:
    config = json.loads((ROOT / "langgraph.json").read_text("utf-8"))
    assert config["dependencies"] == ["."]
    assert config["env"] == ".env"
    assert set(config["graphs"]) == set(GRAPHS)
    for graph_id, spec in config["graphs"].items():
        path, _, variable = spec.partition(":")
        module = path.removeprefix("./").removesuffix(".py").replace("/", ".")
        assert GRAPHS[graph_id] == f"{module}:{variable}"
        assert (ROOT / path).is_file()
        assert hasattr(importlib.import_module(module), variable)


def test_the_env_file_stays_out_of_git() -> None:
    ignored = (ROOT / ".gitignore").read_text("utf-8").splitlines()
    assert ".env" in ignored
    assert (ROOT / ".env.example").is_file()


def test_exported_graphs_carry_no_checkpointer_and_the_same_nodes() -> None:
    for exported in (graph, triage_graph):
        assert exported.checkpointer is None
    nodes = {"fetch", "classify", "detect_follow_up", "select_tools", "request_approval"}
    nodes |= {"act", "answer"}
    assert set(graph.nodes) - {"__start__"} == nodes
    assert set(triage_graph.nodes) == set(graph.nodes)
    assert "messages" not in triage_graph.get_input_jsonschema()["properties"]


def test_state_schemas_describe_their_fields() -> None:
    schema = graph.get_output_jsonschema()
    assert schema["properties"]["evidence"]["description"].startswith("Every tool result")
    assert "description" in schema["$defs"]["Evidence"]["properties"]["completeness"]
    assert "messages" in graph.get_input_jsonschema()["properties"]


def test_the_readme_explains_every_state_field() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("### State fields", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE))
    fields = set(State.__annotations__) | set(InputState.__annotations__)
    fields |= set(TriageInput.__annotations__)
    assert documented == fields


def test_the_server_environment_is_offline_and_absolute(tmp_path: Path) -> None:
    env = server_environment(
        {"SMART_INBOX_HOME": "data", "INBOX": "maildir:mail", "MODEL": "replay:s.jsonl"},
        cwd=tmp_path,
    )
    assert {k: env[k] for k in OFFLINE} == OFFLINE
    assert env["LANGGRAPH_STRICT_MSGPACK"] == "true"
    assert env["LANGSMITH_TRACING"] == "false"
    assert env["SMART_INBOX_HOME"] == str(tmp_path / "data")
    assert env["INBOX"] == f"maildir:{tmp_path / 'mail'}"
    assert env["MODEL"] == f"replay:{tmp_path / 's.jsonl'}"


def test_tracing_stays_as_the_user_configured_it(tmp_path: Path) -> None:
    env = server_environment({"LANGCHAIN_TRACING_V2": "true"}, cwd=tmp_path)
    assert env["LANGCHAIN_TRACING_V2"] == "true"
    assert "LANGSMITH_TRACING" not in env


def test_the_environment_wins_over_the_env_file(tmp_path: Path) -> None:
    env = server_environment(
        {"INBOX": "maildir:/srv/mail", "LANGGRAPH_CLI_NO_ANALYTICS": "0"},
        env_file={"INBOX": "maildir:/elsewhere", "SMTP_URL": "smtp://mail.example:587"},
        cwd=tmp_path,
    )
    assert env["INBOX"] == "maildir:/srv/mail"
    assert env["SMTP_URL"] == "smtp://mail.example:587"
    assert env["LANGGRAPH_CLI_NO_ANALYTICS"] == "1", "analytics are off whatever is set"
    assert env["SMART_INBOX_HOME"] == str(tmp_path / ".smart-inbox")


@pytest.mark.parametrize(
    ("every", "schedule"),
    [
        ("15m", "*/15 * * * *"),
        ("1m", "*/1 * * * *"),
        ("2h", "0 */2 * * *"),
        (" 30M ", "*/30 * * * *"),
    ],
)
def test_every_becomes_a_cron_schedule(every: str, schedule: str) -> None:
    assert schedule_from_every(every) == schedule


@pytest.mark.parametrize("every", ["0m", "60m", "24h", "15", "quarter", "1d"])
def test_a_bad_every_is_a_clear_error(every: str) -> None:
    with pytest.raises(ServerError, match="--every"):
        schedule_from_every(every)


def test_a_json_context_becomes_a_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL", "rules")
    monkeypatch.setenv("SMART_INBOX_HOME", "/srv/inbox-data")
    context = context_from(
        {
            "model": "",
            "home": None,
            "max_steps": "3",
            "user_addresses": ["Dana@Northwind.example", " "],
            "cron_id": "not a context field",
        }
    )
    assert context == Context(
        model="rules",
        home="/srv/inbox-data",
        max_steps=3,
        user_addresses=("dana@northwind.example",),
    )
    assert context_from(None) == Context()
    assert context_from(context) is context


def test_a_context_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="max_steps"):
        context_from({"max_steps": "many"})
    with pytest.raises(ValueError, match="inbox"):
        context_from({"inbox": 42})
    with pytest.raises(TypeError, match="object"):
        context_from(["rules"])  # type: ignore[arg-type]


async def test_a_node_takes_the_context_as_the_server_sends_it(
    maildir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A JSON context (with the server's own keys mixed in), and no context at all."""
    home = tmp_path / "served-home"
    runtime: Runtime[Any] = Runtime(
        context={"inbox": f"maildir:{maildir}", "home": str(home), "cron_id": "c-1", "model": ""}
    )
    update = await fetch({"mode": "triage"}, runtime)
    assert len(update["new_email_ids"]) == len(list((maildir / "new").iterdir())) + len(
        list((maildir / "cur").iterdir())
    )
    assert (home / "app.db").is_file()
    monkeypatch.setenv("SMART_INBOX_HOME", str(tmp_path / "env-home"))
    monkeypatch.setenv("INBOX", f"maildir:{maildir}")
    services = await services_for(Runtime(context=None))
    assert services.context == Context()
    assert services.source == f"maildir:{maildir.resolve()}"
    assert (tmp_path / "env-home" / "app.db").is_file()
