"""The `mcp.json` file: which MCP servers to start or reach, in the format most MCP clients share.

Parsing is strict so a typo in a key, a missing environment variable or a wrong type is reported
with the file, the server and the key, instead of surfacing later as a server that "just fails".
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

MCP_CONFIG_ENV = "MCP_CONFIG"
"""Environment variable naming the configuration file; default `<home>/mcp.json`."""

MCP_CONFIG_FILE = "mcp.json"

DEFAULT_TIMEOUT = 30.0
"""Seconds one tool call may take unless the server's entry says otherwise."""

SERVER_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
"""Server names become tool-name prefixes, so they keep to what model APIs accept in names."""

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

_STDIO_KEYS = frozenset({"command", "args", "env", "cwd"})
_HTTP_KEYS = frozenset({"url", "headers"})
_COMMON_KEYS = frozenset({"disabled", "autoApprove", "timeout", "transport", "type"})
_KNOWN_KEYS = _STDIO_KEYS | _HTTP_KEYS | _COMMON_KEYS

_TRANSPORTS: dict[str, Literal["stdio", "http"]] = {
    "stdio": "stdio",
    "http": "http",
    "streamable_http": "http",
    "streamable-http": "http",
    "streamableHttp": "http",
}


class McpConfigError(ValueError):
    """An MCP configuration that cannot be used; the message names the file, server and key."""

    def __init__(
        self, path: Path, problem: str, *, server: str | None = None, key: str | None = None
    ) -> None:
        where = str(path)
        if server is not None:
            where += f": server {server!r}"
        if key is not None:
            where += f", key {key!r}"
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.server = server
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class McpServerConfig:
    """One MCP server: a command to run (stdio) or a URL to reach (streamable HTTP)."""

    name: str
    """The server's name in the file; also the prefix that tells its tools apart."""
    command: str | None = None
    """The executable to start, for a stdio server."""
    args: tuple[str, ...] = ()
    """Arguments for `command`."""
    env: dict[str, str] = field(default_factory=dict)
    """Extra environment for a stdio server, on top of the MCP SDK's small safe default
    (HOME, LOGNAME, PATH, SHELL, TERM, USER on POSIX); the rest of ours is not passed on."""
    cwd: str | None = None
    """Working directory of a stdio server (a relative one in the file is taken from the file's
    folder)."""
    url: str | None = None
    """The streamable HTTP endpoint, for a remote server."""
    headers: dict[str, str] = field(default_factory=dict)
    """HTTP headers sent with every request (typically `Authorization`)."""
    disabled: bool = False
    """A disabled server is listed but never started."""
    auto_approve: frozenset[str] = frozenset()
    """Tools of this server the approval policy may run without asking."""
    timeout: float = DEFAULT_TIMEOUT
    """Seconds one tool call may take before it is reported as timed out."""

    def __post_init__(self) -> None:
        if (self.command is None) == (self.url is None):
            raise ValueError(f"MCP server {self.name!r} needs exactly one of command or url")
        if not self.timeout > 0:
            raise ValueError(f"MCP server {self.name!r}: timeout must be positive")

    @property
    def transport(self) -> Literal["stdio", "http"]:
        """How the server is reached: a child process over stdio, or streamable HTTP."""
        return "stdio" if self.command is not None else "http"

    def __repr__(self) -> str:
        # Header and environment values are usually credentials: show only their names.
        parts = [f"name={self.name!r}"]
        if self.command is not None:
            parts += [f"command={self.command!r}", f"args={self.args!r}"]
            if self.env:
                parts.append(f"env={_hidden(self.env)}")
            if self.cwd is not None:
                parts.append(f"cwd={self.cwd!r}")
        else:
            parts.append(f"url={redact_url(self.url or '')!r}")
            if self.headers:
                parts.append(f"headers={_hidden(self.headers)}")
        parts += [
            f"disabled={self.disabled!r}",
            f"auto_approve={sorted(self.auto_approve)!r}",
            f"timeout={self.timeout!r}",
        ]
        return f"McpServerConfig({', '.join(parts)})"


def _hidden(values: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"{name!r}: '***'" for name in values) + "}"


def redact_url(url: str) -> str:
    """The URL without its query string, which sometimes carries a token."""
    base, sep, _ = url.partition("?")
    return f"{base}?***" if sep else base


def mcp_config_path(home: Path, environ: Mapping[str, str] | None = None) -> Path:
    """Where the MCP configuration lives: `$MCP_CONFIG`, else `mcp.json` in the data directory."""
    env = os.environ if environ is None else environ
    configured = env.get(MCP_CONFIG_ENV, "").strip()
    return Path(configured).expanduser() if configured else home / MCP_CONFIG_FILE


