"""Messages made to walk around the fast path's checks (`tools.mail.plain_mime`).

Each is close to a plain shape (one text part, an alternative, a mixed message with an
attachment) with one thing changed that the feed parser reads differently from the obvious:
folded or duplicated headers, encoded words, odd charsets and transfer encodings, CR and LF
mixed, a missing blank line, boundaries inside the text, junk in base64, NUL and 8-bit bytes,
quotes and comments in parameters. Seeded, so a failure names a message that comes back.
"""

from __future__ import annotations

import base64
import quopri
import random

TOP = [
    "From: Ann Lee <ann@acme.example>",
    "To: me@acme.example, Bob <bob@acme.example>",
    "Subject: Quarterly numbers",
    "Date: Tue, 17 Nov 2026 09:00:00 +0000",
    "Message-ID: <m1@acme.example>",
    "MIME-Version: 1.0",
]
TEXT = "Hello,\n\nthe numbers are in. Caf\xe9 at 10?\n\n> quoted line\n-- \nAnn\n"
HTML = "<html><body><p>Hello <b>there</b></p><ul><li>one<li>two</ul><a href='https://x.example'>x</a></body></html>"

CONTENT_TYPES = [
    "text/plain; charset=utf-8",
    'text/plain; charset="utf-8"',
    "text/plain;charset=UTF-8",
    "Text/Plain; Charset=ISO-8859-1",
    "text/plain; charset=latin-1",
    "text/plain; charset=windows-1252",
    "text/plain; charset=koi8-r",
    "text/plain; charset=x-unknown",
    'text/plain; charset=""',
    "text/plain; charset=us-ascii; charset=utf-8",
    "text/plain; charset=utf-8; format=flowed",
    "text/plain; charset=utf-8; format=flowed; delsp=yes",
    "text/plain; charset=utf-8; format=FLOWED; format=fixed",
    "text/plain (comment); charset=utf-8",
    "text/plain; charset=utf-8 (comment)",
    'text/plain; charset="utf\\-8"',
    "text/plain; charset*=utf-8''x",
    "text/plain; charset=utf-8;",
    "text/plain; charset =utf-8",
    "text/plain;\r\n\tcharset=utf-8",
    "text/plain; charset==?utf-8?q?x?=",
    'text/plain; charset="<utf-8>"',
    "text/plain charset=utf-8",
    "text / plain",
    "text",
    "text/plain/x",
    "",
    "text/html; charset=utf-8",
    "TEXT/HTML",
    "text/enriched",
    "text/calendar; charset=utf-8",
    "application/octet-stream",
]
ENCODINGS = [
    "",
    "7bit",
    "8bit",
    "binary",
    "quoted-printable",
    "Quoted-Printable",
    "base64",
    "BASE64",
    " base64",
    "base64 ",
    "base64 (comment)",
    "x-uuencode",
    "x-token",
]
BOUNDARY_ENDS = ["", " ", "\t", "  "]
"""What may follow a boundary on its line."""
DISPOSITIONS = [
    "",
    "inline",
    "INLINE",
    "inline; filename=a.txt",
    "attachment",
    'attachment; filename="notes.txt"',
    'attachment; filename=" "',
    "attachment; filename*=utf-8''%E2%82%AC.txt",
    'attachment; filename="=?utf-8?q?caf=C3=A9?=.txt"',
    "form-data",
]


def encode(body: bytes, encoding: str, rng: random.Random) -> bytes:
    """`body` in the transfer encoding, sometimes with junk the decoders must cope with."""
    name = encoding.strip().lower()
    if name.startswith("base64"):
        data = base64.encodebytes(body)
        roll = rng.random()
        if roll < 0.15:
            data = data.rstrip(b"=\n") + b"\n"  # padding lost
        elif roll < 0.3:
            data = data[:-2] + b"A\n"  # one letter too many: the length is wrong
        elif roll < 0.45:
            data = data.replace(b"\n", b" !*\n", 2)  # characters outside the alphabet
        return data
    if name == "quoted-printable":
        return quopri.encodestring(body) + (b"=\n" if rng.random() < 0.3 else b"")
    return body


def part(ctype: str, encoding: str, body: bytes, rng: random.Random, extra: str = "") -> str:
    """Headers and body of one part, as text (8-bit bytes as surrogates)."""
    head = [f"Content-Type: {ctype}"] if ctype else []
    if encoding:
        head.append(f"Content-Transfer-Encoding: {encoding}")
    if extra:
        head.append(extra)
    rng.shuffle(head)
    payload = encode(body, encoding, rng).decode("ascii", "surrogateescape")
    return "\n".join(head) + "\n\n" + payload


def body_bytes(ctype: str, rng: random.Random) -> bytes:
    """A text in a charset the part may or may not declare."""
    text = HTML if "html" in ctype.lower() else TEXT
    charset = rng.choice(["utf-8", "latin-1", "cp1252", "koi8-r", "utf-16"])
    data = text.encode(charset, "replace")
    if rng.random() < 0.1:
        data = data.replace(b"numbers", b"num\x00bers")
    return data


