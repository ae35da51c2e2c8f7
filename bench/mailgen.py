"""A deterministic generator of realistic Maildirs for the benchmarks.

Messages come from templates of the kinds a work inbox holds: newsletters with
List-Unsubscribe (some HTML-only), invoices (some with a PDF attached), bug reports, meeting
requests (some with an invitation attached), tool notifications, cold outreach, replies with
quoted history and signatures, incidents, feature requests, and latin-1 mail from European
senders. About one text body in eight is base64-encoded, some are quoted-printable, and a
few messages are broken MIME (a multipart boundary that never appears), as real mailboxes
have. The same seed always gives the same bytes (apart from the file names' time part).
"""

from __future__ import annotations

import base64
import os
import quopri
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

WORDS = (
    "the project team release customer account report update quarter plan budget review "
    "schedule service platform feature issue request change support access data migration "
    "deadline proposal contract partner product launch metrics dashboard sprint backlog "
    "design document draft feedback meeting agenda notes summary estimate invoice payment "
    "order delivery shipment analysis performance latency deploy staging production cluster "
    "pipeline build test coverage security audit compliance policy onboarding training "
    "roadmap milestone priority risk dependency vendor license renewal subscription usage"
).split()
FIRST = (
    "Alice Bob Carol Dan Erin Frank Grace Heidi Ivan Judy Ken Laura Mallory Nina Oscar Peggy"
    " Quentin Rita Sam Trent Uma Victor Wendy Xavier Yara Zoe"
).split()
LAST = (
    "Smith Jones Taylor Brown Wilson Evans Thomas Roberts Walker Wright Hall Green Baker Clark"
    " Lewis Young King Scott Adams Nelson"
).split()
COMPANIES = (
    "acme globex initech umbrella hooli stark wayne wonka soylent cyberdyne tyrell vandelay".split()
)
TLDS = ("com", "io", "co", "net", "example")
FREEMAIL = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "gmx.de")
OWNER = "me@acme.example"

LATIN1_TEXTS = (
    "Guten Tag,\n\nanbei die Unterlagen für das Treffen am Donnerstag. Könnten Sie bitte "
    "die Änderungen prüfen und mir bis Freitag Rückmeldung geben? Die Größe der Dateien "
    "überschreitet leider das Limit.\n\nMit freundlichen Grüßen",
    "Bonjour,\n\nvoici le résumé de la réunion de mercredi. Nous avons décidé de reporter "
    "la livraison à la semaine prochaine. Pourriez-vous confirmer la date de "
    "réception ? Merci d'avance.\n\nCordialement",
    "Hola,\n\nle envío la factura del mes pasado. El pago vence el próximo lunes. "
    "Si tiene alguna pregunta, no dude en contactarme.\n\nSaludos cordiales",
)


def _q(text: str) -> str:
    """Quoted-printable for an RFC 2047 encoded word, as a latin-1 mailer writes it."""
    return quopri.encodestring(text.encode("latin-1"), header=True).decode()


def _ascii(text: str) -> str:
    return text.encode("ascii", "ignore").decode()


@dataclass
class _Part:
    """One leaf MIME part, before encoding."""

    ctype: str
    text: str = ""
    data: bytes = b""
    filename: str = ""
    charset: str = "utf-8"
    encoding: str = "7bit"  # 7bit | 8bit | base64 | quoted-printable


