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

Cost: all forms of all secrets are one regular expression built as a trie (one alternation per
branching character), rebuilt only when a new secret arrives; text without a secret is one
C-level scan. Measured with 10 secrets of 16 to 48 characters on 1 MB of prose and base64: about
20 ms; about 120 ms for 1 MB holding a quarter of a million `%XX` and `\uXXXX` escapes (their
decoded reading is a second scan, plus a Python step per escape).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import functools
import json
import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus, unquote, urlsplit

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

MIN_SECRET_LENGTH = 6
"""Characters a value needs to be searched for inside text; shorter ones only match whole."""
MIN_ENCODED_LENGTH = 8
"""Base64 characters made from a value's bits alone needed to search for that alignment."""
MARKER = "[REDACTED:{name}]"

_STD_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_URL_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_ESCAPES = re.compile(r"(?:\\u[0-9a-fA-F]{4})+|\\[\"\\/bfnrt]|(?:%[0-9A-Fa-f]{2})+")
"""JSON escapes (a run of `\\uXXXX` at once, so surrogate pairs decode) and percent-escapes (a
run at once, so multi-byte UTF-8 decodes)."""
_SIMPLE_ESCAPES = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
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


@dataclass(frozen=True)
class _Form:
    """One literal to look for: whose it is and, for base64, the alphabet its run is made of."""

    name: str
    alphabet: frozenset[str] | None = None


@dataclass(frozen=True)
class _Matcher:
    """An immutable snapshot of what to look for; replaced whole when a secret is added."""

    pattern: re.Pattern[str] | None
    forms: Mapping[str, _Form]
    whole: Mapping[str, str]
    """Every value (short ones included) → name, for strings that are exactly a secret."""


_EMPTY = _Matcher(None, {}, {})


class KnownSecrets:
    """The secrets of this process, by value, and the scrubber built from them; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._names: dict[str, str] = {}
        self._matcher = _EMPTY
        self._stale = False

    def remember(self, name: str, value: str | None) -> None:
        """Mask `value` (and its encodings) as `[REDACTED:name]` from now on; the first name wins."""
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
            self._matcher = _EMPTY
            self._stale = False

    def __len__(self) -> int:
        return len(self._names)

    def _current(self) -> _Matcher:
        if not self._stale:
            return self._matcher
        with self._lock:
            if self._stale:
                self._matcher = _build(self._names)
                self._stale = False
            return self._matcher

    def scrub(self, text: str) -> str:
        """`text` with every known secret, in every recognised form, replaced by its marker."""
        matcher = self._current()
        if not text or matcher is _EMPTY:
            return text
        whole = matcher.whole.get(text)
        if whole is not None:
            return MARKER.format(name=whole)
        if matcher.pattern is None:
            return text
        spans = _find(matcher, text)
        if "\\" in text or "%" in text:
            spans += _find_decoded(matcher, text)
        return _replace(text, spans) if spans else text

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


# -- the forms of a value ------------------------------------------------------------


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


def _literal_forms(value: str) -> set[str]:
    """The value as it may be written in JSON or in a URL."""
    forms = {value}
    for ascii_only in (True, False):
        escaped = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
        forms |= {escaped, escaped.replace("/", "\\/")}
    forms |= {quote(value, safe=""), quote_plus(value, safe=""), quote(value, safe="/:@")}
    return forms


def _base64_forms(value: str) -> dict[str, frozenset[str]]:
    """The base64 characters that only the value's bits decide, at each of the 3 alignments."""
    raw = value.encode("utf-8")
    forms: dict[str, frozenset[str]] = {}
    for shift in range(3):
        padded = bytes(shift) + raw
        whole = len(padded) // 3 * 4
        skip = (0, 2, 3)[shift]
        for encode, alphabet in (
            (base64.b64encode, _STD_B64),
            (base64.urlsafe_b64encode, _URL_B64),
        ):
            core = encode(padded)[skip:whole].decode("ascii")
            if len(core) >= MIN_ENCODED_LENGTH:
                forms[core] = alphabet
    return forms


def _build(names: Mapping[str, str]) -> _Matcher:
    forms: dict[str, _Form] = {}
    for value, name in sorted(names.items(), key=lambda item: -len(item[0])):
        if len(value) < MIN_SECRET_LENGTH:
            continue
        for literal in _literal_forms(value):
            forms.setdefault(literal, _Form(name))
        for core, alphabet in _base64_forms(value).items():
            forms.setdefault(core, _Form(name, alphabet))
    pattern = re.compile(_trie_pattern(forms)) if forms else None
    return _Matcher(pattern, forms, dict(names))


