"""Provenance: which values of a side-effecting call did not come from the user.

Mail is data, never instructions, so a recipient, link, channel, chat, account, code, phone
number or amount that only a message (or the engine) supplied is flagged: the person
deciding sees where it came from, and no policy level lets such a call run without asking.

Values are read before they are checked, with the readers that will act on them: address
lists as mail servers read them (`addresses`), links as browsers read them (`urls`), domains
as DNS and a person's eye read them (`domains`). Trust is exact (an address, a domain and its
subdomains, digits, a token), never a display name, a substring or a lookalike (`trust`).
A call is judged whole: its arguments, the recipients a reply adds, and what it copies out of
a mail it names by id (`flags`).

Why not labels carried on values, as CaMeL does? CaMeL can label every value because a
privileged model writes a program and an interpreter runs it, so each value's origin is
known by construction. Here an engine (a model, or the rules) returns tool calls as fresh
strings: nothing ties an argument to where the engine read it, and a model can copy, join or
re-spell a value on the way. So origin is re-established at the one boundary every side
effect crosses, by matching each value exactly against the only sources that make it the
user's: their own words in this thread, their configuration, and ids the product made. Where
the product does make a value itself it keeps the label instead of matching: a message the
user pointed to is carried as an id (`focus`), calls proposed by the product's own code are
marked as such, and the recipients shown and checked are the ones the tool computes. Matching
fails safe: a value with no exact trusted source is flagged.
"""

from graph.provenance.flags import (
    CallView,
    Flag,
    SendersNamed,
    SourceMail,
    call_flags,
    flags_for,
    names_typed,
    reply_flags,
    sender_words,
    user_chose,
)
from graph.provenance.trust import Trust
from graph.provenance.values import Value, sensitive_values

__all__ = [
    "CallView",
    "Flag",
    "SendersNamed",
    "SourceMail",
    "Trust",
    "Value",
    "call_flags",
    "flags_for",
    "names_typed",
    "reply_flags",
    "sender_words",
    "sensitive_values",
    "user_chose",
]
