"""Where the user's mail is sent: the SMTP server of one `SMTP_URL`, and its login.

The login's password may sit in the URL or, better, in the credential vault
(`smtp.password:USER@HOST`, else `smtp.password`, else `SMTP_PASSWORD`), looked up when the
settings are built; a malformed URL is refused without quoting what could be the password.
`?account=NAME` logs in with the OAuth account NAME (XOAUTH2) instead of a password.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qs, quote, unquote, urlsplit

from memory.secrets import SecretLookup, account_secret, environment_secrets, warn_unreadable
from tools.config_checks import check_ca_file, positive_seconds

logger = logging.getLogger(__name__)

SCHEMES = ("smtp", "smtps")
DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
"""`smtp://` defaults to the submission port (RFC 6409), where mail clients hand over mail and
which providers keep open; port 25 is for server-to-server relay and is often blocked."""
DEFAULT_TIMEOUT = 30.0
URL_FORM = "smtp[s]://[user[:password]@]host[:port][?account=NAME]"
_HOST = re.compile(r"[A-Za-z0-9._~%:-]+")
PASSWORD_CREDENTIAL = "smtp.password"
"""The credential of the SMTP password for any login; `smtp.password:USER@HOST` is one
account's own (USER as in `SMTP_URL`, decoded; HOST without the port)."""


