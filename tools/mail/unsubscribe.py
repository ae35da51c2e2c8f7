"""Unsubscribe from a mailing: RFC 8058 one-click POST where the mail offers it, else a mail.

The link comes from the message itself, so it is an untrusted value: only `https://` to a
public host is ever posted to (never this machine, a private network, or a `javascript:` link),
the POST goes to the address just checked (a name that re-resolves to this machine is refused),
redirects are not followed, and the approval card shows the exact link and where it came from.
Without one-click, the `mailto:` address gets a mail through the configured SMTP server.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

import httpx

from memory.inbox_store import InboxStore
from tools.mail.delivery import deliver
from tools.mail.inbox_actions import current_thread
from tools.mail.mailbox import MailboxEnv, account_for, sending_problem
from tools.mail.model import Email
from tools.mail.outgoing import compose_new
from tools.toolkit import ToolFailure, ToolResult, text_result

logger = logging.getLogger(__name__)

POST_TIMEOUT = 15.0
ONE_CLICK = "List-Unsubscribe=One-Click"
Method = Literal["post", "mailto"]


@dataclass(frozen=True)
class UnsubscribeWay:
    """How a message says to unsubscribe from it, and why that way cannot be used (if so)."""

    method: Method | None
    target: str
    """The https URL or the mailto: link, exactly as the mail gave it."""
    problem: str = ""


def _links(header: str) -> list[str]:
    return [link.strip() for link in re.findall(r"<([^>]*)>", header or "")]


def _addresses(host: str) -> tuple[list[str], str]:
    """The public addresses `host` resolves to, or why it is refused ('' when it is not)."""
    if not host:
        return [], "the link has no host"
    if host.rstrip(".").lower() in ("localhost", "localhost.localdomain") or host.endswith(
        ".localhost"
    ):
        return [], f"the link points at this machine ({host})"
    try:
        infos = socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as err:
        return [], f"the unsubscribe host {host} cannot be reached: {err}"
    found = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            return [], f"the link points at a private or local address ({host} is {address})"
        found.append(address.compressed)
    if not found:
        return [], f"the unsubscribe host {host} has no address"
    return found, ""


def refused_host(host: str) -> str:
    """Why a host is not posted to ('' when it is public): this machine or a private network."""
    return _addresses(host)[1]


def pinned(url: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """The request that reaches the address checked just now: URL, headers and extensions.

    The host is resolved again and every answer checked, and the POST goes to that very
    address, with the name kept for the `Host` header and for TLS (SNI and the certificate
    check). A name that answered with a public address when the card was made and answers
    with this machine now (DNS rebinding) is refused, never posted to.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    addresses, problem = _addresses(host)
    if problem:
        raise ToolFailure(f"cannot unsubscribe: {problem}")
    address = addresses[0]
    if address == host.strip("[]"):
        return url, {}, {}
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    host_header = f"{host}:{parts.port}" if parts.port else host
    target = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    return target, {"Host": host_header}, {"sni_hostname": host}


def way_out(email: Email) -> UnsubscribeWay:
    """The one-click https link if offered (and usable), else the mailto: link, else none."""
    header = email.headers.get("List-Unsubscribe", "")
    links = _links(header)
    if not links:
        return UnsubscribeWay(None, "", "the message has no List-Unsubscribe header")
    one_click = ONE_CLICK.lower() in email.headers.get("List-Unsubscribe-Post", "").lower()
    https = [link for link in links if link.lower().startswith("https://")]
    mailto = [link for link in links if link.lower().startswith("mailto:")]
    if one_click and https:
        parts = urlsplit(https[0])
        if parts.username or parts.password or "\\" in https[0]:
            return UnsubscribeWay("post", https[0], "the link hides its host behind user info")
        return UnsubscribeWay("post", https[0], refused_host(parts.hostname or ""))
    if mailto:
        return UnsubscribeWay("mailto", mailto[0])
    return UnsubscribeWay(
        None,
        links[0],
        "the message offers no one-click https link and no mailto: address "
        f"(its link {links[0]!r} is not used: only https one-click or mailto)",
    )


def _post(url: str, transport: httpx.BaseTransport | None) -> str:
    """POST the one-click body; the outcome in one line. `ToolFailure` when it fails."""
    target, headers, extensions = pinned(url)
    try:
        with httpx.Client(
            timeout=POST_TIMEOUT, follow_redirects=False, transport=transport
        ) as client:
            request = client.build_request(
                "POST",
                target,
                data={"List-Unsubscribe": "One-Click"},
                headers=headers,
                extensions=extensions,
            )
            response = client.send(request)
    except httpx.HTTPError as err:
        raise ToolFailure(f"the unsubscribe link {url} could not be reached: {err}") from None
    if not response.is_success:
        raise ToolFailure(
            f"the unsubscribe link {url} answered HTTP {response.status_code}: not unsubscribed"
        )
    return f"Unsubscribed with one click: {url} answered HTTP {response.status_code}."


def _mail(env: MailboxEnv, link: str) -> str:
    """Send the unsubscribe mail the mailto: link asks for."""
    problem = sending_problem(env)
    if problem:
        raise ToolFailure(f"cannot unsubscribe by mail: {problem}")
    parts = urlsplit(link)
    address = unquote(parts.path)
    fields = {k.lower(): v[-1] for k, v in parse_qs(parts.query).items()}
    message = compose_new(
        env,
        to=address,
        subject=fields.get("subject", "unsubscribe"),
        body=fields.get("body", "unsubscribe"),
    )
    delivery = deliver(env, message)
    return f"Unsubscribe mail sent to {address}. {delivery.text}"


def mail_route_note(env: MailboxEnv, email: Email) -> str:
    """What an unsubscribe card says of the account its mail goes from ('' for one source).

    In an inbox of several accounts the mail goes from the account the list mail came to
    (the address the list has), never another: a message of an account no longer in the
    list cannot unsubscribe by mail.
    """
    if not env.accounts:
        return ""
    try:
        route = account_for(env, email)
    except ToolFailure as err:
        return f"Cannot unsubscribe by mail: {err}."
    return (
        f"The mail goes from {route.sender or '(no From address)'} (account {route.account}), "
        "the account the list mail came to."
    )


def unsubscribe(
    env: MailboxEnv, message_id: str, *, transport: httpx.BaseTransport | None = None
) -> ToolResult:
    """Unsubscribe from the mailing a message came from (the way `way_out` picks).

    `transport` carries the one-click POST (the network by default; tests pass their own).
    """
    email = env.db.get_email(message_id)
    if email is None or email.source != env.source:
        raise ToolFailure(f"no message with id {message_id!r} in the mailbox")
    way = way_out(email)
    if way.problem or way.method is None:
        raise ToolFailure(f"cannot unsubscribe: {way.problem}")
    if way.method == "post":
        text = _post(way.target, transport)
    else:  # from the account the list mail came to (the inbox itself for one source)
        text = _mail(account_for(env, email), way.target)
    entry = {"id": email.id, "method": way.method, "target": way.target}
    InboxStore(env.db).record(current_thread(), "unsubscribe", env.source, [entry])
    return text_result(text, data={"action": "unsubscribe", **entry})
