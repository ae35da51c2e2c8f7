"""Open a mailbox from the inbox spec string the user configures (e.g. `maildir:~/Mail`).

Every kind of mailbox the app can read new mail from and keep drafts and sent copies in
(a Maildir, an IMAP folder, a Gmail mailbox) is a `MailSource`; keeping the spec parsing in one
small table means a new kind plugs in without touching the callers. (An `mcp:` inbox is only
read, through the MCP server's own tools: see `tools.mail.mcp_source`.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from memory.secrets import SecretLookup
from tools.http import HttpSettingsError
from tools.mail.account_list import is_account_list, parse_account_list
from tools.mail.gmail.source import GmailSource
from tools.mail.imap import ImapSource
from tools.mail.imap_spec import parse_imap_spec
from tools.mail.maildir import MaildirSource
from tools.mail.msgraph.source import OutlookSource
from tools.mail.multi_source import MultiSource
from tools.mail.source_protocol import MailSource, MailSourceError, environment_secrets
from tools.msgraph.account import account_tokens
from tools.msgraph.client import GraphClient

logger = logging.getLogger(__name__)


SPEC_FORMS = (
    "maildir:PATH, imap://user@host[:port][/FOLDER], gmail:ACCOUNT, outlook:ACCOUNT or mcp:NAME"
)


def _open_maildir(location: str, spec: str, secrets: SecretLookup) -> MailSource:
    if not location.strip():
        raise MailSourceError(f"inbox spec '{spec}' has no path: use maildir:PATH")
    path = Path(location).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    return MaildirSource(path, spec)


def _open_imap(location: str, spec: str, secrets: SecretLookup) -> MailSource:
    return ImapSource.from_environment(parse_imap_spec(spec), secrets=secrets)


def _open_gmail(location: str, spec: str, secrets: SecretLookup) -> MailSource:
    return GmailSource.from_settings(spec, secrets=secrets)


def _open_outlook(location: str, spec: str, secrets: SecretLookup) -> MailSource:
    account = location.strip()
    if not account or not account.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise MailSourceError(f"inbox spec '{spec}' names no account: use outlook:ACCOUNT")
    try:
        client = GraphClient.from_env(account_tokens(account, secrets))
    except HttpSettingsError as err:
        raise MailSourceError(str(err)) from None
    return OutlookSource(account, client)


# Scheme → opener taking (the text after "scheme:", the whole spec, the secret lookup).
_SCHEMES: dict[str, Callable[[str, str, SecretLookup], MailSource]] = {
    "maildir": _open_maildir,
    "imap": _open_imap,
    "outlook": _open_outlook,
    "gmail": _open_gmail,
}


def parse_source_spec(spec: str, *, secrets: SecretLookup | None = None) -> MailSource:
    """Open the mailbox an inbox spec names: `maildir:data/demo-inbox`, `imap://me@host/INBOX`.

    Relative Maildir paths are resolved against the current directory and `~` is expanded.
    An IMAP source is only described here: nothing connects until it is used, and its
    password comes from `secrets` (default: the environment) when it logs in. So is a
    `gmail:ACCOUNT` one (a connected Gmail account): its token is looked up on the first call.
    A list of accounts (`work=imap://…, personal=maildir:…`) opens as one `MultiSource`, each
    account opened only when it is fetched.

    Raises:
        MailSourceError: the scheme is not supported, the Maildir is missing or not a Maildir,
            or the IMAP spec (or `IMAP_CA_FILE`, `IMAP_TIMEOUT`) is malformed.

    """
    if is_account_list(spec):
        return MultiSource(
            spec.strip(), parse_account_list(spec), _open_account, secrets or environment_secrets
        )
    scheme, sep, location = spec.strip().partition(":")
    opener = _SCHEMES.get(scheme.lower()) if sep else None
    if opener is None:
        if sep and scheme.lower() == "mcp":
            raise MailSourceError(
                f"inbox {spec} is an MCP server: it can be read, but drafts and sent copies "
                "need a Maildir or IMAP inbox"
            )
        raise MailSourceError(f"unsupported inbox spec '{spec}': use {SPEC_FORMS}")
    logger.debug("opening %s source", scheme.lower())
    return opener(location, spec, secrets or environment_secrets)


def _open_account(spec: str, secrets: SecretLookup | None) -> MailSource:
    return parse_source_spec(spec, secrets=secrets)