class SmtpConfigError(ValueError):
    """`SMTP_URL` (or `SMTP_CA_FILE`, `SMTP_TIMEOUT`) is unusable; the message says why."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail: server, login and TLS trust."""

    scheme: str
    """`smtp` (STARTTLS when offered) or `smtps` (TLS from the first byte)."""
    host: str
    port: int
    username: str = ""
    """Login name; empty means no AUTH."""
    password: str = field(default="", repr=False)
    ca_file: str | None = None
    """A PEM bundle of extra CAs to trust, on top of the system ones (e.g. a private CA)."""
    timeout: float = DEFAULT_TIMEOUT
    """Seconds any one network operation may take."""
    account: str = ""
    """The OAuth account whose token logs in (`AUTH XOAUTH2`); empty: the password."""
    password_problem: str = ""
    """Why the login (`username`) has no password: none is stored or set, or the vault cannot
    be read. Sending fails with it before connecting; the rest of the product works. Never
    holds a secret."""

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise SmtpConfigError(f"unsupported SMTP scheme '{self.scheme}': use {URL_FORM}")
        if not self.host:
            raise SmtpConfigError(f"the SMTP server has no host: use {URL_FORM}")
        if not 1 <= self.port <= 65535:
            raise SmtpConfigError(f"SMTP port {self.port} is out of range (1-65535)")
        if not self.timeout > 0:
            raise SmtpConfigError(f"SMTP timeout must be a positive number, not {self.timeout}")

    @classmethod
    def from_url(
        cls, url: str, *, ca_file: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> SmtpSettings:
        """Parse `smtp://[user[:password]@]host[:port]` or `smtps://...`.

        The port defaults to 587 (submission, with STARTTLS) for `smtp://` and to 465 for
        `smtps://`. User and password are percent-decoded, so `@`, `:` and `/` in them are
        written `%40`, `%3A` and `%2F`.

        Raises:
            SmtpConfigError: the URL is malformed or `ca_file` is missing or not PEM. The
                message never quotes the parts of the URL that could hold the password.

        """
        url = url.strip()
        scheme, sep, rest = url.partition("://")
        scheme = scheme.lower()
        if not sep or scheme not in SCHEMES:
            shown = f" '{scheme}'" if sep and scheme.isalnum() and len(scheme) <= 10 else ""
            raise SmtpConfigError(f"SMTP_URL has an unsupported scheme{shown}: use {URL_FORM}")
        # Only the authority is allowed; anything after it is a typo (or an unescaped "/" in
        # the password) that would otherwise be silently ignored.
        rest, _, query = rest.partition("?")
        authority, _, tail = rest.partition("/")
        account = _account_option(query)
        if tail or "#" in authority:
            raise SmtpConfigError(
                f"SMTP_URL has a path or query after the host (a '/' in the password must be "
                f"written %2F): use {URL_FORM}"
            )
        userinfo, at, hostport = authority.rpartition("@")
        username, _, password = userinfo.partition(":") if at else ("", "", "")
        host, port = _host_and_port(hostport)
        if password and not username:
            raise SmtpConfigError("SMTP_URL has a password but no user name")
        if ca_file is not None:
            try:
                check_ca_file("SMTP_CA_FILE", ca_file)
            except ValueError as err:
                raise SmtpConfigError(str(err)) from err
        return cls(
            scheme=scheme,
            host=host,
            port=port or DEFAULT_PORTS[scheme],
            username=unquote(username),
            password=unquote(password),
            ca_file=ca_file,
            timeout=timeout,
            account=account,
        )

    @property
    def server(self) -> str:
        """`host:port`, with an IPv6 host in brackets: how errors and logs name the server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def safe_url(self) -> str:
        """The URL with the user name but without the password, for messages and logs."""
        user = f"{quote(self.username, safe='')}@" if self.username else ""
        account = f"?account={quote(self.account, safe='')}" if self.account else ""
        return f"{self.scheme}://{user}{self.server}{account}"


def _account_option(query: str) -> str:
    """The `account=` option of an `SMTP_URL`, the only one there is."""
    if not query:
        return ""
    options = parse_qs(query, keep_blank_values=True)
    if set(options) != {"account"} or not options["account"][-1].strip():
        # Names only: a value might be the password put in the wrong place.
        raise SmtpConfigError(
            "SMTP_URL has a path or query after the host (the only option is account=NAME; "
            f"a '?' in the password must be written %3F): use {URL_FORM}"
        )
    return options["account"][-1].strip()


def _host_and_port(hostport: str) -> tuple[str, int | None]:
    """The host and port (None: the scheme's default) of an `SMTP_URL`, checked."""
    try:
        parts = urlsplit(f"//{hostport}")
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        raise SmtpConfigError(
            f"SMTP_URL has a bad host or port (the port must be a number from 1 to 65535): "
            f"use {URL_FORM}"
        ) from None
    if not host:
        raise SmtpConfigError(f"SMTP_URL has no host: use {URL_FORM}")
    if not _HOST.fullmatch(host):
        # Safe to quote: the host comes after the last "@", so it cannot hold the password.
        raise SmtpConfigError(f"SMTP_URL has a bad host '{host}': use {URL_FORM}")
    if port == 0:
        raise SmtpConfigError("SMTP_URL has a bad port: it must be a number from 1 to 65535")
    return host, port


def smtp_settings_from_env(
    environ: Mapping[str, str] | None = None, secrets: SecretLookup | None = None
) -> SmtpSettings | None:
    """Read `SMTP_URL`, `SMTP_CA_FILE` and `SMTP_TIMEOUT`; None when `SMTP_URL` is unset or empty.

    A login without a password in the URL gets it from `secrets` (see `with_password`); without
    `secrets`, from `SMTP_PASSWORD` in `environ`. Blocking when `secrets` reads the vault.

    Raises:
        SmtpConfigError: one of them is set but unusable (the CA file is missing, say).

    """
    env = os.environ if environ is None else environ
    url = env.get("SMTP_URL", "").strip()
    if not url:
        return None
    ca_file = env.get("SMTP_CA_FILE", "").strip() or None
    try:
        timeout = positive_seconds(env, "SMTP_TIMEOUT", DEFAULT_TIMEOUT)
    except ValueError as err:
        raise SmtpConfigError(str(err)) from None
    settings = SmtpSettings.from_url(url, ca_file=ca_file, timeout=timeout)
    return with_password(settings, environment_secrets(env) if secrets is None else secrets)


def with_password(settings: SmtpSettings, secrets: SecretLookup) -> SmtpSettings:
    """`settings` with the login's password looked up, when `SMTP_URL` names a user but no password.

    The password in `SMTP_URL` wins (as it always did); else the credential
    `smtp.password:USER@HOST`, else `smtp.password` (which the lookup falls back to
    `SMTP_PASSWORD` for). With none, or a vault that cannot be read, the settings carry
    `password_problem` instead of raising: only sending needs the password, and it fails with
    that one line.
    """
    if not settings.username or settings.password or settings.account:
        return settings
    from memory.credential_cipher import VaultError
    from memory.keys import KeySourceError

    try:
        password, credential = account_secret(
            secrets, PASSWORD_CREDENTIAL, f"{settings.username}@{settings.host}"
        )
    except (VaultError, KeySourceError) as err:
        problem = f"the SMTP password cannot be read: {err}"
        warn_unreadable(logger, problem)
        return replace(settings, password_problem=problem)
    if password:
        return replace(settings, password=password)
    return replace(
        settings,
        password_problem=(
            f"no password for user '{settings.username}': store it with "
            f"`smart-inbox credentials set {shlex.quote(credential)}` (or set SMTP_PASSWORD)"
        ),
    )