class MailFactory:
    """Builds raw messages from templates, deterministically from `seed`."""

    def __init__(self, seed: int = 1234) -> None:
        self.rng = random.Random(seed)
        self.count = 0
        self.kinds: list[tuple[str, float, Callable[[], tuple[dict[str, str], list[_Part]]]]] = [
            ("newsletter", 15, self._newsletter),
            ("marketing_html", 6, self._marketing_html),
            ("invoice", 10, self._invoice),
            ("bug_report", 10, self._bug_report),
            ("meeting_request", 10, self._meeting),
            ("notification", 18, self._notification),
            ("cold_outreach", 8, self._cold_outreach),
            ("reply_thread", 12, self._reply_thread),
            ("latin1", 5, self._latin1),
            ("incident", 2, self._incident),
            ("feature_request", 3, self._feature_request),
            ("broken_mime", 1, self._broken),
        ]
        self.stats: Counter[str] = Counter()

    # ------------------------------------------------------------------ pieces

    def _words(self, n: int) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(n))

    def _paragraphs(self, low: int, high: int) -> str:
        paragraphs = []
        for _ in range(self.rng.randint(low, high)):
            sentences = []
            for _ in range(self.rng.randint(2, 5)):
                sentence = self._words(self.rng.randint(6, 16))
                sentences.append(sentence[0].upper() + sentence[1:] + ".")
            paragraphs.append(" ".join(sentences))
        return "\n\n".join(paragraphs)

    def _person(self, domain: str | None = None) -> tuple[str, str]:
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        domain = domain or f"{self.rng.choice(COMPANIES)}.{self.rng.choice(TLDS)}"
        return f"{first} {last}", f"{first.lower()}.{last.lower()}@{domain}"

    def _date(self) -> str:
        day = self.rng.randint(0, 364)
        stamp = 1767225600 + day * 86400 + self.rng.randint(0, 86399)  # during 2026
        offset = self.rng.choice(("+0000", "+0100", "+0200", "-0500", "-0800", "+0530"))
        return time.strftime("%a, %d %b %Y %H:%M:%S ", time.gmtime(stamp)) + offset

    def _signature(self, name: str) -> str:
        return f"\n\n-- \n{name}\n{self._words(3).title()}\n+1 555 {self.rng.randint(1000, 9999)}"

    # ------------------------------------------------------------------ templates

    def _newsletter(self) -> tuple[dict[str, str], list[_Part]]:
        org = self.rng.choice(COMPANIES)
        topic = self._words(3)
        headers = {
            "From": f"{org.title()} Weekly <newsletter@{org}.com>",
            "Subject": f"{org.title()} Weekly #{self.rng.randint(1, 300)}: {topic}",
            "List-Unsubscribe": (
                f"<https://{org}.com/unsubscribe?u={self.rng.getrandbits(40):x}>,"
                f" <mailto:unsub@{org}.com>"
            ),
            "List-Id": f"{org.title()} Weekly <weekly.{org}.com>",
            "Precedence": "bulk",
            "X-Mailer": self.rng.choice(("Mailchimp Mailer", "SendGrid", "Substack")),
        }
        stories = [(self._words(5).title(), self._paragraphs(1, 1)) for _ in range(4)]
        text = "This week:\n\n" + "\n\n".join(f"* {t}\n{b}" for t, b in stories)
        text += "\n\nYou are receiving this because you subscribed. Unsubscribe any time."
        html = self._html_page(stories)
        if self.rng.random() < 0.35:
            return headers, [_Part("text/html", html)]
        return headers, [_Part("text/plain", text), _Part("text/html", html)]

    def _html_page(self, stories: list[tuple[str, str]]) -> str:
        rows = "".join(
            f"<tr><td><h2 style='font-size:18px'>{title}</h2></td></tr>"
            f"<tr><td><p>{body}</p><a href='https://example.com/{i}'>Read more</a></td></tr>"
            for i, (title, body) in enumerate(stories)
        )
        return (
            "<!DOCTYPE html><html><head><title>Newsletter</title>"
            "<style>body{font-family:Arial} td{padding:8px}</style></head><body>"
            "<!-- tracking pixel below -->"
            f"<table width='600' cellpadding='0'>{rows}</table>"
            "<img src='https://example.com/open.gif' width='1' height='1'>"
            "<p style='font-size:10px'>Unsubscribe | Manage preferences</p>"
            "</body></html>"
        )

    def _marketing_html(self) -> tuple[dict[str, str], list[_Part]]:
        org = self.rng.choice(COMPANIES)
        headers = {
            "From": f"{org.title()} Deals <offers@{org}-mail.com>",
            "Subject": f"{self.rng.randint(10, 70)}% off {self._words(2)} this week only",
            "List-Unsubscribe": f"<https://{org}-mail.com/u/{self.rng.getrandbits(32):x}>",
            "X-Mailer": "Klaviyo",
        }
        stories = [(self._words(4).title(), self._paragraphs(1, 1)) for _ in range(3)]
        part = _Part("text/html", self._html_page(stories))
        if self.rng.random() < 0.3:
            part.encoding = "base64"
        return headers, [part]

    def _invoice(self) -> tuple[dict[str, str], list[_Part]]:
        vendor = self.rng.choice(COMPANIES)
        number = f"INV-2026-{self.rng.randint(1000, 9999)}"
        amount = f"${self.rng.randint(100, 20000):,}.{self.rng.randint(0, 99):02d}"
        overdue = self.rng.random() < 0.3
        headers = {
            "From": f"{vendor.title()} Billing <billing@{vendor}.com>",
            "Subject": f"{'Overdue: ' if overdue else ''}Invoice {number} from {vendor.title()}",
        }
        text = (
            f"Hello,\n\nPlease find attached invoice {number} for {amount}. "
            f"Payment is due within 30 days{' and is now overdue' if overdue else ''}.\n\n"
            f"{self._paragraphs(1, 2)}\n\nThank you for your business,\n{vendor.title()} Accounts"
        )
        parts = [_Part("text/plain", text)]
        if self.rng.random() < 0.5:
            pdf = b"%PDF-1.4\n" + self.rng.randbytes(self.rng.randint(4_000, 24_000))
            parts.append(
                _Part("application/pdf", data=pdf, filename=f"{number}.pdf", encoding="base64")
            )
        return headers, parts

    def _bug_report(self) -> tuple[dict[str, str], list[_Part]]:
        name, addr = self._person()
        component = self.rng.choice(("export", "login", "search", "sync", "upload", "reports"))
        headers = {
            "From": f"{name} <{addr}>",
            "Subject": f"Bug: {component} fails with error {self.rng.randint(400, 599)}",
        }
        trace = "\n".join(
            f'  File "app/{component}/{self._words(1)}.py",'
            f" line {self.rng.randint(10, 900)}, in {self._words(1)}"
            for _ in range(self.rng.randint(3, 8))
        )
        text = (
            f"Hi,\n\nThe {component} page crashes when I {self._words(6)}.\n\n"
            f"Steps to reproduce:\n1. Open {component}\n2. {self._words(5)}\n3. Click save\n\n"
            "Expected: it works. Actual: an error.\n\n"
            f"Traceback (most recent call last):\n{trace}\n"
            f"ValueError: {self._words(4)}\n\n{self._paragraphs(0, 2)}{self._signature(name)}"
        )
        return headers, [_Part("text/plain", text)]

    def _meeting(self) -> tuple[dict[str, str], list[_Part]]:
        name, addr = self._person(f"{self.rng.choice(COMPANIES)}.com")
        day = self.rng.choice(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"))
        hour = self.rng.randint(9, 17)
        topic = self._words(2)
        headers = {
            "From": f"{name} <{addr}>",
            "Subject": f"Meeting request: {topic} on {day}",
        }
        text = (
            f"Hi,\n\nCould we meet on {day} at {hour}:00 to go over the {topic}? "
            f"I'd need about 30 minutes. If that doesn't work, {self._words(4)} "
            f"any time next week is fine too.\n\n{self._paragraphs(0, 1)}{self._signature(name)}"
        )
        parts = [_Part("text/plain", text)]
        if self.rng.random() < 0.3:
            ics = (
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\n"
                f"SUMMARY:{topic}\r\nDTSTART:20260601T{hour:02d}0000Z\r\n"
                "END:VEVENT\r\nEND:VCALENDAR\r\n"
            )
            parts.append(_Part("text/calendar", data=ics.encode(), filename="invite.ics"))
        return headers, parts

    def _notification(self) -> tuple[dict[str, str], list[_Part]]:
        kind = self.rng.choice(("github", "jira", "ci", "calendar"))
        repo = f"{self.rng.choice(COMPANIES)}/{self._words(1)}"
        number = self.rng.randint(1, 9999)
        if kind == "github":
            headers = {
                "From": f"{self.rng.choice(FIRST)} <notifications@github.com>",
                "Subject": f"Re: [{repo}] {self._words(5)} (PR #{number})",
                "List-Id": f"{repo} <{repo.replace('/', '.')}.github.com>",
                "List-Unsubscribe": "<https://github.com/notifications/unsubscribe/x>",
            }
            text = (
                f"@{self.rng.choice(FIRST).lower()} approved this pull request.\n\n"
                f"{self._words(20)}\n\n—\nReply to this email directly or view it on GitHub."
            )
        elif kind == "jira":
            key = f"{self.rng.choice(('OPS', 'WEB', 'API'))}-{number}"
            headers = {
                "From": f"Jira <jira@{self.rng.choice(COMPANIES)}.atlassian.net>",
                "Subject": f"[JIRA] ({key}) {self._words(5)}",
                "Auto-Submitted": "auto-generated",
            }
            text = (
                f"{self.rng.choice(FIRST)} updated {key}:\n\n"
                f"Status: To Do -> In Progress\n\n{self._words(25)}"
            )
        elif kind == "ci":
            headers = {
                "From": "CircleCI <builds@circleci.com>",
                "Subject": (
                    f"{self.rng.choice(('Failed', 'Fixed', 'Success'))}:"
                    f" {repo}#{number} ({self._words(1)})"
                ),
                "Auto-Submitted": "auto-generated",
            }
            text = f"Build {number} of {repo} finished.\n\n{self._words(30)}"
        else:
            headers = {
                "From": "Google Calendar <calendar-notification@google.com>",
                "Subject": f"Reminder: {self._words(3)} @ {self.rng.randint(9, 17)}:00",
                "Auto-Submitted": "auto-generated",
            }
            text = f"This is a reminder for {self._words(4)}.\n\n{self._words(12)}"
        return headers, [_Part("text/plain", text)]

    def _cold_outreach(self) -> tuple[dict[str, str], list[_Part]]:
        name, _ = self._person()
        domain = self.rng.choice(FREEMAIL) if self.rng.random() < 0.4 else "growthly.io"
        addr = f"{name.split()[0].lower()}@{domain}"
        headers = {
            "From": f"{name} <{addr}>",
            "Subject": self.rng.choice(
                (
                    "Quick question",
                    f"Helping {self.rng.choice(COMPANIES).title()} grow 3x",
                    "15 minutes next week?",
                    "Partnership opportunity",
                )
            ),
        }
        if self.rng.random() < 0.5:
            headers["X-Mailer"] = self.rng.choice(("lemlist", "Apollo", "Woodpecker"))
        text = (
            f"Hi there,\n\nI came across your company and was impressed by {self._words(4)}. "
            f"We help teams like yours {self._words(8)}. Would you be open to a quick "
            f"15-minute call next week to explore a partnership?\n\n{self._paragraphs(0, 1)}\n\n"
            f"Best,\n{name}\n\nP.S. If you're not the right person, who should I talk to?"
        )
        return headers, [_Part("text/plain", text)]

    def _reply_thread(self) -> tuple[dict[str, str], list[_Part]]:
        name, addr = self._person("acme.example")
        other, _ = self._person()
        topic = self._words(3)
        parent = f"{self.rng.getrandbits(48):x}@acme.example"
        headers = {
            "From": f"{name} <{addr}>",
            "Cc": ", ".join(self._person("acme.example")[1] for _ in range(self.rng.randint(0, 3))),
            "Subject": f"Re: {topic}",
            "In-Reply-To": f"<{parent}>",
            "References": f"<{parent}>",
        }
        quoted = "\n".join(
            f"> {line}" if line else ">" for line in self._paragraphs(2, 6).split("\n")
        )
        text = (
            f"{self._paragraphs(1, 3)}{self._signature(name)}\n\n"
            f"On {self._date()}, {other} wrote:\n{quoted}\n"
        )
        if self.rng.random() < 0.3:
            older = "\n".join(f">> {line}" for line in self._paragraphs(2, 4).split("\n"))
            text += f">\n> On {self._date()}, {name} wrote:\n{older}\n"
        return headers, [_Part("text/plain", text)]

    def _latin1(self) -> tuple[dict[str, str], list[_Part]]:
        text = self.rng.choice(LATIN1_TEXTS)
        first = self.rng.choice(("Jürgen", "Renée", "José", "Günther", "Hélène"))
        subject = self.rng.choice(
            ("Rückmeldung zum Angebot", "Résumé de la réunion", "Factura pendiente")
        )
        headers = {
            # RFC 2047 encoded words, as a latin-1 mailer writes them.
            "From": f"=?iso-8859-1?Q?{_q(first)}?= <{_ascii(first).lower()}@firma.de>",
            "Subject": f"=?iso-8859-1?Q?{_q(subject)}?=",
        }
        encoding = self.rng.choice(("quoted-printable", "8bit"))
        return headers, [
            _Part("text/plain", text + f"\n{first}", charset="iso-8859-1", encoding=encoding)
        ]

    def _incident(self) -> tuple[dict[str, str], list[_Part]]:
        service = self.rng.choice(("checkout API", "login service", "search cluster", "website"))
        headers = {
            "From": "Ops Alerts <alerts@ops.acme.example>",
            "Subject": f"URGENT: production {service} is down",
            "X-Priority": "1",
        }
        text = (
            f"The {service} is down in production since"
            f" {self.rng.randint(0, 23):02d}:{self.rng.randint(0, 59):02d} UTC. "
            "Customers cannot complete checkout; all requests return 503 errors.\n\n"
            f"Incident OPS-{self.rng.randint(100, 999)} is open;"
            " on-call please join the bridge now."
        )
        return headers, [_Part("text/plain", text)]

    def _feature_request(self) -> tuple[dict[str, str], list[_Part]]:
        name, addr = self._person()
        headers = {
            "From": f"{name} <{addr}>",
            "Subject": f"Feature request: {self._words(3)}",
        }
        text = (
            f"Hello,\n\nIt would be great if you could add support for {self._words(4)}. "
            f"Right now we {self._words(10)}.\n\n{self._paragraphs(1, 2)}{self._signature(name)}"
        )
        return headers, [_Part("text/plain", text)]

    def _broken(self) -> tuple[dict[str, str], list[_Part]]:
        name, addr = self._person()
        headers = {"From": f"{name} <{addr}>", "Subject": f"Fwd: {self._words(3)}"}
        return headers, []  # rendered specially in `message`

    # ------------------------------------------------------------------ assembly

    def message(self) -> tuple[str, bytes]:
        """The next message: (kind, raw bytes)."""
        names = [k for k, _, _ in self.kinds]
        weights = [w for _, w, _ in self.kinds]
        kind = self.rng.choices(names, weights)[0]
        build = dict((k, f) for k, _, f in self.kinds)[kind]
        headers, parts = build()
        self.count += 1
        self.stats[kind] += 1
        # A text body is sometimes base64 (common from some webmail and Outlook setups).
        for part in parts:
            if part.ctype == "text/plain" and part.encoding == "7bit" and self.rng.random() < 0.12:
                part.encoding = "base64"
                self.stats["base64 text"] += 1
            elif (
                part.ctype == "text/plain" and part.encoding == "7bit" and self.rng.random() < 0.08
            ):
                part.encoding = "quoted-printable"
        all_headers = {
            "Return-Path": "<bounce@mail.example>",
            "Received": (
                f"from mx{self.rng.randint(1, 9)}.mail.example by mx.acme.example; {self._date()}"
            ),
            **headers,
            "To": OWNER,
            "Date": self._date(),
            "Message-ID": (
                f"<{self.count}.{self.rng.getrandbits(40):x}@{kind.replace('_', '-')}.example>"
            ),
            "MIME-Version": "1.0",
        }
        lines = [f"{k}: {v}" for k, v in all_headers.items() if v]
        if kind == "broken_mime":
            boundary = f"b{self.rng.getrandbits(32):x}"
            lines.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
            body = "This forwarded message lost its MIME parts.\n" + self._paragraphs(1, 2)
            return kind, ("\n".join(lines) + "\n\n" + body + "\n").encode()
        if len(parts) == 1:
            head, payload = self._render(parts[0])
            return kind, ("\n".join(lines + head) + "\n\n").encode() + payload
        if parts[0].ctype == "text/plain" and parts[1].ctype == "text/html":
            outer = "multipart/alternative"
        else:
            outer = "multipart/mixed"
        boundary = f"=_{self.rng.getrandbits(64):x}"
        lines.append(f'Content-Type: {outer}; boundary="{boundary}"')
        out = ("\n".join(lines) + "\n\nThis is a multi-part message in MIME format.\n").encode()
        for part in parts:
            head, payload = self._render(part)
            out += f"\n--{boundary}\n".encode() + ("\n".join(head) + "\n\n").encode() + payload
        return kind, out + f"\n--{boundary}--\n".encode()

    @staticmethod
    def _render(part: _Part) -> tuple[list[str], bytes]:
        head = []
        if part.filename:
            head.append(f'Content-Type: {part.ctype}; name="{part.filename}"')
            head.append(f'Content-Disposition: attachment; filename="{part.filename}"')
            data = part.data
        else:
            head.append(f"Content-Type: {part.ctype}; charset={part.charset}")
            data = part.text.encode(part.charset)
            if part.encoding == "7bit" and not data.isascii():
                part.encoding = "8bit"
        head.append(f"Content-Transfer-Encoding: {part.encoding}")
        if part.encoding == "base64":
            payload = base64.encodebytes(data)
        elif part.encoding == "quoted-printable":
            payload = quopri.encodestring(data)
        else:
            payload = data
        return head, payload


# ---------------------------------------------------------------------- Maildir


def make_maildir(root: Path) -> Path:
    """Create an empty Maildir (cur/, new/, tmp/) at `root`."""
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def deliver(root: Path, raw: bytes, number: int, *, seen: bool = True, folder: str = "") -> Path:
    """Write one message into the Maildir: `cur/` with the Seen flag, or `new/`."""
    base = root / f".{folder}" if folder else root
    if folder:
        make_maildir(base)
    name = f"{1767225600 + number}.M{number}P4242Q{number}.benchhost"
    path = base / ("cur" if seen else "new") / (f"{name}:2,S" if seen else name)
    path.write_bytes(raw)
    return path


def generate_maildir(root: Path, count: int, *, seed: int = 1234) -> dict[str, int]:
    """Write `count` generated messages into a new Maildir at `root`; returns counts by kind.

    About 80 % land in `cur/` (seen), 15 % in `new/`, 5 % in an `.Archive` subfolder.
    """
    make_maildir(root)
    factory = MailFactory(seed)
    total_bytes = 0
    for number in range(count):
        _, raw = factory.message()
        total_bytes += len(raw)
        draw = factory.rng.random()
        if draw < 0.05:
            deliver(root, raw, number, folder="Archive")
        else:
            deliver(root, raw, number, seen=draw < 0.85)
    settle(root)
    stats = dict(factory.stats)
    stats["total bytes"] = total_bytes
    return stats


def settle(root: Path, age_seconds: float = 30.0) -> None:
    """Backdate the Maildir's directory mtimes.

    The sync cursor treats a directory modified in the last two seconds as possibly still
    changing and lists it again; a real mailbox is rarely written to in the very second it is
    checked, so the generated one is made to look the same.
    """
    stamp = time.time() - age_seconds
    for directory, _, _ in os.walk(root):
        os.utime(directory, (stamp, stamp))