def _trie_pattern(words: Iterable[str]) -> str:
    """One regular expression for many literals, as a trie: longest match first, cheap to scan.

    A flat alternation makes the engine try every literal at every position; the trie tries
    one branch per character, and its first characters form the set the engine skips by.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def render(node: dict[str, Any]) -> str:
        branches = []
        for char, child in sorted((c, n) for c, n in node.items() if c):
            literal = [char]
            # A chain of single-child nodes is one literal (and no deep recursion on long values).
            while len(child) == 1 and "" not in child:
                (char, child), *_ = child.items()
                literal.append(char)
            branches.append(re.escape("".join(literal)) + render(child))
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return render(trie)


# -- finding and replacing -----------------------------------------------------------

Span = tuple[int, int, str]


def _find(matcher: _Matcher, text: str) -> list[Span]:
    """Every match, overlapping ones too: after a match, the search goes on one past its start."""
    assert matcher.pattern is not None
    spans: list[Span] = []
    search = matcher.pattern.search
    position = 0
    while (found := search(text, position)) is not None:
        start, end = found.span()
        form = matcher.forms[found.group()]
        if form.alphabet is not None:
            start, end = _base64_run(text, start, end, form.alphabet)
        spans.append((start, end, form.name))
        position = found.start() + 1
    return spans


def _base64_run(text: str, start: int, end: int, alphabet: frozenset[str]) -> tuple[int, int]:
    """Widen a base64 match to the whole encoded run, so its edges give no bits away."""
    while start > 0 and text[start - 1] in alphabet:
        start -= 1
    while end < len(text) and text[end] in alphabet:
        end += 1
    while end < len(text) and text[end] == "=":
        end += 1
    return start, end


def _find_decoded(matcher: _Matcher, text: str) -> list[Span]:
    """Matches in `text` read with its JSON and percent escapes decoded, at their escaped place.

    The decoded reading is searched first; the map back to the escaped text is only built when
    it holds a secret (rarely).
    """
    assert matcher.pattern is not None
    decoded = _ESCAPES.sub(_decoded_escape, text)
    if matcher.pattern.search(decoded) is None:
        return []
    decoded_starts: list[int] = []
    segments: list[tuple[int, int, int, int]] = []
    shift = 0  # decoded position minus escaped position, so far
    for escape in _ESCAPES.finditer(text):
        start = escape.start() + shift
        length = len(_decoded_escape(escape))
        decoded_starts.append(start)
        segments.append((start, start + length, escape.start(), escape.end()))
        shift += length - (escape.end() - escape.start())

    def original(position: int, is_end: bool) -> int:
        index = bisect.bisect_right(decoded_starts, position) - 1
        if index < 0:
            return position
        start, end, escaped_start, escaped_end = segments[index]
        if position == start:
            return escaped_start
        if position < end:  # inside one escape: take all of it
            return escaped_end if is_end else escaped_start
        return escaped_end + (position - end)

    return [
        (original(start, False), original(end, True), name)
        for start, end, name in _find(matcher, decoded)
    ]


def _decoded_escape(escape: re.Match[str]) -> str:
    return _decode(escape.group())


@functools.lru_cache(maxsize=4096)
def _decode(escape: str) -> str:
    if escape.startswith("%"):
        return unquote(escape, errors="surrogateescape")
    if escape.startswith("\\u"):
        return str(json.loads(f'"{escape}"'))
    return _SIMPLE_ESCAPES[escape[1]]


def _replace(text: str, spans: list[Span]) -> str:
    """Each union of overlapping spans becomes one marker naming the secrets that make it up."""
    spans.sort(key=lambda span: (span[0], -span[1]))
    out: list[str] = []
    position = 0
    index = 0
    while index < len(spans):
        start, end, name = spans[index]
        names = [name]
        index += 1
        while index < len(spans) and spans[index][0] < end:
            # A secret found inside another's match is not named: the union is what counts.
            if spans[index][1] > end and spans[index][2] not in names:
                names.append(spans[index][2])
            end = max(end, spans[index][1])
            index += 1
        out.append(text[position:start])
        out.append(MARKER.format(name="|".join(names)))
        position = end
    out.append(text[position:])
    return "".join(out)


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
    # Imported here: `memory.secrets` feeds this module, so it cannot be imported at its top.
    from memory.keys import KEY_ENV
    from memory.secrets import SECRET_VARIABLES

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
