"""The words mail uses to ask, report, warn and sign off, in the languages the inbox sees.

One table, read by whoever needs to know what a sentence of a mail does: the offline
engine's key sentences and attention items, and the check of who is waiting on a reply.
Each role lists its cues per language (English, German, French, Spanish, some Japanese); a
cue is a regular-expression piece matched case-insensitively, at word boundaries for the
languages that have them. Adding a language is adding its lines here, nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Literal

Role = Literal[
    "happened", "impact", "status", "next", "ask", "deadline", "greeting", "closing", "formula"
]

CUES: Mapping[Role, Mapping[str, tuple[str, ...]]] = {
    "happened": {
        "en": (
            r"(?:is|are|was|went) down", r"outage", r"broke(?:n)?", r"crash(?:es|ed|ing)?",
            r"fail(?:s|ed|ing|ure)", r"errors?", r"started", r"since", r"happened", r"incident",
            r"return(?:s|ing)? (?:http )?\d{3}s?", r"stopped", r"bug", r"cannot|can't|can’t",
            r"stuck", r"after (?:the|our|your) .{0,30}(?:deploy|release|update|upgrade)",
        ),
        "de": (
            r"ausgefallen", r"ausfall", r"störung", r"fehler\w*", r"seit", r"abgestürzt",
            r"funktioniert nicht", r"geht nicht", r"kaputt",
        ),
        "fr": (r"panne", r"erreurs?", r"depuis", r"incident", r"plant\w*", r"ne fonctionne plus"),
        "es": (r"caíd[oa]", r"caída", r"errores?", r"desde", r"incidente", r"fall[oa]\w*"),
    },
    "impact": {
        "en": (
            r"impact", r"affect(?:s|ed|ing)?", r"customers?", r"users?", r"locked out",
            r"blocked", r"revenue", r"tickets?", r"failed \w+", r"\d+(?:[.,]\d+)?\s?%",
            r"most of", r"all of (?:our|the)",
        ),
        "de": (r"auswirkung\w*", r"betroffen", r"kunden", r"nutzer\w*", r"blockiert"),
        "fr": (r"impact", r"clients?", r"utilisateurs?", r"bloqué\w*", r"affecté\w*"),
        "es": (r"impacto", r"clientes?", r"usuarios?", r"afectad\w+", r"bloquead\w+"),
    },
    "status": {
        "en": (
            r"update", r"roll(?:ed|ing)? ?back", r"rollback", r"resolved", r"fixed",
            r"mitigated", r"restored", r"recovered", r"investigating", r"so far", r"still",
            r"currently", r"finished", r"confirmed", r"is (?:now )?(?:included|available|live)",
            r"deployed", r"dropped", r"back to normal",
        ),
        "de": (
            r"behoben", r"stand", r"aktuell", r"inzwischen", r"zurückgerollt", r"gelöst",
            r"wiederhergestellt", r"noch immer", r"weiterhin",
        ),
        "fr": (
            r"résolu\w*", r"corrigé\w*", r"rétabli\w*", r"actuellement", r"toujours", r"en cours",
        ),
        "es": (r"resuelt\w+", r"corregid\w+", r"restablecid\w+", r"actualmente", r"todavía"),
    },
    "next": {
        "en": (
            r"next step", r"we(?:'ll| will)", r"i(?:'ll| will)", r"going to", r"plan(?:ned)? to",
            r"unless", r"follow up", r"i want to", r"we want to", r"meets? on",
        ),
        "de": (r"nächste[nr]? schritt", r"werden", r"wird", r"geplant", r"vorhaben"),
        "fr": (r"prochaine étape", r"nous allons", r"je vais", r"prévu\w*"),
        "es": (r"próximo paso", r"vamos a", r"voy a", r"previsto"),
    },
    "ask": {
        "en": (
            r"can you", r"could you", r"would you", r"will you", r"can we", r"could we",
            r"could i", r"can i", r"please", r"let me know", r"i need", r"we need",
            r"need (?:you|your)", r"your (?:ok|okay|approval|input|decision|go|answer|read)",
            r"i'd like your", r"do you", r"are you", r"is there", r"unless you object",
            r"if you (?:agree|object)",
        ),
        "de": (
            r"bitte", r"können sie", r"könnten sie", r"kannst du", r"könntest du", r"brauche",
            r"benötige\w*", r"wir brauchen", r"geben sie .{0,20}bescheid",
        ),
        "fr": (
            r"pouvez-vous", r"pourriez-vous", r"peux-tu", r"merci de", r"s'il vous plaît",
            r"svp", r"j'ai besoin", r"nous avons besoin",
        ),
        "es": (
            r"puede[ns]?", r"podría[ns]?", r"por favor", r"necesit\w+", r"me confirma\w*",
        ),
        "ja": (r"いただけ", r"ください", r"でしょうか", r"お願い"),
    },
    "deadline": {
        "en": (
            r"by (?:the )?(?:end of \w+|eod|cob|tomorrow|today|tonight|next \w+|this \w+|"
            r"(?:mon|tue|wed|thu|fri|sat|sun|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*|"
            r"\d[\w:./]*)",
            r"before", r"until", r"within", r"at the latest", r"asap", r"as soon as",
            r"today", r"tomorrow", r"tonight", r"deadline", r"due", r"overdue", r"urgent",
        ),
        "de": (
            r"bis (?:zum|zur|morgen|heute|montag|dienstag|mittwoch|donnerstag|freitag|\d)",
            r"spätestens", r"innerhalb", r"heute", r"morgen", r"sofort", r"frist", r"fällig",
        ),
        "fr": (
            r"avant", r"d'ici", r"au plus tard", r"aujourd'hui", r"demain", r"dès que",
            r"échéance", r"urgent",
        ),
        "es": (
            r"antes de", r"a más tardar", r"hoy", r"mañana", r"cuanto antes", r"plazo", r"urgente",
        ),
        "ja": (r"までに", r"至急", r"本日中"),
    },
    "formula": {
        "en": (
            r"please (?:find|see) (?:\w+ )?(?:attached|below|enclosed|herewith)",
            r"(?:attached|enclosed) (?:please find|is|are)", r"for your (?:information|records)",
        ),
        "de": (r"anbei", r"im anhang (?:finden|sende)", r"zu ihrer information"),
        "fr": (r"veuillez trouver ci-(?:joint|dessous)", r"ci-joint", r"pour information"),
        "es": (r"adjunto (?:le |te )?(?:envío|remito)", r"te adjunto", r"le adjunto"),
    },
    "greeting": {
        "en": (r"hi", r"hello", r"hey", r"dear", r"good (?:morning|afternoon|evening)"),
        "de": (
            r"hallo", r"liebe[rs]?", r"sehr geehrte[rs]?", r"guten (?:morgen|tag|abend)", r"moin",
        ),
        "fr": (r"bonjour", r"bonsoir", r"cher", r"chère", r"salut"),
        "es": (r"hola", r"estimad[oa]s?", r"buen(?:os|as) (?:días|tardes|noches)"),
    },
    "closing": {
        "en": (
            r"thanks?(?: you)?(?: (?:so much|in advance|again))?", r"best(?: regards| wishes)?",
            r"(?:kind |warm )?regards", r"cheers", r"sincerely", r"yours(?: truly)?", r"talk soon",
        ),
        "de": (
            r"danke(?: schön)?", r"vielen dank", r"(?:viele|beste|liebe|freundliche) grüße",
            r"mit freundlichen grüßen", r"gruß", r"lg",
        ),
        "fr": (
            r"merci(?: beaucoup)?", r"cordialement", r"bien à vous", r"bonne journée", r"amitiés",
        ),
        "es": (r"gracias", r"saludos", r"un saludo", r"atentamente", r"un abrazo"),
    },
}  # fmt: skip


@cache
def cue_pattern(role: Role) -> re.Pattern[str]:
    """One compiled pattern for a role's cues in every language."""
    bounded = [cue for words in CUES[role].values() for cue in words if cue[0].isascii()]
    # Scripts written without spaces between words (Japanese) have no word boundaries.
    unbounded = [cue for words in CUES[role].values() for cue in words if not cue[0].isascii()]
    pattern = r"(?<!\w)(?:" + "|".join(bounded) + r")(?!\w)"
    if unbounded:
        pattern += "|" + "|".join(unbounded)
    return re.compile(pattern, re.IGNORECASE)


