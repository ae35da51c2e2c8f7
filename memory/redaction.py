r"""Every secret this process has handed out, and the one pass that masks them in any text.

A service that repeats a credential in its answer (an error quoting the `Authorization` header,
a body echoing the token) would otherwise carry it into the answer, the logs, the audit log, the
checkpoints and the prompt. Patterns cannot know every token's shape, so secrets are masked by
value: each credential a lookup returns (`memory.secrets`), each value the vault decrypts, each
`Authorization` header the shared HTTP client sends and each secret-named environment variable is
remembered here, and `scrub` replaces it with `[REDACTED:<credential name>]`.

What is recognised, for every remembered value:

- the value itself, and inside longer text (a token inside a URL, a word glued to it);
- its JSON-escaped forms (`\"`, `\\`, `\/`, `\u00e9`, any character written as `\uXXXX`)
  and its URL-encoded forms (`%2F`, `%2f`, any character percent-encoded, UTF-8 bytes included):
  text holding `\` or `%` is also read with those escapes decoded, and a match there masks the
  escaped text it came from;
- its base64 and base64url at each of the three byte alignments, so the value is found inside a
  longer encoded string such as the basic-auth `base64(user:value)` whatever the user; the whole
  encoded run is masked, padding included. An alignment whose secret-only characters are fewer
  than `MIN_ENCODED_LENGTH` is skipped (only for values of 6 or 7 bytes);
- for a header value `Bearer X` / `Basic B`: X, B, the decoded `user:password` and the password;
  for a URL that is itself a credential (a Teams webhook), its path and its password too.

Overlapping secrets and a secret inside another are masked as the union of their matches, the
longest match first at each position.

Values shorter than `MIN_SECRET_LENGTH` (6) are not searched for inside text: a four-letter
password would mask every word that contains it. They are still masked where they stand alone,
as a whole string (`scrub("abc12") == "[REDACTED:…]"`), and the audit log masks every value
under a secret-looking key whatever its length.

Limits: a secret transformed in any other way (hashed, reversed, encrypted, hex-encoded, split by
a line break or spaces, double-escaped, HTML-escaped, wrapped over base64 lines) is not
recognised; and a secret this process never looked up cannot be known, which is why every
lookup goes through here.

How the forms are found, and what that costs: `memory.secret_matcher`.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from memory.keys import KEY_ENV
from memory.secret_matcher import (
    EMPTY_MATCHER,
    MIN_SECRET_LENGTH,
    SecretMatcher,
    build_matcher,
)
from memory.secret_names import SECRET_VARIABLES

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

_SCHEME = re.compile(r"(?i)^(bearer|basic|token)\s+(\S+)$")

SECRET_ENV_NAME = re.compile(
    r"(?:^|_)(?:PASSWORDS?|PASSWD|SECRETS?|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY"
    r"|CLIENT_?SECRET|CREDENTIALS?)(?:_|$)"
)
"""An environment variable whose value is a secret by its name (`GITHUB_TOKEN`,
`LANGSMITH_API_KEY`, `CHAINLIT_AUTH_SECRET`); `MAX_TOKENS` and `PWD` are not."""
SECRET_HEADER = re.compile(r"(?i)^(?:proxy-)?authorization$|api-?key|token|secret")
"""An HTTP header whose value is a credential (`Authorization`, `X-Api-Key`, `X-Auth-Token`)."""
NOT_A_SECRET_ENV = re.compile(r"_(?:FILE|PATH|DIR|URL|URI|ENDPOINT|HOST|NAME)$")
"""Variables that name where a secret is, not the secret (`OAUTH_TOKEN_URL`,
`GOOGLE_APPLICATION_CREDENTIALS_FILE`); a password inside such a URL is still remembered."""


class KnownSecrets:
    """The secrets of this process, by value, and the scrubber built from them; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._names: dict[str, str] = {}
        self._matcher = EMPTY_MATCHER
        self._stale = False

    def remember(self, name: str, value: str | None) -> None:
        """Mask `value` and its encodings as `[REDACTED:name]` from now on; the first name wins."""
        if not value or not isinstance(value, str):
            return
        if value in self._names:  # the common case: a lookup repeated; no lock needed to read
            return
        with self._lock:
            for each in _related_values(value):
                if each:
                    self._names.setdefault(each, name)
            self._stale = True

    def remember_authorization(self, value: str, fallback: str) -> None:
        """Remember an `Authorization` header's credential, named after a secret it holds."""
        match = _SCHEME.match(value.strip())
        credential = match.group(2) if match else value.strip()
        name = self.name_of(credential) or fallback
        if match and match.group(1).lower() == "basic":
            pair = _decoded_basic(credential)
            if pair:
                password = pair.partition(":")[2]
                name = self.name_of(password) or name
                self.remember(name, password)
                self.remember(name, pair)
        self.remember(name, credential)

    def name_of(self, value: str) -> str | None:
        """The credential name `value` is remembered under, or None."""
        return self._names.get(value)

    def forget_all(self) -> None:
        """Forget every secret (between tests: each one starts knowing none)."""
        with self._lock:
            self._names.clear()
            self._matcher = EMPTY_MATCHER
            self._stale = False

    def __len__(self) -> int:
        return len(self._names)

    def _current(self) -> SecretMatcher:
        if not self._stale:
            return self._matcher
        with self._lock:
            if self._stale:
                self._matcher = build_matcher(self._names)
                self._stale = False
            return self._matcher

    def scrub(self, text: str) -> str:
        """`text` with every known secret, in every recognised form, replaced by its marker."""
        return self._current().scrub(text)

    def scrub_data(self, value: Any) -> Any:
        """A copy of `value` with every string in it (dicts, lists, tuples walked) scrubbed."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, Mapping):
            return {key: self.scrub_data(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.scrub_data(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self.scrub_data(item) for item in value)
        return value


def _related_values(value: str) -> list[str]:
    """The value, stripped, and the credentials a header or URL value holds."""
    values = [value, value.strip()]
    match = _SCHEME.match(value.strip())
    if match:
        values.append(match.group(2))
        if match.group(1).lower() == "basic":
            pair = _decoded_basic(match.group(2))
            if pair:
                values += [pair, pair.partition(":")[2]]
    if "://" in value:
        try:
            parts = urlsplit(value.strip())
        except ValueError:
            parts = None
        if parts is not None and parts.netloc:
            if parts.password:
                values.append(unquote(parts.password))
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if len(path.strip("/")) >= MIN_SECRET_LENGTH * 2:
                # The path of a webhook URL is the credential; a short one (`/hooks`) is not.
                values.append(path)
    return values


def _decoded_basic(credential: str) -> str | None:
    try:
        pair = base64.b64decode(credential, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return pair if ":" in pair else None


# -- the process's secrets -----------------------------------------------------------

KNOWN_SECRETS = KnownSecrets()
"""Every secret this process has looked up; fed by `memory.secrets` and the HTTP client."""


def remember_secret(name: str, value: str | None) -> None:
    """Mask `value` everywhere from now on, as `[REDACTED:name]`."""
    KNOWN_SECRETS.remember(name, value)


def remember_authorization(value: str, fallback: str) -> None:
    """Mask the credential of an `Authorization` header value (Bearer, Basic or bare)."""
    KNOWN_SECRETS.remember_authorization(value, fallback)


def remember_environment(environ: Mapping[str, str] | None = None) -> None:
    """Remember the secrets of the environment; cheap enough to call whenever services are built.

    The product's variables, any variable named like a secret, the password of any
    `scheme://user:password@host` URL, and each key of `SMART_INBOX_KEY`.
    """
    env = os.environ if environ is None else environ
    product = _product_variables()
    for variable, value in env.items():
        if not value:
            continue
        upper = variable.upper()
        name = product.get(upper)
        if name is None and upper.startswith("WEBHOOK_SECRET_"):
            name = "webhook.secret:" + upper.removeprefix("WEBHOOK_SECRET_").lower()
        if name is None and SECRET_ENV_NAME.search(upper) and not NOT_A_SECRET_ENV.search(upper):
            name = variable
        if name is not None:
            for each in value.split(",") if name == "SMART_INBOX_KEY" else (value,):
                KNOWN_SECRETS.remember(name, each.strip())
        elif "://" in value and "@" in value:
            _remember_url_password(variable, value)


def _product_variables() -> dict[str, str]:
    """The product's own secret variables → the credential name their marker shows."""
    names = {variable: name for name, variable in SECRET_VARIABLES.items()}
    return {
        **names,
        "GROQ_API_KEY": "groq.api_key",
        "WEBHOOK_SECRET": "webhook.secret",
        KEY_ENV: KEY_ENV,
    }


