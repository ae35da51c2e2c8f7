"""Services kept for the life of the process: built once per run settings, checked on each use.

Every node run asks for its services; building them (database handle, mailbox, every toolkit,
the tool catalogue, the engine) costs milliseconds, so they are built once per `ServicesKey`
and kept, at most `CACHE_SIZE` sets, the least recently used going first. A kept set is
rebuilt when what it was built from changes under the same key: a credential stored, replaced
or deleted, the database closed (`memory.service_stamps`), or a file the build reads
(`watched_files`). The policy and the MCP tools are never kept (`build.refreshed`): the first
may be edited at any time, and the second belong to the event loop's MCP sessions.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from graph.context import Context
from graph.services.build import Services, assemble, refreshed
from graph.services.toolkits import toolkit_files
from memory.keys import key_path
from memory.paths import app_database_url, data_dir
from memory.redaction import install_log_scrubbing
from memory.service_stamps import DatabaseStamp, database_stamp
from tools.mail.demo import demo_working_copy, is_demo_inbox
from tools.mcp.hub import McpHub

CACHE_SIZE = 16
"""How many sets of services a process keeps (one per data directory, inbox, model, ...)."""

FileStamp = tuple[int, int] | None
"""A file's modification time (ns) and size, or None when it does not exist."""


@dataclass(frozen=True)
class ServicesKey:
    """What a kept set of services was built for."""

    context: tuple[tuple[str, object], ...]
    """Every `Context` field by name, `home` as an absolute path."""
    cwd: str
    """The working directory, against which relative settings (a Maildir path) resolve."""
    environment: str
    """`environment_fingerprint` of `os.environ`: the build reads many variables."""


@dataclass(frozen=True)
class Readings:
    """What is read on every use to tell whether a kept set is still current."""

    database: DatabaseStamp
    files: tuple[tuple[Path, FileStamp], ...]


def environment_fingerprint(environ: Mapping[str, str]) -> str:
    """A digest of every variable and its value (the values, secrets among them, are not kept)."""
    digest = hashlib.sha256()
    for name, value in sorted(environ.items()):
        digest.update(f"{name}\0{value}\0".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def services_key(context: Context, home: Path) -> ServicesKey:
    """The key of `context`'s services; `home` is its data directory, resolved."""
    values = tuple(
        (f.name, str(home) if f.name == "home" else getattr(context, f.name))
        for f in fields(context)
    )
    return ServicesKey(values, os.getcwd(), environment_fingerprint(os.environ))


def watched_files(home: Path) -> list[Path]:
    """The files a build reads: the toolkits' own and the vault's key file."""
    return [*toolkit_files(home), key_path(home)]


def file_stamp(path: Path) -> FileStamp:
    """`path`'s modification time and size, or None when it does not exist."""
    try:
        stat = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return stat.st_mtime_ns, stat.st_size


def take_readings(home: Path) -> Readings:
    """The database stamp and the watched files' stamps, as they are now (blocking)."""
    files = tuple((path, file_stamp(path)) for path in watched_files(home))
    return Readings(database_stamp(app_database_url(home)), files)


@dataclass(frozen=True)
class _Entry:
    services: Services
    readings: Readings


class KeptServices:
    """At most `size` sets of services by key, least recently used out; safe across threads.

    One set is built at a time per key: a second caller for the same key waits for the first
    build instead of repeating it, while other keys are served meanwhile.
    """

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[ServicesKey, _Entry] = OrderedDict()
        self._building: dict[ServicesKey, threading.Lock] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _current(self, key: ServicesKey, readings: Readings) -> Services | None:
        """The kept set for `key` if it was built from `readings` (call with the lock held)."""
        entry = self._entries.get(key)
        if entry is None or entry.readings != readings:
            return None
        self._entries.move_to_end(key)
        return entry.services

    def get(self, key: ServicesKey, readings: Readings, build: Callable[[], Services]) -> Services:
        """The set kept for `key` when still current, else `build()`'s, kept (blocking).

        `readings` must be taken before `build` runs, so a change made during a build is seen
        by the next call.
        """
        with self._lock:
            kept = self._current(key, readings)
            if kept is not None:
                return kept
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                kept = self._current(key, readings)
            if kept is not None:
                return kept
            try:
                services = build()
            except BaseException:
                with self._lock:
                    self._building.pop(key, None)
                raise
            with self._lock:
                self._entries[key] = _Entry(services, readings)
                self._entries.move_to_end(key)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
                self._building.pop(key, None)
        return services

    def clear(self) -> None:
        """Forget every kept set."""
        with self._lock:
            self._entries.clear()


_KEPT = KeptServices()


def kept_services(context: Context, hub: McpHub | None = None) -> Services:
    """The services for `context`, kept from an earlier call when still current (blocking).

    The policy is read again and the hub's MCP tools added on every call.
    """
    # The environment's secrets are remembered and logs scrubbed first, as `build_services` does.
    install_log_scrubbing()
    home = data_dir(context.home)
    if is_demo_inbox(context.inbox):
        demo_working_copy(home)  # a kept mailbox names the copy: make it again if it has gone
    readings = take_readings(home)
    services = _KEPT.get(
        services_key(context, home),
        readings,
        lambda: assemble(context, home, readings.database.database),
    )
    return refreshed(services, home, hub)


def clear_services_cache() -> None:
    """Forget every kept set of services: the next node run of each builds its own again.

    For tests that replace something a build uses (a module's function, a cached engine)
    between runs with the same settings; a changed environment, credential, watched file or
    closed database needs no clearing.
    """
    _KEPT.clear()
