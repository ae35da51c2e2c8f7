"""Read and parse many message files on every core, for a first fetch of a large mailbox.

Parsing is pure CPU work and each message stands alone, so worker processes read and parse
batches of files and send back the parsed `Email`s, in order. A file a worker cannot read (gone,
renamed by a flag change, refused) comes back as None, and the caller reads it itself, the
careful way. Workers are forked: they start with the parser already imported, and they only
read files and parse, so nothing the parent's other threads hold is touched.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from tools.mail.mime import parse_email
from tools.mail.model import Email

logger = logging.getLogger(__name__)

BATCH = 200
"""Messages per task: big enough that sending the results back costs little, small enough
that both workers stay busy to the end and little is held at once."""
MAX_WORKERS = 4
AHEAD = 2
"""Batches per worker parsed ahead of the caller: enough that no worker waits, no more."""

Item = tuple[str, str, str]
"""(key, folder, path relative to the Maildir) of one message file."""


def usable_cores() -> int:
    """How many cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def can_parse_in_parallel() -> bool:
    """Whether a pool pays here: more than one core, and processes can be forked."""
    return usable_cores() > 1 and "fork" in multiprocessing.get_all_start_methods()


def parse_batch(root: str, spec: str, items: Sequence[Item]) -> list[Email | None]:
    """Read and parse each file; None for a file that could not be read (the caller retries)."""
    parsed: list[Email | None] = []
    for key, folder, relpath in items:
        try:
            raw = read_file(os.path.join(root, relpath))
        except OSError:
            parsed.append(None)
            continue
        parsed.append(parse_email(raw, source=spec, folder=folder, key=key))
    return parsed


def read_file(path: str) -> bytes:
    """The whole file: `Path.read_bytes` without its buffered file object (a third of the cost).

    Raises:
        OSError: the file cannot be opened or read.

    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        chunks = []
        while chunk := os.read(fd, _READ_CHUNK):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)


_READ_CHUNK = 1024 * 1024


def parse_in_parallel(
    root: Path, spec: str, items: Sequence[Item]
) -> Iterator[tuple[Item, Email | None]]:
    """Each item with its parsed message (or None), in the order given, parsed by a pool.

    At most `AHEAD` batches per worker are parsed ahead of the caller, so a caller that
    stores each batch before it asks for the next holds a few batches at a time, however
    large the mailbox. A pool that cannot start or breaks (a worker killed, say by the memory
    limit on a hostile message) costs nothing but speed: every item not yet handed back comes
    back as None, so the caller reads it the careful way, in this process.
    """
    batches = [items[start : start + BATCH] for start in range(0, len(items), BATCH)]
    workers = min(MAX_WORKERS, usable_cores(), len(batches))
    done = 0
    try:
        context = multiprocessing.get_context("fork")
        logger.debug("parsing %d messages in %d processes", len(items), workers)
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            pending: deque[tuple[Sequence[Item], Future[list[Email | None]]]] = deque()
            for number, batch in enumerate(batches):
                pending.append((batch, pool.submit(parse_batch, str(root), spec, batch)))
                last = number == len(batches) - 1
                while pending and (last or len(pending) >= workers * AHEAD):
                    first, future = pending.popleft()
                    yield from zip(first, future.result(), strict=True)
                    done += len(first)
    except (BrokenProcessPool, OSError) as err:
        logger.warning(
            "parsing in worker processes failed (%s); reading the remaining %d messages here",
            err,
            len(items) - done,
        )
        yield from ((item, None) for item in items[done:])
