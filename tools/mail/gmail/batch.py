"""Many Gmail reads in one HTTP request: the API's batch endpoint, `POST /batch/gmail/v1`.

The body is `multipart/mixed`, one `application/http` part per call (a request line, no
body), each with a `Content-ID`; the answer is `multipart/mixed` too, each part a whole HTTP
response whose `Content-ID` is `response-` and the id of the call it answers (the calls may
run in any order). The outer request's token applies to every part. Gmail advises at most 50
calls a batch; each still counts as one call against the quota, so a part may be refused
(429, or a 5xx) while the others succeed: those parts alone are asked again, within the
integrations' bounds and waiting as `Retry-After` says. A part refused with 401 gets one
refreshed token. A whole batch refused with 401 is the client's own one refresh.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message

import httpx

from tools.api_requests import retry_after
from tools.google.api import GoogleApi, GoogleApiError

logger = logging.getLogger(__name__)

BATCH_PATH = "/batch/gmail/v1"
BATCH_LIMIT = 50
"""Calls a batch carries at most: Gmail's advice (its hard limit is 100)."""
RETRY_PARTS = frozenset({429, 500, 502, 503, 504})
"""A part refused with these is asked again (it only reads)."""


@dataclass(frozen=True)
class PartAnswer:
    """One call's answer inside a batch; `status` 0 when the batch held no answer for it."""

    status: int
    reason: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def line(self) -> str:
        """`500 Internal Server Error`, as an error names it."""
        return f"{self.status} {self.reason}".strip() if self.status else self.reason

    def header(self, name: str) -> str:
        """A header of the part's response ('' when absent), its name in any case."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), "")


def batch_body(paths: Sequence[str], boundary: str) -> bytes:
    """The `multipart/mixed` body: one `GET path` part each, `Content-ID: <item-N>`."""
    lines: list[str] = []
    for number, path in enumerate(paths):
        lines += [
            f"--{boundary}",
            "Content-Type: application/http",
            f"Content-ID: <item-{number}>",
            "",
            f"GET {path}",
            "",
        ]
    lines.append(f"--{boundary}--")
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def _head_and_body(data: bytes) -> tuple[list[str], bytes]:
    """Header lines and the rest, split at the first empty line (CRLF or bare LF)."""
    cut = [i for i in (data.find(b"\r\n\r\n"), data.find(b"\n\n")) if i >= 0]
    if not cut:
        return data.decode("latin-1").splitlines(), b""
    at = min(cut)
    gap = 4 if data[at : at + 4] == b"\r\n\r\n" else 2
    return data[:at].decode("latin-1").splitlines(), data[at + gap :]


def _fields(lines: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if sep:
            found[name.strip()] = value.strip()
    return found


def parse_batch_answer(content_type: str, body: bytes) -> dict[int, PartAnswer]:
    """Each part's answer by the number of the call it answers (`response-item-N`).

    Raises:
        ValueError: the answer is not `multipart/mixed` with a boundary.

    """
    header = Message()
    header["Content-Type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/mixed" or not isinstance(boundary, str):
        raise ValueError(f"the batch answer is {header.get_content_type()}, not multipart/mixed")
    delimiter = f"--{boundary}".encode()
    answers: dict[int, PartAnswer] = {}
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        part_head, http = _head_and_body(chunk.lstrip(b"\r\n").removesuffix(b"\r\n"))
        content_id = _fields(part_head).get("Content-ID", "").strip("<>")
        number = content_id.removeprefix("response-").removeprefix("item-")
        lines, payload = _head_and_body(http)
        status_line = (lines[0] if lines else "").split(" ", 2)
        if not number.isdigit() or len(status_line) < 2 or not status_line[1].isdigit():
            logger.warning("Gmail batch: a part without a usable Content-ID or status skipped")
            continue
        reason = status_line[2] if len(status_line) > 2 else ""
        answers[int(number)] = PartAnswer(int(status_line[1]), reason, _fields(lines[1:]), payload)
    return answers


def read_batch(api: GoogleApi, paths: Sequence[str]) -> list[PartAnswer]:
    """GET every path (at most `BATCH_LIMIT`) in one batch; the answers in the same order.

    A part refused with 429 or a 5xx is asked again in a smaller batch, a bounded number of
    times; what is still refused comes back as it was (status 429 means: rate limited).

    Raises:
        GoogleApiError: the batch itself failed (no answer, refused as a whole, or a wait
            longer than the bound).

    """
    if len(paths) > BATCH_LIMIT:
        raise ValueError(f"a Gmail batch carries at most {BATCH_LIMIT} calls, not {len(paths)}")
    answers: dict[int, PartAnswer] = {}
    pending = list(range(len(paths)))
    attempt, refreshed = 0, False
    while pending:
        got = _send(api, [paths[n] for n in pending])
        answered = {
            n: got.get(i, PartAnswer(0, "no answer in the batch")) for i, n in enumerate(pending)
        }
        answers.update(answered)
        failing = [n for n, a in answered.items() if a.status in RETRY_PARTS or a.status == 0]
        refused = [] if refreshed else [n for n, a in answered.items() if a.status == 401]
        if refused:
            logger.info(
                "Gmail batch: %d part(s) refused the token; refreshing it once", len(refused)
            )
            api.refreshed_token()
            refreshed = True
        if failing and attempt >= api.retry.retries:
            failing = []  # given up on: their last answers stand
        pending = sorted(failing + refused)
        if failing:
            asked = [w for n in failing if (w := retry_after_of(answered[n])) is not None]
            api.wait(attempt, max(asked) if asked else None)
            attempt += 1
        if pending:
            logger.info("Gmail batch: asking again for %d of %d part(s)", len(pending), len(paths))
    return [answers[n] for n in range(len(paths))]


def retry_after_of(answer: PartAnswer) -> float | None:
    """A part's `Retry-After` in seconds (None when it gives none)."""
    return retry_after(httpx.Response(answer.status or 500, headers=dict(answer.headers)))


def _send(api: GoogleApi, paths: Sequence[str]) -> dict[int, PartAnswer]:
    boundary = "batch_" + secrets.token_hex(12)
    response = api.exchange(
        "POST",
        BATCH_PATH,
        content=batch_body(paths, boundary),
        headers={"Content-Type": f"multipart/mixed; boundary={boundary}"},
        idempotent=True,  # every part only reads
    )
    if response.status_code >= 400:
        raise GoogleApiError(api.refusal(response, "POST", BATCH_PATH), response.status_code)
    try:
        return parse_batch_answer(response.headers.get("content-type", ""), response.content)
    except ValueError as err:
        raise GoogleApiError(f"{api.name}: {err}") from None
