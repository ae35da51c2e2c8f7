"""One message of the mailbox as a page of the chat server, for the links in answers and lists.

Citations and the triage list link here instead of carrying message bodies in the chat: the
chat's page holds only what is on screen, and a link keeps working after a reload, a
reopened chat and a restart. The page needs the same login as the chat; every value from the
mail is escaped (mail content is data, never markup).
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from pathlib import Path

from chainlit.auth import get_current_user, reuseable_oauth
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from memory.db import AppDatabase, open_database
from memory.mail_tables import TriageRecord
from memory.paths import app_database_url
from tools.mail.model import Email
from ui.chat.render import MAIL_PATH

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;
color:#1f2328;background:#fff}
@media (prefers-color-scheme:dark){body{color:#e6e6e6;background:#1a1a1a}
.meta{color:#aaa}code{background:#2a2a2a}}
h1{font-size:1.3rem;margin:0 0 .75rem}
.meta{color:#555;margin:0 0 1rem;display:grid;grid-template-columns:6rem 1fr;gap:.1rem .5rem}
.meta dt{font-weight:600}.meta dd{margin:0;overflow-wrap:anywhere}
pre{white-space:pre-wrap;overflow-wrap:anywhere;font:inherit}
code{background:#f0f0f0;padding:0 .25rem;border-radius:3px;overflow-wrap:anywhere}
.error{color:#b42318;font-weight:600}
"""


def _field(label: str, value: str) -> str:
    return f"<dt>{html.escape(label)}</dt><dd>{html.escape(value)}</dd>" if value else ""


def message_page(email: Email, triage: TriageRecord | None) -> str:
    """The whole HTML page of one message; every value from the mail is escaped."""
    sender = f"{email.from_name} <{email.from_addr}>" if email.from_name else email.from_addr
    meta = "".join(
        [
            _field("From", sender),
            _field("To", ", ".join(email.to)),
            _field("Cc", ", ".join(email.cc)),
            _field("Reply-To", email.reply_to if email.reply_to != email.from_addr else ""),
            _field("Date", email.date),
            _field("Folder", email.folder),
            _field(
                "Triage",
                f"{triage.priority} · {triage.category.replace('_', ' ')} · {triage.action} — "
                f"{triage.reason}"
                if triage is not None
                else "",
            ),
            _field(
                "Attachments",
                "; ".join(
                    f"{a.filename} ({a.content_type}, {a.size} bytes)" for a in email.attachments
                ),
            ),
        ]
    )
    if email.error:
        body = f'<p class="error">This message could not be read: {html.escape(email.error)}</p>'
    else:
        body = f"<pre>{html.escape(email.body)}</pre>"
    title = html.escape(email.subject or "(no subject)")
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<style>{STYLE}</style></head><body><h1>{title}</h1>"
        f'<dl class="meta">{meta}<dt>Id</dt><dd><code>{html.escape(email.id)}</code></dd></dl>'
        f"{body}</body></html>"
    )


def _missing_page(message_id: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not found</title>'
        f"<style>{STYLE}</style></head><body><h1>No such message</h1>"
        f"<p>The mailbox has no message with id <code>{html.escape(message_id)}</code>.</p>"
        "</body></html>"
    )


def add_mail_page(app: FastAPI, home: Callable[[], Path]) -> None:
    """Serve `GET /mail/view?id=…` on the chat's app, before its catch-all page route.

    The login is the chat's own (its cookie); someone not logged in is sent to the login page.
    """

    async def view_mail(request: Request, id: str = "") -> Response:
        token = await reuseable_oauth(request)
        try:
            user = await get_current_user(token) if token else None
        except HTTPException:
            user = None
        if user is None:
            return RedirectResponse("/login", status_code=303)
        db = await asyncio.to_thread(_database, home)
        email = await asyncio.to_thread(db.get_email, id) if id else None
        if email is None:
            return HTMLResponse(_missing_page(id), status_code=404)
        triage = (await asyncio.to_thread(db.triage_for, [email.id])).get(email.id)
        return HTMLResponse(message_page(email, triage), headers={"Cache-Control": "no-store"})

    app.add_api_route(MAIL_PATH, view_mail, methods=["GET"], include_in_schema=False)
    # Chainlit serves its page for every path it does not know, from a route added when its
    # server module was imported; a route added later must come before that one to be reached.
    routes = app.router.routes
    routes.insert(0, routes.pop())


def _database(home: Callable[[], Path]) -> AppDatabase:
    return open_database(app_database_url(home()))
