"""Logging in to IMAP and SMTP with an OAuth access token: the SASL XOAUTH2 mechanism.

Google and Microsoft accept `AUTHENTICATE XOAUTH2` (IMAP) and `AUTH XOAUTH2` (SMTP) with the
string `user=USER^Aauth=Bearer TOKEN^A^A`, the token being the one for the servers' own
resource (`mail_server_tokens`: Outlook's, never Graph's, for Microsoft). A refused token is
refreshed once and tried again; the token never appears in an error (the server's answer is
all the caller sees).
"""

from __future__ import annotations

import base64
import imaplib
import smtplib
from collections.abc import Callable

from tools.oauth.accounts import VaultTokens
from tools.oauth.tokens import AccessTokens, TokenError

TokensFor = Callable[[str], AccessTokens]
"""An account's name → its tokens (the vault's, by default)."""


def vault_tokens(account: str) -> AccessTokens:
    """The tokens of a connected account, from the vault of the data directory."""
    return VaultTokens.open(account)


def mail_server_tokens(account: str) -> AccessTokens:
    """The tokens an account's IMAP and SMTP logins use, from the vault of the data directory.

    Google's servers take the API's token; Outlook's take only a token for their own resource,
    which the account keeps beside Graph's (`TokenError` if it was connected without `--imap`).
    """
    return VaultTokens.open(account, mail_servers=True)


def xoauth2_string(user: str, token: str) -> str:
    """The XOAUTH2 initial response, before base64."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def imap_xoauth2(conn: imaplib.IMAP4, user: str, tokens: AccessTokens) -> None:
    """`AUTHENTICATE XOAUTH2`; refreshed and tried once more if the server refuses the token.

    Raises:
        TokenError: no usable token, no XOAUTH2 at the server, or the fresh token refused too.

    """
    if "AUTH=XOAUTH2" not in conn.capabilities:
        raise TokenError("the server does not offer AUTHENTICATE XOAUTH2 (account= in the spec)")
    for attempt, token in enumerate((tokens.access_token, tokens.refreshed)):
        try:
            conn.authenticate("XOAUTH2", _answer_once(xoauth2_string(user, token())))
            return
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            if attempt:
                raise TokenError(
                    f"XOAUTH2 login refused for user '{user}': {_reply(exc)}"
                ) from None


def _reply(exc: BaseException) -> str:
    """The server's words in an imaplib error (`b'...'` unwrapped)."""
    text = str(exc)
    return text[2:-1] if text.startswith(("b'", 'b"')) else text


def _answer_once(initial: str) -> Callable[[bytes], bytes]:
    """The IMAP authenticator: the initial response, then an empty line to end on an error."""
    sent: list[bool] = []

    def answer(_challenge: bytes) -> bytes:
        if sent:
            # A second challenge carries the server's error (JSON): end the exchange.
            return b""
        sent.append(True)
        return initial.encode()

    return answer


def smtp_xoauth2(client: smtplib.SMTP, user: str, tokens: AccessTokens) -> None:
    """`AUTH XOAUTH2`; refreshed and tried once more if the server refuses the token.

    Raises:
        smtplib.SMTPAuthenticationError: the server refused the fresh token too.
        TokenError: no usable token.

    """
    for attempt, token in enumerate((tokens.access_token, tokens.refreshed)):
        initial = base64.b64encode(xoauth2_string(user, token()).encode()).decode("ascii")
        code, reply = client.docmd("AUTH", f"XOAUTH2 {initial}")
        if code == 334:
            # The server's error, as a challenge: an empty line ends the exchange.
            code, reply = client.docmd("")
        if code == 235:
            return
        if attempt:
            raise smtplib.SMTPAuthenticationError(code, reply)
