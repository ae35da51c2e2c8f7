"""The mcp.json parser: the common format, ${VAR} expansion, and errors that say where."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tools.mcp.config import McpConfigError, McpServerConfig, load_mcp_config, mcp_config_path


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "mcp.json"
    text = document if isinstance(document, str) else json.dumps(document)
    path.write_text(text, encoding="utf-8")
    return path


def servers(tmp_path: Path, **entries: Any) -> Path:
    return write(tmp_path, {"mcpServers": entries})


def error_of(path: Path, environ: dict[str, str] | None = None) -> McpConfigError:
    with pytest.raises(McpConfigError) as caught:
        load_mcp_config(path, environ or {})
    return caught.value


# ---------------------------------------------------------------------- what loads


def test_missing_file_means_no_servers(tmp_path: Path) -> None:
    assert load_mcp_config(tmp_path / "absent.json", {}) == {}


@pytest.mark.parametrize("document", [{}, {"mcpServers": {}}])
def test_empty_configurations(tmp_path: Path, document: Any) -> None:
    assert load_mcp_config(write(tmp_path, document), {}) == {}


def test_stdio_server_with_defaults(tmp_path: Path) -> None:
    path = servers(tmp_path, files={"command": "npx", "args": ["-y", "@acme/files"]})
    (config,) = load_mcp_config(path, {}).values()
    assert config == McpServerConfig(name="files", command="npx", args=("-y", "@acme/files"))
    assert config.transport == "stdio"
    assert (config.env, config.cwd, config.url, config.headers) == ({}, None, None, {})
    assert (config.disabled, config.auto_approve, config.timeout) == (False, frozenset(), 30.0)


def test_http_server_with_every_option(tmp_path: Path) -> None:
    path = servers(
        tmp_path,
        jira={
            "url": "https://mcp.acme.example/mcp",
            "headers": {"Authorization": "Bearer abc"},
            "disabled": True,
            "autoApprove": ["search_issues", "get_issue"],
            "timeout": 12,
        },
    )
    config = load_mcp_config(path, {})["jira"]
    assert config.transport == "http"
    assert config.url == "https://mcp.acme.example/mcp"
    assert config.headers == {"Authorization": "Bearer abc"}
    assert config.disabled is True
    assert config.auto_approve == frozenset({"search_issues", "get_issue"})
    assert config.timeout == 12.0 and isinstance(config.timeout, float)
    assert config.command is None and config.args == ()


def test_servers_keep_file_order(tmp_path: Path) -> None:
    path = servers(tmp_path, b={"command": "x"}, a={"command": "y"}, c={"url": "http://h/mcp"})
    assert list(load_mcp_config(path, {})) == ["b", "a", "c"]


@pytest.mark.parametrize(
    ("entry", "transport"),
    [
        ({"command": "x", "transport": "stdio"}, "stdio"),
        ({"command": "x", "type": "stdio"}, "stdio"),
        ({"url": "http://h/mcp", "transport": "http"}, "http"),
        ({"url": "http://h/mcp", "transport": "streamable_http"}, "http"),
        ({"url": "http://h/mcp", "type": "http"}, "http"),
        ({"url": "http://h/mcp", "type": "streamable-http"}, "http"),
    ],
)
def test_explicit_transport_is_accepted(
    tmp_path: Path, entry: dict[str, Any], transport: str
) -> None:
    assert load_mcp_config(servers(tmp_path, s=entry), {})["s"].transport == transport


def test_relative_cwd_is_taken_from_the_files_folder(tmp_path: Path) -> None:
    path = servers(
        tmp_path, a={"command": "x", "cwd": "servers/a"}, b={"command": "x", "cwd": "/srv"}
    )
    configs = load_mcp_config(path, {})
    assert configs["a"].cwd == str(tmp_path / "servers" / "a")
    assert configs["b"].cwd == "/srv"


@pytest.mark.parametrize("name", ["jira", "jira_cloud-2", "A", "0"])
def test_server_names_usable_as_prefixes(tmp_path: Path, name: str) -> None:
    assert list(load_mcp_config(write(tmp_path, {"mcpServers": {name: {"command": "x"}}}), {})) == [
        name
    ]


# ---------------------------------------------------------------------- ${VAR} expansion


def test_variables_are_expanded_in_every_string(tmp_path: Path) -> None:
    environ = {"BIN": "/opt/bin", "TOKEN": "s3cret", "DIR": "/srv/mcp", "HOST": "mcp.example"}
    path = servers(
        tmp_path,
        local={
            "command": "${BIN}/server",
            "args": ["--token", "${TOKEN}", "${BIN}-${DIR}"],
            "env": {"API_KEY": "${TOKEN}"},
            "cwd": "${DIR}",
        },
        remote={
            "url": "https://${HOST}/mcp?key=${TOKEN}",
            "headers": {"Authorization": "Bearer ${TOKEN}"},
        },
    )
    configs = load_mcp_config(path, environ)
    local, remote = configs["local"], configs["remote"]
    assert local.command == "/opt/bin/server"
    assert local.args == ("--token", "s3cret", "/opt/bin-/srv/mcp")
    assert local.env == {"API_KEY": "s3cret"}
    assert local.cwd == "/srv/mcp"
    assert remote.url == "https://mcp.example/mcp?key=s3cret"
    assert remote.headers == {"Authorization": "Bearer s3cret"}


def test_process_environment_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMART_INBOX_TEST_TOKEN", "from-env")
    path = servers(
        tmp_path, s={"url": "http://h/mcp", "headers": {"X": "${SMART_INBOX_TEST_TOKEN}"}}
    )
    assert load_mcp_config(path)["s"].headers == {"X": "from-env"}


def test_an_empty_variable_is_set(tmp_path: Path) -> None:
    path = servers(tmp_path, s={"command": "x", "args": ["${EMPTY}"]})
    assert load_mcp_config(path, {"EMPTY": ""})["s"].args == ("",)


def test_text_that_is_not_a_variable_is_left_alone(tmp_path: Path) -> None:
    path = servers(tmp_path, s={"command": "x", "args": ["$HOME", "${1X}", "cost: $5", "{A}"]})
    assert load_mcp_config(path, {})["s"].args == ("$HOME", "${1X}", "cost: $5", "{A}")


def test_keys_and_tool_names_are_not_expanded(tmp_path: Path) -> None:
    path = servers(tmp_path, s={"command": "x", "env": {"${K}": "v"}, "autoApprove": ["${T}"]})
    config = load_mcp_config(path, {})["s"]
    assert config.env == {"${K}": "v"}
    assert config.auto_approve == frozenset({"${T}"})


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ({"command": "${MISSING}"}, "command"),
        ({"command": "x", "args": ["a", "${MISSING}"]}, "args[1]"),
        ({"command": "x", "env": {"API_KEY": "${MISSING}"}}, "env.API_KEY"),
        ({"command": "x", "cwd": "${MISSING}/dir"}, "cwd"),
        ({"url": "https://${MISSING}/mcp"}, "url"),
        (
            {"url": "https://h/mcp", "headers": {"Authorization": "Bearer ${MISSING}"}},
            "headers.Authorization",
        ),
    ],
)
def test_a_missing_variable_names_file_server_and_key(
    tmp_path: Path, entry: dict[str, Any], key: str
) -> None:
    error = error_of(servers(tmp_path, jira=entry), {"OTHER": "x"})
    assert str(error) == (
        f"{tmp_path / 'mcp.json'}: server 'jira', key '{key}': "
        "environment variable MISSING is not set"
    )
    assert (error.server, error.key) == ("jira", key)


def test_the_example_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    servers(tmp_path, jira={"url": "https://j/mcp", "headers": {"Authorization": "${JIRA_TOKEN}"}})
    with pytest.raises(McpConfigError) as caught:
        load_mcp_config(Path("mcp.json"), {})
    assert str(caught.value) == (
        "mcp.json: server 'jira', key 'headers.Authorization': "
        "environment variable JIRA_TOKEN is not set"
    )


# ---------------------------------------------------------------------- what is refused


def test_malformed_json_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '{\n  "mcpServers": {\n    "a": {"command": "x",}\n  }\n}')
    error = error_of(path)
    assert str(error).startswith(f"{path}: line 3, column 26: invalid JSON")


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ([], "must hold a JSON object"),
        ({"mcpServers": []}, '"mcpServers" must be an object'),
        ({"servers": {}}, "unknown top-level key 'servers'"),
        ('{"mcpServers": {"a": {"command": "x"}, "a": {"command": "y"}}}', "key 'a' appears twice"),
    ],
)
def test_wrong_file_shapes(tmp_path: Path, document: Any, fragment: str) -> None:
    assert fragment in str(error_of(write(tmp_path, document)))


@pytest.mark.parametrize("name", ["", "my server", "jira.cloud", "a/b", "ünï"])
def test_unsafe_server_names(tmp_path: Path, name: str) -> None:
    error = error_of(write(tmp_path, {"mcpServers": {name: {"command": "x"}}}))
    assert repr(name) in str(error)
    assert "letters, digits, _ and -" in str(error)


@pytest.mark.parametrize(
    ("entry", "key", "fragment"),
    [
        ("npx", None, "must be an object"),
        ({"command": "x", "url": "http://h/mcp"}, None, "both command and url"),
        ({"args": ["x"]}, None, "needs a command (stdio server) or a url"),
        ({"command": "x", "arg": ["y"]}, "arg", "unknown key"),
        ({"command": ""}, "command", "non-empty string"),
        ({"command": 5}, "command", "non-empty string"),
        ({"command": "x", "args": "--flag"}, "args", "list of strings"),
        ({"command": "x", "args": ["a", 2]}, "args[1]", "must be a string, not a number"),
        ({"command": "x", "env": ["A=1"]}, "env", "object of string values"),
        ({"command": "x", "env": {"PORT": 8080}}, "env.PORT", "must be a string, not a number"),
        ({"command": "x", "cwd": ""}, "cwd", "non-empty string"),
        ({"command": "x", "headers": {"A": "b"}}, "headers", "takes no url/headers"),
        ({"url": "http://h/mcp", "env": {"A": "b"}}, "env", "takes no command/args/env/cwd"),
        ({"url": "ftp://h/mcp"}, "url", "http:// or https://"),
        ({"url": "http://h/mcp", "headers": {"X": None}}, "headers.X", "not null"),
        ({"command": "x", "disabled": "yes"}, "disabled", "true or false"),
        ({"command": "x", "autoApprove": "all"}, "autoApprove", "list of tool names"),
        ({"command": "x", "autoApprove": [""]}, "autoApprove", "list of tool names"),
        ({"command": "x", "timeout": "10"}, "timeout", "positive number"),
        ({"command": "x", "timeout": 0}, "timeout", "positive number"),
        ({"command": "x", "timeout": True}, "timeout", "positive number"),
        ({"command": "x", "transport": "sse"}, "transport", "SSE transport is not supported"),
        ({"url": "http://h/sse", "type": "sse"}, "type", "SSE transport is not supported"),
        ({"command": "x", "transport": "websocket"}, "transport", "must be one of"),
        ({"url": "http://h/mcp", "transport": "stdio"}, "transport", "but the server has a url"),
        ({"command": "x", "type": "http"}, "type", "but the server has a command"),
    ],
)
def test_wrong_entries_name_server_and_key(
    tmp_path: Path, entry: Any, key: str | None, fragment: str
) -> None:
    error = error_of(servers(tmp_path, jira=entry))
    assert error.server == "jira"
    assert error.key == key
    prefix = f"{tmp_path / 'mcp.json'}: server 'jira'" + (f", key '{key}'" if key else "")
    assert str(error).startswith(prefix + ": ")
    assert fragment in str(error)


def test_direct_construction_needs_exactly_one_endpoint() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        McpServerConfig(name="a")
    with pytest.raises(ValueError, match="exactly one"):
        McpServerConfig(name="a", command="x", url="http://h/mcp")
    with pytest.raises(ValueError, match="positive"):
        McpServerConfig(name="a", command="x", timeout=0)


# ---------------------------------------------------------------------- secrets and paths


def test_repr_shows_names_but_never_secret_values() -> None:
    stdio = McpServerConfig(name="files", command="npx", env={"API_KEY": "sk-live-123"})
    http = McpServerConfig(
        name="jira",
        url="https://mcp.acme.example/mcp?token=tok-456",
        headers={"Authorization": "Bearer tok-789"},
    )
    assert "API_KEY" in repr(stdio) and "sk-live-123" not in repr(stdio)
    assert "Authorization" in repr(http)
    assert "tok-789" not in repr(http) and "tok-456" not in repr(http)
    assert "https://mcp.acme.example/mcp?***" in repr(http)
    assert not any(secret in str([stdio, http]) for secret in ("sk-live", "tok-4", "tok-7"))


def test_config_path_from_environment_or_home(tmp_path: Path) -> None:
    assert mcp_config_path(tmp_path, {}) == tmp_path / "mcp.json"
    assert mcp_config_path(tmp_path, {"MCP_CONFIG": ""}) == tmp_path / "mcp.json"
    assert mcp_config_path(tmp_path, {"MCP_CONFIG": "/etc/inbox/mcp.json"}) == Path(
        "/etc/inbox/mcp.json"
    )
    assert mcp_config_path(tmp_path, {"MCP_CONFIG": "~/mcp.json"}) == Path.home() / "mcp.json"


def test_config_path_defaults_to_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCP_CONFIG", str(tmp_path / "elsewhere.json"))
    assert mcp_config_path(tmp_path / "home") == tmp_path / "elsewhere.json"
