"""The mail search's query language, parsed once into a `SearchQuery` both databases translate.

    invoice "late fee" from:anna after:2026-01-01 before:2026-02-01 folder:archive
    label:clients attachment:contract.pdf

Bare words and "quoted phrases" must all appear (in the subject, the sender, an attachment's
name or the body; a phrase as consecutive words of one of them). The last word of an unquoted
term matches as a prefix too ("receipt" finds "receipts"); a quoted phrase matches exactly.
`from:` looks in the sender's
name and address only, `attachment:` in the attachments' file names only; both take a word, a
"quoted value" or an address (`from:anna@example.com` is the phrase "anna example com").
`after:DATE` keeps mail dated on or after that day, `before:DATE` mail dated before it (DATE is
`YYYY-MM-DD`, the day as the message's Date header gives it). `folder:NAME` keeps mail filed in
that folder (any case, singular or plural: `folder:draft` is the Drafts folder); `label:` is the
same filter, since the cache files each message in one folder and a Gmail label of the user's
own is that folder. A bare word naming one of the standard folders (`FOLDER_WORDS`: "draft",
"sent", "trash", ...) matches the mail in that folder as well as the mail containing it, so
"draft Sofia" finds the user's draft to Sofia.

Everything else is text: `OR`, `NEAR`, `*`, `-`, `^`, `subject:x` or `{body}: x` are words
and punctuation, never operators of a database's full-text syntax (each database receives the
terms as bound values it quotes itself). A query that cannot mean anything is refused with
`SearchQueryError`, never answered with an empty list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

Field = Literal["any", "sender", "attachment"]
FIELD_NAMES: dict[str, Field] = {"from": "sender", "attachment": "attachment"}
"""Query prefixes that look in one part of a message."""
FOLDER_FILTERS = ("folder", "label")
DATE_FILTERS = ("after", "before")
FOLDER_WORDS = frozenset(
    {"draft", "drafts", "sent", "trash", "spam", "junk", "archive", "archives", "inbox"}
)
"""Bare words that also stand for the folder of that name (see the module doc)."""
MAX_QUERY_CHARS = 1000
MAX_TERMS = 32
"""Longer queries are refused: no person types them, and each term costs a database lookup."""

_PREFIX = re.compile(r"([A-Za-z]+):")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SearchQueryError(ValueError):
    """The search text cannot be a query; the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class Term:
    """Words that must appear one after the other (a single word is a one-word phrase)."""

    text: str
    """As the user typed it, without quotes; each database splits it into words itself."""
    field: Field = "any"
    """Where it must appear: anywhere searchable, the sender, or an attachment's name."""
    exact: bool = False
    """Quoted: every word as typed. Otherwise its last word also matches the longer words it
    begins ("invoice" finds "invoices"), as the substring search before the index did."""

    @property
    def folder_word(self) -> bool:
        """Whether a bare word that also matches the mail of the folder it names."""
        return self.field == "any" and not self.exact and self.text.lower() in FOLDER_WORDS


@dataclass(frozen=True)
class SearchQuery:
    """A parsed search: every term must match, and every filter."""

    terms: tuple[Term, ...] = ()
    folders: tuple[str, ...] = ()
    """Folder names (`folder:`/`label:`), lower-cased; a message must be filed in each."""
    after: date | None = None
    """On or after this day."""
    before: date | None = None
    """Before this day."""

    @property
    def is_empty(self) -> bool:
        """Whether it asks for nothing: every message matches."""
        return not (self.terms or self.folders or self.after or self.before)


def folder_names(word: str) -> tuple[str, str]:
    """The lower-cased folder names a word stands for: itself and its plural."""
    word = word.lower()
    return word, word + "s"


def word_count(text: str) -> int:
    """How many words `text` splits into (letters and digits, split at everything else)."""
    return len([w for w in re.split(r"[\W_]+", text) if w])


def has_words(text: str) -> bool:
    """Whether `text` holds anything a search can match (a letter or a digit)."""
    return any(ch.isalnum() for ch in text)


