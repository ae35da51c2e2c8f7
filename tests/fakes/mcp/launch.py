"""Start the test MCP servers: configurations for stdio, and HTTP server processes on free ports."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType

from tools.mcp.config import McpServerConfig

REPO_ROOT = Path(__file__).resolve().parents[3]
ECHO_MODULE = "tests.fakes.mcp.echo_server"
HANG_MODULE = "tests.fakes.mcp.hang_server"


def stdio_config(
    name: str,
    module: str = ECHO_MODULE,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
    disabled: bool = False,
) -> McpServerConfig:
    """A stdio server run as `python -m <module>` from the repository root."""
    return McpServerConfig(
        name=name,
        command=sys.executable,
        args=("-m", module),
        env=env or {},
        cwd=str(REPO_ROOT),
        timeout=timeout,
        disabled=disabled,
    )


class HttpMcpServer:
    """A test server process serving streamable HTTP on 127.0.0.1; restartable on its port."""

    def __init__(self, module: str = ECHO_MODULE, env: dict[str, str] | None = None) -> None:
        self.module = module
        self.env = env or {}
        self.port = 0
        self.url = ""
        self.process: subprocess.Popen[str] | None = None

    def start(self, startup_timeout: float = 20.0) -> HttpMcpServer:
        """Start the process (on the port it had before, if any) and wait until it listens."""
        process = subprocess.Popen(
            [sys.executable, "-m", self.module, "--http", str(self.port)],
            cwd=REPO_ROOT,
            env={**os.environ, **self.env},
            stdout=subprocess.PIPE,
            text=True,
        )
        self.process = process
        lines: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        stdout = process.stdout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=startup_timeout)
        except queue.Empty:
            self.stop()
            raise RuntimeError(f"{self.module} did not start listening") from None
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"{self.module} failed to start: {line!r}")
        self.url = line.split()[-1]
        self.port = int(self.url.rsplit(":", 1)[1].split("/", 1)[0])
        return self

    def kill(self) -> None:
        """Kill the process at once, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.process is not None:
            self.process.wait(timeout=10)

    def stop(self) -> None:
        self.kill()
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()

    def config(self, name: str, *, timeout: float = 30.0) -> McpServerConfig:
        return McpServerConfig(name=name, url=self.url, timeout=timeout)

    def __enter__(self) -> HttpMcpServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def running(pid: int) -> bool:
    """Whether a process with this id exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return True
    return fields[0] != "Z"


def child_pids() -> set[int]:
    """Live child processes of this process (Linux /proc)."""
    me = os.getpid()
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me and fields[0] != "Z":
            children.add(int(entry.name))
    return children