def has_cue(role: Role, text: str) -> bool:
    """True when `text` contains one of the role's cues."""
    return bool(cue_pattern(role).search(text))


def cue_count(role: Role, text: str) -> int:
    """How many of the role's cues `text` contains."""
    return len(cue_pattern(role).findall(text))


def is_greeting(line: str) -> bool:
    """A salutation line: "Hi Dana,", "Sehr geehrte Frau Weiß,", "Hola equipo:"."""
    stripped = line.strip()
    if len(stripped.split()) > 6:
        return False
    return bool(re.match(f"(?:{cue_pattern('greeting').pattern})", stripped, re.IGNORECASE))


def is_closing(line: str) -> bool:
    """A sign-off line: "Thanks!", "Best,", "Mit freundlichen Grüßen", "Cordialement"."""
    stripped = line.strip().rstrip(",.!")
    if len(stripped.split()) > 5:
        return False
    pattern = f"(?:{cue_pattern('closing').pattern})\\W*"
    return bool(re.fullmatch(pattern, stripped, re.IGNORECASE))


def asks_something(text: str) -> bool:
    """Whether a mail's own words ask the reader something: a question or a request."""
    without_links = re.sub(r"\S+://\S+", " ", text)
    return "?" in without_links or "？" in without_links or has_cue("ask", without_links)