def top_headers(rng: random.Random) -> list[str]:
    """The usual headers, one of them made odd now and then."""
    lines = list(TOP)
    roll = rng.random()
    if roll < 0.1:
        lines[2] = "Subject: =?utf-8?q?Caf=C3=A9?= and =?iso-8859-1?b?Y2Fm6Q==?="
    elif roll < 0.2:
        lines[2] = "Subject: a long subject\n folded over\n\ttwo lines"
    elif roll < 0.3:
        lines[0] = "From: Ren\xe9 Dupont <rene@acme.example>"
    elif roll < 0.35:
        lines.insert(0, "From ann@acme.example Tue Nov 17 09:00:00 2026")
    elif roll < 0.4:
        lines.insert(0, " continued first line")
    elif roll < 0.45:
        lines.insert(3, "Subject: a second subject")
    elif roll < 0.5:
        lines.insert(3, "X-Broken header without colon")
    elif roll < 0.55:
        lines.insert(3, "Subject : spaced name")
    elif roll < 0.6:
        lines.insert(3, ": no name")
    elif roll < 0.65:
        lines = [
            line
            for line in lines
            if not line.startswith(("From", "To", "Subject", "Date", "Message", "MIME"))
        ] + ["X-Only: this"]
    elif roll < 0.7:
        lines.append("X-Null: a\x00b")
    elif roll < 0.75:
        lines.append("X-Trailing: value   \n   ")
    return lines


def multipart(kind: str, boundary: str, parts: list[str], rng: random.Random) -> str:
    """A multipart body: preamble, the parts, the close, with a layout slip now and then."""
    sep = f"--{boundary}"
    body = "preamble text\n" + (f"{sep}x not a boundary\n" if rng.random() < 0.2 else "")
    for text in parts:
        body += f"{sep}{rng.choice(BOUNDARY_ENDS)}\n{text}\n"
        if rng.random() < 0.05:
            body += f"{sep}\n"  # a doubled boundary
        if rng.random() < 0.05:
            body += f"{sep}-- inside the text\n"
    roll = rng.random()
    if roll < 0.08:
        return body  # never closed
    if roll < 0.12:
        return body + f"{sep}--\nepilogue\n{sep}\nContent-Type: text/plain\n\nafter the end\n"
    if roll < 0.16:
        return body + f"{sep}--  \n"
    return body + f"{sep}--\n" + ("epilogue\n" if rng.random() < 0.3 else "")


def _pick(rng: random.Random, choices: list[str], tame: int) -> str:
    """One of `choices`; only from the first `tame` (the plain ones) most of the time."""
    return rng.choice(choices[:tame] if rng.random() < 0.75 else choices)


def message(rng: random.Random) -> bytes:
    """One message near a plain shape, with its line ends chosen last."""
    lines = top_headers(rng) if rng.random() < 0.7 else list(TOP)
    shape = rng.choice(["single", "single", "alternative", "mixed", "nested"])
    if shape == "single":
        ctype = _pick(rng, CONTENT_TYPES, 13)
        head_and_body = part(
            ctype, _pick(rng, ENCODINGS, 8), body_bytes(ctype, rng), rng, _disposition(rng)
        )
        text = "\n".join(lines) + "\n" + head_and_body
    else:
        boundary = _pick(rng, ["b1", "=_abc.123", "(paren)", "-b-", "x y", "'q'", "a" * 75], 4)
        quoted = _pick(rng, [f'"{boundary}"', boundary, f'"{boundary}" (c)', f"'{boundary}'"], 2)
        kind = "mixed" if shape == "mixed" else "alternative"
        parts = [_inner(rng, shape) for _ in range(rng.choice([1, 2, 2, 2, 3, 9]))]
        if rng.random() < 0.1:
            parts.append("\nno headers at all")
        if rng.random() < 0.1:
            parts.append("Content-Type: text/plain\nno blank line")
        ctype = f"multipart/{kind}; boundary={quoted}"
        text = (
            "\n".join(lines)
            + f"\nContent-Type: {ctype}\n\n"
            + multipart(kind, boundary, parts, rng)
        )
    if rng.random() < 0.05:
        text = text.replace("\n\n", "\n", 1)  # the blank line after the headers is lost
    raw = text.encode("utf-8", "surrogateescape")
    roll = rng.random()
    if roll < 0.4:
        raw = raw.replace(b"\n", b"\r\n")
    elif roll < 0.45:
        raw = raw.replace(b"\n", b"\r\n", rng.randint(1, 10))  # mixed line ends
    elif roll < 0.5:
        raw = raw.replace(b"\n", b"\r", 1)  # a lone CR
    return raw


def _disposition(rng: random.Random) -> str:
    value = _pick(rng, DISPOSITIONS, 6) if rng.random() < 0.3 else ""
    return f"Content-Disposition: {value}" if value else ""


def _inner(rng: random.Random, shape: str) -> str:
    if shape == "nested" and rng.random() < 0.5:
        return "Content-Type: multipart/alternative; boundary=inner\n\n--inner\nContent-Type: text/plain\n\nin\n--inner--"
    if shape == "mixed" and rng.random() < 0.4:
        ctype = rng.choice(
            [
                'application/pdf; name="a.pdf"',
                "image/png",
                "message/rfc822",
                "text/calendar; name=invite.ics",
            ]
        )
        data = b"From: x@y.example\n\nforwarded\n" if "rfc822" in ctype else bytes(range(256)) * 3
        return part(
            ctype,
            rng.choice(["base64", "base64", "7bit", "quoted-printable"]),
            data,
            rng,
            _disposition(rng),
        )
    ctype = _pick(rng, CONTENT_TYPES[:13] + CONTENT_TYPES[27:29] + CONTENT_TYPES[13:27], 15)
    return part(ctype, _pick(rng, ENCODINGS, 8), body_bytes(ctype, rng), rng, _disposition(rng))


def messages(count: int = 1500, seed: int = 19) -> list[bytes]:
    """`count` messages near the plain shapes."""
    rng = random.Random(seed)
    return [message(rng) for _ in range(count)]
