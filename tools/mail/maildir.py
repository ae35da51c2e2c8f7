"""Read a Maildir incrementally, opening only messages that have not been seen before.

Listing a Maildir needs only directory reads, and a message's file name keeps its unique part
when flags change, so a re-fetch of an unchanged mailbox costs a few `stat` calls and no reads.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tools.mail.maildir_find import find_message_ids
from tools.mail.maildir_names import INBOX as INBOX
from tools.mail.maildir_names import SUBDIRS as _SUBDIRS
from tools.mail.maildir_names import message_files
from tools.mail.maildir_names import message_key as message_key
from tools.mail.mime import parse_email
from tools.mail.model import DRAFTS, SENT, Email
from tools.mail.parse_pool import can_parse_in_parallel, parse_in_parallel
from tools.mail.source_protocol import MailSourceError, SyncResult

if TYPE_CHECKING:
    from memory.db import AppDatabase

logger = logging.getLogger(__name__)

_delivery_counter = itertools.count()


@dataclass
class FetchResult:
    """What one `MaildirSource.fetch_new` call found."""

    emails: list[Email] = field(default_factory=list)
    """Newly seen messages, parsed; unreadable ones are included with `error` set."""
    seen_keys: set[str] = field(default_factory=set)
    """Every message key present in the mailbox now."""
    read_count: int = 0
    """How many message files were opened."""

    @property
    def errors(self) -> list[Email]:
        """The new messages that could not be read."""
        return [e for e in self.emails if e.error]


class MaildirSource:
    """A Maildir (with Maildir++ subfolders) read as a mail source."""

    write_batch: int = 1000
    """New messages parsed, then stored, at a time: what a first fetch of any size holds."""
    parallel_from: int = 1000
    """New messages from which a fetch parses them in worker processes (`parse_pool`)."""
    settle_seconds: float = 2.0
    """A directory modified this recently may change again within the same mtime tick (a whole
    second on some filesystems), so `signature` is made unique to force a real listing."""

    def __init__(self, path: Path, spec: str) -> None:
        self.path = Path(path)
        self.spec = spec
        self.read_count = 0
        """Message files opened over this source's lifetime."""
        self._paths: dict[str, tuple[str, str]] = {}
        if not self.path.exists():
            raise MailSourceError(f"Maildir '{self.path}' does not exist")
        if not self.path.is_dir():
            raise MailSourceError(f"Maildir '{self.path}' is not a directory")
        if not any((self.path / sub).is_dir() for sub in _SUBDIRS):
            raise MailSourceError(
                f"'{self.path}' is not a Maildir: it has no cur/ or new/ directory"
            )

    def __repr__(self) -> str:
        return f"MaildirSource({self.spec!r})"

    # ------------------------------------------------------------------ listing

    def _folders(self) -> list[tuple[str, Path]]:
        """(folder name, directory) for the top level and every Maildir++ subfolder."""
        folders = [(INBOX, self.path)]
        try:
            with os.scandir(self.path) as entries:
                for entry in entries:
                    if (
                        entry.name.startswith(".")
                        and entry.name not in (".", "..")
                        and entry.is_dir()
                        and any(os.path.isdir(os.path.join(entry.path, s)) for s in _SUBDIRS)
                    ):
                        folders.append((entry.name[1:], Path(entry.path)))
        except OSError as exc:
            raise MailSourceError(
                f"Maildir '{self.path}' cannot be listed: {exc.strerror}"
            ) from exc
        folders[1:] = sorted(folders[1:])
        return folders

    def list_keys(self) -> dict[str, tuple[str, str]]:
        """Map every message key to (folder, path relative to the Maildir), opening no file."""
        found: dict[str, tuple[str, str]] = {}
        for folder, directory in self._folders():
            prefix = "" if directory == self.path else directory.name + "/"
            for sub in _SUBDIRS:
                names = [e.name for e in message_files(directory, sub)]
                for name in sorted(names):
                    key = message_key(name)
                    if key in found:
                        # Seen mid-move from new/ to cur/, or copied between folders under the
                        # same name: one entry per message is what callers want.
                        logger.debug("duplicate Maildir key %s at %s%s/%s", key, prefix, sub, name)
                        continue
                    found[key] = (folder, f"{prefix}{sub}/{name}")
        self._paths = found
        return found

    def signature(self) -> str:
        """Return a cheap fingerprint that changes when messages are added, removed or re-flagged.

        It hashes the mtimes of the Maildir root and of every folder's cur/ and new/, which
        change whenever a file is created, renamed (flags) or removed in them.
        """
        parts: list[str] = []
        now = time.time()
        unsettled = False
        for folder, directory in self._folders():
            for sub in ("", *_SUBDIRS):
                try:
                    stat = os.stat(directory / sub if sub else directory)
                except OSError:
                    parts.append(f"{folder}/{sub}:-")
                    continue
                parts.append(f"{folder}/{sub}:{stat.st_mtime_ns}")
                unsettled = unsettled or now - stat.st_mtime < self.settle_seconds
        if unsettled:
            parts.append(f"unsettled:{time.time_ns()}")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]

    # ------------------------------------------------------------------ reading

    def read(self, key_or_relpath: str) -> Email:
        """Read and parse one message by key or relative path; never raises for a bad message."""
        key, folder, relpath = self._locate(key_or_relpath)
        if relpath is None:
            return self._missing(key, folder)
        raw = self._read_file(relpath)
        if raw is None:
            # The file may only have been renamed (a flag change) since it was listed.
            self.list_keys()
            if key in self._paths:
                folder, relpath = self._paths[key]
                raw = self._read_file(relpath)
        if isinstance(raw, str):
            return self._missing(key, folder, raw)
        if raw is None:
            return self._missing(key, folder)
        return parse_email(raw, source=self.spec, folder=folder, key=key)

    def _locate(self, key_or_relpath: str) -> tuple[str, str, str | None]:
        if "/" in key_or_relpath:
            relpath = key_or_relpath.strip("/")
            parts = relpath.split("/")
            if (
                ".." in parts
                or len(parts) not in (2, 3)
                or parts[-2] not in _SUBDIRS
                or (len(parts) == 3 and not parts[0].startswith("."))
            ):
                return message_key(parts[-1]), INBOX, None
            folder = parts[0][1:] if len(parts) == 3 else INBOX
            return message_key(parts[-1]), folder, relpath
        key = message_key(key_or_relpath)
        if key not in self._paths:
            self.list_keys()
        if key not in self._paths:
            return key, INBOX, None
        folder, relpath = self._paths[key]
        return key, folder, relpath

    def _read_file(self, relpath: str) -> bytes | str | None:
        """Bytes of the file, None when it is gone, or the reason it could not be read."""
        self.read_count += 1
        try:
            return (self.path / relpath).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            logger.warning("message file %s could not be read: %s", relpath, exc)
            return f"message file could not be read: {exc.strerror or exc}"

    def _missing(self, key: str, folder: str, reason: str = "message file disappeared") -> Email:
        return Email(
            id="sha256:" + hashlib.sha256(f"{self.spec}\n{key}".encode()).hexdigest()[:32],
            source=self.spec,
            folder=folder,
            key=key,
            error=reason,
        )

    def fetch_new(self, known_keys: set[str]) -> FetchResult:
        """List the mailbox and read only the messages whose keys are not in `known_keys`.

        A message that vanishes between listing and reading (deleted or expunged by another
        client) is left out of both `emails` and `seen_keys`: it no longer exists.

        Raises:
            MailSourceError: the Maildir itself cannot be listed.

        """
        result = FetchResult()
        for batch in self.fetch_batches(known_keys, result):
            result.emails.extend(batch)
        return result

    def fetch_batches(self, known_keys: set[str], result: FetchResult) -> Iterator[list[Email]]:
        """`fetch_new` a batch of at most `write_batch` messages at a time, in key order.

        `result` gets the keys seen and the count of files opened (its `emails` are left to
        the caller), so a caller that stores each batch before asking for the next holds one
        batch at a time.
        """
        opened_before = self.read_count
        listing = self.list_keys()
        result.seen_keys = set(listing)
        new = sorted(set(listing) - known_keys)
        batch: list[Email] = []
        for key, parsed in self._parsed(new, listing):
            email = parsed or self.read(key)
            result.read_count = self.read_count - opened_before
            if email.error == "message file disappeared":
                logger.info("message %s disappeared before it could be read", key)
                result.seen_keys.discard(key)
                continue
            batch.append(email)
            if len(batch) >= self.write_batch:
                yield batch
                batch = []
        if batch:
            yield batch
        result.read_count = self.read_count - opened_before
        logger.debug(
            "%s: %d messages, %d new, %d opened",
            self.spec,
            len(listing),
            len(new),
            result.read_count,
        )

    def _parsed(
        self, keys: list[str], listing: dict[str, tuple[str, str]]
    ) -> Iterator[tuple[str, Email | None]]:
        """Each key with its message parsed by a pool of processes, when that pays, or None."""
        if len(keys) < self.parallel_from or not can_parse_in_parallel():
            yield from ((key, None) for key in keys)
            return
        items = [(key, *listing[key]) for key in keys]
        for (key, _, _), email in parse_in_parallel(self.path, self.spec, items):
            self.read_count += email is not None
            yield key, email

    def sync(self, db: AppDatabase) -> SyncResult:
        """Fetch what is new into the cache, skipping the listing when the signature is unchanged.

        The cursor is the mailbox's `signature`: when it has not changed, nothing is listed or
        read; otherwise only messages whose keys are not cached yet are read.
        """
        signature = self.signature()
        cursor = db.get_cursor(self.spec)
        if cursor is not None and cursor.signature == signature:
            return SyncResult(source=self.spec, skipped=True)
        fetched = FetchResult()
        synced = SyncResult(source=self.spec)
        for batch in self.fetch_batches(db.known_keys(self.spec), fetched):
            try:
                stored = db.add_emails(batch)
            except Exception:
                # The batches stored stay; no cursor is kept, so the next fetch reads the rest.
                logger.error(
                    "%s: storing a batch failed after %d new message(s) were stored",
                    self.spec,
                    len(synced.new),
                )
                raise
            synced.new.extend(_as_reported(email) for email in stored)
        db.set_cursor(self.spec, signature, len(fetched.seen_keys))
        synced.read_count = fetched.read_count
        return synced

    # ------------------------------------------------------------------ writing

    def save_message(self, raw: bytes, folder: str, flags: str) -> str:
        """Store a message in `folder` (a Maildir++ subfolder, created if needed) with `flags`.

        The file is written under tmp/ and renamed into cur/, so readers never see a partial
        message. `INBOX` means the top-level Maildir; flags are Maildir info letters ("S"
        seen, "D" draft, ...) in any order. Returns the message's key.

        Raises:
            ValueError: `folder` is not a plain folder name, or `flags` holds a non-letter.

        """
        if not folder or folder.startswith(".") or any(c in folder for c in "/\\\0"):
            raise ValueError(f"not a Maildir folder name: {folder!r}")
        if not all(c.isascii() and c.isalpha() for c in flags):
            raise ValueError(f"Maildir flags must be ASCII letters, not {flags!r}")
        # The Maildir spec wants the flags in ASCII order, each once.
        info = ":2," + "".join(sorted(set(flags)))
        prefix = "" if folder == INBOX else f".{folder}/"
        directory = self.path / prefix
        for sub in ("tmp", "new", "cur"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        key = _unique_name()
        tmp_path = directory / "tmp" / key
        fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(raw)
                handle.flush()
                os.fsync(handle.fileno())
            os.rename(tmp_path, directory / "cur" / f"{key}{info}")
        except BaseException:
            # Leave no half-written message behind in tmp/.
            tmp_path.unlink(missing_ok=True)
            raise
        self._paths[key] = (folder, f"{prefix}cur/{key}{info}")
        return key

    def save_draft(self, raw: bytes) -> str:
        """Store a message in the `.Drafts` folder with the Draft flag; return its key."""
        return self.save_message(raw, DRAFTS, "D")

    def save_sent(self, raw: bytes) -> str:
        """Store a copy of a sent message in the `.Sent` folder, marked seen; return its key."""
        return self.save_message(raw, SENT, "S")

    # ------------------------------------------------------------------ finding by Message-ID

    def find_sent(self, message_ids: Sequence[str]) -> dict[str, str]:
        """The keys of the messages in `.Sent` carrying these Message-IDs: id → key, found only."""
        return self.find_message_ids(SENT, message_ids)

    def find_message_ids(self, folder: str, message_ids: Sequence[str]) -> dict[str, str]:
        """Message-ID (as given) → key, for the messages of `folder` that carry one of them.

        Raises:
            MailSourceError: the folder exists but cannot be listed.

        """
        return find_message_ids(self.path, folder, message_ids)


def _as_reported(email: Email) -> Email:
    """A stored message as a sync reports it: its id, where it is and why it was unreadable.

    The rest is in the cache. A sync is asked which messages came and which could not be read;
    a first fetch of 100,000 messages that kept each one's headers held about 120 MiB until
    it ended, and the process kept most of that memory for the steps after it.
    """
    return Email(
        id=email.id,
        source=email.source,
        folder=email.folder,
        key=email.key,
        error=email.error,
        account=email.account,
    )


def _unique_name() -> str:
    """Return a Maildir unique name: time, microseconds, pid and a counter, then the host."""
    now = time.time()
    host = socket.gethostname().replace("/", "\\057").replace(":", "\\072") or "localhost"
    micro = int((now % 1) * 1_000_000)
    return f"{int(now)}.M{micro}P{os.getpid()}Q{next(_delivery_counter)}.{host}"