def parse_query(text: str, *, sender: str = "") -> SearchQuery:
    """Parse search text (and an optional separate sender, as `from:` would give it).

    Raises:
        SearchQueryError: an unclosed quote, a filter without a value, a date that is not
            `YYYY-MM-DD`, a date range that holds no day, no words at all in a non-empty
            query, or a query longer than `MAX_QUERY_CHARS` / `MAX_TERMS`.

    """
    if len(text) > MAX_QUERY_CHARS:
        raise SearchQueryError(f"the search is {len(text)} characters; at most {MAX_QUERY_CHARS}")
    text = _CONTROL.sub(" ", text)
    terms: list[Term] = []
    folders: list[str] = []
    dates: dict[str, date] = {}
    for prefix, value, quoted in _pieces(text):
        if prefix in FIELD_NAMES:
            terms.append(Term(_needs_words(prefix, value), FIELD_NAMES[prefix], quoted))
        elif prefix in FOLDER_FILTERS:
            folders.append(_needs_words(prefix, value).lower())
        elif prefix in DATE_FILTERS:
            dates[prefix] = _day(prefix, value)
        elif has_words(value):
            terms.append(Term(value, exact=quoted))
    if sender.strip():
        terms.append(Term(_needs_words("from", _CONTROL.sub(" ", sender).strip()), "sender"))
    if text.strip() and not (terms or folders or dates):
        raise SearchQueryError(
            f"nothing to search for in {text.strip()!r}: give a word with a letter or a digit"
        )
    if len(terms) > MAX_TERMS:
        raise SearchQueryError(f"the search has {len(terms)} words; at most {MAX_TERMS}")
    after, before = dates.get("after"), dates.get("before")
    if after and before and after >= before:
        raise SearchQueryError(
            f"after:{after} before:{before} holds no day: 'after' must come before 'before'"
        )
    return SearchQuery(tuple(terms), tuple(folders), after, before)


def _pieces(text: str) -> list[tuple[str, str, bool]]:
    """Split the text into (prefix, value, quoted) pieces; the prefix is '' for a bare term."""
    pieces: list[tuple[str, str, bool]] = []
    at = 0
    while at < len(text):
        if text[at].isspace():
            at += 1
            continue
        prefix = ""
        known = _PREFIX.match(text, at)
        if known and known.group(1).lower() in (*FIELD_NAMES, *FOLDER_FILTERS, *DATE_FILTERS):
            prefix = known.group(1).lower()
            at = known.end()
        if at < len(text) and text[at] == '"':
            end = text.find('"', at + 1)
            if end < 0:
                raise SearchQueryError(
                    f'a quote opened at character {at + 1} is never closed: close it with "'
                )
            value, at, quoted = text[at + 1 : end], end + 1, True
        else:
            quoted = False
            end = at
            while end < len(text) and not text[end].isspace():
                end += 1
            value, at = text[at:end], end
        pieces.append((prefix, value.strip(), quoted))
    return pieces


def _needs_words(prefix: str, value: str) -> str:
    if not has_words(value):
        example = "anna" if prefix == "from" else "contract" if prefix == "attachment" else "work"
        raise SearchQueryError(
            f"{prefix}: needs a value with a letter or a digit right after the colon, "
            f"e.g. {prefix}:{example}"
        )
    return value


def _day(prefix: str, value: str) -> date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise SearchQueryError(
            f"{prefix}:{value} is not a day: write it as YYYY-MM-DD, e.g. {prefix}:2026-01-31"
        ) from None


def column_filters(
    query: SearchQuery, filters: dict[str, Any], params: dict[str, Any], date: str = "e.date"
) -> list[str]:
    """The SQL conditions on `email e` both databases write alike: columns, folders, dates.

    `date` is how the database compares the date text; every value from the user goes in
    `params`.
    """
    where: list[str] = []
    for name, value in filters.items():
        if value:
            where.append(f"e.{name} = :f_{name}")
            params[f"f_{name}"] = value
    for n, folder in enumerate(query.folders):
        where.append(f"lower(e.folder) IN (:folder{n}a, :folder{n}b)")
        params[f"folder{n}a"], params[f"folder{n}b"] = folder_names(folder)
    if query.after:
        where.append(f"{date} >= :after")
        params["after"] = query.after.isoformat()
    if query.before:
        where.append(f"{date} < :before")
        params["before"] = query.before.isoformat()
    return where
