"""A real PostgreSQL server for the tests and the load test: initdb + pg_ctl in a temporary folder.

It listens on 127.0.0.1 on a free port (and a Unix socket inside its folder), with password
authentication over TCP, and is stopped and deleted afterwards. PostgreSQL refuses to run as
root, so as root the server runs as the `postgres` user that Debian's package creates (or
`nobody`), in a folder that user owns.

The binaries come from `SMART_INBOX_PG_BINDIR`, else the newest `/usr/lib/postgresql/*/bin`
(Debian), else `PATH`. `SMART_INBOX_TEST_DATABASE_URL` points the tests at a server of your own
instead (its user must be allowed to create databases).
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

BINDIR_ENV = "SMART_INBOX_PG_BINDIR"
EXTERNAL_URL_ENV = "SMART_INBOX_TEST_DATABASE_URL"
SKIP_ENV = "SMART_INBOX_SKIP_POSTGRES"
HOST = "127.0.0.1"
ADMIN = "smartinbox"

INSTALL_HINT = (
    "install it with `apt-get install postgresql` (Debian/Ubuntu; `.ci/run` does this), "
    f"or set {SKIP_ENV}=1 to skip the PostgreSQL tests on this machine"
)


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be started here; the message says why and how to fix it."""


def find_bindir() -> Path:
    """The folder with `initdb`, `pg_ctl` and `pg_dump`.

    Raises:
        PostgresUnavailable: no PostgreSQL server binaries were found.

    """
    if os.environ.get(BINDIR_ENV):
        bindir = Path(os.environ[BINDIR_ENV])
        if not (bindir / "initdb").exists():
            raise PostgresUnavailable(f"{BINDIR_ENV}={bindir} has no initdb")
        return bindir
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.parent.name)] or [0],
    )
    if debian:
        return debian[-1].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found (no initdb in /usr/lib/postgresql/*/bin or on "
        f"PATH): {INSTALL_HINT}"
    )


def free_port(host: str = HOST) -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass
class _RunAs:
    """Who runs the server: ourselves, or (as root) an unprivileged user."""

    uid: int | None = None
    gid: int | None = None
    name: str = ""

    @classmethod
    def pick(cls) -> _RunAs:
        if os.geteuid() != 0:
            return cls()
        for name in ("postgres", "nobody"):
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                continue
            return cls(entry.pw_uid, entry.pw_gid, name)
        raise PostgresUnavailable(
            "PostgreSQL refuses to run as root and there is no `postgres` or `nobody` user "
            "to run it as"
        )

    def subprocess_options(self) -> dict[str, Any]:
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def own(self, path: Path) -> None:
        if self.uid is not None and self.gid is not None:
            os.chown(path, self.uid, self.gid)


def _base_folder(run_as: _RunAs) -> str:
    """A temporary folder the server's user can reach (every parent searchable by others)."""
    base = Path(tempfile.gettempdir()).resolve()
    if run_as.uid is None:
        return str(base)
    for folder in (base, *base.parents):
        if not folder.stat().st_mode & 0o001:
            return "/tmp"
    return str(base)


@dataclass
class PostgresServer:
    """A running server; `url(db)` gives a `postgresql://` URL of one of its databases."""

    bindir: Path | None
    folder: Path | None
    port: int
    password: str
    host: str = HOST
    user: str = ADMIN
    external_url: str | None = None
    run_as: _RunAs = field(default_factory=_RunAs)
    server_options: str = ""
    """The options the server was started with (`resume` starts it with them again)."""

    # -- lifecycle ----------------------------------------------------------------------------

    @classmethod
    def start(cls, *, durable: bool = False, max_connections: int = 200) -> PostgresServer:
        """Start a new server (or use `SMART_INBOX_TEST_DATABASE_URL`'s).

        `durable=False` turns off fsync (tests do not survive a power cut anyway); the load
        test keeps PostgreSQL's defaults so its numbers are those of a real installation.

        Raises:
            PostgresUnavailable: the binaries are missing or the server would not start.

        """
        if os.environ.get(EXTERNAL_URL_ENV):
            return cls.external(os.environ[EXTERNAL_URL_ENV])
        bindir = find_bindir()
        run_as = _RunAs.pick()
        folder = Path(tempfile.mkdtemp(prefix="smart-inbox-pg-", dir=_base_folder(run_as)))
        try:
            run_as.own(folder)
            password = secrets.token_urlsafe(18)
            pwfile = folder / "pw"
            pwfile.write_text(password + "\n")
            run_as.own(pwfile)
            server = cls(bindir, folder, 0, password, run_as=run_as)
            server._initdb(pwfile)
            pwfile.unlink()
            options = ["-c", f"max_connections={max_connections}"]
            if not durable:
                options += ["-c", "fsync=off", "-c", "full_page_writes=off"]
            server._start(options)
            return server
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    @classmethod
    def external(cls, admin_url: str) -> PostgresServer:
        """A server someone else runs, reached with an admin URL that may create databases."""
        info = psycopg.conninfo.conninfo_to_dict(admin_url)
        return cls(
            None,
            None,
            int(info.get("port") or 5432),
            str(info.get("password") or ""),
            host=str(info.get("host") or HOST),
            user=str(info.get("user") or ADMIN),
            external_url=admin_url,
        )

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert self.bindir is not None and self.folder is not None
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.folder),
            "LC_ALL": "C",
            "LANG": "C",
        }
        done = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            cwd=self.folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            **self.run_as.subprocess_options(),
        )
        if check and done.returncode != 0:
            raise PostgresUnavailable(
                f"{args[0]} failed (exit {done.returncode}): "
                f"{(done.stderr or done.stdout).strip()[-2000:]}"
            )
        return done

    def _initdb(self, pwfile: Path) -> None:
        assert self.folder is not None
        self._run(
            "initdb",
            "-D",
            str(self.folder / "data"),
            "-U",
            self.user,
            "--pwfile",
            str(pwfile),
            "--auth-local=scram-sha-256",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )

    def _start(self, options: Sequence[str]) -> None:
        assert self.folder is not None
        sockets = self.folder / "sockets"
        sockets.mkdir()
        self.run_as.own(sockets)
        last = ""
        for _attempt in range(3):
            self.port = free_port()
            server_options = [
                "-c",
                f"listen_addresses={HOST}",
                "-p",
                str(self.port),
                "-k",
                str(sockets),
                *options,
            ]
            done = self._run(
                "pg_ctl",
                "-D",
                str(self.folder / "data"),
                "-l",
                str(self.folder / "server.log"),
                "-w",
                "-t",
                "60",
                "-o",
                " ".join(server_options),
                "start",
                check=False,
            )
            if done.returncode == 0:
                self.server_options = " ".join(server_options)
                return
            last = self.log_tail()
            if "already in use" not in last:  # another port only helps a taken port
                break
        raise PostgresUnavailable(f"PostgreSQL did not start: {last or done.stderr.strip()}")

    def restart(self) -> None:
        """Restart the server (fast shutdown): every open connection is cut."""
        if self.folder is None:
            raise PostgresUnavailable("cannot restart a server this process did not start")
        # The log file keeps the new server's output off our pipes (pg_ctl would never end).
        log = str(self.folder / "server.log")
        self._run(
            "pg_ctl", "-D", str(self.folder / "data"), "-l", log, "-m", "fast", "-w", "restart"
        )

    def halt(self) -> None:
        """Stop the server (fast shutdown) and keep its data: `resume` starts it again."""
        if self.folder is None:
            raise PostgresUnavailable("cannot halt a server this process did not start")
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start a halted server again, on its port, with the options it had."""
        if self.folder is None:
            raise PostgresUnavailable("cannot resume a server this process did not start")
        log = str(self.folder / "server.log")
        data = str(self.folder / "data")
        options = ("-o", self.server_options)
        self._run("pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", *options, "start")

    def log_tail(self, lines: int = 20) -> str:
        """The end of the server's log."""
        if self.folder is None:
            return ""
        try:
            text = (self.folder / "server.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its folder."""
        if self.folder is None:
            return
        try:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- databases ----------------------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        """A `postgresql://` URL of `database` on this server (with the password)."""
        if self.external_url is not None:
            info = psycopg.conninfo.conninfo_to_dict(self.external_url)
            info["dbname"] = database
            return _as_url(info)
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database; returns its URL."""
        name = name or f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting whoever still uses it."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def dump(self, database: str, *tables: str) -> bytes:
        """`pg_dump` of `database` (only `tables`, if given), as plain SQL bytes."""
        pg_dump = (self.bindir / "pg_dump") if self.bindir else Path(shutil.which("pg_dump") or "")
        if not pg_dump.exists():
            raise PostgresUnavailable(f"pg_dump not found: {INSTALL_HINT}")
        command = [str(pg_dump), "--no-owner", "--data-only", "-d", self.url(database)]
        for table in tables:
            command += ["-t", table]
        done = subprocess.run(command, capture_output=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"pg_dump failed: {done.stderr.decode(errors='replace')}")
        return done.stdout


def _as_url(info: dict[str, Any]) -> str:
    from urllib.parse import quote

    auth = quote(str(info.get("user") or ""), safe="")
    if info.get("password"):
        auth += ":" + quote(str(info["password"]), safe="")
    host = str(info.get("host") or HOST)
    port = f":{info['port']}" if info.get("port") else ""
    return f"postgresql://{auth}@{host}{port}/{quote(str(info['dbname']), safe='')}"


def database_name(url: str) -> str:
    """The database a `postgresql://` URL names."""
    return str(psycopg.conninfo.conninfo_to_dict(url)["dbname"])