def _remember_url_password(variable: str, value: str) -> None:
    try:
        password = urlsplit(value.strip()).password
    except ValueError:
        return
    if password:
        KNOWN_SECRETS.remember(f"{variable}.password", unquote(password))


def scrub(text: str) -> str:
    """`text` without any known secret (see the module's docstring for what is recognised)."""
    return KNOWN_SECRETS.scrub(text)


def scrub_data(value: Any) -> Any:
    """A copy of `value` (dicts, lists, tuples walked) with every string scrubbed."""
    return KNOWN_SECRETS.scrub_data(value)


def scrub_messages(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """Chat messages about to be sent to a model, their text and tool calls scrubbed.

    Messages without a secret are passed on as they are (not copied).
    """
    cleaned: list[BaseMessage] = []
    for message in messages:
        update: dict[str, Any] = {}
        for field in ("content", "additional_kwargs", "tool_calls"):
            value = getattr(message, field, None)
            if value:
                scrubbed = scrub_data(value)
                if scrubbed != value:
                    update[field] = scrubbed
        cleaned.append(message.model_copy(update=update) if update else message)
    return cleaned


# -- logs ----------------------------------------------------------------------------


class ScrubSecretsFilter(logging.Filter):
    """Masks known secrets in a log record's message and traceback; never drops a record.

    The message is formatted (msg % args) only to look; a record is rewritten only when a
    secret is found, so a clean record reaches its handler untouched (structlog's dict
    messages included).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record if it holds a known secret; always keep it."""
        if not len(KNOWN_SECRETS):
            return True
        if isinstance(record.msg, dict) and not record.args:
            record.msg = scrub_data(record.msg)
        else:
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001 — a broken record: its handler reports it as ever
                return True
            scrubbed = scrub(message)
            if scrubbed != message:
                record.msg, record.args = scrubbed, ()
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            scrubbed = scrub(text)
            if scrubbed != text:
                record.exc_text = scrubbed
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


_install_lock = threading.Lock()
_factory_installed = False


def install_log_scrubbing() -> None:
    """Scrub every log record of this process; call it where logging is configured.

    The filter goes on the root logger's handlers (those `basicConfig` made), and the record
    factory runs it on every record as it is created, so handlers added later (Chainlit's, the
    LangGraph server's, pytest's) get clean records too. Idempotent. Also remembers the
    environment's secrets.
    """
    global _factory_installed
    remember_environment()
    scrubber = ScrubSecretsFilter()
    with _install_lock:
        for handler in logging.getLogger().handlers:
            if not any(isinstance(f, ScrubSecretsFilter) for f in handler.filters):
                handler.addFilter(scrubber)
        if _factory_installed:  # once per process: a second wrapper would only cost time
            return
        previous = logging.getLogRecordFactory()

        def scrubbed_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            scrubber.filter(record)
            return record

        logging.setLogRecordFactory(scrubbed_record)
        _factory_installed = True
