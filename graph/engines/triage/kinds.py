"""Mail of the same kind: the template key of automated and bulk mail.

A sending system writes each kind of message from one template: the same address, the same
subject with only the numbers, dates and names in it changed ("[PagerDuty] RESOLVED: #4471 …"
and "[PagerDuty] RESOLVED: #4502 …"). The template key is that address and the subject's
skeleton: its numbers, ids and dates replaced, a quoted or bracketed name after the start
replaced, its first words kept up to the first of those, and a closing "(Issue #87)"-like
marker kept. "[PagerDuty] ESCALATED …" from the same address is another kind; the same subject
from another address (a look-alike domain, a copied skeleton) is no kind of the corrected mail
at all.
"""

from __future__ import annotations

import re

from graph.engines.triage.reading import header
from tools.mail.model import Email

SKELETON_WORDS = 3
"""Words of the subject a skeleton keeps at most: enough to tell kinds apart, short of the free
text; it ends sooner at the first number or name after a word ("resolved #")."""
_REPLY_RE = re.compile(r"^(?:\s*(?:re|fwd?|aw|wg|tr|sv)\s*:\s*)+", re.IGNORECASE)
_LEAD_TAG_RE = re.compile(r"^\s*\[[^\]]{1,60}\]")
_NAMED_RE = re.compile(r"\[[^\]]*\]|\"[^\"]*\"|“[^”]*”|'[^']*'|‘[^’]*’")
_TAIL_RE = re.compile(r"\(([^()]{1,40})\)\s*$")
_MONTHS = (
    "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|"
    "july|august|september|october|november|december|mon|tue|wed|thu|fri|sat|sun|monday|"
    "tuesday|wednesday|thursday|friday|saturday|sunday"
)
_DATE_WORD_RE = re.compile(rf"^(?:{_MONTHS})$")
_TOKEN_RE = re.compile(r"[#\w][\w./@+-]*|…")
_ROBOT_LOCAL_RE = re.compile(
    r"^(?:no-?reply|do-?not-?reply|notifications?|notify|alerts?|mailer-daemon|postmaster|"
    r"bounces?|billing|invoices?|receipts?|newsletter|updates)"
    r"(?:[+.\-_].*)?$"
)


def _word(token: str) -> str:
    """One subject word as the skeleton keeps it: numbers, ids and dates become '#'."""
    if any(ch.isdigit() for ch in token) or _DATE_WORD_RE.match(token):
        return "#"
    return token


def skeleton(subject: str) -> str:
    """The subject with what changes between two mails of one template taken out."""
    text = _REPLY_RE.sub("", (subject or "").casefold()).strip()
    lead = _LEAD_TAG_RE.match(text)
    tag = lead.group(0).strip() if lead else ""
    rest = text[lead.end() :] if lead else text
    tail = _TAIL_RE.search(rest)
    kind = " ".join(_word(t) for t in _TOKEN_RE.findall(tail.group(1))) if tail else ""
    rest = _NAMED_RE.sub(" … ", rest[: tail.start()] if tail else rest)
    words: list[str] = []
    for token in _TOKEN_RE.findall(rest):
        word = _word(token)
        if not (words and word == words[-1] and word in ("#", "…")):
            words.append(word)
        if word in ("#", "…") and any(w not in ("#", "…") for w in words):
            break  # what follows an id is the free text of this one message
    parts = [tag, " ".join(words[:SKELETON_WORDS]), f"({kind})" if kind else ""]
    return " ".join(part for part in parts if part)


def is_automated(email: Email) -> bool:
    """Sent by a system or to many: what one template writes again and again.

    A discussion list (a `List-Id` without an unsubscribe link) carries people's mail, so it is
    not counted here; its rule stays the whole list.
    """
    submitted = header(email, "Auto-Submitted").casefold()
    precedence = header(email, "Precedence").casefold()
    local = (email.from_addr or "").casefold().partition("@")[0]
    return bool(
        header(email, "List-Unsubscribe")
        or (submitted and submitted != "no")
        or precedence in ("bulk", "list", "junk")
        or _ROBOT_LOCAL_RE.match(local)
    )


def template_key(email: Email) -> str:
    """`address skeleton`: the sender's exact address, then the subject's skeleton."""
    sender = (email.from_addr or "").casefold().strip()
    if not sender:
        return ""
    return f"{sender} {skeleton(email.subject or '')}".strip()