def load_mcp_config(
    path: Path, environ: Mapping[str, str] | None = None
) -> dict[str, McpServerConfig]:
    """The servers configured in `path`, by name; `{}` when the file does not exist.

    `${VAR}` in any string value is replaced from `environ` (default: the process environment).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise McpConfigError(path, f"cannot read the file: {exc}") from exc
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise McpConfigError(
            path, f"line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}"
        ) from exc
    except _DuplicateKey as exc:
        raise McpConfigError(path, f"key {exc.key!r} appears twice in one object") from exc
    env = os.environ if environ is None else environ
    return _parse_document(document, path, env)


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _parse_document(
    document: Any, path: Path, environ: Mapping[str, str]
) -> dict[str, McpServerConfig]:
    if not isinstance(document, dict):
        raise McpConfigError(path, 'the file must hold a JSON object with "mcpServers"')
    unknown = sorted(set(document) - {"mcpServers", "$schema"})
    if unknown:
        raise McpConfigError(path, f"unknown top-level key {unknown[0]!r} (expected mcpServers)")
    servers = document.get("mcpServers", {})
    if not isinstance(servers, dict):
        raise McpConfigError(path, '"mcpServers" must be an object of servers by name')
    configs: dict[str, McpServerConfig] = {}
    for name, entry in servers.items():
        if not SERVER_NAME.fullmatch(name):
            raise McpConfigError(
                path,
                f"server name {name!r} must be non-empty and use only letters, digits, _ and -",
            )
        configs[name] = _ServerEntry(path, name, environ).parse(entry)
    return configs


@dataclass
class _ServerEntry:
    """Parses one server's object; every error it raises names the file, server and key."""

    path: Path
    name: str
    environ: Mapping[str, str]

    def error(self, key: str, problem: str) -> McpConfigError:
        return McpConfigError(self.path, problem, server=self.name, key=key)

    def parse(self, entry: Any) -> McpServerConfig:
        if not isinstance(entry, dict):
            raise McpConfigError(self.path, "must be an object", server=self.name)
        unknown = sorted(set(entry) - _KNOWN_KEYS)
        if unknown:
            expected = ", ".join(sorted(_KNOWN_KEYS))
            raise self.error(unknown[0], f"unknown key (expected one of: {expected})")
        transport = self.transport(entry)
        if transport == "stdio":
            misplaced = sorted(set(entry) & _HTTP_KEYS)
            if misplaced:
                raise self.error(
                    misplaced[0], "a stdio server (with a command) takes no url/headers"
                )
            return McpServerConfig(
                name=self.name,
                command=self.text(entry, "command", required=True),
                args=self.args(entry),
                env=self.strings(entry, "env"),
                cwd=self.cwd(entry),
                **self.common(entry),
            )
        misplaced = sorted(set(entry) & _STDIO_KEYS)
        if misplaced:
            raise self.error(
                misplaced[0], "an HTTP server (with a url) takes no command/args/env/cwd"
            )
        url = self.text(entry, "url", required=True)
        if not url.startswith(("http://", "https://")):
            raise self.error("url", "must start with http:// or https://")
        return McpServerConfig(
            name=self.name, url=url, headers=self.strings(entry, "headers"), **self.common(entry)
        )

    def transport(self, entry: dict[str, Any]) -> Literal["stdio", "http"]:
        has_command, has_url = "command" in entry, "url" in entry
        if has_command and has_url:
            raise McpConfigError(
                self.path, "has both command and url; give exactly one", server=self.name
            )
        if not has_command and not has_url:
            raise McpConfigError(
                self.path,
                "needs a command (stdio server) or a url (HTTP server)",
                server=self.name,
            )
        implied: Literal["stdio", "http"] = "stdio" if has_command else "http"
        for key in ("transport", "type"):
            if key not in entry:
                continue
            value = entry[key]
            if value == "sse":
                raise self.error(key, "the SSE transport is not supported; use streamable HTTP")
            if not isinstance(value, str) or value not in _TRANSPORTS:
                raise self.error(key, f"must be one of {', '.join(_TRANSPORTS)}, not {value!r}")
            if _TRANSPORTS[value] != implied:
                given = "a command" if has_command else "a url"
                raise self.error(key, f"says {value!r} but the server has {given}")
        return implied

    def expand(self, key: str, value: str) -> str:
        def replace(match: re.Match[str]) -> str:
            variable = match.group(1)
            if variable not in self.environ:
                raise self.error(key, f"environment variable {variable} is not set")
            return self.environ[variable]

        return _VARIABLE.sub(replace, value)

    def text(self, entry: dict[str, Any], key: str, *, required: bool = False) -> str:
        value = entry.get(key)
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.error(key, "must be a non-empty string")
        return self.expand(key, value)

    def args(self, entry: dict[str, Any]) -> tuple[str, ...]:
        value = entry.get("args", [])
        if not isinstance(value, list):
            raise self.error("args", "must be a list of strings")
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise self.error(f"args[{index}]", f"must be a string, not {_kind(item)}")
        return tuple(self.expand(f"args[{index}]", item) for index, item in enumerate(value))

    def strings(self, entry: dict[str, Any], key: str) -> dict[str, str]:
        value = entry.get(key, {})
        if not isinstance(value, dict):
            raise self.error(key, "must be an object of string values")
        result: dict[str, str] = {}
        for name, item in value.items():
            if not name:
                raise self.error(key, "names must be non-empty")
            if not isinstance(item, str):
                raise self.error(f"{key}.{name}", f"must be a string, not {_kind(item)}")
            result[name] = self.expand(f"{key}.{name}", item)
        return result

    def cwd(self, entry: dict[str, Any]) -> str | None:
        if "cwd" not in entry:
            return None
        directory = Path(self.text(entry, "cwd", required=True)).expanduser()
        # Relative to the file, so a checked-in mcp.json works from wherever the agent starts.
        return str(directory if directory.is_absolute() else self.path.parent / directory)

    def common(self, entry: dict[str, Any]) -> dict[str, Any]:
        disabled = entry.get("disabled", False)
        if not isinstance(disabled, bool):
            raise self.error("disabled", f"must be true or false, not {_kind(disabled)}")
        approve = entry.get("autoApprove", [])
        if not isinstance(approve, list) or not all(isinstance(v, str) and v for v in approve):
            raise self.error("autoApprove", "must be a list of tool names")
        timeout = entry.get("timeout", DEFAULT_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise self.error("timeout", f"must be a positive number of seconds, not {timeout!r}")
        return {"disabled": disabled, "auto_approve": frozenset(approve), "timeout": float(timeout)}


def _kind(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "an object",
        type(None): "null",
    }.get(type(value), type(value).__name__)
