"""`GET /health` and `GET /metrics` on the LangGraph server, and its background health watch.

The server loads `app` as its custom HTTP app (`http.app` in `langgraph.json`). Its own
`/metrics` (the server's internals) cannot be shadowed by a route, so ours answers from a
middleware, which runs before the server's routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from memory.audit_counts import pending_approvals, tool_call_counts
from memory.db import open_database
from memory.paths import app_database_url, data_dir
from tools.health.model import PartHealth, exit_code
from ui.health.checks import check_everything
from ui.health.metrics import CONTENT_TYPE, metrics_text
from ui.health.watch import latest_health, start_watch

logger = logging.getLogger(__name__)


async def _current() -> list[PartHealth]:
    """The watch's last round, or a round now when the watch has not run one yet."""
    parts = latest_health()
    if parts:
        return parts
    try:
        parts, _ = await check_everything()
    except Exception as exc:  # the settings or the database: said, not a bare 500
        logger.warning("the health round failed: %s", exc)
        return [PartHealth("settings", "app", "down", f"{type(exc).__name__}: {exc}")]
    return parts


async def health(_request: Request) -> JSONResponse:
    """Every part's state; `ok` is false while one is degraded or down."""
    parts = await _current()
    body = {"ok": exit_code(parts) == 0, "parts": [p.to_json() for p in parts]}
    return JSONResponse(body)


async def metrics() -> Response:
    """The Prometheus text of the health states, tool calls and pending approvals."""
    parts = await _current()

    def counts() -> tuple[list[tuple[str, str, int]], int]:
        db = open_database(app_database_url(data_dir()))
        return tool_call_counts(db), pending_approvals(db)

    calls, pending = await asyncio.to_thread(counts)
    return Response(metrics_text(parts, calls, pending), media_type=CONTENT_TYPE)


class MetricsRoute:
    """Answers `GET /metrics` itself; everything else goes on to the server."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve `/metrics`, pass on the rest."""
        if scope["type"] == "http" and scope["path"] == "/metrics" and scope["method"] == "GET":
            response = await metrics()
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


@contextlib.asynccontextmanager
async def watching(_app: Starlette) -> AsyncIterator[None]:
    """Run the health watch for as long as the server runs."""
    task = start_watch()
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


app = Starlette(
    routes=[Route("/health", health, methods=["GET"])],
    middleware=[Middleware(MetricsRoute)],
    lifespan=watching,
)
