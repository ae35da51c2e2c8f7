"""A small real HTTP server on 127.0.0.1 for standing in for a web API in tests.

Subclasses implement `serve` with the API's documented behaviour (status codes, error
bodies). Tests can put scripted answers in front of it (a 429 with `Retry-After`, a 503, a
connection dropped after the request arrived, an answer that comes too late), and read back
every request exactly as it arrived: method, path, headers (authorization included: the
tokens here are fake) and body. An `Echo` answer plays a careless or hostile service: it repeats
the credential the request carried (the `Authorization` header, the token, a webhook's secret),
plainly and encoded, in an error or a successful body.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """An answer: a dict or list is sent as JSON, a string as text, None as an empty body."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Drop:
    """Read the request, then close the connection without answering."""


@dataclass(frozen=True)
class Stall:
    """Answer `then` only after `seconds` (to make a client time out)."""

    seconds: float
    then: Reply | Drop = field(default_factory=Drop)


ECHO = "{echo}"
"""Where an `Echo` body puts the credentials it repeats."""


@dataclass(frozen=True)
class Echo:
    """Answer `status` with `body`, every `{echo}` in its strings replaced by `echo_text`."""

    status: int
    body: Any = ECHO
    headers: dict[str, str] = field(default_factory=dict)


def json_escape_split(secret: str) -> str:
    """`secret` with its middle character written as a JSON `\\u00XX` escape."""
    middle = len(secret) // 2
    return f"{secret[:middle]}\\u{ord(secret[middle]):04x}{secret[middle + 1 :]}"


def echo_text(secrets: list[str]) -> str:
    """Each secret as an adversary would repeat it: plain, base64 (aligned and shifted by one
    byte, as inside `user:secret`), base64url, URL-encoded and split by a JSON escape."""
    parts = []
    for secret in secrets:
        raw = secret.encode()
        parts += [
            f"got {secret}",
            f"b64 {base64.b64encode(raw).decode()}",
            f"b64-shifted {base64.b64encode(b'u:' + raw).decode()}",
            f"b64url {base64.urlsafe_b64encode(b'x' + raw).decode()}",
            f"url {quote(secret, safe='')}",
            f"escaped {json_escape_split(secret)}",
        ]
    return "; ".join(parts)


def _fill(body: Any, text: str) -> Any:
    if isinstance(body, str):
        return body.replace(ECHO, text)
    if isinstance(body, dict):
        return {key: _fill(value, text) for key, value in body.items()}
    if isinstance(body, list):
        return [_fill(value, text) for value in body]
    return body


Scripted = Reply | Drop | Stall | Echo


@dataclass(frozen=True)
class Recorded:
    """A request as the server received it."""

    method: str
    path: str
    """The path without the query."""
    query: dict[str, list[str]]
    headers: dict[str, str]
    """Lower-cased names."""
    body: bytes

    @property
    def json(self) -> Any:
        """The body parsed as JSON (None when it is not JSON)."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


class FakeApi:
    """A threaded HTTP server on a free port of 127.0.0.1; `serve` speaks the API."""

    name = "fake api"

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._script: deque[tuple[str | None, Scripted]] = deque()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False  # a stalled answer must not hold up stop()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=self.name,
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeApi:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port (a client connecting afterwards is refused)."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def script(self, *answers: Scripted, path: str | None = None) -> None:
        """Answer the next requests (to `path` only, if given) with these, in order."""
        with self._lock:
            self._script.extend((path, answer) for answer in answers)

    @property
    def unused_script(self) -> int:
        """Scripted answers no request consumed."""
        with self._lock:
            return len(self._script)

    def calls(self, method: str, path: str) -> list[Recorded]:
        """The requests with this method and path."""
        return [r for r in self.requests if r.method == method and r.path == path]

    def serve(self, request: Recorded) -> Reply:
        """The API's own answer; subclasses implement it."""
        raise NotImplementedError

    def credentials(self, request: Recorded) -> list[str]:
        """What an `Echo` repeats: the `Authorization` header and the credential inside it."""
        header = request.headers.get("authorization", "")
        scheme, _, credential = header.partition(" ")
        found = [header, credential] if credential else [header] if header else []
        if scheme.lower() == "basic" and credential:
            pair = base64.b64decode(credential).decode()
            found += [pair, pair.partition(":")[2]]
        return found

    def _answer(self, request: Recorded) -> Reply | Drop | Stall:
        with self._lock:
            self.requests.append(request)
            for index, (path, answer) in enumerate(self._script):
                if path is None or path == request.path:
                    del self._script[index]
                    if isinstance(answer, Echo):
                        text = echo_text(self.credentials(request))
                        return Reply(answer.status, _fill(answer.body, text), answer.headers)
                    return answer
        return self.serve(request)


def _handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def do_PUT(self) -> None:
            self._handle()

        def do_HEAD(self) -> None:
            self._handle()

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            request = Recorded(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            answer = api._answer(request)
            if isinstance(answer, Stall):
                time.sleep(answer.seconds)
                answer = answer.then
            if isinstance(answer, Drop):
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            self._send(answer)

        def _send(self, reply: Reply) -> None:
            headers = {k.lower(): v for k, v in reply.headers.items()}
            if isinstance(reply.body, dict | list):
                payload = json.dumps(reply.body).encode()
                headers.setdefault("content-type", "application/json;charset=utf-8")
            elif isinstance(reply.body, str):
                payload = reply.body.encode()
                headers.setdefault("content-type", "text/plain; charset=utf-8")
            else:
                payload = b""
            self.send_response(reply.status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            logger.debug(f"{api.name}: " + format, *args)

    return Handler
