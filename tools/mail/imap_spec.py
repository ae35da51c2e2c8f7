"""The `imap://user@host[:port][/FOLDER][?tls=...]` inbox spec, read and checked without connecting.

A spec is the key of a folder's mail cache and cursor, so it has one canonical spelling; it
never holds a password, and plain text is allowed only to this machine. `account=NAME` logs in
with the OAuth account NAME (`smart-inbox accounts add`) instead of a password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlsplit

from tools.config_checks import is_loopback_host
from tools.mail.source_protocol import MailSourceError

SPEC_FORM = "imap://user@host[:port][/FOLDER][?tls=starttls|none][&account=NAME]"
TLS_MODES = ("implicit", "starttls", "none")
"""`implicit`: TLS from the first byte (the default); `starttls`: a plain connection upgraded
before login; `none`: no TLS at all, allowed only to this machine."""
DEFAULT_PORTS = {"implicit": 993, "starttls": 143, "none": 143}
PASSWORD_CREDENTIAL = "imap.password"
"""The credential the password is looked up under; from the environment that is `IMAP_PASSWORD`."""


_HOST = re.compile(r"[A-Za-z0-9._~%:-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ImapSpec:
    """Which folder of which account an `imap://` inbox reads, and how it connects."""

    user: str
    host: str
    port: int
    folder: str = "INBOX"
    """The folder as the user wrote it (the server's own hierarchy separator, not encoded)."""
    tls: str = "implicit"
    """One of `TLS_MODES`."""
    account: str = ""
    """The OAuth account whose token logs in (XOAUTH2); empty: the password."""

    @property
    def server(self) -> str:
        """`host:port`, with an IPv6 host in brackets: how errors and logs name the server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def spec(self) -> str:
        """The one spelling of this inbox: the key of its mail cache and cursor."""
        options = [] if self.tls == "implicit" else [f"tls={self.tls}"]
        options += [f"account={quote(self.account, safe='')}"] if self.account else []
        query = f"?{'&'.join(options)}" if options else ""
        user = quote(self.user, safe="")
        return f"imap://{user}@{self.server}/{quote(self.folder, safe='/')}{query}"


def parse_imap_spec(spec: str) -> ImapSpec:
    """Read `imap://user@host[:port][/FOLDER][?tls=starttls|none]`.

    TLS from the first byte on port 993 unless `tls=` says otherwise: `starttls` (port 143,
    upgraded before login) or `none` (port 143, only to 127.0.0.1, ::1 or localhost). The folder
    defaults to INBOX. User and folder are percent-decoded (`%40` for an `@` in the user name,
    `%20` for a space). The password never goes in the spec: it is looked up when logging in;
    with `account=NAME` the login is XOAUTH2 with that connected account's token.

    Raises:
        MailSourceError: the spec is malformed; the message quotes it only when it cannot
            hold a password.

    """
    text = spec.strip()
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() != "imap":
        raise MailSourceError(f"inbox spec '{text}' is not an IMAP spec: use {SPEC_FORM}")
    rest, _, query = rest.partition("?")
    authority, _, path = rest.partition("/")
    userinfo, at, hostport = authority.rpartition("@")
    if ":" in userinfo:
        raise MailSourceError(
            "the IMAP inbox spec must not hold a password ('user:password@'): set IMAP_PASSWORD "
            f"(or store the credential '{PASSWORD_CREDENTIAL}') and use {SPEC_FORM}"
        )
    if "#" in text:
        raise MailSourceError(f"inbox spec '{text}' has a '#' (write it %23): use {SPEC_FORM}")
    user = unquote(userinfo)
    if not at or not user.strip():
        raise MailSourceError(f"inbox spec '{text}' has no user name: use {SPEC_FORM}")
    if _CONTROL.search(user):
        raise MailSourceError(f"inbox spec '{text}': the user name holds control characters")
    host, port = _host_and_port(text, hostport)
    tls = _tls_mode(text, query, host)
    account = (parse_qs(query).get("account") or [""])[-1].strip()
    folder = unquote(path).strip("/") or "INBOX"
    if _CONTROL.search(folder):
        raise MailSourceError(f"inbox spec '{text}': the folder name holds control characters")
    if folder.upper() == "INBOX":
        folder = "INBOX"  # the one name IMAP makes case-insensitive
    return ImapSpec(
        user=user,
        host=host,
        port=port or DEFAULT_PORTS[tls],
        folder=folder,
        tls=tls,
        account=account,
    )


def _host_and_port(text: str, hostport: str) -> tuple[str, int | None]:
    """The lower-cased host and the port (None: the TLS mode's default) of a spec."""
    try:
        parts = urlsplit(f"//{hostport}")
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        raise MailSourceError(
            f"inbox spec '{text}' has a bad host or port (a number from 1 to 65535)"
        ) from None
    if not host or not _HOST.fullmatch(host):
        raise MailSourceError(f"inbox spec '{text}' has no usable host: use {SPEC_FORM}")
    if port == 0:
        raise MailSourceError(f"inbox spec '{text}' has a bad port: use a number from 1 to 65535")
    return host, port


def _tls_mode(text: str, query: str, host: str) -> str:
    """The `tls=` option of a spec, checked: a known mode, and `none` only to this machine."""
    options = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(options) - {"tls", "account"})
    if unknown:
        # Names only: a value might be something secret put in the wrong place.
        raise MailSourceError(
            f"IMAP inbox spec: unknown option(s) {', '.join(unknown)} "
            "(the options are tls= and account=)"
        )
    tls = (options.get("tls") or ["implicit"])[-1].strip().lower()
    if tls not in TLS_MODES:
        raise MailSourceError(
            f"inbox spec '{text}': tls={tls} is not one of {', '.join(TLS_MODES)}"
        )
    if tls == "none" and not is_loopback_host(host):
        raise MailSourceError(
            f"inbox spec '{text}': tls=none is allowed only to 127.0.0.1, ::1 or localhost; "
            "anywhere else the password would cross the network unencrypted (use tls=starttls)"
        )
    return tls
